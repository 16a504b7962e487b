"""Chapter 8's adapters: cross-entropy's overflow told by its pattern, and sampling
graded over many draws."""
from __future__ import annotations

import numpy as np


def cross_entropy_overflow(inputs, actual):
    """The mistake a non-finite cross-entropy shows by its pattern, where no output can be
    compared (nan and inf match nothing): a non-finite gradient means the softmax itself
    overflowed ('no-max-shift'); a finite gradient beside a non-finite loss means the log
    was taken of a probability that underflowed to 0 ('log-of-probabilities')."""
    try:
        loss, dlogits = (np.asarray(a, dtype=np.float64) for a in actual)
    except (TypeError, ValueError):
        return None
    if not np.all(np.isfinite(dlogits)):
        return "no-max-shift"
    if not np.all(np.isfinite(loss)):
        return "log-of-probabilities"
    return None


def sample_draws(sample_next, inputs):
    """Call `sample_next(logits, temperature, top_k, u)` once per draw u of the case (the
    same logits every time, as a generation loop would) and return the indices it chose,
    as an int64 array: a sampler is graded exactly, draw by draw."""
    logits = inputs["logits"]
    name = getattr(sample_next, "__name__", "the sampling function")
    chosen = []
    for u in np.asarray(inputs["u"], dtype=np.float64):
        index = sample_next(logits, inputs["temperature"], inputs["top_k"], float(u))
        if isinstance(index, np.ndarray) and index.ndim == 0:
            index = index[()]
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"{name} should return one index, an int, got {index!r} "
                            f"of type {type(index).__name__}")
        chosen.append(int(index))
    return np.asarray(chosen, dtype=np.int64)
