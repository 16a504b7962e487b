"""How the student's function is called, and its answer read, where a case file cannot
hold the arguments (a function to differentiate, a list of arrays) or the answer is not
a flat tuple, or judged where no single answer is right. These run in the student's
kernel: numpy only, no reference.

One module per chapter that needs any (`chNN_name.py`, named as its chapter module in
`autograde.chapters`), found by discovery as the chapters are. A chapter names its
adapters in its graded functions (`prepare=`, `unpack=`, `run=`, `judge=`,
`diagnose_with=`); the spec the kernel receives holds each adapter's name, which `find`
resolves. A name is one function across all these modules.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from types import FunctionType

_CHAPTER = re.compile(r"ch\d\d_\w+$")
_MISSING = object()
_found: dict[str, FunctionType] | None = None


def _adapters() -> dict[str, FunctionType]:
    """Name -> function, for every public function defined by a chapter's module here."""
    global _found
    if _found is None:
        found: dict[str, FunctionType] = {}
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            if not _CHAPTER.match(info.name):
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            for name, value in vars(module).items():
                if isinstance(value, FunctionType) and value.__module__ == module.__name__ \
                        and not name.startswith("_"):
                    if name in found:
                        raise ValueError(f"adapter {name!r} is defined by both {found[name].__module__} "
                                         f"and {module.__name__}")
                    found[name] = value
        _found = found
    return _found


def find(name: str, default=_MISSING):
    """The adapter called `name` (`default`, if given, when there is none)."""
    try:
        return _adapters()[name]
    except KeyError:
        if default is not _MISSING:
            return default
        raise KeyError(f"no adapter is called {name!r} in autograde.kernel.adapters") from None
