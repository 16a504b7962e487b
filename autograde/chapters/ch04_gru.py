"""Chapter 4, GRU: the graded functions, their inputs and their PyTorch references.

References are what PyTorch computes with the very same weights, in float64: `nn.GRU`
for the cell and the sequence; the reset-before-the-matmul variant (Cho et al. 2014's
second form, d2l's GRU), which no torch module implements, written with torch
operations; and `sum(p.numel())` of a real `nn.RNN` / `nn.LSTM` / `nn.GRU` for the
parameter count.

PyTorch packs the three blocks along the first axis of `weight_ih_l0` (3H, D),
`weight_hh_l0` (3H, H), `bias_ih_l0` and `bias_hh_l0` (3H,), in the order r, z, n
(reset gate, update gate, candidate state).
"""
from __future__ import annotations

import numpy as np

from .registry import Chapter, hidden_kind, mistake
from .torchref import GENERAL, SHAPE_KINDS, distinct_sizes, shape_kind_of
from .torchref import tensor as _t
from .torchref import packed_weights, sequence_shape, with_weights

CHAPTER = Chapter("04-gru")

def _shape(rng: np.random.Generator, index: int) -> tuple[int, int, int, int]:
    return sequence_shape(rng, index)


def _weights(rng: np.random.Generator, D: int, H: int) -> dict[str, np.ndarray]:
    return packed_weights(rng, D, H, blocks=3, w_hh=0.8, b=0.6)


def _run_gru(X, h_0, W_ih, W_hh, b_ih, b_hh):
    """nn.GRU's (output, h_n), with the layer axis of h_n dropped."""
    import torch

    with torch.no_grad():
        output, h_n = with_weights("GRU", W_ih, W_hh, b_ih, b_hh)(_t(X), _t(h_0)[None])
    return output.numpy(), h_n[0].numpy()


def _reorder(W, order):
    """The packed array W (3H, ...) with its three blocks taken in `order` (indices into
    r, z, n): what a student who reads the blocks in another order computes."""
    H = W.shape[0] // 3
    return np.concatenate([W[k * H:(k + 1) * H] for k in order])


def _permuted(order, W_ih, W_hh, b_ih, b_hh):
    return {"W_ih": _reorder(W_ih, order), "W_hh": _reorder(W_hh, order),
            "b_ih": _reorder(b_ih, order), "b_hh": _reorder(b_hh, order)}


def _torch_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh, reset="after", swap_z=False,
                b_hn_outside=False):
    """One GRU step written with torch operations, with one thing changeable.

    reset="after" is PyTorch's n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn));
    reset="before" is n = tanh(x W_in^T + b_in + (r * h) W_hn^T + b_hn)."""
    import torch
    from torch.nn.functional import linear

    x, h = _t(x_t), _t(h_prev)
    i_r, i_z, i_n = linear(x, _t(W_ih), _t(b_ih)).chunk(3, dim=1)
    W_hr, W_hz, W_hn = _t(W_hh).chunk(3, dim=0)
    b_hr, b_hz, b_hn = _t(b_hh).chunk(3, dim=0)
    r = torch.sigmoid(i_r + linear(h, W_hr, b_hr))
    z = torch.sigmoid(i_z + linear(h, W_hz, b_hz))
    if reset == "before":
        n = torch.tanh(i_n + linear(r * h, W_hn, b_hn))
    elif b_hn_outside:
        n = torch.tanh(i_n + b_hn + r * linear(h, W_hn))
    else:
        n = torch.tanh(i_n + r * linear(h, W_hn, b_hn))
    h_t = z * n + (1 - z) * h if swap_z else (1 - z) * n + z * h
    return h_t.numpy()


# --- gru_cell -------------------------------------------------------------------------

def _cell_inputs(rng, index):
    T, B, D, H = _shape(rng, index)
    return {"x_t": rng.normal(size=(B, D)), "h_prev": rng.uniform(-1, 1, (B, H)), **_weights(rng, D, H)}


