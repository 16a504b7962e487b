"""Grade every submission of an assignment: isolated, trusted, fault-tolerant, parallel.

One submission goes through small stages, each a function of its own:
    find_notebook / read_notebook / rebuild   (form.py: take in, check the form)
    run_sandboxed                             (sandbox.py + runner.py: run in isolation)
    score_cell                                (score.py + trusted.py: compare again outside)
and ends as a `Result`, written atomically to autograded/<student>/<assignment>/result.json
beside the executed notebook. Submissions run concurrently, one sandbox each; only
the main process writes the gradebook, after each result, so a run killed at any
moment and started again reuses every finished result (same submission, same source,
same version) and grades only the rest, with no duplicate.
"""
from __future__ import annotations

import hashlib
import json
import os
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

from . import cases, mistakes, record, sandbox
from . import form as forms
from .score import CellScore, expected_checks, function_of, score_cell
from .trusted import rescore

RESULT = "result.json"


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

    def hidden_checks(self) -> list[tuple[str, int]]:
        return sorted({(e.function, e.seed) for c in self.grade_cells for e in expected_checks(c.source)
                       if e.kind == "hidden"})

    @cached_property
    def digest(self) -> str:
        return hashlib.sha256(nbformat.writes(self.source).encode()).hexdigest()[:16]


def submission_key(folder: Path, assignment: Assignment, sandboxed: bool) -> str:
    h = hashlib.sha256(f"{autograde.__version__}|{assignment.digest}|{sandboxed}".encode())
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                h.update(path.relative_to(folder).as_posix().encode())
                h.update(path.read_bytes())
    return h.hexdigest()[:24]


def _blank_cells(assignment: Assignment, message: str) -> list[dict]:
    return [asdict(CellScore(c.metadata.nbgrader["grade_id"], 0.0, float(c.metadata.nbgrader["points"]),
                             False, False, message)) for c in assignment.grade_cells]


def run_sandboxed(nb: nbformat.NotebookNode, work: Path, uid: int, limits: sandbox.Limits,
                  sandboxed: bool, cases_file: Path | None = None
                  ) -> tuple[nbformat.NotebookNode | None, dict, list, float]:
    """Execute `nb` in a fresh sandbox. Returns (executed notebook or None, runner
    status, the checks' recorded verdicts, wall seconds). `cases_file` holds the hidden
    cases' expected outputs for the kernel's own (advisory) checks."""
    work.mkdir(parents=True)
    src, dst, status_path = work / "submission.ipynb", work / "executed.ipynb", work / "status.json"
    nbformat.write(nb, src)
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(work),
           "JUPYTER_RUNTIME_DIR": str(work / ".runtime"), "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore",
           record.ENV: str(work / ".records")}
    if cases_file is not None:
        shutil.copy2(cases_file, work / "hidden-cases.npz")
        env[cases.PRECOMPUTED_ENV] = str(work / "hidden-cases.npz")
    argv = [sys.executable, "-m", "autograde.runner", str(src), str(dst), str(status_path),
            f"--cell-timeout={limits.cell_timeout}", f"--max-output={limits.output_bytes}"]
    cmd = sandbox.command(argv, work, uid, limits, env, sandboxed=sandboxed)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        _, err = proc.communicate()
        err = (err or b"") + b"\n[wall time limit reached]"
    wall = time.perf_counter() - start
    status = {}
    try:
        status = json.loads(status_path.read_text())
    except (OSError, ValueError):
        status = {"runner_error": err.decode(errors="replace")[-2000:] if err else "no status"}
    if b"[wall time limit reached]" in (err or b""):
        status["wall_limit"] = True
    executed = None
    try:
        executed = nbformat.read(dst, as_version=4)
    except Exception:  # missing or cut short: the runner was killed
        executed = None
    recorded = []
    try:
        recorded = record.read(work / ".records")
    except Exception:  # a submission may have written garbage there: nothing trusted from it
        recorded = []
    return executed, status, recorded, wall


