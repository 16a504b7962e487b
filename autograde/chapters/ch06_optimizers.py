"""Chapter 6, optimizers: the graded step functions, their cases, their torch.optim
references and their known mistakes.

Each graded function is one optimizer's step, `step(theta, g, state, **hyper) ->
(theta, state)`, for one parameter array, with torch.optim's keyword names. It is graded
on whole trajectories: its adapter, `optimizer_trajectory`
(`autograde.kernel.adapters.ch06_optimizers`), calls it for 100 gradients and two
parameter arrays (W (m, n) and b (m,)), each with its own state (empty before the first
step, as torch.optim's `state[p]`), and records the parameters after every step. The reference is torch.optim itself, in float64, on the same parameters with
`.grad` set to the same gradients (`foreach=False`: the plain per-tensor loop).

The gradient at step t is the given grads_W[t], grads_b[t] plus the gradient of a
least-squares loss at the current parameters, L = 1/(2N) sum |P W^T + b - Y|^2. Cases
with N = 0 have no loss (the gradients are simply given); cases with a loss feed back:
the gradient depends on the parameters the step function returned.

Known mistakes are torch computations of the same trajectory with one thing changed:
torch.optim with a changed setting where that is the mistake (AdamW's L2 is
torch.optim.Adam), or the rule written in torch ops (`_*_ops`, each a switch away from
the reference; `test_the_torch_op_rules_without_a_mistake_are_torch_optim` checks that
without the switch they give torch.optim's trajectory).
"""
from __future__ import annotations

import numpy as np

from ..kernel.adapters import ch06_optimizers as adapters
from .registry import Chapter, mistake
from .torchref import tensor as _t

CHAPTER = Chapter("06-optimizers")
STEPS = 100
TOLERANCE = {"atol": 1e-9, "rtol": 1e-8}  # float64 noise here is below 1e-13
DATA = adapters.TRAJECTORY_DATA

# (m, n, N) of the public cases (kinds 0-3): all sizes differ; a one-row b; N = 0: no loss.
_SHAPES = [(3, 2, 0), (1, 4, 0), (2, 3, 5), (4, 1, 0)]
# The gradients' size per kind: small gradients (kind 3) are where eps shows.
_SCALE = [1.0, 0.1, 0.1, 0.01]


def _data(rng, index):
    """W, b, the given gradients and the loss data of case `index` (kind = index % 4)."""
    kind = index % 4
    if index < len(_SHAPES):
        m, n, N = _SHAPES[index]
    else:  # hidden cases: new shapes; kinds 0 and 2 have a loss
        m, n = (int(v) for v in rng.integers([1, 1], [6, 6]))
        N = int(rng.integers(3, 9)) if kind in (0, 2) else 0
    scale = _SCALE[kind]
    # A drift, so the parameters travel, plus noise whose size shrinks over the steps
    # (so AMSGrad's maximum and Adagrad's sum see gradients of different sizes).
    envelope = scale * (0.4 + 1.6 * np.exp(-np.arange(STEPS) / 15.0))
    grads = {}
    for key, shape in (("grads_W", (m, n)), ("grads_b", (m,))):
        drift = rng.normal(scale=scale, size=shape)
        noise = rng.normal(size=(STEPS, *shape)) * envelope.reshape(-1, *[1] * len(shape))
        grads[key] = drift + noise
    return {"W": rng.normal(size=(m, n)), "b": rng.normal(size=m), **grads,
            "P": rng.normal(size=(N, n)), "Y": rng.normal(size=(N, m))}


# A case's kind is index % 4 (hidden cases 4-7 are one of each): the row of the
# optimizer's hyper-parameter table (_SGD_KINDS, ...) it jitters, and whether it has a
# loss (kinds 0 and 2). `_kinds_of(table)` tells the rows a case can come from.
_KINDS = tuple(f"kind {k}" for k in range(4))


