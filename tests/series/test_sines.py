"""data=sines: TimeGAN's sine sequences, drawn from data.seed, with a held-out split."""

import jax
import numpy as np

from gan_jax.data import sines


def test_every_feature_is_a_sine_with_the_authors_frequency_and_phase():
    # Catches: frequencies or phases drawn from another range than the authors' U[0, 0.1], or a
    # scaling other than (sin + 1) / 2.
    data = sines.build(num_sequences=300, seq_len=24, features=5, heldout=50, seed=3)
    raw = data.series.train
    assert raw.shape == (300, 24, 5) and data.shape == (24, 5)
    s = 2 * raw.astype(np.float64) - 1                       # sin(f t + p)
    phase = np.arcsin(s[:, 0])                               # t = 0
    freq = np.arcsin(s[:, 1]) - phase                        # t = 1 (f t + p < pi / 2 there)
    assert phase.min() >= -1e-6 and phase.max() <= 0.1 + 1e-6
    assert freq.min() >= -1e-5 and freq.max() <= 0.1 + 1e-5
    t = np.arange(24)[None, :, None]
    np.testing.assert_allclose(raw, (np.sin(freq[:, None] * t + phase[:, None]) + 1) / 2, atol=2e-5)


def test_the_training_arrays_are_min_max_scaled_and_mapped_back():
    data = sines.build(num_sequences=200, seq_len=8, features=3, heldout=20, seed=0)
    x = np.asarray(data.arrays["x"])
    np.testing.assert_allclose(x.min(axis=(0, 1)), 0, atol=1e-6)
    np.testing.assert_allclose(x.max(axis=(0, 1)), 1, atol=1e-5)
    np.testing.assert_allclose(data.series.unscale(x), data.series.train, atol=1e-6)


def test_the_seed_draws_both_sets_and_the_held_out_set_is_apart():
    a, b = (sines.build(100, 8, 2, 30, seed=1) for _ in range(2))
    c = sines.build(100, 8, 2, 30, seed=2)
    assert np.array_equal(a.series.train, b.series.train)
    assert np.array_equal(a.series.heldout, b.series.heldout)
    assert not np.array_equal(a.series.train, c.series.train)
    assert a.series.heldout.shape == (30, 8, 2)
    # No held-out sequence is a training sequence.
    assert not (a.series.heldout[:, None] == a.series.train[None]).all(axis=(2, 3)).any()
    # The training set does not depend on the held-out size (the authors' 10,000 stay theirs).
    assert np.array_equal(sines.build(100, 8, 2, 5, seed=1).series.train, a.series.train)


def test_batches_are_drawn_on_device_inside_jit():
    data = sines.build(50, 6, 2, 5, seed=0)
    x, y = jax.jit(data.sample, static_argnums=2)(data.arrays, jax.random.PRNGKey(0), 7)
    assert x.shape == (7, 6, 2) and y.shape == (7,)
    assert all(any(np.array_equal(row, r) for r in np.asarray(data.arrays["x"])) for row in np.asarray(x))
