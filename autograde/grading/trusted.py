"""The trusted verdict: compare recorded outputs with references computed here.

This runs in a process the student's code never touches. It reads what the checks
recorded (`autograde.grading.records`), rebuilds each case itself, computes the
reference with PyTorch (hidden cases, from the seed this submission was given, which
the kernel never saw) or reads the shipped public case, compares, and diagnoses.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .. import chapters
from ..kernel.cases import describe_inputs, hyperparameters, public_cases
from ..kernel.diagnosis import diagnose
from .records import Record
from .references import hidden_inputs, hidden_mistakes, trusted_hidden


@dataclass(frozen=True)
class Verdict:
    function: str
    kind: str
    index: int
    passed: bool
    kernel_passed: bool
    message: str | None
    diagnosis: str | None = None  # the key of the known mistake the student's outputs match
    structural: bool = False  # failed for want of a usable record, not for a wrong value


def _group(function: str, kind: str, seeds: dict[str, int]) -> list[tuple[list, object]] | None:
    """(expected, the mistakes' outputs or how to get them) per case, from the package's
    public file or, for hidden cases, computed here from this submission's seed (never
    read from the sandbox)."""
    if kind == "public":
        return [(c.expected, c.mistakes or {}, c.inputs) for c in public_cases(function)]
    if function not in seeds:
        return None
    seed = seeds[function]
    inputs = hidden_inputs(function, seed)
    return [(list(e), (function, seed, i), inputs[i]) for i, e in enumerate(trusted_hidden(function, seed))]


def _mistakes(outputs):
    """A case's known mistakes' outputs; a hidden case's are computed when first needed."""
    if isinstance(outputs, tuple):
        name, seed, i = outputs
        return hidden_mistakes(name, seed)[i]
    return outputs


def rescore(records: list[Record], seeds: dict[str, int]) -> list[Verdict]:
    """`seeds`: function -> the seed its hidden cases were made from for this submission."""
    verdicts: list[Verdict] = []
    groups: dict[tuple[str, str], list | None] = {}
    failing: dict[tuple[str, str], list] = {}
    passing: dict[tuple[str, str], list] = {}  # (mistakes' outputs or where to compute them, actual)
    for rec in records:
        spec = chapters.get(rec.function)
        key = (rec.function, rec.kind)
        if key not in groups:
            groups[key] = _group(rec.function, rec.kind, seeds)
        cases = groups[key]
        if cases is None or not 0 <= rec.index < len(cases):
            verdicts.append(Verdict(rec.function, rec.kind, rec.index, False, rec.kernel_passed,
                                    f"recorded a case that does not exist ({rec.kind} case {rec.index})",
                                    structural=True))
            continue
        expected, mistake_outputs, inputs = cases[rec.index]
        if rec.outputs is None:
            said = rec.error if rec.error and rec.error.startswith("returned ") else f"raised {rec.error}"
            passed, message, structural = False, said, True
        else:
            if len(rec.outputs) != len(spec.outputs):
                verdicts.append(Verdict(rec.function, rec.kind, rec.index, False, rec.kernel_passed,
                                        f"returned {len(rec.outputs)} outputs; expected {len(spec.outputs)}"))
                continue
            actual = rec.outputs if len(spec.outputs) > 1 else rec.outputs[0]
            if len(spec.outputs) == 1 and actual is not None and actual.ndim == 0 and actual.dtype.kind in "iu":
                actual = int(actual)
            mismatch = spec.spec().compare(inputs, expected, actual, reveal=rec.kind == "public")
            passed, message, structural = mismatch is None, (mismatch.message if mismatch else None), False
            if not passed:
                failing.setdefault(key, []).append((_mistakes(mistake_outputs), actual, inputs))
            else:
                passing.setdefault(key, []).append((mistake_outputs, actual))
        if not passed and rec.kind == "hidden":  # which case: its inputs' shapes and settings
            arguments = {k: v for k, v in inputs.items() if k in spec.inputs}  # never a secret's name
            message = f"({describe_inputs(arguments, hyperparameters(rec.function, inputs))}) {message}"
        verdicts.append(Verdict(rec.function, rec.kind, rec.index, passed, rec.kernel_passed, message,
                                structural=structural))
    # The cases passed count too: a mistake that would have failed one of them is not it.
    found = {key: diagnose(chapters.get(key[0]).spec(), cases,
                           [(_mistakes(m), actual) for m, actual in passing.get(key, [])])
             for key, cases in failing.items()}
    return [replace(v, diagnosis=found[(v.function, v.kind)].key)
            if not v.passed and not v.structural and found.get((v.function, v.kind)) else v for v in verdicts]
