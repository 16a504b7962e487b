"""Chapter 6's adapter: an optimizer's step function, run over a whole trajectory."""
from __future__ import annotations

import numpy as np


# A case holds two parameter arrays W (m, n) and b (m,), S gradients of each
# (grads_W (S, m, n), grads_b (S, m)) and the data of a least-squares loss,
# L(W, b) = 1/(2N) sum over the N rows of |P W^T + b - Y|^2 (N may be 0: no loss). The
# gradient at step t is that loss's gradient at the current parameters plus the given
# grads_*[t], as torch.optim sees p.grad; everything else in the case is a keyword
# argument of the step (torch.optim's names; betas as a pair).

TRAJECTORY_DATA = ("W", "b", "grads_W", "grads_b", "P", "Y")


def least_squares_grads(W, b, P, Y):
    """dL/dW and dL/db of L = 1/(2N) sum |P W^T + b - Y|^2 (zeros when N = 0)."""
    if len(P) == 0:
        return np.zeros_like(W), np.zeros_like(b)
    R = (P @ W.T + b - Y) / len(P)
    return R.T @ P, R.sum(axis=0)


def _hyper(value):
    value = np.asarray(value)
    if value.dtype.kind == "b":
        return bool(value)
    if value.ndim == 1:
        return tuple(float(v) for v in value)
    return float(value)


def optimizer_trajectory(step, inputs):
    """Call `step(theta, g, state, **hyper)` once per gradient and per parameter array,
    as torch.optim does (one state per parameter, empty before the first step), and
    return the parameters after every step: (W_traj (S, m, n), b_traj (S, m))."""
    data = {k: np.asarray(inputs[k], dtype=np.float64) for k in TRAJECTORY_DATA}
    hyper = {k: _hyper(v) for k, v in inputs.items() if k not in TRAJECTORY_DATA}
    params = [data["W"].copy(), data["b"].copy()]
    states = [{}, {}]
    name = getattr(step, "__name__", "the step function")
    trajectories = [[], []]
    for t in range(len(data["grads_W"])):
        loss_grads = least_squares_grads(params[0], params[1], data["P"], data["Y"])
        for i, (extra, loss_grad) in enumerate(zip((data["grads_W"][t], data["grads_b"][t]), loss_grads)):
            result = step(params[i], loss_grad + extra, states[i], **hyper)
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise TypeError(f"{name} should return a pair (theta, state), got "
                                f"a {type(result).__name__}" + (f" of length {len(result)}"
                                                                  if isinstance(result, (tuple, list)) else ""))
            theta, state = result
            theta = np.array(theta, dtype=np.float64)  # a copy: later steps may work in place
            if theta.shape != params[i].shape:
                raise ValueError(f"at step t = {t + 1}, {name} returned theta of shape {theta.shape} "
                                 f"for a parameter of shape {params[i].shape}")
            if not isinstance(state, dict):
                raise TypeError(f"{name} should return its state as a dict, got a {type(state).__name__}")
            params[i], states[i] = theta, state
            trajectories[i].append(theta.copy())  # the next step may update theta in place, as torch.optim does
    return np.stack(trajectories[0]), np.stack(trajectories[1])


def optimizer_trajectory_settings(inputs) -> tuple[str, ...]:
    """The inputs an optimizer's step takes as settings, not data (its `betas` pair, its
    learning rate): a message about a case shows them by value."""
    return tuple(k for k in inputs if k not in TRAJECTORY_DATA)
