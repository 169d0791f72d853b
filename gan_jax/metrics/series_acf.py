"""Autocorrelation error of synthetic sequences: how far their autocorrelation function (ACF)
is from the real sequences', per feature, at lags 1..L.

The ACF of a set of sequences [n, T, F] is that of the pooled, centred series: per feature,
centre by the mean over all sequences and steps, then

    acf_k = mean over sequences and t < T - k of x_t x_{t+k}  /  mean over all of x_t^2,

so every lag-k pair lies within one sequence and the lag-k mean is over its n (T - k) pairs (not
divided by nT, which would shrink long lags towards 0). The error is the Euclidean norm over lags
of acf_real - acf_synthetic, averaged over features. This is the ACF loss of Ni et al. (2020,
"Conditional Sig-Wasserstein GANs for time series generation") that TSGBench (Ang et al., VLDB
2024) reports as ACD; with the default L = min(64, T) - 1 it is their number (their lag 0
differs by exactly 0). A constant feature has ACF 0 at every lag (nothing to correlate).
The ACF is invariant to an affine map of a feature, so it reads the data in any units.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np


def default_lags(seq_len: int) -> int:
    """TSGBench's lags: min(64, T) - 1, so at most 63 and at least 1 (T >= 2)."""
    return max(1, min(64, seq_len) - 1)


@functools.partial(jax.jit, static_argnames="lags")
def autocorrelation(x: jax.Array, lags: int) -> jax.Array:
    """The pooled ACF [lags, F] of sequences x [n, T, F] at lags 1..lags (< T)."""
    x = jnp.asarray(x, jnp.float32)
    # Tested on the values, not the variance: a rounded mean leaves a constant feature a tiny
    # variance that would read as ACF 1.
    varies = jnp.max(x, axis=(0, 1)) > jnp.min(x, axis=(0, 1))
    x = x - x.mean(axis=(0, 1))
    var = jnp.mean(x * x, axis=(0, 1))
    cov = jnp.stack([jnp.mean(x[:, k:] * x[:, :x.shape[1] - k], axis=(0, 1))
                     for k in range(1, lags + 1)])
    return jnp.where(varies, cov / jnp.where(varies, var, 1.0), 0.0)


def autocorrelation_error(real, synthetic, lags: int | None = None) -> float:
    """Mean over features of ||ACF_real - ACF_synthetic||_2 over lags 1..lags (default
    `default_lags(T)`), for sequences [n, T, F] and [m, T, F] (n and m may differ)."""
    seq_len = real.shape[1]
    if synthetic.shape[1:] != real.shape[1:]:
        raise ValueError(f"synthetic sequences {synthetic.shape[1:]} differ from real {real.shape[1:]}")
    lags = default_lags(seq_len) if lags is None else lags
    if not 1 <= lags < seq_len:
        raise ValueError(f"lags={lags} must be in 1..{seq_len - 1} for sequences of {seq_len} steps")
    # Two calls of one compiled ACF (not one program computing both, which XLA may fuse
    # differently for each): identical sets then give exactly 0.
    diff = np.asarray(autocorrelation(real, lags), np.float64) - np.asarray(autocorrelation(synthetic, lags))
    return float(np.mean(np.sqrt(np.sum(diff * diff, axis=0))))
