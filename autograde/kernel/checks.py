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

What the student reads:
- a failed check shows its message, not a traceback into this package (IPython prints
  `CheckFailed._render_traceback_`), wrapped between words; when the student's code
  raised, the message quotes the student's own line (cell, line number, the line);
- a function that changes one of its arguments in place fails its own check, and the
  message names the argument (the caller still needs it);
- float64 is promised: a float32 result fails with a message that says so;
- a function that calls another graded function which failed its own check (the spec's
  `uses`) is told so: its failure may be the same mistake seen again.
"""
from __future__ import annotations

import copy
import inspect
import linecache
import sys
import textwrap
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import record
from .cases import Case, hidden_cases, public_cases, spec as get_spec
from .compare import compare_outputs
from .diagnosis import describe, diagnose
from .spec import MistakeInfo, Spec


# Message lines are wrapped here, between words (never mid-word): `nbgrader validate`,
# which each exercise recommends, indents an error's lines by 4 and cuts any longer than
# 87 characters (its width, 90, less "..."), so 83 reach the student whole.
WIDTH = 83


def wrap(message: str, width: int = WIDTH) -> list[str]:
    """The message's lines, each paragraph wrapped between words; an indented line (a
    quoted line of code) keeps its indent, and its continuation is indented further."""
    lines = []
    for line in message.split("\n"):
        if len(line) <= width:
            lines.append(line)
        elif line.startswith(" "):
            indent = line[:len(line) - len(line.lstrip())]
            lines += textwrap.wrap(line.strip(), width, initial_indent=indent, subsequent_indent=indent + "    ",
                                   break_on_hyphens=False)
        else:
            lines += textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False,
                                   subsequent_indent="  ")
    return lines


class CheckFailed(AssertionError):
    """A graded function gave a wrong answer (or none) on a test case."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for this error: the message alone. The traceback would
        lead into this package's internals, which say nothing about the student's code
        (the student's own line, if their code raised, is part of the message)."""
        return ["\x1b[0;31mCheckFailed\x1b[0m"] + wrap(str(self))


class MutatedArgument(Exception):
    """The student's function changed an argument in place (`result`: what it returned)."""

    def __init__(self, message: str, result=None):
        super().__init__(message)
        self.result = result


_HERE = Path(__file__).resolve().parent
_LIBRARY = tuple(str(Path(p).resolve()) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})


def _cell_name(filename: str) -> str:
    """IPython's name of the cell a code object came from ("Cell In[4]"), or the file."""
    try:
        shell = get_ipython()  # noqa: F821 (defined inside IPython only)
        kind, name = shell.compile.format_code_name(filename) or (None, None)
        if name:
            return f"{kind} {name}" if kind else name
    except Exception:
        pass
    return f"File {filename}"


def students_line(exc: BaseException) -> str:
    """Where the student's code raised: the innermost frame that is neither this package
    nor an installed library (numpy's internals), as "Cell In[4], line 3" and the line."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = []
    for f in frames:
        path = f.filename
        try:
            resolved = str(Path(path).resolve())
        except (OSError, ValueError):
            resolved = path
        if resolved.startswith(str(_HERE)) or (resolved.startswith(_LIBRARY) and "ipykernel_" not in path):
            continue
        own.append(f)
    if not own:
        return ""
    f = own[-1]
    line = f.line or linecache.getline(f.filename, f.lineno).strip()
    where = f"{_cell_name(f.filename)}, line {f.lineno}, in {f.name}"
    return f"\n  in your code: {where}\n      {line}" if line else f"\n  in your code: {where}"


def _snapshot(value):
    """A copy of an argument, to see afterwards whether the function changed it."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):  # a tuple cannot change, but the arrays in it can
        return type(value)(_snapshot(v) for v in value)
    if isinstance(value, dict):  # a cache of arrays, as lstm_cell_backward takes
        return {k: _snapshot(v) for k, v in value.items()}
    return None  # numbers, strings, functions: cannot be changed in place


