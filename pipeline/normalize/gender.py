"""A person's sex as the sources give it, or as their first name tells.

NPPES ("Provider Sex Code"), Doctors and Clinicians (``gndr``) and many directory pages state it
(``M`` / ``F``, "Male" / "Female"); ``sex_code`` reads those. Where a record does not, the first
name usually tells: ``name_sex`` asks the ``gender-guesser`` package (Jörg Michael's ``nam_dict``
of about 40,000 given names from many countries — not the US Census lists). A name it finds
used by both sexes alike ("Mei"), an initial or an unknown name tells nothing.

Codes: ``MALE`` (1), ``FEMALE`` (2), ``UNKNOWN`` (0).
"""

from __future__ import annotations

from functools import lru_cache

UNKNOWN, MALE, FEMALE = 0, 1, 2

_STATED = {"m": MALE, "male": MALE, "man": MALE, "f": FEMALE, "female": FEMALE, "woman": FEMALE}
# gender-guesser's answers; "mostly_*" names lean one way in nearly every country it knows.
_GUESSED = {"male": MALE, "mostly_male": MALE, "female": FEMALE, "mostly_female": FEMALE}


def sex_code(value) -> int:
    """A stated sex as a code.

    >>> [sex_code(v) for v in ("F", " male", "Female", "X", None, "U")]
    [2, 1, 2, 0, 0, 0]
    """
    if not isinstance(value, str):
        return UNKNOWN
    return _STATED.get(value.strip().lower(), UNKNOWN)


@lru_cache(maxsize=1)
def _detector():
    import gender_guesser.detector

    return gender_guesser.detector.Detector(case_sensitive=False)


def name_sex(first_name: str) -> int:
    """The sex a first name (a name key or as written) is borne by, when it clearly tells.

    >>> [name_sex(n) for n in ("mark", "ALICIA", "mei", "j", "")]
    [1, 2, 0, 0, 0]
    """
    if not first_name or len(first_name) < 2:
        return UNKNOWN
    word = first_name.split()[0]
    return _GUESSED.get(_detector().get_gender(word), UNKNOWN)
