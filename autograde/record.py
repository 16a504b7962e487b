"""What a check saw, written down for a trusted process to compare again.

When the environment variable AUTOGRADE_RECORD names a folder, every check writes one
file per case there: the function, the case (kind, seed, index), the outputs the
student's code returned and the kernel's own verdict. A process outside the student's
kernel can then recompute the reference from (function, seed, index) alone and reach
its own verdict, without trusting anything the kernel concluded.
"""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENV = "AUTOGRADE_RECORD"


@dataclass(frozen=True)
class Record:
    function: str
    kind: str
    seed: int
    index: int
    outputs: list | None  # None when the function raised
    error: str | None
    kernel_passed: bool


def record_dir() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


def write(function: str, kind: str, seed: int, index: int, outputs, error: str | None,
          kernel_passed: bool) -> None:
    folder = record_dir()
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"function": function, "kind": kind, "seed": seed, "index": index,
            "error": error, "kernel_passed": kernel_passed, "n_outputs": None}
    arrays = {}
    if outputs is not None:
        meta["n_outputs"] = len(outputs)
        for j, value in enumerate(outputs):
            try:
                arrays[f"out{j}"] = np.asarray(value)
            except Exception:  # an output numpy cannot hold is recorded as missing
                arrays[f"out{j}"] = np.asarray(np.nan)
    arrays["meta"] = np.asarray(json.dumps(meta))
    name = f"{function}-{kind}-{index}-{uuid.uuid4().hex[:8]}.npz"
    tmp = folder / (name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **{k: v for k, v in arrays.items() if v.dtype != object})
    os.replace(tmp, folder / name)


def read(folder: Path) -> list[Record]:
    records = []
    for path in sorted(Path(folder).glob("*.npz")):
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            outputs = None
            if meta["n_outputs"] is not None:
                outputs = [data[f"out{j}"] if f"out{j}" in data.files else None
                           for j in range(meta["n_outputs"])]
        records.append(Record(meta["function"], meta["kind"], meta["seed"], meta["index"],
                              outputs, meta["error"], meta["kernel_passed"]))
    return records
