"""Chapter 8, a character-level language model: the graded functions, their cases, their
PyTorch references and their known mistakes.

- `sequence_cross_entropy(logits, targets)`: the mean next-character cross-entropy over
  a (T, B) batch of positions and its gradient with respect to the logits: autograd of
  `torch.nn.functional.cross_entropy` (mean reduction).
- `perplexity(logits, targets)`: exp of that mean (torch again).
- `sample_next(logits, temperature, top_k, u)`: one draw of the next index from the
  tempered, top-k-truncated softmax, by inverting the cumulative distribution at the
  given uniform draw u: the smallest i with cdf[i] > u. Graded over many draws per
  case (`adapters.sample_draws` calls it once per u); the reference is torch's softmax,
  topk, cumsum and searchsorted(right=True).
- `tbptt_chunks(ids, B, K)`: a token array cut into B contiguous streams and then into
  chunks of K steps, so that row b of chunk m + 1 continues row b of chunk m (the
  hidden state can be carried), with the targets shifted by one.

Every case kind a function's spec names is a deterministic function of the case index
(`index % len(kinds)`; the public cases are one of each and every hidden set walks
through all of them), and only the values are random.
"""
from __future__ import annotations

import numpy as np

from ..kernel.adapters import ch08_char_lm as adapters
from .registry import Chapter, mistake
from .torchref import tensor as _t

CHAPTER = Chapter("08-char-lm")


def _long(value):
    import torch

    return torch.from_numpy(np.asarray(value, dtype=np.int64))


# --- sequence_cross_entropy -------------------------------------------------------------
# Kinds: 0 ordinary logits; 1 large logits (all near 1000: exp overflows without the max
# shift); 2 one huge logit per row, never the target's (the target's probability
# underflows to 0 in float64: its log must come from log-softmax, not log(p)); 3 a single
# time step (T = 1).

_CE_KINDS = ("ordinary", "large", "underflow", "one-step")
_CE_SHAPES = [(5, 3, 7), (4, 2, 6), (3, 4, 5), (1, 3, 4)]  # (T, B, V) of the public cases


def _ce_inputs(rng, index):
    kind = index % len(_CE_KINDS)
    if index < len(_CE_SHAPES):
        T, B, V = _CE_SHAPES[index]
    else:
        T, B, V = (int(v) for v in rng.integers([2, 2, 3], [8, 5, 12]))
        if kind == 3:
            T = 1
    logits = rng.normal(scale=2.0, size=(T, B, V))
    targets = rng.integers(0, V, size=(T, B))
    if kind == 1:
        logits = logits + 1000.0
    elif kind == 2:
        # every row: one entry other than the target gets 900 more
        shift = (targets + rng.integers(1, V, size=(T, B))) % V
        np.put_along_axis(logits, shift[..., None], np.take_along_axis(logits, shift[..., None], -1) + 900.0, -1)
    return {"logits": logits, "targets": targets.astype(np.int64)}


def _ce_kind_of(case) -> set[str]:
    z = np.asarray(case["logits"])
    if z.shape[0] == 1:
        return {"one-step"}
    if z.min() > 500:
        return {"large"}
    top2 = np.sort(z, axis=-1)[..., -2:]
    if np.all(top2[..., 1] - top2[..., 0] > 500):
        return {"underflow"}
    return {"ordinary"}


def _ce_reference(logits, targets):
    import torch

    z = _t(logits).requires_grad_()
    V = z.shape[-1]
    loss = torch.nn.functional.cross_entropy(z.reshape(-1, V), _long(targets).reshape(-1))
    loss.backward()
    return loss.item(), z.grad.numpy()


