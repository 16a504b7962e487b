"""Score a run: the kernel's verdict per test cell, the trusted verdict, the points.

The kernel's verdict is what the executed cell shows: no error, no timeout, it ran.
The trusted verdict comes from the outputs the checks recorded, compared again here
(`autograde.grading.trusted`), for exactly the check calls that the instructor's test
cell makes (read from the source, never from the submission). A test scores its points
only when both agree that it passed.

When they disagree: for a public check (whose answers the kernel holds) any
disagreement is suspected tampering; for a hidden check the kernel cannot know the
answer, so only a pass without a usable record (a check that was replaced or skipped)
is.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
import threading
from functools import lru_cache

from .. import chapters
from .trusted import Verdict


def function_of(grade_id: str) -> str:
    """The graded function a test cell checks: test cells are named
    test_<function>_public and test_<function>_hidden (a test enforces it)."""
    return grade_id.removeprefix("test_").rsplit("_", 1)[0]


@dataclass(frozen=True)
class Expected:
    function: str
    kind: str
    seed: int  # the public seed, or the instructor's base seed of the hidden cases
    n: int


def _check_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "check" \
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            yield node


# CPython 3.11's AST constructor keeps its recursion count in state shared by all
# threads (CPython gh-106905): two grading threads parsing at once can fail with "AST
# constructor recursion depth mismatch". Every parse here holds this lock (records.py
# parses no header with ast).
_AST = threading.Lock()


def _parse(source: str) -> ast.Module:
    with _AST:
        return ast.parse(source)


@lru_cache(maxsize=None)
def expected_checks(source: str) -> tuple[Expected, ...]:
    """The check(...) calls of a test cell, from its (instructor's) source; parsed once
    per grading run, not once per student."""
    found = []
    for node in _check_calls(_parse(source)):
        name = node.args[0].value
        seed = next((kw.value.value for kw in node.keywords
                     if kw.arg == "hidden_seed" and isinstance(kw.value, ast.Constant)), None)
        fn = chapters.get(name)
        if seed is None:
            found.append(Expected(name, "public", fn.public_seed, fn.n_public))
        else:
            found.append(Expected(name, "hidden", int(seed), fn.n_hidden))
    return tuple(found)


@lru_cache(maxsize=None)
def without_seeds(source: str) -> str:
    """The test cell's source as the sandbox runs it: every hidden check's seed removed
    (`check("f", f, hidden_seed=710)` -> `check("f", f, hidden=True)`), so the kernel
    never sees a seed; the grader passes in the cases' inputs instead."""
    lines = source.split("\n")
    for node in sorted(_check_calls(_parse(source)), key=lambda n: (n.lineno, n.col_offset), reverse=True):
        if not any(kw.arg == "hidden_seed" for kw in node.keywords):
            continue
        node.keywords = [kw for kw in node.keywords if kw.arg != "hidden_seed"] + \
            [ast.keyword("hidden", ast.Constant(True))]
        first, last = node.lineno - 1, node.end_lineno - 1
        new = lines[first][:node.col_offset] + ast.unparse(node) + lines[last][node.end_col_offset:]
        lines[first:last + 1] = [new]
    return "\n".join(lines)


@dataclass(frozen=True)
class CellScore:
    grade_id: str
    points: float
    max_points: float
    kernel_passed: bool
    trusted_passed: bool
    message: str
    diagnosis: str | None = None  # key of the known mistake the outputs match (trusted)
    tampering: bool = False

    @property
    def disagree(self) -> bool:
        return self.tampering


def kernel_verdict(cell, ran: bool, timed_out: bool, not_run: str = "the kernel had died") -> tuple[bool, str]:
    if not ran:
        return False, f"did not run ({not_run})"
    if timed_out:
        return False, "ran past the time limit and was stopped"
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return False, f"{out.get('ename')}: {out.get('evalue')}"
    return True, "passed"


def trusted_verdict(source: str, verdicts: list[Verdict]) -> tuple[bool, str, str | None, bool, bool]:
    """(passed, why not, the diagnosed mistake, failed for want of a usable record,
    hidden) for the test cell with this source."""
    expected = expected_checks(source)
    hidden = any(e.kind == "hidden" for e in expected)
    if not expected:
        return True, "", None, False, hidden
    by_case: dict[tuple, list[Verdict]] = {}
    for v in verdicts:
        by_case.setdefault((v.function, v.kind, v.index), []).append(v)
    for exp in expected:
        for i in range(exp.n):
            got = by_case.get((exp.function, exp.kind, i))
            if not got:
                return False, f"{exp.function}, {exp.kind} case {i}: no result was recorded", None, True, hidden
            bad = next((v for v in got if not v.passed), None)
            if bad is not None:
                return (False, f"{exp.function}, {exp.kind} case {i}: {bad.message}", bad.diagnosis,
                        bad.structural, hidden)
    return True, "", None, False, hidden


def score_cell(grade_id: str, max_points: float, source: str, cell, ran: bool, timed_out: bool,
               verdicts: list[Verdict], exhausted: str | None = None,
               not_run: str = "the kernel had died") -> CellScore:
    """`exhausted`: what the kernel ran out of before this cell ran (open files, processes,
    disk), if anything; a check that could not record then is not held against it."""
    k_ok, k_msg = kernel_verdict(cell, ran, timed_out, not_run)
    t_ok, t_msg, diagnosis, structural, hidden = trusted_verdict(source, verdicts)
    ok = k_ok and t_ok
    tampering = False
    if k_ok and not t_ok:
        if exhausted and structural:
            message = f"not graded: the notebook ran out of {exhausted} before this check could record its results"
        elif structural or not hidden:
            tampering = True
            message = "suspected tampering: the notebook reported a pass but the trusted comparison found: " + t_msg
        else:
            message = t_msg
    elif t_ok and not k_ok:
        message = k_msg if not ran or timed_out else \
            "the trusted comparison passed but the notebook reported: " + k_msg
        tampering = ran and not timed_out and not hidden
    else:
        message = k_msg if not k_ok else "passed"
    return CellScore(grade_id, max_points if ok else 0.0, max_points, k_ok, t_ok, message,
                     diagnosis if not t_ok else None, tampering)


def upstream_of(function: str) -> list[str]:
    """The graded functions `function` uses, directly or through another (GradedFunction.uses)."""
    found: list[str] = []

    def visit(name: str) -> None:
        try:
            uses = chapters.get(name).uses
        except KeyError:
            return
        for up in uses:
            if up not in found:
                visit(up)
                found.append(up)
    visit(function)
    return found


def note_cascades(cells: list[dict]) -> None:
    """Grading policy for cascades: every function is scored on its own outputs (the
    sandbox holds no reference to call in its place), so a mistake in a function that
    another one uses can cost the other's points too. Each failing cell whose function
    uses a function that fails its own check says so, naming it, in its message."""
    failed = {function_of(c["grade_id"]) for c in cells if not (c["kernel_passed"] and c["trusted_passed"])}
    for c in cells:
        fn = function_of(c["grade_id"])
        if fn not in failed:
            continue
        upstream = [u for u in upstream_of(fn) if u in failed]
        if upstream and f"Note: {fn} uses " not in c["message"]:  # the check's own note says it already
            one = len(upstream) == 1
            c["message"] += (f" (note: {fn} uses {' and '.join(upstream)}, which fail{'s' if one else ''} "
                             f"{'its' if one else 'their'} own check: this may be the same mistake counted again)")
