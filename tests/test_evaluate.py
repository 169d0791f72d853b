"""Evaluation during training (`eval/...` in TensorBoard and summary.json) and
`python -m gan_jax.evaluate run_dir=...` on a checkpoint."""

import json
import math

import numpy as np
import pytest

from gan_jax import evaluate
from gan_jax.training.loop import train
from tests.conftest import EVERY_100, TINY_DCGAN, TINY_RING, make_cfg

IMAGE_METRICS = {"fd", "kid", "kid_std", "cs", "precision", "recall", "density", "coverage",
                 "category_kl", "category_coverage"}


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ring")
    summary = train(make_cfg(TINY_RING + EVERY_100 + ["trainer.steps=100", "trainer.progress=false",
                                                      "trainer.eval_samples=400"]), out)
    return out, summary


def test_training_logs_mode_metrics_and_the_real_data_ceiling(ring_run):
    _, summary = ring_run
    assert set(summary["eval"]) == {"eval/modes", "eval/hq", "eval/rkl"}
    real = summary["eval_reference"]
    # Real 2D Gaussian samples lie within 3 std devs with probability 1 - exp(-9/2) = 0.989.
    assert real["eval/modes"] == 8 and abs(real["eval/hq"] - (1 - math.exp(-4.5))) < 0.02
    assert real["eval/rkl"] < 0.05


def test_evaluate_cli_threshold_is_a_setting(ring_run, capsys):
    run_dir, _ = ring_run
    assert evaluate.main([f"run_dir={run_dir}", "eval.mode_threshold=1e6", "samples=300"]) == 0
    wide = json.loads((run_dir / "eval" / "step100_n300.json").read_text())
    assert wide["metrics"]["hq"] == 1.0 and wide["eval_settings"]["mode_threshold"] == 1e6
    out = run_dir / "narrow.json"
    assert evaluate.main([f"run_dir={run_dir}", "eval.mode_threshold=1e-9", f"out={out}"]) == 0
    narrow = json.loads(out.read_text())
    assert narrow["metrics"]["hq"] == 0.0 and narrow["metrics"]["modes"] == 0
    assert "real data: modes=8" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["eval.nonsense=1"], "eval.nonsense is not a setting"),
    (["eval.mode_threshold=-1"], "eval.mode_threshold=-1 must be positive"),
    (["samples=1"], "samples=1 must be at least 2"),
    (["step=7"], "step=7 is not saved"),
])
def test_bad_requests_exit_2_naming_the_setting(ring_run, capsys, argv, message):
    run_dir, _ = ring_run
    assert evaluate.main([f"run_dir={run_dir}", *argv]) == 2
    assert message in capsys.readouterr().err


def test_image_runs_are_scored_in_feature_space(fake_fmnist, tmp_path):
    cfg = make_cfg(TINY_DCGAN + EVERY_100 + [f"data.root={fake_fmnist}", "trainer.steps=100",
                                             "trainer.progress=false", "eval.kid_subset_size=50"])
    summary = train(cfg, tmp_path / "run")
    assert set(summary["eval"]) == {f"eval/{k}" for k in IMAGE_METRICS}
    assert all(np.isfinite(v) for v in summary["eval"].values())
    assert set(summary["eval_reference"]) == set(summary["eval"])
    assert evaluate.main([f"run_dir={tmp_path / 'run'}", "samples=64"]) == 0
    result = json.loads((tmp_path / "run" / "eval" / "step100_n64.json").read_text())
    assert set(result["metrics"]) == IMAGE_METRICS and result["feature_net"]["test_accuracy"] >= 0.93
