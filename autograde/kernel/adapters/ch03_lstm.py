"""Chapter 3's adapters: unpack_lstm_weights' dict of gates read as 16 arrays, and
lstm_cell_backward called with the forward step's cache as a dict."""
from __future__ import annotations

import numpy as np


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
