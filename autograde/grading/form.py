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
import os
import stat
import unicodedata
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


MAX_NOTEBOOK_BYTES = 20 << 20
MAX_CELLS = 1000
MAX_FILES = 200


def invalid_student_id(student: str) -> str | None:
    """Why `student` cannot be a student id (None if it can): it names a folder, a
    gradebook row and a command-line argument."""
    if not student or student in (".", ".."):
        return "is empty or a dot name"
    if len(student) > 128:
        return "is longer than 128 characters"
    if any(c in student for c in "/\\"):
        return "contains a path separator"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in student):
        return "contains a control character (a newline, tab or other invisible character)"
    if student.startswith(("-", ".")) or student != student.strip():
        return "starts with '-' or '.', or has leading or trailing spaces"
    return None


def submission_files(folder: Path) -> list[tuple[str, Path]]:
    """(relative path, path) of every entry of a submission folder, without following a
    link anywhere, sorted; at most MAX_FILES."""
    found = []
    if not folder.is_dir() or folder.is_symlink():
        return found
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints")
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(top, d))]:
            path = Path(top) / name
            found.append((path.relative_to(folder).as_posix(), path))
            if len(found) >= MAX_FILES:
                return sorted(found)
    return sorted(found)


def find_notebook(folder: Path, assignment: str) -> tuple[Path | None, list[str]]:
    """The submitted notebook and notes about the folder's other files. A link (symbolic
    or hard) or anything but a regular file is never taken as the notebook."""
    messages = []
    if not folder.is_dir() or folder.is_symlink():
        return None, [f"no submission folder {folder.name}/"]
    entries = submission_files(folder)
    refused = []
    regular = {}
    for rel, path in entries:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            refused.append(f"{rel} ({'a link' if stat.S_ISLNK(st.st_mode) else 'not a regular file'})")
        elif st.st_nlink > 1:
            refused.append(f"{rel} (a hard link)")
        else:
            regular[rel] = path
    if refused:
        messages.append(f"refused, never opened: {', '.join(refused[:10])}"
                        + (f" and {len(refused) - 10} more" if len(refused) > 10 else ""))
    notebooks = [rel for rel in regular if rel.endswith(".ipynb")]
    others = [rel for rel in regular if not rel.endswith(".ipynb")]
    if others:
        messages.append(f"extra files were ignored: {', '.join(others[:10])}"
                        + (f" and {len(others) - 10} more" if len(others) > 10 else ""))
    if f"{assignment}.ipynb" in regular:
        return regular[f"{assignment}.ipynb"], messages
    if len(notebooks) == 1:
        messages.append(f"the notebook was renamed to {notebooks[0]}; it was graded as {assignment}.ipynb")
        return regular[notebooks[0]], messages
    found = ", ".join(notebooks) or "none"
    return None, messages + [f"no notebook {assignment}.ipynb in the submission (notebooks found: {found})"]


def read_notebook(path: Path) -> Form:
    from .records import read_regular

    form = Form()
    try:
        raw = read_regular(path, MAX_NOTEBOOK_BYTES)
    except ValueError as exc:
        form.fatal = f"{path.name} cannot be graded: {exc} (a notebook may be at most {MAX_NOTEBOOK_BYTES >> 20} MiB)"
        return form
    except OSError as exc:
        form.fatal = f"{path.name} cannot be read: {exc.strerror or exc}"
        return form
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        form.fatal = (f"{path.name} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                      f"it cannot be a notebook")
        return form
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f"line {exc.lineno}, column {exc.colno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) \
            else "nested too deeply"
        form.fatal = f"{path.name} is not valid JSON ({where}); is it corrupted?"
        return form
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        form.fatal = f"{path.name} is JSON but not a notebook (no cells)"
        return form
    n_cells = len(data["cells"]) if isinstance(data.get("cells"), list) else 0
    if n_cells > MAX_CELLS:
        form.fatal = f"{path.name} has {n_cells} cells; a notebook may have at most {MAX_CELLS}"
        return form
    version = data.get("nbformat")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for malformed notebooks
        form.fatal = f"{path.name} is not a readable notebook (nbformat {version}): {str(exc)[:300]}"
        return form
    if version != 4:
        form.messages.append(f"{path.name} was in notebook format {version}; it was converted to format 4")
    form.notebook = nb
    return form


def _cells(ids: list[str], shown: int = 5) -> str:
    """'cell a', 'cells a, b and c', or 'cells a, b, c, d, e and 18 more'."""
    if len(ids) == 1:
        return f"cell {ids[0]}"
    if len(ids) <= shown:
        return f"cells {', '.join(ids[:-1])} and {ids[-1]}"
    return f"cells {', '.join(ids[:shown])} and {len(ids) - shown} more"


def _same(a, b) -> bool:
    return a.get("cell_type") == b.get("cell_type") and a.get("source", "").strip() == b.get("source", "").strip()


def rebuild(student: nbformat.NotebookNode, source: nbformat.NotebookNode,
            released: nbformat.NotebookNode, instructor: nbformat.NotebookNode | None = None) -> Form:
    """The notebook to run: `source` (the instructor's) with the student's answers.
    `instructor`: the instructor's notebook as written (hidden seeds included), if
    `source` is a version of it: a locked cell as written there is the instructor's own
    (the solution notebook graded as a submission), not an edit."""
    form = Form()
    own = {_nbgrader(c)["grade_id"]: c for c in (instructor or source).cells if _nbgrader(c).get("grade_id")}
    src_cells = {_nbgrader(c)["grade_id"]: c for c in source.cells if _nbgrader(c).get("grade_id")}
    rel_cells = {_nbgrader(c)["grade_id"]: c for c in released.cells if _nbgrader(c).get("grade_id")}
    order = [_nbgrader(c)["grade_id"] for c in source.cells if _nbgrader(c).get("grade_id")]
    out: list = []
    seen: set[str] = set()
    edited: list[str] = []  # cells whose nbgrader metadata differs from the released notebook's
    as_source: list[str] = []

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
        if claimed == _nbgrader(src) and "checksum" not in meta:
            as_source.append(gid)  # the instructor's own source (solution) notebook's metadata
        elif claimed != trusted or meta.get("checksum", _nbgrader(rel).get("checksum")) != _nbgrader(rel).get("checksum"):
            edited.append(gid)
        if cell.get("cell_type") != src.get("cell_type"):
            form.tampering.append(f"cell {gid} was changed from {src.cell_type} to {cell.get('cell_type')}")
        if is_answer:
            answer = copy.deepcopy(src)
            answer.source = cell.get("source", "") if cell.get("cell_type") == src.cell_type else rel.source
            answer.outputs = [] if answer.cell_type == "code" else answer.get("outputs", [])
            out.append(answer)
        else:
            if not _same(cell, rel) and not _same(cell, own.get(gid, src)):  # the source shows hidden tests
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

    if edited:
        form.tampering.append(f"the nbgrader metadata of {_cells(edited)} was edited")
    if as_source and not edited and len(as_source) == len(seen & set(rel_cells)):
        form.messages.append("this notebook carries the metadata of the instructor's source notebook "
                             "(a solution notebook, not the released one); it was graded as usual")
    elif as_source:
        form.tampering.append(f"the nbgrader metadata of {_cells(as_source)} was replaced by the source "
                              "notebook's")
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
