"""Talk to nbgrader: every nbgrader command the grader runs, and every query of its gradebook."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .errors import CourseError


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
RELEASE_CONFIG = {"CourseDirectory.include": ["*.ipynb"]}

# nbgrader's tables, joined once: the cells of an assignment's notebooks, and the grades
# of a student's submitted notebooks with their cells.
_CELLS = ("base_cell join notebook on notebook.id = base_cell.notebook_id "
          "join assignment on assignment.id = notebook.assignment_id")
_GRADES = ("grade join base_cell on base_cell.id = grade.cell_id "
           "join submitted_notebook on submitted_notebook.id = grade.notebook_id "
           "join notebook on notebook.id = submitted_notebook.notebook_id "
           "join submitted_assignment on submitted_assignment.id = submitted_notebook.assignment_id "
           "join assignment on assignment.id = submitted_assignment.assignment_id")


def gradebook_rows(db: Path, sql: str, params: tuple) -> list | None:
    """The rows of a read-only query of nbgrader's gradebook, read with sqlite alone
    (cheaper than starting nbgrader's API); None if there is no gradebook to read."""
    import sqlite3

    if not db.is_file():
        return None
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            return con.execute(sql, params).fetchall()
    except sqlite3.Error:
        return None



def registered(db: Path, assignment: str) -> bool:
    """Whether the gradebook `db` holds `assignment` with its grade cells (read with
    sqlite alone: cheaper than starting nbgrader's API)."""
    rows = gradebook_rows(db, f"select count(*) from {_CELLS} where assignment.name = ? "
                              f"and base_cell.type = 'GradeCell'", (assignment,))
    return bool(rows and rows[0][0])


def in_gradebook(db_url: str, result) -> bool:
    """Whether the gradebook already holds exactly this result (its student, its
    submission, and each of its cells' auto score): a reused result is written again
    only if it is not there (a run killed between the result and the gradebook write),
    without starting nbgrader's API for every student."""
    if not db_url.startswith("sqlite:///"):
        return False
    rows = gradebook_rows(
        Path(db_url[len("sqlite:///"):]),
        f"select base_cell.name, grade.auto_score from {_GRADES} "
        "where submitted_assignment.student_id = ? and assignment.name = ? and notebook.name = ? "
        "and base_cell.type = 'GradeCell'",
        (result.student, result.assignment, result.assignment))
    if rows is None:
        return False
    held = dict(rows)
    return len(held) == len(rows) and all(c["grade_id"] in held and held[c["grade_id"]] == c["points"]
                                          for c in result.cells)


def record_in_gradebook(db_url: str, result, gb=None) -> None:
    """Write a result's points into nbgrader's gradebook: the student, the submission and
    each grade cell's auto score, in one transaction. `gb`: an open nbgrader Gradebook to
    write with (`kept_open`); by default one is opened for this record and closed."""
    from nbgrader.api import Gradebook

    if gb is None:
        with Gradebook(db_url) as opened:
            _write(opened, result)
    else:
        _write(gb, result)


def _write(gb, result) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy warnings, not ours to fix
        try:
            gb.update_or_create_student(result.student)
            gb.update_or_create_submission(result.assignment, result.student)
            for cell in result.cells:
                grade = gb.find_grade(cell["grade_id"], result.assignment, result.assignment, result.student)
                grade.auto_score = cell["points"]
            gb.db.commit()
        except BaseException:
            gb.db.rollback()
            raise


_KEPT: dict = {}


def kept_open(db_url: str):
    """nbgrader's Gradebook of `db_url`, opened once and kept open for the rest of this
    process: SQLAlchemy compiles each statement once per open gradebook, so opening one
    per record cost 51 ms a record against 14 ms. Only for a process that lives for one
    run (the page maker), which ends every transaction it starts: a gradebook file
    replaced under it would not be seen."""
    from nbgrader.api import Gradebook

    if db_url not in _KEPT:
        _KEPT[db_url] = Gradebook(db_url)
    return _KEPT[db_url]


class RecordHere:
    """Record each result in the gradebook in this process (pipeline.grade_all's default
    recorder; course.grade's is its page maker, pages.Pages, which records in a process
    of its own): nbgrader's API is imported while the first sandboxes run, not after."""

    def __init__(self, db_url: str):
        self.db_url = db_url

    def start(self) -> None:
        import threading

        threading.Thread(target=lambda: __import__("nbgrader.api"), daemon=True).start()

    def record(self, result) -> None:
        record_in_gradebook(self.db_url, result)
