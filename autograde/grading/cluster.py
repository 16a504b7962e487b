"""Grade on a Dask cluster: `rnn-course grade NAME --course-dir DIR --scheduler tcp://HOST:PORT`.

Only the run stage moves. The coordinator (the process that runs `rnn-course grade`)
takes in each submission and checks its form (pipeline.prepare), then sends one task
per submission to the cluster: a `Task`, holding the notebook to run (the student's
answers in the instructor's frame, hidden tests without their seed), the hidden cases'
inputs and the limits, and nothing else. A worker runs it in its own bubblewrap sandbox
(execute.run_sandboxed, as on one machine) and sends back what the sandbox left: the
executed notebook, the runner's status and the checks' records, read there as hostile
input (regular files only, size-capped). The trusted comparison, the references
(PyTorch), the hidden seeds and the gradebook stay with the coordinator: one writer,
and no worker ever holds an answer, a seed or a solution. No shared file system is
assumed: the task carries bytes.

A worker that lacks bubblewrap (or the sandbox environment), or whose checks and runner
differ from the coordinator's (`sandbox.site_digest`), refuses every task with a
message naming it; its tasks go to the other workers, and if none is left the run stops
with that message. A worker that dies mid-task (SIGKILL) costs nothing: Dask's scheduler
runs its tasks again elsewhere, and the coordinator takes each submission's result once.

Start a cluster (every worker machine needs bubblewrap, this course's package and its
sandbox environment, and the same dask/distributed as the coordinator; see README):

    dask scheduler --host HOST --port 8786
    dask worker tcp://HOST:8786 --nthreads CORES --name NAME   # on each worker machine

`dask` and `distributed` are imported only here, only when --scheduler is given.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import records, sandbox


class WorkerRefused(RuntimeError):
    """A worker that cannot isolate submissions refuses them; `worker` is its address."""

    def __init__(self, message: str, worker: str):
        super().__init__(message, worker)
        self.message, self.worker = message, worker

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Task:
    """What one worker is given for one submission, and nothing more (the tests pickle it
    and search it for seeds, answers and solutions)."""
    student: str
    notebook: str  # the notebook to run, as JSON: no hidden seed, no solution
    hidden_inputs: bytes  # an .npz of the hidden cases' inputs: no seed, no expected output
    functions: tuple[tuple[str, int], ...]  # graded function -> its number of outputs
    limits: sandbox.Limits
    sandboxed: bool
    # What the assignment declares its notebook may import beyond the plain sandbox
    # (("torch",) for the capstone: its sandbox is the torch environment).
    declared: tuple[str, ...] = ()
    # The coordinator's `sandbox.site_digest()`: a worker whose checks or runner differ refuses.
    site: str = ""


@dataclass(frozen=True)
class Ran:
    """What comes back from a worker: what its sandbox left, read with the same caps."""
    executed: str | None  # the executed notebook's JSON, or None if none could be read
    status: dict
    records: records.Records
    wall: float
    notes: list[str]
    worker: str


# --- on a worker -----------------------------------------------------------------------

_state: tuple[Path, Path] | None = None
_state_lock = threading.Lock()


def _worker_name() -> str:
    try:
        from distributed import get_worker

        w = get_worker()
        name = f"{w.name!r} at {w.address}" if str(w.name) != w.address else w.address
    except (ImportError, ValueError):
        name = f"process {os.getpid()}"
    return f"{name} (host {socket.gethostname()})"


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"pid-{os.getpid()}"


def _scratch() -> tuple[Path, Path]:
    """This worker process's private scratch folder and the staged kernel package, made
    on its first task and removed when it exits (or, after a SIGKILL, by the next grading
    process on that machine: sandbox.Scratch)."""
    global _state
    with _state_lock:
        if _state is None:
            held = sandbox.Scratch()
            path = held.__enter__()
            site = sandbox.stage_site(path / "site")
            atexit.register(held.__exit__, None, None, None)
            _state = (path, site)
        return _state


_site_digest: str | None = None


def check_worker(sandboxed: bool, torch: bool = False, site: str = "") -> None:
    """Refuse, naming this worker, when it cannot run a submission as asked: no
    bubblewrap, no sandbox environment, or other checks and runner than the coordinator's
    (`site`, their digest), which could grade the same notebook differently."""
    if site and site != _own_site():
        raise WorkerRefused(f"worker {_worker_name()} refuses submissions: its course package differs from the "
                            f"coordinator's (the checks and runner it would stage have digest {_own_site()[:12]}, "
                            f"the coordinator's {site[:12]}); install the coordinator's checkout there",
                            _worker_address())
    if sandboxed and sandbox.bwrap_path() is None:
        raise WorkerRefused(f"worker {_worker_name()} refuses submissions: bubblewrap (bwrap) is not installed "
                            f"there, so it cannot isolate them; install Debian's `bubblewrap` on it (or grade "
                            f"with --no-sandbox, and every result is marked unsandboxed)", _worker_address())
    try:
        sandbox.sandbox_python(torch=torch)
    except sandbox.SandboxUnavailable as exc:
        raise WorkerRefused(f"worker {_worker_name()} refuses submissions: {exc}", _worker_address()) from None


def run_task(task: Task) -> Ran:
    """Run one submission in a sandbox of this worker (the Dask task)."""
    from .execute import Given, Isolation, Slot, run_sandboxed  # needs no chapter and no PyTorch

    check_worker(task.sandboxed, "torch" in task.declared, task.site)
    scratch, site = _scratch()
    with sandbox.UidClaim(1) as uids:
        uid = uids[0]
        work = scratch / f"slot-{uid}-{uuid.uuid4().hex[:12]}"
        try:
            executed, status, recorded, wall, notes = run_sandboxed(
                nbformat.reads(task.notebook, as_version=4), Slot(work, uid, site),
                Isolation(task.limits, task.sandboxed),
                Given(task.hidden_inputs, dict(task.functions), torch="torch" in task.declared))
        finally:  # the hidden inputs are gone as soon as the run is read
            sandbox.release_mounts(work)
            shutil.rmtree(work, ignore_errors=True)
    return Ran(None if executed is None else json.dumps(executed), status, recorded, wall, notes, _worker_name())


# --- on the coordinator ----------------------------------------------------------------

def connect(scheduler: str, timeout: float = 30):
    """A Dask client of the cluster at `scheduler` that has at least one worker."""
    from .errors import CourseError

    try:
        from distributed import Client
    except ImportError:
        raise CourseError("grading on a cluster needs dask's `distributed` (pip install -r requirements.txt)") \
            from None
    try:
        client = Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise CourseError(f"cannot reach the Dask scheduler at {scheduler}: {exc}; start one with "
                          f"`dask scheduler` and pass its address (tcp://HOST:PORT)") from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        client.close()
        raise CourseError(f"the Dask scheduler at {scheduler} has no worker; start one on each grading "
                          f"machine with `dask worker {scheduler}`") from None
    return client


def make_task(student: str, prepared, assignment, limits: sandbox.Limits, sandboxed: bool) -> Task:
    """The task of one prepared submission: the notebook and the hidden inputs, never the
    seeds (`prepared.seeds` stays here) nor anything of the instructor's source."""
    from .references import hidden_inputs_npz

    return Task(student, nbformat.writes(prepared.notebook), hidden_inputs_npz(prepared.seeds),
                tuple(sorted(assignment.functions.items())), limits, sandboxed,
                ("torch",) if assignment.torch else (), _own_site())


