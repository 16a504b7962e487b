"""The instructor's steps around real nbgrader: make the source notebooks, release them,
and grade a folder of submissions into a gradebook, a grades CSV and feedback HTML.

Each step is a function with a clear input and output so that it can be run and
tested alone; `autograde.cli` is a thin layer over them.
"""
from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile
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


def make_notebook(source: Path, target: Path | None = None) -> Path:
    """Write the .ipynb that nbgrader reads from the reviewable jupytext source."""
    import jupytext

    try:
        nb = jupytext.read(source)
    except Exception as exc:
        raise CourseError(f"{source}: cannot be read as a jupytext notebook: {exc}") from exc
    nb.metadata.pop("jupytext", None)
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


# Only notebooks are released; nbgrader's default code stub is the one we document.
_RELEASE_SETTINGS = ("--CourseDirectory.include=*.ipynb",)


def release(root: Path, assignments: list[str] | None = None, out_dir: Path | None = None) -> list[Path]:
    """Make the student notebooks of `assignments` (all by default) with nbgrader.

    The released notebooks go to `out_dir` (default `<root>/exercises`), laid out as
    `<assignment>/<assignment>.ipynb`. Returns their paths.
    """
    sources = assignment_sources(root)
    names = assignments or list(sources)
    for name in names:
        if name not in sources:
            raise CourseError(f"no assignment {name!r}: expected solutions/{name}/{name}.md")
        make_notebook(sources[name])
    out_dir = (out_dir or root / "exercises").resolve()
    written = []
    with tempfile.TemporaryDirectory(prefix="rnn-release-") as tmp:
        # A course folder of our own, so nbgrader's gradebook and log stay out of the checkout.
        course = Path(tmp)
        for name in names:
            dest = course / "source" / name
            dest.mkdir(parents=True)
            shutil.copy2(root / "solutions" / name / f"{name}.ipynb", dest)
            nbgrader("generate_assignment", name, "--force", root=course, db=course / "gradebook.db",
                     extra=_RELEASE_SETTINGS)
            released = course / "release" / name
            target = out_dir / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(released, target)
            written += sorted(target.glob("*.ipynb"))
    return written


# nbgrader's own feedback preprocessors, with hidden tests scrubbed before export.
_FEEDBACK_SETTINGS = (
    "--GenerateFeedback.preprocessors=['nbgrader.preprocessors.GetGrades', "
    "'autograde.grading.feedback.ScrubHiddenTests', 'nbconvert.preprocessors.CSSHTMLHeaderPreprocessor']",
)


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
    from ..kernel.compare import compare_output

    lines = ["# Common mistakes", "",
             "These are the mistakes the grader recognises. When a check in an exercise fails with",
             "*This looks like a known mistake*, it names one of them, with the explanation below. Each",
             "example takes the first public case where the mistake shows and gives, at the first index",
             "where they differ, the right value (what PyTorch computes) and the mistake's value.", "",
             "This page is generated from the grader's catalogue (`autograde`), so the two always agree.", ""]
    for assignment, functions in chapters.assignments().items():
        chapter = root / "book" / f"{assignment}.md"
        title = next((ln[2:].strip() for ln in chapter.read_text(encoding="utf-8").splitlines()
                      if ln.startswith("# ")), assignment) if chapter.exists() else assignment
        lines += [f"## {title}", "", f"Exercise `{assignment}`.", ""]
        for fn in functions:
            known = chapters.mistakes_for(fn.name)
            if not known:
                continue
            lines += [f"### `{fn.name}`", ""]
            for m in known:
                lines += [f"**{m.title[0].upper() + m.title[1:]}.** {m.explanation}", ""]
                example = None
                for case in cases.public_cases(fn.name):
                    wrong = (case.mistakes or {}).get(m.key)
                    for name, right, got in zip(fn.outputs, case.expected, wrong or ()):
                        if example is None and compare_output(name, right, got) is not None:
                            example = case, name, np.asarray(right), np.asarray(got)
                if example is None:
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
                    lines += [where + f"`{name}{list(first)}` should be {right[first]:.4f}; with this mistake it "
                                      f"is {got[first]:.4f} (largest difference {np.abs(right - got).max():.3g}).", ""]
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
    notebook = make_notebook(sources[assignment])
    source = course_dir / "source" / assignment
    source.mkdir(parents=True, exist_ok=True)
    shutil.copy2(notebook, source)
    db = course_dir / "gradebook.db"
    nbgrader("generate_assignment", assignment, "--force", root=course_dir, db=db, extra=_RELEASE_SETTINGS)
    return db, course_dir / "release" / assignment / f"{assignment}.ipynb"


def _feedback(assignment: str, course_dir: Path, db: Path, students: list[str] | None, results=()) -> None:
    """nbgrader's feedback for every executed notebook; a plain page of the grading
    notes for a student whose submission could not be run at all."""
    from html import escape

    from .form import invalid_student_id

    only = (f"--student={students[0]}",) if students and len(students) == 1 else ()
    nbgrader("generate_feedback", assignment, "--force", *only, root=course_dir, db=db, extra=_FEEDBACK_SETTINGS,
             check=False)
    for r in results:
        if invalid_student_id(r.student):
            continue
        page = course_dir / "feedback" / r.student / assignment / f"{assignment}.html"
        if not page.exists():
            page.parent.mkdir(parents=True, exist_ok=True)
            items = "".join(f"<li>{escape(m)}</li>" for m in r.messages)
            page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(assignment)}: "
                            f"{escape(r.student)}</title></head><body><h1>{escape(assignment)}</h1>"
                            f"<p>Score: {r.score:g} / {r.max_score:g}</p><ul>{items}</ul></body></html>",
                            encoding="utf-8")


