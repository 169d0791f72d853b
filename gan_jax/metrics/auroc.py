"""Area under the ROC curve of anomaly scores (higher score = more anomalous).

AUROC = P(score of a random anomaly > score of a random normal example), ties counting one
half: the Mann-Whitney U statistic over n_anomalous * n_normal, from average ranks.
"""

from __future__ import annotations

import numpy as np


def auroc(scores, anomalous) -> float:
    """scores [n] (float), anomalous [n] (bool: True for the positive, anomalous class)."""
    scores = np.asarray(scores, np.float64).ravel()
    anomalous = np.asarray(anomalous, bool).ravel()
    if scores.shape != anomalous.shape:
        raise ValueError(f"{scores.shape[0]} scores but {anomalous.shape[0]} labels")
    if not np.isfinite(scores).all():
        raise ValueError("anomaly scores must be finite")
    n_pos, n_neg = int(anomalous.sum()), int((~anomalous).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUROC needs both normal and anomalous examples")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), np.float64)
    sorted_scores = scores[order]
    # average rank (1-based) within each group of tied scores
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(scores)]
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + 1 + e) / 2.0
    u = ranks[anomalous].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))