def _own_site() -> str:
    global _site_digest
    if _site_digest is None:
        _site_digest = sandbox.site_digest()
    return _site_digest


class Cluster:
    """Run the sandboxes on the workers of the Dask cluster at `scheduler` (tcp://HOST:PORT):
    what `pipeline.grade_all` is handed for `rnn-course grade --scheduler`."""

    def __init__(self, scheduler: str):
        self.scheduler = scheduler

    def where(self, n: int) -> str:
        return "on the Dask cluster's workers"

    def grade(self, todo: list[str], course, keys: dict[str, str], assignment, isolation):
        return grade(self.scheduler, todo, course, keys, assignment, isolation)


def grade(scheduler: str, todo: list[str], course, keys: dict[str, str], assignment, isolation,
          stream=sys.stderr):
    """(result, executed notebook) of each student in `todo`, run on the cluster's
    workers and scored here, in the order they finish; each student exactly once."""
    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    from . import pipeline, references
    from .errors import CourseError
    from .execute import Run

    limits, sandboxed = isolation.limits, isolation.sandboxed

    if not todo:
        return
    client = connect(scheduler)
    refused: dict[str, str] = {}  # worker address -> its refusal
    try:
        threads = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
        window = max(8, 4 * threads)  # tasks in flight: enough to keep every worker busy
        waiting = iter(todo)
        pending: dict = {}
        done = as_completed(loop=client.loop)

        def submit(student: str, result, prepared, task: Task) -> None:
            allowed = None
            if refused:
                allowed = [w for w in client.scheduler_info()["workers"] if w not in refused]
                if not allowed:
                    raise CourseError(f"no worker of the cluster at {scheduler} can grade: "
                                      + "; ".join(refused.values()))
            future = client.submit(run_task, task, key=f"rnn-course-grade-{uuid.uuid4().hex}", pure=False,
                                   workers=allowed, allow_other_workers=False, retries=0)
            pending[future.key] = (student, result, prepared, task)
            done.add(future)

        def fill():
            while len(pending) < window:
                student = next(waiting, None)
                if student is None:
                    return
                try:
                    result, prepared = pipeline.prepare(course.submitted(student, assignment.name), student,
                                                        keys[student], assignment, sandboxed)
                    if prepared is None:
                        yield result, None
                        continue
                    for name, seed in prepared.seeds.items():  # computed here while the workers run
                        pipeline._REFERENCES.submit(references.trusted_hidden, name, seed)
                    task = make_task(student, prepared, assignment, limits, sandboxed)
                except Exception as exc:  # noqa: BLE001 - costs this student only, loudly
                    yield pipeline.grading_error(student, assignment, sandboxed, f"{type(exc).__name__}: {exc}"), None
                    continue
                submit(student, result, prepared, task)

        yield from fill()
        for future in done:
            student, result, prepared, task = pending.pop(future.key)
            try:
                ran: Ran = future.result()
            except WorkerRefused as exc:
                if exc.worker not in refused:
                    refused[exc.worker] = str(exc)
                    print(f"rnn-course: {exc}", file=stream, flush=True)
                submit(student, result, prepared, task)  # to another worker
                continue
            except (KilledWorker, FutureCancelledError) as exc:
                yield pipeline.grading_error(student, assignment, sandboxed,
                                             f"the cluster could not run it ({type(exc).__name__}: {exc})"), None
            except Exception as exc:  # noqa: BLE001 - a defect on the worker costs this student only
                yield pipeline.grading_error(student, assignment, sandboxed,
                                             f"on a worker: {type(exc).__name__}: {exc}"), None
            else:
                try:
                    executed = None if ran.executed is None else nbformat.from_dict(json.loads(ran.executed))
                    yield pipeline.finish(result, prepared, Run(executed, ran.status, ran.records, ran.wall, ran.notes),
                                          assignment, limits)
                except Exception as exc:  # noqa: BLE001
                    yield pipeline.grading_error(student, assignment, sandboxed,
                                                 f"{type(exc).__name__}: {exc}"), None
            finally:
                future.release()
            yield from fill()
    finally:
        client.close()
