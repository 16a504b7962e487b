"""How the student's function is called, and its answer read, where a case file cannot
hold the arguments (a function to differentiate, a list of arrays) or the answer is not
a flat tuple. These run in the student's kernel: numpy only, no reference.

A chapter names them in its `GradedFunction(prepare=..., unpack=...)`.
"""
from __future__ import annotations

import numpy as np


def numgrad_loss_and_point(inputs):
    P, W, b, V, Y = (np.asarray(inputs[k], dtype=np.float64) for k in ("P", "W", "b", "V", "Y"))

    def loss(W_, b_):
        return float(np.sum((np.tanh(P @ W_.T + b_) @ V - Y) ** 2))

    if inputs["wrt"] == 0:
        return (lambda W_: loss(W_, b)), W.copy()
    return (lambda b_: loss(W, b_)), b.copy()


def clip_grads_list(inputs):
    return [inputs["g_ih"], inputs["g_hh"], inputs["g_b"]], inputs["max_norm"]


def clip_flatten(result):
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


# --- chapter 6: an optimizer's step function, run over a whole trajectory -------------
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


_GATES = ("i", "f", "g", "o")


def lstm_gates_flatten(result):
    """unpack_lstm_weights returns {gate: (W_i, W_h, b_i, b_h)} for the gates i, f, g, o;
    compared as 16 arrays, gate by gate in that order."""
    if not isinstance(result, dict):
        raise TypeError(f"unpack_lstm_weights should return a dict with the keys 'i', 'f', 'g', 'o', "
                        f"got a {type(result).__name__}")
    if set(result) != set(_GATES):
        raise ValueError(f"the dict should have exactly the keys 'i', 'f', 'g', 'o', got {sorted(map(str, result))}")
    flat = []
    for gate in _GATES:
        blocks = result[gate]
        if not isinstance(blocks, (tuple, list)) or len(blocks) != 4:
            what = f"a {type(blocks).__name__} of length {len(blocks)}" if isinstance(blocks, (tuple, list)) \
                else f"a {type(blocks).__name__}"
            raise ValueError(f"gates[{gate!r}] should be a tuple (W_i{gate}, W_h{gate}, b_i{gate}, b_h{gate}), "
                             f"got {what}")
        flat.extend(blocks)
    return tuple(flat)


def lstm_backward_args(inputs):
    """lstm_cell_backward(dh_t, dc_t, cache): the cache is the dict of what the forward
    step keeps (no biases: given the gates, the gradients do not depend on them)."""
    keys = ("x_t", "h_prev", "c_prev", "i", "f", "g", "o", "c_t", "W_ih", "W_hh")
    return inputs["dh_t"], inputs["dc_t"], {k: inputs[k] for k in keys}


# Chapter 5. PyTorch's parameter names of nn.RNN(num_layers=2, bidirectional=True), in
# the order named_parameters() lists them.
_RNN_PARAMETERS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
BIRNN_NAMES = tuple(f"{parameter}_l{layer}{suffix}" for layer in (0, 1)
                    for suffix in ("", "_reverse") for parameter in _RNN_PARAMETERS)


def birnn_call(inputs):
    """(X, h_0, weights): the weights as one dict keyed by PyTorch's parameter names."""
    return inputs["X"], inputs["h_0"], {name: inputs[name] for name in BIRNN_NAMES}


def _shape_array(value, what, may_be_none):
    if value is None:
        if may_be_none:
            return np.zeros(0, dtype=np.int64)
        raise TypeError(f"{what} is None; it should be a tuple of ints")
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu" and value.ndim == 1:
        value = tuple(value.tolist())
    if not isinstance(value, (tuple, list)) or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in value):
        raise TypeError(f"{what} should be a tuple of ints, got {value!r}")
    if len(value) == 0:
        raise ValueError(f"{what} is an empty tuple; return None where the module returns no tensor")
    return np.asarray([int(v) for v in value], dtype=np.int64)


