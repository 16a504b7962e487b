"""The references, computed on the instructor's side with PyTorch.

- `write_public`: every public case of an assignment (inputs, PyTorch's outputs, every
  known mistake's outputs) and the assignment's kernel-side specs, into the file that
  ships with the student's package (`rnn-course references`).
- `hidden_inputs` / `hidden_inputs_npz`: the inputs of the hidden cases made from a
  seed, passed into the sandbox without the seed and without any answer.
- `trusted_hidden`, `hidden_mistakes`: the hidden cases' expected outputs, and the
  known mistakes' outputs on them, computed here, never read from anything a
  submission could touch.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import chapters
from ..kernel.cases import Case, data_path, key


def mistake_outputs(name: str, inputs: dict) -> dict[str, list]:
    """Every known mistake's outputs on one case (a mistake that cannot run on it is left out)."""
    out = {}
    for m in chapters.mistakes_for(name):
        try:
            out[m.key] = m.outputs(inputs)
        except (RuntimeError, ValueError, IndexError):  # e.g. a shape the mistake cannot take
            continue
    return out


def public_arrays(assignment: str) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    functions = chapters.assignments()[assignment]
    arrays["spec"] = np.asarray(json.dumps([fn.spec().to_json() for fn in functions]))
    for fn in functions:
        for i, inputs in enumerate(fn.cases(fn.public_seed, fn.n_public)):
            for k in fn.inputs:  # never a secret (a forecast's targets) the reference reads
                arrays[key(fn.name, i, "in", k)] = np.asarray(inputs[k])
            for j, v in enumerate(fn.expected(inputs)):
                arrays[key(fn.name, i, "out", j)] = np.asarray(v)
            for mistake, outputs in mistake_outputs(fn.name, inputs).items():
                for j, v in enumerate(outputs):
                    arrays[key(fn.name, i, "mistake", mistake, j)] = np.asarray(v)
    return arrays


def write_public(assignment: str, path: Path | None = None) -> Path:
    """Compute every public case of `assignment` with PyTorch and store it with the specs."""
    path = path or data_path(assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **public_arrays(assignment))
    return path


def compare_public(assignment: str, rtol: float = 1e-12, atol: float = 1e-12) -> list[str]:
    """Where the shipped public cases differ from a fresh computation: inputs and specs
    must be identical; computed outputs may differ in the last bits from machine to
    machine (other vector units), so they are compared with a float64 tolerance."""
    fresh = public_arrays(assignment)
    with np.load(data_path(assignment), allow_pickle=False) as shipped:
        stored = {k: shipped[k] for k in shipped.files}
    problems = [f"{k}: only in the fresh computation" for k in fresh.keys() - stored.keys()]
    problems += [f"{k}: only in the shipped file" for k in stored.keys() - fresh.keys()]
    for k in sorted(fresh.keys() & stored.keys()):
        a, b = fresh[k], stored[k]
        if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
            problems.append(f"{k}: shape/type {b.shape} {b.dtype} shipped, {a.shape} {a.dtype} now")
        elif "/in/" in k or a.dtype.kind not in "fc":
            if not np.array_equal(a, b) and not ("/in/" in k and np.allclose(a, b, rtol=rtol, atol=atol)):
                problems.append(f"{k}: differs")
        elif not np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
            problems.append(f"{k}: max abs difference {np.max(np.abs(a - b)):.3g}")
    return problems


def hidden_inputs(name: str, seed: int) -> list[dict]:
    """The hidden cases as made from the seed: the function's arguments and any secret
    the reference reads (a forecast's targets); only the arguments enter the sandbox."""
    fn = chapters.get(name)
    return fn.cases(seed, fn.n_hidden, first=fn.n_public)


def hidden_inputs_npz(seeds: dict[str, int]) -> bytes:
    """The hidden cases' inputs of each function (made from its seed), and nothing else,
    as the bytes of an .npz file: what a sandbox (or a cluster worker) is given."""
    import io

    arrays = {}
    for name, seed in seeds.items():
        fn = chapters.get(name)
        for i, inputs in enumerate(hidden_inputs(name, seed)):
            for k in fn.inputs:  # the function's arguments only: never a secret of the case
                arrays[key(name, i, "in", k)] = np.asarray(inputs[k])
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def warm() -> None:
    """Import what the references are computed with (the chapters, PyTorch) now: a run
    calls this as soon as it knows it has something to grade, so that the import (over a
    second) overlaps the first sandbox, not follows it."""
    import torch  # noqa: F401

    chapters.load()


@lru_cache(maxsize=512)
def trusted_hidden(name: str, seed: int) -> tuple[list, ...]:
    """The expected outputs of each hidden case, always from PyTorch."""
    fn = chapters.get(name)
    return tuple(fn.expected(inputs) for inputs in hidden_inputs(name, seed))


@lru_cache(maxsize=512)
def hidden_mistakes(name: str, seed: int) -> tuple[dict, ...]:
    """Every known mistake's outputs on each hidden case: computed only when a submission
    fails, for its diagnosis."""
    return tuple(mistake_outputs(name, inputs) for inputs in hidden_inputs(name, seed))


def hidden_cases_with_expected(name: str, seed: int) -> list[Case]:
    """Hidden cases with their answers, for an instructor's own kernel (never a sandbox)."""
    return [Case(name, "hidden", i, inputs, list(expected), mistakes)
            for i, (inputs, expected, mistakes) in enumerate(zip(hidden_inputs(name, seed),
                                                                trusted_hidden(name, seed),
                                                                hidden_mistakes(name, seed)))]
