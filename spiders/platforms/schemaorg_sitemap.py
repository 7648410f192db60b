"""Sites whose profiles carry schema.org JSON-LD and are listed in sitemaps."""

from spiders.platforms.base import DirectorySpider


class SchemaOrgSitemapSpider(DirectorySpider):
    """Start from robots.txt (or a sitemap); profiles are the sitemap URLs matching the pattern.

    Registry entry: ``start_urls = ["https://www.example-hospital.org/robots.txt"]`` and, when the
    guessed shapes do not fit, ``profile_pattern = '/doctors/[^/]+-(\\d+)$'``.
    """

    platform = "schemaorg_sitemap"
    listing_pattern = None  # sitemaps list every profile; no need to walk the site's pages
