"""Grading an instructor can trust: every kind of broken or hostile submission ends as
a clear per-student outcome, nothing escapes the sandbox, and the class is graded.

One course folder holds one submission per case; it is graded once, in parallel, by
the real pipeline (bubblewrap, nbgrader gradebook), and each test reads its student.
"""
from __future__ import annotations

import copy
import html
import json
import re
import socket
import sqlite3
import threading

import nbformat
import pytest

from autograde.grading import course, pipeline, sandbox
from kit import leaks, notebooks
from autograde.grading.score import function_of
from conftest import ROOT, make_submission

pytestmark = pytest.mark.slow

A = "01-rnn-basics"
FULL = 11.0
POINTS = {"rnn_cell": 2, "rnn_forward": 3, "jordan_step": 2, "many_to_one": 2, "rnn_param_count": 2}
LIMITS = sandbox.Limits(cell_timeout=6, wall_seconds=150)
HIDDEN = {line: kind for line, kind in leaks.secret_lines(ROOT / "solutions" / A / f"{A}.ipynb").items()
          if kind == "hidden test"}


def solved(**replace):
    return make_submission(A, replace)


def extra_cell(nb, code, after=None):
    """Add a student's own code cell at the end, or after the cell with grade id `after`."""
    nb = copy.deepcopy(nb)
    cell = nbformat.v4.new_code_cell(code)
    if after is None:
        nb.cells.append(cell)
    else:
        i = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == after)
        nb.cells.insert(i + 1, cell)
    return nb


