"""The student's path (issue 11): the wheel they install, and what a failing check tells them.

The wheel: built from the checkout, it holds only autograde/__init__.py and
autograde/kernel (no solution line, no hidden seed, no chapters or grading module), and
installed into a fresh venv with numpy it runs the released notebook's public checks.

The messages: a failing check shows its message and not a traceback into the package
(and the student's own line when their code raised), wrapped between words; printed
values differ when the values do; an argument changed in place fails the function's own
check, naming it; float32 fails with a message saying float64 is promised, in its own
check and downstream; a failure caused by a failing upstream function names it; a
shape error is never told to find a first differing index.
"""
from __future__ import annotations

import hashlib
import base64
import re
import subprocess
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograde import chapters
from autograde.grading import authoring, score, wheel
from kit import leaks, notebooks
from autograde.kernel import checks
from autograde.kernel.checks import CheckFailed, check
from autograde.kernel.compare import compare_output, format_pair
from conftest import ASSIGNMENTS, ROOT, release_path, solution_path
from test_checks import load_functions

WRONG_CELL = {"rnn_cell": '''
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T)
'''}


@pytest.fixture(autouse=True)
def fresh_kernel_state():
    checks._passed.clear()
    yield
    checks._passed.clear()


def failure(name, fn) -> str:
    with pytest.raises(CheckFailed) as info:
        check(name, fn)
    return str(info.value)


# ------------------------------------------------------------------ 1: the wheel

@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory) -> Path:
    return wheel.build(tmp_path_factory.mktemp("wheel"))


def test_the_wheel_holds_the_kernel_and_nothing_else(built_wheel):
    assert built_wheel.name == f"rnn_course_checks-{wheel.version()}-py3-none-any.whl"
    with zipfile.ZipFile(built_wheel) as zf:
        names = zf.namelist()
        for name in names:
            assert name == "autograde/__init__.py" or name.startswith(
                ("autograde/kernel/", f"rnn_course_checks-{wheel.version()}.dist-info/")), name
        assert not any("chapters" in n or "grading" in n or "solutions" in n for n in names)
        assert {"autograde/kernel/checks.py", "autograde/kernel/data/01-rnn-basics.npz",
                "autograde/kernel/adapters/__init__.py", "autograde/kernel/adapters/ch06_optimizers.py"} <= set(names)
        # RECORD lists every other file with its true hash
        info = f"rnn_course_checks-{wheel.version()}.dist-info"
        record = zf.read(f"{info}/RECORD").decode().splitlines()
        listed = {line.split(",")[0]: line.split(",")[1] for line in record}
        assert set(listed) == set(names)
        for name in names:
            if name != f"{info}/RECORD":
                digest = base64.urlsafe_b64encode(hashlib.sha256(zf.read(name)).digest()).rstrip(b"=")
                assert listed[name] == "sha256=" + digest.decode(), name


def test_the_wheel_holds_no_solution_line_and_no_hidden_seed(built_wheel):
    secrets = {}
    seeds = set()
    for a in ASSIGNMENTS:
        secrets.update(leaks.secret_lines(solution_path(a)))
        seeds |= {str(s) for s in re.findall(r"hidden_seed=(\d+)", solution_path(a).read_text())}
    assert secrets and seeds
    with zipfile.ZipFile(built_wheel) as zf:
        for name in zf.namelist():
            data = zf.read(name)
            text = data.decode("utf-8", errors="replace") if not name.endswith(".npz") else ""
            if name.endswith(".npz"):  # the specs inside: JSON text
                with zf.open(name) as f, np.load(f) as npz:
                    text = str(npz["spec"])
                    assert not any(k.startswith(("hidden", "seed")) or "/hidden/" in k for k in npz.files)
            assert leaks.find_leaks(text, secrets) == [], name
            assert not set(re.findall(r"hidden_seed=(\d+)", text)) & seeds, name
            assert "public_seed" not in text and "import torch" not in text, name
            found = set(re.findall(r"\b\d{3,5}\b", text)) & seeds
            assert not found, (name, found)


