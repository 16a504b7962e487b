"""Execute one notebook, inside the sandbox: `python rnn_runner.py IN OUT STATUS`.

Every code cell runs in order in one kernel. A cell that raises, or that runs past the
cell timeout (it is interrupted), gets an error output and the next cell runs. If the
kernel dies (os._exit, a segfault, the memory limit), or a timed-out cell does not stop
when interrupted (it is then killed), the cells after it are marked as not run. A cell's
output is cut at a byte limit. The executed notebook is written to OUT and a small JSON
status (timings, timeouts, where the kernel died) to STATUS; the status is rewritten
after every cell, so even a runner killed from outside leaves a record of how far it got:
a cell counts as run only once the status says so, and the notebook is always saved
before the status.

The kernel is IPython's own shell (`InteractiveShell`, the core of ipykernel: the same
magics, tracebacks, `_render_traceback_`, display hook and `display()`), in a process
forked from this one, talking to it over pipes instead of a Jupyter kernel's ZMQ
sockets: no kernel launcher, no connection file, no heartbeat, no message signing. That
saves most of a second per notebook and changes nothing a notebook can observe that
grading depends on. This process (the runner) imports only the standard library; it
reads everything the kernel sends as hostile (length-capped frames, malformed frames
ignored) and never waits on the kernel without a deadline.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import select
import signal
import struct
import sys
import time
from pathlib import Path

FRAME = struct.Struct("!cI")  # kind (b"o" stdout, b"e" stderr, b"j" a JSON message), length
MAX_FRAME = 16 << 20  # a longer frame means a kernel that writes into its pipe itself: kill it
STREAM_PIECE = 1 << 18  # characters per stream frame (at most 4 bytes each: 1 MiB, far below MAX_FRAME)
INTERRUPT_GRACE = 5.0  # seconds a timed-out cell has to stop after its KeyboardInterrupt
# A shell command that installs packages (`!pip install ...`, `!python -m pip install ...`)
_INSTALL = re.compile(r"\s*(\S*python[\d.]*\s+-m\s+)?(pip[\d.]*|conda|mamba)\s+install\b")


# --------------------------------------------------------------------------- kernel side

def _kernel(cells_r: int, msgs_w: int) -> None:
    """The child: an IPython shell running the cells the runner sends, one at a time.
    Its stdout and stderr (Python's and the file descriptors' both) reach the runner as
    stream output; displays, results and errors as messages."""
    os.environ.setdefault("IPYTHONDIR", "/tmp/.ipython")
    out = os.fdopen(msgs_w, "wb", buffering=0)
    inbox = os.fdopen(cells_r, "rb", buffering=0)

    def send(kind: bytes, payload: bytes) -> None:
        out.write(FRAME.pack(kind, len(payload)) + payload)

    def send_json(message: dict) -> None:
        payload = json.dumps(message, default=_jsonable).encode()
        if len(payload) > MAX_FRAME:  # one huge display, result or error: a note instead
            size = len(payload) / (1 << 20)
            what = "an error message" if message.get("output_type") == "error" else "a display"
            send(b"o", f"\n[output cut: {what} of {size:.1f} MiB, more than a notebook may show]\n".encode())
            if message.get("output_type") == "error":  # the cell still fails, as it did
                tb = message.get("traceback")
                short = {**message, "evalue": str(message.get("evalue", ""))[:1 << 16],
                         "traceback": [str(t)[:1 << 14] for t in (tb if isinstance(tb, list) else [])[-20:]]}
                send(b"j", json.dumps(short, default=_jsonable).encode())  # at most ~2.4 MiB
            return
        send(b"j", payload)

    class Stream:
        """sys.stdout / sys.stderr: every write reaches the runner at once, so output
        printed just before a crash is kept."""
        encoding, errors = "utf-8", "strict"

        def __init__(self, kind: bytes, fd: int):
            self.kind, self.fd = kind, fd

        def write(self, text: str) -> int:
            if not isinstance(text, str):
                raise TypeError(f"write() argument must be str, not {type(text).__name__}")
            for start in range(0, len(text), STREAM_PIECE):  # one huge write, several frames
                send(self.kind, text[start:start + STREAM_PIECE].encode("utf-8", "backslashreplace"))
            return len(text)

        def writelines(self, lines) -> None:
            for line in lines:
                self.write(line)

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return False

        def fileno(self) -> int:
            return self.fd

        def readable(self) -> bool:
            return False

        def writable(self) -> bool:
            return True

        @property
        def closed(self) -> bool:
            return False

    sys.stdout, sys.stderr = Stream(b"o", 1), Stream(b"e", 2)
    sys.argv = ["rnn-course-kernel"]

    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets import Type
    from traitlets.config import Config

    class Hook(DisplayHook):
        def write_output_prompt(self) -> None:
            pass

        def write_format_data(self, format_dict, md_dict=None) -> None:
            send_json({"output_type": "execute_result", "data": format_dict, "metadata": md_dict or {}})

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs) -> None:
            send_json({"output_type": "display_data", "data": data, "metadata": metadata or {}})

        def clear_output(self, wait=False) -> None:
            send_json({"clear_output": bool(wait)})

    class Shell(InteractiveShell):
        displayhook_class = Type(Hook)
        display_pub_class = Type(Publisher)

        def _showtraceback(self, etype, evalue, stb) -> None:
            send_json({"output_type": "error", "ename": str(getattr(etype, "__name__", etype)),
                       "evalue": str(evalue), "traceback": list(stb)})

        def init_io(self) -> None:
            pass  # keep our streams

        def system(self, cmd: str):
            if not _INSTALL.match(cmd):
                return super().system(cmd)

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    shell = Shell.instance(config=config)
    # The checks are staged here already and the sandbox has no network: a notebook's
    # `%pip install` of the checks (its install cell, or a student's own cell) does
    # nothing and prints nothing, as does `!pip install`. Only installing is skipped;
    # every check runs as it would anyway.
    for name in ("pip", "conda", "mamba"):
        shell.register_magic_function(lambda line: None, "line", name)

    running = False

    def interrupt(signum, frame):
        if running:  # between cells an interrupt that came too late is dropped
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    send_json({"ready": True})
    while True:
        head = _read_exact(inbox, FRAME.size)
        if head is None:
            os._exit(0)
        _, length = FRAME.unpack(head)
        source = _read_exact(inbox, length).decode()
        try:
            running = True
            result = shell.run_cell(source, store_history=True)
            running = False
        except KeyboardInterrupt:
            running = False
            result = None  # it arrived after the cell had finished
        send_json({"done": True, "ok": bool(result is None or result.success)})


def _jsonable(value):
    if isinstance(value, (bytes, bytearray)):
        import base64

        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def _read_exact(stream, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


# --------------------------------------------------------------------------- runner side

class Kernel:
    """The runner's handle on the forked kernel: send a cell, collect what it prints."""

    def __init__(self, cwd: Path):
        cells_r, cells_w = os.pipe()
        msgs_r, msgs_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        runner = os.getpid()
        pid = os.fork()
        if pid == 0:  # the kernel: it dies with the runner, and stays in its process group
            try:
                import ctypes

                ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
                if os.getppid() != runner:
                    os._exit(70)
                for fd in (cells_w, msgs_r, out_r, err_r):
                    os.close(fd)
                os.dup2(out_w, 1)
                os.dup2(err_w, 2)
                os.close(out_w)
                os.close(err_w)
                os.chdir(cwd)
                _kernel(cells_r, msgs_w)
            finally:
                os._exit(70)
        for fd in (cells_r, msgs_w, out_w, err_w):
            os.close(fd)
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.cells = cells_w
        self.readers = {msgs_r: b"", out_r: "stdout", err_r: "stderr"}  # msgs: a frame buffer
        self.broken = False  # killed for bytes outside the framing (a notebook writing into the pipe)
        self.msgs = msgs_r
        self.alive = True
        for fd in self.readers:
            os.set_blocking(fd, False)

    def send(self, source: str) -> bool:
        data = source.encode("utf-8", "surrogatepass")
        try:
            os.set_blocking(self.cells, True)
            os.write(self.cells, FRAME.pack(b"c", len(data)) + data)
            return True
        except OSError:
            return False

    def poll(self, deadline: float):
        """Everything that arrives before `deadline`: yields ("stream", name, text),
        ("json", message) and finally ("dead",) if the kernel exits. Returns on timeout."""
        while True:
            if not self.alive:
                yield ("dead",)
                return
            wait = deadline - time.monotonic()
            if wait <= 0:
                return
            fds = [fd for fd in self.readers] + [self.pidfd]
            ready, _, _ = select.select(fds, [], [], wait)
            for fd in ready:
                if fd == self.pidfd:
                    continue
                yield from self._read(fd)
            if self.pidfd in ready:
                for fd in list(self.readers):  # what it wrote before it died
                    yield from self._read(fd)
                self.alive = False
                os.waitpid(self.pid, 0)

    def drain(self):
        """What is already in the pipes (output a finished cell's subprocesses wrote)."""
        for fd in list(self.readers):
            yield from self._read(fd)

    def _read(self, fd: int):
        try:
            chunk = os.read(fd, 1 << 16)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            return
        if fd != self.msgs:
            yield ("stream", self.readers[fd], chunk.decode("utf-8", "replace"))
            return
        if self.broken:  # killed for its framing: nothing it wrote after is believed (a "done"
            return       # written before the kill landed would end its cell and blame the next)
        buf = self.readers[fd] = self.readers[fd] + chunk
        while len(buf) >= FRAME.size:
            kind, length = FRAME.unpack_from(buf)
            if length > MAX_FRAME or kind not in (b"o", b"e", b"j"):
                self.kill()  # not our framing: a notebook writing into the pipe itself
                self.broken = True
                buf = b""
                break
            if len(buf) < FRAME.size + length:
                break
            payload, buf = buf[FRAME.size:FRAME.size + length], buf[FRAME.size + length:]
            # Stored before each yield: the caller may stop reading at any message (a cell's
            # "done"), and the frames after it (or a partial one) must wait for the next read.
            self.readers[fd] = buf
            if kind == b"j":
                try:
                    message = json.loads(payload)
                except ValueError:
                    continue
                if isinstance(message, dict):
                    yield ("json", message)
            else:
                yield ("stream", "stdout" if kind == b"o" else "stderr", payload.decode("utf-8", "replace"))
        self.readers[fd] = buf

    def interrupt(self) -> None:
        try:
            os.kill(self.pid, signal.SIGINT)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """Only the kernel: what it started is stopped with the sandbox (its pid namespace
        ends with the runner; unsandboxed, the grader kills the runner's process group)."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class Outputs:
    """One cell's outputs as nbformat dicts, cut at `max_bytes` per cell and at
    `max_total` for the whole notebook (`used` is shared between cells)."""

    def __init__(self, max_bytes: int, used: list[int], max_total: int):
        self.items: list[dict] = []
        self.max_bytes, self.used, self.max_total = max_bytes, used, max_total
        self.size, self.cut = 0, False

    def add(self, output: dict) -> None:
        if output["output_type"] == "error" and (self.cut or self.used[0] > self.max_total
                                                 or self.size + len(json.dumps(output)) > self.max_bytes):
            # A cell's error is kept past the caps (shortened), so a failing cell still fails.
            if not any(o["output_type"] == "error" for o in self.items):
                self.items.append({**output, "evalue": output["evalue"][:2000],
                                   "traceback": [t[:2000] for t in output["traceback"][-10:]]})
            return
        if self.cut:
            return
        if self.used[0] > self.max_total:
            self.cut = True
            if not self.used[1]:
                self.used[1] = 1
                self.items.append(_stream("stdout", f"\n[output cut: the notebook printed more than "
                                                    f"{self.max_total >> 20} MiB]\n"))
            return
        n = len(json.dumps(output))
        self.size += n
        self.used[0] += n
        if self.size > self.max_bytes:
            self.cut = True
            self.items.append(_stream("stdout", f"\n[output cut: this cell printed more than "
                                                f"{self.max_bytes // 1024} KiB]\n"))
            return
        last = self.items[-1] if self.items else None
        if output["output_type"] == "stream" and last and last["output_type"] == "stream" \
                and last["name"] == output["name"]:
            last["text"] += output["text"]
        else:
            self.items.append(output)

    def clear(self) -> None:
        if not self.cut:
            self.items = []


def _stream(name: str, text: str) -> dict:
    return {"output_type": "stream", "name": name, "text": text}


def _output(message: dict) -> dict | None:
    """A kernel message as an nbformat output, or None when it is not a well-formed one."""
    kind = message.get("output_type")
    if kind in ("display_data", "execute_result"):
        data, meta = message.get("data"), message.get("metadata")
        if not isinstance(data, dict):
            return None
        # a MIME type maps to text (JSON types to any JSON value), as nbformat has it
        data = {k: v for k, v in data.items() if isinstance(k, str) and "/" in k
                and (isinstance(v, str) or k.endswith("json"))}
        if not data:
            return None
        out = {"output_type": kind, "data": data, "metadata": meta if isinstance(meta, dict) else {}}
        if kind == "execute_result":
            out["execution_count"] = None  # the runner numbers the cells it sent
        return out
    if kind == "error":
        tb = message.get("traceback")
        return {"output_type": "error", "ename": str(message.get("ename", "")),
                "evalue": str(message.get("evalue", "")),
                "traceback": [str(t) for t in tb] if isinstance(tb, list) else []}
    return None


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _write_notebook(nb: dict, path: Path) -> None:
    # Plain JSON; the grader validates what it reads back.
    tmp = path.with_suffix(".tmp.ipynb")
    tmp.write_text(json.dumps(nb))
    os.replace(tmp, path)


# The status file, field by field (the grader reads it back as hostile input, keeping only
# these fields, well formed: autograde/grading/execute.py, sane_status).
EXHAUSTED = ("open files", "processes or threads", "disk space")  # what a kernel can run out of


def new_status() -> dict:
    """The status before anything ran: the kernel's start-up seconds, each cell's seconds
    (by its index, as a string), the cells that ran past the time limit, the cell where
    the kernel died (-1: at start-up), whether every cell ran, what the kernel ran out of
    ({"cell": index, "what": one of EXHAUSTED}) and whether it wrote outside its framing."""
    return {"kernel_start_seconds": None, "cells": {}, "timeouts": [], "died_at": None,
            "finished": False, "exhausted": None, "framing": False}


def _exhausted(kernel_pid: int | None, folders: list[Path]) -> str | None:
    """What the kernel ran out of, if anything: open files, processes or threads, or disk
    space. A check that could not record its results then is reported as this, never as
    tampering."""
    import resource

    try:
        if kernel_pid is not None:
            soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
            if len(os.listdir(f"/proc/{kernel_pid}/fd")) >= soft - 8:
                return EXHAUSTED[0]
        soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
        if soft != resource.RLIM_INFINITY and os.getuid() != 0:  # root is never held to it
            me = os.getuid()  # the limit counts this uid's tasks (unsandboxed, /proc shows everyone's)
            tasks = sum(len(os.listdir(f"/proc/{p}/task")) for p in os.listdir("/proc") if p.isdigit()
                        and os.path.isdir(f"/proc/{p}/task") and os.stat(f"/proc/{p}").st_uid == me)
            if tasks >= soft - 8:
                return EXHAUSTED[1]
        for folder in folders:
            st = os.statvfs(folder)
            if st.f_bavail * st.f_frsize < (1 << 20):
                return EXHAUSTED[2]
    except OSError:
        return None
    return None


LANGUAGE_INFO = {"name": "python", "version": ".".join(map(str, sys.version_info[:3])),
                 "mimetype": "text/x-python", "file_extension": ".py", "nbconvert_exporter": "python",
                 "codemirror_mode": {"name": "ipython", "version": 3}, "pygments_lexer": "ipython3"}

MAX_TOTAL_BYTES = 8 << 20  # all cells together, so a notebook's feedback page stays small


def run(src: Path, dst: Path, status_path: Path, cell_timeout: int, max_output: int) -> dict:
    nb = json.loads(src.read_text())
    cells = nb.get("cells", [])
    for cell in cells:  # nothing the student saved survives as if this run had printed it
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb.setdefault("metadata", {})["language_info"] = LANGUAGE_INFO
    status = new_status()
    started = time.monotonic()
    kernel = Kernel(src.parent)
    for event in kernel.poll(started + 90):
        if event[0] == "json" and event[1].get("ready"):
            break
        if event[0] == "dead":
            status["died_at"] = -1
            break
    else:
        status["died_at"] = -1  # no kernel within the start-up time
    if status["died_at"] is None:
        status["kernel_start_seconds"] = time.monotonic() - started
    _write_json(status_path, status)
    used, count = [0, 0], 0
    for index, cell in enumerate(cells):
        if status["died_at"] is not None:
            break
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        outputs = Outputs(max_output, used, MAX_TOTAL_BYTES)
        t0 = time.monotonic()
        done = None
        if kernel.send(source):
            deadline, interrupted = t0 + cell_timeout, False
            while done is None and status["died_at"] is None:
                for event in kernel.poll(deadline):
                    if event[0] == "dead":
                        status["died_at"] = index
                        status["framing"] = kernel.broken
                    elif event[0] == "stream":
                        outputs.add(_stream(event[1], event[2]))
                    elif event[1].get("done"):
                        done = event[1]
                        break
                    elif "clear_output" in event[1]:
                        outputs.clear()
                    elif (out := _output(event[1])) is not None:
                        outputs.add(out)
                else:
                    if status["died_at"] is not None:
                        break
                    if not interrupted:  # past the cell timeout: interrupt, as Jupyter does
                        interrupted = True
                        status["timeouts"].append(index)
                        kernel.interrupt()
                        deadline = time.monotonic() + INTERRUPT_GRACE
                    else:  # it did not stop: kill it; the cells after it do not run
                        kernel.kill()
                        deadline = time.monotonic() + INTERRUPT_GRACE
            for event in kernel.drain():
                if event[0] == "stream":
                    outputs.add(_stream(event[1], event[2]))
        else:
            status["died_at"] = index
        status["cells"][str(index)] = time.monotonic() - t0
        count += 1  # as a Jupyter kernel counts: every cell sent, finished or not
        cell["outputs"] = outputs.items
        cell["execution_count"] = count
        for out in outputs.items:
            if out["output_type"] == "execute_result":
                out["execution_count"] = count
        if status["exhausted"] is None:
            what = _exhausted(kernel.pid if kernel.alive else None, [src.parent, Path("/tmp")])
            if what:
                status["exhausted"] = {"cell": index, "what": what}
        if any(o.get("ename") == "KeyboardInterrupt" for o in outputs.items) and index not in status["timeouts"]:
            status["timeouts"].append(index)
        _write_notebook(nb, dst)  # before the status, which must never run ahead of it
        _write_json(status_path, status)
    kernel.kill()
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
