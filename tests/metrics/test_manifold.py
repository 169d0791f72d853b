"""k-NN precision / recall / density / coverage against a brute-force reference and edge cases."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from gan_jax.metrics import manifold


def brute_force(real, fake, k):
    """All four metrics from full distance matrices (open balls, radii excluding the point)."""
    r_real = np.sort(cdist(real, real), axis=1)[:, k]
    r_fake = np.sort(cdist(fake, fake), axis=1)[:, k]
    d = cdist(real, fake)  # [n_real, n_fake]
    return {
        "precision": np.mean((d < r_real[:, None]).any(axis=0)),
        "recall": np.mean((d < r_fake[None, :]).any(axis=1)),
        "density": np.sum(d < r_real[:, None]) / (k * fake.shape[0]),
        "coverage": np.mean(d.min(axis=1) < r_real),
    }


@pytest.fixture(scope="module")
def sets():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(120, 5)).astype(np.float32)
    fake = (0.8 * rng.normal(size=(90, 5)) + 0.3).astype(np.float32)
    return real, fake


def test_matches_brute_force_across_blocks(sets):
    real, fake = sets
    # Blocks of 32 leave a padded last block in both sets (120 = 3 * 32 + 24, 90 = 2 * 32 + 26).
    got = {**manifold.precision_recall(real, fake, k=3, block_size=32),
           **manifold.density_coverage(real, fake, k=5, block_size=32)}
    ref = {**{m: v for m, v in brute_force(real, fake, 3).items() if m in ("precision", "recall")},
           **{m: v for m, v in brute_force(real, fake, 5).items() if m in ("density", "coverage")}}
    assert all(isinstance(v, float) for v in got.values())
    assert got == pytest.approx(ref, abs=1e-12)
    assert 0.2 < got["precision"] < 1 and 0.2 < got["recall"] < 1  # a non-trivial case


def test_knn_radii_match_sorted_distances(sets):
    real, _ = sets
    np.testing.assert_allclose(manifold.knn_radii(real, 3, block_size=32),
                               np.sort(cdist(real, real), axis=1)[:, 3], rtol=1e-4)


def test_duplicates_are_neighbours_at_distance_zero():
    x = np.random.default_rng(1).normal(size=(20, 3)).astype(np.float32)
    x[:4] = x[0]  # four copies: each has three others at distance 0
    radii = np.asarray(manifold.knn_radii(x, 3))
    assert np.all(radii[:4] == 0) and np.all(radii[4:] > 0)


def test_subset_of_real_is_precise():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(600, 8)).astype(np.float32)
    fake = real[rng.choice(600, 200, replace=False)]
    pr = manifold.precision_recall(real, fake, k=3)
    assert pr["precision"] >= 0.99
    # Balls of a 200-point subset are wider than the real ones, but it misses some of the set.
    assert 0.3 < pr["recall"] < 1.0


def test_fake_equal_to_real():
    real = np.random.default_rng(3).normal(size=(300, 8)).astype(np.float32)
    pr = manifold.precision_recall(real, real.copy(), k=3, block_size=128)
    assert pr == {"precision": 1.0, "recall": 1.0}
    # Open balls: each point lies in its own ball and its k-1 nearest neighbours' balls.
    dc = manifold.density_coverage(real, real.copy(), k=5, block_size=128)
    assert dc["density"] == pytest.approx(1.0, abs=1e-9) and dc["coverage"] == 1.0


def test_same_distribution_density_near_one():
    rng = np.random.default_rng(4)
    real, fake = rng.normal(size=(2, 400, 4)).astype(np.float32)
    dc = manifold.density_coverage(real, fake, k=5)
    assert 0.8 < dc["density"] < 1.2 and dc["coverage"] > 0.9


def test_disjoint_far_apart_sets_score_zero():
    rng = np.random.default_rng(5)
    real = rng.normal(size=(200, 8)).astype(np.float32)
    fake = rng.normal(100.0, 1.0, size=(150, 8)).astype(np.float32)
    assert manifold.precision_recall(real, fake) == {"precision": 0.0, "recall": 0.0}
    assert manifold.density_coverage(real, fake) == {"density": 0.0, "coverage": 0.0}


def test_rejects_bad_k_and_shapes():
    x = np.zeros((5, 2), np.float32)
    with pytest.raises(ValueError):
        manifold.precision_recall(x, x, k=5)
    with pytest.raises(ValueError):
        manifold.density_coverage(x, np.zeros((5, 3), np.float32))
