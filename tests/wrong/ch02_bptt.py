"""Chapter 2, backpropagation through time: realistic wrong implementations of its graded
functions, as a student would write them (see tests/wrong_implementations.py)."""

WRONG = {
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
}
