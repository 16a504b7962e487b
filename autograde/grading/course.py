"""The instructor's steps around real nbgrader: make the source notebooks, release them,
and grade a folder of submissions into a gradebook, a grades CSV and feedback HTML.

Each step is a function with a clear input and output so that it can be run and
tested alone; `autograde.cli` is a thin layer over them.
"""
from __future__ import annotations

import copy
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

class CourseError(Exception):
    """A problem the instructor must fix; the message names the file and what is wrong."""


def find_root(start: Path | None = None) -> Path:
    """The checkout that holds `solutions/` and `_toc.yml`, from `start` upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "solutions").is_dir() and (folder / "_toc.yml").is_file():
            return folder
    raise CourseError(f"no course checkout (a folder with solutions/ and _toc.yml) at or above {here}")


def assignment_sources(root: Path) -> dict[str, Path]:
    """Assignment name -> its jupytext source, `solutions/<name>/<name>.md`."""
    found = {}
    for folder in sorted((root / "solutions").iterdir()):
        src = folder / f"{folder.name}.md"
        if folder.is_dir() and src.is_file():
            found[folder.name] = src
    return found


# Where each exercise's intro says how to install the checks: the release writes the
# paragraph and the install cell from one place (install_text, install_cell), with the
# book's published address from _config.yml (html.baseurl), so no notebook carries a
# link that works only inside the book's folder.
INSTALL_MARK = "<!-- install: the release writes how to install the checks here -->"


def book_url(root: Path) -> str:
    """The book's published address (`html: baseurl:` in _config.yml), or "" when the
    course has none yet."""
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    return str((config.get("html") or {}).get("baseurl") or "").strip().rstrip("/")


def install_text(url: str, whl: str) -> str:
    """The intro's paragraph on installing the checks: the wheel's address in the book
    (a link whose text is the address itself), what to do when it is unreachable, and
    plain words where the course has no published book yet."""
    from .wheel import LOWEST_PYTHON

    needs = (f"It needs Python {LOWEST_PYTHON} or newer and numpy 2 (pip installs numpy if it is missing), "
             f"and it holds the checks and the public cases, never the answers.")
    menu = "its download menu, at the top of the page, offers *checks .whl*"
    after = ("If the import cell had already failed, restart the kernel after installing. When your "
             "notebook is graded, the install cell does nothing and prints nothing: the grader has its "
             "own copy of the checks.")
    if url:
        address = f"{url}/_static/{whl}"
        return (f"**Install the checks first.** The first code cell below installs the course's checks, "
                f"one file from the course's book:\n[{address}]({address})\n"
                f"Run it once, in the Python you use for this course. {needs} If that address cannot be "
                f"reached, open the book at [{url}/]({url}/), download `{whl}` from this exercise's page "
                f"({menu}), put it in this notebook's folder and run `%pip install {whl}` instead. {after}")
    return (f"**Install the checks first.** The course's checks come as one file, `{whl}`. {needs} This "
            f"copy of the course does not record where its book is published, so this notebook cannot "
            f"link to the file: download it from this exercise's page in the course's book ({menu}), or "
            f"ask your instructor for the book's address or for the file. Put it in this notebook's folder "
            f"and run the first code cell below once. {after}")


def install_cell(url: str, whl: str) -> str:
    """The install cell's code (an ordinary cell before the imports)."""
    if url:
        return ("# Install the course's checks, once. If the address cannot be reached,\n"
                "# see \"Install the checks first\" above. At grading this cell does nothing.\n"
                f"%pip install {url}/_static/{whl}")
    return ("# Install the course's checks, once: the file must be in this notebook's\n"
            "# folder (see \"Install the checks first\" above). At grading this cell\n"
            "# does nothing.\n"
            f"%pip install {whl}")


def make_notebook(source: Path, target: Path | None = None, url: str | None = None) -> Path:
    """Write the .ipynb that nbgrader reads from the reviewable jupytext source, with the
    install paragraph and cell written where the source marks them (INSTALL_MARK), and the
    intro's standard paragraphs where it marks them (`<!-- course: NAME -->`, grading/intro.py).
    `url`: the book's published address (default: _config.yml's, see book_url)."""
    import jupytext

    from . import wheel

    try:
        nb = jupytext.read(source)
    except Exception as exc:
        raise CourseError(f"{source}: cannot be read as a jupytext notebook: {exc}") from exc
    nb.metadata.pop("jupytext", None)
    from . import intro  # the intro's standard paragraphs, where the source marks them

    for cell in nb.cells:
        if cell.cell_type == "markdown" and intro.MARK.search(cell.source):
            cell.source = intro.fill(cell.source, source.stem)
    marked = [c for c in nb.cells if c.cell_type == "markdown" and INSTALL_MARK in c.source]
    if marked:
        url = book_url(find_root(source.parent)) if url is None else url.rstrip("/")
        marked[0].source = marked[0].source.replace(INSTALL_MARK, install_text(url, wheel.wheel_name()))
        at = next((i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "imports"),
                  None)
        if at is None:
            raise CourseError(f"{source}: the install cell goes before the cell whose grade_id is 'imports': none")
        nb.cells.insert(at, nbformat.v4.new_code_cell(install_cell(url, wheel.wheel_name())))
    for i, cell in enumerate(nb.cells):
        # Stable ids (jupytext makes random ones), so regenerating changes nothing.
        cell.id = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell-{i}"
    target = target or source.with_suffix(".ipynb")
    nbformat.validate(nb)
    text = nbformat.writes(nb) + "\n"
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    return target


