"""Keep each submission's result: the `Result`, saved beside its executed notebook and loaded back."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from .. import chapters
from .coursedir import RESULT, CourseDir
from .score import function_of


@dataclass
class Result:
    student: str
    assignment: str
    key: str
    cells: list[dict] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    seconds: dict = field(default_factory=dict)
    sandboxed: bool = True

    @property
    def score(self) -> float:
        return sum(c["points"] for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c["max_points"] for c in self.cells)


def notes_markdown(result: Result) -> str:
    """The grading notes a student reads at the top of their feedback."""
    from html import escape

    lines = [f"## Grading notes: {result.score:g} / {result.max_score:g} points", ""]
    lines += [f"- {escape(m)}" for m in result.messages]
    if result.messages:
        lines.append("")
    lines += ["| test | points | result |", "|---|---|---|"]
    diagnosed = {}
    for c in result.cells:
        lines.append(f"| {c['grade_id']} | {c['points']:g} / {c['max_points']:g} | "
                     f"{escape(c['message']).replace('|', '&#124;').replace(chr(10), ' ')} |")
        if c.get("diagnosis"):
            diagnosed.setdefault((function_of(c["grade_id"]), c["diagnosis"]), None)
    for function, key in diagnosed:
        m = chapters.known_mistake(function, key)
        lines += ["", f"**{escape(function)}: {escape(m.title)}.** {escape(m.explanation)}"]
    return "\n".join(lines)


def save(result: Result, executed: nbformat.NotebookNode | None, course_dir: Path) -> None:
    """Write the executed notebook (with the grading notes on top), then result.json."""
    folder = CourseDir(course_dir).autograded(result.student, result.assignment)
    folder.mkdir(parents=True, exist_ok=True)
    if executed is not None:
        executed.cells.insert(0, nbformat.v4.new_markdown_cell(notes_markdown(result), id="grading-notes"))
        tmp = folder / f".{result.assignment}.ipynb.tmp"
        nbformat.write(executed, tmp)
        os.replace(tmp, folder / f"{result.assignment}.ipynb")
    data = {k: v for k, v in asdict(result).items()}
    tmp = folder / f".{RESULT}.tmp"
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, folder / RESULT)  # written last: its presence means "done"


def load(course_dir: Path, student: str, assignment: str) -> Result | None:
    path = CourseDir(course_dir).result(student, assignment)
    try:
        return Result(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
