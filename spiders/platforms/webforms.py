"""ASP.NET WebForms directories: the pager is ``javascript:__doPostBack(target, 'Page$N')``, so
the next page is the page's own form posted back with ``__EVENTTARGET``/``__EVENTARGUMENT`` and
its hidden ``__VIEWSTATE``/``__EVENTVALIDATION`` (FormRequest.from_response carries those)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scrapy import FormRequest, Request
from scrapy.http import Response, TextResponse

from spiders.platforms.base import DirectorySpider

_POSTBACK = re.compile(r"__doPostBack\(\s*'([^']*)'\s*,\s*'([^']*)'\s*\)")


class WebFormsDirectorySpider(DirectorySpider):
    """Start from the directory page; post the pager back for every page; follow profiles."""

    platform = "webforms"
    profile_pattern = r"/Profile\.aspx\?(?:.*&)?id=([\w-]+)"
    listing_pattern = None
    pager_argument = r"^Page\$(\d+|Next|Last)$"  # GridView pager arguments

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.posted = {"Page$1"}  # the directory's first page is the plain GET
        self.pager_re = re.compile(self.pager_argument)

    def parse_listing(self, response: Response) -> Iterator[Request]:
        yield from super().parse_listing(response)  # profile links
        if not isinstance(response, TextResponse):
            return
        for href in response.css("a[href^='javascript:__doPostBack']::attr(href)").getall():
            match = _POSTBACK.search(href)
            if not match or not self.pager_re.match(match.group(2)):
                continue
            # Every page number seen is posted once, from the page that showed it (its view
            # state is what the server expects back); "Next"/"Last" would repeat pages.
            if not match.group(2)[5:].isdigit() or match.group(2) in self.posted:
                continue
            self.posted.add(match.group(2))
            self.crawler.stats.inc_value("credcheck/webforms/postbacks")
            if request := self.postback(response, *match.groups()):
                yield request

    def postback(self, response: TextResponse, target: str, argument: str) -> FormRequest | None:
        """The page's form as the browser would post it for ``__doPostBack(target, argument)``:
        its text and hidden inputs (view state included), no button clicked."""
        form = response.xpath("//form[.//input[@name='__VIEWSTATE']]")
        if not form:
            self.crawler.stats.inc_value("credcheck/webforms/no_viewstate_form")
            return None
        data = {
            field.attrib["name"]: field.attrib.get("value", "")
            for field in form[0].css("input[name]")
            if field.attrib.get("type", "text").lower() in ("text", "hidden", "search")
        }
        data |= {"__EVENTTARGET": target, "__EVENTARGUMENT": argument}
        action = response.urljoin(form[0].attrib.get("action") or response.url)
        return FormRequest(action, formdata=data, callback=self.parse_listing)
