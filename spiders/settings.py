"""Scrapy settings for credcheck's spiders (``scrapy.cfg``: default = spiders.settings).

Politeness is configuration here and a test (tests/test_spiders.py) keeps it from being lowered:
a named bot with a contact URL, robots.txt obeyed, a download delay and low per-site concurrency.
"""

from spiders.items import LISTING_FIELDS
from spiders.render import find_browser

BOT_NAME = "credcheck"
SPIDER_MODULES = ["spiders.spiders"]
NEWSPIDER_MODULE = "spiders.spiders"

USER_AGENT = (
    "credcheck/0.1 (+https://github.com/credcheck/credcheck; physician-credential research bot)"
)
ROBOTSTXT_OBEY = True
DOWNLOAD_DELAY = 1.0
CONCURRENT_REQUESTS = 16  # per site: each site is crawled by its own crawler (spiders/fleet.py)
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Many sites at once (pipeline.crawl.runner, spiders/fleet.py): the sites of a crawl share
# FLEET_PROCESSES processes (0: one per core), crawl at most FLEET_SITES_AT_ONCE at a time (the
# rest wait their turn; ~1.5 MB each), and have at most FLEET_CONCURRENT_REQUESTS downloads in
# flight together. Each process gets its share (FLEET_PROCESS_*, set by the runner).
FLEET_PROCESSES = 0
# Each crawler crawls one site, so the downloader-aware queue (Scrapy's default, for one crawler
# over many domains) buys nothing, and with a JOBDIR it makes and removes a directory each time
# the site's queue runs dry (at a polite pace, nearly every page: a third of a fleet's CPU).
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.ScrapyPriorityQueue"
FLEET_SITES_AT_ONCE = 500
FLEET_CONCURRENT_REQUESTS = 256
FLEET_PROCESS_SITES_AT_ONCE = 500
FLEET_PROCESS_CONCURRENT_REQUESTS = 0  # 0: no cap (a lone `scrapy crawl`)
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_AFTER_MAX = 120.0  # seconds; a longer Retry-After is capped (spiders.middlewares)
# The delay is a promise to the site: no request closer than it. Scrapy's default varies it by
# +-50%, which would put some requests at half the delay (or half the robots Crawl-delay).
DOWNLOAD_DELAY_JITTER = 0.0

# Scrapy runs each callback's output through CONCURRENT_ITEMS asyncio tasks, created per
# response: the default 100 costs ~100 task creations per profile page that yields one item,
# and our item pipelines are synchronous, so more than one buys nothing.
CONCURRENT_ITEMS = 1
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE = 1.0  # seconds; the n-th retry spaces the site's requests by base * 2**n
RETRY_BACKOFF_MAX = 60.0
DOWNLOAD_FAIL_ON_DATALOSS = False  # keep a truncated body (counted): it may hold the listing
REDIRECT_MAX_TIMES = 5
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024  # a profile or sitemap larger than this is not a profile
HTTPCACHE_ENABLED = False
COOKIES_ENABLED = False  # directories are public pages; no sessions needed
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no code-execution endpoint in unattended batch crawls
# REQUEST_FINGERPRINTER_IMPLEMENTATION is not set: Scrapy 2.13+ removed the setting and always
# uses the current ("2.7") fingerprinter.

DOWNLOADER = "spiders.compat.PoliteDownloader"  # per-site limits, floors and pauses that hold
DOWNLOADER_MIDDLEWARES = {
    # host:port offsite filter and RFC 9309 robots.txt in place of Scrapy's own
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "spiders.middlewares.NetlocOffsiteMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "spiders.compat.StrictRobotsTxtMiddleware": 100,
    # after RetryMiddleware (550) on the way in, before it on the way out
    "spiders.middlewares.PoliteDelayMiddleware": 560,
    # a 304 becomes "unchanged" before the retry and redirect middlewares see it
    "spiders.middlewares.ConditionalRequestMiddleware": 570,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "spiders.middlewares.LoopAwareRedirectMiddleware": 600,
    # an app shell is fetched again, rendered (after redirects on the way out)
    "spiders.render.RenderAppShellMiddleware": 590,
    "spiders.middlewares.ResponseCheckMiddleware": 610,
}
# Client-rendered directories (spiders.render): an app shell is rendered in headless chromium,
# one browser per process, started on the first shell; only pages asked to render use it.
RENDER_APP_SHELLS = True
RENDER_BROWSER = find_browser()  # "": none, shells are counted and left as they are
RENDER_QUIET = 0.25  # seconds without a request in flight: the page has drawn its data
DOWNLOAD_HANDLERS = {
    scheme: "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
    for scheme in ("http", "https")
}
PLAYWRIGHT_BROWSER_PROVIDER = "spiders.render.SharedChromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {"headless": True, "executable_path": RENDER_BROWSER or None}
PLAYWRIGHT_ABORT_REQUEST = "spiders.render.block_subrequest"
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = DOWNLOAD_TIMEOUT * 1000
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = CONCURRENT_REQUESTS_PER_DOMAIN
SPIDER_MIDDLEWARES = {
    "spiders.middlewares.ParseErrorMiddleware": 950,
}
ITEM_PIPELINES = {
    "spiders.pipelines.CleanListingPipeline": 100,
    "spiders.pipelines.DuplicateRefPipeline": 200,
}
EXTENSIONS = {
    "spiders.extensions.RunStatsExtension": 500,  # active when CREDCHECK_STATS_PATH is set
    "spiders.engine.GarbageCollectionTuning": 0,
}
STATS_CLASS = "spiders.compat.StatsCollector"  # Scrapy's, without its per-access shim
CREDCHECK_STATS_PATH = None
CREDCHECK_PREVIOUS_PATH = None  # the last run's page validators (incremental re-crawl)
CREDCHECK_UNCHANGED_PATH = None  # where to write the URLs found unchanged (304, old lastmod)
CREDCHECK_STATS_LOG = False  # log the stats as one line (a Scrapyd job: pipeline.crawl.scrapyd)
CREDCHECK_LOG_PATH = None  # in a fleet process, where this site's log lines go
CREDCHECK_GC_FREEZE = True  # spiders.engine: freeze startup objects (a fleet does it once)

FEED_EXPORT_ENCODING = "utf-8"
FEED_EXPORT_FIELDS = list(LISTING_FIELDS)  # every key present, in the documented order
FEED_EXPORTERS = {
    fmt: "spiders.exporters.ListingJsonLinesExporter" for fmt in ("jsonlines", "jsonl", "jl")
}
LOG_LEVEL = "INFO"
