"""Make what a test grades: a student's notebook answered with the reference solution (or
with given cells), and the hidden cases' inputs as the sandbox is given them."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from autograde.grading.references import hidden_inputs_npz


def solution_code(root: Path, assignment: str) -> dict[str, str]:
    """grade_id -> the reference solution cell's code, without nbgrader's markers."""
    nb = nbformat.read(root / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return {c.metadata.nbgrader["grade_id"]: re.sub(r"\n?[ \t]*### (BEGIN|END) SOLUTION", "", c.source)
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def student_notebook(root: Path, assignment: str, replace: dict[str, str] | None = None,
                     solved: bool = True) -> nbformat.NotebookNode:
    """The released notebook as a student would hand it in: every solution cell filled
    with the reference solution (if `solved`), then the cells in `replace` overwritten.
    For testing the grading of an assignment."""
    nb = copy.deepcopy(nbformat.read(root / "exercises" / assignment / f"{assignment}.ipynb", as_version=4))
    answers = solution_code(root, assignment) if solved else {}
    answers.update(replace or {})
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return nb


def write_hidden_inputs(path: Path, seeds: dict[str, int]) -> Path:
    """The hidden cases' inputs of each function (made from its seed) as the sandbox is given them."""
    path.write_bytes(hidden_inputs_npz(seeds))
    return path
