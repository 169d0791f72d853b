"""Synthetic-table metrics on cases with known answers."""

import numpy as np
import pandas as pd
import pytest

from gan_jax.metrics import tabular
from gan_jax.metrics.tabular import (bin_codes, column_shapes, contingency_similarity,
                                     correlation_similarity, distance_to_closest_record, holdout_dcr,
                                     ks_complement,
                                     ks_statistic, ml_efficacy, nearest_distances, pair_trends, quality,
                                     tv_complement)

DISCRETE = ["job", "label"]


def mixed_table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 10, n)
    return pd.DataFrame({
        "age": age,
        "income": 1000 * age + rng.normal(0, 5000, n),
        "job": rng.choice(["a", "b", "c"], n),
        "label": (rng.random(n) < 0.3).astype(int),
    })


def test_identical_tables_score_one():
    t = mixed_table(300)
    q = quality(t, t.copy(), DISCRETE)
    assert q["column_shapes"] == q["pair_trends"] == q["quality"] == 1.0
    assert set(q) == {"column_shapes", "pair_trends", "quality"} | {f"shape/{c}" for c in t.columns}
    assert all(type(v) is float for v in q.values())


def test_ks_by_hand_and_disjoint_supports():
    # ECDFs at 1, 2, 3, 4: (1/3, 2/3, 1, 1) against (0, 1/3, 2/3, 1)
    assert ks_statistic([1, 2, 3], [2, 3, 4]) == pytest.approx(1 / 3)
    assert ks_complement([1, 2, 3], [2, 3, 4]) == pytest.approx(2 / 3)
    assert ks_complement([1.0, 2.0], [3.0, 4.0]) == 0.0
    assert ks_complement([1, 2, np.nan], [1, 2]) == 1.0  # non-finite values are dropped
    assert ks_complement([1, 2], [np.nan, np.nan]) == 0.0


def test_ks_matches_scipy_with_ties():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(1)
    for n, m in [(50, 80), (300, 7), (1000, 1000)]:
        a, b = np.round(rng.normal(size=n), 1), np.round(rng.normal(0.2, 1.3, m), 1)
        assert ks_statistic(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)


def test_tv_complement_by_hand():
    # (1/2, 1/2) against (1/4, 3/4): TV = 1/4
    assert tv_complement(["a", "a", "b", "b"], ["a", "b", "b", "b"]) == pytest.approx(0.75)
    # a category only the synthetic column uses: (1, 0) against (1/2, 1/2)
    assert tv_complement(["a", "a"], ["a", "c"]) == pytest.approx(0.5)
    assert tv_complement(["a", "b"], ["c", "d"]) == 0.0
    assert tv_complement([1, 2], [1.0, 2.0]) == 1.0  # an int column against a float one
    assert tv_complement(["a", None], ["a", "a"]) == pytest.approx(0.5)  # missing is a category


def test_column_shapes_averages_per_column_scores():
    real = pd.DataFrame({"x": [1, 2, 3], "c": ["a", "a", "b"]})
    synth = pd.DataFrame({"x": [2, 3, 4], "c": ["a", "b", "b"]})
    out = column_shapes(real, synth, ["c"])
    assert out["shape/x"] == pytest.approx(2 / 3)
    assert out["shape/c"] == pytest.approx(2 / 3)
    assert out["column_shapes"] == pytest.approx(2 / 3)


def test_correlation_similarity():
    x = np.arange(10.0)
    assert correlation_similarity(x, x, x, -x) == pytest.approx(0.0)
    # x = (1, 2, 3), y = (1, 3, 2): deviations (-1, 0, 1) and (-1, 1, 0), r = 1 / sqrt(2 * 2) = 1/2
    assert correlation_similarity([1, 2, 3], [1, 3, 2], [1, 2, 3], [1, 2, 3]) == pytest.approx(0.75)
    real = pd.DataFrame({"x": x, "y": 2 * x})
    assert pair_trends(real, pd.DataFrame({"x": x, "y": -x}), [])["pair_trends"] == pytest.approx(0.0)


def test_contingency_similarity_by_hand():
    # real: the four cells 1/4 each; synthetic: (a, x) and (b, y) 1/2 each. sum |diff| = 1.
    ra, rb = ["a", "a", "b", "b"], ["x", "y", "x", "y"]
    sa, sb = ["a", "a", "b", "b"], ["x", "x", "y", "y"]
    assert contingency_similarity(ra, rb, sa, sb) == pytest.approx(0.5)
    assert contingency_similarity(ra, rb, ra, rb) == 1.0
    assert contingency_similarity(["a"], ["x"], ["b"], ["x"]) == 0.0


