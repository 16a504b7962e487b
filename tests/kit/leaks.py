"""Find solution code or hidden test code where students can see it.

The secrets of an assignment are the distinctive lines of its instructor notebook's
solution regions (`### BEGIN SOLUTION` … `### END SOLUTION`) and hidden test regions.
`find_leaks` reports each secret line that appears in a text (a released notebook, a
page of the built book, a feedback file), after white space is folded.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

REGIONS = {"solution": ("### BEGIN SOLUTION", "### END SOLUTION"),
           "hidden test": ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")}
MIN_LENGTH = 12  # shorter lines ("return h", "count = 0") are too common to be evidence


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def secret_lines(notebook: Path) -> dict[str, str]:
    """Folded secret line -> what kind of secret it is."""
    nb = nbformat.read(notebook, as_version=4)
    secrets: dict[str, str] = {}
    for cell in nb.cells:
        for kind, (begin, end) in REGIONS.items():
            inside = False
            for line in cell.source.split("\n"):
                if begin in line:
                    inside = True
                elif end in line:
                    inside = False
                elif inside:
                    folded = _fold(line)
                    if len(folded) >= MIN_LENGTH and not folded.startswith("#"):
                        secrets[folded] = kind
    return secrets


def find_leaks(text: str, secrets: dict[str, str]) -> list[str]:
    """The secrets (as 'kind: line') that occur in `text`."""
    folded = _fold(text)
    return [f"{kind}: {line}" for line, kind in secrets.items() if line in folded]


def html_text(path: Path) -> str:
    """The text a reader sees on an HTML page, code included, as the page shows it.

    No separator is put between elements: highlighted code is one span per token,
    and a separator would break every code line apart."""
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8", errors="replace"), "html.parser").get_text("")
