"""Chapter 1, RNN basics: the graded functions, their inputs and their PyTorch references.

References are what PyTorch computes with the very same weights, in float64:
`nn.RNN` for the cell, the sequence and the many-to-one model, `nn.functional.linear`
for the Jordan step, and the parameters of a real `nn.RNN` for the parameter count.
"""
from __future__ import annotations

import numpy as np

from .registry import Chapter, hidden_kind, mistake
from .torchref import GENERAL, SHAPE_KINDS, distinct_sizes, shape_kind_of
from .torchref import rnn_with_weights, rnn_weights
from .torchref import tensor as _torch

CHAPTER = Chapter("01-rnn-basics")

# Shapes of the first cases (T, B, D, H, O): all sizes differ, so a transposed weight
# or a swapped axis is caught by shape; single-step and single-example cases follow.
_SHAPES = [(5, 3, 4, 6, 2), (1, 2, 3, 5, 3), (7, 1, 2, 3, 4)]


def _shape(rng: np.random.Generator, index: int) -> tuple[int, int, int, int, int]:
    if index < len(_SHAPES):
        return _SHAPES[index]
    if hidden_kind(SHAPE_KINDS, index, len(_SHAPES)) == GENERAL:
        return distinct_sizes(rng, [2, 2, 2, 2, 2], [9, 5, 6, 8, 5])
    T, B, D, H, O = (int(v) for v in rng.integers([1, 1, 1, 1, 1], [9, 5, 6, 8, 5]))
    return T, B, D, H, O


def _weights(rng: np.random.Generator, D: int, H: int) -> dict[str, np.ndarray]:
    return rnn_weights(rng, D, H, w_hh=0.8)


def _run_rnn(X, h_0, W_ih, W_hh, b_ih, b_hh):
    import torch

    rnn = rnn_with_weights(W_ih, W_hh, b_ih, b_hh)
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


