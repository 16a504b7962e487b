"""What each chapter contributes: its graded functions, how their cases are made, their
PyTorch references and their known mistakes, one module per chapter (`chNN_name.py`,
for the exercise `NN-name`).

Chapters are discovered, not listed: every module of this package whose name starts
with `ch` and two digits is imported on first use and declares its chapter, once, as
`CHAPTER = Chapter("NN-name", ...)` (see `autograde.chapters.registry`). This package
needs PyTorch and runs only on the instructor's side; the grading sandbox cannot import it.
"""
from __future__ import annotations

import importlib
import pkgutil
import re

from .registry import CATALOGUE, REGISTRY, Chapter, GradedFunction, Mistake

_CHAPTER = re.compile(r"ch\d\d_\w+$")
CHAPTERS: dict[str, Chapter] = {}
"""Chapter name -> its declaration, filled by `load`."""


def load() -> None:
    """Import every chapter module (once) and collect its `CHAPTER`."""
    if CHAPTERS:
        return
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if _CHAPTER.match(info.name):
            module = importlib.import_module(f"{__name__}.{info.name}")
            chapter = getattr(module, "CHAPTER", None)
            if not isinstance(chapter, Chapter):
                raise ValueError(f"{module.__name__} declares no CHAPTER = Chapter(...)")
            if chapter.module != info.name:
                raise ValueError(f"{module.__name__} declares the chapter {chapter.name!r}, whose module "
                                 f"is {chapter.module}.py: one name everywhere")
            found[chapter.name] = chapter
    CHAPTERS.update(found)


def chapters() -> dict[str, Chapter]:
    """Chapter name -> its declaration, in the order of their names."""
    load()
    return dict(CHAPTERS)


def assignments() -> dict[str, list[GradedFunction]]:
    """Assignment (chapter) name -> its graded functions, in the order they were declared."""
    return {name: list(chapter.functions) for name, chapter in chapters().items()}


def sandbox_imports(assignment: str) -> tuple[str, ...]:
    """What an assignment's chapter declares its sandbox may import beyond numpy (only
    "torch" is known; 07-capstone declares it, since its student trains a torch model).
    Every other assignment's sandbox holds no PyTorch."""
    chapter = chapters().get(assignment)
    return chapter.sandbox_imports if chapter else ()


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
