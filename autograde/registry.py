"""Every graded function of the course, with how to make its test inputs and its
PyTorch reference.

A graded function is known by one name across the course (the name the student
defines in the exercise notebook). Its cases are made from a seed, so a case is
fully described by (function, seed, index): public cases use the function's public
seed and ship with their expected outputs in `autograde/data/<assignment>.npz`; hidden
cases use a seed that appears only in the instructor's source notebook.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .compare import ATOL, RTOL

Inputs = dict[str, object]


@dataclass(frozen=True)
class GradedFunction:
    name: str
    assignment: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    make_inputs: Callable[[np.random.Generator, int], Inputs]
    """(rng, index) -> keyword arguments of case `index`; index 0, 1, ... vary shapes."""
    reference: Callable[..., tuple]
    """PyTorch computation of the expected outputs (a tuple of numpy arrays or ints)."""
    matches: str
    """What the reference is, for messages: e.g. "nn.RNN"."""
    n_public: int = 3
    n_hidden: int = 4
    public_seed: int = 0
    atol: float = ATOL
    rtol: float = RTOL
    """Tolerances of the comparison: |actual - expected| <= atol + rtol * |expected|."""
    prepare: Callable[[Inputs], tuple] | None = None
    """Stored inputs -> the positional arguments the student's function is called with,
    for arguments a case file cannot hold (a function to differentiate, a list of
    arrays). Default: the inputs in the order of `inputs`."""
    unpack: Callable[[object], object] | None = None
    """The student's return value -> the value compared with the reference outputs
    (one value, or a tuple in the order of `outputs`), e.g. to flatten a list.
    It may raise TypeError or ValueError to say the return value has the wrong form."""

    def call_args(self, inputs: Inputs) -> tuple:
        return self.prepare(inputs) if self.prepare else tuple(inputs[k] for k in self.inputs)

    def cases(self, seed: int, n: int, first: int = 0) -> list[Inputs]:
        """Cases `first`, ..., `first + n - 1` made from `seed`. The first few indices
        are fixed edge shapes; hidden cases start after them (`first=n_public`)."""
        return [self.make_inputs(np.random.default_rng([seed, i]), i) for i in range(first, first + n)]

    def expected(self, inputs: Inputs) -> list:
        out = self.reference(**inputs)
        return list(out) if isinstance(out, tuple) else [out]


REGISTRY: dict[str, GradedFunction] = {}


def register(fn: GradedFunction) -> GradedFunction:
    if fn.name in REGISTRY:
        raise ValueError(f"graded function {fn.name!r} is registered twice")
    REGISTRY[fn.name] = fn
    return fn


def assignments() -> dict[str, list[GradedFunction]]:
    """Assignment name -> its graded functions, in the order they were registered."""
    _load_all()
    out: dict[str, list[GradedFunction]] = {}
    for fn in REGISTRY.values():
        out.setdefault(fn.assignment, []).append(fn)
    return out


def get(name: str) -> GradedFunction:
    _load_all()
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no graded function is called {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


def _load_all() -> None:
    # Importing a chapter module registers its functions.
    from . import ch01_rnn_basics  # noqa: F401
    from . import ch02_bptt  # noqa: F401
