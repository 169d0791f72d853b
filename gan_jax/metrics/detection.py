"""How well a detector's scores (higher = more likely machine-written) separate real from written
reviews, with every threshold chosen on validation scores and only applied to test scores:

    auroc              threshold-free (metrics/auroc.py)
    accuracy           at the validation's equal-error threshold (its false positive rate equal to
                       its false negative rate): on a test set of as many real as written reviews,
                       what a balanced detector gets right
    detection_at_1fpr  the share of written test reviews flagged at the threshold that flags 1% of
                       the validation's real reviews, with false_positive_at_1fpr, the share of
                       real test reviews it flags (near 1% when validation and test agree)

A review is flagged when its score is above the threshold.
"""

from __future__ import annotations

import numpy as np

from gan_jax.metrics.auroc import auroc


def thresholds(scores, labels, fpr: float = 0.01) -> dict[str, float]:
    """{"equal_error": t, "fpr": t} from validation scores and labels (1 = written)."""
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels).astype(bool)
    real, written = np.sort(scores[~labels]), np.sort(scores[labels])
    if not len(real) or not len(written):
        raise ValueError("thresholds need validation scores of both real and written reviews")
    candidates = np.unique(np.r_[scores, scores.min() - 1.0])
    false_pos = 1 - np.searchsorted(real, candidates, side="right") / len(real)  # P(real > t)
    false_neg = np.searchsorted(written, candidates, side="right") / len(written)  # P(written <= t)
    equal_error = float(candidates[np.argmin(np.abs(false_pos - false_neg))])
    # the smallest real score whose exceedance is at most `fpr` of the real reviews
    k = int(np.ceil(len(real) * (1 - fpr))) - 1
    return {"equal_error": equal_error, "fpr": float(real[min(max(k, 0), len(real) - 1)])}


def scores_at(test_scores, test_labels, chosen: dict[str, float]) -> dict[str, float]:
    """The module's metrics of test scores, at thresholds `thresholds` chose on validation."""
    s, y = np.asarray(test_scores, np.float64), np.asarray(test_labels).astype(bool)
    flagged = s > chosen["equal_error"]
    at_fpr = s > chosen["fpr"]
    return {"auroc": auroc(s, y),
            "accuracy": float(np.mean(flagged == y)),
            "detection_at_1fpr": float(at_fpr[y].mean()),
            "false_positive_at_1fpr": float(at_fpr[~y].mean())}
