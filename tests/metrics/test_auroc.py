"""AUROC on cases with known answers."""

import numpy as np
import pytest

from gan_jax.metrics.auroc import auroc


def test_perfect_reversed_and_tied_rankings():
    y = np.array([0, 0, 1, 1], bool)
    assert auroc([0.1, 0.2, 0.8, 0.9], y) == 1.0
    assert auroc([0.9, 0.8, 0.2, 0.1], y) == 0.0
    assert auroc([0.5, 0.5, 0.5, 0.5], y) == 0.5


def test_a_hand_counted_case_with_a_tie():
    # anomalies 0.4, 0.7; normals 0.1, 0.4, 0.9. Pairs (a > n): 0.4>0.1, tie 0.4=0.4 (1/2),
    # 0.7>0.1, 0.7>0.4 -> 3.5 of 6.
    assert auroc([0.4, 0.7, 0.1, 0.4, 0.9], [1, 1, 0, 0, 0]) == pytest.approx(3.5 / 6)


def test_matches_the_pairwise_definition_on_random_scores():
    rng = np.random.default_rng(0)
    s = np.round(rng.normal(size=300), 1)  # many ties
    y = rng.random(300) < 0.3
    pos, neg = s[y], s[~y]
    pairwise = ((pos[:, None] > neg[None]) + 0.5 * (pos[:, None] == neg[None])).mean()
    assert auroc(s, y) == pytest.approx(pairwise)


def test_one_class_only_or_non_finite_is_refused():
    with pytest.raises(ValueError, match="both"):
        auroc([0.1, 0.2], [True, True])
    with pytest.raises(ValueError, match="finite"):
        auroc([np.nan, 0.2], [True, False])