def _cell_reference(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    _, h_n = _run_gru(x_t[None], h_prev, W_ih, W_hh, b_ih, b_hh)
    return (h_n,)


CHAPTER.graded(
    name="gru_cell",
    kinds=(GENERAL,), kind_of=shape_kind_of,
    inputs=("x_t", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh"), outputs=("h_t",),
    make_inputs=_cell_inputs, reference=_cell_reference, matches="nn.GRU (one time step)",
)


# --- gru_forward ----------------------------------------------------------------------

def _forward_inputs(rng, index):
    T, B, D, H = _shape(rng, index)
    return {"X": rng.normal(size=(T, B, D)), "h_0": rng.uniform(-1, 1, (B, H)), **_weights(rng, D, H)}


CHAPTER.graded(
    name="gru_forward",
    kinds=(GENERAL,), kind_of=shape_kind_of,
    inputs=("X", "h_0", "W_ih", "W_hh", "b_ih", "b_hh"), outputs=("output", "h_n"),
    make_inputs=_forward_inputs, reference=_run_gru, matches="nn.GRU",
    uses=("gru_cell",),
)


# --- gru_cell_reset_before ------------------------------------------------------------

def _reset_before_reference(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    """The reset-before variant, written with torch operations from its equations
    (no torch module implements it); same packed layout and biases as nn.GRU."""
    return (_torch_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh, reset="before"),)


CHAPTER.graded(
    name="gru_cell_reset_before",
    kinds=(GENERAL,), kind_of=shape_kind_of,
    inputs=("x_t", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh"), outputs=("h_t",),
    make_inputs=_cell_inputs, reference=_reset_before_reference,
    matches="the reset-before GRU step (d2l; Cho et al. 2014), written with torch operations",
)


# --- param_count ----------------------------------------------------------------------

_COUNT_CASES = [
    # seed 004's two-layer GRU, made bidirectional: the second bias, layer 2's input
    # (2H, not D or H) all show
    {"mode": "GRU", "input_size": 16, "hidden_size": 64, "num_layers": 2, "bidirectional": True,
     "bias": True, "proj_size": 0},
    # an LSTM with a projection: weight_hr, and layer 2 reads proj_size features
    {"mode": "LSTM", "input_size": 10, "hidden_size": 20, "num_layers": 2, "bidirectional": False,
     "bias": True, "proj_size": 5},
    {"mode": "RNN", "input_size": 3, "hidden_size": 5, "num_layers": 1, "bidirectional": False,
     "bias": False, "proj_size": 0},
]

# Hidden cases: (mode, several layers?, bidirectional, bias, projection?) by index, sizes
# drawn; so every mistake shows on some hidden case of every seed.
_HIDDEN_KINDS = [("GRU", True, True, True, False), ("LSTM", True, False, True, True),
                 ("RNN", True, True, True, False), ("LSTM", True, True, False, True),
                 ("GRU", False, False, False, False), ("LSTM", True, True, True, True)]


def _count_inputs(rng, index):
    if index < len(_COUNT_CASES):
        return dict(_COUNT_CASES[index])
    mode, deep, bidirectional, bias, proj = hidden_kind(_HIDDEN_KINDS, index, len(_COUNT_CASES))
    hidden_size = int(rng.integers(3, 40))
    input_size = int(rng.integers(1, 40))
    while input_size in (hidden_size, 2 * hidden_size):
        input_size += 1
    return {"mode": mode, "input_size": input_size, "hidden_size": hidden_size,
            "num_layers": int(rng.integers(2, 5)) if deep else 1, "bidirectional": bidirectional,
            "bias": bias, "proj_size": int(rng.integers(1, hidden_size)) if proj else 0}


def _count_kind_of(case) -> set[str]:
    kind = (case["mode"], case["num_layers"] > 1, case["bidirectional"], case["bias"], case["proj_size"] > 0)
    sizes = (case["input_size"], case["hidden_size"], 2 * case["hidden_size"])
    return {str(kind)} if len(set(sizes)) == 3 else set()


def _module(mode, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True, proj_size=0):
    import torch

    kwargs = {"proj_size": proj_size} if mode == "LSTM" else {}
    if mode != "LSTM" and proj_size:
        raise ValueError("proj_size is an argument of nn.LSTM only")
    layer = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[mode]
    return layer(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional,
                 bias=bias, **kwargs)


def _count_reference(mode, input_size, hidden_size, num_layers, bidirectional, bias, proj_size):
    module = _module(mode, input_size, hidden_size, num_layers, bidirectional, bias, proj_size)
    return (sum(p.numel() for p in module.parameters()),)


CHAPTER.graded(
    name="param_count",
    inputs=("mode", "input_size", "hidden_size", "num_layers", "bidirectional", "bias", "proj_size"),
    outputs=("count",), make_inputs=_count_inputs, reference=_count_reference,
    matches="sum(p.numel()) of nn.RNN / nn.LSTM / nn.GRU", n_hidden=len(_HIDDEN_KINDS),
    kinds=tuple(map(str, _HIDDEN_KINDS)), kind_of=_count_kind_of,
)


# --- known mistakes -------------------------------------------------------------------
# Each is computed with PyTorch from the same inputs as the reference: nn.GRU with its
# blocks reordered, the step written with torch operations with one thing changed, or
# the numel of real modules.

_CELL_EQ = ("with the blocks of W_ih, W_hh, b_ih, b_hh in the order r, z, n: "
            "r_t = sigmoid(x_t W_ir^T + b_ir + h_{t-1} W_hr^T + b_hr), "
            "z_t = sigmoid(x_t W_iz^T + b_iz + h_{t-1} W_hz^T + b_hz), "
            "n_t = tanh(x_t W_in^T + b_in + r_t * (h_{t-1} W_hn^T + b_hn)), "
            "h_t = (1 - z_t) * n_t + z_t * h_{t-1}")
_BEFORE_EQ = ("with the blocks in the order r, z, n and r_t, z_t as in nn.GRU: "
              "n_t = tanh(x_t W_in^T + b_in + (r_t * h_{t-1}) W_hn^T + b_hn), "
              "h_t = (1 - z_t) * n_t + z_t * h_{t-1}")


def _order_zrn(x_t, h_prev, W_ih, W_hh, b_ih, b_hh, reset="after"):
    return (_torch_step(x_t, h_prev, **_permuted((1, 0, 2), W_ih, W_hh, b_ih, b_hh), reset=reset),)


@mistake("gru_cell", "order-zrn", "the gate blocks read in the order z, r, n", f"""
    PyTorch packs the blocks of W_ih, W_hh and both biases as r, z, n: the reset gate
    first, then the update gate. Many texts introduce the update gate first (and Keras
    packs z, r, h), and a cell that reads the first block as z_t swaps the two gates:
    the shapes all fit, so nothing fails. The step: {_CELL_EQ}.""")
def _(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return _order_zrn(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)


@mistake("gru_cell", "reset-before", "the reset gate applied to h_{t-1} before the matmul", f"""
    This is the other GRU (d2l's, and the second form in Cho et al. 2014):
    n_t = tanh(x_t W_in^T + b_in + (r_t * h_{{t-1}}) W_hn^T + b_hn). nn.GRU applies the
    reset gate after the matmul, to the whole recurrent term including its bias:
    r_t * (h_{{t-1}} W_hn^T + b_hn). The step: {_CELL_EQ}.""")
def _(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return (_torch_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh, reset="before"),)


@mistake("gru_cell", "z-swapped", "z_t and 1 - z_t swapped in h_t", f"""
    In PyTorch's convention the update gate keeps the old state: h_t = (1 - z_t) * n_t +
    z_t * h_{{t-1}}, so z_t near 1 copies h_{{t-1}}. Seed 002 and deeplearning.ai write
    the other convention (z_t scales the candidate); it is the same model with z
    relabelled as 1 - z, but with PyTorch's weights it computes something else. The step:
    {_CELL_EQ}.""")
def _(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return (_torch_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh, swap_z=True),)


@mistake("gru_cell", "b_hn-outside-reset", "b_hn added outside the reset product", f"""
    In nn.GRU the reset gate scales the whole recurrent term of the candidate, bias
    included: r_t * (h_{{t-1}} W_hn^T + b_hn). Adding b_hn next to b_in, outside the
    product, is what one gets by summing all the biases first, as for the gates; for the
    candidate b_in and b_hn are not interchangeable. The step: {_CELL_EQ}.""")
def _(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return (_torch_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh, b_hn_outside=True),)


def _stepwise(X, h_0, W_ih, W_hh, b_ih, b_hh, carry=True, **step):
    """The GRU run one step at a time (torch operations), each step starting from the
    carried state or from h_0."""
    h, states = h_0, []
    for x_t in X:
        h_t = _torch_step(x_t, h if carry else h_0, W_ih, W_hh, b_ih, b_hh, **step)
        h = h_t
        states.append(h_t)
    return np.stack(states), states[-1]


@mistake("gru_forward", "states-not-carried", "every step started from h_0", """
    Step t starts from the state the step before produced, h_{t-1}. Starting every step
    from h_0 turns the GRU into T separate one-step models. Look inside your loop for a
    call that passes h_0 instead of the updated state.""")
def _(X, h_0, W_ih, W_hh, b_ih, b_hh):
    return _stepwise(X, h_0, W_ih, W_hh, b_ih, b_hh, carry=False)


@mistake("gru_forward", "h_0-ignored", "h_0 ignored (the state starts from zeros)", """
    The sequence starts from the given initial state h_0, as nn.GRU does when it is
    passed one; it is zeros only when none is passed. Look for a loop that starts from
    np.zeros instead of h_0.""")
def _(X, h_0, W_ih, W_hh, b_ih, b_hh):
    return _run_gru(X, np.zeros_like(h_0), W_ih, W_hh, b_ih, b_hh)


@mistake("gru_forward", "z-swapped", "z_t and 1 - z_t swapped in h_t", f"""
    Every step mixes with h_t = (1 - z_t) * n_t + z_t * h_{{t-1}} (PyTorch's convention:
    z_t near 1 keeps the old state). The other convention, seed 002's and
    deeplearning.ai's, is the same model with z relabelled as 1 - z, not the same
    function of PyTorch's weights. Check the cell your loop calls. The step: {_CELL_EQ}.""")
def _(X, h_0, W_ih, W_hh, b_ih, b_hh):
    return _stepwise(X, h_0, W_ih, W_hh, b_ih, b_hh, swap_z=True)


@mistake("gru_forward", "order-zrn", "the gate blocks read in the order z, r, n", f"""
    PyTorch packs the blocks as r, z, n; reading them as z, r, n swaps the reset and the
    update gate at every step. Check the cell your loop calls. The step: {_CELL_EQ}.""")
def _(X, h_0, W_ih, W_hh, b_ih, b_hh):
    return _run_gru(X, h_0, **_permuted((1, 0, 2), W_ih, W_hh, b_ih, b_hh))


@mistake("gru_cell_reset_before", "reset-after", "the reset gate applied after the matmul (PyTorch's variant)",
         f"""
    This function asks for the other variant: the reset gate scales h_{{t-1}} before it
    is multiplied by W_hn, (r_t * h_{{t-1}}) W_hn^T + b_hn, and b_hn is not reset. What
    you computed, r_t * (h_{{t-1}} W_hn^T + b_hn), is nn.GRU's candidate. The step:
    {_BEFORE_EQ}.""")
def _(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return _cell_reference(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)


@mistake("gru_cell_reset_before", "order-zrn", "the gate blocks read in the order z, r, n", f"""
    The variant keeps PyTorch's packed layout, blocks in the order r, z, n: reading the
    first block as the update gate swaps the two gates. The step: {_BEFORE_EQ}.""")
def _(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return _order_zrn(x_t, h_prev, W_ih, W_hh, b_ih, b_hh, reset="before")


@mistake("gru_cell_reset_before", "z-swapped", "z_t and 1 - z_t swapped in h_t", f"""
    The variant changes only the candidate; the mix is still PyTorch's,
    h_t = (1 - z_t) * n_t + z_t * h_{{t-1}} (d2l writes the same). The step:
    {_BEFORE_EQ}.""")
def _(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return (_torch_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh, reset="before", swap_z=True),)


@mistake("gru_cell_reset_before", "b_hn-reset", "b_hn multiplied by the reset gate too", f"""
    In this variant the reset gate multiplies h_{{t-1}} only; b_hn is added after the
    matmul, unscaled: (r_t * h_{{t-1}}) W_hn^T + b_hn. Scaling b_hn by r_t as well mixes
    in PyTorch's variant. The step: {_BEFORE_EQ}.""")
def _(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    # r * ((r h) W_hn^T + b_hn) is what the reset-after step computes with h replaced
    # by r h for the candidate only: written out with torch operations
    import torch
    from torch.nn.functional import linear

    x, h = _t(x_t), _t(h_prev)
    a_i = linear(x, _t(W_ih), _t(b_ih))
    a_h = linear(h, _t(W_hh), _t(b_hh))
    r = torch.sigmoid(a_i[:, :H] + a_h[:, :H])
    z = torch.sigmoid(a_i[:, H:2 * H] + a_h[:, H:2 * H])
    n = torch.tanh(a_i[:, 2 * H:] + r * linear(r * h, _t(W_hh)[2 * H:], _t(b_hh)[2 * H:]))
    return (((1 - z) * n + z * h).numpy(),)


def _counts(mode, input_size, hidden_size, num_layers, bidirectional, bias, proj_size):
    """The numel of every parameter of the real module, by name."""
    module = _module(mode, input_size, hidden_size, num_layers, bidirectional, bias, proj_size)
    return {name: p.numel() for name, p in module.named_parameters()}


def _sum(counts, keep=lambda name: True):
    return sum(n for name, n in counts.items() if keep(name))


@mistake("param_count", "one-bias", "one bias per gate block instead of two", """
    nn.RNN, nn.LSTM and nn.GRU learn two bias vectors per layer and direction, bias_ih and
    bias_hh, each of gates * hidden_size numbers (gates = 1, 4, 3): papers write one bias
    per gate, PyTorch (like cuDNN) keeps two.""")
def _(mode, input_size, hidden_size, num_layers, bidirectional, bias, proj_size):
    return (_sum(_counts(mode, input_size, hidden_size, num_layers, bidirectional, bias, proj_size),
                 lambda name: not name.startswith("bias_hh")),)


def _upper_count(mode, first_input, upper_input, hidden_size, num_layers, bidirectional, bias, proj_size):
    """Layer 1 as nn.* builds it for first_input, and every layer above as a one-layer
    module reading upper_input features."""
    total = _sum(_counts(mode, first_input, hidden_size, 1, bidirectional, bias, proj_size))
    return total + (num_layers - 1) * _sum(_counts(mode, upper_input, hidden_size, 1, bidirectional, bias,
                                                   proj_size))


@mistake("param_count", "upper-input-D", "layers above the first counted as reading input_size", """
    Only layer 1 reads x_t, with input_size features. Layer 2 and up read the layer
    below: hidden_size features (proj_size for an LSTM with a projection), twice that when
    bidirectional. So weight_ih_l1 is [gates * hidden_size, hidden_size] (seed 004 prints
    gru.weight_ih_l1 : [192, 64]), not [.., input_size].""")
def _(mode, input_size, hidden_size, num_layers, bidirectional, bias, proj_size):
    return (_upper_count(mode, input_size, input_size, hidden_size, num_layers, bidirectional, bias, proj_size),)


@mistake("param_count", "upper-input-one-direction", "layer 2 counted as reading one direction", """
    In a bidirectional network the layers above the first read both directions of the
    layer below, concatenated: 2 hidden_size features (2 proj_size with a projection), so
    their weight_ih is [gates * hidden_size, 2 hidden_size].""")
def _(mode, input_size, hidden_size, num_layers, bidirectional, bias, proj_size):
    out = proj_size or hidden_size
    return (_upper_count(mode, input_size, out, hidden_size, num_layers, bidirectional, bias, proj_size),)


@mistake("param_count", "proj-ignored", "proj_size ignored", """
    An nn.LSTM with proj_size > 0 projects h_t down to proj_size numbers with an extra
    matrix weight_hr [proj_size, hidden_size] per layer and direction; the recurrent weight
    becomes weight_hh [4 hidden_size, proj_size], and layers above the first read
    proj_size (or 2 proj_size) features. Counting it as a plain LSTM misses all three.""")
def _(mode, input_size, hidden_size, num_layers, bidirectional, bias, proj_size):
    return _count_reference(mode, input_size, hidden_size, num_layers, bidirectional, bias, 0)


@mistake("param_count", "weight_hr-missing", "the projection weight_hr not counted", """
    With proj_size > 0 every layer and direction of nn.LSTM has one more matrix,
    weight_hr [proj_size, hidden_size], that maps h_t from hidden_size to proj_size
    numbers (the smaller weight_hh [4 hidden_size, proj_size] alone is not the whole
    change).""")
def _(mode, input_size, hidden_size, num_layers, bidirectional, bias, proj_size):
    return (_sum(_counts(mode, input_size, hidden_size, num_layers, bidirectional, bias, proj_size),
                 lambda name: not name.startswith("weight_hr")),)


@mistake("param_count", "upper-input-hidden-not-proj", "layer 2 counted as reading hidden_size, not proj_size",
         """
    With a projection the output of an LSTM layer, h_t, has proj_size numbers, not
    hidden_size: the layer above reads proj_size features (2 proj_size when
    bidirectional), so its weight_ih is [4 hidden_size, proj_size].""")
def _(mode, input_size, hidden_size, num_layers, bidirectional, bias, proj_size):
    upper = hidden_size * (2 if bidirectional else 1)
    return (_upper_count(mode, input_size, upper, hidden_size, num_layers, bidirectional, bias, proj_size),)