def _changed(before, after) -> list[str]:
    """Where `after` differs from the snapshot `before` ("" for the whole, "[i]" inside a
    list or tuple, "['key']" inside a dict)."""
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or after.shape != before.shape:
            return [""]
        if np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"):
            return []
        # restoring x[i] after x[i] += eps; x[i] -= eps leaves a rounding error: not a change
        same = before.dtype.kind in "fc" and np.allclose(after, before, rtol=1e-12, atol=1e-14, equal_nan=True)
        return [] if same else [""]
    if isinstance(before, (list, tuple)):
        if type(after) is not type(before) or len(after) != len(before):
            return [""]
        return [f"[{i}]{where}" for i, (b, a) in enumerate(zip(before, after)) for where in _changed(b, a)]
    if isinstance(before, dict):
        if not isinstance(after, dict) or after.keys() != before.keys():
            return [""]  # a key added or removed: the caller's dict changed
        return [f"[{k!r}]{where}" for k in before for where in _changed(before[k], after[k])]
    return []


def _argument_names(fn, n: int) -> list[str]:
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"argument {i + 1}" for i in range(n)]


def _call(fn, case: Case, spec: Spec):
    inputs = copy.deepcopy(case.inputs)  # the student's code may modify its arguments
    if spec.run:  # driven over many calls by the course's loop: watch the case's own arrays
        args = list(inputs.values())
        names = list(inputs)
    else:
        args = spec.call_args(inputs)
        names = None
    before = [_snapshot(a) for a in args]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = spec.call(fn, inputs) if spec.run else fn(*args)
    notes = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    names = names or _argument_names(fn, len(args))
    changed = [names[i] + where for i, (b, a) in enumerate(zip(before, args)) for where in _changed(b, a)]
    if changed:
        which = ", ".join(changed)
        inside = (f" (If {spec.name} passes it on to {' or '.join(spec.uses)}, the change may be made "
                  f"there: check that function first.)") if spec.uses else ""
        raise MutatedArgument(
            f"{spec.name} changed its argument{'s' if len(changed) > 1 else ''} {which} in place. "
            f"A function must leave its inputs as they were, because its caller still uses them: "
            f"an in-place operation on an argument (x += ..., x[...] = ..., x **= 2, np.add(..., "
            f"out=x)) changes the caller's array. Make a new array instead (b = b_ih + b_hh, not "
            f"b = b_ih; b += b_hh), or copy first (x = x.copy()).{inside}", result)
    return result, notes


# Whether each graded function passed its latest public check in this kernel: a failure
# downstream (see Spec.uses) names an upstream function that failed its own.
_passed: dict[str, bool] = {}


def failing_upstream(name: str) -> list[str]:
    """The graded functions `name` calls, directly or through another, whose latest
    public check failed in this kernel (the deepest first)."""
    found, seen = [], set()

    def visit(fn_name: str) -> None:
        for up in get_spec(fn_name).uses:
            if up in seen:
                continue
            seen.add(up)
            visit(up)
            if _passed.get(up) is False:
                found.append(up)
    try:
        visit(name)
    except KeyError:
        return []
    return found


def cascade_note(name: str) -> str:
    upstream = failing_upstream(name)
    if not upstream:
        return ""
    names = " and ".join(upstream)
    return (f"\nNote: {name} uses {names}, which fail{'s' if len(upstream) == 1 else ''} "
            f"{'its' if len(upstream) == 1 else 'their'} own check. This failure may be the same "
            f"mistake seen again: fix {upstream[0]} first, then run this check again.")


@dataclass
class Run:
    failures: list[str]  # one message per failing case; empty if all pass
    diagnosable: bool  # every failure is a wrong value (not an exception, not a wrong form)
    mistake: MistakeInfo | None  # the known mistake that explains every wrong value
    values_differ: bool = True  # every wrong value has a first differing index (not a shape)


