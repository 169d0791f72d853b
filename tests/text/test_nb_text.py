"""NB-LR / NB-SVM on a case with a known answer: two fixed word distributions are told apart as
well as the Bayes-optimal rule tells them, and the log-count ratio has the sign of each word's
class."""

from math import comb

import numpy as np
import pytest

from gan_jax.detectors.nb_text import NBDetector
from gan_jax.metrics.auroc import auroc

REAL = ["soft", "fabric", "fits", "well", "color", "true"]
FAKE = ["amazing", "best", "product", "ever", "highly", "recommend"]


def sentences(rng, words, n, mix=0.3, other=None):
    """n sentences of 6 words, a fraction `mix` of each drawn from `other` (overlapping classes)."""
    out = []
    for _ in range(n):
        out.append([(other if other and rng.random() < mix else words)[rng.integers(6)] for _ in range(6)])
    return out


@pytest.mark.parametrize("kind", ["nblr", "nbsvm"])
def test_the_detector_separates_two_fixed_word_distributions(kind):
    rng = np.random.default_rng(0)
    train = sentences(rng, REAL, 300, other=FAKE) + sentences(rng, FAKE, 300, other=REAL)
    labels = np.r_[np.zeros(300, int), np.ones(300, int)]
    test = sentences(rng, REAL, 1000, other=FAKE) + sentences(rng, FAKE, 1000, other=REAL)
    detector = NBDetector(kind).fit(train, labels)
    # The best any detector can do: rank by the number of real-class words, Binomial(6, 0.7) in a
    # real sentence against Binomial(6, 0.3) in a fake one (AUROC 0.922).
    p = lambda k, q: comb(6, k) * q ** k * (1 - q) ** (6 - k)  # noqa: E731
    bayes = sum(p(i, 0.7) * p(j, 0.3) * (1.0 if i > j else 0.5 if i == j else 0.0)
                for i in range(7) for j in range(7))
    got = auroc(detector.score(test), np.r_[np.zeros(1000), np.ones(1000)] > 0)
    assert bayes - 0.04 < got < bayes + 0.015, (got, bayes)
    # Words of the machine-written class get a positive log-count ratio, the real class's negative.
    vocab = detector.vectorizers[0].vocabulary_
    assert all(detector.ratio[vocab[w]] > 0 for w in FAKE)
    assert all(detector.ratio[vocab[w]] < 0 for w in REAL)


def test_the_detector_needs_both_classes():
    with pytest.raises(ValueError, match="two classes"):
        NBDetector().fit([["a"], ["b"]], [1, 1])
    with pytest.raises(ValueError, match="unknown"):
        NBDetector("bert")
