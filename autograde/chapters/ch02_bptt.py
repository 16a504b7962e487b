"""Chapter 2, backpropagation through time: the graded functions, their inputs and their
PyTorch references.

References are what PyTorch computes with the very same weights, in float64: autograd
through `nn.RNN` for the cell and sequence backward passes and for the truncated-BPTT
step (with `nn.Linear`, `nn.MSELoss` and `torch.optim.SGD`), autograd of a small loss
for the numerical gradient, and `torch.nn.utils.clip_grad_norm_` for clipping.

The backward functions receive the forward states (`h_t`, `output`) but not the biases:
given the states, the gradients do not depend on them. The reference recovers the sum
of the biases from the states (`_bias_from_states`) so that it can run the very same
`nn.RNN` forward and backward.
"""
from __future__ import annotations

import numpy as np

from ..kernel.adapters import ch02_bptt as adapters
from .registry import Chapter, hidden_kind, mistake
from .torchref import GENERAL, SHAPE_KINDS, distinct_sizes, shape_kind_of
from .torchref import rnn_with_weights as _torch_rnn
from .torchref import rnn_weights
from .torchref import tensor as _t

CHAPTER = Chapter("02-bptt")

# Shapes of the first cases (T, B, D, H, O): all sizes differ, so a transposed weight or
# gradient is caught by shape; a single-step and a single-example case follow.
_SHAPES = [(5, 3, 4, 6, 2), (1, 2, 3, 5, 3), (7, 1, 2, 3, 4)]


def _shape(rng: np.random.Generator, index: int) -> tuple[int, int, int, int, int]:
    if index < len(_SHAPES):
        return _SHAPES[index]
    # Hidden cases: at least two time steps and two hidden units, so that every mistake
    # in the recursion over time or in a transpose of W_hh changes the result.
    if hidden_kind(SHAPE_KINDS, index, len(_SHAPES)) == GENERAL:
        return distinct_sizes(rng, [2, 2, 2, 2, 2], [9, 5, 6, 8, 5])
    T, B, D, H, O = (int(v) for v in rng.integers([2, 1, 1, 2, 1], [9, 5, 6, 8, 5]))
    return T, B, D, H, O


def _weights(rng: np.random.Generator, D: int, H: int) -> dict[str, np.ndarray]:
    # W_hh smaller than in chapter 1, so the gradient still carries over several steps.
    return rnn_weights(rng, D, H, w_hh=0.6)


def _forward(X, h_0, W_ih, W_hh, b_ih, b_hh):
    """The states h_1..h_T of nn.RNN: (T, B, H)."""
    import torch

    with torch.no_grad():
        output, _ = _torch_rnn(W_ih, W_hh, b_ih, b_hh)(_t(X), _t(h_0)[None])
    return output.numpy()


def _bias_from_states(X, h_0, output, W_ih, W_hh):
    """b_ih + b_hh, recovered from states made by nn.RNN: arctanh(h_t) minus the weighted
    inputs is the same bias row at every step and in every example."""
    h_prev = np.concatenate([h_0[None], output[:-1]])
    a = np.arctanh(output) - X @ W_ih.T - h_prev @ W_hh.T
    b = a.reshape(-1, a.shape[-1]).mean(axis=0)
    if not np.allclose(a, b, rtol=0, atol=1e-8):
        raise ValueError("the states were not made by an Elman RNN with these weights")
    return b


def _sequence_grads(d_output, X, h_0, output, W_ih, W_hh):
    """Autograd of sum(output * d_output) through nn.RNN, whose states are `output`."""
    import torch

    b = _bias_from_states(X, h_0, output, W_ih, W_hh)
    rnn = _torch_rnn(W_ih, W_hh, b, np.zeros_like(b))
    X_t, h0_t = _t(X).requires_grad_(), _t(h_0)[None].requires_grad_()
    out, _ = rnn(X_t, h0_t)
    (out * _t(d_output)).sum().backward()
    return (X_t.grad.numpy(), h0_t.grad[0].numpy(), rnn.weight_ih_l0.grad.numpy(),
            rnn.weight_hh_l0.grad.numpy(), rnn.bias_ih_l0.grad.numpy())


# --- rnn_cell_backward ----------------------------------------------------------------

