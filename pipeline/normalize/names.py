"""Person names as physician directories write them.

``parse_person_name`` splits a display name ("Dr. Jane Q. Doe, MD, FACC") into parts, keeping the
page's spelling in a title-cased form; ``name_key`` makes the lower-case ASCII key used for
matching; ``first_name_keys`` and ``canonical_first_name`` relate nicknames to formal names with
the data of the ``nicknames`` package.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from nameparser import HumanName
from nameparser.config import Constants
from nicknames import NickNamer
from unidecode import unidecode

from pipeline.normalize.degrees import degree_info, split_credentials
from pipeline.normalize.vocab import read_rows

__all__ = [
    "PersonName",
    "canonical_first_name",
    "first_name_keys",
    "name_key",
    "parse_person_name",
]


@dataclass(frozen=True)
class PersonName:
    """A parsed person name. Missing parts are ``""``; credentials are canonical codes."""

    prefix: str = ""
    first: str = ""
    middle: str = ""
    last: str = ""
    suffix: str = ""
    nickname: str = ""
    credentials: tuple[str, ...] = field(default=())


# Only honorifics that precede a person's name on a physician directory. nameparser's own list
# also has "King", "Judge", "Bishop", ... which are given names or surnames here.
_TITLES = (
    "dr",
    "doctor",
    "prof",
    "professor",
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "sir",
    "dame",
    "rev",
    "reverend",
    "fr",
    "sister",
)
# Generational suffixes only; "V" and "I" are left to be middle initials.
_GENERATIONAL = ("jr", "sr", "jnr", "snr", "junior", "senior", "ii", "iii", "iv", "2nd", "3rd")
# Two-letter credentials that are never surnames, so they count even when written "Md".
_MIXED_CASE_OK = frozenset({"MD", "RN", "NP"})
_PARTICLES = frozenset(
    {
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "di",
        "da",
        "du",
        "la",
        "le",
        "dos",
        "das",
        "ten",
        "ter",
        "bin",
        "ibn",
        "al",
        "el",
    }
)
_ROMAN = re.compile(r"^(?:i{1,3}|iv|v|vi{0,3}|ix|x)$", re.IGNORECASE)
_NICK_PATTERNS = (
    re.compile(r"\(([^()]*)\)"),
    re.compile(r'"([^"]+)"'),
    re.compile(r"(?<![\w'])'([^']+)'(?![\w'])"),
)
_QUOTES = str.maketrans(
    {"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "`": "'", "´": "'"}
)


@lru_cache(maxsize=1)
def _constants() -> Constants:
    """nameparser settings for this project; a private instance, the global one is untouched."""
    return Constants(
        titles=_TITLES,
        first_name_titles=("sir", "dame", "sister"),
        suffix_acronyms=(),  # credentials are taken off before nameparser sees the name
        suffix_not_acronyms=_GENERATIONAL,
        conjunctions=("y", "and", "&"),
    )


def _is_title(token: str) -> bool:
    return token.lower().strip(".") in _TITLES


def _is_generational(token: str) -> bool:
    return token.lower().strip(".,") in _GENERATIONAL


def _is_credential_token(token: str) -> bool:
    """A space-separated token that is a credential: known, and written like one."""
    info = degree_info(token)
    if info is None:
        return False
    letters = token.replace(".", "").replace("-", "")
    # "Anh Do" is a surname and "Kevin Ma" too: short codes must be upper case or dotted.
    return "." in token or letters.isupper() or len(letters) >= 3 or info.code in _MIXED_CASE_OK


def _segment_is_credentials(segment: str) -> bool:
    tokens = segment.replace("(", " ").replace(")", " ").split()
    if not tokens:
        return False
    if degree_info(segment) is not None:  # "MB ChB" is one credential spelled in two tokens
        return True
    return all(degree_info(token) is not None or token.lower() in {"and", "&"} for token in tokens)


def _name_token_count(segments: list[str]) -> int:
    return sum(
        1
        for segment in segments
        for token in segment.split()
        if not _is_title(token) and not _is_generational(token)
    )


def _take_credentials(text: str) -> tuple[str, list[str]]:
    """Strip credentials: "Jane Doe MD, FACC" -> ("Jane Doe", ["MD", "FACC"]).

    Credentials are taken only while at least two name tokens remain, so "Anh Do" and
    "Nguyen, Ma" keep their surnames. Comma-separated text after the first credential segment
    that is not a credential or a generational suffix ("..., MD, Chief of Surgery") is dropped.
    """
    segments = [segment.strip() for segment in text.split(",")]
    segments = [segment for segment in segments if segment]
    taken: list[str] = []
    for index in range(1, len(segments)):
        if _segment_is_credentials(segments[index]) and _name_token_count(segments[:index]) >= 2:
            tail = segments[index:]
            segments = segments[:index]
            taken.extend(segment for segment in tail if _segment_is_credentials(segment))
            segments.extend(segment for segment in tail if _is_generational(segment))
            break
    # Space-separated credentials at the end of the last segment, before any "Jr."/"III".
    last_segment = len(segments) - 1
    while last_segment > 0 and _is_generational(segments[last_segment]):
        last_segment -= 1
    if segments:
        tokens = segments[last_segment].split()
        generational: list[str] = []
        while len(tokens) > 1 and _is_generational(tokens[-1]):
            generational.insert(0, tokens.pop())
        peeled: list[str] = []
        while len(tokens) > 1 and _is_credential_token(tokens[-1]):
            rest = [*segments[:last_segment], " ".join(tokens[:-1])]
            if _name_token_count(rest) < 2:
                break
            peeled.insert(0, tokens.pop())
        segments[last_segment] = " ".join([*tokens, *generational])
        taken = peeled + taken
    return ", ".join(segments), split_credentials(", ".join(taken))


def _take_nickname(text: str) -> tuple[str, str, list[str]]:
    """Remove a quoted or parenthesised nickname; parenthesised credentials go to credentials."""
    nickname = ""
    credentials: list[str] = []
    for pattern in _NICK_PATTERNS:
        match = pattern.search(text)
        while match:
            inner = match.group(1).strip()
            if inner and _segment_is_credentials(inner):
                credentials.extend(split_credentials(inner))
            elif inner and not nickname:
                nickname = inner
            text = (text[: match.start()] + " " + text[match.end() :]).strip()
            match = pattern.search(text)
    return re.sub(r"\s+", " ", text).strip(" ,"), nickname, credentials


def _cap_word(word: str) -> str:
    if not word:
        return word
    lower = word.lower()
    if len(lower) > 2 and lower.startswith("mc"):
        return "Mc" + lower[2:].capitalize()
    return lower[0].upper() + lower[1:]


def _cap_piece(piece: str) -> str:
    """Title-case one word keeping hyphen and apostrophe structure: o'neil -> O'Neil."""
    out = []
    for part in re.split(r"([-'])", piece):
        out.append(part if part in {"-", "'"} else _cap_word(part))
    return "".join(out)


def _display_case(text: str, *, particles: bool = False, suffix: bool = False) -> str:
    """Keep mixed-case text as written; title-case ALL-CAPS or all-lower text."""
    if not text:
        return ""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters or not (text.isupper() or text.islower()):
        return text
    words = text.split()
    out = []
    for index, word in enumerate(words):
        bare = word.strip(".,")
        if len(bare) == 1 or (suffix and _ROMAN.match(bare)):
            out.append(word.upper())
        elif particles and index > 0 and bare.lower() in _PARTICLES:
            out.append(word.lower())
        else:
            out.append(_cap_piece(word))
    return " ".join(out)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    text = text.replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=65536)
def parse_person_name(text: str) -> PersonName:
    """Split a listed name into prefix, first, middle, last, suffix, nickname and credentials.

    Given-name-first order is kept as written ("Nguyen Thi Mai" -> first "Nguyen"); "Last, First"
    is recognised by its comma.

    >>> parse_person_name("Dr. Jane Q. Doe, MD, FACC")
    PersonName(prefix='Dr.', first='Jane', middle='Q.', last='Doe', suffix='', nickname='', \
credentials=('MD', 'FACC'))
    """
    if not isinstance(text, str) or not text.strip():
        return PersonName()
    rest, nickname, paren_credentials = _take_nickname(_clean(text))
    rest, credentials = _take_credentials(rest)
    parts = _simple_parts(rest) or _nameparser_parts(rest)
    prefix, first, middle, last, suffix = parts
    all_credentials = tuple(dict.fromkeys([*paren_credentials, *credentials]))
    return PersonName(
        prefix=_display_case(prefix),
        first=_display_case(first),
        middle=_display_case(middle),
        last=_display_case(last, particles=True),
        suffix=_display_case(suffix, suffix=True),
        nickname=_display_case(nickname),
        credentials=all_credentials,
    )


_Parts = tuple[str, str, str, str, str]  # prefix, first, middle, last, suffix
_PLAIN_WORD = re.compile(r"^[^\W\d_]+(?:['\-.][^\W\d_]+)*\.?$")


@lru_cache(maxsize=1)
def _hard_words() -> frozenset[str]:
    """Words that need nameparser: surname particles ("van", "de la") and conjunctions."""
    constants = _constants()
    return frozenset(
        [*(word.lower() for word in constants.prefixes), *constants.conjunctions, *_PARTICLES]
    )


def _simple_parts(rest: str) -> _Parts | None:
    """Parse the common shapes without nameparser, which costs ~0.4 ms a name.

    Handles "[Title] First [Middle ...] Last [Jr.]" and "Last, First [Middle ...] [Jr.]" when
    every word is a plain name word and none is a particle or conjunction; returns None for
    anything else, which nameparser then parses.
    """
    if rest.count(",") > 1:
        return None
    head, comma, tail = rest.partition(",")
    hard = _hard_words()
    words = [*head.split(), *tail.split()]
    if not words or any(
        not _PLAIN_WORD.match(word) or word.lower().strip(".") in hard for word in words
    ):
        return None
    if comma:
        last_words, given = head.split(), tail.split()
        if len(last_words) != 1 or not given or _is_title(last_words[0]):
            return None
        suffix = ""
        if len(given) > 1 and _is_generational(given[-1]):
            suffix = given.pop()
        if any(_is_title(word) or _is_generational(word) for word in given):
            return None
        return "", given[0], " ".join(given[1:]), last_words[0], suffix
    titles = []
    while words and _is_title(words[0]) and len(words) > 1:
        titles.append(words.pop(0))
    suffix = ""
    if len(words) > 2 and _is_generational(words[-1]):
        suffix = words.pop()
    if any(_is_title(word) or _is_generational(word) for word in words):
        return None
    if len(words) == 1:
        return " ".join(titles), "", "", words[0], suffix
    return " ".join(titles), words[0], " ".join(words[1:-1]), words[-1], suffix


def _nameparser_parts(rest: str) -> _Parts:
    parsed = HumanName(rest, constants=_constants())
    first, last = parsed.first, parsed.last
    # nameparser reads a lone "Smith" as a first name; a single word is a surname on a directory.
    if first and not last and not parsed.middle and "," not in rest:
        first, last = "", first
    return parsed.title, first, parsed.middle, last, parsed.suffix


_KEY_JOIN = re.compile(r"['.]+")
_KEY_SPACE = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=262144)
def name_key(text: str | None) -> str:
    """Matching key: ASCII, lower case, apostrophes and dots dropped, other punctuation spaces.

    Hyphens become spaces rather than vanishing, so "Smith-Jones" and "Smith Jones" share a key
    and the matcher can still split a double-barrelled surname into its parts.

    >>> name_key("  García-López, O'Neil ")
    'garcia lopez oneil'
    """
    if not isinstance(text, str) or not text:
        return ""
    ascii_text = unidecode(text).lower()
    ascii_text = _KEY_JOIN.sub("", ascii_text)
    return _KEY_SPACE.sub(" ", ascii_text).strip()


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=1)
def _name_frequency() -> dict[str, float]:
    """US Census 1990 given-name frequency (male % + female %), to rank formal names."""
    return {
        row["name"]: float(row["male_pct"]) + float(row["female_pct"])
        for row in read_rows("first_names_census1990.csv")
    }


@lru_cache(maxsize=1)
def _canonical_overrides() -> dict[str, str]:
    return {
        name_key(row["name"]): name_key(row["canonical"])
        for row in read_rows("first_name_overrides.csv")
    }


@lru_cache(maxsize=65536)
def first_name_keys(first: str | None) -> frozenset[str]:
    """The first name's key and its nickname relatives in both directions.

    Two first names are nickname-compatible when their key sets intersect: "bob" and "bobby"
    share "robert".

    >>> sorted(first_name_keys("Bob"))[:3]
    ['bert', 'bob', 'bobby']
    """
    key = name_key(first)
    if not key:
        return frozenset()
    namer = _nicknamer()
    keys = {key}
    for variant in {key, key.replace(" ", "")}:
        keys.add(variant)
        keys.update(name_key(name) for name in namer.nicknames_of(variant))
        keys.update(name_key(name) for name in namer.canonicals_of(variant))
    override = _canonical_overrides().get(key)
    if override:
        keys.add(override)
    keys.discard("")
    return frozenset(keys)


@lru_cache(maxsize=65536)
def canonical_first_name(first: str | None) -> str:
    """A deterministic formal form of a first name, as a name key: "Bob" -> "robert".

    A curated override wins (data/vocab/first_name_overrides.csv); otherwise a nickname maps to
    the formal name it abbreviates that is most common in the 1990 US Census (ties broken
    alphabetically; a formal name is never shorter than the nickname unless it is its stem, as
    in johnny -> john), repeated until stable. A name that abbreviates nothing is kept.

    >>> canonical_first_name("Bill"), canonical_first_name("Jack"), canonical_first_name("Mai")
    ('william', 'john', 'mai')
    """
    key = name_key(first)
    if not key:
        return ""
    overrides = _canonical_overrides()
    frequency = _name_frequency()
    namer = _nicknamer()
    seen: set[str] = set()
    current = key
    while current not in seen:
        seen.add(current)
        if current in overrides:
            return overrides[current]
        # The nickname data also lists some formal names as "nicknames" of their short forms
        # (lawrence -> larry); a formal name is never shorter than the name it expands, unless
        # the nickname is the formal name plus an ending (johnny -> john).
        formal = {
            name
            for name in (name_key(raw) for raw in namer.canonicals_of(current))
            if len(name) >= len(current) or current.startswith(name)
        }
        if not formal:
            return current
        best = min(formal | {current}, key=lambda name: (-frequency.get(name, 0.0), name))
        if best == current:
            return current
        current = best
    return current
