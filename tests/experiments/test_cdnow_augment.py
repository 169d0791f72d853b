"""experiments/cdnow_augment: the smoke budget end to end on the real CDNOW customers (slow)."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import FAST_COMPILE, ROOT

SCRIPT = ROOT / "experiments" / "cdnow_augment" / "run.py"


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
    assert all(0 <= s["roc_auc"] <= 1 and 0 <= s["pr_auc"] <= 1 for s in scores.values())
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