def _kinds_of(table):
    def near(value, base) -> bool:
        if isinstance(base, bool):
            return bool(value) == base
        if isinstance(base, tuple):
            return all(near(v, b) for v, b in zip(np.asarray(value).tolist(), base))
        return float(value) == 0 if base == 0 else 0.69 <= float(value) / base <= 1.31

    def kind_of(case) -> set[str]:
        has_loss = len(case["P"]) > 0
        return {_KINDS[k] for k, row in enumerate(table) if has_loss == (k in (0, 2))
                and all(near(case[name], base) for name, base in row.items() if name in case)}
    return kind_of


def _jitter(rng, index, value, low=0.7, high=1.3):
    """A hidden case's hyper-parameter: the public kind's value, scaled a little."""
    return float(value) if index < len(_SHAPES) else float(value * rng.uniform(low, high))


def _hyper(value):
    return adapters._hyper(value)


def _split(inputs):
    data = {k: np.asarray(inputs[k], dtype=np.float64) for k in DATA}
    hyper = {k: _hyper(v) for k, v in inputs.items() if k not in DATA}
    return data, hyper


def _loss_grads(params, P, Y):
    """Autograd of L = 1/(2N) sum |P W^T + b - Y|^2 at params = [W, b] (zeros if N = 0)."""
    import torch

    if len(P) == 0:
        return [torch.zeros_like(p) for p in params]
    W, b = (p.detach().clone().requires_grad_() for p in params)
    loss = ((_t(P) @ W.T + b - _t(Y)) ** 2).sum() / (2 * len(P))
    return list(torch.autograd.grad(loss, [W, b]))


def _optim_trajectory(optimizer_class, **inputs):
    """torch.optim's trajectory: .grad set to each step's gradient, then step()."""
    import torch

    data, hyper = _split(inputs)
    params = [torch.nn.Parameter(_t(data["W"]).clone()), torch.nn.Parameter(_t(data["b"]).clone())]
    optimizer = optimizer_class(params, foreach=False, **hyper)
    out = [[], []]
    for t in range(len(data["grads_W"])):
        loss_grads = _loss_grads(params, data["P"], data["Y"])
        for p, lg, given in zip(params, loss_grads, (data["grads_W"][t], data["grads_b"][t])):
            p.grad = lg + _t(given)
        optimizer.step()
        for i, p in enumerate(params):
            out[i].append(p.detach().numpy().copy())
    return np.stack(out[0]), np.stack(out[1])


def _ops_trajectory(step, mistake_key, **inputs):
    """The same trajectory with a rule written in torch ops: step(theta, g, state, **hyper,
    mistake=...) -> theta, one state dict per parameter."""
    data, hyper = _split(inputs)
    params = [_t(data["W"]).clone(), _t(data["b"]).clone()]
    states = [{}, {}]
    out = [[], []]
    for t in range(len(data["grads_W"])):
        loss_grads = _loss_grads(params, data["P"], data["Y"])
        for i, given in enumerate((data["grads_W"][t], data["grads_b"][t])):
            params[i] = step(params[i], loss_grads[i] + _t(given), states[i], mistake=mistake_key, **hyper)
            out[i].append(params[i].numpy().copy())
    return np.stack(out[0]), np.stack(out[1])


def _register(name, optimizer, hyper_names, make_hyper, matches, table):
    def make_inputs(rng, index):
        return {**_data(rng, index), **make_hyper(rng, index)}

    def reference(**inputs):
        import torch

        return _optim_trajectory(getattr(torch.optim, optimizer), **inputs)

    CHAPTER.graded(
        name=name, inputs=DATA + hyper_names, outputs=("W_traj", "b_traj"),
        make_inputs=make_inputs, reference=reference, matches=matches,
        n_public=len(_SHAPES), n_hidden=4, run=adapters.optimizer_trajectory, **TOLERANCE,
        kinds=_KINDS, kind_of=_kinds_of(table),
    )


def _known(function, key, title, explanation, step):
    """Register a known mistake computed by the torch-op rule `step` with that switch."""
    mistake(function, key, title, explanation)(lambda **inputs: _ops_trajectory(step, key, **inputs))


# --- SGD ---------------------------------------------------------------------------------
# kinds: 0 momentum with dampening; 1 Nesterov; 2 Nesterov on a loss; 3 plain SGD with decay

