"""Frechet distance between Gaussians fitted to feature sets (FID, Heusel et al. 2017).

FD = ||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^{1/2}). The trace of the matrix square root is
taken from symmetric eigendecompositions: S1 S2 is similar to the PSD matrix
M = S1^{1/2} S2 S1^{1/2} (they share eigenvalues), so tr (S1 S2)^{1/2} = sum_i sqrt(eig_i(M)).
Unlike a general `sqrtm` of the non-symmetric S1 S2, this never produces complex values and stays
defined for singular covariances (fewer samples than dimensions).

Everything runs in float64 under `jax.enable_x64`: FD is a small difference of large traces
(tr S1 + tr S2 - 2 tr sqrt), so float32's ~1e-7 relative error on traces of O(10^2..10^4) would
swamp values near zero; and the covariance of 10k samples accumulates cancellation in float32.
The context keeps float64 local to these functions, so the rest of the codebase stays float32.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

_HIGHEST = jax.lax.Precision.HIGHEST


@jax.jit
def _stats(x: jax.Array) -> tuple[jax.Array, jax.Array]:
    mu = x.mean(axis=0)
    xc = x - mu
    # Unbiased (n - 1) normalisation, as numpy.cov and the reference FID code.
    sigma = jnp.matmul(xc.T, xc, precision=_HIGHEST) / (x.shape[0] - 1)
    return mu, sigma


@jax.jit
def _distance(mu1, s1, mu2, s2) -> jax.Array:
    w1, v1 = jnp.linalg.eigh(s1)
    # Round-off leaves tiny negative eigenvalues on rank-deficient covariances: clamp before sqrt.
    sqrt_s1 = (v1 * jnp.sqrt(jnp.clip(w1, 0.0))) @ v1.T
    m = sqrt_s1 @ s2 @ sqrt_s1
    m = 0.5 * (m + m.T)  # exact symmetry for eigvalsh
    tr_sqrt = jnp.sum(jnp.sqrt(jnp.clip(jnp.linalg.eigvalsh(m), 0.0)))
    diff = mu1 - mu2
    return diff @ diff + jnp.trace(s1) + jnp.trace(s2) - 2.0 * tr_sqrt


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean [d] and unbiased covariance [d, d] (numpy float64) of `features` [n, d], n >= 2.

    Returned on the host so that the real set's statistics can be cached or saved once.
    """
    features = np.asarray(features)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"features must be [n >= 2, d], got shape {features.shape}")
    with jax.enable_x64(True):
        mu, sigma = _stats(jnp.asarray(features, jnp.float64))
        return np.asarray(mu), np.asarray(sigma)


def frechet_distance(mu1, s1, mu2, s2) -> float:
    """Frechet distance between N(mu1 [d], s1 [d, d]) and N(mu2, s2), as a Python float."""
    with jax.enable_x64(True):
        args = [jnp.asarray(a, jnp.float64) for a in (mu1, s1, mu2, s2)]
        return float(_distance(*args))


def frechet_distance_features(a, b) -> float:
    """Frechet distance between Gaussians fitted to features a [n, d] and b [m, d]."""
    return frechet_distance(*gaussian_stats(a), *gaussian_stats(b))
