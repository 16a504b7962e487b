"""What a chapter declares: the chapter itself (its name, its graded functions, what its
sandbox may import) and its known mistakes.

A chapter module (`chNN_name.py`) declares one `Chapter` as `CHAPTER` and adds its graded
functions to it with `CHAPTER.graded(...)`. A graded function is known by one name across
the course (the name the student defines in the exercise notebook). Its cases are made
from a seed, so a case is fully described by (function, seed, index). Its reference and
its known mistakes are PyTorch computations; they run only on the instructor's side (never
in the student's kernel, which sees the kernel-side `Spec` and the shipped public cases).

This module imports no chapter: chapter modules import it (see `autograde.chapters`).
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..kernel import adapters as kernel_adapters
from ..kernel.spec import MistakeInfo, Spec

Inputs = dict[str, object]

KNOWN_SANDBOX_IMPORTS = frozenset({"torch"})
"""What a sandbox can hold beyond numpy, matplotlib and IPython: the torch sandbox
(`.venv/sandbox-torch`)."""


_READ_THROUGH = frozenset(f.name for f in dataclasses.fields(Spec)) - {"mistakes"}


@dataclass(frozen=True)
class GradedFunction:
    """A graded function as the instructor's side holds it: the `Spec` the student's kernel
    gets (its name, assignment, inputs, outputs, what it matches, case counts, tolerances,
    adapters and `uses`, read through: `fn.name`, `fn.uses`, ...) and what never leaves
    this side: how its cases are made and what PyTorch computes. Made by `Chapter.graded`,
    which documents every field."""

    declared: Spec
    """The kernel's view, without the known mistakes (they register after the function;
    `spec()` adds them)."""
    make_inputs: Callable[[np.random.Generator, int], Inputs]
    reference: Callable[..., tuple]
    public_seed: int = 0
    secret: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    kind_of: Callable[[Inputs], set[str]] | None = None

    def __getattr__(self, name: str):
        """The declared Spec's fields, read through (`fn.name`, `fn.uses`); not its known
        mistakes, which only `spec()` holds."""
        if name not in _READ_THROUGH:  # also "declared" itself, before it is set (unpickling)
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(self.declared, name)

    def cases(self, seed: int, n: int, first: int = 0) -> list[Inputs]:
        """Cases `first`, ..., `first + n - 1` made from `seed`. The first few indices
        are fixed edge shapes; hidden cases start after them (`first=n_public`)."""
        return [self.make_inputs(np.random.default_rng([seed, i]), i) for i in range(first, first + n)]

    def expected(self, inputs: Inputs) -> list:
        out = self.reference(**inputs)
        return list(out) if isinstance(out, tuple) else [out]

    def spec(self) -> Spec:
        """What the student's kernel knows of this function: no reference, no seed."""
        return dataclasses.replace(self.declared, mistakes=tuple(
            MistakeInfo(m.function, m.key, m.title, m.explanation) for m in CATALOGUE.get(self.name, [])))


def _adapter_name(function: str, role: str, adapter: Callable | None) -> str | None:
    """The name the spec holds for an adapter: it must be a function of
    `autograde.kernel.adapters` (the student's kernel calls it), found there by that name."""
    if adapter is None:
        return None
    if not getattr(adapter, "__module__", "").startswith(kernel_adapters.__name__ + ".") or \
            kernel_adapters.find(adapter.__name__, None) is not adapter:
        raise ValueError(f"{function}: {role} must be a function of a chapter's module in "
                         f"autograde.kernel.adapters (the student's kernel calls it), not "
                         f"{getattr(adapter, '__module__', '?')}.{getattr(adapter, '__name__', adapter)}")
    return adapter.__name__


