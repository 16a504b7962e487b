"""Chapter 7, the capstone: realistic wrong implementations of its graded functions, as a
student would write them (see tests/wrong_implementations.py)."""

WRONG = {
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
}
