import numpy as np

from gan_jax.data import mixtures


def test_ring_and_grid_modes_match_pacgan():
    ring = mixtures.ring_modes()
    assert ring.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(ring, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(ring[2], [0.0, 1.0], atol=1e-12)
    grid = mixtures.grid_modes()
    assert grid.shape == (25, 2)
    assert sorted(set(grid[:, 0])) == [-4, -2, 0, 2, 4]


def test_points_have_the_published_spread():
    for name, std in (("ring", 0.01), ("grid", 0.05)):
        ds = mixtures.build(name, num_points=20000, seed=1)
        x, y = np.asarray(ds.arrays["x"]), np.asarray(ds.arrays["y"])
        residual = x - ds.modes[y]
        np.testing.assert_allclose(residual.std(axis=0), std, rtol=0.05)
        assert ds.mode_std == std and ds.value_range is None
        counts = np.bincount(y, minlength=len(ds.modes))
        assert counts.min() > 0.8 * counts.mean()