def shapes_as_arrays(result):
    """(output_shape, h_n_shape, c_n_shape or None) -> three integer arrays, None as an
    empty one (so 'c_n_shape is []' below means None)."""
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        what = f"a {type(result).__name__} of length {len(result)}" if isinstance(result, (tuple, list)) \
            else f"a {type(result).__name__}"
        raise TypeError(f"rnn_output_shapes should return a triple (output_shape, h_n_shape, "
                        f"c_n_shape), got {what}")
    output, h_n, c_n = result
    return (_shape_array(output, "output_shape", False), _shape_array(h_n, "h_n_shape", False),
            _shape_array(c_n, "c_n_shape", True))


# --- chapter 7: a forecast judged against persistence, a split judged by its order -----
# A forecast has no single right answer: it is judged by its error on held-out targets
# the kernel never holds for hidden cases (the trusted process passes them in as
# `expected`, outside the sandbox), compared with the persistence forecast's error on
# the same targets.

BEAT_RATIO = 0.9
"""A forecast passes when its RMSE is below BEAT_RATIO times the RMSE of the best simple
forecast on the same windows (`simple_forecasts`): the bar is what an untrained rule
could have done here at best, so only a model that learnt the series from u_train
passes (issue 23, item 10: an untrained extrapolation of the last values passed a bar
of 0.9 x persistence for 284 of 300 seeds)."""
DAMPINGS = (0.25, 0.5, 0.75, 1.0)


def _rmse(a, b) -> float:
    return float(np.sqrt(np.mean((np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) ** 2)))


def season_of(u_train, w: int) -> int:
    """The season of u_train as a rule could guess it untrained: the lag from 8 to w
    (the window's length) at which u_train's autocorrelation is largest."""
    x = np.asarray(u_train, dtype=np.float64)
    x = x - x.mean()
    lags = np.arange(8, min(w, len(x) - 1) + 1)
    return int(lags[np.argmax([np.dot(x[:-lag], x[lag:]) for lag in lags])])


def simple_forecasts(u_train, windows, k: int) -> dict[str, np.ndarray]:
    """The forecasts of rules that learn nothing from u_train (beyond its mean or its
    season), each (M, k): persistence, the training mean, the window's mean, the last
    step extrapolated (damped by each of DAMPINGS), and the seasonal naive forecast."""
    W = np.asarray(windows, dtype=np.float64)
    last, step, h = W[:, -1:], W[:, -1:] - W[:, -2:-1], np.arange(1, k + 1)
    out = {"persistence (the window's last value)": np.repeat(last, k, axis=1),
           "the training mean": np.full((len(W), k), float(np.mean(u_train))),
           "the window's mean": np.repeat(W.mean(axis=1, keepdims=True), k, axis=1)}
    for c in DAMPINGS:
        out[f"the last step extrapolated (x {c:g})"] = last + c * step * h
    P = season_of(u_train, W.shape[1])
    if P >= k:
        out[f"the seasonal naive forecast (season {P}, from u_train)"] = W[:, W.shape[1] - P:W.shape[1] - P + k]
    return out


def beats_simple_forecasts(inputs, expected, actual, reveal=True):
    """Judge a forecast: None if its RMSE is below BEAT_RATIO times the best simple
    forecast's on these targets, else a Mismatch. `expected` holds the targets (M, k)."""
    from .compare import Mismatch

    targets = np.asarray(expected[0], dtype=np.float64)
    try:
        got = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return Mismatch("Y_hat", f"Y_hat should be a numpy array of shape {targets.shape}, "
                                 f"got {type(actual).__name__}", kind="type")
    if got.shape != targets.shape:
        return Mismatch("Y_hat", f"Y_hat has shape {got.shape}; expected shape {targets.shape} "
                                 f"(one row of k forecasts per window)", kind="shape")
    if not np.all(np.isfinite(got)):
        return Mismatch("Y_hat", "Y_hat contains a non-finite value", kind="value")
    simple = {name: _rmse(f, targets) for name, f in
              simple_forecasts(inputs["u_train"], inputs["windows"], targets.shape[1]).items()}
    best = min(simple, key=simple.get)
    model, bar = _rmse(got, targets), BEAT_RATIO * simple[best]
    if model < bar:
        return None
    return Mismatch("Y_hat", f"your forecast's RMSE on the held-out windows is {model:.4g}; the best simple "
                             f"forecast here, {best}, has {simple[best]:.4g} (persistence: "
                             f"{simple['persistence (the window' + chr(39) + 's last value)']:.4g}); to pass, "
                             f"the RMSE must be below {BEAT_RATIO} x {simple[best]:.4g} = {bar:.4g}",
                    max_abs_error=float(np.max(np.abs(got - targets))), kind="value")


