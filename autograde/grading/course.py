"""Grade a class (`rnn-course grade`): the course folder made ready, then every step in order.

The steps, each a module of its own: the assignment registered in nbgrader's gradebook
(gradebook.py), every submission graded (pipeline.py, running its sandboxes on this
machine or on a Dask cluster: cluster.py), the grades CSV and the LMS CSV (tables.py,
lms.py), the class report (report.py) and each student's feedback page (pages.py).
"""
from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .authoring import assignment_sources, make_notebook
from .coursedir import CourseDir
from .errors import CourseError
from .gradebook import RELEASE_CONFIG, nbgrader_here, registered
from .lms import lms_csv_name, write_lms_csv
from .tables import write_grades_csv


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
    course = CourseDir(course_dir)
    submitted = course.submitted()
    if not submitted.is_dir():
        raise CourseError(f"{submitted}: missing; put submissions at submitted/<student>/{assignment}/")
    sources = assignment_sources(root)
    if assignment not in sources:
        raise CourseError(f"no assignment {assignment!r}: expected {root}/solutions/{assignment}/{assignment}.md")
    md = sources[assignment]
    source = course.source(assignment)
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
    db = course.gradebook
    released = course.released(assignment)
    data = notebook.read_bytes()
    stamp = source / ".registered"  # the digest of what nbgrader last registered from here
    digest = hashlib.sha256(data + str(db).encode()).hexdigest()
    if registered(db, assignment) and released.is_file() and (source / notebook.name).is_file() \
            and (source / notebook.name).read_bytes() == data and stamp.is_file() and stamp.read_text() == digest:
        return db, released  # unchanged since nbgrader registered it: no second generate_assignment
    stamp.unlink(missing_ok=True)
    shutil.copy2(notebook, source)
    done = nbgrader_here("GenerateAssignment", assignment, course_dir, db, settings=RELEASE_CONFIG)
    if not done["success"]:
        raise CourseError(f"nbgrader could not register {assignment} in {db} (generate_assignment):\n"
                          f"{(done.get('log') or '')[-3000:]}\n{(done.get('error') or '')[-3000:]}")
    stamp.write_text(digest)
    return db, released


def grade(root: Path, assignment: str, course_dir: Path, student: str | None = None, jobs: int | None = None,
          sandboxed: bool = True, limits=None, progress: bool = True, scheduler: str | None = None,
          lms: str = "generic") -> GradeResult:
    """Grade `course_dir/submitted/<student>/<assignment>/` with the hardened pipeline.

    Writes `course_dir/autograded/` (executed notebooks and result.json), the nbgrader
    gradebook `course_dir/gradebook.db`, feedback HTML in `course_dir/feedback/` and
    `course_dir/grades.csv`. `scheduler` (tcp://HOST:PORT): the sandboxes run on that
    Dask cluster's workers (autograde.grading.cluster); everything else runs here."""
    from . import form as forms
    from . import pipeline, results, sandbox
    from .execute import Isolation

    course_dir = course_dir.resolve()
    course = CourseDir(course_dir)
    if sandboxed and scheduler is None and sandbox.bwrap_path() is None:
        raise CourseError("bubblewrap (bwrap) is not installed, so submissions cannot be isolated. Install it "
                          "(`make setup` does, or `apt-get install bubblewrap`), or pass --no-sandbox to grade "
                          "without isolation; every result is then marked unsandboxed.")
    from .pages import Pages, make_feedback

    # nbgrader's side of the run, in a page maker started now (its imports overlap the
    # set-up and grading): each result is recorded in the gradebook there as soon as it is
    # saved, and the student's feedback page made from it, while the class is graded.
    pages = Pages(course_dir, assignment, course.gradebook)
    pages.warm()
    from . import report

    drawer = report.Drawer()  # the report's figures: matplotlib imported while grading runs
    drawer.warm()
    try:
        db, released = _prepare_course(root, assignment, course_dir)
        a = pipeline.Assignment(assignment, nbformat.read(course.source(assignment) / f"{assignment}.ipynb", 4),
                                nbformat.read(released, 4))
        students = [student] if student else None
        if student and not course.submitted(student).is_dir():
            raise CourseError(f"no submission folder submitted/{student}/")
        invalid: list = []
        if scheduler:
            from .cluster import Cluster

            pool = Cluster(scheduler)
        else:
            pool = pipeline.LocalPool(jobs)
        graded = pipeline.grade_all(course_dir, a, pool, students, Isolation(limits or sandbox.Limits(), sandboxed),
                                    progress=progress, invalid=invalid, recorder=pages)
        everyone = [r for r in (results.load(course_dir, p.name, assignment)
                                for p in sorted(course.submitted().iterdir())
                                if p.is_dir() and not forms.invalid_student_id(p.name)) if r] + invalid
        # Grades first: a failure in the feedback step below must never cost the CSVs or the report.
        csv = write_grades_csv(course.grades_csv, everyone)
        write_lms_csv(course_dir / lms_csv_name(assignment, lms), everyone, assignment, lms)
        figures = report.start(everyone, assignment, course_dir, drawer=drawer)  # drawn while feedback is made
        make_feedback(assignment, course_dir, db, students, graded, pages)
        figures()
    finally:
        pages.finish()  # every record made before this returns, even when the run failed
        drawer.stop()
    if pages.unrecorded:
        raise CourseError(f"the gradebook {db} could not record {len(pages.unrecorded)} result(s), kept in "
                          f"autograded/<student>/{assignment}/result.json (the next run records them): "
                          + "; ".join(f"{s}: {why}" for s, why in sorted(pages.unrecorded.items())))
    return GradeResult(db, csv, course.feedback, course.autograded(), graded + invalid)
