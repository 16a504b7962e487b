"""nbgrader's side of a grading run, in the page maker: each result recorded there, then its page.

Issue 23, item 16: the grader's own process never imports nbgrader (half a second of a
late submission's fixed cost); the page maker (autograde/grading/pages.py) records each
result in the gradebook and then makes the page, which reads its grades from there. A
record the maker cannot make is made in the grader's process; one that cannot be made
there either is reported, never dropped.
"""
from __future__ import annotations

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


def test_a_record_the_page_maker_cannot_make_is_made_here(tmp_path, monkeypatch):
    """No page maker (it could not start): every record is made in this process."""
    course_dir = tmp_path / "course"
    finished_run(course_dir, {"s0": 1.0, "s1": 0.5})

    def no_maker(self):
        raise OSError("no page maker here")

    monkeypatch.setattr(Pages, "_start", no_maker)
    pages = Pages(course_dir, A, course_dir / "gradebook.db")
    for student in ("s0", "s1"):
        pages.record(pipeline.load(course_dir, student, A))
    pages.finish()
    assert pages.recorded == [] and pages.unrecorded == {}
    for student in ("s0", "s1"):
        assert gradebook_scores(course_dir, student) == {c["grade_id"]: c["points"]
                                                         for c in pipeline.load(course_dir, student, A).cells}


def test_a_record_that_fails_everywhere_is_reported_and_the_next_is_still_made(tmp_path):
    """A result the gradebook refuses (an assignment it does not hold) fails in the maker
    and again here: it is kept in `unrecorded` with the reason; the maker goes on and
    records the next result itself."""
    course_dir = tmp_path / "course"
    finished_run(course_dir, {"s0": 1.0, "s1": 0.5})
    stray = pipeline.load(course_dir, "s0", A)
    stray.assignment = "no-such-assignment"
    pages = Pages(course_dir, A, course_dir / "gradebook.db")
    pages.record(stray)
    pages.record(pipeline.load(course_dir, "s1", A))
    pages.finish()
    assert list(pages.unrecorded) == ["s0"] and "no-such-assignment" in pages.unrecorded["s0"]
    assert pages.recorded == ["s1"]
    assert gradebook_scores(course_dir, "s1") == {c["grade_id"]: c["points"]
                                                  for c in pipeline.load(course_dir, "s1", A).cells}
    assert gradebook_scores(course_dir, "s0") == {}
