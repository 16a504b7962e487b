"""Chapter 1, RNN basics: the graded functions, their inputs and their PyTorch references.

References are what PyTorch computes with the very same weights, in float64:
`nn.RNN` for the cell, the sequence and the many-to-one model, `nn.functional.linear`
for the Jordan step, and the parameters of a real `nn.RNN` for the parameter count.
"""
from __future__ import annotations

import numpy as np

from .registry import GradedFunction, register

ASSIGNMENT = "01-rnn-basics"

# Shapes of the first cases (T, B, D, H, O): all sizes differ, so a transposed weight
# or a swapped axis is caught by shape; single-step and single-example cases follow.
_SHAPES = [(5, 3, 4, 6, 2), (1, 2, 3, 5, 3), (7, 1, 2, 3, 4)]


def _shape(rng: np.random.Generator, index: int) -> tuple[int, int, int, int, int]:
    if index < len(_SHAPES):
        return _SHAPES[index]
    T, B, D, H, O = (int(v) for v in rng.integers([1, 1, 1, 1, 1], [9, 5, 6, 8, 5]))
    return T, B, D, H, O


def _weights(rng: np.random.Generator, D: int, H: int) -> dict[str, np.ndarray]:
    # Larger than PyTorch's default init so that tanh is far from linear and every
    # mistake changes the output by much more than the tolerance.
    return {
        "W_ih": rng.uniform(-0.8, 0.8, (H, D)),
        "W_hh": rng.uniform(-0.8, 0.8, (H, H)),
        "b_ih": rng.uniform(-0.5, 0.5, H),
        "b_hh": rng.uniform(-0.5, 0.5, H),
    }


