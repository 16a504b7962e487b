"""Read what the checks recorded in the sandbox: hostile input, read with care.

Only regular files are opened (never a link, pipe or device), each with a size cap,
never following links; the number of records, outputs per record and bytes in all are
bounded; a malformed record is skipped with a message and costs only its submission.
"""
from __future__ import annotations

import io
import json
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..kernel import record as written  # the format the checks write

MAX_RECORDS = 2000
MAX_OUTPUTS = 16
MAX_RECORD_BYTES = 4 << 20  # one record, as stored and as unpacked (a case's outputs are KiB)
MAX_TOTAL_BYTES = 128 << 20  # all records as stored
MAX_TOTAL_UNPACKED = 64 << 20  # all records as unpacked: a few deflated records cannot grow past it
MAX_META_BYTES = 64 << 10
# What an output may be: numbers (booleans, integers, floats, complex). A string or void
# array is never a right answer, and converting a large one to floats is slow: it is
# refused from its header, unread.
NUMERIC_KINDS = "biufc"


@dataclass(frozen=True)
class Record:
    function: str
    kind: str
    index: int
    outputs: list | None  # None when the function raised
    error: str | None
    kernel_passed: bool


@dataclass
class Records:
    records: list[Record] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_regular(path: Path, cap: int) -> bytes:
    """The bytes of `path` if it is a regular file of at most `cap` bytes (never follows
    a link; a pipe or device is refused without being opened for reading)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{path.name} is not a regular file")
        if st.st_size > cap:
            raise ValueError(f"{path.name} is {st.st_size} bytes, over the cap of {cap}")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(cap + 1)
        if len(data) > cap:
            raise ValueError(f"{path.name} grew over the cap of {cap} bytes")
        return data
    finally:
        os.close(fd)


# An array's .npy header as numpy writes it (the repr of a dict: dtype, order, shape),
# parsed here with a pattern, never with `ast`: numpy's own reader calls
# `ast.literal_eval`, and CPython 3.11's AST constructor keeps its recursion count in
# state shared by all threads (reported from a threaded program in CPython gh-106905). Two
# submissions' records read at once in the grading threads once failed with "AST
# constructor recursion depth mismatch", and an honest record was ignored.
_NPY_MAGIC = b"\x93NUMPY"
_NPY_HEADER = re.compile(r"\{'descr': '([<>|=]?[A-Za-z]\d*)', 'fortran_order': (True|False), "
                         r"'shape': \(((?:\d+(?:, \d+)*,?)?)\), \} *\n?")
MAX_HEADER_BYTES = 4096


@dataclass(frozen=True)
class _Header:
    dtype: np.dtype
    shape: tuple[int, ...]
    fortran: bool
    start: int  # where the array's bytes begin


def _header(head: bytes) -> _Header:
    """The header at the start of one .npy member (`head`: its first bytes or all)."""
    if head[:6] != _NPY_MAGIC or len(head) < 10:
        raise ValueError("an array that is not in .npy format")
    major = head[6]
    if major == 1:
        length, start = int.from_bytes(head[8:10], "little"), 10
    elif major in (2, 3):
        length, start = int.from_bytes(head[8:12], "little"), 12
    else:
        raise ValueError(f"an array in .npy format {major}")
    if length > MAX_HEADER_BYTES or len(head) < start + length:
        raise ValueError("an array with a malformed header")
    match = _NPY_HEADER.fullmatch(head[start:start + length].decode("latin-1"))
    if match is None:
        raise ValueError("an array with a malformed header")
    descr, fortran, shape = match.groups()
    dims = tuple(int(d) for d in shape.replace(",", " ").split())
    return _Header(np.dtype(descr), dims, fortran == "True", start + length)


def _headers(z: zipfile.ZipFile) -> dict[str, _Header]:
    """Each array's header, read alone (its data stays unread)."""
    headers = {}
    for info in z.infolist():
        with z.open(info) as f:
            headers[info.filename.removesuffix(".npy")] = _header(f.read(12 + MAX_HEADER_BYTES))
    return headers


