"""The simple recommenders: EASE^R against its defining optimisation, ItemKNN by hand."""

import numpy as np
import pytest

from gan_jax.models import baselines


def test_ease_is_the_constrained_least_squares_solution():
    rng = np.random.default_rng(0)
    x = (rng.random((40, 12)) < 0.3).astype(np.float64)
    l2 = 5.0
    b = np.asarray(baselines.ease_weights(x, l2), np.float64)
    assert np.allclose(np.diag(b), 0.0, atol=1e-5)
    # Column j solves min |x_j - X_{-j} w|^2 + l2 |w|^2 over the other columns (diag(B) = 0).
    for j in range(12):
        others = [i for i in range(12) if i != j]
        a = x[:, others]
        w = np.linalg.solve(a.T @ a + l2 * np.eye(11), a.T @ x[:, j])
        assert np.allclose(b[others, j], w, atol=1e-4), j


def test_item_knn_keeps_k_neighbours_of_shrunk_cosines():
    x = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1], [1, 0, 0]], np.float32)
    shrink = 1.0
    s = np.asarray(baselines.item_knn_similarity(x, 1, shrink))
    gram = x.T @ x
    norms = np.sqrt(np.diag(gram))
    cos = gram / (np.outer(norms, norms) + shrink)
    np.fill_diagonal(cos, 0.0)
    for j in range(3):  # each column keeps exactly its best neighbour
        best = np.argmax(cos[:, j])
        assert s[best, j] == pytest.approx(cos[best, j], rel=1e-5)
        assert np.count_nonzero(s[:, j]) == 1
    assert np.allclose(np.asarray(baselines.item_knn(x, 1, shrink)), x @ s)


def test_most_popular_scores_training_counts():
    x = np.array([[1, 0, 1], [1, 0, 0]], np.float32)
    assert np.asarray(baselines.most_popular(x)).tolist() == [[2, 0, 1], [2, 0, 1]]


def test_a_vmapped_grid_equals_one_fit_per_setting():
    rng = np.random.default_rng(1)
    x = (rng.random((30, 10)) < 0.3).astype(np.float32)
    grid = [{"k": k, "shrink": s} for k in (2, 5) for s in (0.0, 10.0)]
    for name, settings in (("item_knn", grid), ("ease", [{"l2": 1.0}, {"l2": 30.0}]),
                           ("most_popular", [{}])):
        fitted = baselines.fit_grid(name, x, settings)
        for params, scores in zip(settings, fitted):
            expected = baselines.RECOMMENDERS[name](x, **params)
            assert np.allclose(scores, expected, rtol=1e-4, atol=1e-4), (name, params)
