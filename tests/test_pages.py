"""nbgrader's side of a grading run, in the page maker: each result recorded there, then its page.

Issue 23, item 16: the grader's own process need not import nbgrader to grade (half a
second of a late submission's fixed cost); the page maker (autograde/grading/pages.py)
records each result in the gradebook and then makes the page, which reads its grades
from there. A record the maker cannot make (it refuses, hangs or dies) is made in the
grader's process; one that cannot be made there either is reported, never dropped, and
that student's page is not made from an older grade.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import nbformat
import pytest

from autograde.grading import pipeline
from autograde.grading.pages import Pages
from conftest import ROOT, make_submission
from kit.results import finished_run, gradebook_scores

A = "01-rnn-basics"
WRONG = {"rnn_param_count": "def rnn_param_count(input_size, hidden_size, num_layers=1, bidirectional=False, "
                            "bias=True):\n    return 0\n"}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A course folder whose assignment is registered and whose two students' results are
    saved but not recorded (made once: registering takes seconds); each test copies it."""
    base = tmp_path_factory.mktemp("saved") / "course"
    finished_run(base, {"s0": 1.0, "s1": 0.5})
    return base


def copy_of(saved, tmp_path):
    import shutil

    shutil.copytree(saved, tmp_path / "course")
    return tmp_path / "course"


