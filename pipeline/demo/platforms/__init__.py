"""Fixture sites for the vendor platforms: the same site content, served the way each platform
serves it: one module per family (``search_apis``, ``webforms``, ``faculty_systems``).

- ``kyruus_api``: OAuth2 client-credentials token, then ``/pm/v8/<customer>/providers``
  paged by ``page``/``per_page`` with ``_metadata.provider_count``.
- ``yext_api``: ``/v2/accounts/me/entities`` paged by ``offset``/``limit``; a short page ends it.
- ``solr_api``: ``/solr/providers/select`` with ``rows``/``start`` -> ``response.numFound``; flat
  documents with parallel multi-valued fields, as Solr stores them.
- ``algolia_api``: POST ``/1/indexes/<index>/query`` with ``hitsPerPage``/``page`` -> ``nbPages``.
- ``webforms``: ASP.NET WebForms directory; the pager posts ``__VIEWSTATE``/``__EVENTVALIDATION``
  back, and a stale or forged view state gets the ASP.NET error page.
- ``profiles_rns``: Profiles RNS people JSON (``Profiles[...]``), faculty and clinicians mixed.
- ``pure``: Elsevier Pure ``/ws/api/persons`` (``api-key`` header) plus portal pages
  ``/en/persons/<slug>`` that carry the clinical details.
- ``vivo``: VIVO JSON-LD ``@graph`` pages (foaf, vcard and vivo-core terms).

Credentials the fixtures accept are fixed (``FIXTURE_CLIENT_ID`` ...): registry entries in the
tests name them as a real entry would name a customer's public client id.
"""

from __future__ import annotations

from pipeline.demo.platforms.common import (
    FIXTURE_API_KEY,
    FIXTURE_CLIENT_ID,
    FIXTURE_CLIENT_SECRET,
)
from pipeline.demo.platforms.faculty_systems import ProfilesRnsSite, PureSite, VivoSite
from pipeline.demo.platforms.search_apis import (
    AlgoliaApiSite,
    KyruusApiSite,
    SolrApiSite,
    YextApiSite,
)
from pipeline.demo.platforms.webforms import WebFormsSite
from pipeline.demo.site import TEXT, Site

PLATFORM_SHAPES: dict[str, type[Site]] = {
    "kyruus_api": KyruusApiSite,
    "yext_api": YextApiSite,
    "solr_api": SolrApiSite,
    "algolia_api": AlgoliaApiSite,
    "webforms": WebFormsSite,
    "profiles_rns": ProfilesRnsSite,
    "pure": PureSite,
    "vivo": VivoSite,
}
# Where a registry entry starts each platform's crawl (path on the site).
START_PATHS = {
    "kyruus_api": "/pm/v8/{site_id}/providers",
    "yext_api": "/v2/accounts/me/entities",
    "solr_api": "/solr/providers/select",
    "algolia_api": "/1/indexes/{site_id}_providers/query",
    "webforms": "/Physicians/Directory.aspx",
    "profiles_rns": "/profiles/api/people",
    "pure": "/ws/api/persons",
    "vivo": "/vivo/api/people.jsonld",
}
__all__ = [
    "FIXTURE_API_KEY",
    "FIXTURE_CLIENT_ID",
    "FIXTURE_CLIENT_SECRET",
    "PLATFORM_SHAPES",
    "START_PATHS",
    "TEXT",
]