def _torch_rnn(W_ih, W_hh, b_ih, b_hh):
    import torch

    H, D = W_ih.shape
    rnn = torch.nn.RNN(D, H, dtype=torch.float64)
    with torch.no_grad():
        for name, value in {"weight_ih_l0": W_ih, "weight_hh_l0": W_hh,
                            "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}.items():
            getattr(rnn, name).copy_(torch.from_numpy(np.asarray(value, dtype=np.float64)))
    return rnn


def _run_rnn(X, h_0, W_ih, W_hh, b_ih, b_hh):
    import torch

    rnn = _torch_rnn(W_ih, W_hh, b_ih, b_hh)
    with torch.no_grad():
        output, h_n = rnn(torch.from_numpy(X), torch.from_numpy(h_0)[None])
    return output.numpy(), h_n[0].numpy()


# --- rnn_cell -------------------------------------------------------------------------

def _cell_inputs(rng, index):
    T, B, D, H, _ = _shape(rng, index)
    return {"x_t": rng.normal(size=(B, D)), "h_prev": rng.uniform(-1, 1, (B, H)), **_weights(rng, D, H)}


def _cell_reference(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    _, h_n = _run_rnn(x_t[None], h_prev, W_ih, W_hh, b_ih, b_hh)
    return (h_n,)


register(GradedFunction(
    name="rnn_cell", assignment=ASSIGNMENT,
    inputs=("x_t", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh"), outputs=("h_t",),
    make_inputs=_cell_inputs, reference=_cell_reference, matches="nn.RNN (one time step)",
))


# --- rnn_forward ----------------------------------------------------------------------

def _sequence(rng, T, B, D, H):
    return {"X": rng.normal(size=(T, B, D)), "h_0": rng.uniform(-1, 1, (B, H)), **_weights(rng, D, H)}


def _forward_inputs(rng, index):
    T, B, D, H, _ = _shape(rng, index)
    return _sequence(rng, T, B, D, H)


register(GradedFunction(
    name="rnn_forward", assignment=ASSIGNMENT,
    inputs=("X", "h_0", "W_ih", "W_hh", "b_ih", "b_hh"), outputs=("output", "h_n"),
    make_inputs=_forward_inputs, reference=_run_rnn, matches="nn.RNN",
))


# --- jordan_step ----------------------------------------------------------------------

def _jordan_inputs(rng, index):
    _, B, D, H, O = _shape(rng, index)
    return {
        "x_t": rng.normal(size=(B, D)),
        "y_prev": rng.normal(size=(B, O)),
        "W_ih": rng.uniform(-0.8, 0.8, (H, D)),
        "W_yh": rng.uniform(-0.8, 0.8, (H, O)),
        "b_h": rng.uniform(-0.5, 0.5, H),
        "W_hy": rng.uniform(-0.8, 0.8, (O, H)),
        "b_y": rng.uniform(-0.5, 0.5, O),
    }


def _jordan_reference(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y):
    import torch
    from torch.nn.functional import linear

    args = {"x_t": x_t, "y_prev": y_prev, "W_ih": W_ih, "W_yh": W_yh, "b_h": b_h, "W_hy": W_hy, "b_y": b_y}
    t = {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in args.items()}
    h_t = torch.tanh(linear(t["x_t"], t["W_ih"]) + linear(t["y_prev"], t["W_yh"], t["b_h"]))
    y_t = linear(h_t, t["W_hy"], t["b_y"])
    return h_t.numpy(), y_t.numpy()


register(GradedFunction(
    name="jordan_step", assignment=ASSIGNMENT,
    inputs=("x_t", "y_prev", "W_ih", "W_yh", "b_h", "W_hy", "b_y"), outputs=("h_t", "y_t"),
    make_inputs=_jordan_inputs, reference=_jordan_reference, matches="torch.nn.functional.linear and tanh",
))


# --- many_to_one ----------------------------------------------------------------------

def _many_to_one_inputs(rng, index):
    T, B, D, H, O = _shape(rng, index)
    return {**_sequence(rng, T, B, D, H),
            "W_hy": rng.uniform(-0.8, 0.8, (O, H)), "b_y": rng.uniform(-0.5, 0.5, O)}


def _many_to_one_reference(X, h_0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y):
    import torch

    _, h_n = _run_rnn(X, h_0, W_ih, W_hh, b_ih, b_hh)
    head = torch.nn.Linear(W_hy.shape[1], W_hy.shape[0], dtype=torch.float64)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(W_hy))
        head.bias.copy_(torch.from_numpy(b_y))
        return (head(torch.from_numpy(h_n)).numpy(),)


register(GradedFunction(
    name="many_to_one", assignment=ASSIGNMENT,
    inputs=("X", "h_0", "W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y"), outputs=("y",),
    make_inputs=_many_to_one_inputs, reference=_many_to_one_reference, matches="nn.RNN followed by nn.Linear",
))


# --- rnn_param_count ------------------------------------------------------------------

_COUNT_CASES = [
    {"input_size": 16, "hidden_size": 64, "num_layers": 2, "bidirectional": False, "bias": True},
    {"input_size": 16, "hidden_size": 64, "num_layers": 2, "bidirectional": True, "bias": True},
    {"input_size": 3, "hidden_size": 5, "num_layers": 1, "bidirectional": False, "bias": False},
]


def _count_inputs(rng, index):
    if index < len(_COUNT_CASES):
        return dict(_COUNT_CASES[index])
    return {
        "input_size": int(rng.integers(1, 40)),
        "hidden_size": int(rng.integers(1, 40)),
        "num_layers": int(rng.integers(1, 5)),
        "bidirectional": bool(index % 2),
        "bias": bool(index % 3 != 2),
    }


def _count_reference(input_size, hidden_size, num_layers, bidirectional, bias):
    import torch

    rnn = torch.nn.RNN(input_size, hidden_size, num_layers=num_layers,
                       bidirectional=bidirectional, bias=bias)
    return (sum(p.numel() for p in rnn.parameters()),)


register(GradedFunction(
    name="rnn_param_count", assignment=ASSIGNMENT,
    inputs=("input_size", "hidden_size", "num_layers", "bidirectional", "bias"), outputs=("count",),
    make_inputs=_count_inputs, reference=_count_reference, matches="the parameters of nn.RNN",
    n_hidden=6,
))
