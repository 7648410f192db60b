"""Site randomizer: whole physician-directory websites drawn from a seed, served on loopback.

Sites nobody on the team designed the crawler for: URL templates, markup, discovery, pagination,
cards and decoys are drawn at random from the generator's own vocabularies (``vocab.py``; never
from the crawler's tables), so that a test passes only when the crawler recognises pages by what
they contain. Same seed, same site, byte for byte.

Interface::

    from pipeline.demo.sitegen import GeneratedSite, serve_generated_sites

    site = GeneratedSite(seed=7)           # pure; nothing served yet. GeneratedSite(7, people=40)
    site = GeneratedSite(7, rendering="client")  # force how pages are delivered (else drawn)
    site.options                           # the drawn options: {"markup": "rdfa", ...} (OPTIONS)
    site.start_paths                       # ("/", directory entry path): a user may give either
    site.truth.profiles                    # [ExpectedProfile(path, ref, name, given, family,
                                           #   degrees, is_physician, kind)] - every person
                                           #   profile a polite crawler may fetch; each must
                                           #   yield exactly one listing (researchers and NPs
                                           #   too, with is_physician False)
    site.truth.cards                       # [ExpectedCard(listing_paths, name, ..., specialty,
                                           #   phone, reason)] - people known only from result
                                           #   cards (profile off-site / disallowed / 404 / none)
    site.truth.decoys                      # paths that must yield no listing (news with Person
                                           #   authors, reviews, locations, staff, events, lists)
    site.truth.listing_pages               # the directory's listing pages
    site.truth.disallowed, .stale          # robots-disallowed pages; removed sitemap entries
    site.allowed(path)                     # robots.txt's verdict for a polite crawler
    site.configured_entry(base)            # the sites.toml table a site owner would write:
                                           #   start_urls, profile_pattern (group 1 = the id)
                                           #   [, listing_pattern when listings must be walked]
    site.url_paths(status=200)             # every page the site has (for tests)
    site.handle(path, query, base)         # one answer (pipeline.demo.server.Page)
    site.client                            # a client-rendered site's app (client.ClientApp),
                                           #   None when server-rendered
    site.data_path(route)                  # where its script fetches route's content
    site.asset_paths()                     # its bundle, stylesheet and every route's data URL

    with serve_generated_sites([GeneratedSite(s) for s in (1, 2, 3)]) as served:
        s = served[0]
        s.base                             # "http://127.0.0.1:40123"
        s.start_urls                       # [home URL, directory entry URL]
        s.url(path)                        # base + path
        s.expected_profile_urls()          # {absolute URL: ExpectedProfile}
        s.log                              # [{"path", "status", "time", "method", ...}] per site
        s.fetched(statuses=(200,))         # paths fetched (for counting pages)
        s.registry_toml()                  # a [sites.<id>] table for CREDCHECK_SITES
        s.score(items)                     # Score: recall, precision, wrong listings,
                                           #   physician errors, pages fetched

Client-rendered sites (option ``rendering``, about 15% "client", drawn from a generator of its
own so that a seed's people, templates and pages are the same either way): every HTML route,
unknown ones too, answers status 200 with one empty app shell (the org's name as title, a mount
element, a script bundle, maybe a stylesheet and a ``<noscript>`` notice); the bundle fetches the
route's content from a data endpoint whose URL shape and JSON keys are drawn per site, sets the
title, adds the head's JSON-LD / canonical / next links to ``document.head`` and the body to the
mount element. The data endpoint carries the real status (404 for a route the site lacks, soft
404 sites included; 410 for a gone page); a redirect comes back as a target URL the script goes to
with ``location.replace``. robots.txt, sitemaps and other non-HTML answers are as served before;
robots.txt allows the bundle and the data endpoint. The truth is the same routes: a crawler must
render them (see ``client.py``).

What a configured crawl cannot do today: cards (sites whose profiles are off-site, disallowed,
missing or absent give it nothing), staff pages on the profiles' own URL template (the pattern
matches them too), and a stale profile's redirect or soft 404 it may read as a listing.

Paths in the truth are site-relative (path + query) because the port is only known once served;
pages carry absolute URLs (sitemaps, canonical links, JSON-LD) for whatever Host the client asked.

By hand: ``python -m pipeline.demo.sitegen SEED [SEED ...]`` serves the sites and prints their
start URLs and options.
"""

from pipeline.demo.sitegen.serve import Score, ServedSite, serve_generated_sites
from pipeline.demo.sitegen.site import OPTIONS, GeneratedSite
from pipeline.demo.sitegen.truth import ExpectedCard, ExpectedProfile, Truth

__all__ = [
    "OPTIONS",
    "ExpectedCard",
    "ExpectedProfile",
    "GeneratedSite",
    "Score",
    "ServedSite",
    "Truth",
    "serve_generated_sites",
]
