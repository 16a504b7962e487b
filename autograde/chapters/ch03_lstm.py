"""Chapter 3, LSTM gates: the graded functions, their inputs and their PyTorch references.

References are what PyTorch computes with the very same weights, in float64: `nn.LSTM`
for the cell and the sequence, the chunks of `nn.LSTM`'s own packed parameters for the
unpacking, and autograd through one step of `nn.LSTM` for the cell's backward pass.

PyTorch packs the four gates along the first axis of `weight_ih_l0` (4H, D),
`weight_hh_l0` (4H, H), `bias_ih_l0` and `bias_hh_l0` (4H,), in the order i, f, g, o
(input gate, forget gate, candidate, output gate).
"""
from __future__ import annotations

import numpy as np

from ..kernel.adapters import ch03_lstm as adapters
from .registry import Chapter, hidden_kind, mistake
from .torchref import GENERAL, SHAPE_KINDS, distinct_sizes, shape_kind_of
from .torchref import tensor as _t
from .torchref import packed_weights, sequence_shape, with_weights

CHAPTER = Chapter("03-lstm")
GATES = ("i", "f", "g", "o")

def _shape(rng: np.random.Generator, index: int) -> tuple[int, int, int, int]:
    return sequence_shape(rng, index)


def _weights(rng: np.random.Generator, D: int, H: int) -> dict[str, np.ndarray]:
    return packed_weights(rng, D, H, blocks=4, w_hh=0.6, b=0.5)


def _states(rng: np.random.Generator, B: int, H: int) -> dict[str, np.ndarray]:
    # c ranges beyond (-1, 1), as a cell state does after a few steps, so tanh(c) != c.
    return {"h": rng.uniform(-1, 1, (B, H)), "c": rng.uniform(-1.5, 1.5, (B, H))}


def lstm_with_weights(W_ih, W_hh, b_ih, b_hh):
    """A one-layer float64 `nn.LSTM` whose parameters are exactly these packed arrays."""
    return with_weights("LSTM", W_ih, W_hh, b_ih, b_hh)


def _run_lstm(X, h_0, c_0, W_ih, W_hh, b_ih, b_hh):
    """nn.LSTM's (output, h_n, c_n), with the layer axis of h_n and c_n dropped."""
    import torch

    with torch.no_grad():
        output, (h_n, c_n) = lstm_with_weights(W_ih, W_hh, b_ih, b_hh)(_t(X), (_t(h_0)[None], _t(c_0)[None]))
    return output.numpy(), h_n[0].numpy(), c_n[0].numpy()


def _reorder(W, order):
    """The packed array W (4H, ...) with its four gate blocks taken in `order` (indices
    into i, f, g, o): what a student who reads the blocks in another order computes."""
    H = W.shape[0] // 4
    return np.concatenate([W[k * H:(k + 1) * H] for k in order])


def _permuted(order, W_ih, W_hh, b_ih, b_hh):
    return {"W_ih": _reorder(W_ih, order), "W_hh": _reorder(W_hh, order),
            "b_ih": _reorder(b_ih, order), "b_hh": _reorder(b_hh, order)}


# --- lstm_cell_forward ------------------------------------------------------------------------

def _cell_inputs(rng, index):
    T, B, D, H = _shape(rng, index)
    s = _states(rng, B, H)
    return {"x_t": rng.normal(size=(B, D)), "h_prev": s["h"], "c_prev": s["c"], **_weights(rng, D, H)}