def nbgrader(*args: str, root: Path, db: Path, extra: tuple[str, ...] = (), env: dict | None = None,
             check: bool = True) -> subprocess.CompletedProcess:
    """Run a real `nbgrader` command on the course directory `root`."""
    cmd = [sys.executable, "-m", "nbgrader", *args,
           f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url=sqlite:///{db}",
           "--CourseDirectory.course_id=rnn-course", *extra]
    env = dict(env or os.environ)
    # nbgrader calls `alembic` by name: make the tools installed beside this Python visible.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env)
    if check and proc.returncode != 0:
        raise CourseError(f"`nbgrader {' '.join(args)}` failed in {root} (exit {proc.returncode}):\n"
                          f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def nbgrader_here(converter: str, assignment: str, root: Path, db: Path, student: str | None = None,
                  settings: dict | None = None) -> dict:
    """Run one of nbgrader's converters (`GenerateAssignment`, `GenerateFeedback`) in this
    process, through nbgrader's Python API: no interpreter start-up, no second import of
    nbgrader, nbconvert and jsonschema per call. `settings`: "Class.trait" -> value, as
    on nbgrader's command line. Returns nbgrader's {"success", "log", "error"}."""
    import logging

    from nbgrader import converters
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{db}"
    config.CourseDirectory.course_id = "rnn-course"
    for name, value in (settings or {}).items():
        cls, trait = name.split(".")
        setattr(config[cls], trait, value)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
    if student is not None:
        coursedir.student_id = student
    log = logging.getLogger(f"rnn-course.nbgrader.{converter}")
    log.propagate, log.level = False, logging.INFO  # captured below, never printed
    app = getattr(converters, converter)(coursedir=coursedir, config=config, log=log)
    app.force = True
    if converter == "GenerateAssignment":
        app.create_assignment = True
    old_path = os.environ.get("PATH", "")
    # nbgrader calls `alembic` by name for a new gradebook: the tools beside this Python.
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), old_path])
    try:
        return capture_log(app)
    finally:
        os.environ["PATH"] = old_path


# Only notebooks are released; nbgrader's default code stub is the one we document.
_RELEASE_SETTINGS = ("--CourseDirectory.include=*.ipynb",)
_RELEASE_CONFIG = {"CourseDirectory.include": ["*.ipynb"]}


def release(root: Path, assignments: list[str] | None = None, out_dir: Path | None = None,
            url: str | None = None) -> list[Path]:
    """Make the student notebooks of `assignments` (all by default) with nbgrader.

    The released notebooks go to `out_dir` (default `<root>/exercises`), laid out as
    `<assignment>/<assignment>.ipynb`. Returns their paths. `url`: the book's address
    the notebooks link to (default: _config.yml's html.baseurl); with another address
    than the configured one, the checkout's solutions/*.ipynb are left as they are.
    """
    sources = assignment_sources(root)
    names = assignments or list(sources)
    for name in names:
        if name not in sources:
            raise CourseError(f"no assignment {name!r}: expected solutions/{name}/{name}.md")
        if url is None:
            make_notebook(sources[name])
    out_dir = (out_dir or root / "exercises").resolve()
    written = []
    with tempfile.TemporaryDirectory(prefix="rnn-release-") as tmp:
        # A course folder of our own, so nbgrader's gradebook and log stay out of the checkout.
        course = Path(tmp)
        for name in names:
            dest = course / "source" / name
            dest.mkdir(parents=True)
            if url is None:
                shutil.copy2(root / "solutions" / name / f"{name}.ipynb", dest)
            else:
                make_notebook(sources[name], dest / f"{name}.ipynb", url=url)
            nbgrader("generate_assignment", name, "--force", root=course, db=course / "gradebook.db",
                     extra=_RELEASE_SETTINGS)
            released = course / "release" / name
            target = out_dir / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(released, target)
            written += sorted(target.glob("*.ipynb"))
    return written


