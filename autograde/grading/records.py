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

MAX_RECORDS = 2000
MAX_OUTPUTS = 16
MAX_RECORD_BYTES = 16 << 20  # one record, as stored and as unpacked
MAX_TOTAL_BYTES = 128 << 20


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


def _parse(raw: bytes, known: dict[str, int]) -> Record:
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        if sum(i.file_size for i in z.infolist()) > MAX_RECORD_BYTES or len(z.infolist()) > MAX_OUTPUTS + 1:
            raise ValueError("too large when unpacked")
    with np.load(io.BytesIO(raw), allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        if not isinstance(meta, dict):
            raise ValueError("no metadata")
        function, kind, index = meta.get("function"), meta.get("kind"), meta.get("index")
        n = meta.get("n_outputs")
        if function not in known:
            raise ValueError(f"names an unknown function {str(function)[:40]!r}")
        if kind not in ("public", "hidden") or not isinstance(index, int) or isinstance(index, bool) \
                or not 0 <= index < 1000:
            raise ValueError("names no valid case")
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_OUTPUTS):
            raise ValueError("claims an impossible number of outputs")
        error = meta.get("error")
        outputs = None if n is None else [data[f"out{j}"] if f"out{j}" in data.files else None for j in range(n)]
    return Record(function, kind, index, outputs, None if error is None else str(error)[:2000],
                  meta.get("kernel_passed") is True)


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
    own = re.compile(r"(%s)-(public|hidden)-\d+-[0-9a-f]{8}\.npz$" % "|".join(map(re.escape, known)))
    npz = sorted((n for n in os.listdir(folder) if n.endswith(".npz")), key=lambda n: (not own.match(n), n))
    if len(npz) > MAX_RECORDS:
        out.problems.append(f"{len(npz)} records were written; only the first {MAX_RECORDS} were read")
        npz = npz[:MAX_RECORDS]
    total = 0
    malformed: list[str] = []
    for name in npz:
        try:
            raw = read_regular(folder / name, MAX_RECORD_BYTES)
            total += len(raw)
            if total > MAX_TOTAL_BYTES:
                out.problems.append(f"the records exceed {MAX_TOTAL_BYTES >> 20} MiB; the rest were not read")
                break
            out.records.append(_parse(raw, known))
        except Exception as exc:  # noqa: BLE001 - any malformed record is skipped, loudly
            malformed.append(f"{name[:60]}: {str(exc)[:200]}")
    if malformed:
        more = f" and {len(malformed) - 3} more" if len(malformed) > 3 else ""
        out.problems.append(f"{len(malformed)} malformed record(s) were ignored ({'; '.join(malformed[:3])}{more})")
    return out
