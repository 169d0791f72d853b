"""experiments/oneclass_fashion: the smoke budget end to end on the real Fashion-MNIST (slow)."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import FAST_COMPILE, ROOT

SCRIPT = ROOT / "experiments" / "oneclass_fashion" / "run.py"


@pytest.mark.slow
def test_smoke_budget_detects_with_both_methods_and_reuses_its_stages(tmp_path):
    env = {**os.environ, "XLA_FLAGS": os.environ.get("XLA_FLAGS", "").replace(FAST_COMPILE, "").strip()}
    cmd = [sys.executable, str(SCRIPT), "--smoke", "--out", str(tmp_path)]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads((tmp_path / "results.json").read_text())
    for family in ("fanogan", "ganomaly"):  # two seeds, each its own population run
        members = result[family]["members"]
        assert [(m["seed"], m["category"]) for m in members] == [(0, 0), (0, 7), (1, 0), (1, 7)]
        assert all(0 <= m["auroc"] <= 1 for m in members)
        assert result[family]["over_seeds"]["seeds"] == 2
    # The raw-pixel OC-SVM separates sneakers from the other nine categories well even on 300
    # training images (GEOM's table: 92.8 mean for RAW-OC-SVM on the full data).
    assert result["oc_svm"]["7"]["auroc"] > 0.9
    assert result["population_vs_separate"]["single_run_seconds_per_step"] > 0
    assert "| 7 Sneaker |" in (tmp_path / "results.md").read_text()
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0
    assert "reusing the completed run" in again.stdout and "reusing the trained detector" in again.stdout
