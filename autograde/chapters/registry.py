"""What a chapter registers: its graded functions and its known mistakes.

A graded function is known by one name across the course (the name the student
defines in the exercise notebook). Its cases are made from a seed, so a case is
fully described by (function, seed, index). Its reference and its known mistakes are
PyTorch computations; they run only on the instructor's side (never in the student's
kernel, which sees the kernel-side `Spec` and the shipped public cases).

This module imports no chapter: chapter modules import it (see `autograde.chapters`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..kernel.compare import ATOL, RTOL
from ..kernel.spec import MistakeInfo, Spec

Inputs = dict[str, object]


@dataclass(frozen=True)
class GradedFunction:
    name: str
    assignment: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    make_inputs: Callable[[np.random.Generator, int], Inputs]
    """(rng, index) -> keyword arguments of case `index`; index 0, 1, ... vary shapes.
    Numpy only: a case's inputs must be the same on every machine."""
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
    for arguments a case file cannot hold. It runs in the student's kernel, so it must
    be a function of `autograde.kernel.adapters`."""
    unpack: Callable[[object], object] | None = None
    """The student's return value -> the value compared with the reference outputs; a
    function of `autograde.kernel.adapters` too."""
    run: Callable[[Callable, Inputs], object] | None = None
    """(the student's function, stored inputs) -> the value compared with the reference
    outputs, for a function graded over many calls (an optimizer's step, run over a
    sequence of gradients): the loop is the course's, each call the student's. A function
    of `autograde.kernel.adapters` too; `prepare` is then unused."""
    secret: tuple[str, ...] = ()
    """Keys of make_inputs' dict that are not arguments but what the reference reads
    (a forecast's held-out targets): never shipped, never passed into the sandbox."""
    judge: Callable | None = None
    """For an answer with no single right value: a function of autograde.kernel.adapters,
    judge(inputs, expected, actual, reveal) -> Mismatch | None, replacing the comparison."""
    diagnose_with: Callable | None = None
    """adapters.<fn>(inputs, actual) -> the key of a known mistake shown by a property."""
    kinds: tuple[str, ...] = ()
    """The kinds of case the function's spec names (a bidirectional LSTM with a projection,
    a gradient that is clipped, a case whose sizes all differ): every hidden set holds one
    of each, whatever the seed, so the same code gets the same grade under every seed.
    make_inputs makes a hidden case's kind from its index, never by chance (see
    `hidden_kind`), and `kind_of` tells which kinds a case is; a test checks both over
    1,000 seeds."""
    kind_of: Callable[[Inputs], set[str]] | None = None
    """Stored inputs -> the kinds (of `kinds`) this case is."""
    uses: tuple[str, ...] = ()
    """The graded functions this one calls (as the exercise asks it to): when one of them
    fails its own check, a failure of this one names it (a cascade, not a second mistake)."""

    def cases(self, seed: int, n: int, first: int = 0) -> list[Inputs]:
        """Cases `first`, ..., `first + n - 1` made from `seed`. The first few indices
        are fixed edge shapes; hidden cases start after them (`first=n_public`)."""
        return [self.make_inputs(np.random.default_rng([seed, i]), i) for i in range(first, first + n)]

    def expected(self, inputs: Inputs) -> list:
        out = self.reference(**inputs)
        return list(out) if isinstance(out, tuple) else [out]

    def spec(self) -> Spec:
        """What the student's kernel knows of this function: no reference, no seed."""
        for adapter in (self.prepare, self.unpack, self.run, self.judge, self.diagnose_with):
            if adapter is not None and adapter.__module__ != "autograde.kernel.adapters":
                raise ValueError(f"{self.name}: prepare/unpack/run must live in autograde.kernel.adapters "
                                 f"(the student's kernel calls them), not in {adapter.__module__}")
        return Spec(self.name, self.assignment, self.inputs, self.outputs, self.matches, self.n_public,
                    self.n_hidden, self.atol, self.rtol,
                    self.prepare.__name__ if self.prepare else None,
                    self.unpack.__name__ if self.unpack else None,
                    tuple(MistakeInfo(m.function, m.key, m.title, m.explanation)
                          for m in CATALOGUE.get(self.name, [])),
                    run=self.run.__name__ if self.run else None, uses=self.uses,
                    judge=self.judge.__name__ if self.judge else None,
                    diagnose_with=self.diagnose_with.__name__ if self.diagnose_with else None)


REGISTRY: dict[str, GradedFunction] = {}


def hidden_kind(kinds, index: int, n_public: int):
    """The kind of case `index`: hidden cases walk through `kinds` in order, so n_hidden
    >= len(kinds) hidden cases hold every kind whatever the seed (None: a public case)."""
    return None if index < n_public else kinds[(index - n_public) % len(kinds)]


def register(fn: GradedFunction) -> GradedFunction:
    if fn.name in REGISTRY:
        raise ValueError(f"graded function {fn.name!r} is registered twice")
    if not fn.kinds or fn.kind_of is None:
        raise ValueError(f"{fn.name}: declare the case kinds its spec names (kinds, kind_of)")
    REGISTRY[fn.name] = fn
    return fn


@dataclass(frozen=True)
class Mistake:
    """A wrong version of a graded function, computed with PyTorch like the reference
    (so no numpy solution ships with the package), with a title saying what the
    student did and an explanation of how to find and fix it."""

    function: str
    key: str
    title: str
    explanation: str
    compute: Callable[..., tuple]

    def outputs(self, inputs: dict) -> list:
        out = self.compute(**inputs)
        return list(out) if isinstance(out, tuple) else [out]


CATALOGUE: dict[str, list[Mistake]] = {}


def mistake(function: str, key: str, title: str, explanation: str):
    """Register the decorated PyTorch computation as a known mistake of `function`:

        @mistake("rnn_cell", "w_hh-untransposed", "W_hh used without its transpose", "...")
        def _(x_t, h_prev, W_ih, W_hh, b_ih, b_hh): ...
    """
    def register_mistake(compute):
        known = CATALOGUE.setdefault(function, [])
        if any(m.key == key for m in known):
            raise ValueError(f"mistake {key!r} of {function} is registered twice")
        known.append(Mistake(function, key, title, " ".join(explanation.split()), compute))
        return compute
    return register_mistake
