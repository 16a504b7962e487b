"""The in-sandbox notebook runner on its own (`autograde/runner.py`), run by the
sandbox environment's Python as the grader runs it, without bubblewrap: what a notebook
sees of its kernel is IPython's, and every way a cell can end is recorded as such.

The whole pipeline with the sandbox (crashes, bombs, limits) is tested in test_pipeline.py.
"""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from autograde import runner
from autograde.grading import sandbox

RUNNER = Path(runner.__file__)


def run(tmp_path: Path, cells: list[str], timeout: int = 3, max_output: int = 256 << 10, stale=None):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    if stale:
        for cell in nb.cells:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=stale)]
            cell.execution_count = 99
    src, dst, status = tmp_path / "in.ipynb", tmp_path / "out.ipynb", tmp_path / "status.json"
    nbformat.write(nb, src)
    started = time.monotonic()
    subprocess.run([str(sandbox.sandbox_python()), str(RUNNER), str(src), str(dst), str(status),
                    f"--cell-timeout={timeout}", f"--max-output={max_output}"],
                   cwd=tmp_path, check=True, timeout=120, stdin=subprocess.DEVNULL)
    executed = nbformat.reads(dst.read_text(), as_version=4)
    nbformat.validate(executed)  # what the runner writes is a valid notebook
    return executed, json.loads(status.read_text()), time.monotonic() - started


