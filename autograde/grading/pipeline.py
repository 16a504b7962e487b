"""Grade every submission of an assignment: isolated, trusted, fault-tolerant, parallel.

One submission goes through small stages, each a function of its own:
    prepare        find_notebook / read_notebook / rebuild (form.py: take in, check the form)
    run_sandboxed  (sandbox.py + runner.py: run in isolation; here, or on a Dask worker:
                   cluster.py)
    finish         score_cell (score.py + trusted.py: compare again outside)
and ends as a `Result`, written atomically to autograded/<student>/<assignment>/result.json
beside the executed notebook. Submissions run concurrently, one sandbox each; only
the main process writes the gradebook, after each result, so a run killed at any
moment and started again reuses every finished result (same submission, same source,
same version) and grades only the rest, with no duplicate.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import nbformat

import autograde

from .. import chapters
from ..kernel import cases, record
from . import form as forms
from . import records, references, sandbox
from .score import CellScore, expected_checks, function_of, note_cascades, score_cell, without_seeds
from .trusted import rescore

RESULT = "result.json"
_REFERENCES = ThreadPoolExecutor(max_workers=1, thread_name_prefix="references")


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


def _blank_cells(assignment: Assignment, message: str) -> list[dict]:
    return [asdict(CellScore(c.metadata.nbgrader["grade_id"], 0.0, float(c.metadata.nbgrader["points"]),
                             False, False, message)) for c in assignment.grade_cells]


def _read_json(path: Path, cap: int) -> dict:
    data = json.loads(records.read_regular(path, cap))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def run_sandboxed(nb: nbformat.NotebookNode, work: Path, uid: int, limits: sandbox.Limits,
                  sandboxed: bool, site: Path, hidden_inputs: bytes | None = None,
                  functions: dict[str, int] | None = None, torch: bool = False
                  ) -> tuple[nbformat.NotebookNode | None, dict, records.Records, float, list[str]]:
    """Execute `nb` in a fresh sandbox whose work folder is `work` (made here, private to
    `uid`, size-capped). `hidden_inputs`: the hidden cases' inputs as an .npz file's bytes
    (`references.hidden_inputs_npz`: never a seed, never an answer). Returns (executed
    notebook or None, runner status, the checks' records, wall seconds, notes). Everything
    read back is hostile input: regular files only, size-capped, never followed as links.
    Needs no chapter and no PyTorch, so a cluster worker runs it too (cluster.py)."""
    notes = []
    note = sandbox.make_workdir(work, uid, limits)
    if note:
        notes.append(note)
    src, dst, status_path = work / "submission.ipynb", work / "executed.ipynb", work / "status.json"
    nbformat.write(nb, src)
    python = sandbox.sandbox_python(torch=torch)  # torch: the assignment declares it needs PyTorch
    env = {"PATH": f"{python.parent}:/usr/bin:/bin", "HOME": str(work), "PYTHONPATH": str(sandbox.SITE),
           "JUPYTER_RUNTIME_DIR": str(work / ".runtime"), "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "PYTHONWARNINGS": "ignore", "PYTHONDONTWRITEBYTECODE": "1", record.ENV: str(work / ".records")}
    if hidden_inputs:
        (work / "hidden-inputs.npz").write_bytes(hidden_inputs)
        env[cases.HIDDEN_ENV] = str(work / "hidden-inputs.npz")
    argv = [str(python), str(sandbox.SITE / "rnn_runner.py"), str(src), str(dst), str(status_path),
            f"--cell-timeout={limits.cell_timeout}", f"--max-output={limits.output_bytes}"]
    cmd = sandbox.command(argv, work, uid, limits, env, sandboxed=sandboxed, site=site, python=python)
    if not sandboxed:  # no bwrap to show the staged package at its place: point at it directly
        cmd = [c.replace(str(sandbox.SITE), str(site)) for c in cmd]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errfile:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errfile,
                                start_new_session=True)
        exited = os.pidfd_open(proc.pid)  # readable once it exits, before it is reaped
        try:
            wall_limit = not select.select([exited], [], [], limits.wall_seconds)[0]
            try:  # and whatever the notebook started and left running (unsandboxed, no pid
                os.killpg(proc.pid, 9)  # namespace ends it); the unreaped leader keeps the id ours
            except (ProcessLookupError, PermissionError):
                pass
        finally:
            os.close(exited)
        proc.wait()
        errfile.seek(0, 2)
        errfile.seek(max(0, errfile.tell() - 2000))
        err = errfile.read().decode(errors="replace")
    wall = time.perf_counter() - start
    try:
        status = _read_json(status_path, 4 << 20)
    except (OSError, ValueError) as exc:
        status = {"runner_error": err[-2000:] or f"no status ({exc})"}
    if wall_limit:
        status["wall_limit"] = True
    executed = None
    try:
        executed = nbformat.reads(records.read_regular(dst, limits.notebook_bytes).decode("utf-8"), as_version=4)
    except Exception:  # noqa: BLE001 - missing, cut short, replaced or too big: nothing ran to be read
        executed = None
    recorded = records.read(work / ".records", functions or {})
    return executed, status, recorded, wall, notes


@dataclass
class Prepared:
    """A submission ready to run: the notebook the sandbox executes (the student's answers
    in the instructor's frame, no hidden seed) and, for the grader only, the seeds of its
    hidden cases."""
    notebook: nbformat.NotebookNode
    seeds: dict[str, int]


def prepare(folder: Path, student: str, key: str, assignment: Assignment, sandboxed: bool
            ) -> tuple[Result, Prepared | None]:
    """Take in one submission and check its form (`key` from `submission_key`): its
    result so far, and what to run (None when nothing can run: the result is final)."""
    result = Result(student, assignment.name, key, sandboxed=sandboxed)
    if not sandboxed:
        result.flags.append("unsandboxed")
    path, notes = forms.find_notebook(folder, assignment.name)
    result.messages += notes
    if path is None:
        result.cells = _blank_cells(assignment, "not graded: no notebook")
        result.flags.append("missing notebook")
        return result, None
    read = forms.read_notebook(path)
    result.messages += read.messages
    if read.fatal:
        result.messages.append(read.fatal)
        result.cells = _blank_cells(assignment, "not graded: " + read.fatal)
        result.flags.append("unreadable notebook")
        return result, None
    built = forms.rebuild(read.notebook, assignment.sandbox_source, assignment.released, assignment.source)
    result.messages += built.messages
    if built.tampering:
        result.flags.append("suspected tampering")
        result.messages += [f"suspected tampering: {t}" for t in built.tampering]
    return result, Prepared(built.notebook, assignment.seeds_for(key))


def grade_one(folder: Path, student: str, key: str, assignment: Assignment, uid: int, limits: sandbox.Limits,
              sandboxed: bool, scratch: Path) -> tuple[Result, nbformat.NotebookNode | None]:
    """Grade one submission on this machine (`key` from `submission_key`): its result,
    and the executed notebook (None if nothing ran)."""
    result, prepared = prepare(folder, student, key, assignment, sandboxed)
    if prepared is None:
        return result, None
    work = scratch / f"slot-{uid}-{key[:12]}"
    # The hidden references are computed while the sandbox runs (torch releases the GIL).
    expected = [_REFERENCES.submit(references.trusted_hidden, name, seed) for name, seed in prepared.seeds.items()]
    try:
        ran = run_sandboxed(prepared.notebook, work, uid, limits, sandboxed, scratch / "site",
                            references.hidden_inputs_npz(prepared.seeds), assignment.functions,
                            torch=assignment.torch)
    finally:  # the work folder holds this submission's hidden inputs: gone as soon as it is read
        sandbox.release_mounts(work)
        shutil.rmtree(work, ignore_errors=True)
    for future in expected:
        future.result()
    return finish(result, prepared, *ran, assignment=assignment, limits=limits)


def finish(result: Result, prepared: Prepared, executed: nbformat.NotebookNode | None, status: dict,
           recorded: records.Records, wall: float, notes: list[str], assignment: Assignment,
           limits: sandbox.Limits) -> tuple[Result, nbformat.NotebookNode]:
    """Score what a sandbox run gave back (on this machine or a cluster worker: hostile
    input either way) with the trusted comparison: the result, and the executed notebook
    as the grader built it with the run's outputs."""
    result.messages += notes + recorded.problems
    status = _sane_status(status, len(prepared.notebook.cells))
    result.seconds = {"wall": round(wall, 3), "kernel_start": round(status["kernel_start_seconds"], 3),
                      "cells": round(sum(status["cells"].values()), 3)}
    executed = _outputs_onto(prepared.notebook, executed)
    if status["wall_limit"]:
        last = max(status["cells"], default=None)
        where = _next_code_cell(prepared.notebook, -1 if last is None else last) \
            if status["kernel_start_seconds"] else "start-up"
        result.messages.append(f"the run was stopped at the wall time limit ({limits.wall_seconds} s) while "
                               f"running {where}; tests after it did not run")
        result.flags.append("timeout")
    elif not status["cells"] and status.get("runner_error"):
        result.messages.append("the grading run failed: " + str(status["runner_error"])[-300:])
        result.flags.append("crash")
    died_at = status["died_at"]
    if died_at is not None and died_at in status["timeouts"] and not status["wall_limit"]:
        result.messages.append(f"{_cell_name(prepared.notebook, died_at)} ran past the cell time limit "
                               f"({limits.cell_timeout} s) and did not stop when interrupted, so it was "
                               f"stopped; tests after it did not run")
    elif died_at is None and not status["wall_limit"] and status["cells"] and not status["finished"]:
        result.messages.append(f"the run stopped after {_cell_name(prepared.notebook, max(status['cells']))}: "
                               f"the notebook ended the process that ran it; tests after it did not run")
        result.flags.append("crash")
    elif died_at is not None and status["framing"] and not status["wall_limit"]:
        result.messages.append(f"{_cell_name(prepared.notebook, died_at)} wrote bytes into the grader's "
                               f"message pipe that no output makes (outside its framing), so its kernel "
                               f"was stopped; tests after it did not run")
        result.flags.append("crash")
    elif died_at is not None and not status["wall_limit"]:
        result.messages.append(f"the kernel died while running {_cell_name(prepared.notebook, died_at)} (a crash, "
                               f"os._exit or the memory limit); tests after it did not run")
        result.flags.append("crash")
    if status["timeouts"]:
        result.flags.append("timeout")
    if status["exhausted"]:
        result.messages.append(f"the notebook ran out of {status['exhausted']['what']} while running "
                               f"{_cell_name(prepared.notebook, status['exhausted']['cell'])}")
        result.flags.append("resource exhausted")
    verdicts = rescore(recorded.records, prepared.seeds)
    sources = {c.metadata.nbgrader["grade_id"]: c.source for c in assignment.grade_cells}
    for index, cell in enumerate(executed.cells):
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or meta.get("grade_id") not in sources:
            continue
        ran = index in status["cells"] and index != died_at
        exhausted = status["exhausted"]["what"] if status["exhausted"] and status["exhausted"]["cell"] <= index \
            else None
        cs = score_cell(meta["grade_id"], float(meta["points"]), sources[meta["grade_id"]], cell,
                        ran=ran, timed_out=index in status["timeouts"], verdicts=verdicts, exhausted=exhausted,
                        not_run="the wall time limit stopped the run" if status["wall_limit"] else
                        "a cell before it ran past the time limit and was stopped"
                        if died_at in status["timeouts"] else "the kernel had died")
        result.cells.append(asdict(cs))
        if cs.disagree and "suspected tampering" not in result.flags:
            result.flags.append("suspected tampering")
    note_cascades(result.cells)
    return result, executed


def _next_code_cell(nb: nbformat.NotebookNode, last: int) -> str:
    """The code cell that runs after cell `last` (the one running when the run stopped)."""
    following = [i for i in range(last + 1, len(nb.cells)) if nb.cells[i].cell_type == "code"]
    return _cell_name(nb, following[0]) if following else "the end of the notebook"


def _cell_name(nb: nbformat.NotebookNode, index: int) -> str:
    """A cell as the student can find it: its grade id, or for a cell of the student's own
    "your cell after <the nearest grade id above it>"."""
    if not 0 <= index < len(nb.cells):
        return "start-up"
    gid = nb.cells[index].metadata.get("nbgrader", {}).get("grade_id")
    if gid:
        return gid
    above = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells[:index]]
    above = [g for g in above if g]
    return f"your cell after {above[-1]}" if above else f"your cell {index + 1} (before the first graded cell)"


def _sane_status(raw: dict, n_cells: int) -> dict:
    """The runner's status, which the sandbox could have rewritten: only well-formed
    fields are kept, anything else reads as "did not run"."""
    def index(v):
        return v if isinstance(v, int) and not isinstance(v, bool) and -1 <= v < n_cells else None

    cells = raw.get("cells") if isinstance(raw.get("cells"), dict) else {}
    ran = {}
    for k, v in list(cells.items())[:n_cells]:
        i = index(int(k)) if isinstance(k, str) and k.isdigit() else None
        if i is not None and isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1e6:
            ran[i] = float(v)
    timeouts = {index(v) for v in raw.get("timeouts", [])[:n_cells]} - {None} \
        if isinstance(raw.get("timeouts"), list) else set()
    exhausted = raw.get("exhausted")
    if not (isinstance(exhausted, dict) and index(exhausted.get("cell")) is not None
            and exhausted.get("what") in ("open files", "processes or threads", "disk space")):
        exhausted = None
    start = raw.get("kernel_start_seconds")
    return {"cells": ran, "timeouts": timeouts, "died_at": index(raw.get("died_at")),
            "wall_limit": raw.get("wall_limit") is True, "exhausted": exhausted,
            "kernel_start_seconds": float(start) if isinstance(start, (int, float)) and 0 <= start < 1e6 else 0.0,
            "runner_error": raw.get("runner_error"), "finished": raw.get("finished") is True,
            "framing": raw.get("framing") is True}


def _outputs_onto(built: nbformat.NotebookNode, executed: nbformat.NotebookNode | None) -> nbformat.NotebookNode:
    """The notebook that ran, as the grader built it, with each code cell's outputs taken
    from the executed notebook the sandbox wrote back (only where that cell is still the
    same cell): the sandbox cannot add, drop or relabel cells."""
    nb = copy.deepcopy(built)
    if executed is None or not isinstance(getattr(executed, "cells", None), list):
        return nb
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or i >= len(executed.cells):
            continue
        other = executed.cells[i]
        if other.get("cell_type") == "code" and other.get("source") == cell.source:
            outputs = other.get("outputs", [])
            cell.outputs = outputs if isinstance(outputs, list) else []
            cell.execution_count = other.get("execution_count") if isinstance(other.get("execution_count"),
                                                                                int) else None
    return nb


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
    folder = course_dir / "autograded" / result.student / result.assignment
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
    path = course_dir / "autograded" / student / assignment / RESULT
    try:
        return Result(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def gradebook_rows(db: Path, sql: str, params: tuple) -> list | None:
    """The rows of a read-only query of nbgrader's gradebook, read with sqlite alone
    (cheaper than starting nbgrader's API); None if there is no gradebook to read."""
    import sqlite3

    if not db.is_file():
        return None
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            return con.execute(sql, params).fetchall()
    except sqlite3.Error:
        return None


def in_gradebook(db_url: str, result: Result) -> bool:
    """Whether the gradebook already holds exactly this result (its student, its
    submission, and each of its cells' auto score): a reused result is written again
    only if it is not there (a run killed between the result and the gradebook write),
    without starting nbgrader's API for every student."""
    if not db_url.startswith("sqlite:///"):
        return False
    rows = gradebook_rows(
        Path(db_url[len("sqlite:///"):]),
        "select base_cell.name, grade.auto_score from grade "
        "join base_cell on base_cell.id = grade.cell_id "
        "join submitted_notebook on submitted_notebook.id = grade.notebook_id "
        "join notebook on notebook.id = submitted_notebook.notebook_id "
        "join submitted_assignment on submitted_assignment.id = submitted_notebook.assignment_id "
        "join assignment on assignment.id = submitted_assignment.assignment_id "
        "where submitted_assignment.student_id = ? and assignment.name = ? and notebook.name = ? "
        "and base_cell.type = 'GradeCell'",
        (result.student, result.assignment, result.assignment))
    if rows is None:
        return False
    held = dict(rows)
    return len(held) == len(rows) and all(c["grade_id"] in held and held[c["grade_id"]] == c["points"]
                                          for c in result.cells)


def record_in_gradebook(db_url: str, result: Result) -> None:
    import warnings

    from nbgrader.api import Gradebook

    with warnings.catch_warnings(), Gradebook(db_url) as gb:
        warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy warnings, not ours to fix
        gb.update_or_create_student(result.student)
        gb.update_or_create_submission(result.assignment, result.student)
        for cell in result.cells:
            grade = gb.find_grade(cell["grade_id"], result.assignment, result.assignment, result.student)
            grade.auto_score = cell["points"]
        gb.db.commit()


class Progress:
    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.done, self.start, self.stream = total, 0, time.perf_counter(), stream
        self.tty = stream.isatty()

    def stage(self, note: str) -> None:
        """Say what is under way before the first submission ends (sandboxes starting,
        the references importing): the bar is never silent for the first seconds."""
        self._show(note, "   ?")

    def update(self, note: str) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.start
        self._show(note, f"{elapsed / self.done * (self.total - self.done):4.0f}")

    def _show(self, note: str, eta: str) -> None:
        elapsed = time.perf_counter() - self.start
        width = 24
        bar = "#" * round(width * self.done / max(1, self.total))
        line = (f"[{bar:<{width}}] {self.done}/{self.total}  {elapsed:5.0f}s elapsed  "
                f"eta {eta}s  {note}")
        self.stream.write(("\r" + line[:120].ljust(120)) if self.tty else line + "\n")
        if self.tty and self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def _import_for_after_grading() -> None:
    """What the gradebook write and the feedback pages import (nbgrader's API, its
    converters, nbconvert), imported while the first sandboxes run, not after them."""
    import nbgrader.api  # noqa: F401
    import nbgrader.converters  # noqa: F401

    from . import feedback  # noqa: F401


def grade_all(course_dir: Path, assignment: Assignment, db_url: str, students: list[str] | None = None,
              jobs: int | None = None, limits: sandbox.Limits | None = None, sandboxed: bool = True,
              progress: bool = True, invalid: list | None = None, scheduler: str | None = None,
              on_result=None, on_todo=None) -> list[Result]:
    """Grade every submission (or `students`); returns the results of the valid student
    ids in order. Folders whose name is no valid student id are not graded: their
    results (with the reason) are appended to `invalid`, never to the gradebook.
    `scheduler` (tcp://HOST:PORT): run the sandboxes on that Dask cluster's workers
    (cluster.py); the trusted comparison and the gradebook stay here either way.
    `on_result(result)`: called for each submission graded in this run, once its result
    is saved and in the gradebook (course.grade makes its feedback page then);
    `on_todo()`: called once, before grading starts, if there is anything to grade."""
    invalid = invalid if invalid is not None else []
    limits = limits or sandbox.Limits()
    jobs = jobs or os.cpu_count() or 1
    submitted = course_dir / "submitted"
    names = list(students or sorted(p.name for p in submitted.iterdir() if p.is_dir() and not p.is_symlink()))
    results: dict[str, Result] = {}
    for student in [n for n in names if forms.invalid_student_id(n)]:
        names.remove(student)
        why = forms.invalid_student_id(student)
        result = Result(student, assignment.name, "", messages=[f"not graded: the student id {student!r} {why}; "
                                                                f"rename the folder submitted/{student!r}"],
                        flags=["invalid student id"])
        result.cells = _blank_cells(assignment, "not graded: invalid student id")
        invalid.append(result)
    keys = {s: submission_key(submitted / s / assignment.name, assignment, sandboxed) for s in names}
    todo = []
    for student in names:
        old = load(course_dir, student, assignment.name)
        if old is not None and old.key == keys[student]:
            results[student] = old  # finished in an earlier run: record again, do not regrade
        else:
            todo.append(student)
    for result in results.values():
        if not in_gradebook(db_url, result):
            record_in_gradebook(db_url, result)
    bar = Progress(len(todo)) if progress and todo else None
    if bar:
        where = "on the Dask cluster's workers" if scheduler else f"in {min(jobs, len(todo))} sandboxes at once"
        bar.stage(f"grading {len(todo)} submission{'s' if len(todo) != 1 else ''} {where}: the first "
                  f"ends in a few seconds")
    if todo:  # imported while the first sandboxes run, not after them
        if on_todo is not None:
            on_todo()
        _REFERENCES.submit(chapters.load)  # the references' PyTorch
        threading.Thread(target=_import_for_after_grading, daemon=True).start()
    if scheduler:
        from . import cluster

        graded = cluster.grade(scheduler, todo, submitted, keys, assignment, limits, sandboxed)
    else:
        graded = _grade_here(todo, submitted, keys, assignment, limits, sandboxed, jobs)
    for result, executed in graded:  # one writer: this process, one result at a time
        save(result, executed, course_dir)
        record_in_gradebook(db_url, result)
        results[result.student] = result
        if on_result is not None:
            on_result(result)
        if bar:
            flags = f" [{', '.join(result.flags)}]" if result.flags else ""
            bar.update(f"{result.student}: {result.score:g}/{result.max_score:g}{flags}")
    return [results[s] for s in names]


def grading_error(student: str, assignment: Assignment, sandboxed: bool, why: str) -> Result:
    """The result of a submission the grader failed on (a defect, or no worker could run
    it): zero, loudly, and with no key, so the next run grades it again."""
    result = Result(student, assignment.name, "", sandboxed=sandboxed)
    result.cells = _blank_cells(assignment, f"grading error: {why}")
    result.messages.append(f"internal grading error: {why}")
    result.flags.append("grading error")
    return result


def _grade_here(todo: list[str], submitted: Path, keys: dict[str, str], assignment: Assignment,
                limits: sandbox.Limits, sandboxed: bool, jobs: int):
    """(result, executed notebook) of each student in `todo`, graded on this machine's
    cores, in the order they finish."""
    lock = threading.Lock()

    def work(student: str) -> tuple[Result, nbformat.NotebookNode | None]:
        with lock:
            uid = free_uids.pop()
        try:
            return grade_one(submitted / student / assignment.name, student, keys[student], assignment, uid, limits,
                             sandboxed, scratch)
        except Exception as exc:  # a defect here must cost this student only, loudly
            return grading_error(student, assignment, sandboxed, f"{type(exc).__name__}: {exc}"), None
        finally:
            with lock:
                free_uids.append(uid)

    if not todo:
        return
    jobs = min(jobs, len(todo))
    with sandbox.Scratch() as scratch, sandbox.UidClaim(jobs) as free_uids:
        sandbox.stage_site(scratch / "site")
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(work, s) for s in todo]
            for future in as_completed(futures):
                yield future.result()