def _cell_backward_inputs(rng, index):
    T, B, D, H, _ = _shape(rng, index)
    x_t, h_prev = rng.normal(size=(B, D)), rng.uniform(-1, 1, (B, H))
    w = _weights(rng, D, H)
    h_t = _forward(x_t[None], h_prev, **w)[0]
    return {"dh_t": rng.normal(size=(B, H)), "x_t": x_t, "h_prev": h_prev, "h_t": h_t,
            "W_ih": w["W_ih"], "W_hh": w["W_hh"]}


def _cell_backward_reference(dh_t, x_t, h_prev, h_t, W_ih, W_hh):
    dX, dh_prev, dW_ih, dW_hh, db = _sequence_grads(dh_t[None], x_t[None], h_prev, h_t[None], W_ih, W_hh)
    return dX[0], dh_prev, dW_ih, dW_hh, db


CHAPTER.graded(
    name="rnn_cell_backward",
    kinds=(GENERAL,), kind_of=shape_kind_of,
    inputs=("dh_t", "x_t", "h_prev", "h_t", "W_ih", "W_hh"),
    outputs=("dx_t", "dh_prev", "dW_ih", "dW_hh", "db"),
    make_inputs=_cell_backward_inputs, reference=_cell_backward_reference,
    matches="torch autograd through one step of nn.RNN",
)


# --- rnn_backward ---------------------------------------------------------------------

def _backward_inputs(rng, index):
    T, B, D, H, _ = _shape(rng, index)
    X, h_0 = rng.normal(size=(T, B, D)), rng.uniform(-1, 1, (B, H))
    w = _weights(rng, D, H)
    output = _forward(X, h_0, **w)
    return {"d_output": rng.normal(size=(T, B, H)), "X": X, "h_0": h_0, "output": output,
            "W_ih": w["W_ih"], "W_hh": w["W_hh"]}


CHAPTER.graded(
    name="rnn_backward",
    kinds=(GENERAL,), kind_of=shape_kind_of,
    inputs=("d_output", "X", "h_0", "output", "W_ih", "W_hh"),
    outputs=("dX", "dh_0", "dW_ih", "dW_hh", "db"),
    make_inputs=_backward_inputs, reference=_sequence_grads,
    matches="torch autograd through nn.RNN",
    uses=("rnn_cell_backward",),
)


# --- numerical_gradient ---------------------------------------------------------------
# The function to differentiate is the squared error of a small two-layer network,
#     f(W, b) = sum((tanh(P W^T + b) V - Y)^2),   P (B, n), W (k, n), b (k,), V (k, m), Y (B, m),
# as a function of W (wrt=0) or of b (wrt=1). V mixes the hidden units, so no entry of W
# or b acts alone and a checker that leaves one entry perturbed is caught. The case file
# holds the arrays; `prepare` makes the function (numpy only: public checks need no PyTorch).

_GRAD_SHAPES = [(4, 3, 2, 3, 0), (3, 2, 5, 2, 1), (1, 4, 1, 1, 0)]  # (B, n, k, m, wrt)


def _numgrad_inputs(rng, index):
    if index < len(_GRAD_SHAPES):
        B, n, k, m, wrt = _GRAD_SHAPES[index]
    else:
        B, n, k, m = (int(v) for v in rng.integers([1, 1, 2, 1], [6, 6, 6, 4]))
        wrt = hidden_kind((0, 1), index, len(_GRAD_SHAPES))
    return {"P": rng.normal(size=(B, n)), "W": rng.normal(scale=0.7, size=(k, n)),
            "b": rng.normal(scale=0.5, size=k), "V": rng.normal(size=(k, m)),
            "Y": rng.uniform(-1, 1, (B, m)), "wrt": wrt}




def _numgrad_reference(P, W, b, V, Y, wrt):
    import torch

    W_t, b_t = _t(W).requires_grad_(), _t(b).requires_grad_()
    ((torch.tanh(_t(P) @ W_t.T + b_t) @ _t(V) - _t(Y)) ** 2).sum().backward()
    return ((W_t if wrt == 0 else b_t).grad.numpy(),)


