"""Realistic wrong implementations of every graded function, as a student would write
them. Each must lose that function's points when graded by real nbgrader.

WRONG[assignment][function] = {mistake: source of the whole solution cell}. Where the
mistake is one of the catalogue's (autograde.mistakes), the key is its key, and grading
must diagnose it as exactly that mistake; other keys are free descriptions.
DEPENDS[function] = the graded functions whose own points a mistake in it may also cost
(because their reference solution calls it).
"""

# One direction of one layer of a bidirectional RNN, states stored at their own time
# step: the part most wrong implementations of stacked_birnn_forward below share.
BIRNN_RUN = '''
def run(inputs, h, W_ih, W_hh, b_ih, b_hh, reverse):
    T = len(inputs)
    states = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        h = np.tanh(inputs[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        states[t] = h
    return np.stack(states), h
'''

WRONG = {
    "01-rnn-basics": {
        "rnn_cell": {
            "w_hh-untransposed": '''
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh + b_hh)
''',
            "b_hh-missing": '''
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T)
''',
            "no-tanh": '''
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
''',
            "b_ih-missing": '''
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + h_prev @ W_hh.T + b_hh)
''',
            "sigmoid": '''
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return 1 / (1 + np.exp(-(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)))
''',
        },
        "rnn_forward": {
            "state-not-carried": '''
def rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh):
    states = [rnn_cell(x_t, h_0, W_ih, W_hh, b_ih, b_hh) for x_t in X]
    return np.stack(states), states[-1]
''',
            "h_n-first": '''
def rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh):
    h, states = h_0, []
    for x_t in X:
        h = rnn_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)
        states.append(h)
    return np.stack(states), states[0]
''',
            "outputs-shifted": '''
def rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh):
    h, states = h_0, []
    for x_t in X:
        states.append(h)
        h = rnn_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)
    return np.stack(states), h
''',
            "h_0-ignored": '''
def rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh):
    h, states = np.zeros_like(h_0), []
    for x_t in X:
        h = rnn_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)
        states.append(h)
    return np.stack(states), h
''',
        },
        "jordan_step": {
            "W_yh used untransposed": '''
def jordan_step(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y):
    h_t = np.tanh(x_t @ W_ih.T + y_prev @ W_yh + b_h)
    return h_t, h_t @ W_hy.T + b_y
''',
            "tanh-on-output": '''
def jordan_step(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y):
    h_t = np.tanh(x_t @ W_ih.T + y_prev @ W_yh.T + b_h)
    return h_t, np.tanh(h_t @ W_hy.T + b_y)
''',
            "b_y-missing": '''
def jordan_step(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y):
    h_t = np.tanh(x_t @ W_ih.T + y_prev @ W_yh.T + b_h)
    return h_t, h_t @ W_hy.T
''',
            "no-tanh": '''
def jordan_step(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y):
    h_t = x_t @ W_ih.T + y_prev @ W_yh.T + b_h
    return h_t, h_t @ W_hy.T + b_y
''',
            "output-from-preactivation": '''
def jordan_step(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y):
    a_t = x_t @ W_ih.T + y_prev @ W_yh.T + b_h
    return np.tanh(a_t), a_t @ W_hy.T + b_y
''',
        },
        "many_to_one": {
            "head-on-first-state": '''
def many_to_one(X, h_0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y):
    output, _ = rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh)
    return output[0] @ W_hy.T + b_y
''',
            "head-on-mean": '''
def many_to_one(X, h_0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y):
    output, _ = rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh)
    return output.mean(axis=0) @ W_hy.T + b_y
''',
            "b_y-missing": '''
def many_to_one(X, h_0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y):
    _, h_T = rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh)
    return h_T @ W_hy.T
''',
            "head-every-step": '''
def many_to_one(X, h_0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y):
    output, _ = rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh)
    return output @ W_hy.T + b_y
''',
        },
        "rnn_param_count": {
            # Issue 23, item 14: right one way, one direction's biases left out both ways; "one
            # bias" gives the same count on the bidirectional cases but fails the one-way ones,
            # which this passes, so it is not named.
            "biases of the backward direction left out": '''
def rnn_param_count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        width = input_size if layer == 0 else directions * hidden_size
        weights = hidden_size * width + hidden_size * hidden_size
        total += directions * weights + (2 * hidden_size if bias else 0)
    return total
''',
            "one-bias": '''
def rnn_param_count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    directions = 2 if bidirectional else 1
    count = 0
    for layer in range(num_layers):
        n_in = input_size if layer == 0 else hidden_size * directions
        count += directions * (hidden_size * n_in + hidden_size * hidden_size + (hidden_size if bias else 0))
    return count
''',
            "layers-read-input": '''
def rnn_param_count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    directions = 2 if bidirectional else 1
    per_layer = hidden_size * input_size + hidden_size * hidden_size + (2 * hidden_size if bias else 0)
    return num_layers * directions * per_layer
''',
            "upper-input-one-direction": '''
def rnn_param_count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    directions = 2 if bidirectional else 1
    count = 0
    for layer in range(num_layers):
        n_in = input_size if layer == 0 else hidden_size
        count += directions * (hidden_size * n_in + hidden_size * hidden_size + (2 * hidden_size if bias else 0))
    return count
''',
            "bidirectional-ignored": '''
def rnn_param_count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    count = 0
    for layer in range(num_layers):
        n_in = input_size if layer == 0 else hidden_size
        count += hidden_size * n_in + hidden_size * hidden_size + (2 * hidden_size if bias else 0)
    return count
''',
            "bias-ignored": '''
def rnn_param_count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    directions = 2 if bidirectional else 1
    count = 0
    for layer in range(num_layers):
        n_in = input_size if layer == 0 else hidden_size * directions
        count += directions * (hidden_size * n_in + hidden_size * hidden_size + 2 * hidden_size)
    return count
''',
        },
    },
    "02-bptt": {
        "rnn_cell_backward": {
            "no-tanh-derivative": '''
def rnn_cell_backward(dh_t, x_t, h_prev, h_t, W_ih, W_hh):
    da = dh_t
    return da @ W_ih, da @ W_hh, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
''',
            "derivative-at-h_prev": '''
def rnn_cell_backward(dh_t, x_t, h_prev, h_t, W_ih, W_hh):
    da = dh_t * (1 - h_prev ** 2)
    return da @ W_ih, da @ W_hh, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
''',
            "derivative-not-squared": '''
def rnn_cell_backward(dh_t, x_t, h_prev, h_t, W_ih, W_hh):
    da = dh_t * (1 - h_t)
    return da @ W_ih, da @ W_hh, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
''',
            "dW_hh-from-h_t": '''
def rnn_cell_backward(dh_t, x_t, h_prev, h_t, W_ih, W_hh):
    da = dh_t * (1 - h_t ** 2)
    return da @ W_ih, da @ W_hh, da.T @ x_t, da.T @ h_t, da.sum(axis=0)
''',
            "dh_prev-transposed": '''
def rnn_cell_backward(dh_t, x_t, h_prev, h_t, W_ih, W_hh):
    da = dh_t * (1 - h_t ** 2)
    return da @ W_ih, da @ W_hh.T, da.T @ x_t, da.T @ h_prev, da.sum(axis=0)
''',
            "db-averaged": '''
def rnn_cell_backward(dh_t, x_t, h_prev, h_t, W_ih, W_hh):
    da = dh_t * (1 - h_t ** 2)
    return da @ W_ih, da @ W_hh, da.T @ x_t, da.T @ h_prev, da.mean(axis=0)
''',
        },
        "rnn_backward": {
            "dW-not-accumulated": '''
def rnn_backward(d_output, X, h_0, output, W_ih, W_hh):
    dX = np.zeros_like(X)
    dh_next = np.zeros_like(h_0)
    for t in reversed(range(X.shape[0])):
        h_prev = output[t - 1] if t > 0 else h_0
        dX[t], dh_next, dW_ih, dW_hh, db = rnn_cell_backward(
            d_output[t] + dh_next, X[t], h_prev, output[t], W_ih, W_hh)
    return dX, dh_next, dW_ih, dW_hh, db
''',
            "gradient-not-carried": '''
def rnn_backward(d_output, X, h_0, output, W_ih, W_hh):
    dX = np.zeros_like(X)
    dW_ih, dW_hh, db = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    for t in reversed(range(X.shape[0])):
        h_prev = output[t - 1] if t > 0 else h_0
        dX[t], dh_prev, dW_ih_t, dW_hh_t, db_t = rnn_cell_backward(
            d_output[t], X[t], h_prev, output[t], W_ih, W_hh)
        dW_ih += dW_ih_t
        dW_hh += dW_hh_t
        db += db_t
    return dX, dh_prev, dW_ih, dW_hh, db
''',
            "stops-one-step-early": '''
def rnn_backward(d_output, X, h_0, output, W_ih, W_hh):
    dX = np.zeros_like(X)
    dW_ih, dW_hh, db = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    dh_next = np.zeros_like(h_0)
    for t in reversed(range(1, X.shape[0])):
        dX[t], dh_next, dW_ih_t, dW_hh_t, db_t = rnn_cell_backward(
            d_output[t] + dh_next, X[t], output[t - 1], output[t], W_ih, W_hh)
        dW_ih += dW_ih_t
        dW_hh += dW_hh_t
        db += db_t
    return dX, np.zeros_like(h_0), dW_ih, dW_hh, db
''',
            "h_prev-off-by-one": '''
def rnn_backward(d_output, X, h_0, output, W_ih, W_hh):
    dX = np.zeros_like(X)
    dW_ih, dW_hh, db = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    dh_next = np.zeros_like(h_0)
    for t in reversed(range(X.shape[0])):
        dX[t], dh_next, dW_ih_t, dW_hh_t, db_t = rnn_cell_backward(
            d_output[t] + dh_next, X[t], output[t], output[t], W_ih, W_hh)
        dW_ih += dW_ih_t
        dW_hh += dW_hh_t
        db += db_t
    return dX, dh_next, dW_ih, dW_hh, db
''',
            "time loop runs forwards": '''
def rnn_backward(d_output, X, h_0, output, W_ih, W_hh):
    dX = np.zeros_like(X)
    dW_ih, dW_hh, db = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    dh_next = np.zeros_like(h_0)
    for t in range(X.shape[0]):
        h_prev = output[t - 1] if t > 0 else h_0
        dX[t], dh_next, dW_ih_t, dW_hh_t, db_t = rnn_cell_backward(
            d_output[t] + dh_next, X[t], h_prev, output[t], W_ih, W_hh)
        dW_ih += dW_ih_t
        dW_hh += dW_hh_t
        db += db_t
    return dX, dh_next, dW_ih, dW_hh, db
''',
        },
        "numerical_gradient": {
            "forward-difference": '''
def numerical_gradient(f, x, eps=1e-6):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    f_x = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        grad[i] = (f(x) - f_x) / eps
        x[i] = old
    return grad
''',
            "divided-by-eps": '''
def numerical_gradient(f, x, eps=1e-6):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        f_plus = f(x)
        x[i] = old - eps
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / eps
    return grad
''',
            "entry not restored after perturbing": '''
def numerical_gradient(f, x, eps=1e-6):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        f_plus = f(x)
        x[i] -= 2 * eps
        f_minus = f(x)
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad
''',
            "perturbed-a-copy": '''
def numerical_gradient(f, x, eps=1e-6):
    flat = x.flatten()
    grad = np.zeros_like(flat)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        f_plus = f(x)
        flat[i] = old - eps
        f_minus = f(x)
        flat[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad.reshape(x.shape)
''',
            "returned-flat": '''
def numerical_gradient(f, x, eps=1e-6):
    x = np.array(x, dtype=np.float64)
    flat = x.reshape(-1)
    grad = np.zeros(flat.size)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        f_plus = f(x)
        flat[i] = old - eps
        f_minus = f(x)
        flat[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad
''',
        },
        "clip_grad_norm": {
            "per-tensor": '''
def clip_grad_norm(grads, max_norm):
    total_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    clipped = [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for g in grads]
    return clipped, float(total_norm)
''',
            "by-value": '''
def clip_grad_norm(grads, max_norm):
    total_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    return [np.clip(g, -max_norm, max_norm) for g in grads], float(total_norm)
''',
            "no-eps": '''
def clip_grad_norm(grads, max_norm):
    total_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    scale = min(1.0, max_norm / total_norm)
    return [g * scale for g in grads], float(total_norm)
''',
            "always-scaled": '''
def clip_grad_norm(grads, max_norm):
    total_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    scale = max_norm / (total_norm + 1e-6)
    return [g * scale for g in grads], float(total_norm)
''',
            "sum-of-norms": '''
def clip_grad_norm(grads, max_norm):
    total_norm = sum(np.linalg.norm(g) for g in grads)
    scale = min(1.0, max_norm / (total_norm + 1e-6))
    return [g * scale for g in grads], float(total_norm)
''',
            "norm-after-clipping": '''
def clip_grad_norm(grads, max_norm):
    total_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    clipped = [g * min(1.0, max_norm / (total_norm + 1e-6)) for g in grads]
    return clipped, float(np.sqrt(sum(np.sum(g ** 2) for g in clipped)))
''',
        },
        "tbptt_step": {
            "state-not-carried": '''
def tbptt_step(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr):
    h_0 = np.zeros_like(h_carry)
    h, states = h_0, []
    for x_t in X_chunk:
        h = np.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        states.append(h)
    output = np.stack(states)
    err = output @ W_hy.T + b_y - Y_chunk
    dY = 2 * err / err.size
    _, _, dW_ih, dW_hh, db = rnn_backward(dY @ W_hy, X_chunk, h_0, output, W_ih, W_hh)
    dW_hy = np.einsum("tbo,tbh->oh", dY, output)
    return (W_ih - lr * dW_ih, W_hh - lr * dW_hh, b_ih - lr * db, b_hh - lr * db,
            W_hy - lr * dW_hy, b_y - lr * dY.sum(axis=(0, 1)), output[-1], float(np.mean(err ** 2)))
''',
            "loss-summed": '''
def tbptt_step(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr):
    h, states = h_carry, []
    for x_t in X_chunk:
        h = np.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        states.append(h)
    output = np.stack(states)
    err = output @ W_hy.T + b_y - Y_chunk
    dY = 2 * err
    _, _, dW_ih, dW_hh, db = rnn_backward(dY @ W_hy, X_chunk, h_carry, output, W_ih, W_hh)
    dW_hy = np.einsum("tbo,tbh->oh", dY, output)
    return (W_ih - lr * dW_ih, W_hh - lr * dW_hh, b_ih - lr * db, b_hh - lr * db,
            W_hy - lr * dW_hy, b_y - lr * dY.sum(axis=(0, 1)), output[-1], float(np.sum(err ** 2)))
''',
            "no-factor-2": '''
def tbptt_step(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr):
    h, states = h_carry, []
    for x_t in X_chunk:
        h = np.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        states.append(h)
    output = np.stack(states)
    err = output @ W_hy.T + b_y - Y_chunk
    dY = err / err.size
    _, _, dW_ih, dW_hh, db = rnn_backward(dY @ W_hy, X_chunk, h_carry, output, W_ih, W_hh)
    dW_hy = np.einsum("tbo,tbh->oh", dY, output)
    return (W_ih - lr * dW_ih, W_hh - lr * dW_hh, b_ih - lr * db, b_hh - lr * db,
            W_hy - lr * dW_hy, b_y - lr * dY.sum(axis=(0, 1)), output[-1], float(np.mean(err ** 2)))
''',
            "gradient-ascent": '''
def tbptt_step(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr):
    h, states = h_carry, []
    for x_t in X_chunk:
        h = np.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        states.append(h)
    output = np.stack(states)
    err = output @ W_hy.T + b_y - Y_chunk
    dY = 2 * err / err.size
    _, _, dW_ih, dW_hh, db = rnn_backward(dY @ W_hy, X_chunk, h_carry, output, W_ih, W_hh)
    dW_hy = np.einsum("tbo,tbh->oh", dY, output)
    return (W_ih + lr * dW_ih, W_hh + lr * dW_hh, b_ih + lr * db, b_hh + lr * db,
            W_hy + lr * dW_hy, b_y + lr * dY.sum(axis=(0, 1)), output[-1], float(np.mean(err ** 2)))
''',
            "last-step-only": '''
def tbptt_step(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr):
    h, states = h_carry, []
    for x_t in X_chunk:
        h = np.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        states.append(h)
    output = np.stack(states)
    err = output[-1] @ W_hy.T + b_y - Y_chunk[-1]
    d_output = np.zeros_like(output)
    d_output[-1] = 2 * err / err.size @ W_hy
    _, _, dW_ih, dW_hh, db = rnn_backward(d_output, X_chunk, h_carry, output, W_ih, W_hh)
    dW_hy = (2 * err / err.size).T @ output[-1]
    return (W_ih - lr * dW_ih, W_hh - lr * dW_hh, b_ih - lr * db, b_hh - lr * db,
            W_hy - lr * dW_hy, b_y - lr * (2 * err / err.size).sum(axis=0), output[-1],
            float(np.mean(err ** 2)))
''',
            "b_hh-not-updated": '''
def tbptt_step(X_chunk, Y_chunk, h_carry, W_ih, W_hh, b_ih, b_hh, W_hy, b_y, lr):
    h, states = h_carry, []
    for x_t in X_chunk:
        h = np.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        states.append(h)
    output = np.stack(states)
    err = output @ W_hy.T + b_y - Y_chunk
    dY = 2 * err / err.size
    _, _, dW_ih, dW_hh, db = rnn_backward(dY @ W_hy, X_chunk, h_carry, output, W_ih, W_hh)
    dW_hy = np.einsum("tbo,tbh->oh", dY, output)
    return (W_ih - lr * dW_ih, W_hh - lr * dW_hh, b_ih - lr * db, b_hh,
            W_hy - lr * dW_hy, b_y - lr * dY.sum(axis=(0, 1)), output[-1], float(np.mean(err ** 2)))
''',
        },
    },
    "06-optimizers": {
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
    },
    "03-lstm": {
        "lstm_cell_forward": {
            "order-ifog": '''
def lstm_cell_forward(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    z = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    i, f, o = sig(z[:, :H]), sig(z[:, H:2 * H]), sig(z[:, 2 * H:3 * H])
    g = np.tanh(z[:, 3 * H:])
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t
''',
            "one-bias": '''
def lstm_cell_forward(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    z = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T
    i, f, o = sig(z[:, :H]), sig(z[:, H:2 * H]), sig(z[:, 3 * H:])
    g = np.tanh(z[:, 2 * H:3 * H])
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t
''',
            "no-tanh-on-c": '''
def lstm_cell_forward(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    z = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    i, f, o = sig(z[:, :H]), sig(z[:, H:2 * H]), sig(z[:, 3 * H:])
    g = np.tanh(z[:, 2 * H:3 * H])
    c_t = f * c_prev + i * g
    return o * c_t, c_t
''',
            "sigmoid-candidate": '''
def lstm_cell_forward(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    z = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    i, f, g, o = (sig(z[:, k * H:(k + 1) * H]) for k in range(4))
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t
''',
            "forget-on-candidate": '''
def lstm_cell_forward(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    z = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    i, f, o = sig(z[:, :H]), sig(z[:, H:2 * H]), sig(z[:, 3 * H:])
    g = np.tanh(z[:, 2 * H:3 * H])
    c_t = i * c_prev + f * g
    return o * np.tanh(c_t), c_t
''',
        },
        "lstm_forward": {
            "c-not-carried": '''
def lstm_forward(X, h_0, c_0, W_ih, W_hh, b_ih, b_hh):
    h, states = h_0, []
    for x_t in X:
        h, c = lstm_cell_forward(x_t, h, c_0, W_ih, W_hh, b_ih, b_hh)
        states.append(h)
    return np.stack(states), h, c
''',
            "states-not-carried": '''
def lstm_forward(X, h_0, c_0, W_ih, W_hh, b_ih, b_hh):
    steps = [lstm_cell_forward(x_t, h_0, c_0, W_ih, W_hh, b_ih, b_hh) for x_t in X]
    return np.stack([h for h, _ in steps]), steps[-1][0], steps[-1][1]
''',
            "c_0-ignored": '''
def lstm_forward(X, h_0, c_0, W_ih, W_hh, b_ih, b_hh):
    h, c, states = h_0, np.zeros_like(h_0), []
    for x_t in X:
        h, c = lstm_cell_forward(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        states.append(h)
    return np.stack(states), h, c
''',
            "h_n-c_n-swapped": '''
def lstm_forward(X, h_0, c_0, W_ih, W_hh, b_ih, b_hh):
    h, c, states = h_0, c_0, []
    for x_t in X:
        h, c = lstm_cell_forward(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        states.append(h)
    return np.stack(states), c, h
''',
            "output-holds-c": '''
def lstm_forward(X, h_0, c_0, W_ih, W_hh, b_ih, b_hh):
    h, c, states = h_0, c_0, []
    for x_t in X:
        h, c = lstm_cell_forward(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        states.append(c)
    return np.stack(states), h, c
''',
            "layer axis kept on h_n and c_n": '''
def lstm_forward(X, h_0, c_0, W_ih, W_hh, b_ih, b_hh):
    h, c, states = h_0, c_0, []
    for x_t in X:
        h, c = lstm_cell_forward(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        states.append(h)
    return np.stack(states), h[None], c[None]
''',
        },
        "unpack_lstm_weights": {
            "order-ifog": '''
def unpack_lstm_weights(W_ih, W_hh, b_ih, b_hh):
    parts = [np.split(a, 4) for a in (W_ih, W_hh, b_ih, b_hh)]
    return {name: tuple(p[k] for p in parts) for k, name in enumerate("ifog")}
''',
            "order-igfo": '''
def unpack_lstm_weights(W_ih, W_hh, b_ih, b_hh):
    parts = [np.split(a, 4) for a in (W_ih, W_hh, b_ih, b_hh)]
    return {name: tuple(p[k] for p in parts) for k, name in enumerate("igfo")}
''',
            "rows-interleaved": '''
def unpack_lstm_weights(W_ih, W_hh, b_ih, b_hh):
    return {name: (W_ih[k::4], W_hh[k::4], b_ih[k::4], b_hh[k::4]) for k, name in enumerate("ifgo")}
''',
            "weights split along the columns": '''
def unpack_lstm_weights(W_ih, W_hh, b_ih, b_hh):
    H = W_hh.shape[1]
    return {name: (W_ih[:, k * H:(k + 1) * H], W_hh[:, k * H:(k + 1) * H], b_ih[k * H:(k + 1) * H],
                   b_hh[k * H:(k + 1) * H]) for k, name in enumerate("ifgo")}
''',
        },
        "lstm_cell_backward": {
            "dc_t-ignored": '''
def lstm_cell_backward(dh_t, dc_t, cache):
    i, f, g, o = cache["i"], cache["f"], cache["g"], cache["o"]
    tc = np.tanh(cache["c_t"])
    dc = dh_t * o * (1 - tc ** 2)
    dz = np.concatenate([dc * g * i * (1 - i), dc * cache["c_prev"] * f * (1 - f),
                         dc * i * (1 - g ** 2), dh_t * tc * o * (1 - o)], axis=1)
    return (dz @ cache["W_ih"], dz @ cache["W_hh"], dc * f, dz.T @ cache["x_t"],
            dz.T @ cache["h_prev"], dz.sum(axis=0))
''',
            "h-path-to-c-dropped": '''
def lstm_cell_backward(dh_t, dc_t, cache):
    i, f, g, o = cache["i"], cache["f"], cache["g"], cache["o"]
    tc = np.tanh(cache["c_t"])
    dc = dc_t
    dz = np.concatenate([dc * g * i * (1 - i), dc * cache["c_prev"] * f * (1 - f),
                         dc * i * (1 - g ** 2), dh_t * tc * o * (1 - o)], axis=1)
    return (dz @ cache["W_ih"], dz @ cache["W_hh"], dc * f, dz.T @ cache["x_t"],
            dz.T @ cache["h_prev"], dz.sum(axis=0))
''',
            "no-tanh-prime-on-c": '''
def lstm_cell_backward(dh_t, dc_t, cache):
    i, f, g, o = cache["i"], cache["f"], cache["g"], cache["o"]
    tc = np.tanh(cache["c_t"])
    dc = dc_t + dh_t * o
    dz = np.concatenate([dc * g * i * (1 - i), dc * cache["c_prev"] * f * (1 - f),
                         dc * i * (1 - g ** 2), dh_t * tc * o * (1 - o)], axis=1)
    return (dz @ cache["W_ih"], dz @ cache["W_hh"], dc * f, dz.T @ cache["x_t"],
            dz.T @ cache["h_prev"], dz.sum(axis=0))
''',
            "dc_prev-without-f": '''
def lstm_cell_backward(dh_t, dc_t, cache):
    i, f, g, o = cache["i"], cache["f"], cache["g"], cache["o"]
    tc = np.tanh(cache["c_t"])
    dc = dc_t + dh_t * o * (1 - tc ** 2)
    dz = np.concatenate([dc * g * i * (1 - i), dc * cache["c_prev"] * f * (1 - f),
                         dc * i * (1 - g ** 2), dh_t * tc * o * (1 - o)], axis=1)
    return (dz @ cache["W_ih"], dz @ cache["W_hh"], dc, dz.T @ cache["x_t"],
            dz.T @ cache["h_prev"], dz.sum(axis=0))
''',
            "packed-ifog": '''
def lstm_cell_backward(dh_t, dc_t, cache):
    i, f, g, o = cache["i"], cache["f"], cache["g"], cache["o"]
    tc = np.tanh(cache["c_t"])
    dc = dc_t + dh_t * o * (1 - tc ** 2)
    dz = np.concatenate([dc * g * i * (1 - i), dc * cache["c_prev"] * f * (1 - f),
                         dh_t * tc * o * (1 - o), dc * i * (1 - g ** 2)], axis=1)
    return (dz @ cache["W_ih"], dz @ cache["W_hh"], dc * f, dz.T @ cache["x_t"],
            dz.T @ cache["h_prev"], dz.sum(axis=0))
''',
            "tanh derivative taken as 1 - h_t^2": '''
def lstm_cell_backward(dh_t, dc_t, cache):
    i, f, g, o = cache["i"], cache["f"], cache["g"], cache["o"]
    tc = np.tanh(cache["c_t"])
    h_t = o * tc
    dc = dc_t + dh_t * o * (1 - h_t ** 2)
    dz = np.concatenate([dc * g * i * (1 - i), dc * cache["c_prev"] * f * (1 - f),
                         dc * i * (1 - g ** 2), dh_t * tc * o * (1 - o)], axis=1)
    return (dz @ cache["W_ih"], dz @ cache["W_hh"], dc * f, dz.T @ cache["x_t"],
            dz.T @ cache["h_prev"], dz.sum(axis=0))
''',
        },
    },
    "04-gru": {
        "gru_cell": {
            "order-zrn": '''

def gru_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    a_x = x_t @ W_ih.T + b_ih
    a_h = h_prev @ W_hh.T + b_hh
    z = sig(a_x[:, :H] + a_h[:, :H])
    r = sig(a_x[:, H:2 * H] + a_h[:, H:2 * H])
    n = np.tanh(a_x[:, 2 * H:] + r * a_h[:, 2 * H:])
    return (1 - z) * n + z * h_prev
''',
            "reset-before": '''

def gru_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    a_x = x_t @ W_ih.T + b_ih
    a_h = h_prev @ W_hh.T + b_hh
    r = sig(a_x[:, :H] + a_h[:, :H])
    z = sig(a_x[:, H:2 * H] + a_h[:, H:2 * H])
    n = np.tanh(a_x[:, 2 * H:] + (r * h_prev) @ W_hh[2 * H:].T + b_hh[2 * H:])
    return (1 - z) * n + z * h_prev
''',
            "z-swapped": '''

def gru_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    a_x = x_t @ W_ih.T + b_ih
    a_h = h_prev @ W_hh.T + b_hh
    r = sig(a_x[:, :H] + a_h[:, :H])
    z = sig(a_x[:, H:2 * H] + a_h[:, H:2 * H])
    n = np.tanh(a_x[:, 2 * H:] + r * a_h[:, 2 * H:])
    return z * n + (1 - z) * h_prev
''',
            "b_hn-outside-reset": '''

def gru_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    a_x = x_t @ W_ih.T + b_ih
    a_h = h_prev @ W_hh.T + b_hh
    r = sig(a_x[:, :H] + a_h[:, :H])
    z = sig(a_x[:, H:2 * H] + a_h[:, H:2 * H])
    n = np.tanh(a_x[:, 2 * H:] + b_hh[2 * H:] + r * (h_prev @ W_hh[2 * H:].T))
    return (1 - z) * n + z * h_prev
''',
        },
        "gru_forward": {
            "states-not-carried": '''

def gru_forward(X, h_0, W_ih, W_hh, b_ih, b_hh):
    states = [gru_cell(x_t, h_0, W_ih, W_hh, b_ih, b_hh) for x_t in X]
    return np.stack(states), states[-1]
''',
            "h_0-ignored": '''

def gru_forward(X, h_0, W_ih, W_hh, b_ih, b_hh):
    h, states = np.zeros_like(h_0), []
    for x_t in X:
        h = gru_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)
        states.append(h)
    return np.stack(states), h
''',
            "z-swapped": '''

def gru_forward(X, h_0, W_ih, W_hh, b_ih, b_hh):
    H = h_0.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    h, states = h_0, []
    for x_t in X:
        a_x, a_h = x_t @ W_ih.T + b_ih, h @ W_hh.T + b_hh
        r, z = sig(a_x[:, :H] + a_h[:, :H]), sig(a_x[:, H:2 * H] + a_h[:, H:2 * H])
        n = np.tanh(a_x[:, 2 * H:] + r * a_h[:, 2 * H:])
        h = z * n + (1 - z) * h
        states.append(h)
    return np.stack(states), h
''',
            "order-zrn": '''

def gru_forward(X, h_0, W_ih, W_hh, b_ih, b_hh):
    H = h_0.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    h, states = h_0, []
    for x_t in X:
        a_x, a_h = x_t @ W_ih.T + b_ih, h @ W_hh.T + b_hh
        z, r = sig(a_x[:, :H] + a_h[:, :H]), sig(a_x[:, H:2 * H] + a_h[:, H:2 * H])
        n = np.tanh(a_x[:, 2 * H:] + r * a_h[:, 2 * H:])
        h = (1 - z) * n + z * h
        states.append(h)
    return np.stack(states), h
''',
        },
        "gru_cell_reset_before": {
            "reset-after": '''

def gru_cell_reset_before(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    a_x = x_t @ W_ih.T + b_ih
    a_h = h_prev @ W_hh.T + b_hh
    r = sig(a_x[:, :H] + a_h[:, :H])
    z = sig(a_x[:, H:2 * H] + a_h[:, H:2 * H])
    n = np.tanh(a_x[:, 2 * H:] + r * a_h[:, 2 * H:])
    return (1 - z) * n + z * h_prev
''',
            "order-zrn": '''

def gru_cell_reset_before(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    a_x = x_t @ W_ih.T + b_ih
    a_h = h_prev @ W_hh.T + b_hh
    z = sig(a_x[:, :H] + a_h[:, :H])
    r = sig(a_x[:, H:2 * H] + a_h[:, H:2 * H])
    n = np.tanh(a_x[:, 2 * H:] + (r * h_prev) @ W_hh[2 * H:].T + b_hh[2 * H:])
    return (1 - z) * n + z * h_prev
''',
            "z-swapped": '''

def gru_cell_reset_before(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    a_x = x_t @ W_ih.T + b_ih
    a_h = h_prev @ W_hh.T + b_hh
    r = sig(a_x[:, :H] + a_h[:, :H])
    z = sig(a_x[:, H:2 * H] + a_h[:, H:2 * H])
    n = np.tanh(a_x[:, 2 * H:] + (r * h_prev) @ W_hh[2 * H:].T + b_hh[2 * H:])
    return z * n + (1 - z) * h_prev
''',
            "b_hn-reset": '''

def gru_cell_reset_before(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    sig = lambda a: 1 / (1 + np.exp(-a))
    a_x = x_t @ W_ih.T + b_ih
    a_h = h_prev @ W_hh.T + b_hh
    r = sig(a_x[:, :H] + a_h[:, :H])
    z = sig(a_x[:, H:2 * H] + a_h[:, H:2 * H])
    n = np.tanh(a_x[:, 2 * H:] + r * ((r * h_prev) @ W_hh[2 * H:].T + b_hh[2 * H:]))
    return (1 - z) * n + z * h_prev
''',
        },
        "param_count": {
            "one-bias": '''

def param_count(mode, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True,
                proj_size=0):
    blocks = {"RNN": 1, "LSTM": 4, "GRU": 3}[mode]
    out = proj_size if proj_size > 0 else hidden_size
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        reads = input_size if layer == 0 else directions * out
        per_direction = blocks * hidden_size * (reads + out)
        if bias:
            per_direction += blocks * hidden_size
        if proj_size > 0:
            per_direction += proj_size * hidden_size
        total += directions * per_direction
    return int(total)
''',
            "upper-input-D": '''

def param_count(mode, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True,
                proj_size=0):
    blocks = {"RNN": 1, "LSTM": 4, "GRU": 3}[mode]
    out = proj_size if proj_size > 0 else hidden_size
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        reads = input_size
        per_direction = blocks * hidden_size * (reads + out)
        if bias:
            per_direction += 2 * blocks * hidden_size
        if proj_size > 0:
            per_direction += proj_size * hidden_size
        total += directions * per_direction
    return int(total)
''',
            "upper-input-one-direction": '''

def param_count(mode, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True,
                proj_size=0):
    blocks = {"RNN": 1, "LSTM": 4, "GRU": 3}[mode]
    out = proj_size if proj_size > 0 else hidden_size
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        reads = input_size if layer == 0 else out
        per_direction = blocks * hidden_size * (reads + out)
        if bias:
            per_direction += 2 * blocks * hidden_size
        if proj_size > 0:
            per_direction += proj_size * hidden_size
        total += directions * per_direction
    return int(total)
''',
            "proj-ignored": '''

def param_count(mode, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True,
                proj_size=0):
    blocks = {"RNN": 1, "LSTM": 4, "GRU": 3}[mode]
    out = hidden_size
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        reads = input_size if layer == 0 else directions * out
        per_direction = blocks * hidden_size * (reads + out)
        if bias:
            per_direction += 2 * blocks * hidden_size
        total += directions * per_direction
    return int(total)
''',
            "weight_hr-missing": '''

def param_count(mode, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True,
                proj_size=0):
    blocks = {"RNN": 1, "LSTM": 4, "GRU": 3}[mode]
    out = proj_size if proj_size > 0 else hidden_size
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        reads = input_size if layer == 0 else directions * out
        per_direction = blocks * hidden_size * (reads + out)
        if bias:
            per_direction += 2 * blocks * hidden_size
        total += directions * per_direction
    return int(total)
''',
            "upper-input-hidden-not-proj": '''

def param_count(mode, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True,
                proj_size=0):
    blocks = {"RNN": 1, "LSTM": 4, "GRU": 3}[mode]
    out = proj_size if proj_size > 0 else hidden_size
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        reads = input_size if layer == 0 else directions * hidden_size
        per_direction = blocks * hidden_size * (reads + out)
        if bias:
            per_direction += 2 * blocks * hidden_size
        if proj_size > 0:
            per_direction += proj_size * hidden_size
        total += directions * per_direction
    return int(total)
''',
        },
    },
    "05-deep-bidirectional": {
        "stacked_birnn_forward": {
            "reverse-not-flipped": '''
def stacked_birnn_forward(X, h_0, weights):
    def run(inputs, h, W_ih, W_hh, b_ih, b_hh, reverse):
        states = []
        for x_t in (inputs[::-1] if reverse else inputs):
            h = np.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
            states.append(h)
        return np.stack(states), h

    layer_input, finals = X, []
    for layer in range(2):
        outputs = []
        for d, suffix in enumerate(("", "_reverse")):
            w = [weights[f"{k}_l{layer}{suffix}"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            states, h = run(layer_input, h_0[2 * layer + d], *w, reverse=d == 1)
            outputs.append(states)
            finals.append(h)
        layer_input = np.concatenate(outputs, axis=2)
    return layer_input, np.stack(finals)
''',
            "halves-swapped": BIRNN_RUN + '''
def stacked_birnn_forward(X, h_0, weights):
    layer_input, finals = X, []
    for layer in range(2):
        w_f = [weights[f"{k}_l{layer}"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        w_b = [weights[f"{k}_l{layer}_reverse"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        fwd, h_f = run(layer_input, h_0[2 * layer], *w_f, reverse=False)
        bwd, h_b = run(layer_input, h_0[2 * layer + 1], *w_b, reverse=True)
        finals += [h_f, h_b]
        layer_input = np.concatenate([bwd, fwd], axis=2)
    return layer_input, np.stack(finals)
''',
            "rows-direction-major": BIRNN_RUN + '''
def stacked_birnn_forward(X, h_0, weights):
    num_layers = 2
    h_n = np.zeros_like(h_0)
    layer_input = X
    for layer in range(num_layers):
        outputs = []
        for d, suffix in enumerate(("", "_reverse")):
            w = [weights[f"{k}_l{layer}{suffix}"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            states, h_n[d * num_layers + layer] = run(layer_input, h_0[d * num_layers + layer], *w,
                                                      reverse=d == 1)
            outputs.append(states)
        layer_input = np.concatenate(outputs, axis=2)
    return layer_input, h_n
''',
            "upper-reads-forward-half": BIRNN_RUN + '''
def stacked_birnn_forward(X, h_0, weights):
    H = h_0.shape[2]
    layer_input, finals = X, []
    for layer in range(2):
        outputs = []
        for d, suffix in enumerate(("", "_reverse")):
            W_ih, W_hh, b_ih, b_hh = (weights[f"{k}_l{layer}{suffix}"]
                                      for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
            if layer == 1:
                W_ih = W_ih[:, :H]  # the input is only H wide
            states, h = run(layer_input, h_0[2 * layer + d], W_ih, W_hh, b_ih, b_hh, reverse=d == 1)
            outputs.append(states)
            finals.append(h)
        output = np.concatenate(outputs, axis=2)
        layer_input = outputs[0]
    return output, np.stack(finals)
''',
            "reverse-starts-from-forward-h_0": BIRNN_RUN + '''
def stacked_birnn_forward(X, h_0, weights):
    layer_input, finals = X, []
    for layer in range(2):
        outputs = []
        for d, suffix in enumerate(("", "_reverse")):
            w = [weights[f"{k}_l{layer}{suffix}"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            states, h = run(layer_input, h_0[2 * layer], *w, reverse=d == 1)
            outputs.append(states)
            finals.append(h)
        layer_input = np.concatenate(outputs, axis=2)
    return layer_input, np.stack(finals)
''',
            "backward-final-from-output-last": BIRNN_RUN + '''
def stacked_birnn_forward(X, h_0, weights):
    H = h_0.shape[2]
    layer_input, finals = X, []
    for layer in range(2):
        outputs = []
        for d, suffix in enumerate(("", "_reverse")):
            w = [weights[f"{k}_l{layer}{suffix}"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            outputs.append(run(layer_input, h_0[2 * layer + d], *w, reverse=d == 1)[0])
        layer_input = np.concatenate(outputs, axis=2)
        finals += [layer_input[-1, :, :H], layer_input[-1, :, H:]]
    return layer_input, np.stack(finals)
''',
        },
        "dt_rnn_cell": {
            "concat-order": '''
def dt_rnn_cell(x_t, h_prev, W_q, b_q, W_qh, b_qh):
    q_t = np.tanh(np.hstack([h_prev, x_t]) @ W_q.T + b_q)
    return np.tanh(q_t @ W_qh.T + b_qh)
''',
            "intermediate-linear": '''
def dt_rnn_cell(x_t, h_prev, W_q, b_q, W_qh, b_qh):
    q_t = np.concatenate([x_t, h_prev], axis=1) @ W_q.T + b_q
    return np.tanh(q_t @ W_qh.T + b_qh)
''',
            "last-layer-linear": '''
def dt_rnn_cell(x_t, h_prev, W_q, b_q, W_qh, b_qh):
    q_t = np.tanh(np.concatenate([x_t, h_prev], axis=1) @ W_q.T + b_q)
    return q_t @ W_qh.T + b_qh
''',
            "returns-intermediate": '''
def dt_rnn_cell(x_t, h_prev, W_q, b_q, W_qh, b_qh):
    q_t = np.tanh(np.concatenate([x_t, h_prev], axis=1) @ W_q.T + b_q)
    h_t = np.tanh(q_t @ W_qh.T + b_qh)
    return q_t
''',
            "b_q left out of the intermediate layer": '''
def dt_rnn_cell(x_t, h_prev, W_q, b_q, W_qh, b_qh):
    q_t = np.tanh(np.concatenate([x_t, h_prev], axis=1) @ W_q.T)
    return np.tanh(q_t @ W_qh.T + b_qh)
''',
        },
        "rnn_output_shapes": {
            "h_n-batch-first": '''
def rnn_output_shapes(mode, T, B, D, H, num_layers, bidirectional, batch_first, proj_size):
    dirs = 2 if bidirectional else 1
    H_out = proj_size if mode == "LSTM" and proj_size > 0 else H
    output = (B, T, dirs * H_out) if batch_first else (T, B, dirs * H_out)
    h_n = (B, num_layers * dirs, H_out) if batch_first else (num_layers * dirs, B, H_out)
    if mode != "LSTM":
        return output, h_n, None
    c_n = (B, num_layers * dirs, H) if batch_first else (num_layers * dirs, B, H)
    return output, h_n, c_n
''',
            "proj_size-ignored": '''
def rnn_output_shapes(mode, T, B, D, H, num_layers, bidirectional, batch_first, proj_size):
    dirs = 2 if bidirectional else 1
    output = (B, T, dirs * H) if batch_first else (T, B, dirs * H)
    h_n = (num_layers * dirs, B, H)
    return output, h_n, (h_n if mode == "LSTM" else None)
''',
            "proj_size-on-c_n": '''
def rnn_output_shapes(mode, T, B, D, H, num_layers, bidirectional, batch_first, proj_size):
    dirs = 2 if bidirectional else 1
    H_out = proj_size if mode == "LSTM" and proj_size > 0 else H
    output = (B, T, dirs * H_out) if batch_first else (T, B, dirs * H_out)
    h_n = (num_layers * dirs, B, H_out)
    return output, h_n, (h_n if mode == "LSTM" else None)
''',
            "directions-not-counted": '''
def rnn_output_shapes(mode, T, B, D, H, num_layers, bidirectional, batch_first, proj_size):
    H_out = proj_size if mode == "LSTM" and proj_size > 0 else H
    output = (B, T, H_out) if batch_first else (T, B, H_out)
    return output, (num_layers, B, H_out), ((num_layers, B, H) if mode == "LSTM" else None)
''',
            "h_n-features-doubled": '''
def rnn_output_shapes(mode, T, B, D, H, num_layers, bidirectional, batch_first, proj_size):
    dirs = 2 if bidirectional else 1
    H_out = proj_size if mode == "LSTM" and proj_size > 0 else H
    output = (B, T, dirs * H_out) if batch_first else (T, B, dirs * H_out)
    h_n = (num_layers, B, dirs * H_out)
    return output, h_n, ((num_layers * dirs, B, H) if mode == "LSTM" else None)
''',
            "c_n-for-every-mode": '''
def rnn_output_shapes(mode, T, B, D, H, num_layers, bidirectional, batch_first, proj_size):
    dirs = 2 if bidirectional else 1
    H_out = proj_size if mode == "LSTM" and proj_size > 0 else H
    output = (B, T, dirs * H_out) if batch_first else (T, B, dirs * H_out)
    h_n = (num_layers * dirs, B, H_out)
    c_n = (num_layers * dirs, B, H if mode == "LSTM" else H_out)
    return output, h_n, c_n
''',
            "projection not doubled when bidirectional": '''
def rnn_output_shapes(mode, T, B, D, H, num_layers, bidirectional, batch_first, proj_size):
    dirs = 2 if bidirectional else 1
    features = proj_size if mode == "LSTM" and proj_size > 0 else dirs * H
    output = (B, T, features) if batch_first else (T, B, features)
    H_out = proj_size if mode == "LSTM" and proj_size > 0 else H
    h_n = (num_layers * dirs, B, H_out)
    return output, h_n, ((num_layers * dirs, B, H) if mode == "LSTM" else None)
''',
            "layers counted up to two": '''
def rnn_output_shapes(mode, T, B, D, H, num_layers, bidirectional, batch_first, proj_size):
    dirs = 2 if bidirectional else 1
    layers = min(num_layers, 2)
    H_out = proj_size if mode == "LSTM" and proj_size > 0 else H
    output = (B, T, dirs * H_out) if batch_first else (T, B, dirs * H_out)
    h_n = (layers * dirs, B, H_out)
    return output, h_n, ((layers * dirs, B, H) if mode == "LSTM" else None)
''',
            "output read as (B, T, ...) even without batch_first": '''
def rnn_output_shapes(mode, T, B, D, H, num_layers, bidirectional, batch_first, proj_size):
    dirs = 2 if bidirectional else 1
    H_out = proj_size if mode == "LSTM" and proj_size > 0 else H
    h_n = (num_layers * dirs, B, H_out)
    return (B, T, dirs * H_out), h_n, ((num_layers * dirs, B, H) if mode == "LSTM" else None)
''',
        },
    },
    "07-capstone": {
        "make_windows": {
            "window-includes-target": """
def make_windows(u, w, k, S):
    starts = range(0, len(u) - w - k + 1, S)
    X = np.array([u[s + k:s + w + k] for s in starts])
    Y = np.array([u[s + w:s + w + k] for s in starts])
    return X, Y
""",
            "off-by-one-horizon": """
def make_windows(u, w, k, S):
    starts = range(0, len(u) - w - k + 1, S)
    X = np.array([u[s:s + w] for s in starts])
    Y = np.array([u[s + w - 1:s + w + k - 1] for s in starts])
    return X, Y
""",
            "stride-ignored": """
def make_windows(u, w, k, S):
    starts = range(0, len(u) - w - k + 1)
    X = np.array([u[s:s + w] for s in starts])
    Y = np.array([u[s + w:s + w + k] for s in starts])
    return X, Y
""",
            "last-window-dropped": """
def make_windows(u, w, k, S):
    starts = range(0, len(u) - w - k, S)
    X = np.array([u[s:s + w] for s in starts])
    Y = np.array([u[s + w:s + w + k] for s in starts])
    return X, Y
""",
        },
        "chronological_split": {
            "shuffled-split": """
def chronological_split(u, n_val, n_test):
    v = np.random.default_rng().permutation(u)  # a fresh shuffle each call
    n_train = len(u) - n_val - n_test
    return v[:n_train], v[n_train:n_train + n_val], v[n_train + n_val:]
""",
            "newest-first": """
def chronological_split(u, n_val, n_test):
    v = u[::-1]
    n_train = len(u) - n_val - n_test
    return v[:n_train], v[n_train:n_train + n_val], v[n_train + n_val:]
""",
            "sizes-swapped": """
def chronological_split(u, n_val, n_test):
    n_train = len(u) - n_val - n_test
    return u[:n_train], u[n_train:n_train + n_test], u[n_train + n_test:]
""",
        },
        "scale_splits": {
            "fitted-on-all-data": """
def scale_splits(u_train, u_val, u_test):
    u = np.concatenate([u_train, u_val, u_test])
    mean, std = u.mean(), u.std()
    return (u_train - mean) / std, (u_val - mean) / std, (u_test - mean) / std, mean, std
""",
            "fitted-per-split": """
def scale_splits(u_train, u_val, u_test):
    z = [(p - p.mean()) / p.std() for p in (u_train, u_val, u_test)]
    return z[0], z[1], z[2], u_train.mean(), u_train.std()
""",
            "divided-by-variance": """
def scale_splits(u_train, u_val, u_test):
    mean, var = u_train.mean(), u_train.var()
    return (u_train - mean) / var, (u_val - mean) / var, (u_test - mean) / var, mean, np.sqrt(var)
""",
        },
        "rmse_mae": {
            "mae-signed-mean": """
def rmse_mae(Y_hat, Y):
    return float(np.sqrt(np.mean((Y_hat - Y) ** 2))), float(np.mean(Y - Y_hat))
""",
            "mae-signed-mean@other-sign": """
def rmse_mae(Y_hat, Y):
    return float(np.sqrt(np.mean((Y_hat - Y) ** 2))), float(np.mean(Y_hat - Y))
""",
            "mse-not-rmse": """
def rmse_mae(Y_hat, Y):
    return float(np.mean((Y_hat - Y) ** 2)), float(np.mean(np.abs(Y_hat - Y)))
""",
            "rmse-per-window": """
def rmse_mae(Y_hat, Y):
    rmse = np.mean(np.sqrt(np.mean((Y_hat - Y) ** 2, axis=1)))
    return float(rmse), float(np.mean(np.abs(Y_hat - Y)))
""",
        },
        "forecast": {
            "training-mean": """
def forecast(u_train, windows, k):
    return np.full((len(windows), k), float(np.mean(u_train)))
""",
            "persistence": """
def forecast(u_train, windows, k):
    return np.repeat(windows[:, -1:], k, axis=1)
""",
            "window-mean": """
def forecast(u_train, windows, k):
    return np.repeat(windows.mean(axis=1, keepdims=True), k, axis=1)
""",
            "an untrained GRU (its optimizer steps another model, as the seed's trainer did)": """
def forecast(u_train, windows, k):
    import torch

    torch.manual_seed(0)
    mean, std = u_train.mean(), u_train.std()
    X, Y = (torch.tensor(a) for a in make_windows((u_train - mean) / std, 32, k, 1))
    gru = torch.nn.GRU(1, 16, batch_first=True, dtype=torch.float64)
    head = torch.nn.Linear(16, k, dtype=torch.float64)
    other = torch.nn.Linear(32, k, dtype=torch.float64)
    trainer = torch.optim.Adam(other.parameters(), lr=0.01)  # not the GRU's parameters
    for epoch in range(50):
        trainer.zero_grad()
        loss = torch.mean((head(gru(X.unsqueeze(-1))[1][0]) - Y) ** 2)
        loss.backward()
        trainer.step()
    with torch.no_grad():
        Z = torch.tensor((windows[:, -32:] - mean) / std).unsqueeze(-1)
        return head(gru(Z)[1][0]).numpy() * std + mean
""",
        },
    },
    "08-char-lm": {
        "sequence_cross_entropy": {
            "summed": """
def sequence_cross_entropy(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    t, b = np.indices(targets.shape)
    loss = -log_p[t, b, targets].sum()
    dlogits = np.exp(log_p)
    dlogits[t, b, targets] -= 1
    return float(loss), dlogits
""",
            "mean-over-batch-only": """
def sequence_cross_entropy(logits, targets):
    T, B, V = logits.shape
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    t, b = np.indices(targets.shape)
    loss = -log_p[t, b, targets].sum() / B
    dlogits = np.exp(log_p)
    dlogits[t, b, targets] -= 1
    return float(loss), dlogits / B
""",
            "softmax-over-batch": """
def sequence_cross_entropy(logits, targets):
    T, B, V = logits.shape
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = 0.0
    dlogits = np.zeros_like(logits)
    for t in range(T):
        for b in range(B):
            loss -= log_p[t, b, targets[t, b]]
            dlogits[t, :, targets[t, b]] += np.exp(log_p[t, :, targets[t, b]])
            dlogits[t, b, targets[t, b]] -= 1
    return float(loss / (T * B)), dlogits / (T * B)
""",
            "no-max-shift": """
def sequence_cross_entropy(logits, targets):
    T, B, V = logits.shape
    e = np.exp(logits)
    p = e / e.sum(axis=-1, keepdims=True)
    t, b = np.indices(targets.shape)
    loss = -np.log(p[t, b, targets]).mean()
    dlogits = p.copy()
    dlogits[t, b, targets] -= 1
    return float(loss), dlogits / (T * B)
""",
            "log-of-probabilities": """
def sequence_cross_entropy(logits, targets):
    T, B, V = logits.shape
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    onehot = np.eye(V)[targets]
    loss = -np.sum(onehot * np.log(p)) / (T * B)
    return float(loss), (p - onehot) / (T * B)
""",
        },
        "perplexity": {
            "exp-of-sum": """
def perplexity(logits, targets):
    loss, _ = sequence_cross_entropy(logits, targets)
    return float(np.exp(loss * targets.size))
""",
            "base-2": """
def perplexity(logits, targets):
    loss, _ = sequence_cross_entropy(logits, targets)
    return float(2 ** loss)
""",
            "mean-of-exp": """
def perplexity(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(log_p, targets[..., None], axis=-1)
    return float(np.mean(np.exp(nll)))
""",
            "inverse-mean-probability": """
def perplexity(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    p_target = np.take_along_axis(p, targets[..., None], axis=-1)
    return float(1 / p_target.mean())
""",
        },
        "sample_next": {
            "temperature-after-softmax": """
def sample_next(logits, temperature, top_k, u):
    z = logits.copy()
    if top_k:
        z[np.argsort(z)[:-top_k]] = -np.inf
    p = np.exp(z - z.max())
    p = p / p.sum()
    p = p / temperature
    p = p / p.sum()
    return int(np.searchsorted(np.cumsum(p), u, side="right"))
""",
            "temperature-multiplied": """
def sample_next(logits, temperature, top_k, u):
    z = logits * temperature
    if top_k:
        z[np.argsort(z)[:-top_k]] = -np.inf
    p = np.exp(z - z.max())
    cdf = np.cumsum(p / p.sum())
    return int(np.searchsorted(cdf, u, side="right"))
""",
            "cdf-ge": """
def sample_next(logits, temperature, top_k, u):
    z = logits / temperature
    if top_k:
        z = np.where(z >= np.sort(z)[-top_k], z, -np.inf)
    p = np.exp(z - z.max())
    cdf = np.cumsum(p / p.sum())
    return int(np.searchsorted(cdf, u))
""",
            "cdf-ge@loop": """
def sample_next(logits, temperature, top_k, u):
    z = logits / temperature
    if top_k:
        z = np.where(z >= np.sort(z)[-top_k], z, -np.inf)
    p = np.exp(z - z.max())
    p = p / p.sum()
    total = 0.0
    for i in range(len(p)):
        total += p[i]
        if total >= u:
            return i
    return len(p) - 1
""",
            "top-k-not-renormalised": """
def sample_next(logits, temperature, top_k, u):
    z = logits / temperature
    p = np.exp(z - z.max())
    p = p / p.sum()
    if top_k:
        p = np.where(z >= np.sort(z)[-top_k], p, 0.0)
    return int(np.searchsorted(np.cumsum(p), u, side="right"))
""",
            "top-k-smallest": """
def sample_next(logits, temperature, top_k, u):
    z = logits / temperature
    if top_k:
        keep = np.argsort(z)[:top_k]
        masked = np.full_like(z, -np.inf)
        masked[keep] = z[keep]
        z = masked
    p = np.exp(z - z.max())
    cdf = np.cumsum(p / p.sum())
    return int(np.searchsorted(cdf, u, side="right"))
""",
        },
        "tbptt_chunks": {
            "streams-interleaved": """
def tbptt_chunks(ids, B, K):
    L = (len(ids) - 1) // B
    M = L // K
    X = ids[:L * B].reshape(L, B)[:M * K]
    Y = ids[1:L * B + 1].reshape(L, B)[:M * K]
    return X.reshape(M, K, B), Y.reshape(M, K, B)
""",
            "chunks-restart": """
def tbptt_chunks(ids, B, K):
    L = (len(ids) - 1) // B
    M = L // K
    X, Y = [], []
    for m in range(M):
        rows = [ids[(m * B + b) * K:(m * B + b + 1) * K] for b in range(B)]
        X.append(np.stack(rows, axis=1))
        rows = [ids[(m * B + b) * K + 1:(m * B + b + 1) * K + 1] for b in range(B)]
        Y.append(np.stack(rows, axis=1))
    return np.stack(X), np.stack(Y)
""",
            "inputs-targets-swapped": """
def tbptt_chunks(ids, B, K):
    L = (len(ids) - 1) // B
    M = L // K
    X = ids[1:B * L + 1].reshape(B, L)[:, :M * K]
    Y = ids[:B * L].reshape(B, L)[:, :M * K]
    return (X.reshape(B, M, K).transpose(1, 2, 0).copy(),
            Y.reshape(B, M, K).transpose(1, 2, 0).copy())
""",
            "targets-not-shifted": """
def tbptt_chunks(ids, B, K):
    L = (len(ids) - 1) // B
    M = L // K
    streams = ids[:B * L].reshape(B, L)[:, :M * K]
    X = streams.reshape(B, M, K).transpose(1, 2, 0).copy()
    Y = streams.reshape(B, M, K).transpose(1, 2, 0).copy()
    return X, Y
""",
            "batch-major": """
def tbptt_chunks(ids, B, K):
    L = (len(ids) - 1) // B
    M = L // K
    X = ids[:B * L].reshape(B, L)[:, :M * K].reshape(B, M, K)
    Y = ids[1:B * L + 1].reshape(B, L)[:, :M * K].reshape(B, M, K)
    return X.transpose(1, 0, 2).copy(), Y.transpose(1, 0, 2).copy()
""",
        },
    },
}

DEPENDS = {
    "rnn_forward": {"rnn_cell"},
    "many_to_one": {"rnn_forward", "rnn_cell"},
    "rnn_backward": {"rnn_cell_backward"},
    "tbptt_step": {"rnn_backward", "rnn_cell_backward"},
    "lstm_forward": {"lstm_cell_forward"},
    "gru_forward": {"gru_cell"},
    "forecast": {"make_windows", "chronological_split", "scale_splits"},
    "perplexity": {"sequence_cross_entropy"},
}


def cases():
    """(assignment, function, mistake, source) for every wrong implementation. A key
    "mistake@variant" is a second way of writing the same mistake: diagnosed as it."""
    return [(a, f, m.split("@")[0], src.strip() + "\n")
            for a, fns in WRONG.items() for f, ms in fns.items() for m, src in ms.items()]