def run_cases(name: str, fn, cases: list[Case]) -> Run:
    """Run `fn` on every case, record what it returned, and (where the expected outputs
    are known, i.e. public cases) compare and diagnose."""
    spec = get_spec(name)
    failures = []
    wrong = []  # (mistakes' outputs, the student's outputs) of each case with wrong values
    passing = []  # the same for each case the student got right
    mutated_wrong = []  # the same for each case that changed an argument and returned a wrong value
    values_differ = True
    for case in cases:
        outputs, error, message = None, None, None
        try:
            result, notes = _call(fn, case, spec)
            for note in notes:
                print(f"note: {name}, {case.label} warned: {note}")
        except NotImplementedError:
            error = "NotImplementedError"
            message = f"{name} is not implemented yet (it raised NotImplementedError)"
        except MutatedArgument as exc:
            error = f"MutatedArgument: {exc}"
            message = f"{name}, {case.label} ({case.describe_inputs()}): {exc}"
            # Its values too: a known mistake made beside the in-place change is named as well.
            if case.expected is not None and not spec.judge:
                try:
                    returned = spec.unpack_result(exc.result)
                    if compare_outputs(spec.outputs, case.expected, returned, atol=spec.atol,
                                       rtol=spec.rtol) is not None:
                        mutated_wrong.append((case.mistakes or {}, returned, case.inputs))
                except (TypeError, ValueError):
                    pass
        except Exception as exc:  # any error in the student's code fails this case only
            error = f"{type(exc).__name__}: {exc}"
            message = f"{name}, {case.label} ({case.describe_inputs()}) raised {error}{students_line(exc)}"
        if error is None:
            try:
                result = spec.unpack_result(result)
            except (TypeError, ValueError) as exc:
                error = f"wrong return value: {exc}"
                message = f"{name}, {case.label} ({case.describe_inputs()}): {exc}"
        if error is None:
            outputs = list(result) if len(spec.outputs) > 1 and isinstance(result, (tuple, list)) else [result]
            if case.expected is not None:
                if spec.judge:  # a forecast: judged, not compared with one right answer
                    mismatch = spec.compare(case.inputs, case.expected, result, reveal=case.kind == "public")
                else:
                    mismatch = compare_outputs(spec.outputs, case.expected, result, reveal=case.kind == "public",
                                               atol=spec.atol, rtol=spec.rtol)
                if mismatch is not None:
                    message = f"{name}, {case.label} ({case.describe_inputs()}): {mismatch.message}"
                    wrong.append((case.mistakes or {}, result, case.inputs))
                    values_differ = values_differ and mismatch.first_index is not None
                else:
                    passing.append((case.mistakes or {}, result))
                    if spec.judge:  # a pass of a judged answer says by how much it passed
                        print(_margin(spec, case, result))
        # A changed argument is recorded as an error with no outputs: the trusted
        # comparison, which sees only outputs, must fail this case too.
        record.write(name, case.kind, case.index, None if error else outputs, error,
                     kernel_passed=message is None)
        if message is not None:
            failures.append(message)
    diagnosable = bool(failures) and len(wrong) == len(failures)
    if not diagnosable and mutated_wrong and len(wrong) + len(mutated_wrong) == len(failures):
        mistake = diagnose(spec, wrong + mutated_wrong, passing)
        if mistake is not None:  # the in-place message comes first, then the mistake it hid
            return Run(failures, True, mistake, values_differ)
    return Run(failures, diagnosable, diagnose(spec, wrong, passing) if diagnosable else None, values_differ)


def _margin(spec: Spec, case: Case, result) -> str:
    from . import adapters

    margin = adapters.find(f"{spec.judge}_margin", None)
    return f"note: {spec.name}, {case.label}: {margin(case.inputs, case.expected, result)}" if margin else ""


def cases_phrase(n: int, kind: str) -> str:
    """"its 1 public case" or "all 3 public cases"."""
    return f"its 1 {kind} case" if n == 1 else f"all {n} {kind} cases"


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
    if kind == "public":
        _passed[name] = not run.failures
    if run.failures:
        more = f"\n({len(run.failures)} of {len(cases)} {kind} cases fail)" if len(run.failures) > 1 else ""
        note = cascade_note(name)
        diagnosis = "\n" + describe(run.mistake, name, run.values_differ, upstream=bool(note)) \
            if run.diagnosable else ""
        raise CheckFailed(run.failures[0] + more + diagnosis + note) from None
    if any(c.expected is None for c in cases):
        print(f"recorded: {name} ran on {cases_phrase(len(cases), kind)}; its outputs are compared with "
              f"{spec.matches} outside this notebook")
    else:
        verb = "passes" if spec.judge else "matches"
        print(f"ok: {name} {verb} {spec.matches} on {cases_phrase(len(cases), kind)}")
