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
    assert "| real |" in (tmp_path / "results_smoke.md").read_text()
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0 and "n=250 seed=0" not in again.stdout  # the record was reused
