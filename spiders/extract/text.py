"""Small text helpers shared by the extractors: cleaning and reading the strings sites print."""

from __future__ import annotations

import html
import re
from collections.abc import Hashable, Iterable
from typing import Any

_PREFIXES = ("dr.", "dr", "prof.", "prof", "professor", "mr.", "mrs.", "ms.", "mx.")
# Degree/credential tokens after a name: MD, M.D., PhD, MBBS, MBChB, FACC, MPH, DO ...
_CREDENTIAL = re.compile(
    r"^(?:[A-Z][A-Za-z]{0,2}\.?){1,4}(?:-[A-Z]{1,3})?$|^(?:[A-Z]\.){1,4}[A-Z]?\.?$"
)
_NOT_CREDENTIAL = {"JR", "JR.", "SR", "SR.", "II", "III", "IV"}
# Degrees whose mixed case the shape above misses.
_MIXED_CASE_CREDENTIALS = {"DPHIL", "PHARMD", "MPHIL", "DMEDSC", "MMSC", "MSC", "BSC", "DSC"}
_YEAR = re.compile(r"\b(19[4-9]\d|20\d\d)\b")
_CITY_STATE_ZIP = re.compile(
    r"^(?P<city>[^,]+?),?\s+(?P<state>[A-Z]{2})\.?\s+(?P<zip>\d{5}(?:-\d{4})?)$"
)
_BOARD_WORDS = re.compile(r"\b(board|college|commission|council|association)\b", re.I)
_BOARD_ACRONYM = re.compile(r"^A[O]?B[A-Z]{1,5}$")  # ABIM, ABFM, AOBIM


def clean_text(value: Any) -> str | None:
    """Unescape entities and collapse whitespace; empty -> None.

    >>> clean_text("  Heart &amp; Vascular\\n Center ")
    'Heart & Vascular Center'
    """
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    if "&" in text:
        text = html.unescape(text)
    # str.split() splits on exactly the characters the regex \s matches, and runs in C: this is
    # called some hundred times per profile page.
    return " ".join(text.split()) or None


def unique(values: Iterable[Any]) -> list[Any]:
    """Drop empties and repeats (strings compared case-insensitively), keep order."""
    seen, out = set(), []
    for value in values:
        if value in (None, "", [], {}):
            continue
        key = value.casefold() if type(value) is str else _identity(value)
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def _identity(value: Any) -> Hashable:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, dict):
        try:
            return frozenset(value.items())
        except TypeError:  # a nested list or dict among the values
            return repr(sorted(value.items()))
    return repr(value)


def split_list(text: str | None, separators: str = ",;") -> list[str]:
    """'English, Spanish; French' -> ['English', 'Spanish', 'French']."""
    if not text:
        return []
    return unique(clean_text(p) for p in re.split(f"[{re.escape(separators)}]", text))


def is_credential(token: str) -> bool:
    """'MD', 'M.D.', 'PhD', 'MBChB', 'FACC', 'DPhil' yes; 'Jr.', 'III', 'Ann' no."""
    token = token.strip()
    if token.replace(".", "").upper() in _MIXED_CASE_CREDENTIALS and token[:1].isupper():
        return True
    return (
        bool(_CREDENTIAL.match(token))
        and sum(c.isupper() for c in token) >= 2
        and token.upper() not in _NOT_CREDENTIAL
    )


PHYSICIAN_CREDENTIALS = frozenset({"MD", "DO", "MBBS", "MBCHB", "MBBCH", "BMBS", "MBBCHIR", "MDCM"})
# Licensed clinicians a directory lists beside physicians (the matcher tells them apart later).
CLINICIAN_CREDENTIALS = PHYSICIAN_CREDENTIALS | frozenset(
    {"NP", "APRN", "FNP", "FNPBC", "FNPC", "NPC", "ANP", "AGNP", "PNP", "DNP", "CNM", "CRNA",
     "PA", "PAC", "DPM", "DDS", "DMD", "OD", "AUD", "PSYD", "DC", "CNS"}
)  # fmt: skip
# Other credentials printed after names: academic degrees, nursing, fellowships (F...).
OTHER_CREDENTIALS = frozenset(
    {"PHD", "MPH", "MS", "MSC", "MBA", "MA", "BA", "BS", "BSC", "EDD", "JD", "DRPH", "SCD", "DSC",
     "MHA", "MHS", "MSN", "BSN", "RN", "LPN", "LCSW", "LPC", "PHARMD", "RD", "OTR", "PT", "DPT",
     "CPA", "MED", "MFA", "MPHIL", "DPHIL", "MMSC", "MSW", "CCC", "SLP", "ATC", "CNA", "MSCR"}
)  # fmt: skip


def credential_code(token: str) -> str:
    """'M.D.' -> 'MD', 'PA-C' -> 'PAC'."""
    return re.sub(r"[^A-Z]", "", token.upper())


