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
    if SHAPE_KINDS[(index - len(FIRST_SHAPES)) % 2] == GENERAL:
        return distinct_sizes(rng, [2, 2, 2, 2], [max_T + 1, 5, 6, 7])
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


# --- the kinds of case (see GradedFunction.kinds) ------------------------------------
# A hidden case of kind GENERAL has every size at least 2 and all sizes different, so a
# transposed weight, a swapped or summed axis, a state not carried over time or a
# batch-averaged gradient changes its result; hidden cases alternate GENERAL with
# freely drawn sizes (which may be edges: one step, one example), GENERAL first.
GENERAL = "general"
SHAPE_KINDS = (GENERAL, "any")


def distinct_sizes(rng: np.random.Generator, low, high) -> tuple[int, ...]:
    """Sizes drawn in [max(low, 2), high) each, pairwise different."""
    low = np.maximum(np.asarray(low), 2)
    for _ in range(10_000):
        sizes = [int(v) for v in rng.integers(low, high)]
        if len(set(sizes)) == len(sizes):
            return tuple(sizes)
    raise ValueError(f"no {len(sizes)} different sizes in [{low}, {high})")


def sequence_sizes(inputs: dict) -> dict[str, int]:
    """The sizes (T, B, D, H and O or Q where present) of a case, read from its arrays by
    the course's names."""
    s: dict[str, int] = {}
    for name, dims in (("X", "TBD"), ("X_chunk", "TBD"), ("x_t", "BD"), ("h_prev", "BH"),
                       ("h_carry", "BH"), ("dh_t", "BH"), ("y_prev", "BO"), ("W_hy", "OH"),
                       ("Y_chunk", "TBO"), ("W_q", "Q"), ("W_hh", "_H"), ("W_ih", "_D"),
                       ("weight_ih_l0", "_D"), ("weight_hh_l0", "_H")):
        if name in inputs:
            for dim, size in zip(dims, np.shape(inputs[name])):
                if dim != "_":
                    s[dim] = int(size)
    if "h_0" in inputs:
        s["B"], s["H"] = np.shape(inputs["h_0"])[-2:]
    return s


def shape_kind_of(inputs: dict) -> set[str]:
    """{GENERAL} if every size of the case is at least 2 and all differ, else {}."""
    sizes = list(sequence_sizes(inputs).values())
    return {GENERAL} if min(sizes) >= 2 and len(set(sizes)) == len(sizes) else set()
