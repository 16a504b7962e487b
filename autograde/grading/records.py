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


def _headers(z: zipfile.ZipFile) -> dict[str, np.dtype]:
    """Each array's dtype, read from its .npy header alone (its data stays unread)."""
    dtypes = {}
    for info in z.infolist():
        with z.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                _, _, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                _, _, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"an array in .npy format {version}")
        dtypes[info.filename.removesuffix(".npy")] = dtype
    return dtypes


def _parse(raw: bytes, known: dict[str, int]) -> tuple[Record, int]:
    """The record in `raw`, and how many bytes it unpacks to."""
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        infos = z.infolist()
        unpacked = sum(i.file_size for i in infos)
        if unpacked > MAX_RECORD_BYTES or len(infos) > MAX_OUTPUTS + 1:
            raise ValueError("too large when unpacked")
        if any(i.filename == "meta.npy" and i.file_size > MAX_META_BYTES for i in infos):
            raise ValueError("its metadata is too large")
        dtypes = _headers(z)
    if dtypes.get("meta") is None or dtypes["meta"].kind != "U":
        raise ValueError("no metadata")
    not_numbers = {k: d for k, d in dtypes.items() if k != "meta" and d.kind not in NUMERIC_KINDS}
    with np.load(io.BytesIO(raw), allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
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
        outputs = None if n is None else [data[f"out{j}"] if f"out{j}" in data.files else None for j in range(n)]
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
