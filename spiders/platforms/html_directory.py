"""Server-rendered "Find a Doctor" directories: paginated result cards, HTML profiles."""

from spiders.platforms.base import DirectorySpider


class HtmlDirectorySpider(DirectorySpider):
    """Start from the listing page; follow result cards and the "Next" link."""

    platform = "html_directory"
    profile_pattern = r"/physician-directory/([\w-]+)/?$"
    listing_pattern = r"/find-a-doctor/?(?:\?(?:.*&)?page=\d+.*)?$"
