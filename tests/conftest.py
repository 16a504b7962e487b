"""Shared fixtures: the checkout, its assignments, and helpers to build submissions."""
from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograde import chapters
from autograde.grading import authoring
from kit import notebooks

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(authoring.assignment_sources(ROOT))
BIN = Path(sys.executable).parent


def solution_path(name: str) -> Path:
    return ROOT / "solutions" / name / f"{name}.ipynb"


def release_path(name: str) -> Path:
    return ROOT / "exercises" / name / f"{name}.ipynb"


def solution_sources(name: str) -> dict[str, str]:
    return notebooks.solution_code(ROOT, name)


def grade_class(course_dir: Path, assignment: str, subs: dict[str, nbformat.NotebookNode]
                ) -> dict[str, dict[str, tuple[float, float]]]:
    """Put each student's notebook in `course_dir`/submitted, grade them all with one real
    `rnn-course grade`, and return each student's {grade id: (score, max score)} from the
    gradebook."""
    from nbgrader.api import Gradebook

    for student, nb in subs.items():
        folder = course_dir / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
    proc = subprocess.run([str(BIN / "rnn-course"), "grade", assignment, "--course-dir", str(course_dir)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    scores = {}
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        for student in subs:
            nb = gb.find_submission_notebook(assignment, assignment, student)
            scores[student] = {g.name: (g.score, g.max_score) for g in nb.grades}
    return scores


def make_submission(name: str, replace: dict[str, str] | None = None, solved: bool = True) -> nbformat.NotebookNode:
    return notebooks.student_notebook(ROOT, name, replace, solved)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """Build the whole book strictly, as `make book` does (from the committed exercises/,
    which test_release checks are up to date); return the HTML folder. Once per run: with
    `make test`'s workers (pytest-xdist), the first to ask builds it and the others wait
    for it and read what it found."""
    with once_per_run(tmp_path_factory, "built-book") as outcome:
        if outcome.read() is None:
            proc = subprocess.run([str(BIN / "jupyter-book"), "build", ".", "-W", "-n", "--keep-going"],
                                  cwd=ROOT, capture_output=True, text=True)
            outcome.write("" if proc.returncode == 0 else
                          f"the book does not build strictly:\n{proc.stdout[-6000:]}\n{proc.stderr[-4000:]}")
        if outcome.read():
            pytest.fail(outcome.read())
    return ROOT / "_build" / "html"


class _Outcome:
    def __init__(self, path: Path | None):
        self.path, self.text = path, None

    def read(self) -> str | None:
        if self.path is not None and self.path.exists():
            return self.path.read_text()
        return self.text

    def write(self, text: str) -> None:
        self.text = text
        if self.path is not None:
            self.path.write_text(text)


@contextlib.contextmanager
def once_per_run(tmp_path_factory, name: str):
    """Something done once per test run, whichever of pytest-xdist's workers asks first:
    the others wait (a lock in the run's shared temporary folder) and read its outcome (a
    string: "" for success, else why not; None while not done). Without workers, a plain
    value."""
    import os

    from filelock import FileLock

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield _Outcome(None)
        return
    shared = tmp_path_factory.getbasetemp().parent  # the run's folder, above each worker's own
    with FileLock(str(shared / f"{name}.lock")):
        yield _Outcome(shared / f"{name}.outcome")


def graded_functions(name: str) -> list[chapters.GradedFunction]:
    return chapters.assignments()[name]


@pytest.fixture(scope="session")
def student_venv() -> tuple[Path, Path]:
    return _student_venv()


@pytest.fixture(scope="session")
def student_torch_venv() -> tuple[Path, Path]:
    """The student's venv for the one exercise that declares torch (07-capstone): the
    same, plus `torch==2.13.0` as its intro tells the student to install."""
    return _student_venv(extra=("torch==2.13.0",))


def _student_venv(extra: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """A fresh venv as a student's: numpy and a kernel (numpy as the grading sandbox
    pins it, ipykernel as the course's environment does),
    then the student's wheel, built from this checkout; nothing else of the course.
    Returns (its python, a folder for JUPYTER_PATH holding its kernel "student"). Kept
    in .venv/student/<hash of the wheel and the pins>/, so a changed wheel gets a new one.
    One process at a time makes or checks them (make test's workers may ask at once)."""
    from filelock import FileLock

    (ROOT / ".venv" / "student").mkdir(parents=True, exist_ok=True)
    with FileLock(str(ROOT / ".venv" / "student" / ".lock")):
        return _make_student_venv(extra)


def _make_student_venv(extra: tuple[str, ...]) -> tuple[Path, Path]:
    import hashlib

    from autograde.grading import wheel

    wheels = ROOT / ".venv" / "student" / "wheels"
    whl = wheel.build(wheels)
    pins = [line.split("#")[0].strip() for line in (ROOT / "requirements-sandbox.txt").read_text().splitlines()
            if line.split("#")[0].strip().startswith("numpy==")]
    pins += [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
             if line.split("#")[0].strip().startswith("ipykernel==")]
    assert len(pins) == 2, pins
    pins += list(extra)
    key = hashlib.sha256(whl.read_bytes() + "\n".join(pins).encode()).hexdigest()[:12]
    folder = ROOT / ".venv" / ("student-torch" if extra else "student") / key
    python, kernels = folder / "bin" / "python", folder / "kernels"
    if not (folder / ".ready").exists():
        import shutil

        folder.parent.mkdir(parents=True, exist_ok=True)
        for old in folder.parent.iterdir():  # venvs of older wheels
            if old.is_dir() and old.name != "wheels":
                shutil.rmtree(old, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        proc = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *pins, str(whl)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.fail(f"pip could not install the student's wheel:\n{proc.stderr[-3000:]}")
        subprocess.run([str(python), "-m", "ipykernel", "install", "--prefix", str(kernels), "--name", "student"],
                       check=True, capture_output=True)
        (folder / ".ready").touch()
    return python, kernels / "share" / "jupyter"


@pytest.fixture(scope="session")
def browser():
    """One headless Debian chromium for every browser test of the session (Playwright's
    sync API allows one running instance at a time)."""
    import browser_checks as bc

    if not bc.CHROMIUM.exists():
        pytest.fail(f"{bc.CHROMIUM} is missing: run `make setup` (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = bc.launch(playwright)
    yield chromium
    chromium.close()
    playwright.stop()


# ---------------------------------------------------------------------------------------
# The tiers (README, "Tests"; markers in pyproject.toml). `make check` runs `-m "not slow"`.
# A test is marked from the fixtures it uses, so that using `built_book` is enough to leave
# the fast tier; and a test that starts one of the heavy tools itself without its marker
# fails, naming the marker, so the fast tier cannot grow a book build, a browser, a
# cluster or a venv unnoticed. (What the guard sees: processes started through
# `subprocess`, which asyncio and Playwright use too, and `venv.EnvBuilder`.)

TIER_FIXTURES = {"built_book": "book", "browser": "browser", "student_venv": "venv", "student_torch_venv": "venv",
                 "bare_venv": "venv", "two_workers": "cluster"}
TIERS = ("book", "browser", "cluster", "venv")


def pytest_collection_modifyitems(config, items):
    for item in items:
        for fixture in item.fixturenames:
            if fixture in TIER_FIXTURES and not item.get_closest_marker(TIER_FIXTURES[fixture]):
                item.add_marker(TIER_FIXTURES[fixture])
        if any(item.get_closest_marker(t) for t in TIERS) and not item.get_closest_marker("slow"):
            item.add_marker("slow")
    items[:] = in_run_order(items)


def in_run_order(items: list) -> list:
    """The files in the order that keeps `make test`'s two workers (pytest-xdist, one file
    at a time each: --dist loadfile) busy: first the file with the most tests of the built
    book (its worker builds the book, minutes on one core), then the slow files without
    the book (the other worker grades classes meanwhile), the fast ones, and last the other
    files that read the book (built by then). Tests keep their order within a file."""
    files: dict[str, list] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)

    def count(tests, marker):
        return sum(1 for t in tests if t.get_closest_marker(marker))

    first = max(files, key=lambda f: count(files[f], "book"), default=None)

    def rank(f):
        tests = files[f]
        return (0 if f == first and count(tests, "book") else 3 if count(tests, "book") else
                1 if count(tests, "slow") else 2)
    return [item for f in sorted(files, key=rank) for item in files[f]]


class TierError(AssertionError):
    """A test started a tool of a tier it is not marked with."""


def tier_of_command(args) -> str | None:
    """Which tier a command line belongs to: jupyter-book or sphinx-build (book), chromium
    or Playwright's driver (browser), `dask scheduler`/`dask worker` (cluster), `-m venv`
    (venv); None for anything else."""
    import os
    import shlex

    if isinstance(args, (str, bytes, os.PathLike)):
        args = shlex.split(os.fsdecode(args)) if isinstance(args, (str, bytes)) else [args]
    words = [os.fsdecode(a) if isinstance(a, (bytes, os.PathLike)) else str(a) for a in args]
    if not words:
        return None
    program = os.path.basename(words[0])  # or, for `python -m NAME`, NAME
    module = words[words.index("-m") + 1] if "-m" in words[:-1] and program.startswith("python") else None
    if program in ("jupyter-book", "sphinx-build") or module in ("jupyter_book", "sphinx"):
        return "book"
    if program.startswith(("chromium", "chrome", "headless_shell")) or "run-driver" in words[1:3]:
        return "browser"
    if program in ("dask-scheduler", "dask-worker") or (program == "dask" and words[1:2] in (["scheduler"], ["worker"])):
        return "cluster"
    if program == "virtualenv" or module in ("venv", "virtualenv"):
        return "venv"
    return None


_allowed_tiers: set[str] | None = None  # None: no test is running (or the guard is off)


def _refuse(tier: str | None, what: str) -> None:
    if tier and _allowed_tiers is not None and tier not in _allowed_tiers:
        raise TierError(f"this test {what} but is not marked `{tier}`: mark it @pytest.mark.{tier} (or use the "
                        f"fixture that does it, {[f for f, t in TIER_FIXTURES.items() if t == tier]}), so that "
                        f"`make check` leaves it out")


def _install_guard() -> None:
    import functools
    import venv

    popen_init = subprocess.Popen.__init__
    if getattr(popen_init, "tier_guard", False):
        return

    @functools.wraps(popen_init)
    def guarded_popen(self, args, *a, **kw):
        _refuse(tier_of_command(args), f"runs {args if isinstance(args, str) else ' '.join(map(str, args))!r}")
        popen_init(self, args, *a, **kw)

    guarded_popen.tier_guard = True
    subprocess.Popen.__init__ = guarded_popen
    env_create = venv.EnvBuilder.create

    @functools.wraps(env_create)
    def guarded_create(self, env_dir):
        _refuse("venv", f"creates a venv at {env_dir}")
        return env_create(self, env_dir)

    venv.EnvBuilder.create = guarded_create


_install_guard()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    yield from _guarded(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    yield from _guarded(item)


def _guarded(item):
    global _allowed_tiers
    _allowed_tiers = {t for t in TIERS if item.get_closest_marker(t)}
    try:
        return (yield)
    finally:
        _allowed_tiers = None
