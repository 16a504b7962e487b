"""Realistic wrong implementations of every graded function, as a student would write
them, one file per chapter: tests/wrong/chNN_name.py (named as the chapter's module,
`autograde/chapters/chNN_name.py`) holds that chapter's
WRONG = {function: {mistake: source of the whole solution cell}}. Each must lose that
function's points when graded by real nbgrader. Where the mistake is one of the
catalogue's (a chapter's `@mistake`), the key is its key, and grading must diagnose it as
exactly that mistake; other keys are free descriptions.

Collected here, by discovery:
WRONG[assignment][function] = {mistake: source}, every chapter's, and
DEPENDS[function] = the graded functions whose mistakes may also cost this one's points:
those it uses, directly or through another (each graded function's `uses`).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from autograde import chapters
from autograde.grading.score import upstream_of

FOLDER = Path(__file__).resolve().parent / "wrong"


def _load(path: Path) -> dict:
    spec = importlib.util.spec_from_file_location(f"wrong_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.WRONG


def _collect(folder: Path = FOLDER) -> dict[str, dict[str, dict[str, str]]]:
    """Assignment -> that chapter's WRONG, from every tests/wrong/chNN_name.py."""
    by_module = {c.module: c.name for c in chapters.chapters().values()}
    found = {}
    for path in sorted(folder.glob("ch*.py")):
        if path.stem not in by_module:
            raise ValueError(f"{path} is named after no chapter module (autograde/chapters/{path.name})")
        found[by_module[path.stem]] = _load(path)
    return found


WRONG = _collect()

DEPENDS = {fn.name: set(upstream_of(fn.name)) for functions in chapters.assignments().values()
           for fn in functions if fn.uses}


def cases():
    """(assignment, function, mistake, source) for every wrong implementation. A key
    "mistake@variant" is a second way of writing the same mistake: diagnosed as it."""
    return [(a, f, m.split("@")[0], src.strip() + "\n")
            for a, fns in WRONG.items() for f, ms in fns.items() for m, src in ms.items()]
