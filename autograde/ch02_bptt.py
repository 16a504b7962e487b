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

from .registry import GradedFunction, register

ASSIGNMENT = "02-bptt"

# Shapes of the first cases (T, B, D, H, O): all sizes differ, so a transposed weight or
# gradient is caught by shape; a single-step and a single-example case follow.
_SHAPES = [(5, 3, 4, 6, 2), (1, 2, 3, 5, 3), (7, 1, 2, 3, 4)]


def _shape(rng: np.random.Generator, index: int) -> tuple[int, int, int, int, int]:
    if index < len(_SHAPES):
        return _SHAPES[index]
    # Hidden cases: at least two time steps and two hidden units, so that every mistake
    # in the recursion over time or in a transpose of W_hh changes the result.
    T, B, D, H, O = (int(v) for v in rng.integers([2, 1, 1, 2, 1], [9, 5, 6, 8, 5]))
    return T, B, D, H, O


def _weights(rng: np.random.Generator, D: int, H: int) -> dict[str, np.ndarray]:
    # W_hh smaller than in chapter 1, so the gradient still carries over several steps.
    return {
        "W_ih": rng.uniform(-0.8, 0.8, (H, D)),
        "W_hh": rng.uniform(-0.6, 0.6, (H, H)),
        "b_ih": rng.uniform(-0.5, 0.5, H),
        "b_hh": rng.uniform(-0.5, 0.5, H),
    }


def _t(value):
    import torch

    return torch.from_numpy(np.asarray(value, dtype=np.float64))


def _torch_rnn(W_ih, W_hh, b_ih, b_hh):
    import torch

    H, D = W_ih.shape
    rnn = torch.nn.RNN(D, H, dtype=torch.float64)
    with torch.no_grad():
        for name, value in {"weight_ih_l0": W_ih, "weight_hh_l0": W_hh,
                            "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}.items():
            getattr(rnn, name).copy_(_t(value))
    return rnn


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


register(GradedFunction(
    name="rnn_cell_backward", assignment=ASSIGNMENT,
    inputs=("dh_t", "x_t", "h_prev", "h_t", "W_ih", "W_hh"),
    outputs=("dx_t", "dh_prev", "dW_ih", "dW_hh", "db"),
    make_inputs=_cell_backward_inputs, reference=_cell_backward_reference,
    matches="torch autograd through one step of nn.RNN",
))


# --- rnn_backward ---------------------------------------------------------------------

def _backward_inputs(rng, index):
    T, B, D, H, _ = _shape(rng, index)
    X, h_0 = rng.normal(size=(T, B, D)), rng.uniform(-1, 1, (B, H))
    w = _weights(rng, D, H)
    output = _forward(X, h_0, **w)
    return {"d_output": rng.normal(size=(T, B, H)), "X": X, "h_0": h_0, "output": output,
            "W_ih": w["W_ih"], "W_hh": w["W_hh"]}


register(GradedFunction(
    name="rnn_backward", assignment=ASSIGNMENT,
    inputs=("d_output", "X", "h_0", "output", "W_ih", "W_hh"),
    outputs=("dX", "dh_0", "dW_ih", "dW_hh", "db"),
    make_inputs=_backward_inputs, reference=_sequence_grads,
    matches="torch autograd through nn.RNN",
))


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
        wrt = index % 2
    return {"P": rng.normal(size=(B, n)), "W": rng.normal(scale=0.7, size=(k, n)),
            "b": rng.normal(scale=0.5, size=k), "V": rng.normal(size=(k, m)),
            "Y": rng.uniform(-1, 1, (B, m)), "wrt": wrt}


def _numgrad_prepare(inputs):
    P, W, b, V, Y = (np.asarray(inputs[k], dtype=np.float64) for k in ("P", "W", "b", "V", "Y"))

    def loss(W_, b_):
        return float(np.sum((np.tanh(P @ W_.T + b_) @ V - Y) ** 2))

    if inputs["wrt"] == 0:
        return (lambda W_: loss(W_, b)), W.copy()
    return (lambda b_: loss(W, b_)), b.copy()


def _numgrad_reference(P, W, b, V, Y, wrt):
    import torch

    W_t, b_t = _t(W).requires_grad_(), _t(b).requires_grad_()
    ((torch.tanh(_t(P) @ W_t.T + b_t) @ _t(V) - _t(Y)) ** 2).sum().backward()
    return ((W_t if wrt == 0 else b_t).grad.numpy(),)


register(GradedFunction(
    name="numerical_gradient", assignment=ASSIGNMENT,
    inputs=("P", "W", "b", "V", "Y", "wrt"), outputs=("grad",),
    make_inputs=_numgrad_inputs, reference=_numgrad_reference,
    matches="torch autograd (to centred-difference accuracy)",
    prepare=_numgrad_prepare,
    # Centred differences with eps = 1e-6 agree with autograd to about 1e-9 here; a
    # one-sided (forward) difference is off by about eps * f''/2, 1e-7 or more.
    atol=2e-8, rtol=1e-8,
))


# --- clip_grad_norm -------------------------------------------------------------------
# Three gradients (shaped like dW_ih, dW_hh and db) in one list, as clip_grad_norm_
# takes a model's parameters. Case kinds: 0 no clipping, 1 clipping, 2 clipping of
# small gradients (where clip_grad_norm_'s 1e-6 in the scale shows).

def _clip_inputs(rng, index):
    _, _, D, H, _ = _shape(rng, index)
    kind = index if index < 3 else index % 3
    scale = {0: 0.5, 1: 2.0, 2: 1e-3}[kind]
    grads = {"g_ih": rng.normal(scale=scale, size=(H, D)), "g_hh": rng.normal(scale=scale, size=(H, H)),
             "g_b": rng.normal(scale=scale, size=H)}
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    factor = rng.uniform(1.5, 4.0) if kind == 0 else rng.uniform(0.2, 0.7)
    return {**grads, "max_norm": float(total * factor)}


def _clip_prepare(inputs):
    return [inputs["g_ih"], inputs["g_hh"], inputs["g_b"]], inputs["max_norm"]


def _clip_unpack(result):
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


def _clip_reference(g_ih, g_hh, g_b, max_norm):
    import torch

    params = [torch.nn.Parameter(torch.zeros(np.shape(g), dtype=torch.float64)) for g in (g_ih, g_hh, g_b)]
    for p, g in zip(params, (g_ih, g_hh, g_b)):
        p.grad = _t(g).clone()
    total_norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return (*(p.grad.numpy() for p in params), float(total_norm))


register(GradedFunction(
    name="clip_grad_norm", assignment=ASSIGNMENT,
    inputs=("g_ih", "g_hh", "g_b", "max_norm"),
    outputs=("clipped_grads[0]", "clipped_grads[1]", "clipped_grads[2]", "total_norm"),
    make_inputs=_clip_inputs, reference=_clip_reference,
    matches="torch.nn.utils.clip_grad_norm_",
    prepare=_clip_prepare, unpack=_clip_unpack,
))


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


register(GradedFunction(
    name="tbptt_step", assignment=ASSIGNMENT,
    inputs=("X_chunk", "Y_chunk", "h_carry", "W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y", "lr"),
    outputs=("W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y", "h_next", "loss"),
    make_inputs=_tbptt_inputs, reference=_tbptt_reference,
    matches="nn.RNN + nn.Linear + MSELoss, autograd with h_carry detached, and optim.SGD",
))
