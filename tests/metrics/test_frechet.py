"""Frechet distance: zero on identical sets, closed forms, and scipy's sqrtm formula."""

import numpy as np
import pytest
import scipy.linalg

from gan_jax.metrics import frechet


def with_exact_stats(rng, n, mean, cov):
    """Samples [n, d] whose empirical mean and (n-1) covariance are exactly mean and cov."""
    z = rng.normal(size=(n, len(mean)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T  # whiten exactly
    return z @ np.linalg.cholesky(cov).T + mean


def scipy_fd(mu1, s1, mu2, s2):
    return np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real)


def test_gaussian_stats_match_numpy_in_float64():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(300, 7)).astype(np.float32)
    mu, sigma = frechet.gaussian_stats(x)
    assert mu.dtype == sigma.dtype == np.float64 and sigma.shape == (7, 7)
    np.testing.assert_allclose(mu, x.astype(np.float64).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(x.astype(np.float64), rowvar=False), rtol=1e-10)


def test_identical_sets_give_zero():
    x = np.random.default_rng(1).normal(50.0, 10.0, size=(1000, 16)).astype(np.float32)
    scale = np.trace(np.cov(x, rowvar=False))
    fd = frechet.frechet_distance_features(x, x)
    assert isinstance(fd, float) and abs(fd) < 1e-6 * scale


def test_singular_covariances_stay_finite():
    # Fewer samples than dimensions: rank-deficient covariances with round-off negative eigenvalues.
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(10, 32)), rng.normal(size=(10, 32)) + 1.0
    # sqrt of round-off-sized eigenvalues (~sqrt(1e-16) each) bounds the accuracy near zero.
    assert abs(frechet.frechet_distance_features(a, a)) < 1e-6 * np.trace(np.cov(a, rowvar=False))
    fd = frechet.frechet_distance_features(a, b)
    assert np.isfinite(fd) and fd > 0


def test_diagonal_gaussians_closed_form():
    rng = np.random.default_rng(3)
    va, vb, shift = np.array([1.0, 4.0, 0.25, 9.0]), np.array([2.0, 1.0, 0.25, 16.0]), 1.5
    mu_b = np.full(4, shift / 2.0)  # |mu_a - mu_b|^2 = shift^2
    expected = np.sum((np.sqrt(va) - np.sqrt(vb)) ** 2) + shift ** 2
    fd = frechet.frechet_distance(np.zeros(4), np.diag(va), mu_b, np.diag(vb))
    assert fd == pytest.approx(expected, rel=1e-10)
    a = with_exact_stats(rng, 500, np.zeros(4), np.diag(va))
    b = with_exact_stats(rng, 400, mu_b, np.diag(vb))
    assert frechet.frechet_distance_features(a, b) == pytest.approx(expected, rel=1e-8)


def test_full_covariances_match_scipy_sqrtm():
    rng = np.random.default_rng(4)
    d = 6
    m1, m2 = rng.normal(size=(2, 6, d))
    s1, s2 = m1 @ m1.T / d + 0.1 * np.eye(d), m2 @ m2.T / d + 0.1 * np.eye(d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    fd = frechet.frechet_distance(mu1, s1, mu2, s2)
    assert fd == pytest.approx(scipy_fd(mu1, s1, mu2, s2), rel=1e-9)
    # Symmetric in its two Gaussians although the formula treats them differently.
    assert frechet.frechet_distance(mu2, s2, mu1, s1) == pytest.approx(fd, rel=1e-9)


def test_rejects_bad_shapes():
    with pytest.raises(ValueError):
        frechet.gaussian_stats(np.zeros((1, 4)))
    with pytest.raises(ValueError):
        frechet.gaussian_stats(np.zeros(4))
