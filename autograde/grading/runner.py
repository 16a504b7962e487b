"""Execute one notebook, inside the sandbox: `python rnn_runner.py IN OUT STATUS`.

Every code cell runs in order in one kernel. A cell that raises, or that runs past the
cell timeout (it is interrupted), gets an error output and the next cell runs. If the
kernel dies (os._exit, a segfault, the memory limit), the cells after it are marked as
not run. A cell's output is cut at a byte limit. The executed notebook is written to
OUT and a small JSON status (timings, timeouts, where the kernel died) to STATUS; the
status is rewritten after every cell, so even a runner killed from outside leaves a
record of how far it got: a cell counts as run only once the status says so, and the
notebook is always saved before the status.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# jsonschema (via nbformat) imports this optional IRI checker if it can, and it
# builds a grammar taking a second at import; we validate no IRIs, so skip it.
sys.modules.setdefault("rfc3987_syntax", None)

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellTimeoutError, DeadKernelError  # noqa: E402


class CappedClient(NotebookClient):
    """An nbclient that keeps at most `max_output_bytes` of output per cell."""

    def __init__(self, *args, max_output_bytes: int = 256 << 10, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_output_bytes = max_output_bytes
        self._sizes: dict[int, int] = {}

    max_total_bytes = 8 << 20  # all cells together, so a notebook's feedback page stays small

    def output(self, outs, msg, display_id, cell_index):
        used = self._sizes.get(cell_index, 0)
        if used > self.max_output_bytes:
            return None
        if sum(self._sizes.values()) > self.max_total_bytes:
            if not self._sizes.get(-1):
                self._sizes[-1] = 1
                outs.append(nbformat.v4.new_output(
                    "stream", name="stdout",
                    text=f"\n[output cut: the notebook printed more than {self.max_total_bytes >> 20} MiB]\n"))
            return None
        before = len(outs)
        result = super().output(outs, msg, display_id, cell_index)
        for out in outs[before:]:
            used += len(json.dumps(out))
        self._sizes[cell_index] = used
        if used > self.max_output_bytes:
            del outs[before:]
            outs.append(nbformat.v4.new_output(
                "stream", name="stdout",
                text=f"\n[output cut: this cell printed more than {self.max_output_bytes // 1024} KiB]\n"))
        return result


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _write_notebook(nb, path: Path) -> None:
    # Plain JSON: nbformat.write validates the whole notebook each time, after every cell;
    # the grader validates what it reads back anyway.
    tmp = path.with_suffix(".tmp.ipynb")
    tmp.write_text(json.dumps(nb))
    os.replace(tmp, path)


def _exhausted(kernel_pid: int | None, folders: list[Path]) -> str | None:
    """What the kernel ran out of, if anything: open files, processes or threads, or disk
    space. A check that could not record its results then is reported as this, never as
    tampering."""
    import resource

    try:
        if kernel_pid is not None:
            soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
            if len(os.listdir(f"/proc/{kernel_pid}/fd")) >= soft - 8:
                return "open files"
        soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
        if soft != resource.RLIM_INFINITY and os.getuid() != 0:  # root is never held to it
            me = os.getuid()  # the limit counts this uid's tasks (unsandboxed, /proc shows everyone's)
            tasks = sum(len(os.listdir(f"/proc/{p}/task")) for p in os.listdir("/proc") if p.isdigit()
                        and os.path.isdir(f"/proc/{p}/task") and os.stat(f"/proc/{p}").st_uid == me)
            if tasks >= soft - 8:
                return "processes or threads"
        for folder in folders:
            st = os.statvfs(folder)
            if st.f_bavail * st.f_frsize < (1 << 20):
                return "disk space"
    except OSError:
        return None
    return None


def run(src: Path, dst: Path, status_path: Path, cell_timeout: int, max_output: int) -> dict:
    nb = nbformat.read(src, as_version=4)
    client = CappedClient(nb, timeout=cell_timeout, allow_errors=True, interrupt_on_timeout=True,
                          kernel_name="python3", startup_timeout=90, max_output_bytes=max_output,
                          shutdown_kernel="immediate",
                          resources={"metadata": {"path": str(src.parent)}})
    status: dict = {"kernel_start_seconds": None, "cells": {}, "timeouts": [], "died_at": None,
                    "finished": False, "exhausted": None}
    started = time.perf_counter()
    try:
        with client.setup_kernel():
            status["kernel_start_seconds"] = time.perf_counter() - started
            _write_json(status_path, status)
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                t0 = time.perf_counter()
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    status["timeouts"].append(index)
                except DeadKernelError:
                    status["died_at"] = index
                    break
                finally:
                    status["cells"][str(index)] = time.perf_counter() - t0
                    if status["exhausted"] is None:
                        process = getattr(getattr(client.km, "provisioner", None), "process", None)
                        what = _exhausted(getattr(process, "pid", None), [src.parent, Path("/tmp")])
                        if what:
                            status["exhausted"] = {"cell": index, "what": what}
                    _write_notebook(nb, dst)  # before the status, which must never run ahead of it
                    _write_json(status_path, status)
                if any(o.get("ename") == "KeyboardInterrupt" for o in cell.get("outputs", [])) \
                        and index not in status["timeouts"]:
                    status["timeouts"].append(index)
    except DeadKernelError:
        status["died_at"] = status["died_at"] if status["died_at"] is not None else -1
    status["finished"] = status["died_at"] is None
    _write_notebook(nb, dst)
    _write_json(status_path, status)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rnn_runner.py")
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("status", type=Path)
    parser.add_argument("--cell-timeout", type=int, default=60)
    parser.add_argument("--max-output", type=int, default=256 << 10)
    args = parser.parse_args(argv)
    run(args.src, args.dst, args.status, args.cell_timeout, args.max_output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