_SGD_KINDS = [
    dict(lr=0.05, momentum=0.9, dampening=0.3, nesterov=False, weight_decay=0.02),
    dict(lr=0.03, momentum=0.8, dampening=0.0, nesterov=True, weight_decay=0.1),
    dict(lr=0.1, momentum=0.7, dampening=0.0, nesterov=True, weight_decay=0.05),
    dict(lr=0.1, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.05),
]


def _sgd_hyper(rng, index):
    k = dict(_SGD_KINDS[index % 4])
    for name in ("lr", "weight_decay", "dampening"):
        k[name] = _jitter(rng, index, k[name])
    if k["momentum"]:
        k["momentum"] = _jitter(rng, index, k["momentum"], 0.9, 1.05)
    return k


_register("sgd_step", "SGD", ("lr", "momentum", "dampening", "nesterov", "weight_decay"), _sgd_hyper,
          "torch.optim.SGD step for step", _SGD_KINDS)

_SGD_EQ = ("g <- g + lambda theta; if mu != 0: b_1 = g at the first step, then b_t = mu b_{t-1} + "
           "(1 - tau) g; g <- g + mu b_t with Nesterov, else g <- b_t; theta <- theta - gamma g")


def _sgd_ops(theta, g, state, lr, momentum, dampening, nesterov, weight_decay, mistake=None):
    if weight_decay and mistake != "decay-after-momentum":
        g = g + weight_decay * theta
    if momentum:
        previous = state.get("b")
        if previous is None:
            state["b"] = (1 - dampening) * g if mistake == "buffer-starts-dampened" else g.clone()
        else:
            weight = dampening if mistake == "dampening-swapped" else 1 - dampening
            state["b"] = momentum * previous + weight * g
        if nesterov and mistake != "sutskever-nesterov":
            g = g + momentum * state["b"]
        else:
            g = state["b"]
    if weight_decay and mistake == "decay-after-momentum":
        g = g + weight_decay * theta
    return theta - lr * g


_known("sgd_step", "buffer-starts-dampened", "the momentum buffer started at zero, so b_1 = (1 - tau) g_1", f"""
    PyTorch's first step sets the buffer to the gradient itself, b_1 = g_1, with no
    dampening; only later steps use b_t = mu b_(t-1) + (1 - tau) g_t. Starting from a zero
    buffer and applying the general rule at t = 1 gives (1 - tau) g_1, which shows as soon
    as dampening tau is not 0. Create the buffer on the first step (state has none yet) as
    a copy of g. The rule: {_SGD_EQ}.""", _sgd_ops)

_known("sgd_step", "decay-after-momentum", "weight decay added after the momentum, not to the gradient", f"""
    In torch.optim.SGD weight decay is part of the gradient: g <- g + lambda theta comes
    first, so the decay term goes into the momentum buffer too. Adding lambda theta to the
    update after the buffer (theta <- theta - gamma (b + lambda theta)) gives a different
    trajectory whenever momentum and weight decay are both on. The rule: {_SGD_EQ}.""", _sgd_ops)

_known("sgd_step", "sutskever-nesterov", "Sutskever's Nesterov form, d <- mu d - gamma g, theta <- theta + d", f"""
    Sutskever et al. write Nesterov's method with the gradient taken at the look-ahead
    point theta + mu d. Here g is the gradient at theta (that is all an optimizer's step
    is given), and with it that form is plain heavy-ball momentum. PyTorch's Nesterov
    moves the look-ahead into the update instead: after the buffer update it steps along
    g + mu b_t, not b_t. (A look-ahead with the old buffer, g + mu b_(t-1), is this same
    plain momentum: with no dampening it equals b_t.) The rule: {_SGD_EQ}.""", _sgd_ops)

_known("sgd_step", "dampening-swapped", "the dampening used as the gradient's weight, b_t = mu b_(t-1) + tau g_t", f"""
    Dampening tau damps the gradient: after the first step the buffer takes (1 - tau) g_t,
    so tau = 0 (the default) means no dampening at all. With tau as the weight, the default
    tau = 0 makes the buffer ignore every gradient after the first. The rule: {_SGD_EQ}.""", _sgd_ops)


# --- Adagrad -----------------------------------------------------------------------------

