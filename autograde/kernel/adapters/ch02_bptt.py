"""Chapter 2's adapters: numerical_gradient is called with a function to differentiate
(the loss of a small tanh layer, made here from the stored case), clip_grad_norm with a
list of arrays, and its answer (clipped_grads, total_norm) read as four outputs."""
from __future__ import annotations

import numpy as np


def numgrad_loss_and_point(inputs):
    P, W, b, V, Y = (np.asarray(inputs[k], dtype=np.float64) for k in ("P", "W", "b", "V", "Y"))

    def loss(W_, b_):
        return float(np.sum((np.tanh(P @ W_.T + b_) @ V - Y) ** 2))

    if inputs["wrt"] == 0:
        return (lambda W_: loss(W_, b)), W.copy()
    return (lambda b_: loss(W, b_)), b.copy()


def clip_grads_list(inputs):
    return [inputs["g_ih"], inputs["g_hh"], inputs["g_b"]], inputs["max_norm"]


def clip_flatten(result):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        what = f"a {type(result).__name__} of length {len(result)}" if isinstance(result, (tuple, list)) \
            else f"a {type(result).__name__}"
        raise TypeError(f"clip_grad_norm should return a pair (clipped_grads, total_norm), got {what}")
    clipped, total_norm = result
    if not isinstance(clipped, (tuple, list)) or len(clipped) != 3:
        what = f"a {type(clipped).__name__} of length {len(clipped)}" if isinstance(clipped, (tuple, list)) \
            else f"a {type(clipped).__name__}"
        raise ValueError(f"clipped_grads should be a list of 3 arrays, one per gradient in grads, got {what}")
    return (*clipped, total_norm)