CHAPTER.graded(
    name="sequence_cross_entropy",
    inputs=("logits", "targets"), outputs=("loss", "dlogits"),
    make_inputs=_ce_inputs, reference=_ce_reference,
    matches="nn.functional.cross_entropy (mean over T*B positions) and its autograd gradient",
    n_public=len(_CE_KINDS), n_hidden=len(_CE_KINDS),
    diagnose_with=adapters.cross_entropy_overflow, kinds=_CE_KINDS, kind_of=_ce_kind_of,
)


# --- perplexity -------------------------------------------------------------------------
# Kinds: 0 ordinary; 1 uniform logits in every row (the perplexity is exactly V); 2 a
# confident model (large logits, the target often the largest: perplexity near 1).

_PPL_KINDS = ("ordinary", "uniform", "confident")
_PPL_SHAPES = [(6, 2, 5), (3, 3, 8), (4, 1, 6)]


def _ppl_inputs(rng, index):
    kind = index % len(_PPL_KINDS)
    if index < len(_PPL_SHAPES):
        T, B, V = _PPL_SHAPES[index]
    else:
        T, B, V = (int(v) for v in rng.integers([2, 1, 3], [8, 5, 12]))
    targets = rng.integers(0, V, size=(T, B))
    if kind == 1:
        logits = np.repeat(rng.normal(size=(T, B, 1)), V, axis=-1)
    else:
        logits = rng.normal(size=(T, B, V))
        if kind == 2:
            np.put_along_axis(logits, targets[..., None], 4.0 + rng.uniform(0, 1, (T, B, 1)), -1)
    return {"logits": logits, "targets": targets.astype(np.int64)}


def _ppl_kind_of(case) -> set[str]:
    z, y = np.asarray(case["logits"]), np.asarray(case["targets"])
    if np.all(z == z[..., :1]):
        return {"uniform"}
    if np.all(np.take_along_axis(z, y[..., None], -1) >= 4.0):
        return {"confident"}
    return {"ordinary"}


def _ppl_reference(logits, targets):
    import torch

    V = logits.shape[-1]
    loss = torch.nn.functional.cross_entropy(_t(logits).reshape(-1, V), _long(targets).reshape(-1))
    return float(torch.exp(loss))


CHAPTER.graded(
    name="perplexity",
    inputs=("logits", "targets"), outputs=("ppl",),
    make_inputs=_ppl_inputs, reference=_ppl_reference,
    matches="exp of nn.functional.cross_entropy (mean over T*B positions)",
    n_public=len(_PPL_KINDS), n_hidden=len(_PPL_KINDS),
    uses=("sequence_cross_entropy",), kinds=_PPL_KINDS, kind_of=_ppl_kind_of,
)


# --- sample_next ------------------------------------------------------------------------
# Kinds: 0 temperature < 1, no top-k; 1 temperature = 1, no top-k; 2 temperature > 1, no
# top-k; 3 top-k on (1 < k < V), temperature != 1, one draw just below 1; 4 k = 1 (greedy); 5 the boundary: the
# draws include u = 0 exactly, with top-k on and index 0 outside the kept set (so cdf[0]
# is exactly 0 and the smallest i with cdf[i] > 0 is the first kept index), and a draw in
# the last kept interval. Every other draw is at least 1e-9 away from every value of the
# reference's cumulative distribution, so no rounding decides an index.

_SAMPLE_KINDS = ("cold", "plain", "hot", "top-k", "greedy", "boundary")
_SAMPLE_V = [6, 5, 7, 8, 6, 9]
N_DRAWS = 12
MARGIN = 1e-9


def _sampling_cdf(logits, temperature, top_k):
    """numpy's cumulative distribution of the tempered, truncated softmax, to keep the draws
    away from its values (the case maker is numpy only; the reference is torch's)."""
    z = logits / temperature
    if top_k:
        z = np.where(z >= np.sort(z)[-top_k], z, -np.inf)
    p = np.exp(z - z.max())
    return np.cumsum(p / p.sum())