def texts(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_cells_see_ipython_and_their_outputs_come_back_in_order(tmp_path):
    nb, status, _ = run(tmp_path, [
        "import sys\nprint('out')\nprint('err', file=sys.stderr)\n6 * 7",
        "%time y = sum(range(10))\ny",
        "from IPython.display import display, HTML\ndisplay(HTML('<b>shown</b>'))\nget_ipython().__class__.__name__",
        "import subprocess\n_ = subprocess.run(['echo', 'from a subprocess'])",
        "x = 1;",
    ])
    first, magic, display, child, quiet = nb.cells
    assert [o.output_type for o in first.outputs] == ["stream", "stream", "execute_result"]
    assert (first.outputs[0].name, first.outputs[0].text) == ("stdout", "out\n")
    assert (first.outputs[1].name, first.outputs[1].text) == ("stderr", "err\n")
    assert first.outputs[2].data["text/plain"] == "42"
    assert "Wall time" in texts(magic) and magic.outputs[-1].data["text/plain"] == "45"
    assert display.outputs[0].data["text/html"] == "<b>shown</b>"
    assert display.outputs[1].data["text/plain"] == "'Shell'"
    assert texts(child) == "from a subprocess\n"  # written to the file descriptor, not sys.stdout
    assert quiet.outputs == []
    assert [c.execution_count for c in nb.cells] == [1, 2, 3, 4, 5]
    assert first.outputs[2].execution_count == 1 and magic.outputs[-1].execution_count == 2
    assert status["finished"] and status["died_at"] is None and status["timeouts"] == []
    assert sorted(status["cells"]) == ["0", "1", "2", "3", "4"]
    assert 0 < status["kernel_start_seconds"] < 30


def test_errors_are_ipythons_and_render_traceback_is_honoured(tmp_path):
    nb, status, _ = run(tmp_path, [
        "def f():\n    raise ValueError('boom')\nf()",
        "class Quiet(Exception):\n    def _render_traceback_(self):\n        return ['only this']\nraise Quiet()",
        "print('after')",
        "def (:",
    ])
    boom, quiet, after, syntax = nb.cells
    (err,) = boom.outputs
    assert (err.output_type, err.ename, err.evalue) == ("error", "ValueError", "boom")
    assert any("Cell In[1], line 3" in line for line in err.traceback)
    assert quiet.outputs[0].traceback == ["only this"]
    assert texts(after) == "after\n"
    assert syntax.outputs[0].ename == "SyntaxError"
    assert status["finished"] and status["died_at"] is None


def test_a_timed_out_cell_is_interrupted_and_the_next_cell_runs(tmp_path):
    nb, status, _ = run(tmp_path, ["while True:\n    pass", "print('next')"], timeout=1)
    assert nb.cells[0].outputs[-1].ename == "KeyboardInterrupt"
    assert texts(nb.cells[1]) == "next\n"
    assert status["timeouts"] == [0] and status["died_at"] is None and status["finished"]


def test_a_cell_that_ignores_the_interrupt_is_killed_and_nothing_after_it_runs(tmp_path):
    nb, status, seconds = run(tmp_path, [
        "print('before')",
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nprint('looping')\nwhile True:\n    pass",
        "print('never')",
    ], timeout=1)
    assert texts(nb.cells[1]) == "looping\n"
    assert nb.cells[2].outputs == [] and nb.cells[2].execution_count is None
    assert status["timeouts"] == [1] and status["died_at"] == 1 and not status["finished"]
    assert "2" not in status["cells"]
    assert seconds < 1 + runner.INTERRUPT_GRACE + 20


@pytest.mark.parametrize("crash", ["import os\nos._exit(3)", "import ctypes\nctypes.string_at(0)",
                                   "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"])
def test_a_dead_kernel_keeps_what_it_printed_and_marks_the_rest_not_run(tmp_path, crash):
    nb, status, _ = run(tmp_path, ["print('one')", "print('printed first')\n" + crash, "print('never')"])
    assert texts(nb.cells[0]) == "one\n"
    assert texts(nb.cells[1]).startswith("printed first")
    assert nb.cells[2].outputs == []
    assert status["died_at"] == 1 and not status["finished"] and "2" not in status["cells"]


def test_bytes_that_are_not_the_runners_frames_kill_only_that_kernel(tmp_path):
    nb, status, _ = run(tmp_path, [
        "print('one')",
        "import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, b'\\xff' * 64)\n"
        "    except OSError:\n        pass\nimport time\ntime.sleep(5)",
        "print('never')",
    ], timeout=10)
    assert status["died_at"] == 1 and nb.cells[2].outputs == []


def test_output_is_cut_per_cell_and_the_notebook_stays_small(tmp_path):
    nb, status, _ = run(tmp_path, ["for _ in range(1000):\n    print('x' * 1000)", "print('small')"],
                        max_output=64 << 10)
    big, small = nb.cells
    assert "[output cut: this cell printed more than 64 KiB]" in texts(big)
    assert len(json.dumps(big.outputs)) < 80 << 10
    assert texts(small) == "small\n"
    assert status["finished"]


def test_outputs_saved_by_the_student_never_survive_as_if_the_run_printed_them(tmp_path):
    nb, _, _ = run(tmp_path, ["print('ran')", "import os\nos._exit(1)", "print('never')"],
                   stale="forged output\n")
    assert texts(nb.cells[0]) == "ran\n"
    assert all("forged" not in json.dumps(c.outputs) for c in nb.cells)
    assert nb.cells[2].execution_count is None


def kernels_of(src) -> list[int]:
    """Processes still running with `src` on their command line (a forked kernel has its
    runner's)."""
    import os

    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if str(src).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
        except OSError:
            pass
    return found


def test_the_status_never_runs_ahead_of_the_saved_notebook(tmp_path):
    """Killed from outside mid-run, the runner leaves a status that counts only the cells
    whose outputs are already in the saved notebook, and its kernel dies with it."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in
                                         ["print('a')", "print('b')", "import time\ntime.sleep(60)"]])
    src, dst, status_path = tmp_path / "in.ipynb", tmp_path / "out.ipynb", tmp_path / "status.json"
    nbformat.write(nb, src)
    proc = subprocess.Popen([str(sandbox.sandbox_python()), str(RUNNER), str(src), str(dst), str(status_path)],
                            cwd=tmp_path, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if status_path.exists() and "1" in json.loads(status_path.read_text())["cells"]:
            break
        time.sleep(0.05)
    import os
    import signal
    os.kill(proc.pid, signal.SIGKILL)  # the runner only: its kernel must not outlive it
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and kernels_of(src):
        time.sleep(0.1)
    assert not kernels_of(src), "the kernel outlived its runner"
    status = json.loads(status_path.read_text())
    saved = json.loads(dst.read_text())
    assert sorted(status["cells"]) == ["0", "1"]
    assert [texts(nbformat.from_dict(c)) for c in saved["cells"][:2]] == ["a\n", "b\n"]


def test_unsandboxed_what_a_notebook_leaves_running_is_stopped_with_its_run(tmp_path):
    """Without bubblewrap no pid namespace ends a notebook's processes: the grader stops
    the run's whole process group when the run ends."""
    from autograde.grading import execute

    marker = f"left-running-{tmp_path.name}"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        f"import subprocess\nsubprocess.Popen(['sh', '-c', 'sleep 300; echo {marker}'])\nprint('started')")])
    site = sandbox.stage_site(tmp_path / "site")
    with sandbox.UidClaim(1) as (uid,):
        try:
            executed, status, _, _, _ = execute.run_sandboxed(nb, execute.Slot(tmp_path / "work", uid, site),
                                                              execute.Isolation(sandbox.Limits(), sandboxed=False))
        finally:
            sandbox.release_mounts(tmp_path / "work")
    assert status["finished"] and "started" in texts(executed.cells[0])
    time.sleep(0.5)
    assert not kernels_of(marker), "a process the notebook started outlived its run"


def test_what_the_kernel_sends_is_kept_only_in_nbformats_shape(tmp_path):
    """A notebook can publish anything through IPython's display machinery; the runner
    keeps only MIME types that map to text (JSON types to JSON), so the grader and the
    feedback page read well-formed outputs."""
    nb, status, _ = run(tmp_path, [
        "get_ipython().display_pub.publish({'text/plain': 'kept', 'text/html': ['not', 'text'], 'bad': 'x',"
        " 'application/json': {'a': 1}})",
        "get_ipython().display_pub.publish({'text/html': 3})",
        "print('still running')",
    ])
    first, dropped, after = nb.cells
    assert first.outputs[0].data == {"text/plain": "kept", "application/json": {"a": 1}}
    assert dropped.outputs == []
    assert texts(after) == "still running\n" and status["finished"]