CHAPTER.graded(
    name="numerical_gradient",
    inputs=("P", "W", "b", "V", "Y", "wrt"), outputs=("grad",),
    make_inputs=_numgrad_inputs, reference=_numgrad_reference,
    matches="torch autograd (to centred-difference accuracy)",
    prepare=adapters.numgrad_loss_and_point,
    kinds=("d/dW", "d/db"), kind_of=lambda case: {("d/dW", "d/db")[case["wrt"]]},
    # Centred differences with eps = 1e-6 agree with autograd to about 1e-9 here; a
    # one-sided (forward) difference is off by about eps * f''/2, 1e-7 or more.
    atol=2e-8, rtol=1e-8,
)


# --- clip_grad_norm -------------------------------------------------------------------
# Three gradients (shaped like dW_ih, dW_hh and db) in one list, as clip_grad_norm_
# takes a model's parameters. Case kinds: 0 no clipping, 1 clipping, 2 clipping of
# small gradients (where clip_grad_norm_'s 1e-6 in the scale shows).

def _clip_inputs(rng, index):
    _, _, D, H, _ = _shape(rng, index)
    kind = index if index < 3 else hidden_kind(range(3), index, 3)
    scale = {0: 0.5, 1: 2.0, 2: 1e-3}[kind]
    grads = {"g_ih": rng.normal(scale=scale, size=(H, D)), "g_hh": rng.normal(scale=scale, size=(H, H)),
             "g_b": rng.normal(scale=scale, size=H)}
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    factor = rng.uniform(1.5, 4.0) if kind == 0 else rng.uniform(0.2, 0.7)
    return {**grads, "max_norm": float(total * factor)}






_CLIP_KINDS = ("not clipped", "clipped", "small gradients clipped")


def _clip_kind_of(case) -> set[str]:
    total = np.sqrt(sum(np.sum(np.square(case[k])) for k in ("g_ih", "g_hh", "g_b")))
    if total <= case["max_norm"]:
        return {_CLIP_KINDS[0]}
    return {_CLIP_KINDS[2] if total < 0.1 else _CLIP_KINDS[1]}


def _clip_reference(g_ih, g_hh, g_b, max_norm):
    import torch

    params = [torch.nn.Parameter(torch.zeros(np.shape(g), dtype=torch.float64)) for g in (g_ih, g_hh, g_b)]
    for p, g in zip(params, (g_ih, g_hh, g_b)):
        p.grad = _t(g).clone()
    total_norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return (*(p.grad.numpy() for p in params), float(total_norm))


CHAPTER.graded(
    name="clip_grad_norm",
    inputs=("g_ih", "g_hh", "g_b", "max_norm"),
    outputs=("clipped_grads[0]", "clipped_grads[1]", "clipped_grads[2]", "total_norm"),
    make_inputs=_clip_inputs, reference=_clip_reference,
    matches="torch.nn.utils.clip_grad_norm_",
    prepare=adapters.clip_grads_list, unpack=adapters.clip_flatten,
    kinds=_CLIP_KINDS, kind_of=_clip_kind_of,
)


# --- tbptt_step -----------------------------------------------------------------------

def _tbptt_inputs(rng, index):
    T, B, D, H, O = _shape(rng, index)
    w = _weights(rng, D, H)
    return {"X_chunk": rng.normal(size=(T, B, D)), "Y_chunk": rng.normal(size=(T, B, O)),
            "h_carry": rng.uniform(-1, 1, (B, H)), **w,
            "W_hy": rng.uniform(-0.8, 0.8, (O, H)), "b_y": rng.uniform(-0.5, 0.5, O),
            "lr": float(rng.uniform(0.1, 0.5))}


def _tbptt_reference(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr):
    import torch

    rnn = _torch_rnn(W_ih, W_hh, b_ih, b_hh)
    head = torch.nn.Linear(W_hy.shape[1], W_hy.shape[0], dtype=torch.float64)
    with torch.no_grad():
        head.weight.copy_(_t(W_hy))
        head.bias.copy_(_t(b_y))
    params = [rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, head.weight, head.bias]
    optimiser = torch.optim.SGD(params, lr=lr)
    h_0 = _t(h_carry)[None].detach()  # the carried state is a constant: no gradient flows into it
    output, h_n = rnn(_t(X_chunk), h_0)
    loss = torch.nn.functional.mse_loss(head(output), _t(Y_chunk))  # mean over all T*B*O elements
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    return (*(p.detach().numpy().copy() for p in params), h_n[0].detach().numpy(), loss.item())


