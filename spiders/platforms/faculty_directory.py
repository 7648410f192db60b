"""Medical-school faculty directories: A-Z and department listings, microdata profiles.

They mix clinicians with researchers; both are emitted (the researcher's title tells them apart
downstream), so the spider never filters on degrees.
"""

from spiders.platforms.base import DirectorySpider


class FacultyDirectorySpider(DirectorySpider):
    """Start from the faculty index; follow A-Z, department and page links to profiles."""

    platform = "faculty_directory"
    profile_pattern = r"/faculty/([\w-]+)/?$"
    listing_pattern = r"/faculty/?(?:\?.*)?$"