def test_bins_come_from_the_real_range():
    real = [0.0, 10.0]
    assert list(bin_codes(real, [-5, 0, 4.9, 5, 10, 20, np.nan], bins=2)) == [0, 0, 0, 1, 1, 1, 2]
    assert list(bin_codes([3.0, 3.0], [1, 3, 4], bins=2)) == [0, 1, 2]  # constant: below/at/above


def test_mixed_pair_uses_the_binned_contingency_table():
    real = pd.DataFrame({"num": [0.0, 10.0], "cat": ["a", "b"]})
    # out-of-range values land in the end bins: the same table as real's
    same = pd.DataFrame({"num": [-5.0, 20.0], "cat": ["a", "b"]})
    assert pair_trends(real, same, ["cat"], bins=2)["pair_trends"] == 1.0
    # cells (0, a), (1, a) against (0, a), (1, b): sum |diff| = 1
    other = pd.DataFrame({"num": [4.0, 6.0], "cat": ["a", "a"]})
    assert pair_trends(real, other, ["cat"], bins=2)["pair_trends"] == pytest.approx(0.5)


def test_a_constant_numeric_column_falls_back_to_contingency():
    y = [1.0, 2.0, 3.0, 4.0]
    real = pd.DataFrame({"x": [1.0] * 4, "y": y})
    assert pair_trends(real, real.copy(), [])["pair_trends"] == 1.0
    # x codes: real all "at 1"; synthetic 1, 1, 2, 2 -> at, at, above, above. y bins over [1, 4]
    # (width 1.5): 0, 0, 1, 1. Cells (at, 0) 1/2 both; (at, 1) 1/2 vs 0; (above, 1) 0 vs 1/2.
    synth = pd.DataFrame({"x": [1.0, 1.0, 2.0, 2.0], "y": y})
    assert pair_trends(real, synth, [], bins=2)["pair_trends"] == pytest.approx(0.5)


def test_quality_is_the_mean_and_mismatched_columns_are_refused():
    real, synth = mixed_table(400, 0), mixed_table(400, 1)
    synth["income"] = synth["income"].sample(frac=1, random_state=0).to_numpy()  # breaks the trend
    q = quality(real, synth, DISCRETE)
    assert q["quality"] == pytest.approx((q["column_shapes"] + q["pair_trends"]) / 2)
    assert 0.0 < q["pair_trends"] < 1.0
    with pytest.raises(ValueError, match="columns"):
        quality(real, synth.drop(columns="job"), DISCRETE)
    with pytest.raises(ValueError, match="discrete"):
        column_shapes(real, synth, ["nope"])


def deterministic_table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=n)
    return pd.DataFrame({"x": x, "noise": rng.normal(size=n), "job": rng.choice(["a", "b", "c"], n),
                         "y": np.where(x > 0.5, "yes", "no")})


def test_ml_efficacy_learns_a_deterministic_target():
    out = ml_efficacy(deterministic_table(1000, 0), deterministic_table(1000, 1), "y", ["job", "y"])
    assert out["one_class_train"] == 0.0
    for k in ("auc_logreg", "auc_hgb", "ap_logreg", "ap_hgb"):
        assert out[k] > 0.99, (k, out[k])
    # through a one-hot feature alone
    train, test = deterministic_table(1000, 2), deterministic_table(1000, 3)
    for t in (train, test):
        t["y"] = (t["job"] == "b").astype(int)
    out = ml_efficacy(train[["job", "y"]], test[["job", "y"]], "y", ["job", "y"])
    assert out["auc_logreg"] == pytest.approx(1.0) and out["auc_hgb"] == pytest.approx(1.0)


def test_ml_efficacy_of_an_independent_target_is_chance():
    train, test = mixed_table(2000, 0), mixed_table(2000, 1)  # label is independent of the rest
    out = ml_efficacy(train, test, "label", DISCRETE)
    rate = test["label"].mean()
    # null AUC std here is about 0.014
    assert abs(out["auc_logreg"] - 0.5) < 0.06 and abs(out["auc_hgb"] - 0.5) < 0.06
    assert abs(out["ap_logreg"] - rate) < 0.06 and abs(out["ap_hgb"] - rate) < 0.06


def test_ml_efficacy_survives_a_one_class_train_table():
    train, test = mixed_table(200, 0), mixed_table(200, 1)
    train["label"] = 0
    out = ml_efficacy(train, test, "label", DISCRETE)
    assert out == {"auc_logreg": 0.5, "auc_hgb": 0.5, "ap_logreg": test["label"].mean(),
                   "ap_hgb": test["label"].mean(), "one_class_train": 1.0}


