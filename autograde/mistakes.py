"""The catalogue of known mistakes, and diagnosis: which one a wrong answer is.

A mistake is a wrong version of a graded function, computed with PyTorch like the
reference (so no numpy solution ships with the package), with a title and an
explanation written for the student: what the mistake is, how to see it in your code,
and the equation it breaks. Each chapter module registers its mistakes next to its
references:

    @mistake("rnn_cell", "w_hh-untransposed", "W_hh used without its transpose", "...")
    def _(x_t, h_prev, W_ih, W_hh, b_ih, b_hh): ...

When a student's output is wrong on some cases, `diagnose` looks for the one mistake
whose outputs match the student's on every failing case. The outputs of every mistake
on the public cases ship with the package; for hidden cases the grading process
computes them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .compare import compare_outputs


@dataclass(frozen=True)
class Mistake:
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
    """Register the decorated PyTorch computation as a known mistake of `function`."""
    def register(compute):
        known = CATALOGUE.setdefault(function, [])
        if any(m.key == key for m in known):
            raise ValueError(f"mistake {key!r} of {function} is registered twice")
        known.append(Mistake(function, key, title, " ".join(explanation.split()), compute))
        return compute
    return register


def mistakes_for(function: str) -> list[Mistake]:
    from . import registry

    registry.get(function)  # loads every chapter's module
    return CATALOGUE.get(function, [])


def get(function: str, key: str) -> Mistake:
    for m in mistakes_for(function):
        if m.key == key:
            return m
    raise KeyError(f"{function} has no known mistake {key!r}")


def diagnose(spec, failures: list[tuple[dict[str, list], object]]) -> Mistake | None:
    """The known mistake that explains every failure, or None.

    `failures` holds, per failing case, the outputs of every mistake on it ({key:
    outputs}) and what the student's function returned (as compared)."""
    if not failures:
        return None
    for m in mistakes_for(spec.name):
        if all(key_outputs.get(m.key) is not None and
               compare_outputs(spec.outputs, key_outputs[m.key], actual, atol=spec.atol, rtol=spec.rtol) is None
               for key_outputs, actual in failures):
            return m
    return None


def describe(m: Mistake | None, function: str) -> str:
    if m is None:
        return (f"It matches none of the known mistakes of {function}; start from the first differing "
                f"index above.")
    return f"This looks like a known mistake, \"{m.title}\": {m.explanation}"
