"""Soft 404s: pages answering 200 that say the profile does not exist."""

from __future__ import annotations

import re
from typing import Any

from spiders.extract.xpaths import H1_TEXT, TITLE_TEXT, selector_of

_NOT_FOUND = re.compile(
    r"\berror\s*404\b|^\s*404\b|\bpage (was )?not found\b|\b(page|profile) (cannot|can't|could not)"
    r" be found\b|\bno longer (exists|available)\b|\bprofile (is )?not available\b",
    re.I,
)


def detect_soft_404(response: Any) -> bool:
    """True when the page is a 404 in disguise: its <title> or <h1> says "not found".

    Only the title and main heading are read: a real profile may well mention "404" or
    "not found" in its body text.
    """
    if response.status == 404:
        return True
    root = selector_of(response).root
    title = " ".join(TITLE_TEXT(root))
    heading = " ".join(H1_TEXT(root))
    return bool(_NOT_FOUND.search(title) or _NOT_FOUND.search(heading))
