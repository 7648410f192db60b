"""An ASP.NET WebForms directory whose pager posts __VIEWSTATE / __EVENTVALIDATION back."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math

from pipeline.demo.platforms.common import _VIEWSTATE_KEY
from pipeline.demo.site import (
    Page,
    Site,
    esc,
    listing_lastmod,
)


class WebFormsSite(Site):
    """ASP.NET WebForms: a GridView whose pager posts the form back with its view state."""

    find_path = "/Physicians/Directory.aspx"
    page_size = 10
    grid = "ctl00$MainContent$gvPhysicians"

    def routes(self) -> dict:
        return super().routes() | {
            self.find_path: self.directory,
            "/Physicians/Profile.aspx": self.profile_page,
        }

    def record_url(self, listing: dict) -> str:
        return f"{self.base}/Physicians/Profile.aspx?id={listing['id']}"

    def view_state(self, page: int) -> tuple[str, str]:
        state = base64.b64encode(f"/wEPDwUKMTY3|page={page}|{self.site_id}".encode()).decode()
        validation = base64.b64encode(
            hmac.new(_VIEWSTATE_KEY, state.encode(), hashlib.sha256).digest()[:20]
        ).decode()
        return state, validation

    def current_page(self) -> int | None:
        """The page a postback asks for, or None when its view state does not validate."""
        form = self.request.form()
        state, validation = form.get("__VIEWSTATE", ""), form.get("__EVENTVALIDATION", "")
        try:
            shown = int(base64.b64decode(state).decode().split("|")[1].removeprefix("page="))
        except (ValueError, IndexError):
            return None
        if (state, validation) != self.view_state(shown) or form.get("__EVENTTARGET") != self.grid:
            return None
        argument = form.get("__EVENTARGUMENT", "")
        if argument == "Page$Next":
            return shown + 1
        if argument.startswith("Page$") and argument[5:].isdigit():
            return int(argument[5:])
        return None

    def directory(self, path: str, query: dict) -> Page:
        pages = max(1, math.ceil(len(self.listings) / self.page_size))
        page = 1
        if self.request.method == "POST":
            page = self.current_page()
            if page is None or not 1 <= page <= pages:
                return self.server_error()
        people = self.listings[(page - 1) * self.page_size : page * self.page_size]
        rows = "".join(
            f"""<tr><td><a id="MainContent_gvPhysicians_lnkName_{i}"
href="Profile.aspx?id={esc(p["id"])}">{esc(p["display_name"])}</a></td>
<td>{esc(", ".join(p.get("specialties") or []))}</td></tr>"""
            for i, p in enumerate(people)
        )
        pager = []
        for n in range(1, pages + 1):
            if n == page:
                pager.append(f"<td><span>{n}</span></td>")
            else:
                post_back = f"javascript:__doPostBack('{self.grid}','Page${n}')"
                pager.append(f'<td><a href="{post_back}">{n}</a></td>')
        state, validation = self.view_state(page)
        main = f"""<form method="post" action="./Directory.aspx" id="form1">
<div class="aspNetHidden">
<input type="hidden" name="__EVENTTARGET" id="__EVENTTARGET" value="" />
<input type="hidden" name="__EVENTARGUMENT" id="__EVENTARGUMENT" value="" />
<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="{state}" />
</div>
<script type="text/javascript">
function __doPostBack(eventTarget, eventArgument) {{
    var theForm = document.forms['form1'];
    theForm.__EVENTTARGET.value = eventTarget; theForm.__EVENTARGUMENT.value = eventArgument;
    theForm.submit();
}}
</script>
<div class="aspNetHidden">
<input type="hidden" name="__VIEWSTATEGENERATOR" id="__VIEWSTATEGENERATOR" value="C2EE9ABB" />
<input type="hidden" name="__EVENTVALIDATION" id="__EVENTVALIDATION" value="{validation}" />
</div>
<h1>Physician Directory</h1>
<label>Last name <input name="ctl00$MainContent$txtLastName" type="text" /></label>
<input type="submit" name="ctl00$MainContent$btnSearch" value="Search" />
<table id="MainContent_gvPhysicians" class="grid">
<tr><th>Name</th><th>Specialty</th></tr>
{rows}
<tr class="pager"><td colspan="2"><table><tr>{"".join(pager)}</tr></table></td></tr>
</table>
</form>"""
        return Page(200, self.layout(f"Physician Directory | {self.name}", main))

    def server_error(self) -> Page:
        main = """<h1>Server Error in '/' Application.</h1>
<h2><i>Validation of viewstate MAC failed.</i></h2>"""
        return Page(500, self.layout("Validation of viewstate MAC failed", main))

    def profile_page(self, path: str, query: dict) -> Page:
        listing = self.by_id.get((query.get("id") or [""])[0])
        if listing is None:
            return self.soft_not_found()
        main = f"""<form method="post" action="./Profile.aspx?id={esc(listing["id"])}" id="form1">
<div id="MainContent_pnlProfile" class="profile">
<h1><span id="MainContent_lblName">{esc(listing["display_name"])}</span></h1>
{self.accepting(listing)}{self.facts(listing)}
{self.listing_sections(listing)}
</div></form>"""
        return Page(
            200,
            self.layout(f"{listing['display_name']} | {self.name}", main),
            last_modified=listing_lastmod(listing),
        )
