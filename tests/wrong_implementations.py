"""Realistic wrong implementations of every graded function, as a student would write
them. Each must lose that function's points when graded by real nbgrader.

WRONG[assignment][function] = {mistake: source of the whole solution cell}.
DEPENDS[function] = the graded functions whose own points a mistake in it may also cost
(because their reference solution calls it).
"""

WRONG = {
    "01-rnn-basics": {
        "rnn_cell": {
            "W_hh used untransposed": '''
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh + b_hh)
''',
            "one bias dropped": '''
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T)
''',
            "no tanh": '''
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
''',
            "sigmoid instead of tanh": '''
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    return 1 / (1 + np.exp(-(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)))
''',
        },
        "rnn_forward": {
            "state not carried": '''
def rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh):
    states = [rnn_cell(x_t, h_0, W_ih, W_hh, b_ih, b_hh) for x_t in X]
    return np.stack(states), states[-1]
''',
            "h_n is the first state": '''
def rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh):
    h, states = h_0, []
    for x_t in X:
        h = rnn_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)
        states.append(h)
    return np.stack(states), states[0]
''',
            "outputs shifted by one step (h_0 included)": '''
def rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh):
    h, states = h_0, []
    for x_t in X:
        states.append(h)
        h = rnn_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)
    return np.stack(states), h
''',
            "h_0 ignored (starts from zeros)": '''
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
            "tanh applied to the output": '''
def jordan_step(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y):
    h_t = np.tanh(x_t @ W_ih.T + y_prev @ W_yh.T + b_h)
    return h_t, np.tanh(h_t @ W_hy.T + b_y)
''',
            "output bias dropped": '''
def jordan_step(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y):
    h_t = np.tanh(x_t @ W_ih.T + y_prev @ W_yh.T + b_h)
    return h_t, h_t @ W_hy.T
''',
            "output from the pre-activation": '''
def jordan_step(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y):
    a_t = x_t @ W_ih.T + y_prev @ W_yh.T + b_h
    return np.tanh(a_t), a_t @ W_hy.T + b_y
''',
        },
        "many_to_one": {
            "head on the first state": '''
def many_to_one(X, h_0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y):
    output, _ = rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh)
    return output[0] @ W_hy.T + b_y
''',
            "head on the mean over time": '''
def many_to_one(X, h_0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y):
    output, _ = rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh)
    return output.mean(axis=0) @ W_hy.T + b_y
''',
            "head bias dropped": '''
def many_to_one(X, h_0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y):
    _, h_T = rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh)
    return h_T @ W_hy.T
''',
            "one output per time step": '''
def many_to_one(X, h_0, W_ih, W_hh, b_ih, b_hh, W_hy, b_y):
    output, _ = rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh)
    return output @ W_hy.T + b_y
''',
        },
        "rnn_param_count": {
            "one bias per layer": '''
def rnn_param_count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    directions = 2 if bidirectional else 1
    count = 0
    for layer in range(num_layers):
        n_in = input_size if layer == 0 else hidden_size * directions
        count += directions * (hidden_size * n_in + hidden_size * hidden_size + (hidden_size if bias else 0))
    return count
''',
            "every layer reads the input": '''
def rnn_param_count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    directions = 2 if bidirectional else 1
    per_layer = hidden_size * input_size + hidden_size * hidden_size + (2 * hidden_size if bias else 0)
    return num_layers * directions * per_layer
''',
            "second direction forgotten in layer 2's input": '''
def rnn_param_count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    directions = 2 if bidirectional else 1
    count = 0
    for layer in range(num_layers):
        n_in = input_size if layer == 0 else hidden_size
        count += directions * (hidden_size * n_in + hidden_size * hidden_size + (2 * hidden_size if bias else 0))
    return count
''',
            "bias flag ignored": '''
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
}

DEPENDS = {
    "rnn_forward": {"rnn_cell"},
    "many_to_one": {"rnn_forward", "rnn_cell"},
}


def cases():
    """(assignment, function, mistake, source) for every wrong implementation."""
    return [(a, f, m, src.strip() + "\n")
            for a, fns in WRONG.items() for f, ms in fns.items() for m, src in ms.items()]
