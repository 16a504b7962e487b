"""Chapter 5, deep and bidirectional RNNs: the graded functions, their inputs and their
PyTorch references.

References are what PyTorch computes, in float64: a real two-layer bidirectional
`nn.RNN` holding the given weights for the stacked bidirectional forward pass;
`torch.nn.functional.linear` and `torch.tanh` for one step of a deep-transition RNN;
the tensors a real `nn.RNN` / `nn.LSTM` / `nn.GRU` returns when run on zeros, for the
shapes.

The stacked bidirectional forward pass takes its weights as a dict keyed by PyTorch's
parameter names (weight_ih_l0, ..., bias_hh_l1_reverse). A case file holds plain
arrays, so each weight is stored as its own input and `adapters.birnn_call` builds the
dict in the student's kernel. The shape function returns Python tuples (and None for a
missing c_n); `adapters.shapes_as_arrays` turns them into integer arrays (an empty one
for None) so that they compare like any output.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..kernel.adapters import ch05_deep_bidirectional as adapters
from .registry import Chapter, hidden_kind, mistake
from .torchref import GENERAL, SHAPE_KINDS, distinct_sizes, shape_kind_of
from .torchref import tensor as _t
from .torchref import sequence_shape

CHAPTER = Chapter("05-deep-bidirectional")

# --- stacked_birnn_forward ------------------------------------------------------------

# PyTorch's parameter names of nn.RNN(num_layers=2, bidirectional=True), in its order.
BIRNN_NAMES = adapters.BIRNN_NAMES

def _shape(rng: np.random.Generator, index: int) -> tuple[int, int, int, int]:
    return sequence_shape(rng, index, max_T=8)


def _birnn_weights(rng: np.random.Generator, D: int, H: int) -> dict[str, np.ndarray]:
    """Random weights, larger than PyTorch's default initialisation so that tanh is far
    from linear and every mistake shows."""
    w = {}
    for layer, n_in in ((0, D), (1, 2 * H)):
        for suffix in ("", "_reverse"):
            w[f"weight_ih_l{layer}{suffix}"] = rng.uniform(-0.8, 0.8, (H, n_in))
            w[f"weight_hh_l{layer}{suffix}"] = rng.uniform(-0.8, 0.8, (H, H))
            w[f"bias_ih_l{layer}{suffix}"] = rng.uniform(-0.5, 0.5, H)
            w[f"bias_hh_l{layer}{suffix}"] = rng.uniform(-0.5, 0.5, H)
    return {k: w[k] for k in BIRNN_NAMES}


def _birnn_inputs(rng, index):
    T, B, D, H = _shape(rng, index)
    return {"X": rng.normal(size=(T, B, D)), "h_0": rng.uniform(-1, 1, (4, B, H)),
            **_birnn_weights(rng, D, H)}


def _birnn_reference(X, h_0, **weights):
    """A real nn.RNN(num_layers=2, bidirectional=True) with exactly these weights."""
    import torch

    H, D = weights["weight_ih_l0"].shape
    rnn = torch.nn.RNN(D, H, num_layers=2, bidirectional=True, dtype=torch.float64)
    with torch.no_grad():
        for name in BIRNN_NAMES:
            getattr(rnn, name).copy_(_t(weights[name]))
        output, h_n = rnn(_t(X), _t(h_0))
    return output.numpy(), h_n.numpy()


CHAPTER.graded(
    name="stacked_birnn_forward",
    kinds=(GENERAL,), kind_of=shape_kind_of,
    inputs=("X", "h_0", *BIRNN_NAMES), outputs=("output", "h_n"),
    make_inputs=_birnn_inputs, reference=_birnn_reference,
    matches="nn.RNN(num_layers=2, bidirectional=True)",
    prepare=adapters.birnn_call,
)


# --- dt_rnn_cell ----------------------------------------------------------------------
# One step of a deep-transition RNN (Pascanu et al. 2014, DT-RNN) whose transition is an
# MLP with one intermediate layer q_t of Q units:
#     q_t = tanh([x_t, h_{t-1}] W_q^T + b_q)       W_q (Q, D + H), b_q (Q,)
#     h_t = tanh(q_t W_qh^T + b_qh)                 W_qh (H, Q),   b_qh (H,)

_DT_SHAPES = [(3, 4, 5, 6), (2, 3, 2, 7), (1, 2, 6, 3)]  # (B, D, H, Q)


def _dt_inputs(rng, index):
    if index < len(_DT_SHAPES):
        B, D, H, Q = _DT_SHAPES[index]
    elif hidden_kind(SHAPE_KINDS, index, len(_DT_SHAPES)) == GENERAL:
        B, D, H, Q = distinct_sizes(rng, [2, 2, 2, 2], [5, 6, 7, 8])
    else:
        B, D, H, Q = (int(v) for v in rng.integers([1, 1, 2, 2], [5, 6, 7, 8]))
    return {"x_t": rng.normal(size=(B, D)), "h_prev": rng.uniform(-1, 1, (B, H)),
            "W_q": rng.uniform(-0.8, 0.8, (Q, D + H)), "b_q": rng.uniform(-0.5, 0.5, Q),
            "W_qh": rng.uniform(-0.8, 0.8, (H, Q)), "b_qh": rng.uniform(-0.5, 0.5, H)}


def _dt_parts(x_t, h_prev, W_q, b_q, W_qh, b_qh, order=("x", "h")):
    import torch
    from torch.nn.functional import linear

    parts = {"x": _t(x_t), "h": _t(h_prev)}
    a_q = linear(torch.cat([parts[k] for k in order], dim=1), _t(W_q), _t(b_q))
    return a_q, (lambda q: linear(q, _t(W_qh), _t(b_qh)))


def _dt_reference(x_t, h_prev, W_q, b_q, W_qh, b_qh):
    import torch

    a_q, out = _dt_parts(x_t, h_prev, W_q, b_q, W_qh, b_qh)
    return (torch.tanh(out(torch.tanh(a_q))).numpy(),)


CHAPTER.graded(
    name="dt_rnn_cell",
    kinds=(GENERAL,), kind_of=shape_kind_of,
    inputs=("x_t", "h_prev", "W_q", "b_q", "W_qh", "b_qh"), outputs=("h_t",),
    make_inputs=_dt_inputs, reference=_dt_reference,
    matches="torch.nn.functional.linear and tanh (a DT-RNN step)",
)


# --- rnn_output_shapes ----------------------------------------------------------------

_SHAPE_CASES = [
    {"mode": "LSTM", "T": 5, "B": 3, "D": 4, "H": 6, "num_layers": 2, "bidirectional": True,
     "batch_first": True, "proj_size": 2},
    {"mode": "GRU", "T": 7, "B": 2, "D": 3, "H": 5, "num_layers": 3, "bidirectional": False,
     "batch_first": False, "proj_size": 0},
    {"mode": "RNN", "T": 1, "B": 4, "D": 2, "H": 3, "num_layers": 1, "bidirectional": True,
     "batch_first": True, "proj_size": 0},
]
# Hidden cases: (mode, bidirectional, projection?, batch_first, num_layers) by index, one
# each, so every option the spec names, and the combinations where mistakes hide (a
# bidirectional LSTM with a projection, a bidirectional batch-first module, three
# layers), is in every hidden set; T, B, D, H (and proj_size) drawn, all different.
_SHAPE_KINDS = [("LSTM", True, True, True, 3), ("GRU", False, False, False, 1),
                ("RNN", True, False, False, 2), ("LSTM", False, True, False, 2),
                ("LSTM", True, False, True, 1), ("GRU", True, False, True, 3),
                ("RNN", False, False, True, 3), ("LSTM", True, True, False, 1)]


def _shapes_labels(mode, bidirectional, proj, batch_first, num_layers) -> set[str]:
    labels = {mode, "batch_first" if batch_first else "time first"}
    if bidirectional:
        labels |= {f"{mode} bidirectional", "bidirectional " + ("batch_first" if batch_first else "time first")}
    if proj:
        labels |= {"LSTM projection"} | ({"LSTM projection bidirectional"} if bidirectional else set())
    if num_layers >= 3:
        labels.add("three layers or more")
    return labels


def _shapes_kind_of(case) -> set[str]:
    sizes = [case[k] for k in ("T", "B", "D", "H")] + ([case["proj_size"]] if case["proj_size"] else [])
    if len(set(sizes)) < len(sizes):
        return set()
    return _shapes_labels(case["mode"], case["bidirectional"], case["proj_size"] > 0,
                          case["batch_first"], case["num_layers"])


def _shapes_inputs(rng, index):
    if index < len(_SHAPE_CASES):
        return dict(_SHAPE_CASES[index])
    mode, bidirectional, proj, batch_first, L = hidden_kind(_SHAPE_KINDS, index, len(_SHAPE_CASES))
    T, B, D, H, P = distinct_sizes(rng, [2, 2, 1, 3, 1], [9, 6, 6, 9, 8]) if proj else \
        (*distinct_sizes(rng, [2, 2, 1, 2], [9, 6, 6, 9]), 0)
    while proj and P >= H:  # a projection is narrower than the hidden state
        T, B, D, H, P = distinct_sizes(rng, [2, 2, 1, 3, 1], [9, 6, 6, 9, 8])
    return {"mode": mode, "T": T, "B": B, "D": D, "H": H, "num_layers": L,
            "bidirectional": bidirectional, "batch_first": batch_first, "proj_size": P}


def _as_arrays(output, h_n, c_n):
    return tuple(np.asarray(tuple(s) if s is not None else (), dtype=np.int64)
                 for s in (output, h_n, c_n))


def _shapes_reference(mode, T, B, D, H, num_layers, bidirectional, batch_first, proj_size):
    """Run the real module on zeros and read the shapes of what it returns."""
    import torch

    cls = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[mode]
    extra = {"proj_size": proj_size} if mode == "LSTM" else {}
    module = cls(D, H, num_layers=num_layers, bidirectional=bidirectional,
                 batch_first=batch_first, **extra)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "LSTM with projections is not supported with oneDNN"
        output, state = module(torch.zeros((B, T, D) if batch_first else (T, B, D)))
    h_n, c_n = state if mode == "LSTM" else (state, None)
    return _as_arrays(output.shape, h_n.shape, None if c_n is None else c_n.shape)


CHAPTER.graded(
    name="rnn_output_shapes",
    inputs=("mode", "T", "B", "D", "H", "num_layers", "bidirectional", "batch_first", "proj_size"),
    outputs=("output_shape", "h_n_shape", "c_n_shape"),
    make_inputs=_shapes_inputs, reference=_shapes_reference,
    matches="the shapes nn.RNN / nn.LSTM / nn.GRU return", n_hidden=len(_SHAPE_KINDS),
    kinds=tuple(sorted(set().union(*(_shapes_labels(*k) for k in _SHAPE_KINDS)))), kind_of=_shapes_kind_of,
    unpack=adapters.shapes_as_arrays,
)


# --- known mistakes: stacked_birnn_forward --------------------------------------------
# Each is a composition of one-direction, one-layer nn.RNNs holding the given weights,
# with one thing done the way the mistake does it. With every option at its default,
# `_stacked` gives exactly the reference (max abs diff 0.0 on the public cases).

_BIRNN_EQ = ("output[t] = [→h_t^(2), ←h_t^(2)], the forward state first, both for the same "
             "time step t; h_n rows are (layer 1 forward, layer 1 backward, layer 2 forward, "
             "layer 2 backward), h_0's rows likewise")


def _direction(inp, h0, weights, layer, suffix, reverse):
    """One layer, one direction: the states of an nn.RNN with these weights, reading the
    sequence backwards if `reverse` (in processing order: state after the first read)."""
    import torch

    W_ih = weights[f"weight_ih_l{layer}{suffix}"]
    H, n_in = W_ih.shape
    rnn = torch.nn.RNN(n_in, H, dtype=torch.float64)
    with torch.no_grad():
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(rnn, f"{kind}_l0").copy_(_t(weights[f"{kind}_l{layer}{suffix}"]))
        states, _ = rnn(inp.flip(0) if reverse else inp, _t(h0)[None])
    return states


def _stacked(X, h_0, weights, flip_back=True, swap_halves=False, direction_major=False,
             upper_forward_only=False, reverse_h0_from_forward=False,
             h_n_from_output_last=False):
    import torch

    inp = _t(X)
    H = weights["weight_hh_l0"].shape[0]
    finals = []
    for layer in range(2):
        row_f, row_b = (layer, 2 + layer) if direction_major else (2 * layer, 2 * layer + 1)
        if reverse_h0_from_forward:
            row_b = row_f
        fwd = _direction(inp, h_0[row_f], weights, layer, "", reverse=False)
        bwd = _direction(inp, h_0[row_b], weights, layer, "_reverse", reverse=True)
        bwd_final = bwd[-1]
        if flip_back:
            bwd = bwd.flip(0)
        out = torch.cat([bwd, fwd] if swap_halves else [fwd, bwd], dim=2)
        if h_n_from_output_last:
            bwd_final = out[-1, :, H:]
        finals.append((fwd[-1], bwd_final))
        inp = torch.cat([out[..., :H], torch.zeros_like(out[..., H:])], dim=2) \
            if upper_forward_only else out
    if direction_major:
        rows = [finals[0][0], finals[1][0], finals[0][1], finals[1][1]]
    else:
        rows = [finals[0][0], finals[0][1], finals[1][0], finals[1][1]]
    return out.numpy(), torch.stack(rows).numpy()


@mistake("stacked_birnn_forward", "reverse-not-flipped",
         "the backward direction's outputs kept in the order they were computed", f"""
    The backward direction reads x_T first, so its first state is ←h_T, not ←h_1. Before it
    joins the forward states it must be flipped back in time, so that output[t] holds both
    directions' states for the same step t. Look for the list of backward states: reverse
    it (or fill it from the end) before concatenating, in every layer. {_BIRNN_EQ}.""")
def _(X, h_0, **weights):
    return _stacked(X, h_0, weights, flip_back=False)


@mistake("stacked_birnn_forward", "halves-swapped",
         "the backward half concatenated before the forward half", f"""
    nn.RNN puts the forward direction's H features first and the backward direction's H
    features second, in output and in the input of layer 2 (whose weight_ih_l1 columns
    follow that order). Check the order in your np.concatenate. {_BIRNN_EQ}.""")
def _(X, h_0, **weights):
    return _stacked(X, h_0, weights, swap_halves=True)


@mistake("stacked_birnn_forward", "rows-direction-major",
         "the rows of h_0 and h_n indexed direction-major (all forward layers first)", f"""
    The rows of h_0 and h_n are ordered layer by layer, and inside a layer forward then
    backward: row 2 l + d for layer l (from 0) and direction d (0 forward, 1 backward).
    Indexing them as d * num_layers + l reads the wrong initial states and writes the
    final states in the wrong rows. {_BIRNN_EQ}.""")
def _(X, h_0, **weights):
    return _stacked(X, h_0, weights, direction_major=True)


@mistake("stacked_birnn_forward", "upper-reads-forward-half",
         "layer 2 fed only the forward half of layer 1's output", f"""
    Layer 2 reads the whole output of layer 1, both directions concatenated: 2H features,
    which is why weight_ih_l1 has shape (H, 2H). Feeding it only the forward states (and
    only the first H columns of weight_ih_l1) throws away everything the backward direction
    of layer 1 computed. {_BIRNN_EQ}.""")
def _(X, h_0, **weights):
    return _stacked(X, h_0, weights, upper_forward_only=True)


@mistake("stacked_birnn_forward", "reverse-starts-from-forward-h_0",
         "the backward direction started from the forward direction's h_0 row", f"""
    Each direction of each layer has its own initial state: h_0[2 l] for the forward and
    h_0[2 l + 1] for the backward direction of layer l. Starting both directions from the
    same row ignores half of h_0. {_BIRNN_EQ}.""")
def _(X, h_0, **weights):
    return _stacked(X, h_0, weights, reverse_h0_from_forward=True)


@mistake("stacked_birnn_forward", "backward-final-from-output-last",
         "the last time step, output[-1], taken as the backward direction's final state", f"""
    output[-1] holds the states at the last time step. For the backward direction that is
    its FIRST state, ←h_T, after reading x_T alone; its final state, after reading the whole
    sequence back to x_1, is ←h_1, which sits in output[0]. h_n must hold each direction's
    last computed state. {_BIRNN_EQ}.""")
def _(X, h_0, **weights):
    return _stacked(X, h_0, weights, h_n_from_output_last=True)


# --- known mistakes: dt_rnn_cell ------------------------------------------------------

_DT_EQ = "q_t = tanh([x_t, h_{t-1}] W_q^T + b_q), h_t = tanh(q_t W_qh^T + b_qh)"


@mistake("dt_rnn_cell", "concat-order", "[h_{t-1}, x_t] concatenated instead of [x_t, h_{t-1}]", f"""
    The first D columns of W_q read x_t and the last H columns read h_{{t-1}}, as in
    nn.RNN's order (input first). Concatenating the other way round still fits the shape
    (D + H columns) but pairs each column with the wrong feature. The equations are
    {_DT_EQ}.""")
def _(x_t, h_prev, W_q, b_q, W_qh, b_qh):
    import torch

    a_q, out = _dt_parts(x_t, h_prev, W_q, b_q, W_qh, b_qh, order=("h", "x"))
    return (torch.tanh(out(torch.tanh(a_q))).numpy(),)


@mistake("dt_rnn_cell", "intermediate-linear", "tanh left out of the intermediate layer", f"""
    Without a nonlinearity on q_t the two layers of the transition multiply into one
    matrix, and the 'deep' transition is a shallow one again. The equations are {_DT_EQ}.""")
def _(x_t, h_prev, W_q, b_q, W_qh, b_qh):
    import torch

    a_q, out = _dt_parts(x_t, h_prev, W_q, b_q, W_qh, b_qh)
    return (torch.tanh(out(a_q)).numpy(),)


@mistake("dt_rnn_cell", "last-layer-linear", "the last layer of the transition left linear", f"""
    The output of the transition is the new hidden state, which goes through tanh like
    every RNN state (so it stays in (-1, 1)). A linear last layer is right for an MLP's
    prediction, not for h_t. The equations are {_DT_EQ}.""")
def _(x_t, h_prev, W_q, b_q, W_qh, b_qh):
    import torch

    a_q, out = _dt_parts(x_t, h_prev, W_q, b_q, W_qh, b_qh)
    return (out(torch.tanh(a_q)).numpy(),)


@mistake("dt_rnn_cell", "returns-intermediate", "the intermediate layer q_t returned as h_t", f"""
    q_t (Q units) is only the middle of the transition; h_t (H units) is what the second
    layer makes from it. The equations are {_DT_EQ}.""")
def _(x_t, h_prev, W_q, b_q, W_qh, b_qh):
    import torch

    a_q, _ = _dt_parts(x_t, h_prev, W_q, b_q, W_qh, b_qh)
    return (torch.tanh(a_q).numpy(),)


# --- known mistakes: rnn_output_shapes ------------------------------------------------

def _true_shapes(mode, T, B, D, H, num_layers, bidirectional, batch_first, proj_size):
    out, h_n, c_n = _shapes_reference(mode, T, B, D, H, num_layers, bidirectional,
                                      batch_first, proj_size)
    return [tuple(int(v) for v in s) for s in (out, h_n)], (tuple(int(v) for v in c_n) if mode == "LSTM" else None)


@mistake("rnn_output_shapes", "h_n-batch-first", "the batch_first layout applied to h_n (and c_n)", """
    batch_first changes the layout of the input and of output only. h_n and c_n are always
    (num_layers * num_directions, B, H_out), whatever batch_first says.""")
def _(**kw):
    (out, h_n), c_n = _true_shapes(**kw)
    if kw["batch_first"]:
        h_n = (h_n[1], h_n[0], h_n[2])
        c_n = (c_n[1], c_n[0], c_n[2]) if c_n is not None else None
    return _as_arrays(out, h_n, c_n)


@mistake("rnn_output_shapes", "proj_size-ignored", "the projection (proj_size) ignored", """
    An nn.LSTM with proj_size > 0 projects each h_t down to proj_size features: output's
    last axis is proj_size * num_directions and h_n's last axis is proj_size. Only c_n
    keeps hidden_size.""")
def _(**kw):
    (out, h_n), c_n = _true_shapes(**{**kw, "proj_size": 0})
    return _as_arrays(out, h_n, c_n)


@mistake("rnn_output_shapes", "proj_size-on-c_n", "the projection (proj_size) applied to c_n as well", """
    The projection acts on h_t only (h_t = (o_t ⊙ tanh(c_t)) W_proj^T, with W_proj the
    weight_hr); the cell state c_t is never projected, so c_n's last axis stays
    hidden_size.""")
def _(**kw):
    (out, h_n), c_n = _true_shapes(**kw)
    if c_n is not None and kw["proj_size"]:
        c_n = (c_n[0], c_n[1], kw["proj_size"])
    return _as_arrays(out, h_n, c_n)


@mistake("rnn_output_shapes", "directions-not-counted", "the second direction not counted", """
    A bidirectional module returns both directions: output's last axis is
    num_directions * H_out (2 H for a bidirectional RNN) and h_n has
    num_layers * num_directions rows.""")
def _(**kw):
    (out, h_n), c_n = _true_shapes(**{**kw, "bidirectional": False})
    return _as_arrays(out, h_n, c_n)


@mistake("rnn_output_shapes", "h_n-features-doubled",
         "each row of h_n given 2 H features, like output", """
    Each row of h_n is ONE direction's final state of one layer, with H_out features; the
    two directions are separate rows (num_layers * 2 of them), not concatenated as in
    output.""")
def _(**kw):
    (out, h_n), c_n = _true_shapes(**kw)
    if kw["bidirectional"]:
        h_n = (h_n[0] // 2, h_n[1], 2 * h_n[2])
    return _as_arrays(out, h_n, c_n)


@mistake("rnn_output_shapes", "c_n-for-every-mode", "a c_n shape returned for RNN and GRU", """
    Only nn.LSTM has a cell state: it returns (output, (h_n, c_n)). nn.RNN and nn.GRU return
    (output, h_n), so c_n's shape is None for them.""")
def _(**kw):
    (out, h_n), c_n = _true_shapes(**kw)
    if c_n is None:
        c_n = h_n
    return _as_arrays(out, h_n, c_n)
