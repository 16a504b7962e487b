"""How the student's function is called, and its answer read, where a case file cannot
hold the arguments (a function to differentiate, a list of arrays) or the answer is not
a flat tuple. These run in the student's kernel: numpy only, no reference.

A chapter names them in its `GradedFunction(prepare=..., unpack=...)`.
"""
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


_GATES = ("i", "f", "g", "o")


def lstm_gates_flatten(result):
    """unpack_lstm_weights returns {gate: (W_i, W_h, b_i, b_h)} for the gates i, f, g, o;
    compared as 16 arrays, gate by gate in that order."""
    if not isinstance(result, dict):
        raise TypeError(f"unpack_lstm_weights should return a dict with the keys 'i', 'f', 'g', 'o', "
                        f"got a {type(result).__name__}")
    if set(result) != set(_GATES):
        raise ValueError(f"the dict should have exactly the keys 'i', 'f', 'g', 'o', got {sorted(map(str, result))}")
    flat = []
    for gate in _GATES:
        blocks = result[gate]
        if not isinstance(blocks, (tuple, list)) or len(blocks) != 4:
            what = f"a {type(blocks).__name__} of length {len(blocks)}" if isinstance(blocks, (tuple, list)) \
                else f"a {type(blocks).__name__}"
            raise ValueError(f"gates[{gate!r}] should be a tuple (W_i{gate}, W_h{gate}, b_i{gate}, b_h{gate}), "
                             f"got {what}")
        flat.extend(blocks)
    return tuple(flat)


def lstm_backward_args(inputs):
    """lstm_cell_backward(dh_t, dc_t, cache): the cache is the dict of what the forward
    step keeps (no biases: given the gates, the gradients do not depend on them)."""
    keys = ("x_t", "h_prev", "c_prev", "i", "f", "g", "o", "c_t", "W_ih", "W_hh")
    return inputs["dh_t"], inputs["dc_t"], {k: inputs[k] for k in keys}
