"""Medical school names -> the canonical name in data/vocab/medical_schools.csv.

Each school is found by its name, its listed aliases ("HMS", "Johns Hopkins", "UCSF") and forms
derived from its name: without "The", without the school-unit phrase ("Duke University School of
Medicine" -> "Duke University" -> "Duke"), and the two sides of "X at Y" / "X, Y" names
("David Geffen School of Medicine at UCLA" -> "UCLA"). A derived form that fits several schools
("Michigan State University") is dropped; listed aliases always count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from unidecode import unidecode

from pipeline.normalize.vocab import read_rows

__all__ = ["MedicalSchool", "canonical_school", "medical_school", "school_key"]


@dataclass(frozen=True)
class MedicalSchool:
    """One row of medical_schools.csv."""

    name: str
    country: str
    state: str
    city: str
    kind: str  # allopathic | osteopathic
    status: str  # open | closed
    aliases: tuple[str, ...]


_WORDS = {
    "univ": "university",
    "u": "university",
    "st": "saint",
    "sch": "school",
    "coll": "college",
    "ctr": "center",
    "hlth": "health",
    "sci": "sciences",
}
_UNIT = re.compile(
    r"\s*(?:school of medicine and (?:public health|dentistry|health sciences|biomedical "
    r"sciences)|faculty of medicine and (?:dentistry|health sciences)|faculte de medecine(?: et "
    r"des sciences de la sante)?|college of (?:osteopathic|human|allopathic) medicine|school of "
    r"osteopathic medicine|college of physicians and surgeons|school of medicine|college of "
    r"medicine|medical school|medical college|faculty of medicine|faculty of health sciences|"
    r"md school of medicine|m d school of medicine)\b\s*"
)


@lru_cache(maxsize=65536)
def school_key(text: str | None) -> str:
    """Lookup key of a school name: lower-case ASCII words, "&" as "and", "The" dropped.

    >>> school_key("The Ohio State Univ. College of Medicine")
    'ohio state university college of medicine'
    """
    if not isinstance(text, str) or not text:
        return ""
    ascii_text = unidecode(text).lower().replace("&", " and ").replace("'", "")
    words = [_WORDS.get(word, word) for word in re.split(r"[^a-z0-9]+", ascii_text) if word]
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)


_UNIT_WORDS = frozenset(
    {
        "school",
        "college",
        "medical",
        "faculty",
        "health",
        "md",
        "at",
        "in",
        "for",
        "and",
        "center",
        "campus",
    }
)


_GENERIC = frozenset({"state", "medical", "health", "memorial", "national", "technical"})


def _institution_forms(key: str) -> set[str]:
    """ "university of iowa carver college of medicine" -> {"university of iowa", ...}."""
    words = key.split()
    forms: set[str] = set()
    if len(words) > 2 and words[:2] == ["university", "of"]:
        # "university of iowa", "university of new mexico", "university of california san diego"
        for length in range(3, min(len(words), 6) + 1):
            if words[length - 1] in _UNIT_WORDS:
                break
            forms.add(" ".join(words[:length]))
    elif "university" in words[1:]:
        # "duke university school of medicine" -> "duke university", "duke"
        head = words[: words.index("university", 1) + 1]
        if head[0] not in _GENERIC:
            forms.add(" ".join(head))
            if len(head) > 2 or head[0] not in _GENERIC:
                forms.add(" ".join(head[:-1]))
    return forms


def _derived_forms(name: str) -> set[str]:
    """Shorter forms a school is known by, derived from its full name.

    The whole name and the institution side of "X at Y", "X of the Y" and "X, Y University"
    give their key, the key without the school-unit phrase, and the institution's own name; the
    school side ("David Geffen School of Medicine") gives only its key, and campus suffixes
    ("... - Bradenton") give nothing of their own.
    """
    whole = school_key(name.partition(" - ")[0])
    institutions = [whole]
    schools = []
    for separator in (", ", " at ", " of the "):
        if separator in name:
            left, _, right = name.partition(separator)
            right_key = school_key(right)
            named = re.search(r"\b(?:university|college)\b", right_key)
            # "... at UCLA" names an institution; "... at Manoa", "... of the Pacific" a place.
            if named or (separator != ", " and right.strip().isupper()):
                institutions.append(right_key)
            schools.append(school_key(left))
    forms = set(schools)
    for key in institutions:
        forms.add(key)
        core = re.sub(r"\s+", " ", _UNIT.sub(" ", key)).strip()
        # One word left after dropping the unit ("long", "pacific") is too little to go on.
        if len(core.split()) > 1 and core.split()[0] not in _UNIT_WORDS | {"of", "state"}:
            forms.add(core)
        forms |= _institution_forms(key)
    return {form for form in forms if len(form) >= 4}


@lru_cache(maxsize=1)
def _schools() -> tuple[dict[str, MedicalSchool], dict[str, str], dict[str, str]]:
    """(name -> school, explicit alias key -> name, unambiguous derived key -> name)."""
    schools: dict[str, MedicalSchool] = {}
    explicit: dict[str, str] = {}
    derived: dict[str, set[str]] = {}
    places: set[str] = set()
    for row in read_rows("medical_schools.csv"):
        aliases = tuple(alias for alias in row["aliases"].split("|") if alias)
        school = MedicalSchool(
            row["name"],
            row["country"],
            row["state"],
            row["city"],
            row["kind"],
            row["status"],
            aliases,
        )
        schools[school.name] = school
        for alias in (school.name, *aliases):
            key = school_key(alias)
            if explicit.get(key, school.name) != school.name:
                raise ValueError(f"medical_schools.csv: alias {alias!r} names two schools")
            explicit[key] = school.name
        for alias in (school.name, *aliases):
            for form in _derived_forms(alias):
                derived.setdefault(form, set()).add(school.name)
        places.add(school_key(school.city))
    # A bare place or generic word ("boston", "indiana", "medical") is not a school's name.
    places |= {school_key(row["name"]) for row in read_rows("us_states.csv")}
    places |= {"medical", "medical university", "health", "health sciences", "university"}
    unique = {
        form: names.pop()
        for form, names in derived.items()
        if len(names) == 1 and form not in places
    }
    return schools, explicit, unique


def _lookup(key: str) -> str | None:
    _, explicit, derived = _schools()
    return explicit.get(key) or derived.get(key)


@lru_cache(maxsize=1)
def _fuzzy_keys() -> tuple[str, ...]:
    _, explicit, derived = _schools()
    return tuple(key for key in {*explicit, *derived} if len(key) >= 12)


@lru_cache(maxsize=65536)
def canonical_school(text: str | None) -> str | None:
    """Canonical name of a US or Canadian medical school, or None when unknown or ambiguous.

    >>> canonical_school("HMS"), canonical_school("Johns Hopkins")
    ('Harvard Medical School', 'Johns Hopkins University School of Medicine')
    """
    key = school_key(text)
    if not key:
        return None
    found = _lookup(key)
    if found:
        return found
    core = re.sub(r"\s+", " ", _UNIT.sub(" ", key)).strip()
    if core and core != key:
        found = _lookup(core)
        if found:
            return found
    if len(key) < 12:
        return None
    # One typo-sized slip from exactly one school: "Johns Hopkins Univeristy School of Medicine".
    hits = process.extract(
        key, _fuzzy_keys(), scorer=Levenshtein.distance, score_cutoff=2, limit=10
    )
    if not hits:
        return None
    best = min(distance for _, distance, _ in hits)
    names = {_lookup(choice) for choice, distance, _ in hits if distance == best}
    return names.pop() if len(names) == 1 else None


def medical_school(text: str | None) -> MedicalSchool | None:
    """The vocabulary row of a school, found as ``canonical_school`` finds it.

    >>> medical_school("UCSF").city
    'San Francisco'
    """
    name = canonical_school(text)
    return _schools()[0][name] if name else None
