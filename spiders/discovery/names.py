"""Does a piece of text name a person, and does it show a clinician?

Read from the text's shape, not from name lists: a display name is two to five words, each
capitalised (or an initial, or a lower-case particle such as "van" or "de"), optionally after
"Dr." and before comma-separated credentials. Credentials decide how sure we are: a physician
degree (MD, DO, MBBS ...) or another licensed clinician's (NP, PA-C, DPM ...) makes the text a
clinician's name; a name without any is only "name-shaped" (it may be "About Us").

>>> read_name("Dr. Jane Q. Doe, MD, FACC").physician
True
>>> read_name("Doe, Jane").shaped, read_name("Find a Doctor").shaped
(True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spiders.extract.text import (
    CLINICIAN_CREDENTIALS,
    PHYSICIAN_CREDENTIALS,
    clean_text,
    credential_code,
    is_caps,
    is_credential,
    is_known_credential,
    name_words,
    split_display_name,
)

# Research doctorates: faculty directories list these people beside clinicians.
RESEARCH_DOCTORATES = frozenset({"PHD", "DPHIL", "SCD", "DSC", "EDD", "DRPH", "PHARMD", "DNSC"})
# Words that open a phrase about a person, never the person's name ("By Jane Doe, MD").
_NOT_FIRST = frozenset(
    {"by", "with", "from", "about", "meet", "contact", "call", "ask", "see", "view", "book",
     "find", "our", "the", "for", "and", "of", "to", "in", "on", "at", "your", "dear", "hi",
     "hello", "welcome", "written", "reviewed", "posted", "author", "photo", "image"}
)  # fmt: skip
# Lower-case words inside real names ("Ludwig van Beethoven", "Maria de la Cruz").
_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "du", "la", "le", "bin",
     "ibn", "al", "el", "ter", "ten", "y"}
)  # fmt: skip
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class NameReading:
    text: str
    name: str | None  # the name without prefix and credentials
    degrees: tuple[str, ...]
    prefix: str | None
    shaped: bool  # reads as a person's name
    clinician: bool  # ... with a licensed clinician's credential (or "Dr.")
    physician: bool  # ... with a physician degree
    scholar: bool = False  # ... with a research doctorate (PhD, DPhil ...)

    @property
    def listed(self) -> bool:
        """Someone a physician or faculty directory lists: a clinician or a scholar."""
        return self.clinician or self.scholar

    @property
    def strong(self) -> bool:
        """A name nobody would mistake for a menu label or a place ("Cedar Bluff, IA"): "Dr."
        or known credentials."""
        return self.shaped and (
            self.prefix is not None or any(map(is_known_credential, self.degrees))
        )


def _shaped(name: str) -> bool:
    if not name or len(name) > 60 or any(c.isdigit() for c in name):
        return False
    if "," in name:  # "Doe, Jane Q." -> read as "Jane Q. Doe"
        last, _, first = name.partition(",")
        name = f"{first.strip()} {last.strip()}"
    words = name.replace("(", " ").replace(")", " ").replace('"', " ").split()
    if not words or words[0].lower().rstrip(":") in _NOT_FIRST:
        return False
    # Two to five name words; particles come on top ("Ana Lucía H. de la Fuente").
    letters = [w for w in words if w not in _PARTICLES]  # "Van Nguyen": a name word
    # In capitals particles are capitals too ("ANA LUCÍA V. VAN DER MEER"): on top of the five
    # as well, but name words for the two ("VAN NGUYEN").
    capital_particles = sum(1 for w in letters if w.isupper() and w.lower() in _PARTICLES)
    if len(letters) < 2 or len(letters) - capital_particles > 5 or len(words) > 8:
        return False
    if not all(_name_word(w) for w in letters):
        return False
    # At least two words that are more than an initial: "J. Doe" is a name, "A. B." is not.
    return sum(len(w.rstrip(".")) > 1 for w in letters) >= 2


def _name_word(word: str) -> bool:
    """'Jane', 'Q.', "O'Brien", 'López-García', 'Sørensen', 'DOE' yes; 'iPhone', '&' no."""
    word = word.rstrip(",")
    return (
        bool(word)
        and word[0].isupper()
        and all(c.isalpha() or c in "'’-." for c in word[1:])
        and not word[1:].replace(".", "").isdigit()
    )


def read_name(text: str | None) -> NameReading:
    """How ``text`` reads as a person's display name (see the module doc)."""
    text = clean_text(text) or ""
    parts = split_display_name(text)
    name = parts["name"] or ""
    degrees = list(parts["degrees"])
    # All capitals (or a name in capitals before credentials that are not: "JANE N. PARK,
    # ScD"): only the vocabulary tells a credential from a name.
    caps = is_caps(text) or is_caps(name)
    # Credentials the generic reader does not know by shape ("DPhil", "PharmD").
    parts_after = [p.strip() for p in name.split(",")]
    while name_words(parts_after[:-1]) >= 2 and is_known_credential(parts_after[-1], caps=caps):
        degrees.insert(0, parts_after.pop())
    name = ", ".join(parts_after)
    # "Jane Doe MD" (no comma): trailing credential tokens.
    words = name.split()
    # Trailing credential-shaped tokens, kept when one of them is a credential we know
    # ("PA-C MPAS": MPAS is new to us, PA-C is not).
    tail = 0
    # (In capitals, credentials after a comma are all there are: "FATIMA DE BA, MD".)
    while (
        not (caps and degrees)
        and name_words(words[: len(words) - tail - 1]) >= 2
        and (
            (not caps and is_credential(words[-1 - tail].strip(",")))
            or is_known_credential(words[-1 - tail].strip(","), caps=caps)
        )
    ):
        tail += 1
    if tail and any(
        is_known_credential(w.strip(","), caps=caps) for w in words[len(words) - tail :]
    ):
        degrees[:0] = [w.strip(",") for w in words[len(words) - tail :]]
        words = words[: len(words) - tail]
    name = " ".join(words)
    codes = {credential_code(d) for d in degrees}
    shaped = bool(_LETTER.search(name)) and _shaped(name)
    prefix = parts["honorific_prefix"]
    doctor = bool(prefix and prefix.lower().startswith("dr"))
    return NameReading(
        text=text,
        name=name or None,
        degrees=tuple(degrees),
        prefix=prefix,
        shaped=shaped,
        clinician=shaped and (bool(codes & CLINICIAN_CREDENTIALS) or doctor),
        physician=shaped and bool(codes & PHYSICIAN_CREDENTIALS),
        scholar=shaped and bool(codes & RESEARCH_DOCTORATES),
    )