CHAPTER.graded(
    name="tbptt_step",
    kinds=(GENERAL,), kind_of=shape_kind_of,
    inputs=("X_chunk", "Y_chunk", "h_carry", "W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y", "lr"),
    outputs=("W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y", "h_next", "loss"),
    make_inputs=_tbptt_inputs, reference=_tbptt_reference,
    matches="nn.RNN + nn.Linear + MSELoss, autograd with h_carry detached, and optim.SGD",
    uses=("rnn_backward",),
)


# --- known mistakes -------------------------------------------------------------------
# Each is computed with PyTorch from the same inputs as the reference (registry.Mistake):
# autograd of a modified model, or the reference's outputs with one part changed.


_STEP_EQ = ("with da = dh_t (1 - h_t^2) elementwise: dx_t = da W_ih, dh_prev = da W_hh, dW_ih = da^T x_t, "
            "dW_hh = da^T h_prev, db = the sum of da over the batch")


def _affine_grads(G, x, h_prev, W_ih, W_hh):
    """Autograd of sum(G * (x W_ih^T + h_prev W_hh^T + b)) for a constant G (B, H): the
    gradients of one step when G is the gradient at its pre-activation."""
    import torch

    x_t, h_t, Wi, Wh = (_t(v).requires_grad_() for v in (x, h_prev, W_ih, W_hh))
    b = torch.zeros(Wi.shape[0], dtype=torch.float64, requires_grad=True)
    (_t(G) * (x_t @ Wi.T + h_t @ Wh.T + b)).sum().backward()
    return x_t.grad.numpy(), h_t.grad.numpy(), Wi.grad.numpy(), Wh.grad.numpy(), b.grad.numpy()


@mistake("rnn_cell_backward", "no-tanh-derivative", "the derivative of tanh left out", f"""
    The gradient reaching h_t must pass through tanh before it reaches the weights:
    multiply dh_t elementwise by tanh'(a_t) = 1 - h_t^2 first, and use that product
    everywhere. The equations are: {_STEP_EQ}.""")
def _(dh_t, x_t, h_prev, h_t, W_ih, W_hh):
    return _affine_grads(dh_t, x_t, h_prev, W_ih, W_hh)


@mistake("rnn_cell_backward", "derivative-at-h_prev", "the derivative of tanh taken at h_prev instead of h_t", f"""
    The tanh in this step produced h_t, so its derivative is 1 - h_t^2, not 1 - h_prev^2
    (h_prev is this step's input). The equations are: {_STEP_EQ}.""")
def _(dh_t, x_t, h_prev, h_t, W_ih, W_hh):
    return _affine_grads(dh_t * (1 - h_prev ** 2), x_t, h_prev, W_ih, W_hh)


@mistake("rnn_cell_backward", "derivative-not-squared", "the derivative of tanh written as 1 - h_t", f"""
    The derivative of tanh is 1 - tanh^2, so the factor is 1 - h_t^2, squared. The
    equations are: {_STEP_EQ}.""")
def _(dh_t, x_t, h_prev, h_t, W_ih, W_hh):
    return _affine_grads(dh_t * (1 - h_t), x_t, h_prev, W_ih, W_hh)


@mistake("rnn_cell_backward", "dW_hh-from-h_t", "the gradient of W_hh computed from h_t instead of h_prev", f"""
    W_hh multiplies the previous state in the forward step, h_prev W_hh^T, so its gradient
    is da^T h_prev. Using h_t pairs each gradient with the wrong state. The equations
    are: {_STEP_EQ}.""")
def _(dh_t, x_t, h_prev, h_t, W_ih, W_hh):
    da = dh_t * (1 - h_t ** 2)
    out = list(_affine_grads(da, x_t, h_prev, W_ih, W_hh))
    out[3] = _affine_grads(da, x_t, h_t, W_ih, W_hh)[3]
    return tuple(out)


@mistake("rnn_cell_backward", "dh_prev-transposed", "W_hh transposed in dh_prev", f"""
    The forward step computes h_prev W_hh^T, so the gradient going back to h_prev is
    da W_hh, without a transpose (one transpose in the forward pass, none on the way back).
    W_hh is square, so the transposed product has the right shape and nothing fails. The
    equations are: {_STEP_EQ}.""")
