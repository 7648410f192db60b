"""URL templates: the shape of a URL with its ids, slugs and query values abstracted.

A directory's profile pages share one shape (``/doctors/{id}``, ``/Provider.aspx?id``), as do its
result pages (``/find-a-doctor?page``) and its news items (``/news/{slug}``). Grouping a site's
URLs by template lets the crawler judge a whole group from a few sampled pages
(spiders.discovery.learner) — nothing here decides what a group *is*.

Rules, per path segment (case folded, trailing slash ignored):
- the last segment of a path without a query string is variable: ``{id}`` when it holds a digit,
  else ``{slug}`` (its extension kept: ``{id}.html``) — the last segment is where sites put the
  person's id or name;
- with a query string the last segment is the script (``Provider.aspx``): it stays literal, and
  the query's keys (sorted, values dropped) carry the variables;
- any other segment is literal unless it holds a digit (``/2024/``, ``/dept-12/`` -> ``{id}``).

>>> url_template("https://h.example/Doctors/Jane-Q-Doe-10482/")
'/doctors/{id}'
>>> url_template("https://h.example/find/Provider.aspx?ID=77&name=jane&utm_source=x")
'/find/provider.aspx?id&name'
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

# Query keys that never tell one page from another: analytics and session noise.
IGNORED_QUERY_KEYS = frozenset(
    {"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid", "fbclid",
     "sessionid", "jsessionid", "phpsessid", "sid", "ref", "referrer"}
)  # fmt: skip
_EXTENSION = re.compile(r"\.([a-z0-9]{1,5})$", re.I)
_DIGIT = re.compile(r"\d")
ID, SLUG = "{id}", "{slug}"


def split_extension(segment: str) -> tuple[str, str]:
    """('jane-doe', '.html') from 'jane-doe.html'; a dotted name without a short alphabetic or
    alphanumeric tail keeps its dots (``j.doe`` has the 'extension' ``.doe`` — close enough: it
    is compared, never parsed)."""
    match = _EXTENSION.search(segment)
    if match and match.start() > 0:
        return segment[: match.start()], segment[match.start() :].lower()
    return segment, ""


def path_segments(url: str) -> list[str]:
    """Non-empty path segments of a URL, as written."""
    return [s for s in urlsplit(url).path.split("/") if s]


def query_keys(url: str) -> tuple[str, ...]:
    """The query's keys, case folded, sorted, noise keys dropped."""
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    return tuple(sorted({k.lower() for k, _ in pairs if k.lower() not in IGNORED_QUERY_KEYS}))


def segment_class(segment: str, *, last: bool) -> str:
    stem, extension = split_extension(segment)
    if _DIGIT.search(stem):
        return ID + extension
    if last:
        return SLUG + extension
    return segment.lower()


def url_template(url: str) -> str:
    """The URL's template: its path shape plus its sorted query keys (see module doc)."""
    segments = path_segments(url)
    keys = query_keys(url)
    shaped = []
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if last and keys:
            stem, extension = split_extension(segment)
            shaped.append(ID + extension if _DIGIT.search(stem) else segment.lower())
        else:
            shaped.append(segment_class(segment, last=last))
    path = "/" + "/".join(shaped)
    return f"{path}?{'&'.join(keys)}" if keys else path


def template_families(template: str) -> tuple[str, ...]:
    """The families a template belongs to: itself with one literal folder made ``*``, where
    what stays literal still says something (another folder, a script, a query). Templates of
    one family — ``/departments/cardiology/doctors/{slug}`` and
    ``/departments/neurology/doctors/{slug}``, ``/oncology/find/profile.jsp?pid`` and
    ``/urology/find/profile.jsp?pid`` — are a directory nested by department; ``/news/{slug}``
    and ``/about/{slug}`` share nothing but their shape and are no family.

    >>> template_families("/departments/cardiology/doctors/{slug}")[1]
    '/departments/*/doctors/{slug}'
    >>> template_families("/news/{slug}")
    ()
    >>> template_families("/team/cardiology?physician")
    ('/*/cardiology?physician', '/team/*?physician')
    >>> template_families("/doctors?id")
    ()
    """
    path, sep, query = template.partition("?")
    parts = path.split("/")[1:]
    # With a query the last segment is a script, literal (``profile.jsp``) — unless it has no
    # extension: then it may as well be a folder (``/team/cardiology/?id=7``), one of many.
    script = bool(query) and bool(parts) and "." in parts[-1]
    families = []
    for i, part in enumerate(parts[:-1] if script or not query else parts):
        if "{" in part or part == "*":
            continue
        rest = [p for j, p in enumerate(parts) if j != i and "{" not in p]
        if not rest:  # (a query alone, ``/*?id``, is no family)
            continue
        key = [*parts[:i], "*", *parts[i + 1:]]
        families.append("/" + "/".join(key) + (sep + query if sep else ""))
    return tuple(families)