_ADAGRAD_KINDS = [
    dict(lr=0.1, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10),
    dict(lr=0.5, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1, eps=1e-3),
    dict(lr=0.3, lr_decay=0.05, weight_decay=0.05, initial_accumulator_value=0.5, eps=1e-6),
    dict(lr=0.05, lr_decay=0.02, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-2),
]


def _adagrad_hyper(rng, index):
    k = dict(_ADAGRAD_KINDS[index % 4])
    for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
        k[name] = _jitter(rng, index, k[name])
    return k


_register("adagrad_step", "Adagrad", ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"),
          _adagrad_hyper, "torch.optim.Adagrad step for step", _ADAGRAD_KINDS)

_ADAGRAD_EQ = ("G_0 = initial_accumulator_value; g <- g + lambda theta; gamma_t = gamma / (1 + (t - 1) eta); "
               "G_t = G_(t-1) + g^2; theta <- theta - gamma_t g / (sqrt(G_t) + eps)")


def _adagrad_ops(theta, g, state, lr, lr_decay, weight_decay, initial_accumulator_value, eps, mistake=None):
    import torch

    t = state["t"] = state.get("t", 0) + 1
    if "G" not in state:
        start = 0.0 if mistake == "initial-accumulator-ignored" else initial_accumulator_value
        state["G"] = torch.full_like(theta, start)
    if weight_decay and mistake != "decay-after-scaling":
        g = g + weight_decay * theta
    clr = lr / (1 + (t if mistake == "lr-decay-off-by-one" else t - 1) * lr_decay)
    G = state["G"] = state["G"] + g * g
    update = g / (torch.sqrt(G + eps) if mistake == "eps-inside-sqrt" else torch.sqrt(G) + eps)
    if weight_decay and mistake == "decay-after-scaling":
        update = update + weight_decay * theta
    return theta - clr * update


_known("adagrad_step", "eps-inside-sqrt", "eps inside the square root, sqrt(G_t + eps)", f"""
    torch.optim.Adagrad adds eps after the square root: the denominator is sqrt(G_t) + eps
    (d2l's Adagrad section puts it inside, sqrt(G_t + eps)). The two differ most where
    G_t is small, which is where eps matters at all. The rule: {_ADAGRAD_EQ}.""", _adagrad_ops)

_known("adagrad_step", "lr-decay-off-by-one", "the learning-rate decay counted from t, gamma / (1 + t eta)", f"""
    PyTorch decays the learning rate as gamma / (1 + (t - 1) eta): the first step (t = 1)
    uses gamma itself. Dividing by 1 + t eta decays one step too early. The rule:
    {_ADAGRAD_EQ}.""", _adagrad_ops)

_known("adagrad_step", "initial-accumulator-ignored", "the sum of squares started at zero, not at initial_accumulator_value", f"""
    The accumulator G starts at initial_accumulator_value (in every entry), not at 0; the
    setting exists to damp the first steps. The rule: {_ADAGRAD_EQ}.""", _adagrad_ops)

_known("adagrad_step", "decay-after-scaling", "weight decay added after the adaptive scaling, not to the gradient", f"""
    torch.optim.Adagrad adds lambda theta to the gradient first, so the decay term enters
    the sum of squares and is divided by sqrt(G_t) + eps like the rest of the gradient.
    Adding it to the scaled update instead gives another rule. The rule: {_ADAGRAD_EQ}.""",
       _adagrad_ops)


# --- RMSprop -----------------------------------------------------------------------------

_RMSPROP_KINDS = [
    dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False),
    dict(lr=0.01, alpha=0.9, eps=1e-3, weight_decay=0.1, momentum=0.9, centered=True),
    dict(lr=0.02, alpha=0.95, eps=1e-6, weight_decay=0.05, momentum=0.5, centered=False),
    dict(lr=0.005, alpha=0.8, eps=1e-4, weight_decay=0.0, momentum=0.0, centered=True),
]


def _rmsprop_hyper(rng, index):
    k = dict(_RMSPROP_KINDS[index % 4])
    for name in ("lr", "eps", "weight_decay"):
        k[name] = _jitter(rng, index, k[name])
    # momentum stays below 1 (0.9 x 1.3 would diverge, and the run's rounding with it)
    k["momentum"] = _jitter(rng, index, k["momentum"], 0.9, 1.05)
    k["alpha"] = _jitter(rng, index, k["alpha"], 0.97, 1.0)
    return k