def _array(z: zipfile.ZipFile, name: str, header: _Header) -> np.ndarray:
    """The array `name` (of a kind checked before: numbers or the metadata's text)."""
    data = z.read(f"{name}.npy")
    count = 1
    for d in header.shape:
        count *= d
    if len(data) - header.start != count * header.dtype.itemsize:
        raise ValueError(f"{name} holds {len(data) - header.start} bytes, not what its header says")
    flat = np.frombuffer(data, dtype=header.dtype, count=count, offset=header.start)
    return flat.reshape(header.shape, order="F" if header.fortran else "C").copy()


def _parse(raw: bytes, known: dict[str, int]) -> tuple[Record, int]:
    """The record in `raw`, and how many bytes it unpacks to."""
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        infos = z.infolist()
        unpacked = sum(i.file_size for i in infos)
        if unpacked > MAX_RECORD_BYTES or len(infos) > MAX_OUTPUTS + 1:
            raise ValueError("too large when unpacked")
        if any(i.filename == "meta.npy" and i.file_size > MAX_META_BYTES for i in infos):
            raise ValueError("its metadata is too large")
        headers = _headers(z)
        if headers.get("meta") is None or headers["meta"].dtype.kind != "U" or headers["meta"].shape != ():
            raise ValueError("no metadata")
        not_numbers = {k: h.dtype for k, h in headers.items() if k != "meta" and h.dtype.kind not in NUMERIC_KINDS}
        meta = json.loads(str(_array(z, "meta", headers["meta"])))
        if not isinstance(meta, dict):
            raise ValueError("no metadata")
        function, kind, index = meta.get("function"), meta.get("kind"), meta.get("index")
        n = meta.get("n_outputs")
        if function not in known:
            raise ValueError(f"names an unknown function {str(function)[:40]!r}")
        if kind not in written.KINDS or not isinstance(index, int) or isinstance(index, bool) \
                or not 0 <= index < 1000:
            raise ValueError("names no valid case")
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_OUTPUTS):
            raise ValueError("claims an impossible number of outputs")
        error = meta.get("error")
        if not_numbers and n is not None:  # never unpacked: the case fails, with what it was
            key, dtype = sorted(not_numbers.items())[0]
            return Record(function, kind, index, None, f"returned {key.replace('out', 'output ')} as an array "
                          f"of dtype {dtype.str} (not numbers)", False), unpacked
        outputs = None if n is None else [_array(z, f"out{j}", headers[f"out{j}"]) if f"out{j}" in headers
                                          else None for j in range(n)]
    return Record(function, kind, index, outputs, None if error is None else str(error)[:2000],
                  meta.get("kernel_passed") is True), unpacked


def read(folder: Path, known: dict[str, int]) -> Records:
    """Every record in `folder` (`known`: the assignment's function names -> outputs)."""
    out = Records()
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        return out
    if not stat.S_ISDIR(st.st_mode):
        out.problems.append("the records folder was replaced by something else; no record was read")
        return out
    # The checks' own names first, so junk written beside them cannot push them out.
    own = re.compile(written.name_pattern(known))
    npz = sorted((n for n in os.listdir(folder) if n.endswith(".npz")), key=lambda n: (not own.match(n), n))
    if len(npz) > MAX_RECORDS:
        out.problems.append(f"{len(npz)} records were written; only the first {MAX_RECORDS} were read")
        npz = npz[:MAX_RECORDS]
    total = unpacked = 0
    malformed: list[str] = []
    for name in npz:
        try:
            raw = read_regular(folder / name, MAX_RECORD_BYTES)
            total += len(raw)
            if total > MAX_TOTAL_BYTES:
                out.problems.append(f"the records exceed {MAX_TOTAL_BYTES >> 20} MiB; the rest were not read")
                break
            record, size = _parse(raw, known)
            unpacked += size
            if unpacked > MAX_TOTAL_UNPACKED:
                out.problems.append(f"the records unpack to more than {MAX_TOTAL_UNPACKED >> 20} MiB; "
                                    f"the rest were not read")
                break
            out.records.append(record)
        except Exception as exc:  # noqa: BLE001 - any malformed record is skipped, loudly
            malformed.append(f"{name[:60]}: {str(exc)[:200]}")
    if malformed:
        more = f" and {len(malformed) - 3} more" if len(malformed) > 3 else ""
        out.problems.append(f"{len(malformed)} malformed record(s) were ignored ({'; '.join(malformed[:3])}{more})")
    return out
