"""Chapter 5, deep and bidirectional RNNs: realistic wrong implementations of its graded
functions, as a student would write them (see tests/wrong_implementations.py)."""

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
}