def _cell_reference(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    _, h_n, c_n = _run_lstm(x_t[None], h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)
    return h_n, c_n


CHAPTER.graded(
    name="lstm_cell_forward",
    kinds=(GENERAL,), kind_of=shape_kind_of,
    inputs=("x_t", "h_prev", "c_prev", "W_ih", "W_hh", "b_ih", "b_hh"), outputs=("h_t", "c_t"),
    make_inputs=_cell_inputs, reference=_cell_reference, matches="nn.LSTM (one time step)",
)


# --- lstm_forward ---------------------------------------------------------------------

def _forward_inputs(rng, index):
    T, B, D, H = _shape(rng, index)
    s = _states(rng, B, H)
    return {"X": rng.normal(size=(T, B, D)), "h_0": s["h"], "c_0": s["c"], **_weights(rng, D, H)}


CHAPTER.graded(
    name="lstm_forward",
    kinds=(GENERAL,), kind_of=shape_kind_of,
    inputs=("X", "h_0", "c_0", "W_ih", "W_hh", "b_ih", "b_hh"), outputs=("output", "h_n", "c_n"),
    make_inputs=_forward_inputs, reference=_run_lstm, matches="nn.LSTM",
    uses=("lstm_cell_forward",),
)


# --- unpack_lstm_weights --------------------------------------------------------------
# The student returns {"i": (W_ii, W_hi, b_ii, b_hi), "f": (...), "g": (...), "o": (...)},
# PyTorch's names for the blocks; `adapters.lstm_gates_flatten` turns that into the 16
# arrays below, gate by gate in the order i, f, g, o.

_UNPACK_OUTPUTS = tuple(f"gates['{gate}'][{k}] ({name}_{src}{gate})" for gate in GATES
                        for k, (name, src) in enumerate((("W", "i"), ("W", "h"), ("b", "i"), ("b", "h"))))


def _unpack_inputs(rng, index):
    _, _, D, H = _shape(rng, index)
    return _weights(rng, D, H)


def _unpack_reference(W_ih, W_hh, b_ih, b_hh):
    """The chunks of a real nn.LSTM's packed parameters, in PyTorch's order i, f, g, o."""
    lstm = lstm_with_weights(W_ih, W_hh, b_ih, b_hh)
    chunks = [p.detach().chunk(4, dim=0) for p in
              (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0)]
    return tuple(chunks[k][gate].numpy().copy() for gate in range(4) for k in range(4))


CHAPTER.graded(
    name="unpack_lstm_weights",
    kinds=(GENERAL,), kind_of=shape_kind_of,
    inputs=("W_ih", "W_hh", "b_ih", "b_hh"), outputs=_UNPACK_OUTPUTS,
    make_inputs=_unpack_inputs, reference=_unpack_reference,
    matches="the gate blocks of nn.LSTM's weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0",
    unpack=adapters.lstm_gates_flatten,
)


# --- lstm_cell_backward ---------------------------------------------------------------
# The student receives (dh_t, dc_t, cache): cache is the dict of what the forward step
# keeps (see adapters.lstm_backward_args). The biases are stored with the case so that
# the reference can run nn.LSTM, but they are not in the cache: given the gates, the
# gradients do not depend on them.

_CACHE = ("x_t", "h_prev", "c_prev", "i", "f", "g", "o", "c_t", "W_ih", "W_hh")


def _numpy_gates(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    """The four gates of one step (numpy, so that a case's inputs are the same on every
    machine; the reference checks them against nn.LSTM)."""
    z = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    H = h_prev.shape[1]
    i, f, g, o = (z[:, k * H:(k + 1) * H] for k in range(4))
    sigmoid = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    return sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)


def _backward_inputs(rng, index):
    T, B, D, H = _shape(rng, index)
    s = _states(rng, B, H)
    x_t, w = rng.normal(size=(B, D)), _weights(rng, D, H)
    i, f, g, o = _numpy_gates(x_t, s["h"], **w)
    return {"dh_t": rng.normal(size=(B, H)), "dc_t": rng.normal(size=(B, H)),
            "x_t": x_t, "h_prev": s["h"], "c_prev": s["c"], "i": i, "f": f, "g": g, "o": o,
            "c_t": f * s["c"] + i * g, **w}


def _step_graph(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, i, f, g, o, c_t):
    """Leaf tensors and one step of nn.LSTM on them, after checking that the cached
    gates and c_t are this step's."""
    import torch

    lstm = lstm_with_weights(W_ih, W_hh, b_ih, b_hh)
    leaves = [_t(v).requires_grad_() for v in (x_t, h_prev, c_prev)]
    with torch.no_grad():
        z = leaves[0] @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + leaves[1] @ lstm.weight_hh_l0.T + lstm.bias_hh_l0
        zi, zf, zg, zo = z.chunk(4, dim=1)
        gates = (torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo))
        _, (_, c_check) = lstm(leaves[0][None], (leaves[1][None], leaves[2][None]))
    for name, ours, theirs in zip(("i", "f", "g", "o", "c_t"), (i, f, g, o, c_t), (*gates, c_check[0])):
        if not np.allclose(ours, theirs.numpy(), rtol=0, atol=1e-10):
            raise ValueError(f"the cached {name} is not nn.LSTM's for these weights")
    return lstm, leaves


