"""Chapter 4, GRU: realistic wrong implementations of its graded functions, as a student
would write them (see tests/wrong_implementations.py)."""

WRONG = {
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
}
