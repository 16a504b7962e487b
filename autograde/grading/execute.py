"""Run one notebook in a fresh sandbox, and read back what it left: all a Dask worker needs.

It needs no chapter and no PyTorch (a cluster worker runs it too: cluster.py). What the
sandbox writes is read with caps: the executed notebook, the runner's status (its fields
are the runner's own: autograde/runner.py) and the checks' records (records.py).
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import nbformat

from .. import runner
from ..kernel import cases, record
from . import records, sandbox


@dataclass(frozen=True)
class Isolation:
    """How submissions are run: bubblewrap's isolation (or the instructor's --no-sandbox)
    and the limits."""
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    sandboxed: bool = True


@dataclass(frozen=True)
class Slot:
    """Where one run happens: its work folder (made by the run), the uid it runs as, and
    the staged site (the kernel package and the runner, read-only)."""
    work: Path
    uid: int
    site: Path


@dataclass(frozen=True)
class Given:
    """What the sandbox is given beside the notebook: the hidden cases' inputs (an .npz
    file's bytes: `references.hidden_inputs_npz`), the graded functions with their number
    of outputs (to read the records), and whether the assignment declares PyTorch."""
    hidden_inputs: bytes | None = None
    functions: dict[str, int] = field(default_factory=dict)
    torch: bool = False


class Run(NamedTuple):
    """What a sandbox run left, read back with caps."""
    executed: nbformat.NotebookNode | None
    status: dict  # the runner's status as written (sane_status reads it)
    recorded: records.Records
    wall: float
    notes: list[str]


def _read_json(path: Path, cap: int) -> dict:
    data = json.loads(records.read_regular(path, cap))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def run_sandboxed(nb: nbformat.NotebookNode, slot: Slot, isolation: Isolation, given: Given = Given()) -> Run:
    """Execute `nb` in a fresh sandbox whose work folder is `slot.work` (made here, private
    to `slot.uid`, size-capped), given `given` (the hidden cases' inputs: never a seed,
    never an answer). Returns the `Run`: executed notebook or None, runner status, the
    checks' records, wall seconds, notes. Everything
    read back is hostile input: regular files only, size-capped, never followed as links.
    Needs no chapter and no PyTorch, so a cluster worker runs it too (cluster.py)."""
    work, uid, site = slot.work, slot.uid, slot.site
    limits, sandboxed = isolation.limits, isolation.sandboxed
    hidden_inputs, functions, torch = given.hidden_inputs, given.functions, given.torch
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
    argv = [str(python), str(sandbox.SITE / sandbox.RUNNER), str(src), str(dst), str(status_path),
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
    return Run(executed, status, recorded, wall, notes)


def sane_status(raw: dict, n_cells: int) -> dict:
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
            and exhausted.get("what") in runner.EXHAUSTED):
        exhausted = None
    start = raw.get("kernel_start_seconds")
    return {"cells": ran, "timeouts": timeouts, "died_at": index(raw.get("died_at")),
            "wall_limit": raw.get("wall_limit") is True, "exhausted": exhausted,
            "kernel_start_seconds": float(start) if isinstance(start, (int, float)) and 0 <= start < 1e6 else 0.0,
            "runner_error": raw.get("runner_error"), "finished": raw.get("finished") is True,
            "framing": raw.get("framing") is True}
