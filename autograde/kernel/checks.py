"""The checks that exercise test cells call.

    from autograde.kernel import check
    check("rnn_forward", rnn_forward)                    # the public cases
    check("rnn_forward", rnn_forward, hidden_seed=1234)  # hidden cases (instructor only)

A public check calls the student's function on every shipped case, compares each
result with the PyTorch reference outputs that ship with it, and raises `CheckFailed`
with a message that names the function, the case, the input shapes and what is wrong
(shape, or max abs error and the first differing index), and the known mistake the
outputs match, if any.

A hidden check holds no answer. At grading time the grader passes in the hidden cases'
inputs (never their seed or expected outputs); the check calls the function on each,
records what it returned, and says that the comparison happens outside the notebook.
It fails here only for what the kernel can see itself: the function raised, is not
implemented or is not a function. Every result, public or hidden, is recorded (see
`autograde.kernel.record`); the trusted process outside the kernel decides the score.

Warnings raised by the student's code are reported on stdout, never on stderr:
nbgrader gives a test cell zero points for any stderr output, and a warning must not
change a score.
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass

from . import record
from .cases import Case, hidden_cases, public_cases, spec as get_spec
from .compare import compare_outputs
from .diagnosis import describe, diagnose
from .spec import MistakeInfo, Spec


class CheckFailed(AssertionError):
    """A graded function gave a wrong answer (or none) on a test case."""


def _call(fn, case: Case, spec: Spec):
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
    mistake: MistakeInfo | None  # the known mistake that explains every wrong value


def run_cases(name: str, fn, cases: list[Case]) -> Run:
    """Run `fn` on every case, record what it returned, and (where the expected outputs
    are known, i.e. public cases) compare and diagnose."""
    spec = get_spec(name)
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
        if error is None:
            try:
                result = spec.unpack_result(result)
            except (TypeError, ValueError) as exc:
                error = f"wrong return value: {exc}"
                message = f"{name}, {case.label} ({case.describe_inputs()}): {exc}"
        if error is None:
            outputs = list(result) if len(spec.outputs) > 1 and isinstance(result, (tuple, list)) else [result]
            if case.expected is not None:
                mismatch = compare_outputs(spec.outputs, case.expected, result, reveal=case.kind == "public",
                                           atol=spec.atol, rtol=spec.rtol)
                if mismatch is not None:
                    message = f"{name}, {case.label} ({case.describe_inputs()}): {mismatch.message}"
                    wrong.append((case.mistakes or {}, result))
        record.write(name, case.kind, case.index, outputs, error, kernel_passed=message is None)
        if message is not None:
            failures.append(message)
    diagnosable = bool(failures) and len(wrong) == len(failures)
    return Run(failures, diagnosable, diagnose(spec, wrong) if diagnosable else None)


def _instructor_hidden_cases(name: str, seed: int) -> list[Case]:
    """Outside grading, an instructor's kernel makes the hidden cases itself (this needs
    the instructor's side of the package and PyTorch, never present in a sandbox)."""
    try:
        from ..grading.references import hidden_cases_with_expected
    except ImportError:
        raise CheckFailed(f"the hidden cases of {name} run only when your notebook is graded") from None
    return hidden_cases_with_expected(name, seed)


def check(name: str, fn, hidden_seed: int | None = None, hidden: bool = False) -> None:
    """Check `fn` against the reference for the graded function `name`: the public cases,
    or (with `hidden_seed`, or `hidden` as the grader writes it) the hidden ones."""
    spec = get_spec(name)
    if not callable(fn):
        raise CheckFailed(f"{name} should be a function, but it is a {type(fn).__name__}")
    if hidden or hidden_seed is not None:
        cases = hidden_cases(name)
        if cases is None:
            if hidden_seed is None:
                raise CheckFailed(f"the hidden cases of {name} run only when your notebook is graded")
            cases = _instructor_hidden_cases(name, hidden_seed)
    else:
        cases = public_cases(name)
    kind = "hidden" if hidden or hidden_seed is not None else "public"
    run = run_cases(name, fn, cases)
    if run.failures:
        more = f"\n({len(run.failures)} of {len(cases)} {kind} cases fail)" if len(run.failures) > 1 else ""
        diagnosis = "\n" + describe(run.mistake, name) if run.diagnosable else ""
        raise CheckFailed(run.failures[0] + more + diagnosis) from None
    if any(c.expected is None for c in cases):
        print(f"recorded: {name} ran on all {len(cases)} {kind} cases; its outputs are compared with "
              f"{spec.matches} outside this notebook")
    else:
        print(f"ok: {name} matches {spec.matches} on all {len(cases)} {kind} cases")
