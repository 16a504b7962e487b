"""PyTorch pieces the chapters' references share: tensors in float64, an `nn.RNN`
holding given weights, and the random weights the cases are made with."""
from __future__ import annotations

import numpy as np


def tensor(value):
    """A float64 tensor of `value` (PyTorch is imported only when a reference runs)."""
    import torch

    return torch.from_numpy(np.asarray(value, dtype=np.float64))


def with_weights(kind: str, W_ih, W_hh, b_ih, b_hh):
    """A one-layer float64 `nn.RNN`, `nn.LSTM` or `nn.GRU` (`kind`) whose parameters are
    exactly these (packed) arrays: W_ih is (gates * H, D)."""
    import torch

    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[kind]
    H, D = W_ih.shape[0] // gates, W_ih.shape[1]
    module = getattr(torch.nn, kind)(D, H, dtype=torch.float64)
    with torch.no_grad():
        for name, value in {"weight_ih_l0": W_ih, "weight_hh_l0": W_hh,
                            "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}.items():
            getattr(module, name).copy_(tensor(value))
    return module


def rnn_with_weights(W_ih, W_hh, b_ih, b_hh):
    """A one-layer float64 `nn.RNN` whose parameters are exactly these arrays."""
    return with_weights("RNN", W_ih, W_hh, b_ih, b_hh)


def rnn_weights(rng: np.random.Generator, D: int, H: int, w_hh: float) -> dict[str, np.ndarray]:
    """Random RNN weights, W_hh's entries in (-w_hh, w_hh); larger than PyTorch's default
    initialisation, so that tanh is far from linear and every mistake shows."""
    return {
        "W_ih": rng.uniform(-0.8, 0.8, (H, D)),
        "W_hh": rng.uniform(-w_hh, w_hh, (H, H)),
        "b_ih": rng.uniform(-0.5, 0.5, H),
        "b_hh": rng.uniform(-0.5, 0.5, H),
    }


# Shapes (T, B, D, H) of the first cases of the sequence chapters (3, 4, 5): all sizes
# differ (and 3H, 4H differ from D and H), so a transposed weight or a swapped axis is
# caught by shape; a single-step and a single-example case follow.
FIRST_SHAPES = [(5, 3, 4, 6), (1, 2, 3, 5), (7, 1, 2, 3)]


def sequence_shape(rng: np.random.Generator, index: int, max_T: int = 7) -> tuple[int, int, int, int]:
    """(T, B, D, H) of case `index`: the fixed first shapes, then random ones with at least
    two steps and two hidden units, so that every mistake in the recursion over time or in
    the order of the gates changes the result."""
    if index < len(FIRST_SHAPES):
        return FIRST_SHAPES[index]
    T, B, D, H = (int(v) for v in rng.integers([2, 1, 1, 2], [max_T + 1, 5, 6, 7]))
    return T, B, D, H


def packed_weights(rng: np.random.Generator, D: int, H: int, blocks: int,
                   w_hh: float, b: float) -> dict[str, np.ndarray]:
    """Random packed weights of `blocks` gate blocks (W_ih (blocks*H, D), ...), larger than
    PyTorch's default initialisation, so that the gates are far from 1/2 and tanh far from
    linear, and every mistake shows."""
    return {
        "W_ih": rng.uniform(-0.8, 0.8, (blocks * H, D)),
        "W_hh": rng.uniform(-w_hh, w_hh, (blocks * H, H)),
        "b_ih": rng.uniform(-b, b, blocks * H),
        "b_hh": rng.uniform(-b, b, blocks * H),
    }
