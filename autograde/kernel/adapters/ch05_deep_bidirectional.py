"""Chapter 5's adapters: stacked_birnn_forward called with its weights as one dict, and
rnn_output_shapes' answer (shapes, None for no c_n) read as integer arrays."""
from __future__ import annotations

import numpy as np


# PyTorch's parameter names of nn.RNN(num_layers=2, bidirectional=True), in
# the order named_parameters() lists them.
_RNN_PARAMETERS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
BIRNN_NAMES = tuple(f"{parameter}_l{layer}{suffix}" for layer in (0, 1)
                    for suffix in ("", "_reverse") for parameter in _RNN_PARAMETERS)


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
