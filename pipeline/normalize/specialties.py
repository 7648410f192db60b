"""Specialty labels -> canonical board-certificate names, and which claims a certificate supports.

Canonical names are the ABMS certificate names (brought up to date after 2016, e.g.
"Urogynecology and Reconstructive Pelvic Surgery"), plus the few AOA certificates with no ABMS
counterpart. Vocabularies (all in ``data/vocab``):

- ``specialty_crosswalk.csv``: label -> canonical (kind abms | aoa | nucc | cms | synonym). An
  empty canonical marks a known label that is no board specialty ("Nurse Practitioner",
  "Primary Care"); several canonicals joined by ``|`` mark a label that stands for more than one
  ("Hematology/Oncology" -> Medical Oncology | Hematology), first the likeliest.
- ``board_certificates.csv``: every (board, certificate) with the certificate's parent specialty
  under that board.
- ``specialty_equivalents.csv``: canonical names that certify the same field under another name.
- ``boards.csv``: certifying boards and their abbreviations.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from unidecode import unidecode

from pipeline.normalize.vocab import read_rows

__all__ = [
    "canonical_board",
    "canonical_specialties",
    "canonical_specialty",
    "claims_match",
    "is_subspecialty",
    "known_specialties",
    "parent_specialty",
    "specialty_candidates",
    "specialty_key",
]

# ------------------------------------------------------------------------------ label keys

_SPELLING = (  # British spellings -> American, applied to the lower-case key
    (re.compile(r"paed"), "ped"),
    (re.compile(r"anaesth"), "anesth"),
    (re.compile(r"gynaec"), "gynec"),
    (re.compile(r"haem"), "hem"),
    (re.compile(r"oesoph"), "esoph"),
    (re.compile(r"orthopaedic"), "orthopedic"),
)
_DROP_WORDS = frozenset({"and", "the"})
_LEADING = (
    ("board", "certified", "in"),
    ("board", "certified"),
    ("certified", "in"),
    ("specializing", "in"),
    ("specialty", "in"),
    ("fellowship", "trained", "in"),
    ("fellowship", "in"),
    ("department", "of"),
    ("dept", "of"),
    ("division", "of"),
    ("section", "of"),
    ("service", "of"),
    ("center", "for"),
    ("institute", "for"),
)
_TRAILING = frozenset(
    {
        "physician",
        "physicians",
        "specialist",
        "specialists",
        "doctor",
        "doctors",
        "department",
        "dept",
        "division",
        "section",
        "service",
        "services",
        "clinic",
        "clinics",
        "program",
        "center",
        "centre",
        "institute",
        "group",
    }
)


@lru_cache(maxsize=131072)
def specialty_key(label: str | None) -> str:
    """Lookup key of a label: lower-case ASCII words, "&"/"and"/"the" and filler words dropped.

    >>> specialty_key("Dept. of Obstetrics & Gynaecology")
    'obstetrics gynecology'
    """
    if not isinstance(label, str) or not label:
        return ""
    text = unidecode(label).lower().replace("'s", "s").replace("'", "")
    for pattern, replacement in _SPELLING:
        text = pattern.sub(replacement, text)
    words = [word for word in re.split(r"[^a-z0-9]+", text) if word and word not in _DROP_WORDS]
    changed = True
    while changed and words:
        changed = False
        for lead in _LEADING:
            if len(words) > len(lead) and tuple(words[: len(lead)]) == lead:
                words = words[len(lead) :]
                changed = True
        if len(words) > 1 and words[-1] in _TRAILING:
            words.pop()
            changed = True
    return " ".join(words)


_MORPH = (  # "Cardiologist" -> "cardiology", "Pediatrician" -> "pediatrics"
    (re.compile(r"ologists?$"), "ology"),
    (re.compile(r"iatrists?$"), "iatry"),
    (re.compile(r"(?<=[a-z]{4})icians?$"), "ics"),
    (re.compile(r"^surgeons?$"), "surgery"),
)


_MORPH_EXCEPTIONS = frozenset(
    {"physician", "physicians", "clinician", "clinicians", "technician", "technicians"}
)


def _morph_word(word: str) -> str:
    if word in _MORPH_EXCEPTIONS:
        return word
    for pattern, replacement in _MORPH:
        word = pattern.sub(replacement, word)
    return word


def _morph_variants(key: str) -> list[str]:
    words = key.split()
    variants = []
    for index, word in enumerate(words):
        new = _morph_word(word)
        if new != word:
            variants.append(" ".join([*words[:index], new, *words[index + 1 :]]))
    if len(variants) > 1:
        variants.append(" ".join(_morph_word(word) for word in words))
    return variants


# ------------------------------------------------------------------------------ vocabularies


@lru_cache(maxsize=1)
def _crosswalk() -> dict[str, tuple[str, ...]]:
    """specialty key (or lower-case NUCC code) -> canonical names ('()' = known, no specialty)."""
    table: dict[str, tuple[str, ...]] = {}
    for row in read_rows("specialty_crosswalk.csv"):
        key = specialty_key(row["label"])
        canonicals = tuple(name for name in row["canonical"].split("|") if name)
        if key and key not in table:
            table[key] = canonicals
    return table


@lru_cache(maxsize=1)
def _fuzzy_keys() -> tuple[str, ...]:
    # Codes and very short keys ("ent", "gi") are never fuzzy-matched.
    return tuple(
        key for key in _crosswalk() if len(key) >= 5 and not re.fullmatch(r"[0-9a-z]{9}x", key)
    )


@dataclass(frozen=True)
class _CertRow:
    board: str
    certificate_type: str
    parents: tuple[str, ...]
    preferred: bool


@lru_cache(maxsize=1)
def _board_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for row in read_rows("boards.csv"):
        for alias in [row["board"], row["abbreviation"], *row["aliases"].split("|")]:
            if alias:
                aliases[specialty_key(alias)] = row["board"]
    return aliases


@lru_cache(maxsize=1)
def _certificates() -> dict[str, tuple[_CertRow, ...]]:
    """canonical name -> the board certificate rows that certify it."""
    rows: dict[str, list[_CertRow]] = defaultdict(list)
    crosswalk = _crosswalk()
    for row in read_rows("board_certificates.csv"):
        canonicals = crosswalk.get(specialty_key(row["certificate"]), ())
        parents = tuple(name for name in row["parent_specialty"].split("|") if name)
        for canonical in canonicals:
            # A combined certificate (AOA "Neurology & Psychiatry") is primary in each field.
            own = (canonical,) if canonical in parents else parents
            rows[canonical].append(
                _CertRow(row["board"], row["certificate_type"], own, row["preferred"] == "Y")
            )
    return {name: tuple(found) for name, found in rows.items()}


@lru_cache(maxsize=1)
def _equivalents() -> dict[str, frozenset[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    for row in read_rows("specialty_equivalents.csv"):
        group = {row["canonical"], row["equivalent"]}
        for name in list(group):
            group |= groups[name]
        for name in group:
            groups[name] = group
    return {name: frozenset(group) for name, group in groups.items()}


def known_specialties() -> frozenset[str]:
    """Every canonical specialty name (the board certificate names).

    >>> "Cardiovascular Disease" in known_specialties()
    True
    """
    return frozenset(_certificates())


# ------------------------------------------------------------------------------ label lookup

_NUCC_CODE = re.compile(r"^[0-9]{3}[0-9A-Za-z]{6}[Xx]$")
_PAREN = re.compile(r"\(([^()]*)\)")
_TITLE = re.compile(
    r"^(?:(?:clinical|adjunct|visiting|emeritus|emerita|associate|assistant|full|distinguished|"
    r"research|affiliate|courtesy|senior|junior|interim|vice|deputy|executive|founding|acting|"
    r"medical|program|fellowship|residency|attending|staff)\s+)*"
    r"(?:professor|instructor|lecturer|chair|chairman|chairwoman|chairperson|chief|director|"
    r"head|fellow|resident|attending|faculty|member|dean|physician|specialist|consultant)"
    r"(?:\s+(?:and|&)\s+(?:vice\s+)?(?:chair|chief|director|head|professor))?"
    r"\s+(?:of|in|on|for)\s+"
)
_CLINICAL = re.compile(r"^(?:clinical|academic)\s+")


def _lookup(text: str) -> tuple[str, ...] | None:
    """Exact lookup of a label by key, then by "-ologist"/"-ician"/"surgeon" variants."""
    crosswalk = _crosswalk()
    key = specialty_key(text)
    if not key:
        return None
    if key in crosswalk:
        return crosswalk[key]
    for variant in _morph_variants(key):
        if variant in crosswalk:
            return crosswalk[variant]
    return None


def _fuzzy(text: str) -> tuple[str, ...] | None:
    """A typo of exactly one known label ("Gastroenterolgy"); None when unsure."""
    key = specialty_key(text)
    if len(key) < 6:
        return None
    max_distance = 1 if len(key) < 10 else 2
    # Look one edit further than accepted: a different specialty that close means the label
    # could be a slip of either ("Nephrology"/"Neurology"), so nothing is returned.
    hits = process.extract(
        key, _fuzzy_keys(), scorer=Levenshtein.distance, score_cutoff=max_distance + 1, limit=12
    )
    if not hits:
        return None
    best = min(distance for _, distance, _ in hits)
    if best > max_distance:
        return None
    crosswalk = _crosswalk()
    answers = {crosswalk[choice] for choice, distance, _ in hits if distance <= best + 1}
    return answers.pop() if len(answers) == 1 else None


def _strip_title(piece: str) -> str:
    """ "Associate Professor of Clinical Medicine" -> "Medicine"."""
    text = unidecode(piece).strip().lower()
    text = _TITLE.sub("", text)
    text = _CLINICAL.sub("", text)
    return text.strip(" .,:;-")


def _most_specific(found: list[tuple[str, tuple[str, ...]]]) -> tuple[str, ...]:
    """Combine what the pieces of a title resolved to; the most specific specialty wins.

    ``found`` holds (piece text, canonicals). "Professor of Medicine, Division of Cardiology"
    gives Internal Medicine and Cardiovascular Disease: Cardiovascular Disease, whose parent is
    Internal Medicine, is more specific. Pediatrics and an adult subspecialty make the pediatric
    one ("Pediatrics (Cardiology)" -> Pediatric Cardiology).
    """
    names = [name for _, canonicals in found for name in canonicals]
    if "Pediatrics" in names:
        for piece, canonicals in found:
            if canonicals and "Pediatrics" not in canonicals:
                pediatric = _lookup("pediatric " + piece)
                if pediatric:
                    return pediatric
    nested = [
        name
        for name in names
        if any(parent in names for parent in _all_parents(name) if parent != name)
    ]
    if nested:
        return tuple(dict.fromkeys(nested))
    return tuple(dict.fromkeys(names))


def _resolve_piece(text: str) -> tuple[str, ...]:
    """A label without parentheses: lookup, then faculty-title parsing, then a fuzzy typo match."""
    direct = _lookup(text)
    if direct is not None:
        return direct
    found: list[tuple[str, tuple[str, ...]]] = []
    for piece in re.split(r"[,;]|\s[-–—|]\s", text):
        stripped = _strip_title(piece)
        if not stripped:
            continue
        canonicals = _lookup(stripped)
        if canonicals is None:
            # "Medicine and Pediatrics", "Radiology and Biomedical Imaging"
            parts = [part for part in re.split(r"\s+(?:and|&)\s+|/", stripped) if part.strip()]
            if len(parts) > 1:
                resolved = [(part, _lookup(part)) for part in parts]
                canonicals = tuple(name for _, names in resolved if names for name in names) or None
        if canonicals is None:
            canonicals = _fuzzy(stripped)
        if canonicals:
            found.append((stripped, canonicals))
    if found:
        return _most_specific(found)
    return _fuzzy(text) or ()


@lru_cache(maxsize=65536)
def specialty_candidates(label: str | None) -> tuple[str, ...]:
    """Every canonical specialty a label stands for, likeliest first; () when not confident.

    >>> specialty_candidates("Hem/Onc")
    ('Medical Oncology', 'Hematology')
    """
    if not isinstance(label, str) or not label.strip():
        return ()
    text = " ".join(label.split())
    if _NUCC_CODE.match(text):
        return _crosswalk().get(text.lower(), ())
    direct = _lookup(text)
    if direct is not None:
        return direct
    inner = [part for part in _PAREN.findall(text) if part.strip()]
    if inner:
        outer = _PAREN.sub(" ", text)
        found = [(outer, _resolve_piece(outer))] if outer.strip() else []
        for part in inner:
            resolved = _resolve_piece(part)
            if resolved:
                # The parenthesised part is the more specific one: "Medicine (Cardiology)".
                if found and "Pediatrics" in found[0][1]:
                    return _most_specific([*found, (part, resolved)])
                return resolved
        return found[0][1] if found else ()
    return _resolve_piece(text)


def canonical_specialty(label: str | None) -> str | None:
    """The canonical board-certificate name of a label, or None when not confident.

    Accepts board certificate names (ABMS and AOA), NUCC taxonomy codes and names, CMS specialty
    names, directory wording ("OB/GYN", "Cardiologist", "Dept. of Dermatology") and faculty
    titles ("Associate Professor of Medicine (Cardiology)" -> Cardiovascular Disease). A label
    standing for several specialties gives the likeliest (see ``specialty_candidates``).

    >>> canonical_specialty("Cardiology"), canonical_specialty("207RC0000X")
    ('Cardiovascular Disease', 'Cardiovascular Disease')
    """
    candidates = specialty_candidates(label)
    return candidates[0] if candidates else None


def canonical_specialties(labels: Iterable[str | None]) -> list[str]:
    """Canonical specialties of several labels, every candidate of each, deduplicated in order.

    >>> canonical_specialties(["Cardiology", "Cardiovascular Disease", "Hem/Onc", "NP"])
    ['Cardiovascular Disease', 'Medical Oncology', 'Hematology']
    """
    out: dict[str, None] = {}
    for label in labels:
        for name in specialty_candidates(label):
            out.setdefault(name, None)
    return list(out)


# ------------------------------------------------------------------------------ hierarchy


@lru_cache(maxsize=4096)
def canonical_board(text: str | None) -> str | None:
    """Official board name from a name or abbreviation ("ABIM", "AOBFP").

    >>> canonical_board("ABIM")
    'American Board of Internal Medicine'
    """
    if not isinstance(text, str) or not text:
        return None
    return _board_aliases().get(specialty_key(text))


def _resolve_name(name: str) -> tuple[str, ...]:
    if name in _certificates():
        return (name,)
    return specialty_candidates(name)


@lru_cache(maxsize=4096)
def _all_parents(canonical: str, board: str | None = None) -> frozenset[str]:
    rows = _certificates().get(canonical, ())
    if board:
        official = canonical_board(board)
        on_board = [row for row in rows if row.board == official]
        rows = tuple(on_board) or rows
    return frozenset(parent for row in rows for parent in row.parents)


def is_subspecialty(name: str) -> bool:
    """True when a specialty is certified only on top of another (Cardiovascular Disease).

    >>> is_subspecialty("Cardiovascular Disease"), is_subspecialty("Internal Medicine")
    (True, False)
    """
    resolved = _resolve_name(name)
    return bool(resolved) and parent_specialty(resolved[0]) != resolved[0]


@lru_cache(maxsize=4096)
def parent_specialty(name: str) -> str:
    """The primary specialty a subspecialty belongs under; a primary is its own parent.

    A subspecialty several boards issue (Sleep Medicine, Critical Care Medicine) takes the
    parent of its ``preferred`` row in board_certificates.csv. A name that is not a known
    specialty is returned unchanged.

    >>> parent_specialty("Cardiology"), parent_specialty("Pediatrics")
    ('Internal Medicine', 'Pediatrics')
    """
    resolved = _resolve_name(name)
    if not resolved:
        return name
    canonical = resolved[0]
    rows = _certificates().get(canonical, ())
    if not rows:
        return canonical
    parents = {parent for row in rows for parent in row.parents}
    if len(parents) == 1:
        return parents.pop()
    for row in rows:
        if row.preferred:
            return row.parents[0]
    return rows[0].parents[0]


def _expanded(names: Iterable[str]) -> frozenset[str]:
    equivalents = _equivalents()
    out: set[str] = set()
    for name in names:
        out |= equivalents.get(name, {name})
    return frozenset(out)


@lru_cache(maxsize=65536)
def claims_match(claimed: str | None, certificate: str | None, board: str | None = None) -> bool:
    """Does holding ``certificate`` support a directory's claim of specialty ``claimed``?

    Both arguments may be canonical names or any label ``specialty_candidates`` understands; a
    label standing for several specialties ("Hematology/Oncology", "Pathology") matches when any
    of them does. True when, after canonicalising:

    1. claimed and certificate are the same specialty, or equivalent names for it
       (specialty_equivalents.csv: e.g. Vascular and Interventional Radiology and Interventional
       Radiology and Diagnostic Radiology); or
    2. the certificate is a subspecialty whose parent is the claimed specialty: a Cardiovascular
       Disease certificate supports a claim of Internal Medicine. When ``board`` is given only that
       board's parent counts (Sleep Medicine from the ABPN does not support Internal Medicine);
       without it, the parent under any board that issues the certificate counts.

    Everything else is False, in particular a claimed subspecialty with only the parent's
    certificate (claim Cardiology, certificate Internal Medicine), sibling subspecialties, and
    labels that are not board specialties (Nurse Practitioner, Primary Care) or not understood.

    >>> claims_match("Internal Medicine", "Cardiovascular Disease")
    True
    >>> claims_match("Cardiology", "Internal Medicine")
    False
    """
    claims = _expanded(_resolve_name(claimed)) if claimed else frozenset()
    certs = _expanded(_resolve_name(certificate)) if certificate else frozenset()
    if not claims or not certs:
        return False
    if claims & certs:
        return True
    return any(_all_parents(cert, board) & claims for cert in certs)
