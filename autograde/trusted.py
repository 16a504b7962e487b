"""The trusted verdict: compare recorded outputs with references computed here.

This runs in a process the student's code never touches. It reads what the checks
recorded (see `autograde.record`), rebuilds each case from (function, seed, index),
computes the reference with PyTorch (or reads the shipped public case), and compares.
Where the kernel said "pass" and this says "fail", the kernel's verdict was tampered
with (a patched comparison, a swallowed exception, a replaced check).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from . import registry
from .cases import public_cases, trusted_hidden
from .mistakes import diagnose
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
    diagnosis: str | None = None  # the key of the known mistake the student's outputs match

    @property
    def tampered(self) -> bool:
        return self.kernel_passed and not self.passed


def _group(function: str, kind: str, seed: int) -> list[tuple[list, dict]]:
    """(expected, mistakes' outputs) per case, from the package's public file or, for
    hidden cases, recomputed with PyTorch here (never read from the sandbox)."""
    if kind == "public":
        return [(c.expected, c.mistakes or {}) for c in public_cases(function)]
    return [(list(e), m) for e, m in trusted_hidden(function, seed)]


def rescore(records: list[Record]) -> list[Verdict]:
    verdicts: list[Verdict] = []
    groups: dict[tuple[str, str, int], list] = {}
    failing: dict[tuple[str, str, int], list] = {}
    for rec in records:
        spec = registry.get(rec.function)
        key = (rec.function, rec.kind, rec.seed)
        if key not in groups:
            groups[key] = _group(*key)
        if not 0 <= rec.index < len(groups[key]):
            verdicts.append(Verdict(rec.function, rec.kind, rec.seed, rec.index, False, rec.kernel_passed,
                                    f"recorded a case that does not exist (index {rec.index})"))
            continue
        expected, mistake_outputs = groups[key][rec.index]
        if rec.outputs is None:
            passed, message = False, f"raised {rec.error}"
        else:
            actual = rec.outputs if len(spec.outputs) > 1 else rec.outputs[0]
            if len(spec.outputs) == 1 and actual is not None and actual.ndim == 0 and actual.dtype.kind in "iu":
                actual = int(actual)
            mismatch = compare_outputs(spec.outputs, expected, actual, reveal=rec.kind == "public",
                                       atol=spec.atol, rtol=spec.rtol)
            passed, message = mismatch is None, (mismatch.message if mismatch else None)
            if not passed:
                failing.setdefault(key, []).append((mistake_outputs, actual))
        verdicts.append(Verdict(rec.function, rec.kind, rec.seed, rec.index, passed, rec.kernel_passed, message))
    found = {key: diagnose(registry.get(key[0]), cases) for key, cases in failing.items()}
    return [replace(v, diagnosis=found[(v.function, v.kind, v.seed)].key)
            if not v.passed and found.get((v.function, v.kind, v.seed)) else v for v in verdicts]
def rescore_dir(folder: Path) -> list[Verdict]:
    return rescore(read(folder))
