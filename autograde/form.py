"""Take in one submission and check its form, before anything of it runs.

`find_notebook` locates the notebook in a student's folder (a renamed one is used
when it is the only one), `read_notebook` reads it however broken it is, and
`rebuild` makes the notebook that will run: the student's answers in the
instructor's frame. Locked cells and test cells always come from the instructor's
source (with the hidden tests); a deleted one is put back, a duplicated one dropped,
an edited one restored and reported as suspected tampering, like edited nbgrader
metadata, a changed cell type or kernel. Each finding is a sentence for the report.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat


@dataclass
class Form:
    notebook: nbformat.NotebookNode | None = None
    messages: list[str] = field(default_factory=list)
    tampering: list[str] = field(default_factory=list)
    fatal: str | None = None


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def find_notebook(folder: Path, assignment: str) -> tuple[Path | None, list[str]]:
    """The submitted notebook and notes about the folder's other files."""
    messages = []
    if not folder.is_dir():
        return None, [f"no submission folder {folder.name}/"]
    expected = folder / f"{assignment}.ipynb"
    notebooks = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    others = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                    if p.is_file() and p.suffix != ".ipynb" and ".ipynb_checkpoints" not in p.parts)
    if others:
        messages.append(f"extra files were ignored: {', '.join(others[:10])}"
                        + (f" and {len(others) - 10} more" if len(others) > 10 else ""))
    if expected.is_file():
        return expected, messages
    if len(notebooks) == 1:
        messages.append(f"the notebook was renamed to {notebooks[0].relative_to(folder).as_posix()}; "
                        f"it was graded as {assignment}.ipynb")
        return notebooks[0], messages
    found = ", ".join(p.relative_to(folder).as_posix() for p in notebooks) or "none"
    return None, messages + [f"no notebook {assignment}.ipynb in the submission (notebooks found: {found})"]


def read_notebook(path: Path) -> Form:
    form = Form()
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        form.fatal = (f"{path.name} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                      f"it cannot be a notebook")
        return form
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        form.fatal = f"{path.name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); is it corrupted?"
        return form
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        form.fatal = f"{path.name} is JSON but not a notebook (no cells)"
        return form
    version = data.get("nbformat")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for malformed notebooks
        form.fatal = f"{path.name} is not a readable notebook (nbformat {version}): {exc}"
        return form
    if version != 4:
        form.messages.append(f"{path.name} was in notebook format {version}; it was converted to format 4")
    form.notebook = nb
    return form


def _same(a, b) -> bool:
    return a.get("cell_type") == b.get("cell_type") and a.get("source", "").strip() == b.get("source", "").strip()


def rebuild(student: nbformat.NotebookNode, source: nbformat.NotebookNode,
            released: nbformat.NotebookNode) -> Form:
    """The notebook to run: `source` (the instructor's) with the student's answers."""
    form = Form()
    src_cells = {_nbgrader(c)["grade_id"]: c for c in source.cells if _nbgrader(c).get("grade_id")}
    rel_cells = {_nbgrader(c)["grade_id"]: c for c in released.cells if _nbgrader(c).get("grade_id")}
    order = [_nbgrader(c)["grade_id"] for c in source.cells if _nbgrader(c).get("grade_id")]
    out: list = []
    seen: set[str] = set()

    for cell in student.cells:
        meta = _nbgrader(cell)
        gid = meta.get("grade_id")
        if gid is None:
            out.append(cell)  # the student's own extra cell
            continue
        if gid not in src_cells:
            form.tampering.append(f"a cell carries an unknown nbgrader id {gid!r} (edited cell metadata)")
            plain = copy.deepcopy(cell)
            plain.metadata.pop("nbgrader", None)
            out.append(plain)
            continue
        src, rel = src_cells[gid], rel_cells.get(gid, src_cells[gid])
        is_answer = bool(_nbgrader(src).get("solution"))
        if gid in seen:
            if is_answer and cell.get("cell_type") == "code":
                plain = copy.deepcopy(cell)
                plain.metadata.pop("nbgrader", None)
                out.append(plain)
                form.messages.append(f"the cell {gid} appears twice; the copy runs as ordinary code after it")
            else:
                form.messages.append(f"a duplicate of the locked cell {gid} was dropped")
            continue
        seen.add(gid)
        trusted = {k: v for k, v in _nbgrader(rel).items() if k != "checksum"}
        claimed = {k: v for k, v in meta.items() if k != "checksum"}
        if claimed != trusted or meta.get("checksum", _nbgrader(rel).get("checksum")) != _nbgrader(rel).get("checksum"):
            form.tampering.append(f"the nbgrader metadata of cell {gid} was edited")
        if cell.get("cell_type") != src.get("cell_type"):
            form.tampering.append(f"cell {gid} was changed from {src.cell_type} to {cell.get('cell_type')}")
        if is_answer:
            answer = copy.deepcopy(src)
            answer.source = cell.get("source", "") if cell.get("cell_type") == src.cell_type else rel.source
            answer.outputs = [] if answer.cell_type == "code" else answer.get("outputs", [])
            out.append(answer)
        else:
            if not _same(cell, rel):
                form.tampering.append(f"the locked cell {gid} was edited; the original was restored")
            out.append(copy.deepcopy(src))

    for i, gid in enumerate(order):
        if gid in seen:
            continue
        src = src_cells[gid]
        if _nbgrader(src).get("solution"):
            form.messages.append(f"the answer cell {gid} was deleted; it is graded as unanswered")
            restored = copy.deepcopy(rel_cells.get(gid, src))
        else:
            form.messages.append(f"the cell {gid} was deleted; it was put back")
            restored = copy.deepcopy(src)
        before = {g for g in order[:i]}
        pos = 0
        for j, c in enumerate(out):
            if _nbgrader(c).get("grade_id") in before:
                pos = j + 1
        out.insert(pos, restored)
        seen.add(gid)

    if student.metadata.get("kernelspec", {}).get("name", "python3") != source.metadata.get("kernelspec", {}).get("name"):
        form.tampering.append(f"the notebook's kernel was changed to {student.metadata['kernelspec'].get('name')!r}")
    nb = copy.deepcopy(source)
    nb.cells = out
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"  # a duplicated cell repeats its id; ids must be unique
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    form.notebook = nb
    return form
