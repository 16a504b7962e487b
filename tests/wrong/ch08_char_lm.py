"""Chapter 8, a character-level language model: realistic wrong implementations of its
graded functions, as a student would write them (see tests/wrong_implementations.py)."""

WRONG = {
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
}
