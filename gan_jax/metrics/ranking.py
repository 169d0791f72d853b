"""Top-N recommendation metrics: Precision, Recall, NDCG and MRR at k, batched on the device.

Definitions as in CFGAN's evaluation (Chae et al. 2018) and most top-N papers, with binary
relevance: for a user with held-out set T and top-k list L (training items excluded),
  P@k = |L n T| / k,  R@k = |L n T| / |T|,
  NDCG@k = sum_{i < k, L_i in T} 1/log2(i+2) / sum_{i < min(k, |T|)} 1/log2(i+2),
  MRR@k = 1 / (rank of the first hit in L), 0 without a hit;
logged as precision_<k>, recall_<k>, ndcg_<k>, mrr_<k> (TensorBoard names allow no "@"),
each averaged over the users with a non-empty T. Ties rank the lower item index first.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

KS = (5, 20)


@functools.partial(jax.jit, static_argnames="k")
def top_k_unseen(scores: jax.Array, seen: jax.Array, k: int) -> jax.Array:
    """Indices [users, k] of the k best-scored items per user, never an item in `seen`
    ([users, items] bool: the training interactions) while the user has k unseen items (a
    user with fewer gets seen items last, which hold no held-out item and so count as misses)."""
    masked = jnp.where(seen, -jnp.inf, scores.astype(jnp.float32))
    return jax.lax.top_k(masked, k)[1]


@functools.partial(jax.jit, static_argnames="ks")
def _metrics(top: jax.Array, relevant: jax.Array, ks: tuple[int, ...]) -> dict[str, jax.Array]:
    hits = jnp.take_along_axis(relevant, top, axis=1).astype(jnp.float32)  # [users, K]
    n_rel = relevant.sum(axis=1)
    users = n_rel > 0
    discounts = 1.0 / jnp.log2(jnp.arange(top.shape[1]) + 2.0)
    ideal = jnp.cumsum(discounts)
    out = {}
    for k in ks:
        h = hits[:, :k]
        n_hit = h.sum(axis=1)
        idcg = ideal[jnp.clip(jnp.minimum(n_rel, k) - 1, 0)]
        first = jnp.argmax(h, axis=1)
        per_user = {
            "precision": n_hit / k,
            "recall": n_hit / jnp.maximum(n_rel, 1),
            "ndcg": (h * discounts[:k]).sum(axis=1) / idcg,
            "mrr": jnp.where(n_hit > 0, 1.0 / (first + 1.0), 0.0),
        }
        for name, v in per_user.items():
            out[f"{name}_{k}"] = jnp.sum(jnp.where(users, v, 0.0)) / jnp.maximum(users.sum(), 1)
    return out


def ranking_metrics(scores, seen, relevant, ks: tuple[int, ...] = KS) -> dict[str, float]:
    """Metrics of `scores` [users, items] against `relevant` [users, items] (bool, held out),
    ranking only items not in `seen` (bool, training)."""
    scores, seen, relevant = (jnp.asarray(a) for a in (scores, seen, relevant))
    if scores.shape != seen.shape or scores.shape != relevant.shape:
        raise ValueError(f"scores {scores.shape}, seen {seen.shape} and relevant "
                         f"{relevant.shape} must have the same [users, items] shape")
    top = top_k_unseen(scores, seen, max(ks))
    return {k: float(v) for k, v in _metrics(top, relevant, tuple(ks)).items()}


def popularity_scores(train: np.ndarray) -> np.ndarray:
    """Every user's scores under the most-popular recommender: items' training counts."""
    counts = np.asarray(train, np.float32).sum(axis=0)
    return np.broadcast_to(counts, train.shape)