def grade_one(folder: Path, student: str, key: str, assignment: Assignment, uid: int, limits: sandbox.Limits,
              sandboxed: bool, scratch: Path, cases_file: Path | None = None
              ) -> tuple[Result, nbformat.NotebookNode | None]:
    """Grade one submission (`key` from `submission_key`): its result, and the executed
    notebook (None if nothing ran)."""
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
    built = forms.rebuild(read.notebook, assignment.source, assignment.released)
    result.messages += built.messages
    if built.tampering:
        result.flags.append("suspected tampering")
        result.messages += [f"suspected tampering: {t}" for t in built.tampering]

    work = scratch / f"{student}-{key[:8]}"
    if work.exists():
        shutil.rmtree(work)
    executed, status, recorded, wall = run_sandboxed(built.notebook, work, uid, limits, sandboxed, cases_file)
    result.seconds = {"wall": round(wall, 3),
                      "kernel_start": round(status.get("kernel_start_seconds") or 0.0, 3),
                      "cells": round(sum(status.get("cells", {}).values()), 3)}
    if executed is None:
        executed = built.notebook
        reason = "the grading run was stopped (wall time limit)" if status.get("wall_limit") else \
            "the grading run failed: " + str(status.get("runner_error", "unknown"))[-300:]
        result.messages.append(reason)
        result.flags.append("timeout" if status.get("wall_limit") else "crash")
    died_at = status.get("died_at")
    if died_at is not None:
        where = executed.cells[died_at].metadata.get("nbgrader", {}).get("grade_id", f"cell {died_at}") \
            if 0 <= died_at < len(executed.cells) else "start-up"
        result.messages.append(f"the kernel died while running {where} (a crash, os._exit or the memory "
                               f"limit); tests after it did not run")
        result.flags.append("crash")
    if status.get("timeouts"):
        result.flags.append("timeout")
    verdicts = rescore(recorded)
    finished_cells = {int(i) for i in status.get("cells", {})} if executed is not built.notebook else set()
    timeouts = set(status.get("timeouts", []))
    sources = {c.metadata.nbgrader["grade_id"]: c.source for c in assignment.grade_cells}
    for index, cell in enumerate(executed.cells):
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or meta.get("grade_id") not in sources:
            continue
        ran = index in finished_cells and index != died_at
        cs = score_cell(meta["grade_id"], float(meta["points"]), sources[meta["grade_id"]], cell,
                        ran=ran, timed_out=index in timeouts, verdicts=verdicts)
        result.cells.append(asdict(cs))
        if cs.disagree and "suspected tampering" not in result.flags:
            result.flags.append("suspected tampering")
    return result, executed


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
        m = mistakes.get(function, key)
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

    def update(self, note: str) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        width = 24
        bar = "#" * round(width * self.done / max(1, self.total))
        line = (f"[{bar:<{width}}] {self.done}/{self.total}  {elapsed:5.0f}s elapsed  "
                f"eta {eta:4.0f}s  {note}")
        self.stream.write(("\r" + line[:120].ljust(120)) if self.tty else line + "\n")
        if self.tty and self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def grade_all(course_dir: Path, assignment: Assignment, db_url: str, students: list[str] | None = None,
              jobs: int | None = None, limits: sandbox.Limits | None = None, sandboxed: bool = True,
              progress: bool = True) -> list[Result]:
    limits = limits or sandbox.Limits()
    jobs = jobs or os.cpu_count() or 1
    submitted = course_dir / "submitted"
    names = students or sorted(p.name for p in submitted.iterdir() if p.is_dir())
    results: dict[str, Result] = {}
    keys = {s: submission_key(submitted / s / assignment.name, assignment, sandboxed) for s in names}
    todo = []
    for student in names:
        old = load(course_dir, student, assignment.name)
        if old is not None and old.key == keys[student]:
            results[student] = old  # finished in an earlier run: record again, do not regrade
        else:
            todo.append(student)
    for result in results.values():
        record_in_gradebook(db_url, result)
    bar = Progress(len(todo)) if progress and todo else None
    lock = threading.Lock()

    def work(student: str) -> tuple[Result, nbformat.NotebookNode | None]:
        with lock:
            uid = free_uids.pop()
        try:
            return grade_one(submitted / student / assignment.name, student, keys[student], assignment, uid, limits,
                             sandboxed, scratch, cases_file)
        except Exception as exc:  # a defect here must cost this student only, loudly
            result = Result(student, assignment.name, "", sandboxed=sandboxed)  # "": regrade next run
            result.cells = _blank_cells(assignment, f"grading error: {type(exc).__name__}: {exc}")
            result.messages.append(f"internal grading error: {type(exc).__name__}: {exc}")
            result.flags.append("grading error")
            return result, None
        finally:
            with lock:
                free_uids.append(uid)

    with tempfile.TemporaryDirectory(prefix="rnn-grade-") as tmp, sandbox.UidClaim(jobs) as free_uids:
        scratch = Path(tmp)
        os.chmod(scratch, 0o755)
        cases_file = cases.write_precomputed(scratch / "hidden-cases.npz", assignment.hidden_checks()) \
            if todo else None
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(work, s): s for s in todo}
            for future in as_completed(futures):
                result, executed = future.result()
                save(result, executed, course_dir)
                record_in_gradebook(db_url, result)
                results[result.student] = result
                if bar:
                    flags = f" [{', '.join(result.flags)}]" if result.flags else ""
                    bar.update(f"{result.student}: {result.score:g}/{result.max_score:g}{flags}")
    return [results[s] for s in names]
