"""One spider per site registry entry (spiders/sites.toml or $CREDCHECK_SITES), made at import.

``scrapy crawl <site_id>`` then works for every registered site without any code.
"""

from spiders.registry import load_registry, spider_class

# Scrapy's spider loader looks for spider classes among a module's globals.
globals().update(
    {cls.__name__: cls for cls in (spider_class(e, __name__) for e in load_registry().values())}
)
