"""Grade every submission of an assignment: each prepared, run and finished, then saved and recorded.

One submission goes through small stages, each a function of its own:
    prepare        find_notebook / read_notebook / rebuild (form.py: take in, check the form)
    run            execute.run_sandboxed (sandbox.py + autograde/runner.py: run in isolation),
                   on this machine's cores (`LocalPool`) or on a Dask cluster's workers
                   (cluster.Cluster): the caller says which
    finish         score_cell (score.py + trusted.py: compare again outside)
and ends as a `Result` (results.py), written atomically to
autograded/<student>/<assignment>/result.json beside the executed notebook. Submissions
run concurrently, one sandbox each; one process writes the gradebook, one result at a
time after that result is saved (this one, or the page maker course.grade starts), so a
run killed at any moment and started again reuses every finished result (same
submission, same source, same version), records any the gradebook lacks, and grades
only the rest, with no duplicate.
"""
from __future__ import annotations

import copy
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from . import form as forms
from . import gradebook, references, sandbox
from .assignment import Assignment, blank_cells, submission_key
from .coursedir import CourseDir
from .execute import Given, Isolation, Run, Slot, run_sandboxed, sane_status
from .progress import Progress
from .results import Result, load, save
from .score import note_cascades, score_cell
from .trusted import rescore

_REFERENCES = ThreadPoolExecutor(max_workers=1, thread_name_prefix="references")


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
        result.cells = blank_cells(assignment, "not graded: no notebook")
        result.flags.append("missing notebook")
        return result, None
    read = forms.read_notebook(path)
    result.messages += read.messages
    if read.fatal:
        result.messages.append(read.fatal)
        result.cells = blank_cells(assignment, "not graded: " + read.fatal)
        result.flags.append("unreadable notebook")
        return result, None
    built = forms.rebuild(read.notebook, assignment.sandbox_source, assignment.released, assignment.source)
    result.messages += built.messages
    if built.tampering:
        result.flags.append("suspected tampering")
        result.messages += [f"suspected tampering: {t}" for t in built.tampering]
    return result, Prepared(built.notebook, assignment.seeds_for(key))


def grade_one(folder: Path, student: str, key: str, assignment: Assignment, isolation: Isolation, uid: int,
              scratch: Path) -> tuple[Result, nbformat.NotebookNode | None]:
    """Grade one submission on this machine (`key` from `submission_key`), in a sandbox
    running as `uid` in a work folder under `scratch`: its result, and the executed
    notebook (None if nothing ran)."""
    result, prepared = prepare(folder, student, key, assignment, isolation.sandboxed)
    if prepared is None:
        return result, None
    work = scratch / f"slot-{uid}-{key[:12]}"
    # The hidden references are computed while the sandbox runs (torch releases the GIL).
    expected = [_REFERENCES.submit(references.trusted_hidden, name, seed) for name, seed in prepared.seeds.items()]
    try:
        ran = run_sandboxed(prepared.notebook, Slot(work, uid, scratch / "site"), isolation,
                            Given(references.hidden_inputs_npz(prepared.seeds), assignment.functions,
                                  torch=assignment.torch))
    finally:  # the work folder holds this submission's hidden inputs: gone as soon as it is read
        sandbox.release_mounts(work)
        shutil.rmtree(work, ignore_errors=True)
    for future in expected:
        future.result()
    return finish(result, prepared, ran, assignment, isolation.limits)


def finish(result: Result, prepared: Prepared, ran: Run, assignment: Assignment, limits: sandbox.Limits
           ) -> tuple[Result, nbformat.NotebookNode]:
    """Score what a sandbox run gave back (on this machine or a cluster worker: hostile
    input either way) with the trusted comparison: the result, and the executed notebook
    as the grader built it with the run's outputs."""
    executed, status, recorded, wall, notes = ran
    result.messages += notes + recorded.problems
    status = sane_status(status, len(prepared.notebook.cells))
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


