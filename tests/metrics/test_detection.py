"""Detection metrics at thresholds chosen on validation scores, on score sets with known answers."""

import numpy as np
import pytest

from gan_jax.metrics import detection

REAL = np.arange(100.0)           # real reviews score 0..99
WRITTEN = np.arange(50.0, 150.0)  # written ones 50..149: half of each overlaps the other
SCORES = np.r_[REAL, WRITTEN]
LABELS = np.r_[np.zeros(100), np.ones(100)]


def test_the_thresholds_are_the_equal_error_and_the_one_percent_false_positive_points():
    chosen = detection.thresholds(SCORES, LABELS)
    # flagged when above t: at t = 74, 25 of the real (75..99) are flagged and 25 of the written
    # (50..74) are not, the only point where both rates are equal
    assert chosen["equal_error"] == 74
    assert chosen["fpr"] == 98  # only real score 99 is above it: 1 of 100


def test_the_metrics_at_validation_thresholds_on_known_test_scores():
    chosen = detection.thresholds(SCORES, LABELS)
    values = detection.scores_at(SCORES, LABELS, chosen)
    assert values["accuracy"] == pytest.approx(0.75)  # 75 of each class on the right side
    assert values["detection_at_1fpr"] == pytest.approx(51 / 100)  # written 99..149
    assert values["false_positive_at_1fpr"] == pytest.approx(0.01)
    pairs = (WRITTEN[:, None] > REAL[None]) + 0.5 * (WRITTEN[:, None] == REAL[None])
    assert values["auroc"] == pytest.approx(pairs.mean())
    # Thresholds travel: a test set shifted up by 10 keeps them, so more reals are flagged.
    shifted = detection.scores_at(SCORES + 10, LABELS, chosen)
    assert shifted["false_positive_at_1fpr"] == pytest.approx(0.11)


def test_thresholds_need_both_classes():
    with pytest.raises(ValueError, match="both real and written"):
        detection.thresholds(REAL, np.zeros(100))