def _(dh_t, x_t, h_prev, h_t, W_ih, W_hh):
    da = dh_t * (1 - h_t ** 2)
    out = list(_affine_grads(da, x_t, h_prev, W_ih, W_hh))
    out[1] = _affine_grads(da, x_t, h_prev, W_ih, W_hh.T.copy())[1]
    return tuple(out)


@mistake("rnn_cell_backward", "db-averaged", "the bias gradient averaged over the batch instead of summed", f"""
    The loss adds up over the examples of the batch, and the bias is added to every row,
    so its gradient is the sum of da over the rows, like dW_ih and dW_hh, which also sum
    over the batch. The equations are: {_STEP_EQ}.""")
def _(dh_t, x_t, h_prev, h_t, W_ih, W_hh):
    out = list(_affine_grads(dh_t * (1 - h_t ** 2), x_t, h_prev, W_ih, W_hh))
    out[4] = out[4] / dh_t.shape[0]
    return tuple(out)


_BPTT_EQ = ("going backwards from t = T, dh = d_output[t] + (what came back from step t+1), "
            "and every parameter's gradient is the sum of the steps' gradients")


def _bptt_parts(d_output, X, h_0, output, W_ih, W_hh):
    """From autograd through nn.RNN run one step at a time: G (T, B, H), the gradient at
    every pre-activation, and the previous states h_0..h_{T-1} (T, B, H)."""
    import torch

    b = _bias_from_states(X, h_0, output, W_ih, W_hh)
    rnn = _torch_rnn(W_ih, W_hh, b, np.zeros_like(b))
    h, states = _t(h_0)[None], []
    for t in range(len(X)):
        _, h = rnn(_t(X[t:t + 1]), h)
        states.append(h)
    total = torch.autograd.grad(sum((s[0] * _t(g)).sum() for s, g in zip(states, d_output)), states)
    delta = torch.cat(total).numpy()
    return delta * (1 - output ** 2), np.concatenate([h_0[None], output[:-1]])


def _sum_over_steps(G, X, h_prev, W_ih, W_hh, steps):
    """dW_ih, dW_hh, db summed over the given steps (autograd of each step's affine map)."""
    parts = [_affine_grads(G[t], X[t], h_prev[t], W_ih, W_hh) for t in steps]
    return tuple(sum((p[k] for p in parts), np.zeros_like(ref)) for k, ref in
                 ((2, W_ih), (3, W_hh), (4, W_hh[0])))


@mistake("rnn_backward", "dW-not-accumulated", "parameter gradients not accumulated over time", f"""
    W_ih, W_hh and the biases are used at every time step, so their gradient is the sum
    of every step's contribution. Assigning dW_hh = ... inside the loop instead of adding
    to it (dW_hh += ...) keeps only the last step the loop visits, t = 1. The recursion:
    {_BPTT_EQ}.""")
def _(d_output, X, h_0, output, W_ih, W_hh):
    dX, dh_0, _, _, _ = _sequence_grads(d_output, X, h_0, output, W_ih, W_hh)
    G, h_prev = _bptt_parts(d_output, X, h_0, output, W_ih, W_hh)
    return (dX, dh_0, *_sum_over_steps(G, X, h_prev, W_ih, W_hh, [0]))


@mistake("rnn_backward", "gradient-not-carried", "the gradient from later steps is not carried back", f"""
    h_t affects the loss directly (d_output[t]) and through h_{{t+1}}, so the gradient at
    h_t is d_output[t] plus the dh_prev that step t+1 returned. Using d_output[t] alone
    drops every path through time, and BPTT becomes T separate one-step backward passes.
    The recursion: {_BPTT_EQ}.""")
def _(d_output, X, h_0, output, W_ih, W_hh):
    G = d_output * (1 - output ** 2)
    h_prev = np.concatenate([h_0[None], output[:-1]])
    parts = [_affine_grads(G[t], X[t], h_prev[t], W_ih, W_hh) for t in range(len(X))]
    return (np.stack([p[0] for p in parts]), parts[0][1], *_sum_over_steps(G, X, h_prev, W_ih, W_hh, range(len(X))))


@mistake("rnn_backward", "stops-one-step-early", "the loop stops before the first time step", f"""
    The loop over time must run down to the first step, t = 1 (index 0), whose input is
    h_0: that step gives dX[0], its share of the parameter gradients, and dh_0. Check the
    range of your loop, e.g. reversed(range(T)) rather than range(T - 1, 0, -1). The
    recursion: {_BPTT_EQ}.""")
