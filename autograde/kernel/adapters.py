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


# Chapter 5. PyTorch's parameter names of nn.RNN(num_layers=2, bidirectional=True), in
# the order named_parameters() lists them.
BIRNN_NAMES = tuple(f"{kind}_l{layer}{suffix}" for layer in (0, 1) for suffix in ("", "_reverse")
                    for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))


def birnn_call(inputs):
    """(X, h_0, weights): the weights as one dict keyed by PyTorch's parameter names."""
    return inputs["X"], inputs["h_0"], {name: inputs[name] for name in BIRNN_NAMES}


def _shape_array(value, what, may_be_none):
    if value is None:
        if may_be_none:
            return np.zeros(0, dtype=np.int64)
        raise TypeError(f"{what} is None; it should be a tuple of ints")
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu" and value.ndim == 1:
        value = tuple(value.tolist())
    if not isinstance(value, (tuple, list)) or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in value):
        raise TypeError(f"{what} should be a tuple of ints, got {value!r}")
    if len(value) == 0:
        raise ValueError(f"{what} is an empty tuple; return None where the module returns no tensor")
    return np.asarray([int(v) for v in value], dtype=np.int64)


def shapes_as_arrays(result):
    """(output_shape, h_n_shape, c_n_shape or None) -> three integer arrays, None as an
    empty one (so 'c_n_shape is []' below means None)."""
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        what = f"a {type(result).__name__} of length {len(result)}" if isinstance(result, (tuple, list)) \
            else f"a {type(result).__name__}"
        raise TypeError(f"rnn_output_shapes should return a triple (output_shape, h_n_shape, "
                        f"c_n_shape), got {what}")
    output, h_n, c_n = result
    return (_shape_array(output, "output_shape", False), _shape_array(h_n, "h_n_shape", False),
            _shape_array(c_n, "c_n_shape", True))