def test_a_planted_solution_line_would_be_found(tmp_path):
    """The leak check above can fail: a kernel file quoting a solution line is caught."""
    package = tmp_path / "autograde"
    (package / "kernel" / "data").mkdir(parents=True)
    (package / "__init__.py").write_text('__version__ = "0.1.0"\n')
    line = next(iter(leaks.secret_lines(solution_path(ASSIGNMENTS[0]))))
    (package / "kernel" / "oops.py").write_text(f"# {line}\n")
    whl = wheel.build(tmp_path / "out", package_dir=package)
    with zipfile.ZipFile(whl) as zf:
        text = zf.read("autograde/kernel/oops.py").decode()
    assert leaks.find_leaks(text, leaks.secret_lines(solution_path(ASSIGNMENTS[0])))


@pytest.mark.venv  # student_venv or student_torch_venv, asked for by name
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_wheel_in_a_fresh_venv_runs_the_released_notebooks_public_checks(request, assignment,
                                                                           monkeypatch, tmp_path):
    from nbclient import NotebookClient

    monkeypatch.delenv("PYTHONPATH", raising=False)  # a checkout on the path is no student's
    torch_declared = "torch" in chapters.sandbox_imports(assignment)  # its intro asks for torch too
    python, kernel_dir = request.getfixturevalue("student_torch_venv" if torch_declared else "student_venv")
    probe = subprocess.run([str(python), "-c", "import autograde.kernel, importlib.util as u; "
                            "print(autograde.kernel.__file__); "
                            "print([m for m in ('torch', 'autograde.chapters', 'autograde.grading') "
                            "if u.find_spec(m)])"], capture_output=True, text=True, cwd=tmp_path)
    where, missing = probe.stdout.split()[0], probe.stdout.split("\n", 1)[1].strip()
    assert probe.returncode == 0 and missing == ("['torch']" if torch_declared else "[]"), \
        probe.stdout + probe.stderr
    assert "site-packages" in where and not where.startswith(str(ROOT / "autograde")), where
    nb = notebooks.student_notebook(ROOT, assignment)
    nb.cells.append(nbformat.v4.new_code_cell("import autograde.kernel; print(autograde.kernel.__file__)"))
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))
    NotebookClient(nb, kernel_name="student", timeout=120, resources={"metadata": {"path": str(tmp_path)}},
                   allow_errors=False).execute()
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "site-packages" in nb.cells[-1].outputs[0]["text"]  # the kernel's checks are the wheel's
    for fn in chapters.assignments()[assignment]:
        assert f"ok: {fn.name} {'passes' if fn.judge else 'matches'}" in text


def test_the_exercise_intro_says_how_to_install_and_what_is_graded():
    for a in ASSIGNMENTS:
        intro = nbformat.read(release_path(a), as_version=4).cells[0].source
        assert wheel.wheel_name() in intro and "ask your instructor" in intro  # no book address yet
        assert "_static" not in intro  # no link that works only inside the book's folder
        assert f"Python {wheel.LOWEST_PYTHON} or newer" in intro
        cells = nbformat.read(release_path(a), as_version=4).cells
        imports = next(i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "imports")
        assert cells[imports - 1].source.endswith(f"%pip install {wheel.wheel_name()}")  # the install cell
        assert f"nbgrader validate {a}.ipynb" in intro and "pip install nbgrader" in intro
        # Seed 004 is explained where the exercise refers to it (a known mistake's message
        # quotes it or names "the seed"), and always with the reason; nowhere else (exercise 8)
        messages = " ".join(m.explanation for fn in chapters.assignments()[a] for m in chapters.mistakes_for(fn.name))
        if re.search(r"seed 004|the seed\b", messages, re.I):
            assert "Seed 004" in intro and "深度学习 | DRNN、BRNN、LSTM、GRU" in intro, a
        if "Seed 004" in intro:
            assert re.search(r"LSTM and GRU;\s*\S", intro), f"{a}: the intro names seed 004 without saying why"
        assert "<!-- course:" not in intro  # every standard paragraph written in (grading/intro.py)
        assert "**How to work.**" in intro and "**Before you hand in,**" in intro
        for fn in chapters.assignments()[a]:
            assert re.search(rf"`{fn.name}` \d+", intro), fn.name  # points per function
    assert "Seed 004" not in nbformat.read(release_path("08-char-lm"), as_version=4).cells[0].source


