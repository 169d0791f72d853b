"""The ring target: the non-saturating MLP GAN puts >= 80% of 2500 samples within 3 std of a mode."""

import json

import pytest

from tests.test_train_cli import run_cli

pytestmark = pytest.mark.slow


def test_ring_mlp_reaches_high_quality_samples(tmp_path):
    r = run_cli("experiment=ring_mlp", "trainer.progress=false", f"hydra.run.dir={tmp_path / 'run'}",
                optimized=True)
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["step"] == 20000
    assert summary["eval"]["eval/hq"] >= 0.8
    assert summary["eval"]["eval/modes"] >= 1