def _(d_output, X, h_0, output, W_ih, W_hh):
    dX, _, _, _, _ = _sequence_grads(d_output, X, h_0, output, W_ih, W_hh)
    G, h_prev = _bptt_parts(d_output, X, h_0, output, W_ih, W_hh)
    dX = dX.copy()
    dX[0] = 0
    return (dX, np.zeros_like(h_0), *_sum_over_steps(G, X, h_prev, W_ih, W_hh, range(1, len(X))))


@mistake("rnn_backward", "h_prev-off-by-one", "the state h_t used where h_{t-1} belongs", f"""
    Step t (index t) reads the previous state, which is output[t - 1], or h_0 for the first
    step, not output[t], the state it produced. The mix-up shows in dW_hh = sum over t of
    da_t^T h_{{t-1}}. The recursion: {_BPTT_EQ}.""")
def _(d_output, X, h_0, output, W_ih, W_hh):
    out = list(_sequence_grads(d_output, X, h_0, output, W_ih, W_hh))
    G, _ = _bptt_parts(d_output, X, h_0, output, W_ih, W_hh)
    out[3] = _sum_over_steps(G, X, output, W_ih, W_hh, range(len(X)))[1]
    return tuple(out)


_CENTRED_EQ = "(f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for each entry i"


def _gradient_and_hessian_diagonal(P, W, b, V, Y, wrt):
    import torch

    x0 = _t(W if wrt == 0 else b)

    def f(x):
        W_, b_ = (x, _t(b)) if wrt == 0 else (_t(W), x)
        return ((torch.tanh(_t(P) @ W_.T + b_) @ _t(V) - _t(Y)) ** 2).sum()

    grad = torch.autograd.functional.jacobian(f, x0)
    hessian = torch.autograd.functional.hessian(f, x0).reshape(x0.numel(), x0.numel())
    return grad.numpy(), torch.diagonal(hessian).reshape(x0.shape).numpy()


@mistake("numerical_gradient", "forward-difference", "a one-sided (forward) difference", f"""
    (f(x + eps e_i) - f(x)) / eps is off by about eps/2 times the second derivative, here
    far more than the checks allow. The centred difference {_CENTRED_EQ} cancels that
    term; its error is proportional to eps^2.""")
def _(P, W, b, V, Y, wrt):
    grad, curvature = _gradient_and_hessian_diagonal(P, W, b, V, Y, wrt)
    return (grad + 1e-6 / 2 * curvature,)


@mistake("numerical_gradient", "divided-by-eps", "divided by eps instead of 2 eps", f"""
    f(x + eps e_i) and f(x - eps e_i) are 2 eps apart, so their difference must be divided
    by 2 eps; dividing by eps doubles every entry. The estimate is {_CENTRED_EQ}.""")
def _(P, W, b, V, Y, wrt):
    return (2 * _gradient_and_hessian_diagonal(P, W, b, V, Y, wrt)[0],)


@mistake("numerical_gradient", "perturbed-a-copy", "the perturbation never reaches f (a copy was changed)", f"""
    Every entry came out 0: f saw the same x every time. x.flatten() (and x.copy()) make a
    new array, so changing an entry of it leaves x, which f is called with, as it was.
    Perturb the array you pass to f, e.g. x[i] with i from np.ndindex(x.shape), or
    x.reshape(-1) of a contiguous array, which is a view. The estimate is {_CENTRED_EQ}.""")
def _(P, W, b, V, Y, wrt):
    return (np.zeros_like(W if wrt == 0 else b),)


@mistake("numerical_gradient", "returned-flat", "the gradient returned as a flat vector", f"""
    The gradient must have the shape of x (a matrix here), so that grad[i, j] belongs to
    x[i, j]. Reshape the result with .reshape(x.shape), or fill an array made with
    np.zeros_like(x). The estimate is {_CENTRED_EQ}.""")
def _(P, W, b, V, Y, wrt):
    return (_gradient_and_hessian_diagonal(P, W, b, V, Y, wrt)[0].reshape(-1),)


_CLIP_EQ = ("total_norm = sqrt(sum of the squares of all entries of all gradients), and every "
            "gradient is multiplied by min(1, max_norm / (total_norm + 1e-6))")


