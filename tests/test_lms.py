"""From an LMS export to an LMS import: a zip of submissions named by student id is
collected with nbgrader's zip_collect, graded, and written as a CSV an LMS accepts."""
import csv
import subprocess
import zipfile

import nbformat
import pytest

from conftest import BIN, ROOT, make_submission

pytestmark = pytest.mark.slow
A = "01-rnn-basics"


def test_an_lms_zip_is_collected_graded_and_exported(tmp_path):
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as z:
        z.writestr(f"submissions/jsmith_12345_67890_{A}.ipynb", nbformat.writes(make_submission(A)))
        z.writestr(f"submissions/Ana Khan_22_33_{A}-1.ipynb", nbformat.writes(make_submission(A, solved=False)))
        z.writestr("submissions/readme.ipynb", "{}")
    course_dir = tmp_path / "course"
    out = subprocess.run([str(BIN / "rnn-course"), "collect", A, str(export), "--course-dir", str(course_dir)],
                         capture_output=True, text=True, check=True).stdout
    assert "collected 2 students" in out and "skipped (no student id in the name): readme.ipynb" in out
    assert (course_dir / "submitted" / "jsmith" / A / f"{A}.ipynb").is_file()
    assert (course_dir / "submitted" / "Ana Khan" / A / f"{A}-1.ipynb").is_file()
    subprocess.run([str(BIN / "rnn-course"), "grade", A, "--course-dir", str(course_dir)], cwd=ROOT,
                   capture_output=True, text=True, check=True)
    rows = list(csv.reader(open(course_dir / f"grades-lms-{A}.csv")))
    assert rows[0] == ["student_id", A, "points_possible"]
    assert sorted(rows[1:]) == [["Ana Khan", "0", "11"], ["jsmith", "11", "11"]]


def test_a_file_that_is_not_a_zip_is_refused_with_its_name(tmp_path):
    bad = tmp_path / "export.zip"
    bad.write_text("not a zip")
    proc = subprocess.run([str(BIN / "rnn-course"), "collect", A, str(bad), "--course-dir", str(tmp_path / "c")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and f"{bad}: not a zip archive" in proc.stderr
