"""Talk to the LMS: take in its zip of submissions, and write the grades in its import format."""
from __future__ import annotations

import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .coursedir import CourseDir
from .errors import CourseError
from .gradebook import nbgrader
from .tables import csv_number, csv_text


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
    course = CourseDir(course_dir)
    inbox = course.downloaded(assignment) / "archive"
    if inbox.exists():
        shutil.rmtree(inbox)
    inbox.mkdir(parents=True)
    clean_name = archive.stem + ".zip"
    # Where nbgrader's collector will see each file, for the same match it will make.
    where = str(course.downloaded(assignment) / "extracted" / archive.stem)
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
    submitted = course.submitted()
    skipped: list[str] = []
    if kept:
        proc = nbgrader("zip_collect", assignment, "--force", f"--FileNameCollectorPlugin.named_regexp={pattern}",
                        root=course_dir, db=course.gradebook)
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
