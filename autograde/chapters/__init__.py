"""What each chapter contributes: its graded functions, how their cases are made, their
PyTorch references and their known mistakes, one module per chapter (`chNN_name.py`,
for the exercise `NN-name`).

Chapters are discovered, not listed: every module of this package whose name starts
with `ch` and two digits is imported on first use, and registers itself through
`autograde.chapters.registry`. This package needs PyTorch and runs only on the
instructor's side; the grading sandbox cannot import it.
"""
from __future__ import annotations

import importlib
import pkgutil
import re

from .registry import CATALOGUE, REGISTRY, GradedFunction, Mistake

_CHAPTER = re.compile(r"ch\d\d_\w+$")
_loaded = False


def load() -> None:
    """Import every chapter module (once)."""
    global _loaded
    if _loaded:
        return
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if _CHAPTER.match(info.name):
            importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True


def assignments() -> dict[str, list[GradedFunction]]:
    """Assignment name -> its graded functions, in the order they were registered."""
    load()
    out: dict[str, list[GradedFunction]] = {}
    for fn in REGISTRY.values():
        out.setdefault(fn.assignment, []).append(fn)
    return dict(sorted(out.items()))


def sandbox_imports(assignment: str) -> tuple[str, ...]:
    """What an assignment declares its sandbox may import beyond numpy: its chapter
    module's `SANDBOX_IMPORTS` (only "torch" is known; 07-capstone declares it, since its
    student trains a torch model). Every other assignment's sandbox holds no PyTorch."""
    load()
    import sys

    found: set[str] = set()
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith(__name__ + ".ch") and \
                getattr(module, "ASSIGNMENT", None) == assignment:
            found.update(getattr(module, "SANDBOX_IMPORTS", ()))
    unknown = found - {"torch"}
    if unknown:
        raise ValueError(f"{assignment} declares sandbox imports no sandbox holds: {sorted(unknown)}")
    return tuple(sorted(found))


def get(name: str) -> GradedFunction:
    load()
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no graded function is called {name!r}; known: {', '.join(sorted(REGISTRY))}") from None


def mistakes_for(function: str) -> list[Mistake]:
    get(function)
    return CATALOGUE.get(function, [])


def known_mistake(function: str, key: str) -> Mistake:
    for m in mistakes_for(function):
        if m.key == key:
            return m
    raise KeyError(f"{function} has no known mistake {key!r}")
