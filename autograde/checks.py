"""The checks that exercise test cells call.

    from autograde.checks import check
    check("rnn_forward", rnn_forward)                    # the public cases
    check("rnn_forward", rnn_forward, hidden_seed=1234)  # hidden cases (instructor only)

A check calls the student's function on every case, compares each result with the
PyTorch reference, and raises `CheckFailed` with a message that names the function,
the case, the input shapes and what is wrong (shape, or max abs error and the first
differing index). Every result is also recorded (see `autograde.record`) so that the
verdict can be reached again outside the student's kernel.

Warnings raised by the student's code are reported on stdout, never on stderr:
nbgrader gives a test cell zero points for any stderr output, and a warning must not
change a score.
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass

from . import record, registry
from .cases import Case, hidden_cases, public_cases
from .compare import compare_outputs
from .mistakes import Mistake, describe, diagnose


class CheckFailed(AssertionError):
    """A graded function gave a wrong answer (or none) on a test case."""


def _call(fn, case: Case, spec: registry.GradedFunction):
    args = spec.call_args(copy.deepcopy(case.inputs))  # the student's code may modify its arguments
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args)
    notes = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    return result, notes


@dataclass
class Run:
    failures: list[str]  # one message per failing case; empty if all pass
    diagnosable: bool  # every failure is a wrong value (not an exception, not a wrong form)
    mistake: Mistake | None  # the known mistake that explains every wrong value


def run_cases(name: str, fn, cases: list[Case]) -> Run:
    """Run `fn` on every case, record what it returned, and diagnose what went wrong."""
    spec = registry.get(name)
    failures = []
    wrong = []  # (mistakes' outputs, the student's outputs) of each case with wrong values
    for case in cases:
        outputs, error, message = None, None, None
        try:
            result, notes = _call(fn, case, spec)
            for note in notes:
                print(f"note: {name}, {case.label} warned: {note}")
        except NotImplementedError:
            error = "NotImplementedError"
            message = f"{name} is not implemented yet (it raised NotImplementedError)"
        except Exception as exc:  # any error in the student's code fails this case only
            error = f"{type(exc).__name__}: {exc}"
            message = f"{name}, {case.label} ({case.describe_inputs()}) raised {error}"
        if error is None and spec.unpack is not None:
            try:
                result = spec.unpack(result)
            except (TypeError, ValueError) as exc:
                error = f"wrong return value: {exc}"
                message = f"{name}, {case.label} ({case.describe_inputs()}): {exc}"
        if error is None:
            outputs = list(result) if len(spec.outputs) > 1 and isinstance(result, (tuple, list)) else [result]
            mismatch = compare_outputs(spec.outputs, case.expected, result, reveal=case.kind == "public",
                                       atol=spec.atol, rtol=spec.rtol)
            if mismatch is not None:
                message = f"{name}, {case.label} ({case.describe_inputs()}): {mismatch.message}"
                wrong.append((case.mistakes or {}, result))
        record.write(name, case.kind, case.seed, case.index, outputs, error, kernel_passed=message is None)
        if message is not None:
            failures.append(message)
    diagnosable = bool(failures) and len(wrong) == len(failures)
    return Run(failures, diagnosable, diagnose(spec, wrong) if diagnosable else None)


def check(name: str, fn, hidden_seed: int | None = None) -> None:
    """Check `fn` against the reference for the graded function `name`."""
    spec = registry.get(name)
    if not callable(fn):
        raise CheckFailed(f"{name} should be a function, but it is a {type(fn).__name__}")
    cases = public_cases(name) if hidden_seed is None else hidden_cases(name, hidden_seed)
    run = run_cases(name, fn, cases)
    kind = cases[0].kind if cases else "public"
    if run.failures:
        more = f"\n({len(run.failures)} of {len(cases)} {kind} cases fail)" if len(run.failures) > 1 else ""
        diagnosis = "\n" + describe(run.mistake, name) if run.diagnosable else ""
        raise CheckFailed(run.failures[0] + more + diagnosis) from None
    print(f"ok: {name} matches {spec.matches} on all {len(cases)} {kind} cases")
