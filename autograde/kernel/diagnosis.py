"""Diagnosis: which known mistake a wrong answer is.

The catalogue itself (a PyTorch computation per mistake, with a title and an
explanation) lives with each chapter (`autograde.chapters`); the kernel knows only the
titles and explanations (in each function's `Spec`) and the mistakes' outputs on the
public cases (shipped). For hidden cases only the trusted process diagnoses.

When a student's output is wrong on some cases, `diagnose` looks for the one mistake
whose outputs match the student's on every failing case.
"""
from __future__ import annotations

from .compare import as_float64, compare_outputs
from .spec import MistakeInfo, Spec


def diagnose(spec: Spec, failures: list[tuple[dict[str, list], object]],
             passing: list[tuple[dict[str, list], object]] = ()) -> MistakeInfo | None:
    """The known mistake that explains every failure, or None.

    `failures` holds, per failing case, the outputs of every mistake on it ({key:
    outputs}), what the student's function returned (as compared) and, optionally, the
    case's inputs (for a spec's `diagnose_with`, a mistake shown by a property).
    `passing` holds the same for the cases the student passed: a mistake whose outputs
    differ from the student's right answer on one of them is not what the student did
    (a bias missing only when bidirectional is not "one bias", which fails one-way
    cases too)."""
    if not failures:
        return None

    def matches(outputs, actual) -> bool:
        return outputs is not None and compare_outputs(spec.outputs, outputs, as_float64(actual),
                                                       atol=spec.atol, rtol=spec.rtol) is None

    for m in spec.mistakes:
        if all(matches(f[0].get(m.key), f[1]) for f in failures) and \
                all(p[0].get(m.key) is None or matches(p[0][m.key], p[1]) for p in passing):
            return m
    if spec.diagnose_with and all(len(f) > 2 for f in failures):
        from . import adapters

        keys = {adapters.find(spec.diagnose_with)(f[2], f[1]) for f in failures}
        if len(keys) == 1 and None not in keys:
            return spec.mistake(keys.pop())
    return None


def describe(m: MistakeInfo | None, function: str, values_differ: bool = True, upstream: bool = False) -> str:
    """The diagnosis line under a failed check. `values_differ`: every failure is a
    wrong value (it has a first differing index), not a wrong shape, type or dtype.
    `upstream`: a function this one uses fails its own check; the note that follows says
    to fix that one first, so this line gives no other place to start."""
    if m is None:
        if upstream:
            return f"It matches none of the known mistakes of {function}."
        where = "start from the first differing index above" if values_differ else \
            "start from what the message above names (a shape, a type or a dtype)"
        return f"It matches none of the known mistakes of {function}; {where}."
    return f"This looks like a known mistake, \"{m.title}\": {m.explanation}"
