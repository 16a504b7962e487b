"""Chapter 6, optimizers: realistic wrong implementations of its graded functions, as a
student would write them (see tests/wrong_implementations.py)."""

WRONG = {
    "sgd_step": {
        "buffer-starts-dampened": '''
def sgd_step(theta, g, state, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    if weight_decay != 0:
        g = g + weight_decay * theta
    if momentum != 0:
        b = momentum * state.get("b", np.zeros_like(theta)) + (1 - dampening) * g
        state = {"b": b}
        g = g + momentum * b if nesterov else b
    return theta - lr * g, state
''',
        "decay-after-momentum": '''
def sgd_step(theta, g, state, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    if momentum != 0:
        b = g.copy() if "b" not in state else momentum * state["b"] + (1 - dampening) * g
        state = {"b": b}
        g = g + momentum * b if nesterov else b
    return theta - lr * (g + weight_decay * theta), state
''',
        "sutskever-nesterov": '''
def sgd_step(theta, g, state, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    if weight_decay != 0:
        g = g + weight_decay * theta
    if momentum == 0:
        return theta - lr * g, state
    if "v" not in state:
        v = -lr * g
    else:
        v = momentum * state["v"] - lr * (1 - dampening) * g
    return theta + v, {"v": v}
''',
        "dampening-swapped": '''
def sgd_step(theta, g, state, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    if weight_decay != 0:
        g = g + weight_decay * theta
    if momentum != 0:
        b = g.copy() if "b" not in state else momentum * state["b"] + dampening * g
        state = {"b": b}
        g = g + momentum * b if nesterov else b
    return theta - lr * g, state
''',
    },
    "adagrad_step": {
        "eps-inside-sqrt": '''
def adagrad_step(theta, g, state, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    t = state.get("t", 0) + 1
    G = state.get("G", np.full_like(theta, initial_accumulator_value))
    if weight_decay != 0:
        g = g + weight_decay * theta
    G = G + g ** 2
    return theta - lr / (1 + (t - 1) * lr_decay) * g / np.sqrt(G + eps), {"t": t, "G": G}
''',
        "lr-decay-off-by-one": '''
def adagrad_step(theta, g, state, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    if not state:
        state = {"t": 0, "G": np.full_like(theta, initial_accumulator_value)}
    t = state["t"] + 1
    if weight_decay != 0:
        g = g + weight_decay * theta
    G = state["G"] + g ** 2
    return theta - lr / (1 + t * lr_decay) * g / (np.sqrt(G) + eps), {"t": t, "G": G}
''',
        "initial-accumulator-ignored": '''
def adagrad_step(theta, g, state, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    t = state.get("t", 0) + 1
    G = state.get("G", np.zeros_like(theta))
    if weight_decay != 0:
        g = g + weight_decay * theta
    G = G + g ** 2
    return theta - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(G) + eps), {"t": t, "G": G}
''',
        "decay-after-scaling": '''
def adagrad_step(theta, g, state, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    t = state.get("t", 0) + 1
    G = state.get("G", np.full_like(theta, initial_accumulator_value)) + g ** 2
    clr = lr / (1 + (t - 1) * lr_decay)
    return theta - clr * (g / (np.sqrt(G) + eps) + weight_decay * theta), {"t": t, "G": G}
''',
    },
    "rmsprop_step": {
        "eps-inside-sqrt": '''
def rmsprop_step(theta, g, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    state = dict(state)
    g = g + weight_decay * theta
    v = state["v"] = alpha * state.get("v", 0.0) + (1 - alpha) * g ** 2
    if centered:
        g_avg = state["g_avg"] = alpha * state.get("g_avg", 0.0) + (1 - alpha) * g
        v = v - g_avg ** 2
    step = g / np.sqrt(v + eps)
    if momentum > 0:
        step = state["b"] = momentum * state.get("b", 0.0) + step
    return theta - lr * step, state
''',
        "alpha-swapped": '''
def rmsprop_step(theta, g, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    state = dict(state)
    g = g + weight_decay * theta
    v = state["v"] = (1 - alpha) * state.get("v", 0.0) + alpha * g ** 2
    if centered:
        g_avg = state["g_avg"] = (1 - alpha) * state.get("g_avg", 0.0) + alpha * g
        v = v - g_avg ** 2
    step = g / (np.sqrt(v) + eps)
    if momentum > 0:
        step = state["b"] = momentum * state.get("b", 0.0) + step
    return theta - lr * step, state
''',
        "centered-deviations": '''
def rmsprop_step(theta, g, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    state = dict(state)
    g = g + weight_decay * theta
    if centered:
        g_avg = state["g_avg"] = alpha * state.get("g_avg", 0.0) + (1 - alpha) * g
        v = state["v"] = alpha * state.get("v", 0.0) + (1 - alpha) * (g - g_avg) ** 2
    else:
        v = state["v"] = alpha * state.get("v", 0.0) + (1 - alpha) * g ** 2
    step = g / (np.sqrt(v) + eps)
    if momentum > 0:
        step = state["b"] = momentum * state.get("b", 0.0) + step
    return theta - lr * step, state
''',
        "momentum-before-scaling": '''
def rmsprop_step(theta, g, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    state = dict(state)
    g = g + weight_decay * theta
    v = state["v"] = alpha * state.get("v", 0.0) + (1 - alpha) * g ** 2
    if centered:
        g_avg = state["g_avg"] = alpha * state.get("g_avg", 0.0) + (1 - alpha) * g
        v = v - g_avg ** 2
    if momentum > 0:
        g = state["b"] = momentum * state.get("b", 0.0) + g
    return theta - lr * g / (np.sqrt(v) + eps), state
''',
    },
    "adam_step": {
        "eps-inside-sqrt": '''
def adam_step(theta, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    beta1, beta2 = betas
    state = dict(state)
    t = state["t"] = state.get("t", 0) + 1
    g = g + weight_decay * theta
    m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g ** 2
    if amsgrad:
        v = state["v_max"] = np.maximum(state.get("v_max", 0.0), v)
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return theta - lr * m_hat / np.sqrt(v_hat + eps), state
''',
        "no-bias-correction": '''
def adam_step(theta, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    beta1, beta2 = betas
    state = dict(state)
    g = g + weight_decay * theta
    m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g ** 2
    if amsgrad:
        v = state["v_max"] = np.maximum(state.get("v_max", 0.0), v)
    return theta - lr * m / (np.sqrt(v) + eps), state
''',
        "bias-correction-t-plus-one": '''
def adam_step(theta, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    beta1, beta2 = betas
    state = dict(state)
    state["t"] = state.get("t", 1) + 1
    t = state["t"]
    g = g + weight_decay * theta
    m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g ** 2
    if amsgrad:
        v = state["v_max"] = np.maximum(state.get("v_max", 0.0), v)
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), state
''',
        "decoupled-decay": '''
def adam_step(theta, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    beta1, beta2 = betas
    state = dict(state)
    t = state["t"] = state.get("t", 0) + 1
    theta = theta * (1 - lr * weight_decay)
    m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g ** 2
    if amsgrad:
        v = state["v_max"] = np.maximum(state.get("v_max", 0.0), v)
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), state
''',
        "amsgrad-max-of-corrected": '''
def adam_step(theta, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    beta1, beta2 = betas
    state = dict(state)
    t = state["t"] = state.get("t", 0) + 1
    g = g + weight_decay * theta
    m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    if amsgrad:
        v_hat = state["v_hat_max"] = np.maximum(state.get("v_hat_max", 0.0), v_hat)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), state
''',
    },
    "adamw_step": {
        "l2-instead-of-decoupled": '''
def adamw_step(theta, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
    beta1, beta2 = betas
    state = dict(state)
    t = state["t"] = state.get("t", 0) + 1
    g = g + weight_decay * theta
    m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), state
''',
        "decay-not-scaled-by-lr": '''
def adamw_step(theta, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
    beta1, beta2 = betas
    state = dict(state)
    t = state["t"] = state.get("t", 0) + 1
    theta = theta - weight_decay * theta
    m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), state
''',
        "decay-after-update": '''
def adamw_step(theta, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
    beta1, beta2 = betas
    state = dict(state)
    t = state["t"] = state.get("t", 0) + 1
    m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta - lr * weight_decay * theta, state
''',
        "eps-inside-sqrt": '''
def adamw_step(theta, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
    beta1, beta2 = betas
    state = dict(state)
    t = state["t"] = state.get("t", 0) + 1
    theta = theta - lr * weight_decay * theta
    m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return theta - lr * m_hat / np.sqrt(v_hat + eps), state
''',
    },
}
