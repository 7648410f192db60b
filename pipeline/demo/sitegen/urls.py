"""URL shapes of a generated site: profile templates, the ids in them, the words' case."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit


@dataclass(frozen=True)
class ProfileTemplate:
    """How a profile URL is built from a person's id (and department)."""

    folders: tuple[str, ...]  # literal words, "{dept}" for a department folder
    id_in: str  # path | query
    script: str  # query ids: the page the id goes to ("profile.aspx"); "" for a folder index
    ext: str  # path ids: the leaf's extension
    trailing_slash: bool
    query_key: str
    query_prefix: str  # constant parameters before the id ("action=view&")
    id_style: str

    def path(self, ref: str, dept: str) -> str:
        folders = "/".join(f.replace("{dept}", dept) for f in self.folders)
        if self.id_in == "query":
            return f"/{folders}/{self.script}?{self.query_prefix}{self.query_key}={ref}"
        return f"/{folders}/{ref}{self.ext}" + ("/" if self.trailing_slash else "")

    def regex(self) -> str:
        """The profile_pattern a site owner would write: group 1 is the id."""
        folders = "/".join(
            "[^/]+" if f == "{dept}" else re.escape(f) for f in self.folders
        )
        ref = ID_REGEX[self.id_style]
        if self.id_in == "query":
            query = re.escape(f"{self.query_prefix}{self.query_key}=")
            return f"^https?://[^/]+/{folders}/{re.escape(self.script)}\\?{query}({ref})$"
        tail = re.escape(self.ext) + ("/" if self.trailing_slash else "")
        return f"^https?://[^/]+/{folders}/({ref}){tail}$"


ID_REGEX = {
    "numeric": r"\d+",
    "slug": r"[a-z0-9]+(?:-[a-z0-9]+)+",
    "slug_id": r"[a-z0-9-]+-\d+",
    "id_slug": r"\d+-[a-z0-9-]+",
    "hex": r"[0-9a-f]{10}",
    "code": r"[A-Z]{2}\d{5}",
}


def cased(word: str, case: str) -> str:
    """A URL word in the site's case: lower (our-doctors), title (Our-Doctors), camel."""
    if case == "lower" or not word or word.startswith("{"):
        return word
    parts = re.split(r"([-_])", word)
    if case == "title":
        return "".join(p[:1].upper() + p[1:] for p in parts)
    return "".join(p[:1].upper() + p[1:] for p in parts if p not in "-_")


def path_key(path_and_query: str) -> str:
    """Order-insensitive form of a path with its query (as parse_qs hands it to handle)."""
    parts = urlsplit(path_and_query)
    query = sorted(parse_qsl(parts.query))
    return parts.path + ("?" + urlencode(query) if query else "")


def listing_shape(path: str) -> str:
    """A listing path as a regex: digits and letter/department values generalised."""
    parts = urlsplit(path)
    shape = re.escape(parts.path)
    shape = re.sub(r"(?<=/)\d+(?=/|$)", r"\\d+", shape)
    if parts.query:
        keys = [k for k, _ in parse_qsl(parts.query)]
        shape += r"\?" + "&".join(f"{re.escape(k)}=[^&]+" for k in keys)
    return shape