def test_with_a_published_book_every_notebook_links_the_wheel_by_its_address(tmp_path):
    """Issue 24, item 1: the address comes from _config.yml (html.baseurl), set once; the
    link's text is the address itself, the install cell installs from it, and the intro
    says what to do when it cannot be reached."""
    url = "https://books.example.org/rnn-course"
    address = f"{url}/_static/{wheel.wheel_name()}"
    for nb_path in authoring.release(ROOT, out_dir=tmp_path, url=url):
        nb = nbformat.read(nb_path, as_version=4)
        intro = nb.cells[0].source
        assert f"[{address}]({address})" in intro, intro
        assert "cannot be reached" in intro and f"[{url}/]({url}/)" in intro
        assert "../_static" not in intro and "ask your instructor" not in intro
        install = [c for c in nb.cells if c.cell_type == "code" and "%pip install" in c.source]
        assert len(install) == 1 and install[0].source.endswith(f"%pip install {address}")
    assert authoring.book_url(ROOT) == "", "a real address in _config.yml: test it like the one above"
    for a in ASSIGNMENTS:  # the release above left the checkout's notebooks as they were
        assert address not in (ROOT / "solutions" / a / f"{a}.ipynb").read_text()


# ------------------------------------------------------------------ 3: the message, not a traceback