def grade_all(course_dir: Path, assignment: Assignment, pool=None, students: list[str] | None = None,
              isolation: Isolation | None = None, progress: bool = True, invalid: list | None = None,
              recorder=None) -> list[Result]:
    """Grade every submission (or `students`); returns the results of the valid student
    ids in order. Folders whose name is no valid student id are not graded: their
    results (with the reason) are appended to `invalid`, never to the gradebook.
    `pool`: where the sandboxes run, `LocalPool(jobs)` (the default: this machine's
    cores) or `cluster.Cluster(scheduler)` (a Dask cluster's workers); the trusted
    comparison and the gradebook stay here either way.
    `recorder`: records each result graded in this run in the gradebook, once it is
    saved: `recorder.start()` once before grading starts (if anything is to be graded),
    then `recorder.record(result)`; the default records in this process
    (gradebook.RecordHere); course.grade passes its page maker (pages.Pages), which
    records in its own process and then makes the student's feedback page."""
    invalid = invalid if invalid is not None else []
    isolation = isolation or Isolation()
    pool = pool or LocalPool()
    course = CourseDir(course_dir)
    db_url = course.gradebook_url
    submitted = course.submitted()
    names = list(students or sorted(p.name for p in submitted.iterdir() if p.is_dir() and not p.is_symlink()))
    results: dict[str, Result] = {}
    for student in [n for n in names if forms.invalid_student_id(n)]:
        names.remove(student)
        why = forms.invalid_student_id(student)
        result = Result(student, assignment.name, "", messages=[f"not graded: the student id {student!r} {why}; "
                                                                f"rename the folder submitted/{student!r}"],
                        flags=["invalid student id"])
        result.cells = blank_cells(assignment, "not graded: invalid student id")
        invalid.append(result)
    keys = {s: submission_key(course.submitted(s, assignment.name), assignment, isolation.sandboxed) for s in names}
    todo = []
    for student in names:
        old = load(course_dir, student, assignment.name)
        if old is not None and old.key == keys[student]:
            results[student] = old  # finished in an earlier run: record again, do not regrade
        else:
            todo.append(student)
    for result in results.values():
        if not gradebook.in_gradebook(db_url, result):
            gradebook.record_in_gradebook(db_url, result)
    bar = Progress(len(todo)) if progress and todo else None
    if bar:
        bar.stage(f"grading {len(todo)} submission{'s' if len(todo) != 1 else ''} {pool.where(len(todo))}: the "
                  f"first ends in a few seconds")
    recorder = recorder or gradebook.RecordHere(db_url)
    if todo:  # imported while the first sandboxes run, not after them
        recorder.start()
        _REFERENCES.submit(references.warm)  # the references' PyTorch, imported while the first sandboxes start
    for result, executed in pool.grade(todo, course, keys, assignment, isolation):
        # one writer of results and of the gradebook at a time: results here, records in
        # the order they are handed to the recorder
        save(result, executed, course_dir)
        recorder.record(result)
        results[result.student] = result
        if bar:
            flags = f" [{', '.join(result.flags)}]" if result.flags else ""
            bar.update(f"{result.student}: {result.score:g}/{result.max_score:g}{flags}")
    return [results[s] for s in names]


def grading_error(student: str, assignment: Assignment, sandboxed: bool, why: str) -> Result:
    """The result of a submission the grader failed on (a defect, or no worker could run
    it): zero, loudly, and with no key, so the next run grades it again."""
    result = Result(student, assignment.name, "", sandboxed=sandboxed)
    result.cells = blank_cells(assignment, f"grading error: {why}")
    result.messages.append(f"internal grading error: {why}")
    result.flags.append("grading error")
    return result


class LocalPool:
    """Run the sandboxes on this machine's cores, `jobs` submissions at once (default:
    one per core)."""

    def __init__(self, jobs: int | None = None):
        self.jobs = jobs or os.cpu_count() or 1

    def where(self, n: int) -> str:
        return f"in {min(self.jobs, n)} sandboxes at once"

    def grade(self, todo: list[str], course: CourseDir, keys: dict[str, str], assignment: Assignment,
              isolation: Isolation):
        """(result, executed notebook) of each student in `todo`, graded on this machine's
        cores, in the order they finish."""
        lock = threading.Lock()

        def work(student: str) -> tuple[Result, nbformat.NotebookNode | None]:
            with lock:
                uid = free_uids.pop()
            try:
                return grade_one(course.submitted(student, assignment.name), student, keys[student], assignment,
                                 isolation, uid, scratch)
            except Exception as exc:  # a defect here must cost this student only, loudly
                return grading_error(student, assignment, isolation.sandboxed, f"{type(exc).__name__}: {exc}"), None
            finally:
                with lock:
                    free_uids.append(uid)

        if not todo:
            return
        jobs = min(self.jobs, len(todo))
        with sandbox.Scratch() as scratch, sandbox.UidClaim(jobs) as free_uids:
            sandbox.stage_site(scratch / "site")
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(work, s) for s in todo]
                for future in as_completed(futures):
                    yield future.result()