_register("rmsprop_step", "RMSprop", ("lr", "alpha", "eps", "weight_decay", "momentum", "centered"),
          _rmsprop_hyper, "torch.optim.RMSprop step for step", _RMSPROP_KINDS)

_RMSPROP_EQ = ("g <- g + lambda theta; v_t = alpha v_(t-1) + (1 - alpha) g^2 (v_0 = 0); centered: "
               "g_ave_t = alpha g_ave_(t-1) + (1 - alpha) g and v~ = v_t - g_ave_t^2, else v~ = v_t; "
               "momentum: b_t = mu b_(t-1) + g / (sqrt(v~) + eps) (b_0 = 0), theta <- theta - gamma b_t; "
               "else theta <- theta - gamma g / (sqrt(v~) + eps)")


def _rmsprop_ops(theta, g, state, lr, alpha, eps, weight_decay, momentum, centered, mistake=None):
    import torch

    zeros = torch.zeros_like(theta)
    if weight_decay:
        g = g + weight_decay * theta
    if mistake == "alpha-swapped":  # the weights swapped in both running averages
        alpha = 1 - alpha
    if centered:
        gbar = state["gbar"] = alpha * state.get("gbar", zeros) + (1 - alpha) * g
    if centered and mistake == "centered-deviations":
        v = state["v"] = alpha * state.get("v", zeros) + (1 - alpha) * (g - gbar) ** 2
    else:
        v = state["v"] = alpha * state.get("v", zeros) + (1 - alpha) * g * g
    if centered and mistake != "centered-deviations":
        v = v - gbar * gbar
    denom = torch.sqrt(v + eps) if mistake == "eps-inside-sqrt" else torch.sqrt(v) + eps
    if momentum:
        if mistake == "momentum-before-scaling":
            b = state["b"] = momentum * state.get("b", zeros) + g
            return theta - lr * b / denom
        b = state["b"] = momentum * state.get("b", zeros) + g / denom
        return theta - lr * b
    return theta - lr * g / denom


_known("rmsprop_step", "eps-inside-sqrt", "eps inside the square root, sqrt(v_t + eps)", f"""
    torch.optim.RMSprop adds eps after the square root, sqrt(v~) + eps (d2l's RMSProp
    section puts it inside, sqrt(v~ + eps)). They differ where v is small. The rule:
    {_RMSPROP_EQ}.""", _rmsprop_ops)

_known("rmsprop_step", "alpha-swapped", "alpha and 1 - alpha swapped in the running averages", f"""
    alpha is the weight of the old average: v_t = alpha v_(t-1) + (1 - alpha) g^2 (and the
    same for g_ave when centered), with alpha = 0.99 by default, so the averages forget
    slowly. Swapping the two weights makes them follow the last gradient almost alone. The rule: {_RMSPROP_EQ}.""", _rmsprop_ops)

_known("rmsprop_step", "centered-deviations", "the centred variance averaged from (g - g_ave)^2, not v - g_ave^2", f"""
    Centred RMSprop estimates the variance as the mean of squares minus the square of the
    mean: v~ = v_t - g_ave_t^2, with v_t the running average of g^2 (kept as without
    centering) and g_ave_t the running average of g. Averaging the squared deviations
    (g - g_ave_t)^2 instead is a different estimate, and v must stay the average of g^2.
    The rule: {_RMSPROP_EQ}.""", _rmsprop_ops)

_known("rmsprop_step", "momentum-before-scaling", "the momentum buffer built from raw gradients, divided afterwards", f"""
    With momentum, PyTorch puts the scaled gradient into the buffer, b_t = mu b_(t-1) +
    g / (sqrt(v~) + eps), so each step's gradient is divided by the denominator of its own
    step. Accumulating raw gradients and dividing the buffer by today's denominator mixes
    old gradients with a new scale. The rule: {_RMSPROP_EQ}.""", _rmsprop_ops)


# --- Adam and AdamW ----------------------------------------------------------------------

