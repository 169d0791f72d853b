"""k-NN manifold metrics: precision / recall and density / coverage of fake vs real features.

Each point x of a set gets a ball B(x, r_k(x)) whose radius is the distance to its k-th nearest
neighbour in the same set (the point itself excluded). With real X [n, d] and fake Y [m, d]:

- precision: fraction of Y inside the union of the real balls; recall: fraction of X inside the
  union of the fake balls (Kynkaanniemi et al. 2019, "Improved Precision and Recall Metric").
- density: (1 / (k m)) sum_j #{i : y_j in B(x_i)}, about 1 when Y ~ X and not capped at 1;
  coverage: fraction of real x_i whose ball contains at least one y_j (Naeem et al. 2020,
  "Reliable Fidelity and Diversity Metrics for Generative Models").

Balls are open (distance < radius), as in the reference code of Naeem et al., so that
fake == real gives density exactly 1 (each point is in its own ball and its k-1 nearest
neighbours' balls, not on the boundary of the k-th one).

Pairwise distances are computed in row blocks [block_size, n] so that memory stays O(block n)
(a full 10k x 10k float32 matrix is 400 MB).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

# Exact float32 products: TF32 (the GPU default) would perturb distances by ~1e-3 relative.
_HIGHEST = jax.lax.Precision.HIGHEST


@jax.jit
def _sq_dists(a: jax.Array, b: jax.Array) -> jax.Array:
    """Squared Euclidean distances [B, n] from rows a [B, d] to rows b [n, d]."""
    ab = jnp.matmul(a, b.T, precision=_HIGHEST)
    d = jnp.sum(a * a, axis=1)[:, None] + jnp.sum(b * b, axis=1)[None, :] - 2.0 * ab
    return jnp.maximum(d, 0.0)  # cancellation can leave tiny negatives


@functools.partial(jax.jit, static_argnames="k")
def _kth_smallest(d: jax.Array, k: int) -> jax.Array:
    """(k+1)-th smallest entry [B] of each row of d [B, n]: the k-th neighbour after the point.

    Walks up the k+1 smallest distinct values, counting ties, so duplicate points (a collapsed
    generator) are neighbours at distance 0. Not lax.top_k: XLA on CPU lowers it to a full row
    sort here, about 30x slower at n = 10k.
    """

    def step(_, state):
        seen, value = state  # number of entries <= value; value is the (seen)-th smallest
        nxt = jnp.min(jnp.where(d > value[:, None], d, jnp.inf), axis=1)
        more = seen < k + 1
        seen = jnp.where(more, seen + jnp.sum(d == nxt[:, None], axis=1), seen)
        return seen, jnp.where(more, nxt, value)

    init = (jnp.zeros(d.shape[0], jnp.int32), jnp.full(d.shape[0], -jnp.inf, d.dtype))
    return jax.lax.fori_loop(0, k + 1, step, init)[1]


@jax.jit
def _cross_block(d, real_r2, fake_r2, valid):
    """Per-block terms from d [B, n_real] (fake rows vs all real), the squared radii real_r2
    [n_real] and fake_r2 [B], and valid [B] (False on padding rows)."""
    in_real = d < real_r2[None, :]  # fake j in real ball i
    in_fake = (d < fake_r2[:, None]) & valid[:, None]  # real i in fake ball j
    nearest = jnp.min(jnp.where(valid[:, None], d, jnp.inf), axis=0)
    return in_real.any(axis=1), in_real.sum(axis=1), in_fake.any(axis=0), nearest


def _blocks(x: jax.Array, block: int):
    """Row blocks [block, d] of x (the last zero-padded, so one compiled shape) and valid counts."""
    n = x.shape[0]
    padded = jnp.pad(x, ((0, -n % block), (0, 0)))
    for start in range(0, n, block):
        yield padded[start:start + block], min(block, n - start)


def _sq_radii(x: jax.Array, k: int, block: int) -> jax.Array:
    parts = [_kth_smallest(_sq_dists(b, x), k)[:valid] for b, valid in _blocks(x, block)]
    return jnp.concatenate(parts)


def _prepare(real, fake, k: int, need_fake_radii: bool):
    real = jnp.asarray(real, jnp.float32)
    fake = jnp.asarray(fake, jnp.float32)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"features must be [n, d] with equal d, got {real.shape} and {fake.shape}")
    smallest = min(real.shape[0], fake.shape[0]) if need_fake_radii else real.shape[0]
    if not 1 <= k < smallest:
        raise ValueError(f"k={k} needs 1 <= k < the set sizes {real.shape[0]}, {fake.shape[0]}")
    # Distances are translation invariant; centring shrinks the norms that the |a|^2 + |b|^2 - 2ab
    # form cancels, and so its float32 error.
    mean = real.mean(axis=0)
    return real - mean, fake - mean


def _knn_terms(real, fake, k: int, block: int, need_fake_radii: bool):
    """Summed per-fake terms and per-real flags over one blocked pass of fake rows vs real."""
    real_r2 = _sq_radii(real, k, block)
    fake_r2 = _sq_radii(fake, k, block) if need_fake_radii else jnp.zeros(fake.shape[0])
    fake_r2 = jnp.pad(fake_r2, (0, -fake.shape[0] % block))
    hits = counts = 0
    recalled = jnp.zeros(real.shape[0], bool)
    nearest = jnp.full(real.shape[0], jnp.inf)
    for i, (b, valid) in enumerate(_blocks(fake, block)):
        mask = jnp.arange(block) < valid
        # Same compiled _sq_dists and shapes as in _sq_radii: when fake == real the distances
        # are bitwise equal to those the radii came from, so boundary points compare consistently.
        d = _sq_dists(b, real)
        h, c, r, nn = _cross_block(d, real_r2, fake_r2[i * block:(i + 1) * block], mask)
        hits += jnp.sum(h & mask)
        counts += jnp.sum(jnp.where(mask, c, 0))
        recalled, nearest = recalled | r, jnp.minimum(nearest, nn)
    return hits, counts, recalled, nearest < real_r2


def knn_radii(features, k: int, block_size: int = 1024) -> jax.Array:
    """Distance [n] from each row of features [n, d] to its k-th nearest other row."""
    x = jnp.asarray(features, jnp.float32)
    return jnp.sqrt(_sq_radii(x - x.mean(axis=0), k, min(block_size, x.shape[0])))


def precision_recall(real, fake, k: int = 3, block_size: int = 1024) -> dict[str, float]:
    """{'precision', 'recall'} (Python floats in [0, 1]) of fake [m, d] against real [n, d]."""
    real, fake = _prepare(real, fake, k, need_fake_radii=True)
    block = min(block_size, fake.shape[0], real.shape[0])
    hits, _, recalled, _ = _knn_terms(real, fake, k, block, need_fake_radii=True)
    return {"precision": int(hits) / fake.shape[0], "recall": int(recalled.sum()) / real.shape[0]}


def density_coverage(real, fake, k: int = 5, block_size: int = 1024) -> dict[str, float]:
    """{'density' (>= 0, ~1 when fake ~ real), 'coverage' (in [0, 1])}, Python floats."""
    real, fake = _prepare(real, fake, k, need_fake_radii=False)
    block = min(block_size, fake.shape[0], real.shape[0])
    _, counts, _, covered = _knn_terms(real, fake, k, block, need_fake_radii=False)
    return {"density": int(counts) / (k * fake.shape[0]),
            "coverage": int(covered.sum()) / real.shape[0]}
