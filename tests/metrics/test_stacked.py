"""Stacked Fashion-MNIST modes: distinct label triples and KL of their histogram to uniform."""

import itertools

import numpy as np
import pytest

from gan_jax.metrics import stacked


def test_hand_built_triples():
    labels = np.array([[0, 0, 0], [0, 0, 0], [1, 2, 3], [3, 2, 1]])
    out = stacked.stacked_modes(labels)
    # Three modes (order matters: (1, 2, 3) != (3, 2, 1)) with shares 1/2, 1/4, 1/4 of 1000.
    assert out["modes"] == 3 and isinstance(out["modes"], int)
    assert out["kl"] == pytest.approx(0.5 * np.log(500) + 2 * 0.25 * np.log(250))


def test_every_mode_once_is_uniform():
    labels = np.array(list(itertools.product(range(10), repeat=3)))
    assert stacked.stacked_modes(labels) == {"modes": 1000, "kl": pytest.approx(0.0, abs=1e-12)}


def test_one_mode_and_other_shapes():
    assert stacked.stacked_modes(np.full((7, 3), 4)) == {"modes": 1, "kl": pytest.approx(np.log(1000))}
    # Two binary channels: 4 modes, two of them seen equally often -> log 2.
    out = stacked.stacked_modes(np.array([[0, 1], [1, 0]]), num_classes=2)
    assert out == {"modes": 2, "kl": pytest.approx(np.log(2))}


def test_rejects_bad_labels():
    with pytest.raises(ValueError):
        stacked.stacked_modes(np.array([[0, 10, 0]]))
    with pytest.raises(ValueError):
        stacked.stacked_modes(np.array([0, 1, 2]))
