"""Hold one assignment as the grader sees it, and each submission's key (when to grade it again)."""
from __future__ import annotations

import copy
import hashlib
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import nbformat

import autograde

from .. import chapters
from . import form as forms
from . import records
from .score import CellScore, expected_checks, without_seeds


@dataclass(frozen=True)
class Assignment:
    name: str
    source: nbformat.NotebookNode  # the instructor's notebook, hidden tests included
    released: nbformat.NotebookNode

    @property
    def grade_cells(self) -> list:
        return [c for c in self.source.cells if c.metadata.get("nbgrader", {}).get("grade")]

    def hidden_checks(self) -> dict[str, int]:
        """Function -> the instructor's base seed of its hidden cases."""
        return dict(sorted({(e.function, e.seed) for c in self.grade_cells for e in expected_checks(c.source)
                            if e.kind == "hidden"}))

    @cached_property
    def sandbox_source(self) -> nbformat.NotebookNode:
        """The instructor's notebook as the sandbox runs it: no hidden seed anywhere."""
        nb = copy.deepcopy(self.source)
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
                cell.source = without_seeds(cell.source)
        return nb

    @cached_property
    def functions(self) -> dict[str, int]:
        """The assignment's graded functions -> their number of outputs."""
        return {fn.name: len(fn.outputs) for fn in chapters.assignments().get(self.name, [])}

    def seeds_for(self, key: str) -> dict[str, int]:
        """The seed of each function's hidden cases for the submission with this key:
        derived from the instructor's seed and the submission, so the same submission
        always meets the same cases, and a changed one meets new ones (hidden inputs seen
        in one submission's feedback are no help to the next)."""
        return {name: int.from_bytes(hashlib.sha256(f"{seed}|{key}|{self.digest}".encode()).digest()[:6], "big")
                for name, seed in self.hidden_checks().items()}

    @cached_property
    def torch(self) -> bool:
        """The assignment declares that its sandbox may import PyTorch."""
        return "torch" in chapters.sandbox_imports(self.name)

    @cached_property
    def digest(self) -> str:
        return hashlib.sha256(nbformat.writes(self.source).encode()).hexdigest()[:16]


def submission_key(folder: Path, assignment: Assignment, sandboxed: bool) -> str:
    h = hashlib.sha256(f"{autograde.__version__}|{assignment.digest}|{sandboxed}".encode())
    for rel, path in forms.submission_files(folder):
        h.update(rel.encode())
        try:
            h.update(records.read_regular(path, forms.MAX_NOTEBOOK_BYTES))
        except (OSError, ValueError) as exc:
            h.update(f"unreadable: {exc}".encode())
    return h.hexdigest()[:24]


def blank_cells(assignment: Assignment, message: str) -> list[dict]:
    return [asdict(CellScore(c.metadata.nbgrader["grade_id"], 0.0, float(c.metadata.nbgrader["points"]),
                             False, False, message)) for c in assignment.grade_cells]
