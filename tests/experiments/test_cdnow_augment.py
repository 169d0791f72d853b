"""experiments/cdnow_augment: the smoke budget end to end on the real CDNOW customers (slow)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from experiments.cdnow_augment import run

from tests.conftest import FAST_COMPILE, ROOT

SCRIPT = ROOT / "experiments" / "cdnow_augment" / "run.py"


def customers(n: int, seed: int, label=lambda x: x > 0.5):
    """A toy customer table in the study's layout: two numbers, the first month, the target
    (by default a function of `spend`: perfectly learnable)."""
    import pandas as pd
    rng = np.random.default_rng(seed)
    spend = rng.random(n)
    return pd.DataFrame({"spend": spend, "visits": rng.integers(1, 10, n),
                         "first_month": rng.integers(1, 4, n), run.TARGET: label(spend).astype(int)})


def test_classifier_scores_separate_a_learnable_target_and_not_a_shuffled_one():
    # Catches scores read from the wrong class column, features misaligned with their labels, or
    # a test set scored on its own labels: a separable target -> ROC AUC > 0.9; the same test
    # customers after training on shuffled labels -> ~0.5; the test labels inverted -> < 0.1.
    from threadpoolctl import threadpool_limits
    train, test = customers(400, 0), customers(400, 1)
    shuffled = train.assign(**{run.TARGET: np.random.default_rng(2).permutation(train[run.TARGET])})
    inverted = test.assign(**{run.TARGET: 1 - test[run.TARGET]})
    with threadpool_limits(1):  # OpenMP threads on a busy 2-core machine: minutes instead of 1 s
        assert run.classifier_scores(train, test, seed=0)["roc_auc"] > 0.9
        assert abs(run.classifier_scores(shuffled, test, seed=0)["roc_auc"] - 0.5) < 0.1
        assert run.classifier_scores(train, inverted, seed=0)["roc_auc"] < 0.1


def test_augmentation_adds_ratio_times_n_rows_in_the_real_class_proportions():
    # Catches synthetic rows of the wrong class, the wrong count, or a class balance other
    # than the real rows' (the study augments, it does not rebalance).
    real = customers(20, 0, label=lambda x: np.arange(len(x)) < 5)  # 5 positives of 20
    by_class = {c: customers(50, 3 + c, label=lambda x, c=c: np.full(len(x), c)) for c in (0, 1)}
    out = run.with_synthetic(real, by_class, ratio=2.0)
    assert len(out) == 60 and out.iloc[:20].equals(real)
    added = out.iloc[20:]
    assert (added[run.TARGET] == 1).sum() == 10 and (added[run.TARGET] == 0).sum() == 30
    for c, k in ((0, 30), (1, 10)):  # the first k rows of that class's synthetic sample
        assert added[added[run.TARGET] == c].reset_index(drop=True).equals(by_class[c].iloc[:k])


def test_paired_gains_subtract_real_only_within_each_seed():
    # Catches gains taken against another seed's baseline or with the sign reversed.
    records = [{"n": 250, "scores": {"real": {"roc_auc": 0.70}, "gan": {"roc_auc": 0.75}}},
               {"n": 250, "scores": {"real": {"roc_auc": 0.60}, "gan": {"roc_auc": 0.58}}}]
    gain = run.paired_gains(records)["gan"][250]
    assert gain["mean"] == pytest.approx(0.015) and gain["positive"] == 1
    assert gain["se"] == pytest.approx(np.std([0.05, -0.02], ddof=1) / np.sqrt(2))


@pytest.mark.slow
def test_smoke_budget_scores_every_method_on_the_real_test_customers_and_reuses_records(tmp_path):
    env = {**os.environ, "XLA_FLAGS": os.environ.get("XLA_FLAGS", "").replace(FAST_COMPILE, "").strip()}
    cmd = [sys.executable, str(SCRIPT), "--smoke", "--out", str(tmp_path)]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    record = json.loads((tmp_path / "results_cache" / "smoke" / "n250_seed0.json").read_text())
    scores = record["scores"]
    assert scores["real"]["train_rows"] == 250
    assert scores["gan_jax_x1"]["train_rows"] == 500  # 250 real + 250 synthetic
    # CDNOW's recency alone ranks repurchasers at AUC 0.76: 250 real customers give far above 0.5.
    assert 0.6 < scores["real"]["roc_auc"] <= 1
    # Catches a record scored on other customers than the cell's held-out ones, or a classifier
    # that reads something besides the training rows' labels: the real-only score is reproduced
    # here from the cell's table, and the same rows with shuffled labels score ~0.5.
    from threadpoolctl import threadpool_limits
    table = run.cell_table(250, 0)
    labels = np.random.default_rng(0).permutation(table.train[run.TARGET])
    shuffled = table.train.assign(**{run.TARGET: labels})
    with threadpool_limits(1):
        assert run.classifier_scores(table.train, table.heldout, 0)["roc_auc"] == pytest.approx(
            scores["real"]["roc_auc"], abs=1e-3)  # threads may reorder float sums
        assert abs(run.classifier_scores(shuffled, table.heldout, 0)["roc_auc"] - 0.5) < 0.08
    assert record["test_rows"] == 4714 and record["commit"]
    # the preset declares CDNOW's rules: scored with rows that keep them too, tagged with them
    assert record["constraints"] == ["recency <= T", "monetary_value = 0 when frequency = 0"]
    assert scores["gan_jax_constrained_x1"]["train_rows"] == 500
    assert "| real |" in (tmp_path / "results_smoke.md").read_text()
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0 and "n=250 seed=0" not in again.stdout  # the record was reused


def test_constrained_scores_under_other_rules_are_never_pooled():
    # Bug caught: cached records made before the preset declared its rules (or under other
    # rules) pooled into the gan_jax_constrained rows of the table.
    from experiments.cdnow_augment.quality import rules_tag
    from experiments.cdnow_augment.run import current_scores
    from gan_jax.data.constraints import parse

    scores = {"real": {}, "gan_jax_x1": {}, "gan_jax_constrained_x1": {}}
    now = ["recency <= T", "monetary_value = 0 when frequency = 0"]
    assert set(current_scores({"scores": scores, "constraints": now}, now)) == set(scores)
    for stale in (["recency <= T"], [], None):
        kept = current_scores({"scores": scores, "constraints": stale}, now)
        assert set(kept) == {"real", "gan_jax_x1"}
    # quality.py's cached constrained tables are named by their rules
    assert rules_tag(parse(now)) != rules_tag(parse(now[:1]))


def test_ctgan_scores_are_reused_only_from_a_record_of_the_same_rows(monkeypatch):
    # Catches CTGAN scores copied into a cell whose data differ (another split, subset or
    # classifier seed): the real-only scores, a deterministic function of those, must be equal.
    real = {"roc_auc": 0.7, "pr_auc": 0.5, "train_rows": 250}
    old = {"n": 250, "seed": 1, "scores": {"real": real, "ctgan_x1": {"roc_auc": 0.71}},
           "ctgan": {"epochs": 1000}}

    def git_show(cmd, **kw):
        assert cmd[:2] == ["git", "show"] and cmd[2].endswith("results_cache/cpu/n250_seed1.json")
        return subprocess.CompletedProcess(cmd, 0, json.dumps(old), "")

    monkeypatch.setattr(run.subprocess, "run", git_show)
    same = {"n": 250, "seed": 1, "scores": {"real": dict(real)}, "ctgan": None}
    assert run.reuse_ctgan(same, "abc123", "cpu")
    assert same["scores"]["ctgan_x1"] == {"roc_auc": 0.71} and same["ctgan"]["reused_from"] == "abc123"
    other = {"n": 250, "seed": 1, "scores": {"real": {**real, "roc_auc": 0.69}}, "ctgan": None}
    assert not run.reuse_ctgan(other, "abc123", "cpu")
    assert "ctgan_x1" not in other["scores"] and other["ctgan"] is None