def run_cells(cells: list[str]) -> str:
    """Run cells in a real IPython shell; return what it printed (as a notebook shows it)."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    out = []
    for cell in cells:
        with capture_output() as captured:
            shell.run_cell(cell, store_history=True)
        out.append(captured.stdout + captured.stderr)
    return "\n".join(out)


def test_a_failing_check_shows_its_message_and_the_students_line_not_our_traceback():
    shown = run_cells([
        "import numpy as np\nfrom autograde.kernel import check",
        "def jordan_step(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y):\n"
        "    h_t = np.tanh(x_t @ W_ih + y_prev @ W_yh.T + b_h)\n"
        "    return h_t, h_t @ W_hy.T + b_y",
        'check("jordan_step", jordan_step)',
    ])
    plain = re.sub(r"\x1b\[[0-9;]*m", "", shown)
    assert "jordan_step, public case 0" in plain and "raised ValueError" in plain
    assert "Traceback" not in plain and "checks.py" not in plain and "site-packages" not in plain
    assert re.search(r"in your code: Cell In\[\d+\], line 2, in jordan_step", plain), plain
    assert "h_t = np.tanh(x_t @ W_ih + y_prev @ W_yh.T + b_h)" in plain


def test_long_message_lines_are_wrapped_between_words():
    message = failure("rnn_cell", lambda *a: np.tanh(a[0] @ a[2].T + a[4]))
    lines = checks.CheckFailed(message)._render_traceback_()[1:]
    assert all(len(line) <= checks.WIDTH for line in lines)
    assert max(len(line) for line in message.split("\n")) > checks.WIDTH  # there was something to wrap
    assert " ".join(line.strip() for line in lines).split() == message.split()  # no word was cut


# ------------------------------------------------------------------ 4: digits

def test_printed_values_have_the_digits_to_differ_and_zero_prints_as_0():
    expected = np.array([[-2.399061, 0.5], [0.0, 1.0]])
    got = expected.copy()
    got[0, 0] += 5e-6  # beyond rtol=1e-6, equal to 6 significant digits
    message = compare_output("h_t", expected, got).message
    want, have = re.search(r"expected (\S+), got (\S+)", message).groups()
    assert want != have and float(want) == pytest.approx(expected[0, 0], abs=1e-9)
    got = expected.copy()
    got[1, 0] = 1e-3
    assert "expected 0, got 0.001" in compare_output("h_t", expected, got).message
    assert format_pair(0.0, -0.0) == ("0", "0")
    assert format_pair(1.0, 1.0 + 2 ** -40) != ("1", "1")


# ------------------------------------------------------------------ 5: arguments changed in place

IN_PLACE = {
    "rnn_cell": ("b_ih", '''
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    b = b_ih
    b += b_hh
    return np.tanh(x_t @ W_ih.T + h_prev @ W_hh.T + b)
'''),
    "rnn_forward": ("h_0", '''
def rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh):
    h = h_0
    states = []
    for x_t in X:
        h[:] = rnn_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)
        states.append(h.copy())
    return np.stack(states), h
'''),
    "rnn_cell_backward": ("h_t", None),
    "tbptt_step": ("W_ih", None),
    "lstm_cell_backward": ("cache['f']", None),  # an array inside a dict argument (issue 23, item 11)
}


def _in_place_source(assignment, name):
    arg, source = IN_PLACE[name]
    if source is not None:
        return arg, source
    solution = notebooks.solution_code(ROOT, assignment)[name]
    if name == "rnn_cell_backward":  # squares the argument h_t in place, then uses 1 - h_t
        return arg, solution.replace("da = dh_t * (1 - h_t ** 2)", "h_t **= 2\n    da = dh_t * (1 - h_t)")
    if name == "lstm_cell_backward":  # right gradients, then the caller's cache["f"] zeroed
        return arg, solution.replace("dc_prev = dc * gf", "dc_prev = dc * gf\n    gf *= 0")
    return arg, solution.replace("return (W_ih - lr * dW_ih,", "W_ih -= lr * dW_ih\n    return (W_ih,")


@pytest.mark.parametrize("name", list(IN_PLACE))
def test_an_argument_changed_in_place_fails_the_functions_own_check_naming_it(name):
    assignment = chapters.get(name).assignment
    arg, source = _in_place_source(assignment, name)
    assert source != notebooks.solution_code(ROOT, assignment)[name]
    ns = load_functions(assignment, {name: source})
    message = failure(name, ns[name])
    assert f"{name} changed its argument {arg} in place" in message, message


def test_restoring_a_perturbed_entry_is_not_a_change():
    ns = load_functions("02-bptt")
    check("numerical_gradient", ns["numerical_gradient"])  # x[i] += eps ... restored: passes


# ------------------------------------------------------------------ 6: float64

FLOAT32_CELL = {"rnn_cell": '''
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh).astype(np.float32)
'''}


def test_float32_fails_with_the_float64_rule_in_its_own_check_and_downstream():
    ns = load_functions("01-rnn-basics", FLOAT32_CELL)
    own = failure("rnn_cell", ns["rnn_cell"])
    assert "h_t is float32, not float64" in own and "promise float64" in own
    assert "values agree with the reference to float32 precision" in own
    downstream = failure("rnn_forward", ns["rnn_forward"])
    assert "output is float32, not float64" in downstream and "promise float64" in downstream
    assert "Note: rnn_forward uses rnn_cell" in downstream
    # many_to_one's head (float64 weights) promotes the float32 state back to float64, but
    # float32 arithmetic upstream is off by far more than the float64-grade tolerance
    further = failure("many_to_one", ns["many_to_one"])
    assert "Errors this small" in further and "promise float64" in further, further
    assert "many_to_one uses rnn_cell and rnn_forward" in further, further


def test_float32_arithmetic_cast_back_is_named_when_it_changes_the_answer():
    expected = np.linspace(-1, 1, 12).reshape(3, 4) / 3
    got = (expected * (1 + 1e-5)).astype(np.float32).astype(np.float64)
    message = compare_output("h_t", expected, got).message
    assert "float32 number stored as float64" in message


# ------------------------------------------------------------------ 7: cascades

def test_a_failure_caused_upstream_names_the_upstream_function():
    ns = load_functions("01-rnn-basics", WRONG_CELL)
    failure("rnn_cell", ns["rnn_cell"])
    assert "Note: rnn_forward uses rnn_cell, which fails its own check" in failure("rnn_forward", ns["rnn_forward"])
    assert "fix rnn_cell first" in failure("many_to_one", ns["many_to_one"])
    right = load_functions("01-rnn-basics")
    check("rnn_cell", right["rnn_cell"])  # once fixed, the note goes
    assert "Note:" not in failure("rnn_forward", lambda *a: right["rnn_forward"](*a)[::-1])


def test_the_specs_say_which_functions_use_which():
    uses = {fn.name: fn.spec().uses for a in ASSIGNMENTS for fn in chapters.assignments()[a]}
    assert uses["rnn_forward"] == ("rnn_cell",) and uses["many_to_one"] == ("rnn_forward",)
    assert uses["rnn_backward"] == ("rnn_cell_backward",) and uses["tbptt_step"] == ("rnn_backward",)
    from autograde.kernel.cases import spec
    assert spec("rnn_backward").uses == ("rnn_cell_backward",)  # shipped to the kernel too


def test_grading_notes_a_cascade_in_the_cell_message():
    cells = [{"grade_id": f"test_{f}_hidden", "kernel_passed": ok, "trusted_passed": ok, "message": m}
             for f, ok, m in (("rnn_cell", False, "wrong"), ("rnn_forward", False, "wrong"),
                              ("many_to_one", True, "passed"), ("jordan_step", False, "wrong"))]
    score.note_cascades(cells)
    assert "rnn_forward uses rnn_cell, which fails its own check" in cells[1]["message"]
    assert cells[0]["message"] == "wrong" and cells[2]["message"] == "passed" and cells[3]["message"] == "wrong"


# ------------------------------------------------------------------ 8: diagnosis wording

def test_a_shape_error_is_never_told_to_find_a_first_differing_index():
    message = failure("rnn_cell", lambda x_t, h_prev, *rest: np.zeros((x_t.shape[0] + 1, h_prev.shape[1])))
    assert "has shape" in message
    assert "first differing index" not in message


def test_titles_say_what_the_student_did():
    titles = {(m.function, m.key): m.title for fn in ("rnn_param_count", "rnn_forward")
              for m in chapters.mistakes_for(fn)}
    assert titles[("rnn_param_count", "one-bias")] == "the biases counted once per layer and direction"
    assert "instead of" not in titles[("rnn_forward", "h_n-first")]
    assert "not taken into account" not in titles[("rnn_param_count", "bias-ignored")]


@pytest.mark.slow
def test_the_book_serves_the_wheel_from_each_exercise_page(built_book, built_wheel):
    """`make book` builds the wheel into the site; each exercise page links to it."""
    served = built_book / "_static" / built_wheel.name
    assert served.read_bytes() == built_wheel.read_bytes()  # the same sources, the same bytes
    for a in ASSIGNMENTS:
        page = built_book / "exercises" / a / f"{a}.html"
        hrefs = re.findall(r'href="([^"]+\.whl)"', page.read_text(encoding="utf-8"))
        assert hrefs, a
        for href in hrefs:
            assert (page.parent / href).resolve() == served.resolve(), href


def test_the_trusted_rescoring_applies_the_same_rules(tmp_path, monkeypatch):
    """Float32 and arguments changed in place fail outside the kernel too (hidden cases,
    where only the trusted comparison knows the answer)."""
    from autograde.grading import records, trusted
    from autograde.kernel import record

    functions = chapters.assignments()["01-rnn-basics"]
    known = {fn.name: len(fn.outputs) for fn in functions}
    ns32 = load_functions("01-rnn-basics", FLOAT32_CELL)
    _, in_place = _in_place_source("01-rnn-basics", "rnn_cell")
    nsip = load_functions("01-rnn-basics", {"rnn_cell": in_place})
    for label, fn in (("f32", ns32["rnn_cell"]), ("inplace", nsip["rnn_cell"])):
        monkeypatch.setenv(record.ENV, str(tmp_path / label))
        try:
            check("rnn_cell", fn, hidden_seed=7)  # the kernel cannot judge float32 here
        except CheckFailed:
            pass
        verdicts = trusted.rescore(records.read(tmp_path / label, known).records, {"rnn_cell": 7})
        assert verdicts and not any(v.passed for v in verdicts), label
        if label == "f32":
            assert all("h_t is float32, not float64" in v.message for v in verdicts)
        else:
            assert all("changed its argument b_ih in place" in v.message for v in verdicts)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_states_the_rules_its_checks_enforce(assignment):
    """Issue 23, item 11: float64 arithmetic and arguments left unchanged are enforced in every
    exercise, so every exercise says so before its first function."""
    nb = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)
    first_task = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "NotImplementedError" in c.source)
    intro = " ".join(" ".join(c.source.split()) for c in nb.cells[:first_task] if c.cell_type == "markdown")
    assert "**Rules.** Compute in float64 throughout" in intro
    assert "float32 arithmetic anywhere inside" in intro
    if assignment != "06-optimizers":  # a step may update theta and its state in place, as torch.optim
        assert "Leave your arguments unchanged, arrays inside a list or dict argument included" in intro


def test_an_argument_changed_by_the_function_a_function_calls_says_where_to_look():
    """Issue 23, item 13: lstm_cell_forward overwrites c_prev; lstm_forward, which passes
    c_0 on to it, is told that the change may be made there, and its note names it."""
    solution = notebooks.solution_code(ROOT, "03-lstm")["lstm_cell_forward"]
    mutating = solution.replace("    return gate_o * np.tanh(c_new), c_new",
                                "    c_prev[...] = c_new\n    return gate_o * np.tanh(c_prev), c_prev.copy()")
    assert mutating != solution
    ns = load_functions("03-lstm", {"lstm_cell_forward": mutating})
    own = failure("lstm_cell_forward", ns["lstm_cell_forward"])
    assert "lstm_cell_forward changed its argument c_prev in place" in own
    downstream = failure("lstm_forward", ns["lstm_forward"])
    assert "lstm_forward changed its argument c_0 in place" in downstream
    assert "If lstm_forward passes it on to lstm_cell_forward, the change may be made there" in downstream
    assert "Note: lstm_forward uses lstm_cell_forward" in downstream


def lowest_python() -> Path:
    """An interpreter of the lowest Python the wheel admits (wheel.LOWEST_PYTHON): on the
    PATH as python3.9, or one of pyenv's (the course's machines have pyenv's 3.9)."""
    import glob
    import os
    import shutil

    name = f"python{wheel.LOWEST_PYTHON}"
    pyenv = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = sorted(glob.glob(f"{pyenv}/versions/{wheel.LOWEST_PYTHON}.*/bin/python")) + \
        [p for p in [shutil.which(name)] if p]
    found = next((p for p in candidates  # a pyenv shim of a version not selected fails: skip it
                  if subprocess.run([p, "-c", ""], capture_output=True).returncode == 0), None)
    if not found:
        pytest.fail(f"no {name} to test the wheel's lowest Python on: install one (pyenv install "
                    f"{wheel.LOWEST_PYTHON}) or put {name} on the PATH")
    return Path(found)


