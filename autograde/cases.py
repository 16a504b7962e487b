"""Test cases: the public ones that ship with the package, and hidden ones made on demand.

Public cases are stored with their expected outputs in `data/<assignment>.npz`, so a
student's public check needs numpy only and answers at once. The file is written by
`rnn-course references` from the PyTorch references, and a test recomputes it.
Hidden cases are made from a seed that only the instructor's notebook holds; their
expected outputs are computed by PyTorch when they are needed.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import registry

DATA_DIR = Path(__file__).parent / "data"
PRECOMPUTED_ENV = "AUTOGRADE_CASES"
"""A file of hidden cases' expected outputs, computed by the grading process, so the
student's kernel need not import PyTorch. Only the kernel's advisory verdict uses it:
the trusted verdict always recomputes (a tampered file only shows as a disagreement)."""


@dataclass(frozen=True)
class Case:
    function: str
    kind: str  # "public" or "hidden"
    seed: int
    index: int
    inputs: dict
    expected: list | None  # None until computed (hidden cases)
    mistakes: dict[str, list] | None = None  # known mistake -> its outputs on this case

    @property
    def label(self) -> str:
        return f"{self.kind} case {self.index}"

    def describe_inputs(self) -> str:
        parts = []
        for k, v in self.inputs.items():
            parts.append(f"{k}: {np.shape(v)}" if isinstance(v, np.ndarray) else f"{k}={v!r}")
        return ", ".join(parts)


def data_path(assignment: str) -> Path:
    return DATA_DIR / f"{assignment}.npz"


def _to_python(value: np.ndarray):
    return value.item() if value.ndim == 0 else value


def mistake_outputs(name: str, inputs: dict) -> dict[str, list]:
    """Every known mistake's outputs on one case (a mistake that cannot run on it is left out)."""
    from .mistakes import mistakes_for

    out = {}
    for m in mistakes_for(name):
        try:
            out[m.key] = m.outputs(inputs)
        except (RuntimeError, ValueError, IndexError):  # e.g. a shape the mistake cannot take
            continue
    return out


def write_public(assignment: str, path: Path | None = None) -> Path:
    """Compute every public case of `assignment` with PyTorch, with the outputs of every
    known mistake on it, and store them."""
    arrays: dict[str, np.ndarray] = {}
    for fn in registry.assignments()[assignment]:
        for i, inputs in enumerate(fn.cases(fn.public_seed, fn.n_public)):
            for k, v in inputs.items():
                arrays[f"{fn.name}/{i}/in/{k}"] = np.asarray(v)
            for j, v in enumerate(fn.expected(inputs)):
                arrays[f"{fn.name}/{i}/out/{j}"] = np.asarray(v)
            for key, outputs in mistake_outputs(fn.name, inputs).items():
                for j, v in enumerate(outputs):
                    arrays[f"{fn.name}/{i}/mistake/{key}/{j}"] = np.asarray(v)
    path = path or data_path(assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return path


@lru_cache(maxsize=None)
def _load(assignment: str) -> dict[str, np.ndarray]:
    path = data_path(assignment)
    if not path.exists():
        raise FileNotFoundError(f"the public cases of {assignment} are missing: {path} "
                                f"(instructors: run `rnn-course references`)")
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _stored_mistakes(data, prefix: str, n_outputs: int) -> dict[str, list]:
    from .mistakes import mistakes_for

    found = {}
    for m in mistakes_for(prefix.split("/")[0]):
        keys = [f"{prefix}/mistake/{m.key}/{j}" for j in range(n_outputs)]
        if all(k in data for k in keys):
            found[m.key] = [_to_python(data[k]) for k in keys]
    return found


def public_cases(name: str) -> list[Case]:
    fn = registry.get(name)
    data = _load(fn.assignment)
    cases = []
    for i in range(fn.n_public):
        inputs = {k: _to_python(data[f"{name}/{i}/in/{k}"]) for k in fn.inputs}
        expected = [_to_python(data[f"{name}/{i}/out/{j}"]) for j in range(len(fn.outputs))]
        mistakes = _stored_mistakes(data, f"{name}/{i}", len(fn.outputs))
        cases.append(Case(name, "public", fn.public_seed, i, inputs, expected, mistakes))
    return cases


def hidden_cases(name: str, seed: int, with_expected: bool = True, precomputed: bool = True) -> list[Case]:
    """The hidden cases of `name` made from `seed`, with their expected outputs taken
    from the precomputed file if there is one (and `precomputed`), else from PyTorch."""
    fn = registry.get(name)
    stored = _precomputed(name, seed) if with_expected and precomputed else None
    cases = []
    for i, inputs in enumerate(fn.cases(seed, fn.n_hidden, first=fn.n_public)):
        expected = mistakes = None
        if with_expected:
            if stored is not None:
                expected, mistakes = stored[i]
            else:
                expected, mistakes = fn.expected(inputs), mistake_outputs(name, inputs)
        cases.append(Case(name, "hidden", seed, i, inputs, expected, mistakes))
    return cases


@lru_cache(maxsize=None)
def trusted_hidden(name: str, seed: int) -> tuple:
    """(expected outputs, mistakes' outputs) of each hidden case, always from PyTorch;
    cached for a grading run."""
    return tuple((c.expected, c.mistakes) for c in hidden_cases(name, seed, precomputed=False))


def write_precomputed(path: Path, checks: list[tuple[str, int]]) -> Path:
    """Store the expected outputs (and the mistakes' outputs) of the hidden cases of
    each (function, seed)."""
    arrays = {}
    for name, seed in checks:
        for i, (expected, mistakes) in enumerate(trusted_hidden(name, seed)):
            for j, value in enumerate(expected):
                arrays[f"{name}/{seed}/{i}/out/{j}"] = np.asarray(value)
            for key, outputs in mistakes.items():
                for j, value in enumerate(outputs):
                    arrays[f"{name}/{seed}/{i}/mistake/{key}/{j}"] = np.asarray(value)
    np.savez(path, **arrays)
    return path


def _precomputed(name: str, seed: int) -> list[tuple[list, dict]] | None:
    import os

    path = os.environ.get(PRECOMPUTED_ENV)
    if not path:
        return None
    fn = registry.get(name)
    try:
        with np.load(path, allow_pickle=False) as data:
            return [([_to_python(data[f"{name}/{seed}/{i}/out/{j}"]) for j in range(len(fn.outputs))],
                     _stored_mistakes(data, f"{name}/{seed}/{i}", len(fn.outputs)))
                    for i in range(fn.n_hidden)]
    except (OSError, KeyError, ValueError):
        return None