def _clip_variant(g_ih, g_hh, g_b, scale_of, norm_of=None):
    """The gradients scaled by scale_of(total_norm), and the norm norm_of(total, clipped)
    (default: total_norm before clipping), with the norms from torch."""
    import torch

    grads = [_t(g) for g in (g_ih, g_hh, g_b)]
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    clipped = [g * scale_of(total) for g in grads]
    norm = total if norm_of is None else norm_of(total, clipped)
    return (*(c.numpy() for c in clipped), float(norm))


@mistake("clip_grad_norm", "per-tensor", "each gradient clipped by its own norm", f"""
    clip_grad_norm_ treats all gradients as one vector: one global norm, and one factor
    for every gradient, so the update keeps its direction. Clipping each array by its own
    norm changes the direction. The rule: {_CLIP_EQ}.""")
def _(g_ih, g_hh, g_b, max_norm):
    import torch

    params = [torch.nn.Parameter(torch.zeros(np.shape(g), dtype=torch.float64)) for g in (g_ih, g_hh, g_b)]
    totals = []
    for p, g in zip(params, (g_ih, g_hh, g_b)):
        p.grad = _t(g).clone()
        totals.append(torch.nn.utils.clip_grad_norm_([p], max_norm))
    return (*(p.grad.numpy() for p in params), float(torch.linalg.vector_norm(torch.stack(totals))))


@mistake("clip_grad_norm", "by-value", "clipped by value instead of by norm", f"""
    Clamping every entry to [-max_norm, max_norm] is clip_grad_value_, a different
    operation: it changes the direction of the gradient and does not bound its norm. The
    rule here: {_CLIP_EQ}.""")
def _(g_ih, g_hh, g_b, max_norm):
    import torch

    params = [torch.nn.Parameter(torch.zeros(np.shape(g), dtype=torch.float64)) for g in (g_ih, g_hh, g_b)]
    for p, g in zip(params, (g_ih, g_hh, g_b)):
        p.grad = _t(g).clone()
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params]))
    torch.nn.utils.clip_grad_value_(params, max_norm)
    return (*(p.grad.numpy() for p in params), float(total))


@mistake("clip_grad_norm", "no-eps", "the 1e-6 left out of the scale factor", f"""
    PyTorch divides by total_norm + 1e-6, not by total_norm. The difference is invisible
    for large gradients and clear for small ones, and matching clip_grad_norm_ exactly
    means including it. The rule: {_CLIP_EQ}.""")
def _(g_ih, g_hh, g_b, max_norm):
    import torch

    return _clip_variant(g_ih, g_hh, g_b, lambda total: torch.clamp(max_norm / total, max=1.0))


@mistake("clip_grad_norm", "always-scaled", "gradients rescaled even when under the threshold", f"""
    Clipping only ever shrinks: the factor is capped at 1, so gradients whose norm is
    below max_norm are returned unchanged, not stretched up to max_norm. The rule:
    {_CLIP_EQ}.""")
def _(g_ih, g_hh, g_b, max_norm):
    return _clip_variant(g_ih, g_hh, g_b, lambda total: max_norm / (total + 1e-6))


@mistake("clip_grad_norm", "sum-of-norms", "the total norm taken as the sum of the norms of the gradients", f"""
    The global norm is the 2-norm of all entries together, the square root of the sum of
    the squared norms, not the sum of the norms. The rule: {_CLIP_EQ}.""")
def _(g_ih, g_hh, g_b, max_norm):
    import torch

    grads = [_t(g) for g in (g_ih, g_hh, g_b)]
    total = sum(torch.linalg.vector_norm(g) for g in grads)
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    return (*((g * scale).numpy() for g in grads), float(total))


@mistake("clip_grad_norm", "norm-after-clipping", "the norm returned is the one after clipping", f"""
    clip_grad_norm_ returns the total norm of the gradients as they were before clipping,
    which is what a training log should show. The rule: {_CLIP_EQ}.""")
def _(g_ih, g_hh, g_b, max_norm):
    import torch

    return _clip_variant(
        g_ih, g_hh, g_b, lambda total: torch.clamp(max_norm / (total + 1e-6), max=1.0),
        lambda total, clipped: torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(c) for c in clipped])))


