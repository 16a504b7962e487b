"""The trusted verdict: compare recorded outputs with references computed here.

This runs in a process the student's code never touches. It reads what the checks
recorded (see `autograde.record`), rebuilds each case from (function, seed, index),
computes the reference with PyTorch (or reads the shipped public case), and compares.
Where the kernel said "pass" and this says "fail", the kernel's verdict was tampered
with (a patched comparison, a swallowed exception, a replaced check).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import registry
from .cases import public_cases, trusted_hidden_expected
from .compare import compare_outputs
from .record import Record, read


@dataclass(frozen=True)
class Verdict:
    function: str
    kind: str
    seed: int
    index: int
    passed: bool
    kernel_passed: bool
    message: str | None

    @property
    def tampered(self) -> bool:
        return self.kernel_passed and not self.passed


def rescore(records: list[Record]) -> list[Verdict]:
    verdicts = []
    cache: dict[tuple[str, str, int], list] = {}  # (function, kind, seed) -> expected outputs per case
    for rec in records:
        spec = registry.get(rec.function)
        key = (rec.function, rec.kind, rec.seed)
        if key not in cache:
            if rec.kind == "public":
                cache[key] = [c.expected for c in public_cases(rec.function)]
            else:  # recomputed with PyTorch here, never read from the sandbox's file
                cache[key] = [list(e) for e in trusted_hidden_expected(rec.function, rec.seed)]
        if not 0 <= rec.index < len(cache[key]):
            verdicts.append(Verdict(rec.function, rec.kind, rec.seed, rec.index, False, rec.kernel_passed,
                                    f"recorded a case that does not exist (index {rec.index})"))
            continue
        expected = cache[key][rec.index]
        if rec.outputs is None:
            passed, message = False, f"raised {rec.error}"
        else:
            actual = rec.outputs if len(spec.outputs) > 1 else rec.outputs[0]
            if len(spec.outputs) == 1 and actual is not None and actual.ndim == 0 and actual.dtype.kind in "iu":
                actual = int(actual)
            mismatch = compare_outputs(spec.outputs, expected, actual, reveal=rec.kind == "public",
                                       atol=spec.atol, rtol=spec.rtol)
            passed, message = mismatch is None, (mismatch.message if mismatch else None)
        verdicts.append(Verdict(rec.function, rec.kind, rec.seed, rec.index, passed, rec.kernel_passed, message))
    return verdicts


def rescore_dir(folder: Path) -> list[Verdict]:
    return rescore(read(folder))