@pytest.mark.slow
def test_a_graded_run_records_through_the_page_maker_and_never_imports_nbgrader(tmp_path):
    course_dir = tmp_path / "course"
    for student, nb in {"ann": make_submission(A), "bob": make_submission(A, WRONG)}.items():
        (course_dir / "submitted" / student / A).mkdir(parents=True)
        nbformat.write(nb, course_dir / "submitted" / student / A / f"{A}.ipynb")
    from autograde.grading import course

    course._prepare_course(ROOT, A, course_dir)  # registered here, so that the run below has only grading to do
    code = ("import sys\nfrom pathlib import Path\nfrom autograde.grading import course\n"
            f"course.grade(Path({str(ROOT)!r}), {A!r}, Path({str(course_dir)!r}), progress=False)\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'nbgrader', 'nbconvert', 'matplotlib', "
            "'sqlalchemy'}))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.strip().splitlines()[-1] == "[]", run.stdout
    for student in ("ann", "bob"):
        result = pipeline.load(course_dir, student, A)
        assert gradebook_scores(course_dir, student) == {c["grade_id"]: c["points"] for c in result.cells}
        page = (course_dir / "feedback" / student / A / f"{A}.html").read_text(encoding="utf-8")
        assert f"{A} (Score: {result.score:.1f} / {result.max_score:.1f})" in page
    assert pipeline.load(course_dir, "bob", A).score < pipeline.load(course_dir, "ann", A).score


def test_a_record_that_fails_everywhere_is_reported_and_the_next_is_still_made(saved, tmp_path):
    """A result the gradebook refuses (an assignment it does not hold) fails in the maker
    and again here: it is kept in `unrecorded` with the reason; the maker goes on and
    records the next result itself."""
    course_dir = copy_of(saved, tmp_path)
    stray = pipeline.load(course_dir, "s0", A)
    stray.assignment = "no-such-assignment"
    pages = Pages(course_dir, A, course_dir / "gradebook.db")
    pages.record(stray)
    pages.record(pipeline.load(course_dir, "s1", A))
    pages.submit("s0")  # the gradebook holds no grade of s0's to show: no page is made from it
    pages.finish()
    assert list(pages.unrecorded) == ["s0"] and "no-such-assignment" in pages.unrecorded["s0"]
    assert pages.recorded == ["s1"]
    assert pages.failed == {"s0": "its result could not be recorded in the gradebook"} and pages.made == []
    assert gradebook_scores(course_dir, "s1") == {c["grade_id"]: c["points"]
                                                  for c in pipeline.load(course_dir, "s1", A).cells}
    assert gradebook_scores(course_dir, "s0") == {}


def maker_on(db_url: str):
    """Pages._start, but the page maker it starts records into `db_url` (the grader keeps its own)."""
    real = Pages._start

    def start(self):
        mine, self.db_url = self.db_url, db_url
        try:
            return real(self)
        finally:
            self.db_url = mine
    return start


# A page maker gone wrong after it said it was ready, on its first request.
BROKEN = {"hangs": "time.sleep(600)", "dies": "os._exit(3)",
          "garbles": "sys.stdout.buffer.write(bytes([255, 254, 10])); sys.stdout.flush(); time.sleep(600)"}


def broken_maker(how: str):
    def start(self):
        proc = subprocess.Popen([sys.executable, "-c", "import json, os, sys, time\n"
                                 "print(json.dumps(['ready', None]), flush=True)\nsys.stdin.readline()\n"
                                 + BROKEN[how]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, encoding="utf-8", bufsize=1)
        self._starting = proc
        assert self._reply(proc, 60) == ["ready", None]
        return proc
    return start


def no_maker(self):
    raise OSError("no page maker here")


@pytest.mark.parametrize("how", ["cannot start", "refuses", *BROKEN])
def test_a_record_the_page_maker_refuses_or_never_makes_is_made_here(saved, tmp_path, monkeypatch, how):
    """The maker cannot start, answers a record with an error (its gradebook lacks the
    assignment), or hangs (stopped after the time limit), dies, or answers with bytes
    that are not text: each time the grader records the result itself, in its
    gradebook, and a fresh maker takes the next request."""
    course_dir = copy_of(saved, tmp_path)
    if how == "cannot start":
        monkeypatch.setattr(Pages, "_start", no_maker)
    elif how == "refuses":
        other = tmp_path / "other.db"
        other.write_bytes((course_dir / "gradebook.db").read_bytes())
        with sqlite3.connect(other) as db:
            db.execute("update assignment set name = 'renamed'")
        monkeypatch.setattr(Pages, "_start", maker_on(f"sqlite:///{other}"))
    else:
        monkeypatch.setattr(Pages, "_start", broken_maker(how))
    pages = Pages(course_dir, A, course_dir / "gradebook.db", seconds=1.5)
    for student in ("s0", "s1"):
        pages.record(pipeline.load(course_dir, student, A))
    pages.finish()
    assert pages.recorded == [] and pages.unrecorded == {}
    for student in ("s0", "s1"):
        assert gradebook_scores(course_dir, student) == {c["grade_id"]: c["points"]
                                                         for c in pipeline.load(course_dir, student, A).cells}


def test_the_page_makers_grade_reader_shows_what_the_gradebook_holds_now(saved, tmp_path):
    """The page maker reads grades through one gradebook kept open for its life
    (getgrades.py): each page reads what the gradebook holds then (here a grade changed
    by another process between two pages), never what an earlier page read, and holds
    no lock after it (the grader can write, recording a result the maker could not)."""
    import copy

    from autograde.grading import gradebook
    from autograde.grading.getgrades import KeptOpenGetGrades

    course_dir = copy_of(saved, tmp_path)
    db_url = f"sqlite:///{course_dir / 'gradebook.db'}"
    result = pipeline.load(course_dir, "s1", A)
    gradebook.record_in_gradebook(db_url, result)
    released = nbformat.read(course_dir / "release" / A / f"{A}.ipynb", as_version=4)

    def page_score() -> float:
        resources = {"nbgrader": {"notebook": A, "assignment": A, "student": "s1", "db_url": db_url}}
        KeptOpenGetGrades()(copy.deepcopy(released), resources)
        return resources["nbgrader"]["score"]

    try:
        assert page_score() == pytest.approx(result.score)
        regraded = copy.deepcopy(result)
        for cell in regraded.cells:
            cell["points"] = cell["max_points"]
        subprocess.run([sys.executable, "-c", "import sys, json, types\n"
                        "from autograde.grading.gradebook import record_in_gradebook\n"
                        "record_in_gradebook(sys.argv[1], types.SimpleNamespace(**json.loads(sys.argv[2])))",
                        db_url, json.dumps({"student": "s1", "assignment": A, "cells": regraded.cells})],
                       cwd=ROOT, check=True)
        assert page_score() == pytest.approx(regraded.max_score)
        with sqlite3.connect(course_dir / "gradebook.db", timeout=0) as writer:
            writer.execute("begin exclusive")
            writer.execute("rollback")
    finally:
        gradebook._KEPT.pop(db_url).close()


def test_a_page_that_hangs_the_maker_costs_no_other_students_record(saved, tmp_path):
    """A hostile student whose notebook hangs the page maker (a named pipe where the
    executed notebook should be: reading it never ends) loses only their own page: the
    maker is stopped, and the next student's result, handed over after it, is recorded
    by a fresh maker; the hostile student's own record, made before, stays."""
    import os

    course_dir = copy_of(saved, tmp_path)
    executed = course_dir / "autograded" / "s0" / A / f"{A}.ipynb"
    os.mkfifo(executed)
    pages = Pages(course_dir, A, course_dir / "gradebook.db", seconds=1.5)
    pages.record(pipeline.load(course_dir, "s0", A))  # no regular file: no page asked for here,
    pages.submit("s0")  # so its page is asked for as make_feedback would
    pages.record(pipeline.load(course_dir, "s1", A))
    pages.finish()
    assert pages.submitted == ["s0"] and pages.made == []
    assert pages.failed == {"s0": "making the page took longer than 1.5 s; it was stopped"}
    assert pages.recorded == ["s0", "s1"] and pages.unrecorded == {}
    for student in ("s0", "s1"):
        assert gradebook_scores(course_dir, student) == {c["grade_id"]: c["points"]
                                                         for c in pipeline.load(course_dir, student, A).cells}