def is_known_credential(token: str, *, caps: bool = False) -> bool:
    """'MD', 'Ph.D.', 'FNP-BC', 'FACC' yes; 'IA', 'NY' (states after a town) no.

    ``caps``: the token comes from a text written all in capitals ("DOE, FRANK, MD"), where
    being upper case says nothing: only the credential vocabulary (``data/vocab/degrees.csv``
    and the codes above) and the nurse practitioners' hyphenated board suffixes count.

    >>> is_known_credential("FRANK"), is_known_credential("FRANK", caps=True)
    (True, False)
    >>> is_known_credential("FACOG", caps=True), is_known_credential("AGACNP-BC", caps=True)
    (True, True)
    """
    code = credential_code(token)
    if not code or len(code) > 8 or " " in token.strip() or sum(c.isupper() for c in token) < 2:
        return False  # "Pavilion", "Parisa MD": words, not one credential
    if code in CLINICIAN_CREDENTIALS or code in OTHER_CREDENTIALS or _in_vocabulary(token):
        return True
    if caps:
        return bool(_PRACTITIONER_BOARD.match(token))
    return (code.startswith("F") and 3 <= len(code) <= 6 and token.isupper()) or (  # FACS, FRCPC
        code.startswith(("FNP", "ANP", "AGNP", "PNP", "AGACNP", "PMHNP", "NP", "PA"))
        and token.replace("-", "").replace(".", "").isupper()
    )


# "AGACNP-BC", "PMHNP-BC", "FNP-C": a nurse practitioner's (or PA's) letters and board suffix.
_PRACTITIONER_BOARD = re.compile(r"^(?:[A-Z]{0,4}NP|PA)-[A-Z]{1,3}$")


def _in_vocabulary(token: str) -> bool:
    """The credential vocabulary the normalizer reads (``pipeline.normalize.degrees``)."""
    from pipeline.normalize.degrees import degree_info

    return degree_info(token) is not None


def is_caps(text: str) -> bool:
    """Written all in capitals ("DE LA FUENTE, SUNITA, MD"): case tells no name from a credential.

    >>> is_caps("DE LA FUENTE, SUNITA, MD"), is_caps("Jane DOE, MD")
    (True, False)
    """
    return any(c.isupper() for c in text) and not any(c.islower() for c in text)


def split_display_name(text: str | None) -> dict[str, Any]:
    """Read a listed name into prefix, the name proper, suffix and degrees.

    The suffix is the trailing run of comma-separated credentials, so "Doe, Jane Q., MD" keeps
    "Doe, Jane Q." as the name.

    >>> split_display_name("Dr. Jane Q. Doe, MD, FACC")["degrees"]
    ['MD', 'FACC']
    >>> split_display_name("JANE N. PARK, ScD")["name"], split_display_name("JANE DOE MD")["name"]
    ('JANE N. PARK', 'JANE DOE')
    """
    text = clean_text(text) or ""
    prefix = None
    first, _, rest = text.partition(" ")
    if first.lower() in _PREFIXES and rest:
        prefix, text = first, rest
    parts = [p.strip() for p in text.split(",")]
    caps = is_caps(text)
    cut = _caps_name_end(parts) if caps else len(parts)
    while (
        not caps
        and cut > 1
        and (is_credential(parts[cut - 1]) or parts[cut - 1].upper() in _NOT_CREDENTIAL)
    ):
        cut -= 1
    # "Jane Doe MD FACC", "Doe, Jane APRN FNP-BC": credentials we know, without commas, after
    # at least two words of name ("WEI MA" keeps its surname; "ANN LEE" is no credential).
    words = parts[cut - 1].split() if cut else []
    spaced = []
    # In capitals, credentials written after a comma are all there are ("FATIMA DE BA, MD":
    # "BA" is her surname). A name in capitals before credentials that are not ("SOO-AH N.
    # PARK, ScD") is read as such: its case tells no surname from a credential either.
    peel = not (caps and cut < len(parts))
    name_caps = caps or is_caps(" ".join(words))
    while peel and len(words) > 2 - (cut > 1) and is_known_credential(words[-1], caps=name_caps):
        spaced.insert(0, words.pop())
    if spaced:
        parts = [*parts[: cut - 1], " ".join(words), *spaced, *parts[cut:]]
    suffix = [p for p in parts[cut:] if p]
    return {
        "honorific_prefix": prefix,
        "name": ", ".join(parts[:cut]) or None,
        "honorific_suffix": ", ".join(suffix) or None,
        "degrees": [t for t in suffix if is_credential(t) or is_known_credential(t)],
    }


def name_words(parts: list[str]) -> int:
    """Words of a name split at its commas."""
    return sum(len(part.split()) for part in parts)