def template_ref(url: str, template: str | None = None, *, key: str | None = None) -> str:
    """A key for the page within its site: what varies across the template's URLs. For a path
    template, the variable segments (ids as written, slugs case folded; from the first to the
    last, extension dropped), whole: an id inside words (``jane-q-doe-10482``) is no key of its
    own, since two pages may end in the same number. For a query template, the id-like value
    (that of ``key`` when the caller knows which query key varies across the template's URLs).

    >>> template_ref("https://h.example/doctors/jane-q-doe-10482")
    'jane-q-doe-10482'
    >>> template_ref("https://h.example/faculty/Jane-Doe.html")
    'jane-doe'
    >>> template_ref("https://h.example/doctors/10482/Jane-Doe/")
    '10482/jane-doe'
    >>> template_ref("https://h.example/Provider.aspx?providerId=77&tab=bio")
    '77'
    >>> template_ref("https://h.example/person?action=view&profile=jane-doe", key="profile")
    'jane-doe'
    """
    template = template or url_template(url)
    keys = query_keys(url)
    values = {k.lower(): v for k, v in parse_qsl(urlsplit(url).query)}
    if keys and (key := key if key in values else id_key(url)):
        return values[key]
    segments = path_segments(url)
    shaped = template.partition("?")[0].split("/")[1:]
    if len(shaped) != len(segments):
        return url
    variable = [i for i, shape in enumerate(shaped) if shape.startswith((ID, SLUG))]
    if not variable:
        return url
    parts = []
    for i in range(variable[0], variable[-1] + 1):
        segment = split_extension(segments[i])[0] if i == len(segments) - 1 else segments[i]
        parts.append(segment.lower() if shaped[i].startswith(SLUG) else segment)
    return "/".join(parts)


def id_key(url: str) -> str | None:
    """The query key that carries the page's id: a value with digits first (``p=7781-jane``
    over ``action=view``), then a key that says id (``providerId``, ``pid``).

    >>> id_key("https://h.example/detail.htm?action=view&p=7781-jane-doe")
    'p'
    """
    values = {k.lower(): v for k, v in parse_qsl(urlsplit(url).query) if v}
    values = {k: v for k, v in values.items() if k not in IGNORED_QUERY_KEYS}
    if not values:
        return None
    return min(
        values,
        key=lambda k: (not _DIGIT.search(values[k]), not (k == "id" or k.endswith("id")), k),
    )


def template_regex(template: str, example: str | None = None, key: str | None = None) -> str:
    r"""A regex for the registry's ``profile_pattern`` / ``listing_pattern`` matching the template's
    URLs on any host (any case); its first group is the ref, as ``template_ref`` reads it
    (for a query template, from ``key``, else the key that carries the id in ``example``, one
    of its URLs).

    >>> print(template_regex("/doctors/{id}"))
    (?i)^https?://[^/?#]+/doctors/([^/?#]*\d[^/?#]*?)/?$
    >>> print(template_regex("/find/provider.aspx?id&tab"))
    (?i)^https?://[^/?#]+/find/provider\.aspx\?(?=(?:[^#]*&)?tab=)(?:[^#]*&)?id=([^&#]+)
    """
    path, _, query = template.partition("?")
    parts = path.split("/")[1:] if path != "/" else []
    # Without a query, the ref is the variable segments, first to last (see template_ref).
    variable = [i for i, p in enumerate(parts) if p.startswith((ID, SLUG))] if not query else []
    pieces = []
    for i, part in enumerate(parts):
        stem, extension = split_extension(part) if "{" in part else (part, "")
        ext = re.escape(extension)
        if stem == ID:
            piece = r"[^/?#]*\d[^/?#]*?"
        elif stem == SLUG:
            piece = "[^/?#]+?"
        elif part == "*":  # any folder (a template family)
            piece = "[^/?#]+"
        else:
            piece = re.escape(part)
        if variable and i == variable[0]:
            piece = "(" + piece
        if variable and i == variable[-1]:
            piece += ")"
        pieces.append(piece + ext)
    regex = "(?i)^https?://[^/?#]+/" + "/".join(pieces)
    if not query:
        return regex + "/?$"
    keys = query.split("&")
    ref_key = key or (id_key(example) if example else None) or min(
        keys, key=lambda k: (not (k == "id" or k.endswith("id")), k)
    )
    others = "".join(f"(?=(?:[^#]*&)?{re.escape(k)}=)" for k in keys if k != ref_key)
    return f"{regex}\\?{others}(?:[^#]*&)?{re.escape(ref_key)}=([^&#]+)"
