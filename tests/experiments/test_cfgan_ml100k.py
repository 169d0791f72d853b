"""experiments/cfgan_ml100k: selection on validation only, the table, and real-data runs (slow)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from experiments.cfgan_ml100k import run
from tests.conftest import FAST_COMPILE, ROOT

SCRIPT = ROOT / "experiments" / "cfgan_ml100k" / "run.py"


def test_mean_and_standard_error():
    stat = run.mean_se([0.2, 0.4])
    assert stat["mean"] == pytest.approx(0.3) and stat["se"] == pytest.approx(0.1)


@pytest.mark.slow
def test_cfgan_learns_beyond_popularity_on_real_movielens(tmp_path):
    """1,500 steps of the paper's preset on the real data already rank above most-popular."""
    from gan_jax.training import loop
    from tests.conftest import make_cfg

    cfg = make_cfg(["experiment=cfgan_ml100k", "trainer.steps=1500", "trainer.eval_every=1500",
                    "trainer.log_every=500", "trainer.sample_every=1500", "trainer.progress=false",
                    "trainer.checkpoint_every=1500"])
    summary = loop.train(cfg, tmp_path / "run")
    ours, popular = summary["eval"], summary["eval_reference"]
    assert ours["eval/precision_20"] > popular["eval/precision_20"] + 0.02
    assert ours["eval/ndcg_20"] > popular["eval/ndcg_20"] + 0.02


@pytest.mark.slow
def test_smoke_experiment_selects_on_validation_and_writes_the_table(tmp_path):
    env = {**os.environ, "XLA_FLAGS": os.environ.get("XLA_FLAGS", "").replace(FAST_COMPILE, "").strip()}
    r = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--out", str(tmp_path)], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads((tmp_path / "results.json").read_text())
    cf = result["cfgan"]
    val = {int(k): v for k, v in cf["validation_curve"]["ndcg_20"].items()}
    assert cf["chosen_steps"] == max(val, key=lambda s: np.mean(val[s]))  # chosen on validation
    assert "data.split=validation" in cf["commands"]["tuning"]
    assert "data.split=test" in cf["commands"]["final"]
    assert f"trainer.steps={cf['chosen_steps']}" in cf["commands"]["final"]
    for name, b in result["baselines"].items():
        best = max(b["validation"], key=lambda t: t["ndcg_20"])
        assert b["params"] == best["params"], name  # tuned on validation
        assert 0 < b["test"]["precision_20"] <= 1
    assert len(cf["test"]["precision_20"]["values"]) == 2
    assert "| CFGAN, ours (2 seeds" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "p20_vs_epoch.png").stat().st_size > 0
    again = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--out", str(tmp_path)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0 and again.stdout.count("reusing the completed run") == 2