CHAPTER.graded(
    name="rnn_cell",
    kinds=(GENERAL,), kind_of=shape_kind_of,
    inputs=("x_t", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh"), outputs=("h_t",),
    make_inputs=_cell_inputs, reference=_cell_reference, matches="nn.RNN (one time step)",
)


# --- rnn_forward ----------------------------------------------------------------------

def _sequence(rng, T, B, D, H):
    return {"X": rng.normal(size=(T, B, D)), "h_0": rng.uniform(-1, 1, (B, H)), **_weights(rng, D, H)}


def _forward_inputs(rng, index):
    T, B, D, H, _ = _shape(rng, index)
    return _sequence(rng, T, B, D, H)


CHAPTER.graded(
    name="rnn_forward",
    kinds=(GENERAL,), kind_of=shape_kind_of,
    inputs=("X", "h_0", "W_ih", "W_hh", "b_ih", "b_hh"), outputs=("output", "h_n"),
    make_inputs=_forward_inputs, reference=_run_rnn, matches="nn.RNN",
    uses=("rnn_cell",),
)


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


CHAPTER.graded(
    name="jordan_step",
    kinds=(GENERAL,), kind_of=shape_kind_of,
    inputs=("x_t", "y_prev", "W_ih", "W_yh", "b_h", "W_hy", "b_y"), outputs=("h_t", "y_t"),
    make_inputs=_jordan_inputs, reference=_jordan_reference, matches="torch.nn.functional.linear and tanh",
)


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


CHAPTER.graded(
    name="many_to_one",
    kinds=(GENERAL,), kind_of=shape_kind_of,
    inputs=("X", "h_0", "W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y"), outputs=("y",),
    make_inputs=_many_to_one_inputs, reference=_many_to_one_reference, matches="nn.RNN followed by nn.Linear",
    uses=("rnn_forward",),
)


# --- rnn_param_count ------------------------------------------------------------------

_COUNT_CASES = [
    {"input_size": 16, "hidden_size": 64, "num_layers": 2, "bidirectional": False, "bias": True},
    {"input_size": 16, "hidden_size": 64, "num_layers": 2, "bidirectional": True, "bias": True},
    {"input_size": 3, "hidden_size": 5, "num_layers": 1, "bidirectional": False, "bias": False},
]


# Hidden cases: every combination of (several layers?, bidirectional, bias), one each,
# sizes drawn (input_size != hidden_size, so a layer reading the wrong width shows).
_COUNT_KINDS = tuple((deep, bidirectional, bias) for deep in (True, False)
                     for bidirectional in (True, False) for bias in (True, False))


def _count_kind(case) -> tuple[bool, bool, bool]:
    return case["num_layers"] > 1, case["bidirectional"], case["bias"]


def _count_inputs(rng, index):
    if index < len(_COUNT_CASES):
        return dict(_COUNT_CASES[index])
    deep, bidirectional, bias = hidden_kind(_COUNT_KINDS, index, len(_COUNT_CASES))
    input_size, hidden_size = distinct_sizes(rng, [1, 1], [40, 40])
    return {"input_size": input_size, "hidden_size": hidden_size,
            "num_layers": int(rng.integers(2, 5)) if deep else 1,
            "bidirectional": bidirectional, "bias": bias}


def _count_reference(input_size, hidden_size, num_layers, bidirectional, bias):
    import torch

    rnn = torch.nn.RNN(input_size, hidden_size, num_layers=num_layers,
                       bidirectional=bidirectional, bias=bias)
    return (sum(p.numel() for p in rnn.parameters()),)


CHAPTER.graded(
    name="rnn_param_count",
    inputs=("input_size", "hidden_size", "num_layers", "bidirectional", "bias"), outputs=("count",),
    make_inputs=_count_inputs, reference=_count_reference, matches="the parameters of nn.RNN",
    n_hidden=len(_COUNT_KINDS), kinds=tuple(map(str, _COUNT_KINDS)),
    kind_of=lambda case: {str(_count_kind(case))} if case["input_size"] != case["hidden_size"] else set(),
)


# --- known mistakes -------------------------------------------------------------------
# Each is computed with PyTorch from the same inputs as the reference (registry.Mistake).


_CELL_EQ = "h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)"


def _pre(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    from torch.nn.functional import linear

    return linear(_torch(x_t), _torch(W_ih), _torch(b_ih)) + linear(_torch(h_prev), _torch(W_hh), _torch(b_hh))


@mistake("rnn_cell", "w_hh-untransposed", "W_hh used without its transpose", f"""
    Rows are examples, so the recurrent term is h_prev @ W_hh.T. Writing h_prev @ W_hh uses
    the transpose of W_hh: the shapes still fit because W_hh is square, so nothing fails,
    but each hidden unit reads another unit's weights. The equation is {_CELL_EQ}.""")
def _(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return _cell_reference(x_t, h_prev, W_ih, W_hh.T.copy(), b_ih, b_hh)


@mistake("rnn_cell", "b_hh-missing", "b_hh left out", f"""
    nn.RNN has two biases and adds both: b_ih with the input term and b_hh with the
    recurrent term. Look for a line that adds only one of them. The equation is {_CELL_EQ}.""")
def _(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return _cell_reference(x_t, h_prev, W_ih, W_hh, b_ih, np.zeros_like(b_hh))


@mistake("rnn_cell", "b_ih-missing", "b_ih left out", f"""
    nn.RNN has two biases and adds both: b_ih with the input term and b_hh with the
    recurrent term. Look for a line that adds only one of them. The equation is {_CELL_EQ}.""")
def _(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return _cell_reference(x_t, h_prev, W_ih, W_hh, np.zeros_like(b_ih), b_hh)


@mistake("rnn_cell", "no-tanh", "tanh left out", f"""
    The sum of the two affine terms is only the pre-activation; it must go through tanh.
    Without it the cell is linear and its state is not kept inside (-1, 1). The equation is
    {_CELL_EQ}.""")
def _(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return (_pre(x_t, h_prev, W_ih, W_hh, b_ih, b_hh).numpy(),)


@mistake("rnn_cell", "sigmoid", "sigmoid instead of tanh", f"""
    nn.RNN's nonlinearity is tanh, with values in (-1, 1). The logistic sigmoid, with values
    in (0, 1), is what the gates of an LSTM or a GRU use. The equation is {_CELL_EQ}.""")
def _(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    import torch

    return (torch.sigmoid(_pre(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)).numpy(),)


@mistake("rnn_forward", "state-not-carried", "the hidden state is not carried from step to step", """
    Each step must start from the state the step before produced, h_t = f(x_t, h_{t-1}).
    If every step starts from h_0, the network forgets everything between steps. Look
    inside your loop for a call that passes h_0 instead of the updated state, or a state
    variable that is never reassigned.""")
def _(X, h_0, W_ih, W_hh, b_ih, b_hh):
    states = [_run_rnn(X[t:t + 1], h_0, W_ih, W_hh, b_ih, b_hh)[0][0] for t in range(len(X))]
    return np.stack(states), states[-1]


@mistake("rnn_forward", "h_n-first", "the first state (output[0]) returned as h_n", """
    h_n is the hidden state after the last time step, h_T, so it equals output[-1]. Returning
    the state after the first step (output[0]) gives the right answer only when T = 1.""")
def _(X, h_0, W_ih, W_hh, b_ih, b_hh):
    output, _ = _run_rnn(X, h_0, W_ih, W_hh, b_ih, b_hh)
    return output, output[0]


@mistake("rnn_forward", "outputs-shifted", "outputs shifted by one step (h_0 stored, h_T missing)", """
    output[t] must be the state after reading x_{t+1}: output holds h_1, ..., h_T. If you
    store the state before updating it, output holds h_0, ..., h_{T-1} instead. Store the
    new state after each call of the cell.""")
def _(X, h_0, W_ih, W_hh, b_ih, b_hh):
    output, h_n = _run_rnn(X, h_0, W_ih, W_hh, b_ih, b_hh)
    return np.concatenate([h_0[None], output[:-1]]), h_n


@mistake("rnn_forward", "h_0-ignored", "h_0 ignored (the loop starts from zeros)", """
    The recurrence starts from the h_0 it is given. nn.RNN uses zeros only when h_0 is left
    out of the call; here it is passed, so the first step must read it.""")
def _(X, h_0, W_ih, W_hh, b_ih, b_hh):
    return _run_rnn(X, np.zeros_like(h_0), W_ih, W_hh, b_ih, b_hh)


_JORDAN_EQ = "h_t = tanh(x_t W_ih^T + ŷ_{t-1} W_yh^T + b_h), ŷ_t = h_t W_hy^T + b_y (y_prev holds ŷ_{t-1})"


def _jordan_parts(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y):
    from torch.nn.functional import linear

    a_t = linear(_torch(x_t), _torch(W_ih)) + linear(_torch(y_prev), _torch(W_yh), _torch(b_h))
    return a_t, (lambda h: linear(h, _torch(W_hy), _torch(b_y)))


@mistake("jordan_step", "tanh-on-output", "tanh applied to the output", f"""
    Only the hidden layer has a nonlinearity; the output layer of this Jordan network is
    linear. The equations are {_JORDAN_EQ}.""")
def _(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y):
    import torch

    a_t, head = _jordan_parts(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y)
    h_t = torch.tanh(a_t)
    return h_t.numpy(), torch.tanh(head(h_t)).numpy()


@mistake("jordan_step", "b_y-missing", "output bias b_y left out", f"""
    The output is an affine map of h_t, with its own bias b_y. The equations are {_JORDAN_EQ}.""")
def _(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y):
    return _jordan_reference(x_t, y_prev, W_ih, W_yh, b_h, W_hy, np.zeros_like(b_y))


@mistake("jordan_step", "output-from-preactivation", "output computed before tanh", f"""
    ŷ_t (returned as y_t) is computed from the hidden state h_t, after tanh. Using the pre-activation
    x_t W_ih^T + ŷ_{{t-1}} W_yh^T + b_h instead skips the nonlinearity on the way to the
    output. The equations are {_JORDAN_EQ}.""")
def _(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y):
    import torch

    a_t, head = _jordan_parts(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y)
    return torch.tanh(a_t).numpy(), head(a_t).numpy()


@mistake("jordan_step", "no-tanh", "tanh left out of the hidden layer", f"""
    The hidden layer must apply tanh to its pre-activation; without it the whole step is
    linear. The equations are {_JORDAN_EQ}.""")
def _(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y):
    a_t, head = _jordan_parts(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y)
    return a_t.numpy(), head(a_t).numpy()


def _head(h, W_hy, b_y):
    return h @ W_hy.T + b_y if b_y is not None else h @ W_hy.T


@mistake("many_to_one", "head-on-first-state", "the head reads the first state", """
    A many-to-one model predicts from the state after the whole sequence, h_T (h_n, or
    output[-1]). output[0] is the state after the first step only.""")
def _(X, h_0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y):
    output, _ = _run_rnn(X, h_0, W_ih, W_hh, b_ih, b_hh)
    return (_head(output[0], W_hy, b_y),)


@mistake("many_to_one", "head-on-mean", "the head reads the mean of the states", """
    Averaging the states over time is a different model (mean pooling). The many-to-one
    model of this chapter predicts from the last state h_T alone: y = h_T W_hy^T + b_y.""")
def _(X, h_0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y):
    output, _ = _run_rnn(X, h_0, W_ih, W_hh, b_ih, b_hh)
    return (_head(output.mean(axis=0), W_hy, b_y),)


@mistake("many_to_one", "b_y-missing", "the head's bias b_y left out", """
    The head is an affine map like nn.Linear: y = h_T W_hy^T + b_y. Look for the bias.""")
def _(X, h_0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y):
    _, h_n = _run_rnn(X, h_0, W_ih, W_hh, b_ih, b_hh)
    return (_head(h_n, W_hy, None),)


@mistake("many_to_one", "head-every-step", "one prediction per time step", """
    Applying the head to every state (output @ W_hy.T) gives a prediction per step, shape
    (T, B, O): that is a many-to-many model. Many-to-one makes one prediction per sequence,
    shape (B, O), from h_T.""")
def _(X, h_0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y):
    output, _ = _run_rnn(X, h_0, W_ih, W_hh, b_ih, b_hh)
    return (_head(output, W_hy, b_y),)


def _count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    return _count_reference(input_size, hidden_size, num_layers, bidirectional, bias)[0]


@mistake("rnn_param_count", "one-bias", "the biases counted once per layer and direction", """
    nn.RNN learns two bias vectors per layer and direction, bias_ih and bias_hh, each of
    hidden_size numbers (see the parameter names printed in chapter 1).""")
def _(input_size, hidden_size, num_layers, bidirectional, bias):
    directions = 2 if bidirectional else 1
    missing = num_layers * directions * hidden_size if bias else 0
    return (_count(input_size, hidden_size, num_layers, bidirectional, bias) - missing,)


@mistake("rnn_param_count", "layers-read-input", "every layer counted as reading the input", """
    Only the first layer reads x_t, with input_size features. Layer l > 0 reads the layer
    below, hidden_size features per direction: its weight_ih is [hidden_size, hidden_size]
    (or [hidden_size, 2 hidden_size] when bidirectional).""")
def _(input_size, hidden_size, num_layers, bidirectional, bias):
    return (num_layers * _count(input_size, hidden_size, 1, bidirectional, bias),)


@mistake("rnn_param_count", "upper-input-one-direction", "the layers above the first counted as reading one direction", """
    In a bidirectional RNN the layers above the first read both directions of the layer
    below, concatenated: 2 hidden_size features, so their weight_ih is
    [hidden_size, 2 hidden_size] (seed 004 prints weight_ih_l1 : [64, 128]).""")
def _(input_size, hidden_size, num_layers, bidirectional, bias):
    return (_count(input_size, hidden_size, 1, bidirectional, bias)
            + (num_layers - 1) * _count(hidden_size, hidden_size, 1, bidirectional, bias),)


@mistake("rnn_param_count", "bias-ignored", "the biases counted even when bias=False", """
    With bias=False, nn.RNN has no bias_ih or bias_hh at all: only the weights count.""")
def _(input_size, hidden_size, num_layers, bidirectional, bias):
    return (_count(input_size, hidden_size, num_layers, bidirectional, True),)


@mistake("rnn_param_count", "bidirectional-ignored", "the second direction not counted", """
    A bidirectional RNN has a full second set of weights and biases per layer, the
    *_reverse parameters, so every layer's count doubles (and the layers above the first
    read 2 hidden_size features).""")
def _(input_size, hidden_size, num_layers, bidirectional, bias):
    return (_count(input_size, hidden_size, num_layers, False, bias),)
