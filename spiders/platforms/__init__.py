"""One base spider per directory platform; a registry entry picks one and configures it."""

from spiders.platforms.base import DirectorySpider
from spiders.platforms.discover import DiscoverySpider
from spiders.platforms.faculty_directory import FacultyDirectorySpider
from spiders.platforms.faculty_systems import ProfilesRnsSpider, PureSpider, VivoSpider
from spiders.platforms.html_directory import HtmlDirectorySpider
from spiders.platforms.schemaorg_sitemap import SchemaOrgSitemapSpider
from spiders.platforms.search_api import (
    AlgoliaApiSpider,
    KyruusApiSpider,
    SearchApiSpider,
    SolrApiSpider,
    YextApiSpider,
)
from spiders.platforms.webforms import WebFormsDirectorySpider

PLATFORMS: dict[str, type[DirectorySpider]] = {
    cls.platform: cls
    for cls in (
        SchemaOrgSitemapSpider,
        HtmlDirectorySpider,
        FacultyDirectorySpider,
        KyruusApiSpider,
        YextApiSpider,
        SolrApiSpider,
        AlgoliaApiSpider,
        WebFormsDirectorySpider,
        ProfilesRnsSpider,
        PureSpider,
        VivoSpider,
        DiscoverySpider,
    )
}

__all__ = [
    "PLATFORMS",
    "AlgoliaApiSpider",
    "DirectorySpider",
    "DiscoverySpider",
    "FacultyDirectorySpider",
    "HtmlDirectorySpider",
    "KyruusApiSpider",
    "ProfilesRnsSpider",
    "PureSpider",
    "SchemaOrgSitemapSpider",
    "SearchApiSpider",
    "SolrApiSpider",
    "VivoSpider",
    "WebFormsDirectorySpider",
    "YextApiSpider",
]
