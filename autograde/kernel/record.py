"""What a check saw, written down for a trusted process to compare again.

When the environment variable AUTOGRADE_RECORD names a folder, every check writes one
file per case there: the function, the case (kind, index), the outputs the student's
code returned and the kernel's own verdict. A process outside the student's kernel then
rebuilds the case itself and reaches its own verdict, trusting nothing the kernel
concluded. Reading records back (hostile input) is the grader's job:
`autograde.grading.records`.
"""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import numpy as np

ENV = "AUTOGRADE_RECORD"
# A record, as written here and read back by the grader (autograde.grading.records): one
# .npz per case, named by file_name, holding "meta" (a JSON string: function, kind, index,
# error, kernel_passed, n_outputs) and the outputs "out0", "out1", ...
KINDS = ("public", "hidden")


def file_name(function: str, kind: str, index: int, tag: str) -> str:
    return f"{function}-{kind}-{index}-{tag}.npz"


def name_pattern(functions) -> str:
    """A regular expression that matches the file name of a record of one of `functions`."""
    import re

    return r"(%s)-(%s)-\d+-[0-9a-f]{8}\.npz$" % ("|".join(map(re.escape, functions)), "|".join(KINDS))


def record_dir() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


def write(function: str, kind: str, index: int, outputs, error: str | None, kernel_passed: bool) -> None:
    folder = record_dir()
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"function": function, "kind": kind, "index": index,
            "error": None if error is None else error[:2000], "kernel_passed": kernel_passed, "n_outputs": None}
    arrays = {}
    if outputs is not None:
        meta["n_outputs"] = len(outputs)
        for j, value in enumerate(outputs):
            try:
                arrays[f"out{j}"] = np.asarray(value)
            except Exception:  # an output numpy cannot hold is recorded as missing
                arrays[f"out{j}"] = np.asarray(np.nan)
    arrays["meta"] = np.asarray(json.dumps(meta))
    name = file_name(function, kind, index, uuid.uuid4().hex[:8])
    tmp = folder / (name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **{k: v for k, v in arrays.items() if v.dtype != object})
    os.replace(tmp, folder / name)
