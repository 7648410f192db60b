"""One base spider per directory platform; a registry entry picks one and configures it."""

from spiders.platforms.base import DirectorySpider
from spiders.platforms.faculty_directory import FacultyDirectorySpider
from spiders.platforms.html_directory import HtmlDirectorySpider
from spiders.platforms.schemaorg_sitemap import SchemaOrgSitemapSpider

PLATFORMS: dict[str, type[DirectorySpider]] = {
    cls.platform: cls
    for cls in (SchemaOrgSitemapSpider, HtmlDirectorySpider, FacultyDirectorySpider)
}

__all__ = [
    "PLATFORMS",
    "DirectorySpider",
    "FacultyDirectorySpider",
    "HtmlDirectorySpider",
    "SchemaOrgSitemapSpider",
]