_TBPTT_EQ = ("forward from h_carry, the prediction y_hat_t = h_t W_hy^T + b_y at every step, "
             "L = mean of (y_hat - y)^2 over all T B O elements (the chapter's 1/2-sum times "
             "2/(T B O)), gradients within the chunk, then p <- p - lr dL/dp for all six")


def _tbptt_variant(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr,
                   start=None, loss_of=None, report=None, maximize=False, frozen=()):
    """_tbptt_reference with one thing changed: the start state, the loss that is
    differentiated, the loss that is reported, the sign of the step, or frozen parameters."""
    import torch

    rnn = _torch_rnn(W_ih, W_hh, b_ih, b_hh)
    head = torch.nn.Linear(W_hy.shape[1], W_hy.shape[0], dtype=torch.float64)
    with torch.no_grad():
        head.weight.copy_(_t(W_hy))
        head.bias.copy_(_t(b_y))
    params = [rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, head.weight, head.bias]
    trained = [p for i, p in enumerate(params) if i not in frozen]
    optimiser = torch.optim.SGD(trained, lr=lr, maximize=maximize)
    h_0 = _t(h_carry if start is None else start)[None]
    output, h_n = rnn(_t(X_chunk), h_0)
    Y_hat, Y = head(output), _t(Y_chunk)
    mse = torch.nn.functional.mse_loss
    loss = (loss_of or (lambda a, b: mse(a, b)))(Y_hat, Y)
    shown = loss if report is None else report(Y_hat, Y)
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    return (*(p.detach().numpy().copy() for p in params), h_n[0].detach().numpy(), shown.item())


@mistake("tbptt_step", "state-not-carried", "the chunk starts from zeros, not from h_carry", f"""
    Truncated BPTT cuts the gradient at the chunk boundary, not the state: the forward
    pass starts from the carried state h_carry, and only its gradient is dropped. Starting
    from zeros makes every chunk forget the one before. The step: {_TBPTT_EQ}.""")
def _(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr):
    return _tbptt_variant(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr,
                          start=np.zeros_like(h_carry))


@mistake("tbptt_step", "loss-summed", "the squared errors summed instead of averaged", f"""
    The loss is the mean over all T B O elements, as nn.MSELoss() computes it, so both the
    loss and its gradient dL/dy_hat = 2 (y_hat - y) / (T B O) carry the division. The step:
    {_TBPTT_EQ}.""")
def _(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr):
    import torch

    return _tbptt_variant(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr,
                          loss_of=lambda a, b: torch.nn.functional.mse_loss(a, b, reduction="sum"))


@mistake("tbptt_step", "no-factor-2", "the factor 2 in the derivative of the squared error left out", f"""
    The derivative of (y_hat - y)^2 is 2 (y_hat - y): with the mean,
    dL/dy_hat = 2 (y_hat - y) / (T B O).
    Without the 2 every gradient, and so every update, is half as large as it should be.
    The step: {_TBPTT_EQ}.""")
def _(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr):
    import torch

    mse = torch.nn.functional.mse_loss
    return _tbptt_variant(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr,
                          loss_of=lambda a, b: 0.5 * mse(a, b), report=mse)


@mistake("tbptt_step", "gradient-ascent", "the update goes uphill (+lr instead of -lr)", f"""
    Gradient descent subtracts: p <- p - lr dL/dp. Adding the gradient increases the
    loss. The step: {_TBPTT_EQ}.""")
def _(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr):
    return _tbptt_variant(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr, maximize=True)


@mistake("tbptt_step", "last-step-only", "the head and the loss applied at the last step only", f"""
    This is a many-to-many model: there is a prediction y_hat_t and a target y_t at every step of
    the chunk, and the loss averages over all of them. The step: {_TBPTT_EQ}.""")
def _(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr):
    import torch

    mse = torch.nn.functional.mse_loss
    return _tbptt_variant(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr,
                          loss_of=lambda a, b: mse(a[-1], b[-1]))


@mistake("tbptt_step", "b_hh-not-updated", "the bias b_hh left out of the update", f"""
    All six parameters are trained, both biases included. The two biases are added
    together, so they have the same gradient, db: both get p <- p - lr db. The step:
    {_TBPTT_EQ}.""")
def _(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr):
    return _tbptt_variant(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr, frozen=(3,))