def cell_of(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


WRONG_CELL = '''
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T)
'''


ZEROS_CELL = '''
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.zeros((x_t.shape[0], W_hh.shape[0]))
'''

# A notebook that implements nothing and writes the check records itself: for the
# public cases it can copy the shipped answers; for the hidden cases it has only their
# inputs (no seed, no answer), so whatever it forges is wrong.
FORGE_RECORDS = '''
import os
from autograde.kernel import cases, record
for name in ["rnn_cell", "rnn_forward", "jordan_step", "many_to_one", "rnn_param_count"]:
    for case in cases.public_cases(name):
        record.write(name, "public", case.index, case.expected, None, True)
    for case in cases.hidden_cases(name) or []:
        guess = [np.zeros(1)] if name != "rnn_param_count" else [0]
        record.write(name, "hidden", case.index, guess, None, True)
print("forged")
'''

# The stub of rnn_cell walks up the call stack to the check's frame and returns the
# expected output it finds there: it works for public cases, whose answers ship.
STACK_WALKER = '''
import inspect
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    for info in inspect.stack():
        case = info.frame.f_locals.get("case")
        if case is not None and getattr(case, "expected", None) is not None:
            return case.expected[0]
    return np.zeros((x_t.shape[0], W_hh.shape[0]))
'''

# Everything a kernel could look at for a hidden seed or a hidden answer.
SNOOP = '''
import os, glob, sys
seen = [repr(dict(os.environ)), repr(sys.argv), repr(sorted(os.listdir(".")))]
for p in glob.glob("/proc/[0-9]*/cmdline") + glob.glob("/proc/[0-9]*/environ"):
    try:
        seen.append(open(p, "rb").read().decode(errors="replace"))
    except OSError:
        pass
for root, dirs, files in os.walk("."):
    for f in files:
        try:
            seen.append(open(os.path.join(root, f), "rb").read(1 << 20).decode(errors="replace"))
        except OSError:
            pass
hidden = os.environ.get("AUTOGRADE_HIDDEN")
if hidden:
    seen.append("hidden keys: " + " ".join(sorted(np.load(hidden).files)))
for mod in ["torch", "autograde.chapters", "autograde.grading", "autograde.grading.references"]:
    try:
        __import__(mod)
        print(mod, "IMPORTED")
    except ImportError as e:
        print(mod, "not importable", type(e).__name__)
print("mode", oct(os.stat(".").st_mode & 0o777), "owner", os.stat(".").st_uid, "me", os.getuid())
print("beside me", len(os.listdir(os.path.dirname(os.getcwd()))))
open("snooped.txt", "w").write("\\n".join(seen))
print("SNOOPED", len(seen))
'''

# A record claiming a billion outputs, and thousands of junk records.
HUGE_RECORDS = '''
import os, json, uuid
folder = os.environ["AUTOGRADE_RECORD"]
os.makedirs(folder, exist_ok=True)
meta = {"function": "rnn_cell", "kind": "hidden", "index": 10**12, "error": None, "kernel_passed": True,
        "n_outputs": 10**9}
np.savez(os.path.join(folder, "huge.npz"), meta=np.asarray(json.dumps(meta)))
for i in range(3000):
    open(os.path.join(folder, f"junk{i}.npz"), "wb").write(b"not a zip")
'''

# Issue 23, item 6: records of 17 KB that unpack to 15 MiB arrays of bytes each (dtype S1),
# which the trusted process used to unpack and convert to floats (minutes, GiBs); and ten
# of 3 MiB each, under the record's cap, refused by their dtype.
RECORD_BOMBS = '''
import io, os, json, zipfile
folder = os.environ["AUTOGRADE_RECORD"]
os.makedirs(folder, exist_ok=True)
meta = {"function": "rnn_cell", "kind": "hidden", "index": 0, "error": None, "kernel_passed": True,
        "n_outputs": 1}
for i in range(20):
    with zipfile.ZipFile(os.path.join(folder, f"bomb{i}.npz"), "w", zipfile.ZIP_DEFLATED) as z:
        buf = io.BytesIO(); np.save(buf, np.asarray(json.dumps(meta))); z.writestr("meta.npy", buf.getvalue())
        size = (15 if i < 10 else 3) << 20
        buf = io.BytesIO(); np.save(buf, np.zeros(size, dtype="S1")); z.writestr("out0.npy", buf.getvalue())
print("bombs", sum(os.path.getsize(os.path.join(folder, f"bomb{i}.npz")) for i in range(20)))
'''

# Keeps replacing the files the grader reads back with named pipes, until the end.
NAMED_PIPES = '''
import os, subprocess, sys
subprocess.Popen([sys.executable, "-c", """
import os, time
names = ["status.json", "executed.ipynb", ".records"]
while True:
    for n in names:
        try:
            if os.path.isdir(n) and not os.path.islink(n):
                os.rename(n, n + ".old")
            elif os.path.exists(n):
                os.remove(n)
            os.mkfifo(n)
        except OSError:
            pass
    time.sleep(0.01)
"""])
'''

# Leaks every file descriptor it can get, then lets the checks run.
EXHAUST_FDS = '''
held = []
try:
    while True:
        held.append(open("/dev/null"))
except OSError as e:
    print("out of file descriptors after", len(held), type(e).__name__)
'''

# Fills the work folder: its disk cap stops it, and it tidies up.
FILL_DISK = '''
import os
try:
    for i in range(8):  # 8 files of 50 MiB: each under the file-size limit, together over the cap
        with open(f"big{i}.bin", "wb") as f:
            for _ in range(50):
                f.write(b"x" * (1 << 20))
                f.flush()
    print("wrote 400 MiB")
except OSError as e:
    print("disk full:", e.strerror)
for i in range(8):
    if os.path.exists(f"big{i}.bin"):
        os.remove(f"big{i}.bin")
'''


# Forges the runner's frames: a "cell done" for every cell before it runs, and no
# traceback ever reported, so the outputs say every check passed.
FORGE_FRAMES = '''
import json, os, stat, struct
def _forge(*args, **kwargs):
    message = json.dumps({"done": True, "ok": True}).encode()
    frame = struct.pack("!cI", b"j", len(message)) + message
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, frame)
        except OSError:
            pass
get_ipython().events.register("pre_run_cell", _forge)
get_ipython()._showtraceback = lambda *args, **kwargs: None
'''

# Reads the memory of the process that runs the notebook (its parent) and its own (a
# copy of the runner's, forked), and prints every long run of digits found there.
READ_RUNNER_MEMORY = '''
import os, re
digits, read, marker = set(), 0, False
for pid in (os.getppid(), os.getpid()):
    try:
        maps = open(f"/proc/{pid}/maps").read().splitlines()
        mem = open(f"/proc/{pid}/mem", "rb", 0)
    except OSError as e:
        print("cannot open", pid, type(e).__name__)
        continue
    for line in maps:
        span, perms = line.split()[:2]
        if not perms.startswith("rw"):  # a secret put there at run time is in writable memory
            continue
        start, end = (int(x, 16) for x in span.split("-"))
        if end - start > 64 << 20:
            continue
        try:
            mem.seek(start)
            chunk = mem.read(end - start)
        except (OSError, ValueError, OverflowError):
            continue
        read += len(chunk)
        digits.update(re.findall(rb"(?<![0-9])[0-9]{10,20}(?![0-9])", chunk))
        marker |= pid == os.getppid() and (b"hidden" + b"_seed=") in chunk  # made here: not in our own
print("read", read, "bytes of memory;", len(digits), "digit runs; seed marker in the runner:", marker)
print("DIGITS", " ".join(sorted(d.decode() for d in digits)))
'''


def probe(targets: dict[str, str]) -> str:
    """Code that tries to read each target and prints what happened."""
    lines = ["import os"]
    for label, path in targets.items():
        lines.append(f"try:\n    open({path!r}, 'rb').read(10)\n    print({label!r}, 'READ')\n"
                     f"except OSError as e:\n    print({label!r}, 'denied', type(e).__name__)")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def server():
    """A TCP server on the host's loopback: a sandboxed submission must not reach it."""
    hits = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                hits.append(1)
                conn.close()
            except OSError:
                pass
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield sock.getsockname()[1], hits
    stop.set()
    t.join()
    sock.close()


def submissions(course_dir, port):
    good = solved()
    subs = {"good": good}
    subs["infinite_loop"] = solved(rnn_param_count='''
def rnn_param_count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    while True:
        pass
''')
    subs["ignores_interrupt"] = solved(rnn_param_count='''
import signal
def rnn_param_count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        pass
''')
    subs["os_exit"] = extra_cell(good, "import os\nos._exit(3)", after="many_to_one")
    # Writes bytes that are not the runner's framing into the kernel's message pipe.
    subs["jams_the_pipe"] = extra_cell(good, '''
import os, sys
for fd in range(3, 64):
    try:
        os.write(fd, b"\\xff" * 64)
    except OSError:
        pass
''', after="many_to_one")
    subs["kills_its_runner"] = extra_cell(good, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
                                          after="many_to_one")
    subs["segfault"] = extra_cell(good, "import ctypes\nctypes.string_at(0)", after="many_to_one")
    subs["memory_bomb"] = solved(jordan_step="blob = bytearray(64 * 2**30)\n" + notebooks.solution_code(ROOT, A)["jordan_step"])
    subs["fork_bomb"] = extra_cell(good, '''
import os, time
children = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(20)
            os._exit(0)
        children += 1
except OSError as exc:
    print("fork refused after", children, "children:", type(exc).__name__)
''')
    subs["huge_output"] = extra_cell(good, "for _ in range(200):\n    print('x' * 100_000)")
    # Issue 23, items 1 and 2: one write larger than a runner frame, and an answer cell that
    # prints past the cap at its end (which left a partial frame that ate the next cell).
    subs["one_huge_write"] = extra_cell(good, "print('x' * (17 << 20))\n"
                                              "from IPython.display import display\n"
                                              "display({'text/plain': 'y' * (17 << 20)}, raw=True)", after="imports")
    subs["loud_answers"] = solved(**{name: cell_of(good, name).source + "\nfor _ in range(20):\n    print('x' * 100_000)"
                                     for name in POINTS})
    subs["stderr_and_warnings"] = solved(rnn_cell='''
import sys, warnings
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    print("debugging rnn_cell", file=sys.stderr)
    warnings.warn("a student's own warning")
    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
''')
    subs["network"] = extra_cell(good, f'''
import socket
for host in ["127.0.0.1", "localhost"]:  # the host's loopback only: no other address is ever a target
    try:
        socket.create_connection((host, {port}), timeout=2).close()
        print(host, "CONNECTED")
    except OSError as e:
        print(host, "blocked", type(e).__name__)
''', after="imports")
    subs["reads_secrets"] = extra_cell(good, probe({
        "solution": str(ROOT / "solutions" / A / f"{A}.ipynb"),
        "gradebook": str(course_dir / "gradebook.db"),
        "other student": str(course_dir / "submitted" / "good" / A / f"{A}.ipynb"),
        "course source": str(course_dir / "source" / A / f"{A}.ipynb"),
        "shadow": "/etc/shadow",
    }), after="imports")
    subs["writes_outside"] = extra_cell(good, f'''
for path in [{str(course_dir / "gradebook.db")!r}, {str(course_dir / "PWNED")!r}, "/tmp/rnn-course-PWNED",
             {str(ROOT / "autograde" / "PWNED")!r}]:
    try:
        open(path, "a").write("x")
        print(path, "WRITTEN")
    except OSError as e:
        print(path, "denied", type(e).__name__)
''', after="imports")
    subs["patches_numpy"] = extra_cell(solved(rnn_cell=WRONG_CELL),
                                       "np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None",
                                       after="imports")
    subs["patches_compare"] = extra_cell(
        solved(rnn_cell=WRONG_CELL),
        "import autograde.kernel.checks\nautograde.kernel.checks.compare_outputs = lambda *a, **k: None",
        after="imports")
    subs["forges_records"] = extra_cell(make_submission(A, solved=False), FORGE_RECORDS, after="imports")
    subs["walks_the_stack"] = solved(rnn_cell=STACK_WALKER)
    subs["snoops"] = extra_cell(good, SNOOP, after="imports")
    subs["forges_frames"] = extra_cell(solved(rnn_cell=WRONG_CELL), FORGE_FRAMES, after="imports")
    subs["reads_runner_memory"] = extra_cell(good, READ_RUNNER_MEMORY, after="imports")
    subs["huge_records"] = extra_cell(good, HUGE_RECORDS)
    subs["record_bombs"] = extra_cell(good, RECORD_BOMBS)
    subs["named_pipes"] = extra_cell(good, NAMED_PIPES)
    subs["exhausts_fds"] = extra_cell(good, EXHAUST_FDS, after="imports")
    subs["fills_disk"] = extra_cell(good, FILL_DISK, after="imports")
    many = copy.deepcopy(good)
    many.cells = [nbformat.v4.new_code_cell("1") for _ in range(10_000)] + many.cells
    subs["ten_thousand_cells"] = many
    subs["replaces_check"] = extra_cell(solved(rnn_cell=WRONG_CELL), "check = lambda *a, **k: None", after="imports")
    subs["swallows_errors"] = extra_cell(
        solved(rnn_cell=WRONG_CELL),
        "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)", after="imports")
    edited = solved(rnn_cell=WRONG_CELL)
    cell_of(edited, "test_rnn_cell_public").source = "pass"
    cell_of(edited, "test_rnn_cell_hidden").source = "pass"
    subs["edits_test_cells"] = edited
    meta = solved(rnn_cell=WRONG_CELL)
    cell_of(meta, "test_rnn_cell_public").metadata.nbgrader["points"] = 100
    cell_of(meta, "test_rnn_forward_hidden").metadata.nbgrader["grade"] = False
    subs["edits_metadata"] = meta
    # Issue 23, item 15: the instructor grades the solution notebook itself (source metadata)
    subs["instructors_solution"] = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
    retyped = solved()
    cell_of(retyped, "test_jordan_step_public").cell_type = "markdown"
    cell_of(retyped, "test_jordan_step_public").pop("outputs", None)
    cell_of(retyped, "test_jordan_step_public").pop("execution_count", None)
    subs["changes_cell_type"] = retyped
    dup = solved()
    i = next(i for i, c in enumerate(dup.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "rnn_cell")
    dup.cells.insert(i + 1, copy.deepcopy(dup.cells[i]))
    dup.cells[i + 1].id = "copy-of-rnn-cell"
    j = next(i for i, c in enumerate(dup.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "test_rnn_forward_public")
    dup.cells.insert(j + 1, copy.deepcopy(dup.cells[j]))
    dup.cells[j + 1].id = "copy-of-test"
    subs["duplicated_cells"] = dup
    deleted = solved()
    deleted.cells = [c for c in deleted.cells
                     if c.metadata.get("nbgrader", {}).get("grade_id") not in ("test_rnn_cell_hidden", "jordan_step")]
    subs["deleted_cells"] = deleted
    subs["stub"] = make_submission(A, solved=False)
    return subs


@pytest.fixture(scope="module")
def graded(tmp_path_factory, server):
    port, _ = server
    course_dir = tmp_path_factory.mktemp("course")
    subs = submissions(course_dir, port)
    for student, nb in subs.items():
        folder = course_dir / "submitted" / student / A
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{A}.ipynb")
    # Broken files, written as bytes.
    for student, name, data in [
        ("corrupted", f"{A}.ipynb", nbformat.writes(subs["good"]).encode()[:5000]),
        ("not_utf8", f"{A}.ipynb", nbformat.writes(subs["good"]).encode("utf-8").replace(b"numpy", b"n\xffmpy")),
        ("renamed", "my homework (final).ipynb", nbformat.writes(subs["good"]).encode()),
        ("old_format", f"{A}.ipynb", nbformat.writes(nbformat.convert(subs["good"], 3)).encode()),
    ]:
        folder = course_dir / "submitted" / student / A
        folder.mkdir(parents=True)
        (folder / name).write_bytes(data)
    (course_dir / "submitted" / "missing" / A).mkdir(parents=True)
    extra = course_dir / "submitted" / "extra_files" / A
    extra.mkdir(parents=True)
    nbformat.write(subs["good"], extra / f"{A}.ipynb")
    (extra / "notes.txt").write_text("my notes")
    (extra / "latin1.csv").write_bytes(b"caf\xe9\n")
    # Links: a notebook that is a symlink to the instructor's; an extra file linked to it;
    # a hard link to a file outside the submission; a notebook too big to grade; an
    # invalid student id (a newline).
    instructor = ROOT / "solutions" / A / f"{A}.ipynb"
    for student in ("symlinked_notebook", "symlinked_extra", "hard_linked", "too_big", "bad\nid"):
        (course_dir / "submitted" / student / A).mkdir(parents=True)
    (course_dir / "submitted" / "symlinked_notebook" / A / f"{A}.ipynb").symlink_to(instructor)
    nbformat.write(solved(), course_dir / "submitted" / "symlinked_extra" / A / f"{A}.ipynb")
    (course_dir / "submitted" / "symlinked_extra" / A / "answers.ipynb").symlink_to(instructor)
    outside = course_dir / "instructor-copy.ipynb"
    outside.write_bytes(instructor.read_bytes())
    import os
    os.link(outside, course_dir / "submitted" / "hard_linked" / A / f"{A}.ipynb")
    big = solved()
    big.cells.append(nbformat.v4.new_markdown_cell("x" * (21 << 20)))
    nbformat.write(big, course_dir / "submitted" / "too_big" / A / f"{A}.ipynb")
    nbformat.write(solved(), course_dir / "submitted" / "bad\nid" / A / f"{A}.ipynb")
    result = course.grade(ROOT, A, course_dir, limits=LIMITS, progress=False)
    by_student = {r.student: r for r in result.results}
    assert pipeline.load(course_dir, "snoops", A) is not None
    return course_dir, by_student


def points(result, function=None):
    return sum(c["points"] for c in result.cells if function is None or function_of(c["grade_id"]) == function)


def executed(course_dir, student):
    return nbformat.read(course_dir / "autograded" / student / A / f"{A}.ipynb", as_version=4)


def text_of(nb):
    return "\n".join(o.get("text", "") + o.get("ename", "") + str(o.get("evalue", ""))
                     for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []))


def test_the_whole_class_is_graded_and_a_correct_submission_scores_full(graded):
    course_dir, results = graded
    assert len(results) == len(list((course_dir / "submitted").iterdir()))
    good = results["good"]
    assert (good.score, good.max_score, good.flags) == (FULL, FULL, [])
    assert results["stub"].score == 0 and results["stub"].flags == []


def test_an_infinite_loop_costs_only_the_looping_function_and_says_so(graded):
    r = graded[1]["infinite_loop"]
    assert points(r) == FULL - POINTS["rnn_param_count"]
    assert "timeout" in r.flags
    assert all("time limit" in c["message"] for c in r.cells if c["grade_id"].startswith("test_rnn_param_count"))


def test_a_loop_that_ignores_the_interrupt_is_stopped_and_reported_as_a_timeout(graded):
    r = graded[1]["ignores_interrupt"]
    assert points(r) == FULL - POINTS["rnn_param_count"]
    assert "timeout" in r.flags and "crash" not in r.flags
    assert any("did not stop when interrupted" in m for m in r.messages)


@pytest.mark.parametrize("student", ["os_exit", "segfault", "jams_the_pipe"])
def test_a_kernel_crash_keeps_the_points_of_the_tests_that_ran(graded, student):
    r = graded[1][student]
    assert points(r) == POINTS["rnn_cell"] + POINTS["rnn_forward"] + POINTS["jordan_step"]
    assert "crash" in r.flags
    # Issue 23, item 9: the message names the cause, and the cell that caused it
    cell = re.escape(_extra_cell_name(graded[0], student))
    if student == "jams_the_pipe":
        assert any(re.match(f"{cell} wrote bytes into the grader's message pipe", m) for m in r.messages), r.messages
        assert not any("did not stop when interrupted" in m or "kernel died" in m for m in r.messages)
    else:
        assert any(re.match(f"the kernel died while running {cell} ", m) for m in r.messages), r.messages
    assert all(c["message"].startswith("did not run") for c in r.cells if c["points"] < c["max_points"])


def _extra_cell_name(course_dir, student):
    """How messages name the one cell the fixture added after many_to_one."""
    return "your cell after many_to_one"


def test_a_notebook_that_kills_its_runner_keeps_the_points_of_the_tests_that_ran(graded):
    r = graded[1]["kills_its_runner"]
    assert points(r) == POINTS["rnn_cell"] + POINTS["rnn_forward"] + POINTS["jordan_step"]
    assert "crash" in r.flags and "suspected tampering" not in r.flags
    assert any("ended the process that ran it" in m for m in r.messages), r.messages


def test_a_memory_bomb_fails_inside_the_limit_and_costs_only_its_function(graded):
    course_dir, results = graded
    r = results["memory_bomb"]
    assert points(r) == FULL - POINTS["jordan_step"]
    assert "MemoryError" in text_of(executed(course_dir, "memory_bomb"))


def test_a_fork_bomb_is_stopped_by_the_process_limit(graded):
    course_dir, results = graded
    assert results["fork_bomb"].score == FULL
    assert "fork refused after" in text_of(executed(course_dir, "fork_bomb"))


def test_a_huge_output_is_cut_and_the_notebook_stays_small(graded):
    course_dir, results = graded
    assert results["huge_output"].score == FULL
    path = course_dir / "autograded" / "huge_output" / A / f"{A}.ipynb"
    assert path.stat().st_size < 2 << 20
    assert "[output cut" in text_of(executed(course_dir, "huge_output"))


@pytest.mark.parametrize("student", ["one_huge_write", "loud_answers"])
def test_an_honest_notebook_that_prints_a_lot_loses_nothing(graded, student):
    course_dir, results = graded
    assert results[student].score == FULL, results[student]
    assert not [f for f in results[student].flags if "time" in f or "died" in f or "crash" in f]
    assert "[output cut" in text_of(executed(course_dir, student))


def test_stderr_and_warnings_never_change_a_score(graded):
    assert graded[1]["stderr_and_warnings"].score == FULL
    assert graded[1]["stderr_and_warnings"].flags == []


def test_the_network_is_unreachable_from_a_submission(graded, server):
    course_dir, results = graded
    _, hits = server
    out = text_of(executed(course_dir, "network"))
    assert "CONNECTED" not in out and out.count("blocked") == 2
    assert hits == []
    assert results["network"].score == FULL


def test_a_submission_cannot_read_solutions_gradebook_or_other_students(graded):
    course_dir, results = graded
    out = text_of(executed(course_dir, "reads_secrets"))
    assert "READ" not in out
    for label in ["solution", "gradebook", "other student", "course source", "shadow"]:
        assert f"{label} denied" in out
    assert results["reads_secrets"].score == FULL


def test_a_submission_cannot_write_outside_its_sandbox(graded):
    course_dir, results = graded
    out = text_of(executed(course_dir, "writes_outside"))
    assert out.count("denied") == 3  # /tmp is the sandbox's own, thrown away afterwards
    assert not (course_dir / "PWNED").exists() and not (ROOT / "autograde" / "PWNED").exists()
    from pathlib import Path
    assert not Path("/tmp/rnn-course-PWNED").exists()
    with sqlite3.connect(course_dir / "gradebook.db") as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)


def test_patching_numpy_changes_nothing(graded):
    r = graded[1]["patches_numpy"]
    assert points(r) == FULL - POINTS["rnn_cell"] - POINTS["rnn_forward"] - POINTS["many_to_one"]
    assert r.flags == []


@pytest.mark.parametrize("student,total", [
    ("patches_compare", POINTS["jordan_step"] + POINTS["rnn_param_count"]),
    ("swallows_errors", POINTS["jordan_step"] + POINTS["rnn_param_count"]),
    ("replaces_check", 0),  # a fake check records nothing, so no test can be trusted
])
def test_fooling_the_kernel_is_caught_by_the_trusted_comparison(graded, student, total):
    r = graded[1][student]
    assert "suspected tampering" in r.flags
    for fn in ("rnn_cell", "rnn_forward", "many_to_one"):
        assert points(r, fn) == 0
    fooled = [c for c in r.cells if c["kernel_passed"] and not c["trusted_passed"] and c["max_points"] == 0]
    assert fooled and all(c["message"].startswith("suspected tampering") for c in fooled)
    assert points(r) == total


def test_edited_test_cells_are_restored_and_reported(graded):
    r = graded[1]["edits_test_cells"]
    assert "suspected tampering" in r.flags
    assert any("locked cell test_rnn_cell_public was edited" in m for m in r.messages)
    assert points(r, "rnn_cell") == 0


def test_edited_metadata_is_reported_and_the_instructors_points_count(graded):
    r = graded[1]["edits_metadata"]
    assert "suspected tampering" in r.flags
    assert any("metadata of cells test_rnn_cell_public and" in m for m in r.messages)
    assert r.max_score == FULL
    assert points(r, "rnn_forward") == 0  # its hidden test still ran: rnn_cell is wrong


def test_the_instructors_solution_notebook_is_not_taken_for_tampering(graded):
    r = graded[1]["instructors_solution"]
    assert (r.score, r.flags) == (FULL, []), r.messages
    assert any("metadata of the instructor's source notebook" in m for m in r.messages)
    assert not any("tampering" in m for m in r.messages)


def test_metadata_edits_are_one_flag_naming_the_cells(graded):
    r = graded[1]["edits_metadata"]
    flags = [m for m in r.messages if "metadata of" in m]
    assert flags == ["suspected tampering: the nbgrader metadata of cells test_rnn_cell_public and "
                     "test_rnn_forward_hidden was edited"]


def test_the_class_report_never_cuts_a_message_mid_word():
    from autograde.grading.report import whole_messages

    messages = [f"suspected tampering: the nbgrader metadata of cell test_{i} was edited" for i in range(23)]
    text = whole_messages(messages)
    shown = text.split(" | ")
    assert shown[-1] == f"and {23 - len(shown) + 1} more (see the student's feedback)"
    assert all(m in messages for m in shown[:-1]) and len(text) < 500
    long = whole_messages(["word " * 200])
    assert long.endswith(" …") and all(w == "word" for w in long[:-2].split())


def test_a_changed_cell_type_is_reported_and_the_test_still_runs(graded):
    r = graded[1]["changes_cell_type"]
    assert "suspected tampering" in r.flags
    assert r.score == FULL


def test_duplicated_cells_are_explained_not_double_counted(graded):
    r = graded[1]["duplicated_cells"]
    assert (r.score, r.max_score) == (FULL, FULL)
    assert any("rnn_cell appears twice" in m for m in r.messages)
    assert any("duplicate of the locked cell test_rnn_forward_public was dropped" in m for m in r.messages)


def test_deleted_cells_are_restored_or_graded_as_unanswered(graded):
    r = graded[1]["deleted_cells"]
    assert points(r) == FULL - POINTS["jordan_step"]
    assert points(r, "rnn_cell") == POINTS["rnn_cell"]  # the deleted hidden test was put back and ran
    assert any("test_rnn_cell_hidden was deleted; it was put back" in m for m in r.messages)
    assert any("answer cell jordan_step was deleted" in m for m in r.messages)


def test_every_student_gets_feedback_with_the_grading_notes_and_no_hidden_values(graded):
    course_dir, results = graded
    for student, r in results.items():
        if "invalid student id" in r.flags:
            continue  # no folder is ever made from an invalid id
        page = (course_dir / "feedback" / student / A / f"{A}.html").read_text(encoding="utf-8")
        assert f"{r.score:g} / {r.max_score:g}" in page
        for m in r.messages:
            assert html.escape(m) in page or m in page
        assert leaks.find_leaks(leaks.html_text(course_dir / "feedback" / student / A / f"{A}.html"), HIDDEN) == []
        for c in r.cells:
            if "hidden" in c["grade_id"]:
                assert "expected" not in c["message"], c["message"]


@pytest.mark.parametrize("student,flag,says", [
    ("corrupted", "unreadable notebook", "is not valid JSON"),
    ("not_utf8", "unreadable notebook", "is not UTF-8"),
    ("missing", "missing notebook", "no notebook 01-rnn-basics.ipynb"),
])
def test_an_unusable_submission_scores_zero_with_a_clear_message(graded, student, flag, says):
    r = graded[1][student]
    assert r.score == 0 and r.max_score == FULL
    assert flag in r.flags
    assert any(says in m for m in r.messages), r.messages


@pytest.mark.parametrize("student,says", [
    ("renamed", "renamed to my homework (final).ipynb"),
    ("old_format", "was in notebook format 3; it was converted"),
    ("extra_files", "extra files were ignored: latin1.csv, notes.txt"),
])
def test_a_recoverable_submission_is_graded_with_a_note(graded, student, says):
    r = graded[1][student]
    assert r.score == FULL
    assert any(says in m for m in r.messages), r.messages


def test_the_gradebook_and_csv_hold_every_student_once(graded):
    course_dir, results = graded
    with sqlite3.connect(course_dir / "gradebook.db") as db:
        rows = db.execute("select student.id, count(*) from submitted_assignment join student "
                          "on student.id = submitted_assignment.student_id group by student.id").fetchall()
    valid = sorted(s for s in results if s != "bad\nid")
    assert sorted(s for s, _ in rows) == valid and all(n == 1 for _, n in rows)
    import csv
    lines = list(csv.DictReader(open(course_dir / "grades.csv")))
    assert sorted(r["student_id"] for r in lines) == sorted(results)
    for row in lines:
        assert float(row["score"]) == results[row["student_id"]].score


def test_a_serial_regrade_gives_the_same_scores_as_the_parallel_run(graded, tmp_path):
    course_dir, results = graded
    again = tmp_path / "again"
    for student in ["good", "infinite_loop", "patches_compare", "deleted_cells", "stderr_and_warnings"]:
        (again / "submitted" / student).mkdir(parents=True)
        import shutil
        shutil.copytree(course_dir / "submitted" / student / A, again / "submitted" / student / A)
    second = {r.student: r for r in course.grade(ROOT, A, again, limits=LIMITS, jobs=1, progress=False).results}
    for student, r in second.items():
        first = results[student]
        assert [(c["grade_id"], c["points"]) for c in r.cells] == [(c["grade_id"], c["points"]) for c in first.cells]
        assert r.flags == first.flags


def test_a_killed_run_resumes_without_duplicates_or_losses(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    course_dir = tmp_path / "course"
    for i in range(6):
        folder = course_dir / "submitted" / f"s{i}" / A
        folder.mkdir(parents=True)
        nbformat.write(solved() if i % 2 == 0 else make_submission(A, solved=False), folder / f"{A}.ipynb")
    cmd = [sys.executable, "-m", "autograde.grading.cli", "grade", A, "--course-dir", str(course_dir), "--jobs", "2"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not list((course_dir / "autograded").glob(f"*/{A}/result.json")):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {p.parts[-3] for p in (course_dir / "autograded").glob(f"*/{A}/result.json")}
    assert 0 < len(done_before) < 6, "the kill did not land mid-run"
    stamps = {s: (course_dir / "autograded" / s / A / "result.json").stat().st_mtime_ns for s in done_before}
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    results = {p.parts[-3]: json.loads(p.read_text()) for p in (course_dir / "autograded").glob(f"*/{A}/result.json")}
    assert sorted(results) == [f"s{i}" for i in range(6)]
    for s in done_before:  # finished results were reused, not regraded
        assert (course_dir / "autograded" / s / A / "result.json").stat().st_mtime_ns == stamps[s]
    for s, r in results.items():
        assert sum(c["points"] for c in r["cells"]) == (FULL if int(s[1:]) % 2 == 0 else 0)
    with sqlite3.connect(course_dir / "gradebook.db") as db:
        assert db.execute("select count(*) from submitted_assignment").fetchone() == (6,)
        assert db.execute("select count(*) from grade").fetchone() == (6 * 10,)


def test_without_bubblewrap_grading_refuses_unless_told_and_then_marks_results(tmp_path, monkeypatch):
    course_dir = tmp_path / "course"
    folder = course_dir / "submitted" / "s0" / A
    folder.mkdir(parents=True)
    nbformat.write(solved(), folder / f"{A}.ipynb")
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    with pytest.raises(course.CourseError, match="pass --no-sandbox"):
        course.grade(ROOT, A, course_dir, progress=False)
    result = course.grade(ROOT, A, course_dir, sandboxed=False, progress=False).results[0]
    assert result.score == FULL and result.flags == ["unsandboxed"]
    assert "unsandboxed" in (course_dir / "grades.csv").read_text()


def test_concurrent_grading_runs_never_share_a_sandbox_uid():
    with sandbox.UidClaim(2) as first, sandbox.UidClaim(2) as second:
        assert len(set(first) | set(second)) == 4
    with sandbox.UidClaim(2) as again:  # released when a run ends
        assert again == first


# --- Round two (issue 9): the kernel holds no answer, and every input is hostile -------

def test_records_written_by_the_notebook_itself_earn_nothing(graded):
    """It can copy the public answers (they ship), but public checks carry no points,
    and for hidden cases it holds only inputs."""
    course_dir, results = graded
    r = results["forges_records"]
    assert "forged" in text_of(executed(course_dir, "forges_records"))
    assert r.score == 0
    assert all(c["points"] == 0 for c in r.cells)


def test_reading_the_checks_frames_finds_no_hidden_answer(graded):
    r = graded[1]["walks_the_stack"]
    assert points(r, "rnn_cell") == 0
    public = next(c for c in r.cells if c["grade_id"] == "test_rnn_cell_public")
    assert public["max_points"] == 0  # the frame holds the public answers, which earn nothing


def test_the_kernel_can_find_no_seed_no_answer_no_reference_and_no_torch(graded):
    course_dir, results = graded
    r = results["snoops"]
    out = text_of(executed(course_dir, "snoops"))
    for mod in ["torch", "autograde.chapters", "autograde.grading", "autograde.grading.references"]:
        assert f"{mod} not importable" in out
    assert "SNOOPED" in out and r.score == FULL
    assert "beside me 1" in out  # its own folder: no other submission's is even there
    mode, owner, me = out.split("mode ")[1].split()[0], out.split("owner ")[1].split()[0], out.split("me ")[1].split()[0]
    assert mode == "0o700" and owner == me
    # What it saw is gone with its work folder; run the snoop again here on what it was given.
    a = pipeline.Assignment(A, nbformat.read(course_dir / "source" / A / f"{A}.ipynb", 4),
                            nbformat.read(course_dir / "release" / A / f"{A}.ipynb", 4))
    seeds = a.seeds_for(r.key)
    base = a.hidden_checks()
    source = nbformat.writes(a.sandbox_source)
    assert "hidden_seed" not in source and all(f"={b})" not in source for b in base.values())
    text = nbformat.writes(executed(course_dir, "snoops"))
    for seed in seeds.values():
        assert str(seed) not in text
    assert "hidden_seed" not in text


def test_forged_runner_frames_and_silenced_tracebacks_earn_nothing(graded):
    """The kernel can write the runner's frames itself (it reads the runner's source):
    outputs then say whatever it likes, but a point needs the trusted comparison too."""
    r = graded[1]["forges_frames"]
    for fn in ("rnn_cell", "rnn_forward", "many_to_one"):
        assert points(r, fn) == 0
    assert points(r) <= POINTS["jordan_step"] + POINTS["rnn_param_count"]
    assert "suspected tampering" in r.flags or "crash" in r.flags


def test_the_runners_memory_holds_no_seed(graded):
    """The kernel reads the memory of the runner that feeds it (its parent) and its own
    (forked from the runner), all that is writable (where anything put there while the
    process runs is; the read-only mappings are the programs' code and constants, and
    reading them too took the cell past its 6 s limit on a slow machine): no hidden seed
    of this submission is in either."""
    course_dir, results = graded
    r = results["reads_runner_memory"]
    assert r.score == FULL
    out = text_of(executed(course_dir, "reads_runner_memory"))
    read = int(out.split("read ")[1].split()[0])
    assert read > 1 << 20, out[:500]  # the attack really read memory
    assert "seed marker in the runner: False" in out
    assert "DIGITS " in out and "[output cut" not in out  # every run of digits it found is here
    found = set(out.split("DIGITS ")[1].split())
    a = pipeline.Assignment(A, nbformat.read(course_dir / "source" / A / f"{A}.ipynb", 4),
                            nbformat.read(course_dir / "release" / A / f"{A}.ipynb", 4))
    seeds = a.seeds_for(r.key)
    assert seeds and all(s >= 10**9 for s in seeds.values())  # long enough to be among the runs searched
    assert not {str(s) for s in seeds.values()} & found


def test_the_hidden_inputs_file_holds_inputs_only(tmp_path):
    from autograde.grading import references
    path = notebooks.write_hidden_inputs(tmp_path / "h.npz", {"rnn_cell": 5, "rnn_forward": 6})
    import numpy as np
    with np.load(path) as data:
        assert data.files and all("/in/" in k for k in data.files)


def test_feedback_shows_no_seed(graded):
    course_dir, results = graded
    for student in ["good", "snoops", "stub"]:
        page = (course_dir / "feedback" / student / A / f"{A}.html").read_text(encoding="utf-8")
        assert "hidden_seed" not in page
        assert "seed=" not in page


def test_an_invalid_student_id_costs_only_that_student(graded):
    course_dir, results = graded
    r = results["bad\nid"]
    assert r.score == 0 and "invalid student id" in r.flags
    assert any("control character" in m for m in r.messages)
    assert results["good"].score == FULL
    import csv
    rows = {row["student_id"]: row for row in csv.DictReader(open(course_dir / "grades.csv"))}
    assert "bad\nid" in rows and rows["good"]["score"] == "11"
    assert (course_dir / f"grades-lms-{A}.csv").exists()
    assert (course_dir / "reports" / A / "index.html").exists()


@pytest.mark.parametrize("student,says", [
    ("symlinked_notebook", "refused, never opened: 01-rnn-basics.ipynb (a link)"),
    ("hard_linked", "refused, never opened: 01-rnn-basics.ipynb (a hard link)"),
])
def test_links_in_a_submission_are_never_followed(graded, student, says):
    course_dir, results = graded
    r = results[student]
    assert r.score == 0 and "missing notebook" in r.flags
    assert any(says in m for m in r.messages), r.messages
    assert not (course_dir / "autograded" / student / A / f"{A}.ipynb").exists()


def test_an_extra_file_linked_to_the_solutions_is_refused_and_leaks_nothing(graded):
    course_dir, results = graded
    r = results["symlinked_extra"]
    assert r.score == FULL
    assert any("answers.ipynb (a link)" in m for m in r.messages)
    secrets = leaks.secret_lines(ROOT / "solutions" / A / f"{A}.ipynb")
    solution_only = {k: v for k, v in secrets.items() if v == "solution"}
    page = course_dir / "feedback" / "symlinked_extra" / A / f"{A}.html"
    executed_text = nbformat.writes(executed(course_dir, "symlinked_extra"))
    assert "### BEGIN SOLUTION" not in executed_text and "hidden_seed" not in page.read_text()


@pytest.mark.parametrize("student,says", [
    ("ten_thousand_cells", "has 10"),
    ("too_big", "over the cap"),
])
def test_an_oversized_notebook_is_refused_with_a_clear_message(graded, student, says):
    r = graded[1][student]
    assert r.score == 0 and "unreadable notebook" in r.flags
    assert any(says in m for m in r.messages), r.messages


def test_bounded_records_a_malformed_record_costs_only_its_submission(graded):
    r = graded[1]["huge_records"]
    assert r.score == FULL
    assert any("malformed record" in m for m in r.messages)
    assert any("only the first" in m for m in r.messages)
    assert r.seconds["wall"] < 60


def test_record_bombs_are_refused_unread_and_cost_only_their_case(graded):
    r = graded[1]["record_bombs"]
    assert "bombs" in text_of(executed(graded[0], "record_bombs"))
    bombed = [c for c in r.cells if c["grade_id"] == "test_rnn_cell_hidden"]
    assert bombed and "as an array of dtype |S1 (not numbers)" in bombed[0]["message"], bombed
    assert any("10 malformed record(s) were ignored" in m and "too large when unpacked" in m for m in r.messages)
    assert points(r, "rnn_cell") < POINTS["rnn_cell"]  # its own hidden case: it wrote the bombs
    assert all(c["points"] == c["max_points"] for c in r.cells if function_of(c["grade_id"]) != "rnn_cell")
    assert r.seconds["wall"] < 60


def test_named_pipes_left_by_the_sandbox_never_hang_the_grader(graded):
    course_dir, results = graded
    r = results["named_pipes"]  # the fixture finished: nothing blocked
    assert r.max_score == FULL
    assert results["good"].score == FULL


def test_running_out_of_file_descriptors_is_reported_as_such_not_as_tampering(graded):
    course_dir, results = graded
    r = results["exhausts_fds"]
    assert "out of file descriptors after" in text_of(executed(course_dir, "exhausts_fds"))
    assert "suspected tampering" not in r.flags
    assert "resource exhausted" in r.flags
    assert any("ran out of open files" in m for m in r.messages), r.messages


def test_the_work_folder_has_a_disk_cap(graded):
    course_dir, results = graded
    out = text_of(executed(course_dir, "fills_disk"))
    assert "disk full: No space left on device" in out
    assert results["fills_disk"].score == FULL


def test_a_wall_limit_kill_is_reported_as_a_timeout_and_stale_scratch_is_cleaned(tmp_path):
    stale = sandbox.SCRATCH_ROOT / "run-stale-test"
    stale.mkdir(parents=True, exist_ok=True)
    (stale / "hidden-inputs.npz").write_bytes(b"left by a grader killed with SIGKILL")
    course_dir = tmp_path / "course"
    folder = course_dir / "submitted" / "slow" / A
    folder.mkdir(parents=True)
    # A cell that ends before the wall limit, then a markdown cell, then the answer cell that
    # is running when the wall limit stops the run: the message names that one (item 9).
    nb = solved(rnn_cell=notebooks.solution_code(ROOT, A)["rnn_cell"] + "\nimport time\ntime.sleep(8)")
    nb = extra_cell(nb, "import time\ntime.sleep(6)", after="imports")
    assert nb.cells[[c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells].index("imports") + 2] \
        .cell_type == "markdown"
    nbformat.write(nb, folder / f"{A}.ipynb")
    limits = sandbox.Limits(cell_timeout=9, wall_seconds=10)
    r = course.grade(ROOT, A, course_dir, limits=limits, progress=False).results[0]
    assert "timeout" in r.flags and "crash" not in r.flags
    assert any("stopped at the wall time limit (10 s) while running rnn_cell;" in m for m in r.messages), r.messages
    assert all("kernel had died" not in c["message"] for c in r.cells)
    assert not stale.exists()
