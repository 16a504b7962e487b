"""A run with nothing new to grade is cheap (issue 17's fixed cost), and never stale.

Results are made here as a finished earlier run would have left them (result.json with
the submission's key), so no sandbox runs: what is tested is what a rerun does with
them. The shortcuts must never leave a stale gradebook row or a stale report figure.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograde.grading import course, figures, gradebook, pipeline, report
from conftest import ROOT
from kit.results import finished_run, gradebook_scores, save_result

A = "01-rnn-basics"


def test_a_reused_result_missing_or_stale_in_the_gradebook_is_written_again(tmp_path, monkeypatch):
    """A run killed between a result and its gradebook write leaves a result the gradebook
    does not hold (or holds an older score of): the next run, with nothing to grade, writes
    it; a result the gradebook holds is not written again."""
    course_dir = tmp_path / "course"
    db_url, a = finished_run(course_dir, {"s0": 1.0, "s1": 0.5})
    assert gradebook_scores(course_dir, "s0") == {}
    pipeline.grade_all(course_dir, a, progress=False)  # nothing to grade: both reused
    for student, fraction in {"s0": 1.0, "s1": 0.5}.items():
        held = gradebook_scores(course_dir, student)
        assert held and all(v == pytest.approx(fraction * p) for v, p in
                            [(held[c.metadata.nbgrader["grade_id"]], float(c.metadata.nbgrader["points"]))
                             for c in a.grade_cells])
    # s1's result changes (regraded, then killed before the gradebook write): written again
    save_result(course_dir, a, "s1", 0.0, wall=1.0)
    r1 = pipeline.load(course_dir, "s1", A)
    assert not gradebook.in_gradebook(db_url, r1)
    written = []
    real = gradebook.record_in_gradebook
    monkeypatch.setattr(gradebook, "record_in_gradebook", lambda url, r: (written.append(r.student), real(url, r)))
    pipeline.grade_all(course_dir, a, progress=False)
    assert written == ["s1"]  # s0 is held as it is: not written again
    assert set(gradebook_scores(course_dir, "s1").values()) == {0.0}
    assert gradebook.in_gradebook(db_url, r1) and gradebook.in_gradebook(db_url, pipeline.load(course_dir, "s0", A))


def test_a_run_with_nothing_new_imports_neither_nbgrader_nor_torch(tmp_path):
    course_dir = tmp_path / "course"
    finished_run(course_dir, {"s0": 1.0, "s1": 0.5})
    code = ("import sys\nfrom pathlib import Path\nfrom autograde.grading import course\n"
            f"course.grade(Path({str(ROOT)!r}), {A!r}, Path({str(course_dir)!r}), progress=False)\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'nbgrader', 'nbconvert', 'torch', "
            "'matplotlib', 'sqlalchemy'}))")
    first = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "nbgrader" in first.stdout  # the first run wrote the gradebook and the pages
    again = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert again.stdout.strip() == "[]", again.stdout
    for student in ("s0", "s1"):
        assert (course_dir / "feedback" / student / A / f"{A}.html").is_file()
    assert (course_dir / "reports" / A / "index.html").is_file()


def test_report_figures_are_redrawn_whenever_what_they_show_changed(tmp_path):
    """Each figure of the report is, after every run, the figure of that run's numbers:
    redrawn when a score or a time changed, kept (not redrawn) when nothing did."""
    course_dir = tmp_path / "course"
    db_url, a = finished_run(course_dir, {"s0": 1.0, "s1": 0.5, "s2": 0.0})
    folder = course_dir / "reports" / A

    def results():
        return [pipeline.load(course_dir, s, A) for s in ("s0", "s1", "s2")]

    def check_fresh() -> dict[str, int]:
        """Every figure in the folder equals one drawn afresh from this run's report.json."""
        summary = json.loads((folder / "report.json").read_text())
        fresh = tmp_path / f"fresh-{len(list(tmp_path.iterdir()))}"
        fresh.mkdir()
        drawn = figures.draw(summary, fresh)
        assert [name for name, _, _ in drawn] == [name for name, _, _ in report.figure_list(summary)]
        for name, _, _ in drawn:
            assert (folder / name).read_bytes() == (fresh / name).read_bytes(), f"{name} is stale"
        return {name: (folder / name).stat().st_mtime_ns for name, _, _ in drawn}

    report.start(results(), A, course_dir)()
    first = check_fresh()
    report.start(results(), A, course_dir)()  # nothing changed: nothing redrawn
    assert check_fresh() == first
    save_result(course_dir, a, "s2", 1.0, wall=1.0)  # a score changed, no time did
    report.start(results(), A, course_dir)()
    second = check_fresh()
    assert second["scores.png"] != first["scores.png"] and second["time.png"] == first["time.png"]
    save_result(course_dir, a, "s1", 0.5, wall=9.0)  # only a grading time changed
    report.start(results(), A, course_dir)()
    third = check_fresh()
    assert third["time.png"] != second["time.png"] and third["scores.png"] == second["scores.png"]
    save_result(course_dir, a, "s0", 0.0, wall=3.0)
    report.write(results(), A, course_dir)  # drawn in this process: the same rule
    assert all(t != third[name] for name, t in check_fresh().items())
    (folder / "time.png").unlink()  # a figure gone is drawn again
    report.start(results(), A, course_dir)()
    check_fresh()


def test_a_figure_drawer_started_early_draws_or_is_stopped_and_one_that_died_is_replaced(tmp_path):
    """course.grade starts the report's drawer before grading (its matplotlib import
    overlaps the run): it draws the figures when the report is known; with nothing to
    draw it is stopped; one that died before it was needed is replaced by a drawer
    started then, and the figures are still drawn."""
    course_dir = tmp_path / "course"
    finished_run(course_dir, {"s0": 1.0, "s1": 0.5})
    folder = course_dir / "reports" / A
    results = [pipeline.load(course_dir, s, A) for s in ("s0", "s1")]
    warm = report.Drawer()
    warm.warm()
    proc = warm.proc
    report.start(results, A, course_dir, drawer=warm)()
    assert warm.drawing is proc and proc.returncode == 0  # the warm one drew them
    assert (folder / "scores.png").is_file()
    for name in ("scores.png", "mistakes.png", "time.png"):
        (folder / name).unlink(missing_ok=True)
    dead = report.Drawer()
    dead.warm()
    dead.proc.kill()
    dead.proc.wait()
    report.start(results, A, course_dir, drawer=dead)()
    summary = json.loads((folder / "report.json").read_text())
    names = [name for name, _, _ in report.figure_list(summary)]
    assert names and all((folder / name).is_file() for name in names)
    assert "<img src='scores.png'" in (folder / "index.html").read_text()
    idle = report.Drawer()
    idle.warm()
    proc = idle.proc
    report.start(results, A, course_dir, drawer=idle)()  # nothing changed: nothing to draw
    assert idle.proc is None and proc.poll() is not None