def _sample_inputs(rng, index):
    kind = index % len(_SAMPLE_KINDS)
    V = _SAMPLE_V[kind] if index < len(_SAMPLE_KINDS) else int(rng.integers(4, 12))
    logits = rng.normal(scale=1.5, size=V)
    temperature = {0: rng.uniform(0.3, 0.8), 1: 1.0, 2: rng.uniform(1.3, 2.5),
                   3: rng.choice([rng.uniform(0.4, 0.8), rng.uniform(1.3, 2.0)]),
                   4: rng.uniform(0.5, 2.0), 5: rng.uniform(0.6, 1.6)}[kind]
    top_k = {3: int(rng.integers(2, V)), 4: 1, 5: int(rng.integers(2, V - 1))}.get(kind, 0)
    if kind == 5:  # index 0 is the smallest logit, so it is never kept
        logits[0] = logits.min() - rng.uniform(0.5, 1.0)
    cdf = _sampling_cdf(logits, temperature, top_k)
    draws = []
    while len(draws) < N_DRAWS:
        u = float(rng.uniform(0, 1))
        if np.min(np.abs(cdf - u)) > MARGIN:
            draws.append(u)
    if kind == 3:  # a draw near 1: past the kept mass of a softmax that was not renormalised
        draws[0] = 1.0 - 10 * MARGIN
    if kind == 5:
        kept = np.flatnonzero(np.diff(np.concatenate([[0.0], cdf])) > 0)
        last = kept[-1]
        draws[0] = 0.0
        draws[1] = float(cdf[last - 1] + 0.5 * (cdf[last] - cdf[last - 1]))  # inside the last interval
    return {"logits": logits, "temperature": float(temperature), "top_k": top_k,
            "u": np.asarray(draws)}


def _sample_kind_of(case) -> set[str]:
    t, k = case["temperature"], case["top_k"]
    if k == 1:
        return {"greedy"}
    if k:
        return {"boundary" if np.any(np.asarray(case["u"]) == 0.0) else "top-k"}
    return {"cold" if t < 1 else "plain" if t == 1 else "hot"}


def _tempered(logits, temperature, top_k):
    """torch's sampling distribution: softmax(z / temperature) over the top_k largest."""
    import torch

    z = _t(logits) / temperature
    if top_k:
        kept = torch.topk(z, top_k).indices
        mask = torch.full_like(z, float("-inf"))
        mask[kept] = 0.0
        z = z + mask
    return torch.softmax(z, dim=-1)


def _invert(p, u, right=True):
    """The index of each draw: the smallest i with cdf[i] > u (right=True), as int64."""
    import torch

    cdf = torch.cumsum(p, dim=-1)
    return torch.searchsorted(cdf, _t(u), right=right).numpy().astype(np.int64)


def _sample_reference(logits, temperature, top_k, u):
    return _invert(_tempered(logits, temperature, top_k), u)


CHAPTER.graded(
    name="sample_next",
    inputs=("logits", "temperature", "top_k", "u"), outputs=("indices",),
    make_inputs=_sample_inputs, reference=_sample_reference,
    matches="torch.softmax, torch.topk and torch.searchsorted(cumsum, u, right=True), draw by draw",
    n_public=len(_SAMPLE_KINDS), n_hidden=len(_SAMPLE_KINDS),
    run=adapters.sample_draws, kinds=_SAMPLE_KINDS, kind_of=_sample_kind_of,
)


# --- tbptt_chunks -----------------------------------------------------------------------
# The corpus ids (n,) -> B streams of L = (n - 1) // B inputs each (stream b starts at
# b L; its targets are the next ids), then M = L // K chunks of K steps:
#     X[m, t, b] = ids[b L + m K + t],   Y[m, t, b] = ids[b L + m K + t + 1],
# both (M, K, B), time-major as nn.RNN takes a chunk. Kinds: 0 remainders both at the
# end of the corpus and at the end of each stream; 1 an exact fit (n - 1 = B L and
# L = M K); 2 a single stream (B = 1); 3 chunks of one step (K = 1).