def _grads(lstm, leaves, loss):
    loss.backward()
    x, h, c = leaves
    return (x.grad.numpy(), h.grad.numpy(), c.grad.numpy(), lstm.weight_ih_l0.grad.numpy(),
            lstm.weight_hh_l0.grad.numpy(), lstm.bias_ih_l0.grad.numpy())


def _backward_reference(dh_t, dc_t, x_t, h_prev, c_prev, i, f, g, o, c_t, W_ih, W_hh, b_ih, b_hh):
    """Autograd of sum(h_t * dh_t) + sum(c_t * dc_t) through one step of nn.LSTM."""
    lstm, (x, h, c) = _step_graph(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, i, f, g, o, c_t)
    _, (h_n, c_n) = lstm(x[None], (h[None], c[None]))
    return _grads(lstm, (x, h, c), (h_n[0] * _t(dh_t)).sum() + (c_n[0] * _t(dc_t)).sum())


CHAPTER.graded(
    name="lstm_cell_backward",
    kinds=(GENERAL,), kind_of=shape_kind_of,
    inputs=("dh_t", "dc_t", *_CACHE, "b_ih", "b_hh"),
    outputs=("dx_t", "dh_prev", "dc_prev", "dW_ih", "dW_hh", "db"),
    make_inputs=_backward_inputs, reference=_backward_reference,
    matches="torch autograd through one step of nn.LSTM",
    prepare=adapters.lstm_backward_args,
)


# --- known mistakes -------------------------------------------------------------------
# Each is computed with PyTorch from the same inputs as the reference: nn.LSTM with its
# gate blocks reordered or a bias zeroed, or the step written with torch operations with
# one thing changed.

_CELL_EQ = ("with a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh cut into four blocks of H columns "
            "in the order i, f, g, o: i_t = sigmoid(a_i), f_t = sigmoid(a_f), candidate = tanh(a_g), "
            "o_t = sigmoid(a_o), c_t = f_t * c_{t-1} + i_t * candidate, h_t = o_t * tanh(c_t)")


def _torch_step(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, candidate="tanh", swap_if=False,
                tanh_on_c=True):
    """One LSTM step written with torch operations, with one thing changeable."""
    import torch

    z = _t(x_t) @ _t(W_ih).T + _t(b_ih) + _t(h_prev) @ _t(W_hh).T + _t(b_hh)
    zi, zf, zg, zo = z.chunk(4, dim=1)
    i, f, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.sigmoid(zo)
    g = torch.tanh(zg) if candidate == "tanh" else torch.sigmoid(zg)
    c = (i * _t(c_prev) + f * g) if swap_if else (f * _t(c_prev) + i * g)
    h = o * torch.tanh(c) if tanh_on_c else o * c
    return h.numpy(), c.numpy()


@mistake("lstm_cell_forward", "order-ifog", "the gate blocks read in the order i, f, o, g", f"""
    PyTorch packs the blocks of W_ih, W_hh and both biases as i, f, g, o: the candidate is
    the third block of H rows and the output gate the fourth. CS231n and fastai write the
    order i, f, o, g, and code copied from them swaps the candidate and the output gate:
    the shapes all fit, so nothing fails. The step: {_CELL_EQ}.""")
