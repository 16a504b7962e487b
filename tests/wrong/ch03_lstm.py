"""Chapter 3, LSTM: realistic wrong implementations of its graded functions, as a student
would write them (see tests/wrong_implementations.py)."""

WRONG = {
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
}