def test_ml_efficacy_positive_class():
    train, test = deterministic_table(400, 0), deterministic_table(400, 1)
    for t in (train, test):
        t["y"] = np.where(t["x"] > 0.6, "hi", np.where(t["x"] > 0.3, "mid", "lo"))
    with pytest.raises(ValueError, match="positive"):
        ml_efficacy(train, test, "y", ["job", "y"])
    out = ml_efficacy(train, test, "y", ["job", "y"], positive="hi")
    assert out["auc_hgb"] > 0.99
    with pytest.raises(ValueError, match="both target classes"):
        ml_efficacy(train, test[test["y"] == "hi"], "y", ["job", "y"], positive="hi")


def test_dcr_encoding_puts_a_category_mismatch_and_a_full_range_at_distance_one():
    real = pd.DataFrame({"x": [0.0, 10.0], "c": ["a", "b"]})
    synth = pd.DataFrame({"x": [0.0, 0.0], "c": ["b", "b"]})  # rows 1 and 0 apart: 1 each
    out = distance_to_closest_record(synth, real, real, ["c"])
    assert out["dcr_synthetic_median"] == pytest.approx(1.0)
    assert out["dcr_holdout_median"] == 0.0 and out["dcr_holdout_exact_copies"] == 1.0
    assert np.isnan(out["dcr_ratio"])  # undefined against a zero holdout median


def test_dcr_of_copied_rows_is_zero():
    real = mixed_table(800, 0)
    synth = real.sample(500, random_state=0)
    out = distance_to_closest_record(synth, real, mixed_table(300, 1), DISCRETE)
    assert out["dcr_synthetic_median"] == 0.0
    assert out["dcr_synthetic_exact_copies"] == 1.0
    assert out["dcr_ratio"] == 0.0
    assert out["dcr_holdout_median"] > 0.0 and out["dcr_holdout_exact_copies"] == 0.0


def test_dcr_of_fresh_draws_matches_the_holdout():
    real = mixed_table(2000, 0)
    out = distance_to_closest_record(mixed_table(1500, 1), real, mixed_table(1500, 2), DISCRETE,
                                     max_rows=1000, seed=3)
    assert out["dcr_ratio"] == pytest.approx(1.0, abs=0.1)
    assert out["dcr_synthetic_exact_copies"] == 0.0
    again = distance_to_closest_record(mixed_table(1500, 1), real, mixed_table(1500, 2), DISCRETE,
                                       max_rows=1000, seed=3)
    assert again == out  # the subsample is seeded


def test_dcr_reference_of_real_rows_is_measured_not_one_by_construction():
    # Bug caught: the real reference row compared held-out rows with themselves (ratio 1.000
    # whatever the data). Two held-out rows at 0.1 and 0.3 from the nearest training row: one is
    # compared with the training rows, the other is the baseline, so the ratio is 1/3 or 3.
    real = pd.DataFrame({"x": [0.0, 1.0]})
    out = holdout_dcr(real, pd.DataFrame({"x": [0.1, 0.3]}), [])
    assert sorted([out["dcr_synthetic_median"], out["dcr_holdout_median"]]) == pytest.approx([0.1, 0.3])
    assert out["dcr_ratio"] in (pytest.approx(1 / 3), pytest.approx(3.0))
    # and a table of exact copies of training rows scores 0 against the same holdout
    copies = distance_to_closest_record(real, real, pd.DataFrame({"x": [0.1, 0.3]}), [])
    assert copies["dcr_synthetic_median"] == 0.0 and copies["dcr_ratio"] == 0.0
    with pytest.raises(ValueError, match="1 by construction"):
        held = pd.DataFrame({"x": [0.1, 0.3]})
        distance_to_closest_record(held, real, held, [])


def test_table_evaluator_reference_row_dcr_is_not_one_by_construction():
    # Bug caught: TableEvaluator.reference (the "real" row of summaries and quality tables)
    # scoring held-out rows against themselves, a DCR ratio of exactly 1.
    from gan_jax.metrics.evaluator import TableEvaluator
    from tests.tabular.test_tabular_gan import small_table

    table = small_table(n=400).table
    ref = TableEvaluator(table, seed=0).reference(len(table.train))
    expected = holdout_dcr(table.train, table.heldout, table.discrete, seed=0)
    assert ref["dcr_ratio"] == pytest.approx(expected["dcr_ratio"]) and ref["dcr_ratio"] != 1.0


def test_nearest_distances_in_blocks_match_brute_force(monkeypatch):
    rng = np.random.default_rng(0)
    q, r = rng.normal(size=(37, 4)), rng.normal(size=(23, 4))
    brute = np.sqrt(((q[:, None] - r[None]) ** 2).sum(-1)).min(1)
    monkeypatch.setattr(tabular, "_BLOCK", 50)  # two query rows per block
    np.testing.assert_allclose(nearest_distances(q, r), brute, rtol=1e-12)
    assert nearest_distances(r[[3, 5]], r).tolist() == [0.0, 0.0]
