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


def _entry(z, name, data, mode=None):
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    if mode is not None:
        info.external_attr = mode << 16
    z.writestr(info, data)


def test_a_hostile_lms_zip_loses_only_its_bad_entries(tmp_path):
    """Every bad entry is refused with its reason, before nbgrader sees it; the good
    ones are collected as plain files; nothing is written outside submitted/."""
    import stat

    good = nbformat.writes(make_submission(A))
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as z:
        _entry(z, f"s/jsmith_1_{A}.ipynb", good, stat.S_IFREG | 0o6755)  # setuid + setgid + exec
        _entry(z, f"s/ana_2_{A}.ipynb", good, stat.S_IFREG | 0o1777)    # sticky, world-writable
        _entry(z, f"s/corrupt_3_{A}.ipynb", good)
        _entry(z, f"/abs/evil_4_{A}.ipynb", good)
        _entry(z, f"s/../../escape_5_{A}.ipynb", good)
        _entry(z, f"s/link_6_{A}.ipynb", "/etc/passwd", stat.S_IFLNK | 0o777)
        _entry(z, f"s/.._7_{A}.ipynb", good)
        _entry(z, "s/nested_8.zip", b"PK\x05\x06" + bytes(18))
        _entry(z, "s/readme.ipynb", "{}")
        _entry(z, f"t/jsmith_9_{A}.ipynb", "{}")  # a second notebook for jsmith: nbgrader would abort
    raw = bytearray(export.read_bytes())
    start = raw.index(f"s/corrupt_3_{A}.ipynb".encode()) + len(f"s/corrupt_3_{A}.ipynb") + 400
    raw[start:start + 64] = bytes(64)  # its deflated data, damaged
    export.write_bytes(bytes(raw))
    course_dir = tmp_path / "course"
    proc = subprocess.run([str(BIN / "rnn-course"), "collect", A, str(export), "--course-dir", str(course_dir)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "collected 2 students" in out and "skipped (no student id in the name): readme.ipynb" in out
    for entry, why in [(f"s/corrupt_3_{A}.ipynb", "corrupt or unreadable"),
                       (f"/abs/evil_4_{A}.ipynb", "an absolute path"),
                       (f"s/../../escape_5_{A}.ipynb", "'..' or '.' in its path"),
                       (f"s/link_6_{A}.ipynb", "a symbolic link"),
                       (f"s/.._7_{A}.ipynb", "the student id '..' is empty or a dot name"),
                       ("s/nested_8.zip", "not a notebook"),
                       (f"t/jsmith_9_{A}.ipynb", f"a second {A}.ipynb for student 'jsmith'")]:
        assert f"refused {entry!r}: {why}" in out, out
    submitted = course_dir / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == ["ana", "jsmith"]
    for student in ["ana", "jsmith"]:
        notebook = submitted / student / A / f"{A}.ipynb"
        assert nbformat.reads(notebook.read_text(), 4) == nbformat.reads(good, 4)
        assert stat.S_IMODE(notebook.stat().st_mode) == 0o644
        assert stat.S_IMODE(notebook.parent.stat().st_mode) == 0o755
        assert stat.S_IMODE(notebook.parent.parent.stat().st_mode) == 0o755
    written = {p for p in tmp_path.rglob("*") if p.is_file()} - {export}
    outside = [p for p in written if not p.is_relative_to(submitted) and not p.is_relative_to(course_dir / "downloaded")
               and p.name != "gradebook.db" and "release" not in p.parts]
    assert outside == [], outside
    assert not list(tmp_path.rglob("escape_5*")) and not list(tmp_path.rglob(f"*{A}.ipynb.lnk"))
    assert not any(p.is_symlink() for p in course_dir.rglob("*"))


def test_a_name_too_long_for_the_file_system_is_refused_alone_and_look_alike_ids_are_named(tmp_path):
    """Issue 23, item 8: 128 emoji are 512 bytes, past the 255-byte limit of a file name;
    that entry alone is refused (it stopped the whole collect with ENAMETOOLONG). Ids that
    read the same (case, NFC/NFD, a Cyrillic а) are collected apart and named in a warning."""
    import unicodedata

    good = nbformat.writes(make_submission(A))
    emoji = "\N{GRINNING FACE}" * 128
    nfc, nfd = unicodedata.normalize("NFC", "José"), unicodedata.normalize("NFD", "José")
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as z:
        for name in [f"s/{emoji}_1_{A}.ipynb", f"s/jsmith_2_{A}.ipynb", f"s/Bob_3_{A}.ipynb",
                     f"s/bob_4_{A}.ipynb", f"s/B\u043eb_5_{A}.ipynb", f"s/{nfc}_6_{A}.ipynb", f"s/{nfd}_7_{A}.ipynb"]:
            _entry(z, name, good)
    course_dir = tmp_path / "course"
    proc = subprocess.run([str(BIN / "rnn-course"), "collect", A, str(export), "--course-dir", str(course_dir)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"refused 's/{emoji}_1_{A}.ipynb': a name of " in out and "more than a file system allows (255)" in out
    assert "collected 6 students" in out, out
    assert (course_dir / "submitted" / "jsmith" / A / f"{A}.ipynb").is_file()
    assert "warning: the student ids 'Bob', 'Bоb', 'bob' look alike" in out, out
    assert f"warning: the student ids {', '.join(map(repr, sorted([nfc, nfd])))} look alike" in out, out
    assert out.count("warning:") == 2


def test_grades_import_into_canvas_and_moodle_as_their_documented_formats(tmp_path):
    """Issue 24, items 3, 8 and 9, through the real grading command: one student who ran
    the notebook's install cell, graded with `--lms canvas`, then `--lms moodle`.
    Canvas's gradebook import (see write_lms_csv for what was read): a header with Student,
    ID, SIS User ID, SIS Login ID and Section before the assignment's column, a "Points
    Possible" row, then one row per student found by its SIS Login ID. Moodle's CSV grade
    import: a header, one row per student, a user-identifying column mapped to a Moodle
    user field ("ID number" -> useridnumber) and one numeric column per grade item."""
    nb = make_submission(A)
    install = nbformat.v4.new_code_cell("%pip install rnn_course_checks-0.1.0-py3-none-any.whl")
    nb.cells.insert(1, install)
    folder = tmp_path / "course" / "submitted" / "jsmith" / A
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{A}.ipynb")
    course_dir = tmp_path / "course"
    proc = subprocess.run([str(BIN / "rnn-course"), "grade", A, "--course-dir", str(course_dir), "--lms", "canvas"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"graded 1 submission of {A}" in proc.stdout, proc.stdout  # item 8: no "1 submissions"
    # item 8: the progress bar names its stage before the first submission ends
    first = proc.stderr.strip().splitlines()[0]
    assert "0/1" in first and "grading" in first, proc.stderr
    # item 3: the install cell did nothing and printed nothing at grading
    executed = nbformat.read(course_dir / "autograded" / "jsmith" / A / f"{A}.ipynb", as_version=4)
    cell = next(c for c in executed.cells if c.source == install.source)
    assert cell.outputs == [], cell.outputs
    feedback = (course_dir / "feedback" / "jsmith" / A / f"{A}.html").read_text()
    assert "OSError" not in feedback and "rnn_course_checks-0.1.0" in feedback

    with open(course_dir / f"grades-canvas-{A}.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] and rows[0][5] == A
    assert rows[1][0].strip() == "Points Possible" and float(rows[1][5]) == 11
    canvas = {r[3]: float(r[5]) for r in rows[2:]}
    assert canvas == {"jsmith": 11.0}

    proc = subprocess.run([str(BIN / "rnn-course"), "grade", A, "--course-dir", str(course_dir), "--lms", "moodle"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with open(course_dir / f"grades-moodle-{A}.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["ID number", A] and rows == [{"ID number": "jsmith", A: "11"}]


def test_the_command_line_says_its_version():
    from autograde import __version__

    out = subprocess.run([str(BIN / "rnn-course"), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"rnn-course {__version__}"
