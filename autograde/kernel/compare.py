"""Compare what a student's function returned with the reference outputs.

The comparison is a pure function of two lists of arrays, so the same code gives the
advisory verdict inside the student's kernel and the trusted verdict outside it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# float64-grade: numpy and PyTorch in float64 agree to about 1e-15 relative here, while
# float32 arithmetic anywhere inside a function (even with a float64 result) is off by
# about 1e-7 relative, so it fails every case, under every hidden seed, never by luck.
ATOL = 1e-10
RTOL = 1e-9


@dataclass(frozen=True)
class Mismatch:
    """Why one output of one case is wrong. `message` is written for the student."""

    output: str
    message: str
    max_abs_error: float | None = None
    first_index: tuple[int, ...] | None = None
    kind: str = "value"  # "value", "shape", "type" or "dtype": what is wrong


def _fmt_index(index: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(i) for i in index) + ")" if index else "()"


def _num(x: float, digits: int) -> str:
    """`x` with `digits` significant digits; an exact zero is 0."""
    return "0" if x == 0 else f"{x:.{digits}g}"


def format_pair(expected: float, got: float) -> tuple[str, str]:
    """The two values with the fewest significant digits (6, 10 or all 17) that tell
    them apart, so that a printed pair never reads "expected -2.39906, got -2.39906"."""
    expected, got = float(expected), float(got)
    for digits in (6, 10, 17):
        a, b = _num(expected, digits), _num(got, digits)
        if a != b:
            return a, b
    return a, b


def narrow_float(value) -> np.dtype | None:
    """The dtype of `value` if it is a float type narrower than float64 (float32,
    float16): the exercises promise float64 everywhere."""
    dtype = getattr(value, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype.itemsize < 8:
        return dtype
    return None


def as_float64(actual):
    """`actual` with every narrow float output (float32, float16) widened to float64, so
    that a float32 result can still be diagnosed as the known mistake its values show."""
    if isinstance(actual, (tuple, list)):
        return type(actual)(as_float64(a) for a in actual)
    return np.asarray(actual, dtype=np.float64) if narrow_float(actual) is not None else actual


def float32_valued(got: np.ndarray) -> bool:
    """Every value of `got` is a float32 number (stored as float64): the sign of a
    computation done in float32 and cast back."""
    finite = got[np.isfinite(got)]
    if finite.size == 0 or np.all(finite == np.round(finite)):
        return False  # integers are float32 numbers too; they prove nothing
    return bool(np.all(finite.astype(np.float32).astype(np.float64) == finite))


FLOAT64_RULE = ("the exercises promise float64 throughout (inputs, computation and "
                "outputs): look for astype(np.float32), dtype=np.float32 or np.float32(...)")


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
                                      f"of type {type(actual).__name__}", kind="type")
        if not np.array_equal(np.asarray(actual), expected):
            want = f"; expected {expected.tolist()!r}" if reveal else " and differs from the reference"
            return Mismatch(name, f"{name} is {np.asarray(actual).tolist()!r}{want}",
                            max_abs_error=float(np.max(np.abs(np.asarray(actual, dtype=float) - expected))))
        return None
    try:
        got = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return Mismatch(name, f"{name} should be a numpy array of shape {expected.shape}, "
                              f"got {type(actual).__name__}", kind="type")
    if got.shape != expected.shape:
        return Mismatch(name, f"{name} has shape {got.shape}; expected shape {expected.shape}", kind="shape")
    narrow = narrow_float(actual) if expected.dtype.kind == "f" else None
    if not np.all(np.isfinite(got)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        return Mismatch(name, f"{name} contains a non-finite value ({got[bad]}) at index {_fmt_index(bad)}",
                        first_index=bad)
    err = np.abs(got - expected)
    bad_mask = err > atol + rtol * np.abs(expected)
    max_err = float(err.max()) if err.size else 0.0
    if narrow is not None:
        close = not bad_mask.any() or bool(np.all(err <= 1e-6 + 1e-5 * np.abs(expected)))
        values = "its values agree with the reference to float32 precision" if close else \
            f"its values differ from the reference by up to {max_err:.3g}"
        return Mismatch(name, f"{name} is {narrow.name}, not float64 ({values}): {FLOAT64_RULE}",
                        max_abs_error=max_err, kind="dtype")
    if not bad_mask.any():
        return None
    first = tuple(int(i) for i in np.argwhere(bad_mask)[0])
    if reveal:
        want, have = format_pair(expected[first], got[first])
        values = f": expected {want}, got {have}"
    else:
        values = ""
    hint = ""
    if float32_valued(got):
        hint = (f". Every value of {name} is a float32 number stored as float64, so part of the "
                f"computation ran in float32: {FLOAT64_RULE}")
    elif float(np.max(err / np.maximum(np.abs(expected), 1e-3))) <= 1e-5:
        hint = (f". Errors this small (at most 1e-5 of the values) are what float32 arithmetic "
                f"leaves, here or in a function this one calls: {FLOAT64_RULE}")
    return Mismatch(
        name,
        f"{name} differs from the reference: max abs error {max_err:.3g}; first differing index "
        f"{_fmt_index(first)}{values}{hint}",
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
            return Mismatch("return value", f"should return a tuple ({', '.join(output_names)}), got {what}",
                            kind="type")
    for name, exp, act in zip(output_names, expected, actual):
        mismatch = compare_output(name, exp, act, reveal=reveal, atol=atol, rtol=rtol)
        if mismatch is not None:
            return mismatch
    return None
