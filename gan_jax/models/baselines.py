"""Simple top-N recommenders, the baselines a GAN recommender must beat once they are tuned.

Each maps the training interactions X [users, items] (0/1) to scores [users, items], jitted:
  most_popular   every user gets the items' training counts.
  item_knn       X S with S the cosine similarity of item columns, shrunk by `shrink`
                 (x_i.x_j / (|x_i||x_j| + shrink)), no self-similarity, and only each item's
                 `k` most similar neighbours kept (Sarwar et al. 2001; the tuned variant of
                 Ferrari Dacrema et al. 2019).
  ease           X B with B = argmin |X - XB|^2 + l2 |B|^2 subject to diag(B) = 0, in closed
                 form: P = (X'X + l2 I)^-1, B = I - P diag(1/diag(P)) (Steck 2019).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp


def most_popular(train: jax.Array) -> jax.Array:
    x = jnp.asarray(train, jnp.float32)
    return jnp.broadcast_to(x.sum(axis=0), x.shape)


@functools.partial(jax.jit, static_argnames="k")
def item_knn_similarity(train: jax.Array, k: int, shrink) -> jax.Array:
    """S [items, items]: column j holds item j's k nearest neighbours' shrunk cosines."""
    x = jnp.asarray(train, jnp.float32)
    gram = x.T @ x
    norms = jnp.sqrt(jnp.diag(gram))
    sim = gram / (norms[:, None] * norms[None, :] + shrink + 1e-12)
    sim = sim * (1.0 - jnp.eye(sim.shape[0]))
    k = min(k, sim.shape[0])
    kth = jax.lax.top_k(sim.T, k)[0][:, -1]  # each column's k-th largest value
    return jnp.where(sim >= kth[None, :], sim, 0.0)


def item_knn(train: jax.Array, k: int, shrink) -> jax.Array:
    return jnp.asarray(train, jnp.float32) @ item_knn_similarity(train, k, shrink)


@jax.jit
def ease_weights(train: jax.Array, l2) -> jax.Array:
    """B [items, items] of EASE^R, zero diagonal."""
    x = jnp.asarray(train, jnp.float32)
    p = jnp.linalg.inv(x.T @ x + l2 * jnp.eye(x.shape[1]))
    return jnp.eye(x.shape[1]) - p / jnp.diag(p)[None, :]


def ease(train: jax.Array, l2) -> jax.Array:
    return jnp.asarray(train, jnp.float32) @ ease_weights(train, l2)


RECOMMENDERS = {"most_popular": most_popular, "item_knn": item_knn, "ease": ease}


def fit_grid(name: str, train, grid: list[dict]) -> list[jax.Array]:
    """Scores of recommender `name` for every setting of `grid`, each numeric setting varying
    along a vmapped axis (one program per value of a structural setting, like ItemKNN's k)."""
    fit = RECOMMENDERS[name]
    static = {"item_knn": ("k",)}.get(name, ())
    groups: dict[tuple, list[int]] = {}
    for i, params in enumerate(grid):
        groups.setdefault(tuple(params.get(k) for k in static), []).append(i)
    scores: list = [None] * len(grid)
    for fixed, members in groups.items():
        varying = sorted(set(grid[members[0]]) - set(static))
        if not varying:
            for i in members:
                scores[i] = fit(train, **grid[i])
            continue
        values = {k: jnp.asarray([grid[i][k] for i in members], jnp.float32) for k in varying}
        fixed_kw = dict(zip(static, fixed))
        batch = jax.vmap(lambda v, kw=fixed_kw: fit(train, **kw, **v))(values)
        for j, i in enumerate(members):
            scores[i] = batch[j]
    return scores