# nbgrader's own feedback preprocessors, with hidden tests scrubbed and everything from the
# submission made inert before export, in a template whose Content-Security-Policy runs
# no script (autograde.grading.feedback).
def _feedback_settings() -> dict:
    import nbgrader

    from . import feedback

    stock = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
    return {"GenerateFeedback.preprocessors": list(feedback.PREPROCESSORS),
            "HTMLExporter.template_name": feedback.TEMPLATE_NAME,
            "HTMLExporter.template_file": feedback.TEMPLATE_FILE,
            "HTMLExporter.extra_template_basedirs": [str(feedback.TEMPLATE_DIR), str(stock)],
            "HTMLExporter.sanitize_html": True}


def solution_code(root: Path, assignment: str) -> dict[str, str]:
    """grade_id -> the reference solution cell's code, without nbgrader's markers."""
    nb = nbformat.read(root / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return {c.metadata.nbgrader["grade_id"]: re.sub(r"\n?[ \t]*### (BEGIN|END) SOLUTION", "", c.source)
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def student_notebook(root: Path, assignment: str, replace: dict[str, str] | None = None,
                     solved: bool = True) -> nbformat.NotebookNode:
    """The released notebook as a student would hand it in: every solution cell filled
    with the reference solution (if `solved`), then the cells in `replace` overwritten.
    For testing the grading of an assignment."""
    nb = copy.deepcopy(nbformat.read(root / "exercises" / assignment / f"{assignment}.ipynb", as_version=4))
    answers = solution_code(root, assignment) if solved else {}
    answers.update(replace or {})
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return nb


def mistakes_page(root: Path) -> str:
    """The book's "Common mistakes" page, made from the catalogue of known mistakes."""
    import numpy as np

    from .. import chapters
    from ..kernel import cases
    from ..kernel.compare import compare_output, format_pair

    from .mathtext import typeset

    lines = ["# Common mistakes", "",
             "These are the mistakes the grader recognises. When a check in an exercise fails with",
             "*This looks like a known mistake*, it names one of them, with the explanation below. Each",
             "example takes the first public case where the mistake shows and gives, at the first index",
             "where they differ, the right value (what PyTorch computes) and the mistake's value.", "",
             "This page is generated from the grader's catalogue (`autograde`), so the two always agree.",
             "One section per chapter, one heading per graded function (linked to its exercise); open a",
             "mistake to read its explanation and an example.", ""]
    titles = {}
    for assignment in chapters.assignments():
        chapter = root / "book" / f"{assignment}.md"
        titles[assignment] = next((ln[2:].strip() for ln in chapter.read_text(encoding="utf-8").splitlines()
                                   if ln.startswith("# ")), assignment) if chapter.exists() else assignment
    lines += [f"- [{titles[a]}](#mistakes-{a}): "
              + ", ".join(f"`{fn.name}`" for fn in fns if chapters.mistakes_for(fn.name))
              for a, fns in chapters.assignments().items()] + [""]
    for assignment, functions in chapters.assignments().items():
        exercise = f"../exercises/{assignment}/{assignment}.ipynb"
        number = int(assignment[:2])
        lines += [f"(mistakes-{assignment})=", f"## {titles[assignment]}", "",
                  f"Exercise {number}, [`{assignment}`]({exercise}).", ""]
        for fn in functions:
            known = chapters.mistakes_for(fn.name)
            if not known:
                continue
            lines += [f"### `{fn.name}`", "",
                      f"Graded in [exercise {number}]({exercise}); {len(known)} known mistake"
                      f"{'s' if len(known) != 1 else ''}.", ""]
            for m in known:
                # Capitalise a leading English word, never an identifier (b_hh, h_n, bias=False).
                first = m.title.split()[0]
                title = m.title[0].upper() + m.title[1:] if first.isalpha() and first.islower() else m.title
                # Collapsed: the title shows, the explanation and the example open on a click.
                lines += [f":::{{admonition}} {title}", ":class: dropdown", "", typeset(m.explanation), ""]
                example = None
                if fn.judge is not None:  # judged, not compared: say what the judge found
                    case = cases.public_cases(fn.name)[0]
                    wrong = (case.mistakes or {}).get(m.key)
                    verdict = fn.spec().compare(case.inputs, case.expected, wrong[0]) if wrong else None
                    if verdict is not None:
                        lines += [f"Example, public case {case.index} ({case.describe_inputs()}): "
                                  f"{verdict.message}.", ""]
                    lines += [":::", ""]
                    continue
                for case in cases.public_cases(fn.name):
                    wrong = (case.mistakes or {}).get(m.key)
                    for name, right, got in zip(fn.outputs, case.expected, wrong or ()):
                        if example is None and compare_output(name, right, got) is not None:
                            example = case, name, np.asarray(right), np.asarray(got)
                if example is None:
                    lines += [":::", ""]
                    continue
                case, name, right, got = example
                where = f"Example, public case {case.index} ({case.describe_inputs()}): "
                if right.dtype.kind in "iu" and right.ndim == 1:  # e.g. a shape; [] stands for None
                    lines += [where + f"`{name}` should be {right.tolist()}; with this mistake it is "
                                      f"{got.tolist()}.", ""]
                elif right.shape != got.shape:
                    lines += [where + f"`{name}` should have shape {right.shape}; with this mistake it has "
                                      f"shape {got.shape}.", ""]
                elif right.ndim == 0:
                    lines += [where + f"`{name}` should be {right.item():g}; with this mistake it is {got.item():g}.", ""]
                else:
                    first = compare_output(name, right, got).first_index
                    if first is None:  # integer arrays (token ids) are compared exactly, without one
                        first = tuple(int(i) for i in np.argwhere(right != got)[0])
                    want, have = format_pair(right[first], got[first])  # enough digits to differ
                    lines += [where + f"`{name}{list(first)}` should be {want}; with this mistake it "
                                      f"is {have} (largest difference {np.abs(right - got).max():.3g}).", ""]
                lines += [":::", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_mistakes_page(root: Path) -> Path:
    path = root / "book" / "common-mistakes.md"
    text = mistakes_page(root)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


@dataclass(frozen=True)
class GradeResult:
    gradebook: Path
    grades_csv: Path
    feedback_dir: Path
    autograded_dir: Path
    results: list = field(default_factory=list)


def _prepare_course(root: Path, assignment: str, course_dir: Path) -> tuple[Path, Path]:
    """Copy the instructor notebook into the course folder and register the assignment
    and its grade cells in the gradebook (nbgrader generate_assignment). Returns the
    gradebook and the course folder's release of the notebook."""
    submitted = course_dir / "submitted"
    if not submitted.is_dir():
        raise CourseError(f"{submitted}: missing; put submissions at submitted/<student>/{assignment}/")
    sources = assignment_sources(root)
    if assignment not in sources:
        raise CourseError(f"no assignment {assignment!r}: expected {root}/solutions/{assignment}/{assignment}.md")
    md = sources[assignment]
    source = course_dir / "source" / assignment
    source.mkdir(parents=True, exist_ok=True)
    # jupytext (half a second) only when the reviewed text or its notebook changed since
    # this course folder last made the notebook from it
    made = source / ".made-from"
    ipynb = md.with_suffix(".ipynb")
    seen = f"{hashlib.sha256(md.read_bytes()).hexdigest()} " + \
        (hashlib.sha256(ipynb.read_bytes()).hexdigest() if ipynb.is_file() else "")
    if not (made.is_file() and made.read_text() == seen):
        make_notebook(md)
        made.write_text(f"{hashlib.sha256(md.read_bytes()).hexdigest()} {hashlib.sha256(ipynb.read_bytes()).hexdigest()}")
    notebook = ipynb
    db = course_dir / "gradebook.db"
    released = course_dir / "release" / assignment / f"{assignment}.ipynb"
    data = notebook.read_bytes()
    stamp = source / ".registered"  # the digest of what nbgrader last registered from here
    digest = hashlib.sha256(data + str(db).encode()).hexdigest()
    if _registered(db, assignment) and released.is_file() and (source / notebook.name).is_file() \
            and (source / notebook.name).read_bytes() == data and stamp.is_file() and stamp.read_text() == digest:
        return db, released  # unchanged since nbgrader registered it: no second generate_assignment
    stamp.unlink(missing_ok=True)
    shutil.copy2(notebook, source)
    done = nbgrader_here("GenerateAssignment", assignment, course_dir, db, settings=_RELEASE_CONFIG)
    if not done["success"]:
        raise CourseError(f"nbgrader could not register {assignment} in {db} (generate_assignment):\n"
                          f"{(done.get('log') or '')[-3000:]}\n{(done.get('error') or '')[-3000:]}")
    stamp.write_text(digest)
    return db, released


def _registered(db: Path, assignment: str) -> bool:
    """Whether the gradebook `db` holds `assignment` with its grade cells (read with
    sqlite alone: cheaper than starting nbgrader's API)."""
    from .pipeline import gradebook_rows

    rows = gradebook_rows(db, "select count(*) from assignment join notebook on notebook.assignment_id = "
                              "assignment.id join base_cell on base_cell.notebook_id = notebook.id "
                              "where assignment.name = ? and base_cell.type = 'GradeCell'", (assignment,))
    return bool(rows and rows[0][0])


def _feedback(assignment: str, course_dir: Path, db: Path, students: list[str] | None, results=(),
              pages=None) -> list[str]:
    """nbgrader's feedback page for every executed notebook; a plain page of the grading
    notes for a student whose submission could not be run at all or whose page could not
    be made. With `pages` (autograde.grading.pages.Pages, fed while grading ran), each
    page is made in its own bounded step and one bad student costs only that student;
    without (no `results`: the stock path the benchmark times), nbgrader's one class run.
    Returns the students whose page failed (also listed in
    feedback/<assignment>-failed.json and on stderr)."""
    import glob
    import json
    from html import escape

    from .form import invalid_student_id

    valid = [r for r in results if not invalid_student_id(r.student)]

    def page(student: str) -> Path:
        return course_dir / "feedback" / student / assignment / f"{assignment}.html"

    def executed(student: str) -> bool:
        return (course_dir / "autograded" / student / assignment / f"{assignment}.ipynb").is_file()

    def fresh(student: str) -> bool:  # made after what it shows (a result reused, not regraded)
        graded = course_dir / "autograded" / student / assignment
        try:
            made = page(student).stat().st_mtime_ns
            shown = [graded / "result.json"] + [graded / f"{assignment}.ipynb"] * executed(student)
            return all(made >= p.stat().st_mtime_ns for p in shown)
        except OSError:
            return False

    pending = set(pages.submitted) if pages is not None else set()
    remake = [r for r in valid if r.student in pending or not fresh(r.student)] if valid else []
    for r in remake:  # never leave last run's page standing for this run's grade
        if r.student not in pending:
            page(r.student).unlink(missing_ok=True)
    # The student id is a glob pattern to nbgrader: a student id is matched as itself.
    only = glob.escape(students[0]) if students and len(students) == 1 else None
    failed: dict[str, str] = {}
    if pages is not None:
        for r in remake:
            if r.student not in pending and executed(r.student):
                pages.submit(r.student)
        failed = dict(pages.finish())
        for student in failed:
            page(student).unlink(missing_ok=True)
        whole = {"success": True}
    elif valid and not remake:
        whole = {"success": True}  # every page is as fresh as its result: nothing to remake
    elif valid and len(remake) < len(valid) and only is None:
        whole = {"success": False}  # a few late or changed submissions: their pages alone, below
    else:
        whole = nbgrader_here("GenerateFeedback", assignment, course_dir, db, only, _feedback_settings())
    if not whole["success"]:
        settings = _feedback_settings()  # nbgrader is imported only when a page is made
        for r in remake:
            if page(r.student).exists() or not executed(r.student):
                continue
            one = nbgrader_here("GenerateFeedback", assignment, course_dir, db, glob.escape(r.student), settings)
            if not one["success"] or not page(r.student).exists():
                text = (one.get("log") or "") + (one.get("error") or "")
                lines = [ln for ln in text.splitlines() if "ERROR" in ln or "Error" in ln]
                failed[r.student] = (lines[-1] if lines else "nbgrader failed").strip()[:300]
    for r in valid:
        # nbgrader copies every other file of autograded/ (our result.json) beside the page:
        # a student's feedback is the page alone.
        folder = page(r.student).parent
        for extra in folder.iterdir() if folder.is_dir() and not folder.is_symlink() else ():
            if extra.name != page(r.student).name and (extra.is_file() or extra.is_symlink()):
                extra.unlink()
        if page(r.student).exists():
            continue
        from . import feedback  # nbconvert's import: only when a plain page is written

        page(r.student).parent.mkdir(parents=True, exist_ok=True)
        items = "".join(f"<li>{escape(m)}</li>" for m in r.messages)
        if r.student in failed:
            items += "<li>The full feedback page (your notebook with its outputs) could not be made.</li>"
        page(r.student).write_text(
            f"<!DOCTYPE html><html><head><meta charset='utf-8'>{feedback.CSP_META}<title>{escape(assignment)}: "
            f"{escape(r.student)}</title></head><body><h1>{escape(assignment)}</h1>"
            f"<p>Score: {r.score:g} / {r.max_score:g}</p><ul>{items}</ul></body></html>", encoding="utf-8")
    # The record of whose nbgrader page failed, with nbgrader's reason: the students whose
    # page was remade replace their entries (a class run drops those no longer in the class).
    record = course_dir / "feedback" / f"{assignment}-failed.json"
    known = {}
    if record.is_file():
        remade, present = {r.student for r in remake}, {r.student for r in valid}
        try:
            known = {k: v for k, v in json.loads(record.read_text(encoding="utf-8")).items()
                     if k not in remade and (students or k in present)}
        except (OSError, ValueError, AttributeError):
            known = {}
    known.update(failed)
    if known:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(dict(sorted(known.items())), indent=1), encoding="utf-8")
    else:
        record.unlink(missing_ok=True)
    if failed:
        print(f"rnn-course: nbgrader could not make the feedback page of {len(failed)} student(s); they got "
              f"a plain page instead (listed in {record}): {', '.join(map(repr, sorted(failed)))}",
              file=sys.stderr)
    return sorted(failed)


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV
# injection"): such a text cell is written with a leading single quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_text(value) -> str:
    """A text cell of a CSV that a spreadsheet shows as text, never runs as a formula."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_number(value: float) -> str:
    """A numeric cell: the number itself (from the grader, never from a submission)."""
    return f"{float(value):g}"


def write_grades_csv(path: Path, results: list) -> Path:
    """One row per student: total, each test's points, flags and the messages. Text cells
    that a spreadsheet would run as a formula are neutralised (see `csv_text`)."""
    import csv

    cells = list(dict.fromkeys(c["grade_id"] for r in results for c in r.cells))
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student_id", "assignment", "score", "max_score", *map(csv_text, cells), "flags", "messages"])
        for r in results:
            points = {c["grade_id"]: c["points"] for c in r.cells}
            w.writerow([csv_text(r.student), csv_text(r.assignment), csv_number(r.score), csv_number(r.max_score),
                        *(csv_number(points.get(c, 0)) for c in cells), csv_text("; ".join(r.flags)),
                        csv_text(" | ".join(r.messages))])
    os.replace(tmp, path)
    return path


# An LMS export names each file <student_id>_<anything>_<notebook>.ipynb, e.g. Canvas's
# jsmith_12345_67890_01-rnn-basics.ipynb or jsmith_01-rnn-basics.ipynb: the student id
# is everything before the first underscore, the notebook's name the part after the
# last one. nbgrader matches the pattern against the extracted file's full path.
ZIP_PATTERN = r".*/(?P<student_id>[^/_]+)_(?:[^/]*_)?(?P<file_id>[^/_]+\.ipynb)$"


# What an LMS zip may hold before nbgrader sees it.
MAX_ZIP_ENTRIES = 20_000
MAX_ZIP_ENTRY_BYTES = 64 << 20


@dataclass(frozen=True)
class Collected:
    students: list[str]           # student folders now in submitted/
    unmatched: list[str]          # notebooks whose name gives no student id (nbgrader's rule)
    refused: list[tuple[str, str]]  # (entry, why) never given to nbgrader
    lookalikes: list[tuple[str, ...]] = ()  # student ids that read the same: collected apart, named


MAX_NAME_BYTES = 255    # a file name (one path component) on Linux's file systems
MAX_PATH_BYTES = 4000   # a whole path, below PATH_MAX (4096)

# Letters of other scripts drawn like Latin ones (Unicode's confusables for ids, the few
# that matter in names), so that "Bоb" with a Cyrillic о and "Bob" are seen as one.
_CONFUSABLE = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",  # Cyrillic
    "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l",
    "ο": "o", "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t", "υ": "u",  # Greek
    "χ": "x"})


def lookalike_key(student: str) -> str:
    """What a reader sees of a student id: NFKC form (NFC and NFD alike), case folded,
    look-alike letters of other scripts mapped to Latin."""
    return unicodedata.normalize("NFKC", student).casefold().translate(_CONFUSABLE)


def lookalike_groups(students: list[str]) -> list[tuple[str, ...]]:
    groups: dict[str, list[str]] = {}
    for s in students:
        groups.setdefault(lookalike_key(s), []).append(s)
    return [tuple(sorted(g)) for g in groups.values() if len(g) > 1]


def _zip_entry_problem(info, pattern: str, where: str, seen: dict) -> tuple[str | None, tuple | None]:
    """Why the zip entry `info` must not be collected (None if it may be), and the
    (student, notebook) it would be collected as (None if it names no student)."""
    import stat

    from .form import invalid_student_id

    name = info.filename
    mode = info.external_attr >> 16
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "an absolute path or a backslash in its name", None
    if any(part in ("..", ".") for part in name.split("/")) or "//" in name:
        return "'..' or '.' in its path", None
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "a control character in its name", None
    longest = max(len(part.encode("utf-8", "surrogatepass")) for part in name.split("/"))
    if longest > MAX_NAME_BYTES:  # ENAMETOOLONG when extracted: refused alone, never the whole export
        return f"a name of {longest} bytes, more than a file system allows ({MAX_NAME_BYTES})", None
    if len(f"{where}/{name}".encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        return f"a path longer than {MAX_PATH_BYTES} bytes once extracted", None
    if stat.S_ISLNK(mode):
        return "a symbolic link", None
    if mode and stat.S_IFMT(mode) and not stat.S_ISREG(mode):
        return "not a regular file (a device, pipe or socket)", None
    if not name.endswith(".ipynb"):
        return "not a notebook (.ipynb)", None
    if info.flag_bits & 0x1:
        return "encrypted", None
    if info.file_size > MAX_ZIP_ENTRY_BYTES:
        return f"larger than {MAX_ZIP_ENTRY_BYTES >> 20} MiB", None
    match = re.match(pattern, f"{where}/{name}")
    if not match or not match.groups():
        return None, None  # nbgrader skips it too and says so: reported as unmatched
    groups = match.groupdict()
    student, file_id = groups.get("student_id"), groups.get("file_id")
    if not isinstance(student, str) or not isinstance(file_id, str):
        return "the pattern gives no student_id or file_id", None
    why = invalid_student_id(student)
    if why:
        return f"the student id {student!r} {why}", None
    why = invalid_student_id(file_id)
    if why:
        return f"the notebook name {file_id!r} {why}", None
    if (student, file_id) in seen:
        return f"a second {file_id} for student {student!r} (the first, {seen[(student, file_id)]}, is kept)", None
    return None, (student, file_id)


def collect_zip(assignment: str, archive: Path, course_dir: Path, pattern: str = ZIP_PATTERN) -> Collected:
    """Unpack an LMS export into submitted/<student>/<assignment>/ with nbgrader's
    zip_collect, safely: each entry is checked first (no absolute path, no '..', no
    link or special file, a valid student id, readable and intact), the good notebooks
    are written to a clean zip of plain files (0644) and only that zip is given to
    nbgrader. A bad entry is refused with its reason; every other entry is collected."""
    import stat
    import zipfile
    import zlib

    archive, course_dir = archive.resolve(), course_dir.resolve()
    if not archive.is_file():
        raise CourseError(f"{archive}: no such file")
    if not zipfile.is_zipfile(archive):
        raise CourseError(f"{archive}: not a zip archive")
    inbox = course_dir / "downloaded" / assignment / "archive"
    if inbox.exists():
        shutil.rmtree(inbox)
    inbox.mkdir(parents=True)
    clean_name = archive.stem + ".zip"
    # Where nbgrader's collector will see each file, for the same match it will make.
    where = str(course_dir / "downloaded" / assignment / "extracted" / archive.stem)
    refused: list[tuple[str, str]] = []
    seen: dict = {}
    kept = 0
    try:
        with zipfile.ZipFile(archive) as src, zipfile.ZipFile(inbox / clean_name, "w", zipfile.ZIP_DEFLATED) as out:
            entries = src.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise CourseError(f"{archive}: {len(entries)} entries, more than {MAX_ZIP_ENTRIES}")
            for info in entries:
                if info.is_dir() and not stat.S_ISLNK(info.external_attr >> 16):
                    continue
                why, key = _zip_entry_problem(info, pattern, where, seen)
                if why is None:
                    try:
                        with src.open(info) as f:
                            data = f.read(MAX_ZIP_ENTRY_BYTES + 1)
                        if len(data) > MAX_ZIP_ENTRY_BYTES:
                            why = f"larger than {MAX_ZIP_ENTRY_BYTES >> 20} MiB"
                    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
                            NotImplementedError, ValueError) as exc:
                        why = f"corrupt or unreadable ({type(exc).__name__}: {exc})"
                if why is not None:
                    refused.append((info.filename, why))
                    continue
                plain = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                plain.external_attr = (stat.S_IFREG | 0o644) << 16
                plain.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(plain, data)
                kept += 1
                if key is not None:
                    seen[key] = info.filename
    except zipfile.BadZipFile as exc:
        raise CourseError(f"{archive}: not a readable zip archive ({exc})") from exc
    submitted = course_dir / "submitted"
    skipped: list[str] = []
    if kept:
        proc = nbgrader("zip_collect", assignment, "--force", f"--FileNameCollectorPlugin.named_regexp={pattern}",
                        root=course_dir, db=course_dir / "gradebook.db")
        skipped = [line.split(" in: ", 1)[1].strip() for line in proc.stderr.splitlines()
                   if "did not match anything in: " in line]
    # Plain modes on what this collect wrote: folders 0755, files 0644.
    for student, file_id in seen:
        for path, mode in [(submitted / student, 0o755), (submitted / student / assignment, 0o755),
                           (submitted / student / assignment / file_id, 0o644)]:
            if path.exists() and not path.is_symlink():
                path.chmod(mode)
    after = sorted(p.name for p in submitted.iterdir()) if submitted.is_dir() else []
    return Collected(after, [Path(f).name for f in skipped], refused, lookalike_groups(after))


# The LMS CSV formats `grade --lms` writes. What was read for each (issue 24, item 9):
# - Canvas: its gradebook import takes a CSV as the gradebook export writes it. The Ohio
#   State University's guide "Import a CSV File to Carmen Grades" (Carmen is Canvas;
#   teaching.resources.osu.edu/toolsets/carmencanvas/guides/calculating-final-grades/
#   import-csv-file-carmen-grades) lists the required columns: the student's name or ID
#   or SIS User ID, the SIS Login ID, the Section, then one column per assignment; a
#   teaching assistant's guide to Canvas's own "How do I import grades in the Gradebook?"
#   (github.com/myl7/mylmoe, docs/posts/cityu-ta-upload-canvas-grade.md) names the login
#   column "SIS Login ID" and says it alone is not enough without the other columns.
#   Canvas's export puts the assignment's points in a "Points Possible" row under the
#   header. The student id goes in "Student" and "SIS Login ID"; the others stay empty.
# - Moodle: "Grade import" in Moodle's documentation (docs.moodle.org/311/en/Grade_import):
#   a CSV with a header row; at import the teacher maps one column to a user field ("Map
#   from" a column, "Map to" useridnumber, useremail, ...) and each grade column to a grade
#   item; feedback columns are optional (and importing one overwrites that item's grades,
#   so none is written). The student id goes in "ID number" (map it to useridnumber).
LMS_FORMATS = ("generic", "canvas", "moodle")
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def lms_csv_name(assignment: str, lms: str = "generic") -> str:
    return f"grades-lms-{assignment}.csv" if lms == "generic" else f"grades-{lms}-{assignment}.csv"


def write_lms_csv(path: Path, results: list, assignment: str, lms: str = "generic") -> Path:
    """Grades in the form an LMS gradebook imports (see LMS_FORMATS above): `generic` is
    student id, score, points possible; `canvas` and `moodle` are those LMSs' documented
    import formats. A student id that a spreadsheet would run as a formula is neutralised."""
    import csv

    if lms not in LMS_FORMATS:
        raise CourseError(f"unknown LMS format {lms!r}: choose one of {', '.join(LMS_FORMATS)}")
    possible = max((r.max_score for r in results), default=0)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if lms == "canvas":
            w.writerow([*CANVAS_COLUMNS, csv_text(assignment)])
            w.writerow(["Points Possible", "", "", "", "", csv_number(possible)])
            for r in results:
                w.writerow([csv_text(r.student), "", "", csv_text(r.student), "", csv_number(r.score)])
        elif lms == "moodle":
            w.writerow(["ID number", csv_text(assignment)])
            for r in results:
                w.writerow([csv_text(r.student), csv_number(r.score)])
        else:
            w.writerow(["student_id", csv_text(assignment), "points_possible"])
            for r in results:
                w.writerow([csv_text(r.student), csv_number(r.score), csv_number(r.max_score)])
    os.replace(tmp, path)
    return path


def grade(root: Path, assignment: str, course_dir: Path, student: str | None = None, jobs: int | None = None,
          sandboxed: bool = True, limits=None, progress: bool = True, scheduler: str | None = None,
          lms: str = "generic") -> GradeResult:
    """Grade `course_dir/submitted/<student>/<assignment>/` with the hardened pipeline.

    Writes `course_dir/autograded/` (executed notebooks and result.json), the nbgrader
    gradebook `course_dir/gradebook.db`, feedback HTML in `course_dir/feedback/` and
    `course_dir/grades.csv`. `scheduler` (tcp://HOST:PORT): the sandboxes run on that
    Dask cluster's workers (autograde.grading.cluster); everything else runs here."""
    from . import form as forms
    from . import pipeline, sandbox

    course_dir = course_dir.resolve()
    if sandboxed and scheduler is None and sandbox.bwrap_path() is None:
        raise CourseError("bubblewrap (bwrap) is not installed, so submissions cannot be isolated. Install it "
                          "(`make setup` does, or `apt-get install bubblewrap`), or pass --no-sandbox to grade "
                          "without isolation; every result is then marked unsandboxed.")
    from .pages import Pages

    # Each student's feedback page is made as soon as their result is in the gradebook,
    # by a page maker started now (its imports overlap the set-up and grading), so pages
    # are made while the class is graded.
    pages = Pages(course_dir, assignment, course_dir / "gradebook.db")
    pages.warm()
    try:
        db, released = _prepare_course(root, assignment, course_dir)
    except BaseException:
        pages.finish()
        raise
    a = pipeline.Assignment(assignment, nbformat.read(course_dir / "source" / assignment / f"{assignment}.ipynb", 4),
                            nbformat.read(released, 4))
    students = [student] if student else None
    if student and not (course_dir / "submitted" / student).is_dir():
        raise CourseError(f"no submission folder submitted/{student}/")
    invalid: list = []

    def page_of(result) -> None:
        if (course_dir / "autograded" / result.student / assignment / f"{assignment}.ipynb").is_file():
            pages.submit(result.student)

    try:
        results = pipeline.grade_all(course_dir, a, f"sqlite:///{db}", students, jobs=jobs, limits=limits,
                                     sandboxed=sandboxed, progress=progress, invalid=invalid,
                                     scheduler=scheduler, on_result=page_of)
    except BaseException:
        pages.finish()
        raise
    everyone = [r for r in (pipeline.load(course_dir, p.name, assignment)
                            for p in sorted((course_dir / "submitted").iterdir())
                            if p.is_dir() and not forms.invalid_student_id(p.name)) if r] + invalid
    # Grades first: a failure in the feedback step below must never cost the CSVs or the report.
    csv = write_grades_csv(course_dir / "grades.csv", everyone)
    write_lms_csv(course_dir / lms_csv_name(assignment, lms), everyone, assignment, lms)
    from . import report

    figures = report.start(everyone, assignment, course_dir)  # drawn while feedback is made
    _feedback(assignment, course_dir, db, students, results, pages)
    figures()
    return GradeResult(db, csv, course_dir / "feedback", course_dir / "autograded", results + invalid)
