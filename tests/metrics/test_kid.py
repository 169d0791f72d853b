"""KID: matches a direct numpy U-statistic, ~0 on one distribution, deterministic in its seed."""

import jax
import numpy as np
import pytest

from gan_jax.metrics import kid


def numpy_mmd2_unbiased(x, y):
    d = x.shape[1]
    kxx, kyy, kxy = ((p @ q.T / d + 1.0) ** 3 for p, q in ((x, x), (y, y), (x, y)))
    m = len(x)
    off = lambda k: (k.sum() - np.trace(k)) / (m * (m - 1))  # noqa: E731
    return off(kxx) + off(kyy) - 2.0 * kxy.mean()


def test_matches_numpy_unbiased_mmd2_on_full_sets():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 5)), rng.normal(0.5, 1.2, size=(30, 5))
    mean, std = kid.kid(x, y, num_subsets=1, subset_size=30, seed=0)
    assert isinstance(mean, float) and isinstance(std, float)
    assert mean == pytest.approx(numpy_mmd2_unbiased(x, y), rel=1e-4)
    assert std == 0.0


def test_same_distribution_is_near_zero_and_a_shift_is_not():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 400, 16)).astype(np.float32)
    same, same_std = kid.kid(a, b, num_subsets=20, subset_size=200, seed=0)
    shifted, _ = kid.kid(a, b + 0.5, num_subsets=20, subset_size=200, seed=0)
    # Over data seeds |same| stays below ~0.03 here, while the shift gives ~1.
    assert abs(same) < 0.05 and same_std < 0.05
    assert shifted > 0.5


def test_deterministic_in_seed_and_key():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(100, 8)), rng.normal(size=(80, 8)) + 0.2
    first = kid.kid(a, b, num_subsets=5, subset_size=20, seed=3)
    assert kid.kid(a, b, num_subsets=5, subset_size=20, seed=3) == first
    assert kid.kid(a, b, num_subsets=5, subset_size=20, seed=jax.random.key(3)) == first
    assert kid.kid(a, b, num_subsets=5, subset_size=20, seed=4) != first


def test_subset_size_is_capped_at_the_smaller_set():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(50, 4)), rng.normal(size=(40, 4))
    capped = kid.kid(a, b, num_subsets=3, subset_size=1000)
    assert capped == kid.kid(a, b, num_subsets=3, subset_size=40)


def test_rejects_bad_inputs():
    with pytest.raises(ValueError):
        kid.kid(np.zeros((10, 3)), np.zeros((10, 4)))
    with pytest.raises(ValueError):
        kid.kid(np.zeros((1, 3)), np.zeros((10, 3)))