def _caps_name_end(parts: list[str]) -> int:
    """Where the name ends in a display name written in capitals, split at its commas: at the
    first credential of the vocabulary that follows two words of name, when only credential-
    shaped parts (or "JR", "III") follow it ("DE LA FUENTE, SUNITA, MD, CPPS" -> 2)."""
    for i in range(1, len(parts)):
        if (
            is_known_credential(parts[i], caps=True)
            and name_words(parts[:i]) >= 2
            and all(is_credential(p) or p.upper() in _NOT_CREDENTIAL for p in parts[i + 1 :])
        ):
            while i > 1 and parts[i - 1].upper() in _NOT_CREDENTIAL:
                i -= 1  # "DOE, JOHN, JR, MD": "JR" goes with the suffix
            return i
    return len(parts)


def degrees_from_suffix(suffix: str | None) -> list[str]:
    """'MD, FACC' -> ['MD', 'FACC']; also reads 'M.D. Ph.D.' separated by spaces."""
    tokens = [t for t in re.split(r"[,;/]\s*|\s+", suffix or "") if t]
    return unique(t for t in tokens if is_credential(t))


def year_in(text: str | None) -> int | None:
    match = _YEAR.search(text or "")
    return int(match.group(1)) if match else None


def strip_year(text: str) -> str | None:
    """'Harvard Medical School, 2004' / '(2004)' / '2004 - ...' -> 'Harvard Medical School'."""
    text = _YEAR.sub("", text)
    return clean_text(re.sub(r"\(\s*\)|^[\s,:\-–]+|[\s,:\-–]+$", "", text))


def parse_certification(text: str | None) -> dict[str, str | None] | None:
    """Read one certification line; the part naming a board is the board.

    >>> parse_certification("Cardiovascular Disease - American Board of Internal Medicine")
    {'board': 'American Board of Internal Medicine', 'certificate': 'Cardiovascular Disease'}
    """
    text = clean_text(text)
    if not text:
        return None
    text = re.sub(r"^board[- ]certified( in| by)?:?\s*", "", text, flags=re.I) or text
    parts = [p for p in re.split(r"\s+[-–—|]\s+|:\s+|\s*\(|\)\s*$|,\s+(?=American\b)", text) if p]
    parts = [clean_text(p.strip("() ")) for p in parts if clean_text(p.strip("() "))]
    board = next((p for p in parts if _BOARD_WORDS.search(p) or _BOARD_ACRONYM.match(p)), None)
    others = [p for p in parts if p != board]
    return {"board": board, "certificate": " ".join(others) or None}


def parse_city_state_zip(line: str) -> dict[str, str] | None:
    """'Boston, MA 02114' -> {'city': 'Boston', 'state': 'MA', 'zip': '02114'}."""
    match = _CITY_STATE_ZIP.match(clean_text(line) or "")
    return match.groupdict() if match else None


_EDUCATION_KINDS = (
    ("fellowship", re.compile(r"fellowship", re.I)),
    ("residency", re.compile(r"residen|internship", re.I)),
    ("medical_school", re.compile(
        r"medical (school|college|degree)|(school|college|faculty) of medicine"
        r"|^(md|m\.d\.|do|d\.o\.)$",
        re.I,
    )),
)  # fmt: skip


def education_type(label: str | None, name: str | None = None) -> str:
    """Education kind from a heading/role label ("Residency"); guessed from the name only when
    there is no label, since a PhD earned at a "School of Medicine" is not medical school.

    >>> education_type(None, "Tufts University School of Medicine")
    'medical_school'
    """
    text = label if label else name
    for kind, pattern in _EDUCATION_KINDS:
        if text and pattern.search(text.strip()):
            return kind
    return "other"


_PHYSICIAN_DEGREES = PHYSICIAN_CREDENTIALS
# (A "physician assistant" or "physician associate" is not a physician.)
_CLINICAL_TITLE = re.compile(
    r"\b(physician(?!\s+(assistant|associate))|clinical|attending|surgeon|hospitalist)\b", re.I
)


def is_physician(degrees: Iterable[str], title: str | None = None) -> bool | None:
    """Physician or not, as the listing shows it: an MD/DO (or foreign equivalent) makes a
    physician; other degrees alone (PhD, NP) do not; without degrees a clinical title decides.

    >>> is_physician(["PhD"], "Professor of Biochemistry"), is_physician(["M.D.", "PhD"])
    (False, True)
    >>> is_physician([], "Attending Physician"), is_physician([], "Physician Assistant")
    (True, None)
    """
    codes = {re.sub(r"[^A-Z]", "", d.upper()) for d in degrees}
    if codes & _PHYSICIAN_DEGREES:
        return True
    if codes:
        return False
    return True if title and _CLINICAL_TITLE.search(title) else None