_CHUNK_KINDS = ("remainders", "exact", "one-stream", "one-step")
_CHUNK_SIZES = [(47, 3, 4), (31, 3, 5), (23, 1, 6), (26, 4, 1)]  # (n, B, K), public


def _chunk_inputs(rng, index):
    kind = index % len(_CHUNK_KINDS)
    if index < len(_CHUNK_SIZES):
        n, B, K = _CHUNK_SIZES[index]
    else:
        B, K, M = (int(v) for v in rng.integers([2, 2, 2], [6, 7, 5]))
        if kind == 2:
            B = 1
        if kind == 3:
            K = 1
        L = M * K + (int(rng.integers(1, K)) if kind != 1 and K > 1 else 0)
        n = B * L + 1 + (int(rng.integers(1, B)) if kind != 1 and B > 1 else 0)
    # a corpus of ids with few repeats nearby, so every misplaced id shows
    ids = rng.permutation(max(n, 64))[:n] % 97
    return {"ids": ids.astype(np.int64), "B": B, "K": K}


def _chunk_kind_of(case) -> set[str]:
    n, B, K = len(case["ids"]), case["B"], case["K"]
    if B == 1:
        return {"one-stream"}
    if K == 1:
        return {"one-step"}
    exact = (n - 1) % B == 0 and ((n - 1) // B) % K == 0
    return {"exact" if exact else "remainders"}


def _streams(ids, B, start=0):
    """B rows of L = (n - 1) // B consecutive ids, starting at `start` (torch)."""
    t = _long(ids)
    L = (len(ids) - 1) // B
    return t[start:start + B * L].reshape(B, L)


def _chunk_reference(ids, B, K):
    X, Y = _streams(ids, B), _streams(ids, B, start=1)
    M = X.shape[1] // K
    X, Y = (s[:, :M * K].reshape(B, M, K).permute(1, 2, 0) for s in (X, Y))
    return X.contiguous().numpy(), Y.contiguous().numpy()


CHAPTER.graded(
    name="tbptt_chunks",
    inputs=("ids", "B", "K"), outputs=("X_chunks", "Y_chunks"),
    make_inputs=_chunk_inputs, reference=_chunk_reference,
    matches="torch reshape/permute of B contiguous streams (d2l's sequential partitioning, offset 0, time-major)",
    n_public=len(_CHUNK_KINDS), n_hidden=len(_CHUNK_KINDS), kinds=_CHUNK_KINDS, kind_of=_chunk_kind_of,
)


# --- known mistakes ---------------------------------------------------------------------

_CE_EQ = ("with p = softmax(logits) over the last axis, loss = -(1/(T B)) sum over t, b of "
          "log p[t, b, targets[t, b]], computed as logits minus logsumexp (with the max "
          "subtracted first), and dlogits = (p - onehot(targets)) / (T B)")


def _ce_variant(logits, targets, scale, log_p=None):
    """Loss = -scale * sum log p[target] and its autograd gradient, where log_p(z) gives the
    log-probabilities (default: log_softmax over the vocabulary)."""
    import torch

    z = _t(logits).requires_grad_()
    lp = torch.log_softmax(z, dim=-1) if log_p is None else log_p(z)
    loss = -scale * lp.gather(-1, _long(targets)[..., None]).sum()
    loss.backward()
    return loss.item(), z.grad.numpy()


@mistake("sequence_cross_entropy", "summed", "the loss summed over positions instead of averaged", f"""
    The loss is the mean over all T B positions, as nn.CrossEntropyLoss() computes it
    (reduction='mean'), so both the loss and its gradient carry the division by T B. A
    summed loss grows with the length of the chunk and the batch, and so does every step
    a learning rate takes with it. The definition: {_CE_EQ}.""")
def _(logits, targets):
    return _ce_variant(logits, targets, 1.0)


@mistake("sequence_cross_entropy", "mean-over-batch-only", "the loss summed over time and averaged over the batch only", f"""
    Dividing by B alone (CS231n's temporal softmax loss does so) gives the loss per
    sequence, not per character: it is T times the mean this function returns, and its
    exponential is not a perplexity. Divide by T B, the number of predicted characters.
    The definition: {_CE_EQ}.""")
def _(logits, targets):
    return _ce_variant(logits, targets, 1.0 / targets.shape[1])


@mistake("sequence_cross_entropy", "softmax-over-batch", "the softmax taken over the batch axis instead of the vocabulary", f"""
    logits has shape (T, B, V): the probabilities of the next character are normalised
    over the vocabulary, the last axis (axis=-1). axis=1, right for a (B, V) array, is the
    batch axis here. The definition: {_CE_EQ}.""")
def _(logits, targets):
    import torch

    return _ce_variant(logits, targets, 1.0 / targets.size, lambda z: torch.log_softmax(z, dim=1))


@mistake("sequence_cross_entropy", "no-max-shift", "exp of the logits without subtracting their maximum (overflow)", f"""
    exp(z) overflows to inf in float64 once z is above about 709, and inf / inf is nan.
    Subtract each row's maximum first, z - max(z): the softmax does not change, and the
    largest exponent is exp(0) = 1. The checks include logits near 1000. The definition:
    {_CE_EQ}.""")
def _(logits, targets):
    import torch

    z = _t(logits)
    p = torch.exp(z) / torch.exp(z).sum(dim=-1, keepdim=True)
    onehot = torch.nn.functional.one_hot(_long(targets), z.shape[-1]).to(z.dtype)
    loss = -torch.log(p.gather(-1, _long(targets)[..., None])).mean()
    return float(loss), ((p - onehot) / targets.size).numpy()


@mistake("sequence_cross_entropy", "log-of-probabilities", "the log taken of the probabilities (log(0) = -inf when one underflows)", f"""
    A probability below the smallest float64, about 5e-324, is 0, and log(0) is -inf,
    even when the softmax itself was computed with the max shift. Take the log-probability directly as
    z - max(z) - log(sum(exp(z - max(z)))) (log-softmax): it stays finite however small
    the probability. The checks include a target whose probability is exp(-900). The
    definition: {_CE_EQ}.""")
def _(logits, targets):
    import torch

    z = _t(logits)
    p = torch.softmax(z, dim=-1)
    onehot = torch.nn.functional.one_hot(_long(targets), z.shape[-1]).to(z.dtype)
    loss = -torch.log(p.gather(-1, _long(targets)[..., None])).mean()
    return float(loss), ((p - onehot) / targets.size).numpy()


_PPL_EQ = "ppl = exp(mean cross-entropy per character), the mean taken over all T B positions, in nats"


def _nll(logits, targets):
    """The per-position negative log-likelihoods (T, B) (torch)."""
    import torch

    V = logits.shape[-1]
    return torch.nn.functional.cross_entropy(_t(logits).reshape(-1, V), _long(targets).reshape(-1),
                                             reduction="none")


@mistake("perplexity", "exp-of-sum", "exp of the summed loss instead of the mean", f"""
    Perplexity is exp of the mean loss per character: the geometric mean of 1/p over the
    predicted characters. exp of the sum is the inverse probability of the whole text,
    which grows without bound with its length. The definition: {_PPL_EQ}.""")
def _(logits, targets):
    import torch

    return float(torch.exp(_nll(logits, targets).sum()))


@mistake("perplexity", "base-2", "2 to the power of the loss (the loss is in nats, not bits)", f"""
    The cross-entropy is computed with the natural log, so its perplexity is e to its
    power. 2 ** loss is right only for a loss in bits (log base 2); mixing the two
    gives a number that is neither. The definition: {_PPL_EQ}.""")
def _(logits, targets):
    import torch

    return float(2.0 ** _nll(logits, targets).mean())


@mistake("perplexity", "mean-of-exp", "the mean of exp(loss) per character instead of exp of the mean", f"""
    exp of the mean is not the mean of exp: averaging each character's 1/p (an
    arithmetic mean) lets one badly predicted character dominate. Perplexity averages
    the losses first and takes exp once. The definition: {_PPL_EQ}.""")
def _(logits, targets):
    import torch

    return float(torch.exp(_nll(logits, targets)).mean())


@mistake("perplexity", "inverse-mean-probability", "one over the mean probability of the targets", f"""
    1 / mean(p) inverts an arithmetic mean of the probabilities; perplexity is the
    inverse of their geometric mean, exp(-mean(log p)). The two agree only when every
    target has the same probability. The definition: {_PPL_EQ}.""")
def _(logits, targets):
    import torch

    return float(1.0 / torch.exp(-_nll(logits, targets)).mean())


_SAMPLE_EQ = ("pi = softmax(logits / temperature) over the top_k largest logits (all of them when "
              "top_k = 0), zero elsewhere; cdf[i] = pi[0] + ... + pi[i] in index order; the draw's "
              "index is the smallest i with cdf[i] > u")


def _sample_variant(logits, temperature, top_k, u, scale=None, probability_power=None,
                    renormalise=True, largest=True, right=True):
    import torch

    z = _t(logits) * (1.0 / temperature if scale is None else scale)
    if top_k:
        kept = torch.topk(z, top_k, largest=largest).indices
        keep = torch.zeros_like(z, dtype=torch.bool)
        keep[kept] = True
        if renormalise:
            z = torch.where(keep, z, torch.tensor(float("-inf"), dtype=z.dtype))
    p = torch.softmax(z, dim=-1)
    if top_k and not renormalise:
        p = torch.where(keep, p, torch.zeros_like(p))
    if probability_power is not None:
        p = p ** probability_power
        p = p / p.sum()
    return _invert(p, u, right=right)


@mistake("sample_next", "temperature-after-softmax", "the temperature applied to the probabilities, after the softmax", f"""
    Dividing the probabilities by the temperature and normalising again gives back the
    same probabilities: the temperature has no effect. It must divide the logits, before
    the softmax: softmax(logits / temperature). The rule: {_SAMPLE_EQ}.""")
def _(logits, temperature, top_k, u):
    return _sample_variant(logits, temperature, top_k, u, scale=1.0)


@mistake("sample_next", "temperature-multiplied", "the logits multiplied by the temperature instead of divided", f"""
    A temperature above 1 must flatten the distribution and one below 1 sharpen it:
    logits / temperature. Multiplying does the opposite. The rule: {_SAMPLE_EQ}.""")
def _(logits, temperature, top_k, u):
    return _sample_variant(logits, temperature, top_k, u, scale=temperature)


@mistake("sample_next", "cdf-ge", "the smallest i with cdf[i] >= u instead of cdf[i] > u", f"""
    The two differ only when u equals a value of the cdf, but they do at u = 0 when the
    first indices were cut by top-k: their cdf is exactly 0, so cdf[i] >= 0 picks index
    0, which has probability 0. np.searchsorted(cdf, u) uses >= (side='left'); the rule
    needs side='right'. The rule: {_SAMPLE_EQ}.""")
def _(logits, temperature, top_k, u):
    return _sample_variant(logits, temperature, top_k, u, right=False)


@mistake("sample_next", "top-k-not-renormalised", "the probabilities outside the top k zeroed but not renormalised", f"""
    After the probabilities outside the k largest are set to 0, the rest sum to less than
    1, so every draw u above their sum falls off the end of the cdf. Mask the logits
    (set them to -inf) before the softmax, or divide the kept probabilities by their sum.
    The rule: {_SAMPLE_EQ}.""")
def _(logits, temperature, top_k, u):
    return _sample_variant(logits, temperature, top_k, u, renormalise=False)


@mistake("sample_next", "top-k-smallest", "the k smallest logits kept instead of the k largest", f"""
    np.argsort sorts in increasing order, so np.argsort(z)[:k] holds the k smallest; the k
    largest are np.argsort(z)[-k:] (or z >= np.sort(z)[-k]). The rule: {_SAMPLE_EQ}.""")
def _(logits, temperature, top_k, u):
    return _sample_variant(logits, temperature, top_k, u, largest=False)


_CHUNK_EQ = ("L = (n - 1) // B, M = L // K, X[m, t, b] = ids[b L + m K + t] and "
             "Y[m, t, b] = ids[b L + m K + t + 1], both of shape (M, K, B)")


@mistake("tbptt_chunks", "streams-interleaved", "the corpus reshaped to (L, B), so each row takes every B-th id", f"""
    ids[:L * B].reshape(L, B) puts consecutive ids side by side in one time step, so
    stream b reads ids b, b + B, b + 2B, ...: no row is contiguous text. Reshape to
    (B, L), one contiguous stream per row, and transpose to time-major afterwards. The
    layout: {_CHUNK_EQ}.""")
def _(ids, B, K):
    import torch

    L = (len(ids) - 1) // B
    M = L // K
    t = _long(ids)
    X = t[:B * L].reshape(L, B)[:M * K].reshape(M, K, B)
    Y = t[1:B * L + 1].reshape(L, B)[:M * K].reshape(M, K, B)
    return X.numpy(), Y.numpy()


@mistake("tbptt_chunks", "chunks-restart", "consecutive chunks batched together, so row b of a batch does not continue", f"""
    Cutting the corpus into chunks of K and putting B consecutive chunks in one batch
    makes row b of batch m + 1 start far from where row b of batch m ended: a state
    carried across the boundary would be carried into unrelated text (in effect it
    restarts). Cut the corpus into B long streams first, then cut every stream into
    chunks, so row b of every batch comes from stream b. The layout: {_CHUNK_EQ}.""")
def _(ids, B, K):
    L = (len(ids) - 1) // B
    M = L // K
    t = _long(ids)
    X = t[:M * B * K].reshape(M, B, K).permute(0, 2, 1)
    Y = t[1:M * B * K + 1].reshape(M, B, K).permute(0, 2, 1)
    return X.contiguous().numpy(), Y.contiguous().numpy()


@mistake("tbptt_chunks", "inputs-targets-swapped", "the inputs and the targets swapped (ids[1:] read, ids[:-1] predicted)", f"""
    The model reads the character at position i and predicts the one after it, i + 1:
    the inputs start at ids[0] and the targets at ids[1]. Swapped, the model would be
    trained to predict the previous character. The layout: {_CHUNK_EQ}.""")
def _(ids, B, K):
    X, Y = _chunk_reference(ids, B, K)
    return Y, X


@mistake("tbptt_chunks", "batch-major", "the chunks returned batch-major, (M, B, K)", f"""
    nn.RNN (without batch_first) reads a chunk as (K, B): time first. Row b of the
    stream must end up in column b of every chunk, X[m, :, b]. The layout: {_CHUNK_EQ}.""")
def _(ids, B, K):
    X, Y = _chunk_reference(ids, B, K)
    return X.transpose(0, 2, 1).copy(), Y.transpose(0, 2, 1).copy()


@mistake("tbptt_chunks", "targets-not-shifted", "the targets not shifted by one (Y equals X)", f"""
    The target of the input at position i is the id at position i + 1, the character
    that came next: Y starts at ids[1], one after X. Taken from the same positions, every
    target is its own input, and the model learns to copy. The layout: {_CHUNK_EQ}.""")
def _(ids, B, K):
    X, _ = _chunk_reference(ids, B, K)
    return X, X.copy()

