"""Classifier score and category balance metrics on hand-built logits and labels."""

import numpy as np
import pytest
from scipy.special import log_softmax

from gan_jax.metrics import classifier


def numpy_score(logits, splits):
    m = len(logits) // splits
    scores = []
    for part in np.split(logits[: m * splits], splits):
        p = np.exp(log_softmax(part, axis=1))
        py = p.mean(axis=0)
        scores.append(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(py)), axis=1))))
    return np.mean(scores), np.std(scores)


def test_confident_uniform_predictions_score_num_classes():
    logits = 50.0 * np.eye(10)[np.arange(1000) % 10]  # each split of 100 holds every class 10 times
    mean, std = classifier.classifier_score(logits, splits=10)
    assert isinstance(mean, float) and isinstance(std, float)
    assert mean == pytest.approx(10.0, rel=1e-4) and std == pytest.approx(0.0, abs=1e-4)


def test_identical_predictions_score_one():
    logits = np.tile(np.random.default_rng(0).normal(size=10), (200, 1))
    mean, _ = classifier.classifier_score(logits, splits=4)
    assert mean == pytest.approx(1.0, abs=1e-5)


def test_matches_numpy_and_drops_the_remainder():
    logits = 3.0 * np.random.default_rng(1).normal(size=(103, 7))
    mean, std = classifier.classifier_score(logits, splits=5)
    ref_mean, ref_std = numpy_score(logits, 5)
    assert mean == pytest.approx(ref_mean, rel=1e-5) and std == pytest.approx(ref_std, rel=1e-3, abs=1e-6)


def test_histogram_and_fractions():
    labels = np.array([0, 2, 2, 3, 3, 3])
    np.testing.assert_array_equal(classifier.category_histogram(labels, 5), [1, 0, 2, 3, 0])
    np.testing.assert_allclose(classifier.per_category_fractions(labels, 5), [1 / 6, 0, 1 / 3, 1 / 2, 0])
    with pytest.raises(ValueError):
        classifier.category_histogram(np.array([0, 5]), 5)
    with pytest.raises(ValueError):
        classifier.category_histogram(np.array([-1, 0]), 5)


def test_category_kl():
    assert classifier.category_kl(np.arange(100) % 10, 10) == pytest.approx(0.0, abs=1e-12)
    assert classifier.category_kl(np.full(50, 3), 10) == pytest.approx(np.log(10))
    # Half on each of two of four classes: 2 * 0.5 log(0.5 * 4) = log 2 (empty classes add 0).
    assert classifier.category_kl(np.array([0, 1]), 4) == pytest.approx(np.log(2))


def test_category_coverage_threshold():
    # 1000 labels over 10 classes: the default threshold is 0.1 / 10 = 1%, i.e. 10 samples.
    counts = [127, 122, 122, 122, 122, 122, 122, 122, 10, 9]
    labels = np.repeat(np.arange(10), counts)
    assert len(labels) == 1000
    assert classifier.category_coverage(labels, 10) == pytest.approx(0.9)  # class 9 is below 1%
    assert classifier.category_coverage(labels, 10, min_fraction=0.05) == pytest.approx(0.8)
    assert classifier.category_coverage(np.arange(70) % 7, 10) == pytest.approx(0.7)