def beats_simple_forecasts_margin(inputs, expected, actual) -> str:
    """How far a passing forecast's RMSE is below the bar (BEAT_RATIO x the best simple
    forecast's)."""
    targets = np.asarray(expected[0], dtype=np.float64)
    simple = {name: _rmse(f, targets) for name, f in
              simple_forecasts(inputs["u_train"], inputs["windows"], targets.shape[1]).items()}
    best = min(simple, key=simple.get)
    model, bar = _rmse(actual, targets), BEAT_RATIO * simple[best]
    return (f"your forecast's RMSE is {model:.4g}, {100 * (bar - model) / bar:.0f}% below the bar "
            f"({BEAT_RATIO} x {simple[best]:.4g}, the RMSE of {best})")


def split_order(inputs, actual):
    """The mistake a wrong chronological split shows by its order: 'shuffled-split' when
    the three pieces hold exactly the series' values, not in time order."""
    try:
        pieces = [np.asarray(p, dtype=np.float64).ravel() for p in actual]
        u = np.asarray(inputs["u"], dtype=np.float64)
        joined = np.concatenate(pieces)
    except (TypeError, ValueError):
        return None
    if joined.shape == u.shape and not np.array_equal(joined, u) \
            and np.array_equal(np.sort(joined), np.sort(u)) and not np.array_equal(joined, u[::-1]):
        return "shuffled-split"
    return None


def signed_mae(inputs, actual):
    """'mae-signed-mean' whichever way the residual is taken: a right RMSE beside a mean of
    signed residuals, mean(Y - Y_hat) (the mistake's own outputs) or mean(Y_hat - Y)."""
    try:
        rmse, mae = (float(np.asarray(a, dtype=np.float64)) for a in actual)
        e = np.asarray(inputs["Y_hat"], dtype=np.float64) - np.asarray(inputs["Y"], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    from .compare import ATOL, RTOL

    def close(a, b):  # as the comparison judges
        return abs(a - b) <= ATOL + RTOL * abs(b)

    if close(rmse, float(np.sqrt(np.mean(e ** 2)))) and close(abs(mae), abs(float(e.mean()))) \
            and not close(mae, float(np.abs(e).mean())):
        return "mae-signed-mean"
    return None


# --- chapter 8: cross-entropy's overflow, and sampling graded over many draws ---------------

def cross_entropy_overflow(inputs, actual):
    """The mistake a non-finite cross-entropy shows by its pattern, where no output can be
    compared (nan and inf match nothing): a non-finite gradient means the softmax itself
    overflowed ('no-max-shift'); a finite gradient beside a non-finite loss means the log
    was taken of a probability that underflowed to 0 ('log-of-probabilities')."""
    try:
        loss, dlogits = (np.asarray(a, dtype=np.float64) for a in actual)
    except (TypeError, ValueError):
        return None
    if not np.all(np.isfinite(dlogits)):
        return "no-max-shift"
    if not np.all(np.isfinite(loss)):
        return "log-of-probabilities"
    return None


def sample_draws(sample_next, inputs):
    """Call `sample_next(logits, temperature, top_k, u)` once per draw u of the case (the
    same logits every time, as a generation loop would) and return the indices it chose,
    as an int64 array: a sampler is graded exactly, draw by draw."""
    logits = inputs["logits"]
    name = getattr(sample_next, "__name__", "the sampling function")
    chosen = []
    for u in np.asarray(inputs["u"], dtype=np.float64):
        index = sample_next(logits, inputs["temperature"], inputs["top_k"], float(u))
        if isinstance(index, np.ndarray) and index.ndim == 0:
            index = index[()]
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"{name} should return one index, an int, got {index!r} "
                            f"of type {type(index).__name__}")
        chosen.append(int(index))
    return np.asarray(chosen, dtype=np.int64)
