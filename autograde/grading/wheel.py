"""The student's wheel: the checks alone, installable without the repository.

    rnn-course wheel [--out DIR]      -> DIR/rnn_course_checks-<version>-py3-none-any.whl

A student runs `%pip install rnn_course_checks-<version>-py3-none-any.whl` once; the
exercise notebook's `from autograde.kernel import check` then works in any Python from
3.9 on with numpy 2 (numpy 2.0 is the last to support 3.9; tests/test_student_path.py runs
every exercise's public checks in a fresh venv of the lowest Python the metadata admits). The wheel holds `autograde/__init__.py` and `autograde/kernel/` (the checks, the
comparison, the public cases and the titles and explanations of the known mistakes,
in `kernel/data/*.npz`) and nothing else: no solution, no hidden seed, no reference,
no `autograde.chapters` (PyTorch) and no `autograde.grading` (the instructor's side).

The book builds it (book/_ext/student_wheel.py) into its `_static/` folder, so each
exercise page links to it. The file is written directly in the wheel format (PEP 427:
a zip with a `.dist-info` folder whose RECORD lists every file's sha256), with fixed
timestamps, so the same sources give the same bytes.
"""
from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

import autograde

DIST = "rnn_course_checks"  # the distribution's name as it appears in file names
PROJECT = "rnn-course-checks"
PACKAGE_DIR = Path(autograde.__file__).resolve().parent
# What the wheel may hold, relative to the package folder: nothing else is ever added.
INCLUDE = ("__init__.py", "kernel/*.py", "kernel/adapters/*.py", "kernel/data/*.npz")
_DATE = (2026, 1, 1, 0, 0, 0)
# The lowest Python the wheel admits (its Requires-Python), said where the exercises say
# how to install it (authoring.install_text) and tested (tests/test_student_path.py).
LOWEST_PYTHON = "3.9"


def version() -> str:
    return autograde.__version__


def wheel_name(ver: str | None = None) -> str:
    return f"{DIST}-{ver or version()}-py3-none-any.whl"


def package_files(package_dir: Path = PACKAGE_DIR) -> list[tuple[str, Path]]:
    """(path inside the wheel, file) of every file the wheel ships, sorted."""
    found = {}
    for pattern in INCLUDE:
        for path in package_dir.glob(pattern):
            if path.is_file():
                found[f"autograde/{path.relative_to(package_dir).as_posix()}"] = path
    return sorted(found.items())


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _metadata(ver: str) -> str:
    return (f"Metadata-Version: 2.1\nName: {PROJECT}\nVersion: {ver}\n"
            "Summary: The checks of the RNN course's exercises (student side: numpy only, no answers)\n"
            f"Requires-Python: >={LOWEST_PYTHON}\nRequires-Dist: numpy>=2\n")


_WHEEL = "Wheel-Version: 1.0\nGenerator: rnn-course\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def build(out_dir: Path, package_dir: Path = PACKAGE_DIR) -> Path:
    """Write the wheel into `out_dir` (replacing an older one of the same name only if
    its bytes differ); return its path."""
    ver = version()
    info = f"{DIST}-{ver}.dist-info"
    entries = [(arc, path.read_bytes()) for arc, path in package_files(package_dir)]
    entries += [(f"{info}/METADATA", _metadata(ver).encode()), (f"{info}/WHEEL", _WHEEL.encode()),
                (f"{info}/top_level.txt", b"autograde\n")]
    record = "".join(f"{arc},{_digest(data)},{len(data)}\n" for arc, data in entries) + f"{info}/RECORD,,\n"
    entries.append((f"{info}/RECORD", record.encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for arc, data in entries:
            zi = zipfile.ZipInfo(arc, _DATE)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / wheel_name(ver)
    data = buffer.getvalue()
    if not target.is_file() or target.read_bytes() != data:
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
    return target
