"""The generated-photo detector separates a toy case with a known answer."""

import numpy as np

from gan_jax.detectors import fake_photo
from gan_jax.metrics.auroc import auroc


def test_detector_learns_a_separable_toy_case():
    rng = np.random.default_rng(0)
    real = rng.uniform(0.0, 0.4, (200, 28, 28, 1)).astype(np.float32)  # dark "photos"
    fake = rng.uniform(0.6, 1.0, (200, 28, 28, 1)).astype(np.float32)  # bright "generated" ones
    params, losses = fake_photo.train(real, fake, steps=60, batch_size=32)
    assert losses[-1] < losses[0]
    test_real = rng.uniform(0.0, 0.4, (50, 28, 28, 1)).astype(np.float32)
    test_fake = rng.uniform(0.6, 1.0, (50, 28, 28, 1)).astype(np.float32)
    s = fake_photo.scores(params, np.concatenate([test_real, test_fake]))
    assert auroc(s, np.r_[np.zeros(50, bool), np.ones(50, bool)]) == 1.0
