"""Compare what a student's function returned with the reference outputs.

The comparison is a pure function of two lists of arrays, so the same code gives the
advisory verdict inside the student's kernel and the trusted verdict outside it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ATOL = 1e-8
RTOL = 1e-6


@dataclass(frozen=True)
class Mismatch:
    """Why one output of one case is wrong. `message` is written for the student."""

    output: str
    message: str
    max_abs_error: float | None = None
    first_index: tuple[int, ...] | None = None


def _fmt_index(index: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(i) for i in index) + ")" if index else "()"


def compare_output(name: str, expected, actual, reveal: bool = True,
                   atol: float = ATOL, rtol: float = RTOL) -> Mismatch | None:
    """Return None when `actual` matches `expected`, else the first reason it does not.

    With `reveal=False` (hidden cases) the message gives no reference value: only the
    shape, the max abs error and the first differing index."""
    expected = np.asarray(expected)
    if expected.dtype.kind in "iub":
        if isinstance(actual, (bool, np.bool_)) or not isinstance(actual, (int, np.integer)):
            if not (isinstance(actual, np.ndarray) and actual.dtype.kind in "iu" and actual.shape == expected.shape):
                want = f" {expected.tolist()!r}" if reveal else ""
                return Mismatch(name, f"{name} should be an integer{want}, got {actual!r} "
                                      f"of type {type(actual).__name__}")
        if not np.array_equal(np.asarray(actual), expected):
            want = f"; expected {expected.tolist()!r}" if reveal else " and differs from the reference"
            return Mismatch(name, f"{name} is {np.asarray(actual).tolist()!r}{want}",
                            max_abs_error=float(np.max(np.abs(np.asarray(actual, dtype=float) - expected))))
        return None
    try:
        got = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return Mismatch(name, f"{name} should be a numpy array of shape {expected.shape}, "
                              f"got {type(actual).__name__}")
    if got.shape != expected.shape:
        return Mismatch(name, f"{name} has shape {got.shape}; expected shape {expected.shape}")
    if not np.all(np.isfinite(got)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        return Mismatch(name, f"{name} contains a non-finite value ({got[bad]}) at index {_fmt_index(bad)}",
                        first_index=bad)
    err = np.abs(got - expected)
    bad_mask = err > atol + rtol * np.abs(expected)
    if not bad_mask.any():
        return None
    first = tuple(int(i) for i in np.argwhere(bad_mask)[0])
    max_err = float(err.max())
    values = f": expected {expected[first]:.6g}, got {got[first]:.6g}" if reveal else ""
    return Mismatch(
        name,
        f"{name} differs from the reference: max abs error {max_err:.3g}; first differing index "
        f"{_fmt_index(first)}{values}",
        max_abs_error=max_err,
        first_index=first,
    )


def compare_outputs(output_names: tuple[str, ...], expected: list, actual, reveal: bool = True,
                    atol: float = ATOL, rtol: float = RTOL) -> Mismatch | None:
    """Compare a function's whole return value (one value, or a tuple of them)."""
    if len(output_names) == 1:
        actual = [actual]
    else:
        if not isinstance(actual, (tuple, list)) or len(actual) != len(output_names):
            what = f"a {type(actual).__name__} of length {len(actual)}" if isinstance(actual, (tuple, list)) \
                else f"a {type(actual).__name__}"
            return Mismatch("return value", f"should return a tuple ({', '.join(output_names)}), got {what}")
    for name, exp, act in zip(output_names, expected, actual):
        mismatch = compare_output(name, exp, act, reveal=reveal, atol=atol, rtol=rtol)
        if mismatch is not None:
            return mismatch
    return None