@pytest.mark.venv
def test_the_wheel_installs_and_passes_every_numpy_exercise_on_the_lowest_python_it_admits(tmp_path):
    """Issue 24, item 2: the wheel's metadata admits Python 3.9, so a fresh 3.9 venv with
    the numpy pip chooses there (numpy>=2: 2.0) installs it without overriding anything and
    runs each released notebook's public checks on the solutions. The capstone needs
    PyTorch 2.13, which needs Python 3.10: its intro says so."""
    python = lowest_python()
    venv = tmp_path / "venv"
    subprocess.run([str(python), "-m", "venv", str(venv)], check=True)
    whl = wheel.build(tmp_path / "wheel")
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(whl)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    version = subprocess.run([str(venv / "bin" / "python"), "-c", "import sys, numpy; "
                              "print(sys.version_info[:2], numpy.__version__)"],
                             capture_output=True, text=True, check=True).stdout
    assert version.startswith(f"({wheel.LOWEST_PYTHON.replace('.', ', ')})"), version
    for a in ASSIGNMENTS:
        if "torch" in chapters.sandbox_imports(a):
            intro = nbformat.read(release_path(a), as_version=4).cells[0].source
            assert "needs Python 3.10 or newer" in intro
            continue
        nb = notebooks.student_notebook(ROOT, a)
        script = tmp_path / f"{a}.py"
        script.write_text("\n\n".join(c.source for c in nb.cells if c.cell_type == "code"
                                      and not c.source.lstrip().startswith(("%", "#"))))
        run = subprocess.run([str(venv / "bin" / "python"), str(script)], capture_output=True, text=True,
                             cwd=tmp_path, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
        for fn in chapters.assignments()[a]:
            assert f"ok: {fn.name} {'passes' if fn.judge else 'matches'}" in run.stdout, (a, fn.name)
