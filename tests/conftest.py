"""Shared fixtures: the checkout, its assignments, and helpers to build submissions."""
from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograde import course, registry

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(course.assignment_sources(ROOT))
BIN = Path(sys.executable).parent


def solution_path(name: str) -> Path:
    return ROOT / "solutions" / name / f"{name}.ipynb"


def release_path(name: str) -> Path:
    return ROOT / "exercises" / name / f"{name}.ipynb"


def solution_sources(name: str) -> dict[str, str]:
    """grade_id -> the solution cell's code, with nbgrader's markers removed."""
    nb = nbformat.read(solution_path(name), as_version=4)
    return {c.metadata.nbgrader["grade_id"]: re.sub(r"\n?[ \t]*### (BEGIN|END) SOLUTION", "", c.source)
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def make_submission(name: str, replace: dict[str, str] | None = None, solved: bool = True) -> nbformat.NotebookNode:
    """The released notebook as a student would hand it in: every solution cell filled
    with the reference solution (if `solved`), then the cells in `replace` overwritten."""
    nb = copy.deepcopy(nbformat.read(release_path(name), as_version=4))
    answers = solution_sources(name) if solved else {}
    answers.update(replace or {})
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return nb


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the whole book strictly, as `make book` does (from the committed exercises/,
    which test_release checks are up to date); return the HTML folder."""
    proc = subprocess.run([str(BIN / "jupyter-book"), "build", ".", "-W", "-n", "--keep-going"],
                          cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"the book does not build strictly:\n{proc.stdout[-6000:]}\n{proc.stderr[-4000:]}")
    return ROOT / "_build" / "html"


def graded_functions(name: str) -> list[registry.GradedFunction]:
    return registry.assignments()[name]