@pytest.mark.parametrize("big", [
    "print('x' * (17 << 20))",                                                  # one write of 17 MiB
    "import sys\nsys.stdout.write('é' * (9 << 20))",                             # 18 MiB of UTF-8
    "from IPython.display import display\ndisplay({'text/plain': 'y' * (17 << 20)}, raw=True)",
    "'z' * (17 << 20)",                                                         # a result that large
    "raise ValueError('\\u00e9' * (3 << 20))",                                  # an error that large (JSON: 18 MiB)
])
def test_one_huge_write_is_cut_with_a_note_and_costs_no_later_cell(tmp_path, big):
    """Issue 23, item 1: a correct notebook that prints or displays more than a frame holds
    in one call keeps its kernel; the output is cut with a note and the next cells run."""
    nb, status, _ = run(tmp_path, ["x = 2", big, "print(x * 21)"], timeout=20)
    assert status["died_at"] is None and status["timeouts"] == [] and status["finished"]
    assert "[output cut" in texts(nb.cells[1])
    assert texts(nb.cells[2]) == "42\n"
    if "raise" in big:  # the cell still failed, with its error
        assert [o.ename for o in nb.cells[1].outputs if o.output_type == "error"] == ["ValueError"]


def test_output_past_the_cap_never_swallows_the_next_cells_messages(tmp_path):
    """Issue 23, item 2: frames of a cell cut at the cap, read in pieces, must not leave a
    stale partial frame that eats the next cell's messages (a false timeout)."""
    loud = ["for _ in range(20):\n    print('x' * 100_000)", "for _ in range(20):\n    print('x' * 70_001, end='')"]
    cells = [c for i in range(8) for c in (loud[i % 2], f"print('next {i}')")] + ["1 + 1"]
    nb, status, _ = run(tmp_path, cells, timeout=3)
    assert status["timeouts"] == [] and status["died_at"] is None and status["finished"]
    assert [texts(nb.cells[i]) for i in range(1, 16, 2)] == [f"next {i}\n" for i in range(8)]
    assert nb.cells[-1].outputs[0].data["text/plain"] == "2"


def test_a_cell_that_prints_past_the_cap_and_then_fails_still_shows_its_error(tmp_path):
    nb, status, _ = run(tmp_path, ["print('x' * (300 << 10))\nraise KeyError('after the flood')", "print('on')"])
    loud, after = nb.cells
    assert "[output cut: this cell printed more than 256 KiB]" in texts(loud)
    assert [(o.ename, o.evalue) for o in loud.outputs if o.output_type == "error"] == [("KeyError", "'after the flood'")]
    assert texts(after) == "on\n" and status["finished"]


def test_installing_the_checks_at_grading_does_nothing_and_prints_nothing(tmp_path):
    """Issue 24, item 3: the notebook's install cell (and a student's own pip cell) reruns
    at grading, where the checks are staged already and there is no network: it must
    neither fail nor print. Nothing else changes: other magics and shell commands run."""
    nb, status, _ = run(tmp_path, [
        "%pip install rnn_course_checks-0.1.0-py3-none-any.whl",
        "%pip install --quiet https://example.invalid/_static/rnn_course_checks-0.1.0-py3-none-any.whl",
        "!pip install rnn_course_checks-0.1.0-py3-none-any.whl",
        "!python -m pip install rnn_course_checks-0.1.0-py3-none-any.whl",
        "%time x = 1\n!echo still runs",
    ])
    for cell in nb.cells[:4]:
        assert cell.outputs == [], cell.outputs
    assert "still runs" in texts(nb.cells[4]) and "Wall time" in texts(nb.cells[4])


def test_nothing_a_kernel_writes_after_breaking_its_framing_is_believed(monkeypatch):
    """A cell that writes junk into the message pipe gets its kernel killed, but the kill
    lands a moment later: the kernel may still write the cell's "done" frame. Believed,
    it ended the cell, the next cell was sent, and the death was blamed on that one (a
    fresh-clone run under load named test_many_to_one_public instead of the student's
    cell). After the junk, the reader believes nothing more from that pipe."""
    import os

    killed = []
    kernel = runner.Kernel.__new__(runner.Kernel)
    msgs_r, msgs_w = os.pipe()
    os.set_blocking(msgs_r, False)
    kernel.msgs, kernel.readers, kernel.broken, kernel.alive = msgs_r, {msgs_r: b""}, False, True
    monkeypatch.setattr(kernel, "kill", lambda: killed.append(1))
    done = json.dumps({"done": True, "ok": True}).encode()
    try:
        os.write(msgs_w, runner.FRAME.pack(b"o", 3) + b"hi\n")
        assert list(kernel._read(msgs_r)) == [("stream", "stdout", "hi\n")]
        os.write(msgs_w, b"\xff" * 64)
        assert list(kernel._read(msgs_r)) == [] and kernel.broken and killed
        os.write(msgs_w, runner.FRAME.pack(b"j", len(done)) + done)  # before the kill landed
        assert list(kernel._read(msgs_r)) == []
    finally:
        os.close(msgs_r)
        os.close(msgs_w)