def write_grades_csv(path: Path, results: list) -> Path:
    """One row per student: total, each test's points, flags and the messages."""
    import csv

    cells = list(dict.fromkeys(c["grade_id"] for r in results for c in r.cells))
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student_id", "assignment", "score", "max_score", *cells, "flags", "messages"])
        for r in results:
            points = {c["grade_id"]: c["points"] for c in r.cells}
            w.writerow([r.student, r.assignment, f"{r.score:g}", f"{r.max_score:g}",
                        *(f"{points.get(c, 0):g}" for c in cells), "; ".join(r.flags), " | ".join(r.messages)])
    os.replace(tmp, path)
    return path


# An LMS export names each file <student_id>_<anything>_<notebook>.ipynb, e.g. Canvas's
# jsmith_12345_67890_01-rnn-basics.ipynb or jsmith_01-rnn-basics.ipynb: the student id
# is everything before the first underscore, the notebook's name the part after the
# last one. nbgrader matches the pattern against the extracted file's full path.
ZIP_PATTERN = r".*/(?P<student_id>[^/_]+)_(?:[^/]*_)?(?P<file_id>[^/_]+\.ipynb)$"


def collect_zip(assignment: str, archive: Path, course_dir: Path, pattern: str = ZIP_PATTERN) -> tuple[list[str], list[str]]:
    """Unpack an LMS export into submitted/<student>/<assignment>/ with nbgrader's
    zip_collect. Returns (students collected, files that matched no student)."""
    archive, course_dir = archive.resolve(), course_dir.resolve()
    if not archive.is_file():
        raise CourseError(f"{archive}: no such file")
    import zipfile

    if not zipfile.is_zipfile(archive):
        raise CourseError(f"{archive}: not a zip archive")
    inbox = course_dir / "downloaded" / assignment / "archive"
    if inbox.exists():
        shutil.rmtree(inbox)
    inbox.mkdir(parents=True)
    shutil.copy2(archive, inbox)
    proc = nbgrader("zip_collect", assignment, "--force", f"--FileNameCollectorPlugin.named_regexp={pattern}",
                    root=course_dir, db=course_dir / "gradebook.db")
    skipped = [line.split(" in: ", 1)[1].strip() for line in proc.stderr.splitlines() if "did not match anything in: " in line]
    after = sorted(p.name for p in (course_dir / "submitted").iterdir()) if (course_dir / "submitted").is_dir() else []
    return after, [Path(f).name for f in skipped]


def write_lms_csv(path: Path, results: list, assignment: str) -> Path:
    """Grades in the form LMS gradebooks import: student id, score, points possible."""
    import csv

    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student_id", assignment, "points_possible"])
        for r in results:
            w.writerow([r.student, f"{r.score:g}", f"{r.max_score:g}"])
    os.replace(tmp, path)
    return path


def grade(root: Path, assignment: str, course_dir: Path, student: str | None = None, jobs: int | None = None,
          sandboxed: bool = True, limits=None, progress: bool = True) -> GradeResult:
    """Grade `course_dir/submitted/<student>/<assignment>/` with the hardened pipeline.

    Writes `course_dir/autograded/` (executed notebooks and result.json), the nbgrader
    gradebook `course_dir/gradebook.db`, feedback HTML in `course_dir/feedback/` and
    `course_dir/grades.csv`."""
    from . import form as forms
    from . import pipeline, sandbox

    course_dir = course_dir.resolve()
    if sandboxed and sandbox.bwrap_path() is None:
        raise CourseError("bubblewrap (bwrap) is not installed, so submissions cannot be isolated. Install it "
                          "(`make setup` does, or `apt-get install bubblewrap`), or pass --no-sandbox to grade "
                          "without isolation; every result is then marked unsandboxed.")
    db, released = _prepare_course(root, assignment, course_dir)
    a = pipeline.Assignment(assignment, nbformat.read(course_dir / "source" / assignment / f"{assignment}.ipynb", 4),
                            nbformat.read(released, 4))
    students = [student] if student else None
    if student and not (course_dir / "submitted" / student).is_dir():
        raise CourseError(f"no submission folder submitted/{student}/")
    invalid: list = []
    results = pipeline.grade_all(course_dir, a, f"sqlite:///{db}", students, jobs=jobs, limits=limits,
                                 sandboxed=sandboxed, progress=progress, invalid=invalid)
    everyone = [r for r in (pipeline.load(course_dir, p.name, assignment)
                            for p in sorted((course_dir / "submitted").iterdir())
                            if p.is_dir() and not forms.invalid_student_id(p.name)) if r] + invalid
    # Grades first: a failure in the feedback step below must never cost the CSVs or the report.
    csv = write_grades_csv(course_dir / "grades.csv", everyone)
    write_lms_csv(course_dir / f"grades-lms-{assignment}.csv", everyone, assignment)
    from . import report

    report.write(everyone, assignment, course_dir)
    _feedback(assignment, course_dir, db, students, results)
    return GradeResult(db, csv, course_dir / "feedback", course_dir / "autograded", results + invalid)
