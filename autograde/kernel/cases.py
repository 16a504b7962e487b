"""Test cases as the student's kernel sees them.

Public cases ship with the package, with their expected outputs and every known
mistake's outputs on them, in `data/<assignment>.npz` (beside the assignment's specs),
so a student's public check needs numpy only and answers at once. The file is written
by `rnn-course references` from the PyTorch references, and a test recomputes it.

Hidden cases never ship and the kernel never holds their answers: at grading time the
trusted process makes their inputs (from a seed the kernel never sees) and passes the
inputs alone in a file named by AUTOGRADE_HIDDEN; the kernel calls the student's
function on them and records what it returned.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .spec import Spec

DATA_DIR = Path(__file__).parent / "data"
HIDDEN_ENV = "AUTOGRADE_HIDDEN"


def key(function: str, index: int, *part) -> str:
    """The name of one array in a cases file (the public cases shipped in data/, and the
    hidden cases' inputs a sandbox is given), written by the grader's references and read
    here: key(f, i, "in", name), key(f, i, "out", j), key(f, i, "mistake", mistake, j)."""
    return "/".join(map(str, (function, index, *part)))


@dataclass(frozen=True)
class Case:
    function: str
    kind: str  # "public" or "hidden"
    index: int
    inputs: dict
    expected: list | None  # None for hidden cases: the kernel never knows them
    mistakes: dict[str, list] | None = None  # known mistake -> its outputs on this case

    @property
    def label(self) -> str:
        return f"{self.kind} case {self.index}"

    def describe_inputs(self) -> str:
        return describe_inputs(self.inputs, by_value=hyperparameters(self.function, self.inputs))


def hyperparameters(function: str, inputs: dict) -> tuple[str, ...]:
    """The inputs a function takes as settings, not data (an optimizer's `betas` pair):
    a message shows them by value."""
    try:
        run = spec(function).run
    except KeyError:
        return ()
    if run:  # a function run over many calls: its adapter may say which inputs are settings
        from . import adapters

        settings = adapters.find(f"{run}_settings", None)
        return settings(inputs) if settings else ()
    return ()


def describe_inputs(inputs: dict, by_value: tuple[str, ...] = ()) -> str:
    """A case's inputs as a student can read them: arrays by shape, the rest (and the
    settings named in `by_value`, such as betas=(0.9, 0.999)) by value."""
    parts = []
    for k, v in inputs.items():
        if k in by_value and isinstance(v, np.ndarray) and v.ndim == 1:
            parts.append(f"{k}={tuple(float(x) for x in v)!r}")
        elif isinstance(v, np.ndarray) and v.ndim:
            parts.append(f"{k}: {v.shape}")
        else:
            parts.append(f"{k}={to_python(v) if isinstance(v, np.ndarray) else v!r}")
    return ", ".join(parts)


def data_path(assignment: str) -> Path:
    return DATA_DIR / f"{assignment}.npz"


def to_python(value: np.ndarray):
    return value.item() if value.ndim == 0 else value


@lru_cache(maxsize=None)
def _load(assignment: str) -> dict[str, np.ndarray]:
    path = data_path(assignment)
    if not path.exists():
        raise FileNotFoundError(f"the public cases of {assignment} are missing: {path} "
                                f"(instructors: run `rnn-course references`)")
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


@lru_cache(maxsize=None)
def specs() -> dict[str, Spec]:
    """Every graded function's spec, from the shipped case files."""
    out = {}
    for path in sorted(DATA_DIR.glob("*.npz")):
        with np.load(path, allow_pickle=False) as data:  # reads this one member, not the cases
            entries = json.loads(str(data["spec"]))
        for entry in entries:
            spec = Spec.from_json(entry)
            out[spec.name] = spec
    return out


def spec(name: str) -> Spec:
    try:
        return specs()[name]
    except KeyError:
        raise KeyError(f"no graded function is called {name!r}; known: {', '.join(sorted(specs()))}") from None


def stored_mistakes(data, name: str, index: int, spec_: Spec) -> dict[str, list]:
    found = {}
    for m in spec_.mistakes:
        keys = [key(name, index, "mistake", m.key, j) for j in range(len(spec_.outputs))]
        if all(k in data for k in keys):
            found[m.key] = [to_python(data[k]) for k in keys]
    return found


def public_cases(name: str) -> list[Case]:
    s = spec(name)
    data = _load(s.assignment)
    cases = []
    for i in range(s.n_public):
        inputs = {k: to_python(data[key(name, i, "in", k)]) for k in s.inputs}
        expected = [to_python(data[key(name, i, "out", j)]) for j in range(len(s.outputs))]
        cases.append(Case(name, "public", i, inputs, expected, stored_mistakes(data, name, i, s)))
    return cases


def hidden_cases(name: str) -> list[Case] | None:
    """The hidden cases' inputs the grader passed in, or None outside grading."""
    path = os.environ.get(HIDDEN_ENV)
    if not path:
        return None
    s = spec(name)
    with np.load(path, allow_pickle=False) as data:
        n = sum(1 for k in data.files if k.startswith(f"{name}/") and k.endswith(f"/in/{s.inputs[0]}"))
        return [Case(name, "hidden", i, {k: to_python(data[key(name, i, "in", k)]) for k in s.inputs}, None)
                for i in range(n)]