_ADAM_KINDS = [
    dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False),
    dict(lr=0.05, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1, amsgrad=True),
    dict(lr=0.05, betas=(0.9, 0.95), eps=1e-6, weight_decay=0.05, amsgrad=False),
    dict(lr=0.02, betas=(0.5, 0.9), eps=1e-4, weight_decay=0.02, amsgrad=True),
]


def _adam_hyper(rng, index, amsgrad=True):
    k = dict(_ADAM_KINDS[index % 4])
    for name in ("lr", "eps", "weight_decay"):
        k[name] = _jitter(rng, index, k[name])
    k["betas"] = np.array([_jitter(rng, index, beta, 0.97, 1.0) for beta in k["betas"]])
    if not amsgrad:
        del k["amsgrad"]
    return k


_register("adam_step", "Adam", ("lr", "betas", "eps", "weight_decay", "amsgrad"), _adam_hyper,
          "torch.optim.Adam step for step", _ADAM_KINDS)

_ADAM_EQ = ("g <- g + lambda theta; m_t = beta1 m_(t-1) + (1 - beta1) g; v_t = beta2 v_(t-1) + "
            "(1 - beta2) g^2; hat m_t = m_t / (1 - beta1^t); hat v_t = v_t / (1 - beta2^t), with "
            "amsgrad hat v_t = max(v_1..v_t) / (1 - beta2^t); theta <- theta - gamma hat m_t / "
            "(sqrt(hat v_t) + eps), t = 1 at the first step")


def _adam_ops(theta, g, state, lr, betas, eps, weight_decay, amsgrad=False, mistake=None, decoupled=False):
    import torch

    beta1, beta2 = betas
    zeros = torch.zeros_like(theta)
    t = state["t"] = state.get("t", 0) + 1
    if weight_decay:
        if decoupled and mistake == "decay-after-update":
            pass
        elif decoupled and mistake == "decay-not-scaled-by-lr":
            theta = theta - weight_decay * theta
        elif decoupled or mistake == "decoupled-decay":
            theta = theta - lr * weight_decay * theta
        else:
            g = g + weight_decay * theta
    m = state["m"] = beta1 * state.get("m", zeros) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", zeros) + (1 - beta2) * g * g
    power = t + 1 if mistake == "bias-correction-t-plus-one" else t
    bc1, bc2 = (1.0, 1.0) if mistake == "no-bias-correction" else (1 - beta1 ** power, 1 - beta2 ** power)
    if amsgrad and mistake == "amsgrad-max-of-corrected":
        v_hat = state["v_max"] = torch.maximum(state.get("v_max", zeros), v / bc2)
    elif amsgrad:
        state["v_max"] = torch.maximum(state.get("v_max", zeros), v)
        v_hat = state["v_max"] / bc2
    else:
        v_hat = v / bc2
    denom = torch.sqrt(v_hat + eps) if mistake == "eps-inside-sqrt" else torch.sqrt(v_hat) + eps
    theta = theta - lr * (m / bc1) / denom
    if weight_decay and decoupled and mistake == "decay-after-update":
        theta = theta - lr * weight_decay * theta
    return theta


_known("adam_step", "eps-inside-sqrt", "eps inside the square root, sqrt(hat v_t + eps)", f"""
    torch.optim.Adam adds eps after the square root: gamma hat m_t / (sqrt(hat v_t) + eps).
    Inside the root, sqrt(hat v_t + eps), it acts as sqrt(eps) wherever hat v_t is small:
    with eps = 1e-8 that is 1e-4, not 1e-8. The rule: {_ADAM_EQ}.""", _adam_ops)

_known("adam_step", "no-bias-correction", "no bias correction", f"""
    m and v start at zero, so in the first steps they are too small by the factors
    1 - beta1^t and 1 - beta2^t; Adam divides them by these factors. Without the correction
    the first steps are far too short (for beta1 = 0.9, hat m_1 = g_1 but m_1 = 0.1 g_1).
    The rule: {_ADAM_EQ}.""", _adam_ops)

