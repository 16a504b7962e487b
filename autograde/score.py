"""Score a run: the kernel's verdict per test cell, the trusted verdict, the points.

The kernel's verdict is what the executed cell shows: no error, no timeout, it ran.
The trusted verdict comes from the outputs the checks recorded, compared again here
(`autograde.trusted`), for exactly the check calls that the instructor's test cell
makes (read from the source, never from the submission). A test scores its points
only when both agree that it passed; when they disagree, it scores 0 and the
submission is flagged for suspected tampering.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

from . import registry
from .trusted import Verdict


def function_of(grade_id: str) -> str:
    """The graded function a test cell checks: test cells are named
    test_<function>_public and test_<function>_hidden (a test enforces it)."""
    return grade_id.removeprefix("test_").rsplit("_", 1)[0]


@dataclass(frozen=True)
class Expected:
    function: str
    kind: str
    seed: int
    n: int


@lru_cache(maxsize=None)
def expected_checks(source: str) -> tuple[Expected, ...]:
    """The check(...) calls of a test cell, from its (instructor's) source; parsed once
    per grading run, not once per student."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "check":
            name = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
            seed = next((kw.value.value for kw in node.keywords
                         if kw.arg == "hidden_seed" and isinstance(kw.value, ast.Constant)), None)
            if name is None:
                continue
            fn = registry.get(name)
            if seed is None:
                found.append(Expected(name, "public", fn.public_seed, fn.n_public))
            else:
                found.append(Expected(name, "hidden", int(seed), fn.n_hidden))
    return tuple(found)


@dataclass(frozen=True)
class CellScore:
    grade_id: str
    points: float
    max_points: float
    kernel_passed: bool
    trusted_passed: bool
    message: str
    diagnosis: str | None = None  # key of the known mistake the outputs match (trusted)

    @property
    def disagree(self) -> bool:
        return self.kernel_passed != self.trusted_passed


def kernel_verdict(cell, ran: bool, timed_out: bool) -> tuple[bool, str]:
    if not ran:
        return False, "did not run (the kernel had died)"
    if timed_out:
        return False, "ran past the time limit and was stopped"
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return False, f"{out.get('ename')}: {out.get('evalue')}"
    return True, "passed"


def trusted_verdict(source: str, verdicts: list[Verdict]) -> tuple[bool, str, str | None]:
    """(passed, why not, the diagnosed mistake) for the test cell with this source."""
    expected = expected_checks(source)
    if not expected:
        return True, "", None
    by_case: dict[tuple, list[Verdict]] = {}
    for v in verdicts:
        by_case.setdefault((v.function, v.kind, v.seed, v.index), []).append(v)
    for exp in expected:
        for i in range(exp.n):
            got = by_case.get((exp.function, exp.kind, exp.seed, i))
            if not got:
                return False, f"{exp.function}, {exp.kind} case {i}: no result was recorded", None
            bad = next((v for v in got if not v.passed), None)
            if bad is not None:
                return False, f"{exp.function}, {exp.kind} case {i}: {bad.message}", bad.diagnosis
    return True, "", None


def score_cell(grade_id: str, max_points: float, source: str, cell, ran: bool, timed_out: bool,
               verdicts: list[Verdict]) -> CellScore:
    k_ok, k_msg = kernel_verdict(cell, ran, timed_out)
    t_ok, t_msg, diagnosis = trusted_verdict(source, verdicts)
    ok = k_ok and t_ok
    if k_ok != t_ok:
        message = ("suspected tampering: the notebook reported a pass but the trusted comparison found: " + t_msg
                   if k_ok else "suspected tampering: the trusted comparison passed but the notebook reported: " + k_msg)
    else:
        message = k_msg
    return CellScore(grade_id, max_points if ok else 0.0, max_points, k_ok, t_ok, message,
                     diagnosis if not t_ok else None)