@dataclass
class Chapter:
    """One chapter as its module declares it, once: its name (`01-rnn-basics`, the name of
    its book chapter, exercise, solution and public-case file; its module is
    `ch01_rnn_basics.py`), what its sandbox may import beyond numpy (only "torch" is known:
    the capstone's student trains a torch model; every other sandbox holds no PyTorch), and
    its graded functions, in the order `graded` added them."""

    name: str
    sandbox_imports: tuple[str, ...] = ()
    functions: list[GradedFunction] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d\d-[a-z0-9]+(-[a-z0-9]+)*", self.name):
            raise ValueError(f"a chapter's name is NN-words-with-dashes, not {self.name!r}")
        unknown = set(self.sandbox_imports) - KNOWN_SANDBOX_IMPORTS
        if unknown:
            raise ValueError(f"{self.name} declares sandbox imports no sandbox holds: {sorted(unknown)}")
        self.sandbox_imports = tuple(sorted(self.sandbox_imports))

    @property
    def module(self) -> str:
        """The name of its module in `autograde.chapters` (and in `autograde.kernel.adapters`,
        `tests/wrong/`): ch01_rnn_basics for 01-rnn-basics."""
        return "ch" + self.name.replace("-", "_")

    def graded(self, *, name: str, inputs: tuple[str, ...], outputs: tuple[str, ...],
               make_inputs: Callable[[np.random.Generator, int], Inputs], reference: Callable[..., tuple],
               matches: str, kinds: tuple[str, ...], kind_of: Callable[[Inputs], set[str]],
               public_seed: int = 0, secret: tuple[str, ...] = (),
               prepare: Callable | None = None, unpack: Callable | None = None, run: Callable | None = None,
               judge: Callable | None = None, diagnose_with: Callable | None = None,
               **spec) -> GradedFunction:
        """Add a graded function to this chapter (and to the course's `REGISTRY`).

        - name, inputs, outputs: the student's function, its arguments and its outputs.
        - make_inputs: (rng, index) -> keyword arguments of case `index`; index 0, 1, ...
          vary shapes. Numpy only: a case's inputs must be the same on every machine.
        - reference: the PyTorch computation of the expected outputs (a tuple of numpy
          arrays or ints); matches: what it is, for messages (e.g. "nn.RNN").
        - kinds: the kinds of case the function's spec names (a bidirectional LSTM with a
          projection, a gradient that is clipped, a case whose sizes all differ): every
          hidden set holds one of each, whatever the seed, so the same code gets the same
          grade under every seed. make_inputs makes a hidden case's kind from its index,
          never by chance (see `hidden_kind`); kind_of(stored inputs) tells which kinds a
          case is. A test checks both over 1,000 seeds.
        - public_seed: the seed of the shipped public cases.
        - secret: keys of make_inputs' dict that are not arguments but what the reference
          reads (a forecast's held-out targets): never shipped, never passed into the sandbox.
        - adapters, each a function of `autograde.kernel.adapters` (the student's kernel
          calls them): prepare(stored inputs) -> the positional arguments, for arguments a
          case file cannot hold; unpack(the student's return value) -> the value compared;
          run(the student's function, stored inputs) -> the value compared, for a function
          graded over many calls (an optimizer's step over a sequence of gradients; the loop
          is the course's, each call the student's; prepare is then unused);
          judge(inputs, expected, actual, reveal) -> Mismatch | None, for an answer with no
          single right value, replacing the comparison; diagnose_with(inputs, actual) -> the
          key of a known mistake shown by a property.
        - spec: the rest of the kernel's `Spec`: n_public (3), n_hidden (4), atol and rtol
          (|actual - expected| <= atol + rtol |expected|), and uses: the graded functions
          this one calls (as the exercise asks it to): when one of them fails its own check,
          a failure of this one names it (a cascade, not a second mistake).
        """
        if not kinds or kind_of is None:
            raise ValueError(f"{name}: declare the case kinds its spec names (kinds, kind_of)")
        roles = {"prepare": prepare, "unpack": unpack, "run": run, "judge": judge, "diagnose_with": diagnose_with}
        declared = Spec(name=name, assignment=self.name, inputs=inputs, outputs=outputs, matches=matches,
                        **{role: _adapter_name(name, role, fn) for role, fn in roles.items()}, **spec)
        fn = GradedFunction(declared, make_inputs, reference, public_seed, secret, kinds, kind_of)
        if name in REGISTRY:
            raise ValueError(f"graded function {name!r} is registered twice")
        REGISTRY[name] = fn
        self.functions.append(fn)
        return fn


REGISTRY: dict[str, GradedFunction] = {}


def hidden_kind(kinds, index: int, n_public: int):
    """The kind of case `index`: hidden cases walk through `kinds` in order, so n_hidden
    >= len(kinds) hidden cases hold every kind whatever the seed (None: a public case)."""
    return None if index < n_public else kinds[(index - n_public) % len(kinds)]


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