def _(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    return _cell_reference(x_t, h_prev, c_prev, **_permuted((0, 1, 3, 2), W_ih, W_hh, b_ih, b_hh))


@mistake("lstm_cell_forward", "one-bias", "b_hh left out (one bias instead of two)", f"""
    nn.LSTM has two bias vectors, bias_ih_l0 and bias_hh_l0, and adds both to the
    pre-activation of every gate. Papers and most courses write one bias per gate; to match
    PyTorch, add b_ih and b_hh. The step: {_CELL_EQ}.""")
def _(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    return _cell_reference(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, np.zeros_like(b_hh))


@mistake("lstm_cell_forward", "no-tanh-on-c", "tanh missing on c_t in h_t", f"""
    The output is h_t = o_t * tanh(c_t), not o_t * c_t: the cell state is unbounded (it
    adds up over time), and tanh squashes it into (-1, 1) before the output gate scales
    it. c_t itself is right; only h_t is wrong. The step: {_CELL_EQ}.""")
def _(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    return _torch_step(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, tanh_on_c=False)


@mistake("lstm_cell_forward", "sigmoid-candidate", "sigmoid on the candidate instead of tanh", f"""
    The three gates use the sigmoid, with values in (0, 1); the candidate is the new
    content written to the cell and uses tanh, with values in (-1, 1), so that the cell
    can be pushed down as well as up. The step: {_CELL_EQ}.""")
def _(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    return _torch_step(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, candidate="sigmoid")


@mistake("lstm_cell_forward", "forget-on-candidate", "the forget gate applied to the candidate", f"""
    The forget gate scales the old cell state and the input gate scales the candidate:
    c_t = f_t * c_{{t-1}} + i_t * candidate. Here the two are swapped, f_t multiplies the
    candidate and i_t the old state (the same as reading the first two blocks in the order
    f, i). The step: {_CELL_EQ}.""")
def _(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    return _torch_step(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, swap_if=True)


def _stepwise(X, h_0, c_0, W_ih, W_hh, b_ih, b_hh, carry_h=True, carry_c=True):
    """nn.LSTM run one step at a time, each step starting from the carried states or
    from the initial ones."""
    h, c, states, cells = h_0, c_0, [], []
    for t in range(len(X)):
        _, h_t, c_t = _run_lstm(X[t:t + 1], h if carry_h else h_0, c if carry_c else c_0,
                                W_ih, W_hh, b_ih, b_hh)
        h, c = h_t, c_t
        states.append(h_t)
        cells.append(c_t)
    return np.stack(states), states[-1], cells[-1]


@mistake("lstm_forward", "c-not-carried", "the cell state is not carried from step to step", """
    Both states are carried: step t starts from h_{t-1} and from c_{t-1}. If every step
    starts from c_0 (for example because the loop updates h but passes c_0 to the cell each
    time, or keeps c_t in a variable it never reads), the cell forgets everything, and the
    long-term memory the LSTM is built for is gone.""")
def _(X, h_0, c_0, W_ih, W_hh, b_ih, b_hh):
    return _stepwise(X, h_0, c_0, W_ih, W_hh, b_ih, b_hh, carry_c=False)


@mistake("lstm_forward", "states-not-carried", "neither state is carried from step to step", """
    Each step must start from the states the step before produced, (h_{t-1}, c_{t-1}).
    Starting every step from (h_0, c_0) turns the LSTM into T separate one-step models.
    Look inside your loop for a call that passes h_0 and c_0 instead of the updated
    states.""")
def _(X, h_0, c_0, W_ih, W_hh, b_ih, b_hh):
    return _stepwise(X, h_0, c_0, W_ih, W_hh, b_ih, b_hh, carry_h=False, carry_c=False)


@mistake("lstm_forward", "c_0-ignored", "c_0 ignored (the cell state starts from zeros)", """
    The recurrence starts from the (h_0, c_0) it is given. nn.LSTM uses zeros only when no
    initial states are passed; here both are, and the first step must read c_0 as well as
    h_0.""")
def _(X, h_0, c_0, W_ih, W_hh, b_ih, b_hh):
    return _run_lstm(X, h_0, np.zeros_like(c_0), W_ih, W_hh, b_ih, b_hh)


@mistake("lstm_forward", "h_n-c_n-swapped", "h_n and c_n returned in each other's place", """
    nn.LSTM returns output, (h_n, c_n): first the hidden state after the last step, which
    equals output[-1], then the cell state. Return (output, h_n, c_n) in that order.""")
def _(X, h_0, c_0, W_ih, W_hh, b_ih, b_hh):
    output, h_n, c_n = _run_lstm(X, h_0, c_0, W_ih, W_hh, b_ih, b_hh)
    return output, c_n, h_n


@mistake("lstm_forward", "output-holds-c", "the cell states stored in output instead of the hidden states", """
    output holds the hidden state of every step, h_1 to h_T, which a head on top of the
    LSTM reads; the cell states stay inside the layer, and only the last one comes back,
    as c_n.""")
def _(X, h_0, c_0, W_ih, W_hh, b_ih, b_hh):
    cells, c = [], c_0
    h = h_0
    for t in range(len(X)):
        _, h, c = _run_lstm(X[t:t + 1], h, c, W_ih, W_hh, b_ih, b_hh)
        cells.append(c)
    return np.stack(cells), h, c


_UNPACK_EQ = ("each packed array has 4H rows (weights) or 4H entries (biases) in four consecutive "
              "blocks of H: rows 0..H-1 belong to i, H..2H-1 to f, 2H..3H-1 to g (the candidate), "
              "3H..4H-1 to o")


def _unpack_in_order(order, W_ih, W_hh, b_ih, b_hh):
    return _unpack_reference(**_permuted(order, W_ih, W_hh, b_ih, b_hh))


@mistake("unpack_lstm_weights", "order-ifog", "the blocks read in the order i, f, o, g", f"""
    The third block is the candidate g and the fourth the output gate o: PyTorch's order is
    i, f, g, o (its documentation lists W_ii|W_if|W_ig|W_io). CS231n and fastai use i, f, o,
    g. In the packed layout: {_UNPACK_EQ}.""")
def _(W_ih, W_hh, b_ih, b_hh):
    return _unpack_in_order((0, 1, 3, 2), W_ih, W_hh, b_ih, b_hh)


@mistake("unpack_lstm_weights", "order-igfo", "the blocks read in the order i, g, f, o", f"""
    TensorFlow's BasicLSTMCell splits its packed matrix as i, j, f, o (j being the
    candidate), so the second block is the candidate there; in PyTorch the second block is
    the forget gate. In the packed layout: {_UNPACK_EQ}.""")
def _(W_ih, W_hh, b_ih, b_hh):
    return _unpack_in_order((0, 2, 1, 3), W_ih, W_hh, b_ih, b_hh)


@mistake("unpack_lstm_weights", "rows-interleaved", "the gates taken as every fourth row (interleaved)", f"""
    The blocks are consecutive, not interleaved: W.reshape(4, H, -1)[k] is gate k, while
    W.reshape(H, 4, -1)[:, k] (or W[k::4]) takes rows k, k+4, k+8, ... from all four
    blocks. In the packed layout: {_UNPACK_EQ}.""")
def _(W_ih, W_hh, b_ih, b_hh):
    H = W_ih.shape[0] // 4
    order = [r * 4 + k for k in range(4) for r in range(H)]  # rows k, k+4, ... for gate k
    return _unpack_reference(W_ih[order], W_hh[order], b_ih[order], b_hh[order])


_BACK_EQ = ("the total gradient at c_t is dc = dc_t + dh_t * o_t * (1 - tanh(c_t)^2); then "
            "do = dh_t * tanh(c_t), di = dc * g, df = dc * c_{t-1}, dg = dc * i_t, dc_prev = dc * f_t; "
            "through the sigmoids (s (1 - s)) and the tanh (1 - g^2) to the pre-activation da, "
            "packed as i, f, g, o: dx_t = da W_ih, dh_prev = da W_hh, dW_ih = da^T x_t, "
            "dW_hh = da^T h_prev, db = the sum of da over the batch")


def _variant_backward(dh_t, dc_t, x_t, h_prev, c_prev, i, f, g, o, c_t, W_ih, W_hh, b_ih, b_hh,
                      use_dc=True, h_reaches_c=True, tanh_prime=True, gate_dc_prev=True):
    """Autograd of the step written with torch operations, with one path of the graph
    changed; every forward value stays that of the reference (only derivatives change)."""
    import torch

    lstm, (x, h, c) = _step_graph(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, i, f, g, o, c_t)
    z = x @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h @ lstm.weight_hh_l0.T + lstm.bias_hh_l0
    zi, zf, zg, zo = z.chunk(4, dim=1)
    gi, gf, gg, go = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
    # c_prev - c_prev.detach() is zero, but its derivative is 1: the gradient reaches
    # c_prev without the factor f_t.
    old = gf * c if gate_dc_prev else gf * c.detach() + (c - c.detach())
    cell = old + gi * gg
    if not h_reaches_c:
        hidden = go * torch.tanh(cell.detach())
    elif not tanh_prime:
        # value o * tanh(c), derivative o with respect to c (the tanh' forgotten)
        hidden = go * torch.tanh(cell.detach()) + go.detach() * (cell - cell.detach())
    else:
        hidden = go * torch.tanh(cell)
    loss = (hidden * _t(dh_t)).sum() + ((cell * _t(dc_t)).sum() if use_dc else 0)
    return _grads(lstm, (x, h, c), loss)


@mistake("lstm_cell_backward", "dc_t-ignored", "the upstream dc_t dropped", f"""
    c_t reaches the loss along two paths: through h_t = o_t * tanh(c_t) in this step, and
    directly to the next step, whose gradient arrives as dc_t. The total gradient at c_t is
    the sum of both; using only the part through h_t drops everything the cell state
    carries back from later steps, the very path that lets LSTM gradients survive. The
    equations: {_BACK_EQ}.""")
def _(dh_t, dc_t, x_t, h_prev, c_prev, i, f, g, o, c_t, W_ih, W_hh, b_ih, b_hh):
    return _variant_backward(dh_t, dc_t, x_t, h_prev, c_prev, i, f, g, o, c_t, W_ih, W_hh, b_ih, b_hh,
                             use_dc=False)


@mistake("lstm_cell_backward", "h-path-to-c-dropped", "the gradient from h_t into c_t dropped", f"""
    h_t = o_t * tanh(c_t) depends on c_t, so dh_t flows into c_t as dh_t * o_t *
    (1 - tanh(c_t)^2), and must be added to the dc_t that arrives from the next step.
    With dc = dc_t alone, the gradient through c_t misses this step's output. The
    equations: {_BACK_EQ}.""")
def _(dh_t, dc_t, x_t, h_prev, c_prev, i, f, g, o, c_t, W_ih, W_hh, b_ih, b_hh):
    return _variant_backward(dh_t, dc_t, x_t, h_prev, c_prev, i, f, g, o, c_t, W_ih, W_hh, b_ih, b_hh,
                             h_reaches_c=False)


@mistake("lstm_cell_backward", "no-tanh-prime-on-c", "the tanh' on c_t forgotten", f"""
    The gradient from h_t to c_t passes through tanh: dh_t * o_t * (1 - tanh(c_t)^2), not
    dh_t * o_t. Note that the factor is computed from tanh(c_t), not from h_t. The
    equations: {_BACK_EQ}.""")
def _(dh_t, dc_t, x_t, h_prev, c_prev, i, f, g, o, c_t, W_ih, W_hh, b_ih, b_hh):
    return _variant_backward(dh_t, dc_t, x_t, h_prev, c_prev, i, f, g, o, c_t, W_ih, W_hh, b_ih, b_hh,
                             tanh_prime=False)


@mistake("lstm_cell_backward", "dc_prev-without-f", "dc_prev passed back without the forget gate", f"""
    c_t = f_t * c_{{t-1}} + i_t * candidate, so the gradient reaching c_{{t-1}} is dc * f_t:
    the forget gate scales the gradient on its way back exactly as it scales the cell state
    on its way forward. This product, diag(f_t), is dc_t/dc_{{t-1}}. The equations:
    {_BACK_EQ}.""")
def _(dh_t, dc_t, x_t, h_prev, c_prev, i, f, g, o, c_t, W_ih, W_hh, b_ih, b_hh):
    return _variant_backward(dh_t, dc_t, x_t, h_prev, c_prev, i, f, g, o, c_t, W_ih, W_hh, b_ih, b_hh,
                             gate_dc_prev=False)


@mistake("lstm_cell_backward", "packed-ifog", "the gate gradients packed in the order i, f, o, g", f"""
    The gradient at the pre-activation, da (B, 4H), must have the layout of a_t: four blocks
    of H columns in PyTorch's order i, f, g, o, like the rows of W_ih, W_hh and the biases.
    Concatenating the gates' gradients as i, f, o, g puts the candidate's gradient where
    the output gate's belongs, and every gradient computed from da (all but dc_prev) is
    wrong. The equations: {_BACK_EQ}.""")
def _(dh_t, dc_t, x_t, h_prev, c_prev, i, f, g, o, c_t, W_ih, W_hh, b_ih, b_hh):
    import torch

    lstm, (x, h, c) = _step_graph(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, i, f, g, o, c_t)
    z = x @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h @ lstm.weight_hh_l0.T + lstm.bias_hh_l0
    zi, zf, zg, zo = z.chunk(4, dim=1)
    cell = torch.sigmoid(zf) * c + torch.sigmoid(zi) * torch.tanh(zg)
    loss = (torch.sigmoid(zo) * torch.tanh(cell) * _t(dh_t)).sum() + (cell * _t(dc_t)).sum()
    dz, dc_prev = torch.autograd.grad(loss, (z, c))
    dz_wrong = torch.cat([dz.chunk(4, dim=1)[k] for k in (0, 1, 3, 2)], dim=1)
    lstm.zero_grad()
    x2, h2 = (_t(v).requires_grad_() for v in (x_t, h_prev))
    affine = x2 @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h2 @ lstm.weight_hh_l0.T
    (affine * dz_wrong).sum().backward()
    return (x2.grad.numpy(), h2.grad.numpy(), dc_prev.numpy(), lstm.weight_ih_l0.grad.numpy(),
            lstm.weight_hh_l0.grad.numpy(), lstm.bias_ih_l0.grad.numpy())
