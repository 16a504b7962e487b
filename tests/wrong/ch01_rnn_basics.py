"""Chapter 1, RNN basics: realistic wrong implementations of its graded functions, as a
student would write them (see tests/wrong_implementations.py)."""

WRONG = {
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
}
