"""Metrics from a domain classifier's outputs: a score from logits, category balance from labels.

`classifier_score` is the Inception Score (Salimans et al. 2016) computed with our own
classifier: exp(E_x KL(p(y|x) || p(y))), in [1, C]. It is high when each sample is classified
confidently and the classes are used evenly. The category metrics look only at the predicted
labels [n] (e.g. `logits.argmax(-1)`): how far their histogram is from uniform (KL, in nats) and
how many categories receive a non-negligible share.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np


@functools.partial(jax.jit, static_argnames="splits")
def _split_scores(logits: jax.Array, splits: int) -> jax.Array:
    """exp(mean KL(p(y|x) || p(y))) [splits] over contiguous equal chunks of logits [n, C]."""
    m = logits.shape[0] // splits
    logp = jax.nn.log_softmax(logits[: m * splits].reshape(splits, m, -1), axis=-1)
    # log p(y) = log mean_x p(y|x), in log space so that confident (saturated) logits stay finite.
    log_marginal = jax.nn.logsumexp(logp, axis=1, keepdims=True) - jnp.log(m)
    kl = jnp.sum(jnp.exp(logp) * (logp - log_marginal), axis=-1)
    return jnp.exp(kl.mean(axis=1))


def classifier_score(logits, splits: int = 10) -> tuple[float, float]:
    """(mean, std) over `splits` chunks of the score of logits [n, C], as Python floats.

    Like the reference Inception Score code, the chunks are contiguous with n // splits rows each
    (the last n % splits rows are dropped) and std is the population std.
    """
    logits = jnp.asarray(logits, jnp.float32)
    if logits.ndim != 2 or logits.shape[0] < splits or splits < 1:
        raise ValueError(f"logits must be [n >= splits, C], got {logits.shape}, splits={splits}")
    scores = np.asarray(_split_scores(logits, int(splits)), np.float64)
    return float(scores.mean()), float(scores.std())


@functools.partial(jax.jit, static_argnames="num_classes")
def _histogram(labels: jax.Array, num_classes: int) -> jax.Array:
    return jnp.zeros(num_classes, jnp.int32).at[labels].add(1, mode="drop")


def category_histogram(labels, num_classes: int) -> jax.Array:
    """Counts [num_classes] (int32) of integer labels [n] in [0, num_classes)."""
    labels = np.asarray(labels).reshape(-1)
    # Scatter would wrap negative labels around and silently drop large ones: refuse both.
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got {labels.min()}..{labels.max()}")
    return _histogram(jnp.asarray(labels, jnp.int32), int(num_classes))


def per_category_fractions(labels, num_classes: int) -> np.ndarray:
    """Fraction [num_classes] (numpy float64, sums to 1) of labels [n] in each category."""
    counts = np.asarray(category_histogram(labels, num_classes), np.float64)
    return counts / max(counts.sum(), 1.0)


def category_kl(labels, num_classes: int) -> float:
    """KL(label histogram || uniform) in nats: 0 when balanced, log(num_classes) for one class."""
    p = per_category_fractions(labels, num_classes)
    nz = p[p > 0]  # 0 log 0 = 0
    return float(np.sum(nz * np.log(nz * num_classes)))


def category_coverage(labels, num_classes: int, min_fraction: float | None = None) -> float:
    """Fraction of categories that receive at least `min_fraction` of the labels [n].

    The default threshold is 10% of the uniform share, 0.1 / num_classes.
    """
    if min_fraction is None:
        min_fraction = 0.1 / num_classes
    return float(np.mean(per_category_fractions(labels, num_classes) >= min_fraction))