_known("adam_step", "bias-correction-t-plus-one", "the bias correction one step ahead, 1 - beta^(t+1)", f"""
    The step counter t is 1 at the first step, and the correction divides by 1 - beta^t
    (a counter that starts at 0 would divide by zero at the first step). Here the
    correction used t + 1: the counter was started at 1 and increased before its first
    use, or increased twice. The rule: {_ADAM_EQ}.""", _adam_ops)

_known("adam_step", "decoupled-decay", "decoupled weight decay (AdamW's rule) instead of L2", f"""
    torch.optim.Adam's weight_decay is an L2 penalty: lambda theta is added to the
    gradient before the moments, so it is scaled by the adaptive denominator like the rest
    of g. Shrinking theta directly, theta <- theta - gamma lambda theta, is AdamW, a
    different optimizer. The rule: {_ADAM_EQ}.""", _adam_ops)

_known("adam_step", "amsgrad-max-of-corrected", "AMSGrad's maximum taken over the bias-corrected hat v", f"""
    PyTorch keeps the running maximum of the raw second moment, v_max = max(v_max, v_t),
    and divides it by 1 - beta2^t afterwards (as the algorithm box of torch.optim.Adam
    writes it). Taking the maximum of the corrected values v_t / (1 - beta2^t) keeps the
    large early values, which the correction inflates, for longer. The rule: {_ADAM_EQ}.""",
       _adam_ops)


_ADAMW_DECAY = [0.01, 0.1, 0.05, 0.2]


def _adamw_hyper(rng, index):
    k = _adam_hyper(rng, index, amsgrad=False)
    k["weight_decay"] = _jitter(rng, index, _ADAMW_DECAY[index % 4])
    return k


_register("adamw_step", "AdamW", ("lr", "betas", "eps", "weight_decay"), _adamw_hyper,
          "torch.optim.AdamW step for step",
          [{**{k: v for k, v in row.items() if k != "amsgrad"}, "weight_decay": d}
           for row, d in zip(_ADAM_KINDS, _ADAMW_DECAY)])

_ADAMW_EQ = ("theta <- theta - gamma lambda theta (first, on theta_(t-1)); then Adam without L2: "
             "m_t, v_t from g alone, theta <- theta - gamma hat m_t / (sqrt(hat v_t) + eps)")


def _adamw_ops(theta, g, state, mistake=None, **hyper):
    return _adam_ops(theta, g, state, mistake=mistake, decoupled=True, **hyper)


@mistake("adamw_step", "l2-instead-of-decoupled", "L2 weight decay (Adam's rule) instead of decoupled decay", f"""
    AdamW decouples the decay from the gradient: theta is shrunk by gamma lambda theta
    directly, and g alone goes into m and v. Adding lambda theta to the gradient is Adam's
    L2 penalty, which the adaptive denominator rescales per coordinate; that is the very
    difference AdamW was made for. The rule: {_ADAMW_EQ}.""")
def _(**inputs):
    import torch

    return _optim_trajectory(torch.optim.Adam, **inputs)


_known("adamw_step", "decay-not-scaled-by-lr", "the decay theta <- theta - lambda theta not multiplied by the learning rate", f"""
    torch.optim.AdamW shrinks theta by gamma lambda theta: the decay is multiplied by the
    learning rate (Loshchilov and Hutter multiply it by the schedule's factor only, so
    their decay is PyTorch's weight_decay times the base learning rate). The rule:
    {_ADAMW_EQ}.""", _adamw_ops)

_known("adamw_step", "decay-after-update", "the decay applied after the Adam update, to the new theta", f"""
    PyTorch shrinks theta_(t-1), before the Adam update, and then applies the update:
    theta_t = theta_(t-1) (1 - gamma lambda) - gamma hat m_t / (sqrt(hat v_t) + eps).
    Shrinking the updated theta also shrinks the update. The rule: {_ADAMW_EQ}.""", _adamw_ops)

_known("adamw_step", "eps-inside-sqrt", "eps inside the square root, sqrt(hat v_t + eps)", f"""
    As in Adam, eps is added after the square root: sqrt(hat v_t) + eps. Inside the root it
    acts as sqrt(eps) wherever hat v_t is small. The rule: {_ADAMW_EQ}.""", _adamw_ops)
