"""Ranking metrics against hand-computed rankings, and training items never recommended."""

import jax
import numpy as np
import pytest

from gan_jax.metrics.ranking import ranking_metrics, top_k_unseen


def test_metrics_match_a_hand_computed_ranking():
    # One user, 6 items. Item 0 is a training item (excluded even though it scores highest);
    # the ranking of the rest is 1, 2, 3, 4, 5; held out: items 2 and 5.
    scores = np.array([[9.0, 5.0, 4.0, 3.0, 2.0, 1.0]])
    seen = np.array([[True, False, False, False, False, False]])
    relevant = np.array([[False, False, True, False, False, True]])
    m = ranking_metrics(scores, seen, relevant, ks=(1, 2, 5))
    # top-2 = [1, 2]: one hit at rank 2.
    assert m["precision_2"] == pytest.approx(0.5)
    assert m["recall_2"] == pytest.approx(0.5)
    assert m["mrr_2"] == pytest.approx(0.5)
    assert m["ndcg_2"] == pytest.approx((1 / np.log2(3)) / (1 + 1 / np.log2(3)))
    # top-1 = [1]: no hit.
    assert m["precision_1"] == m["recall_1"] == m["ndcg_1"] == m["mrr_1"] == 0.0
    # top-5 = [1, 2, 3, 4, 5]: hits at ranks 2 and 5.
    assert m["precision_5"] == pytest.approx(2 / 5)
    assert m["recall_5"] == pytest.approx(1.0)
    dcg = 1 / np.log2(3) + 1 / np.log2(6)
    assert m["ndcg_5"] == pytest.approx(dcg / (1 + 1 / np.log2(3)))


def test_users_without_held_out_items_are_not_averaged_and_perfect_ranking_scores_one():
    scores = np.array([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0]])
    seen = np.zeros((2, 3), bool)
    relevant = np.array([[True, False, False], [False, False, False]])  # user 1: nothing held out
    m = ranking_metrics(scores, seen, relevant, ks=(1, 3))
    assert m["precision_1"] == m["recall_1"] == m["ndcg_1"] == m["mrr_1"] == 1.0
    assert m["precision_3"] == pytest.approx(1 / 3)


def test_training_items_never_appear_in_the_top_k():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(50, 30))
    seen = rng.random((50, 30)) < 0.5
    seen[:, :10] = False  # every user has at least k = 10 unseen items to fill the list
    scores[seen] += 100.0  # training items score highest, and must still be skipped
    top = np.asarray(top_k_unseen(scores, seen, 10))
    assert not np.take_along_axis(seen, top, axis=1).any()
    jitted = jax.jit(top_k_unseen, static_argnames="k")(scores, seen, k=10)
    assert (np.asarray(jitted) == top).all()


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="same"):
        ranking_metrics(np.zeros((2, 3)), np.zeros((2, 4), bool), np.zeros((2, 3), bool))
