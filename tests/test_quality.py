"""The ring target: the non-saturating MLP GAN puts >= 80% of 2500 samples within 3 std of a mode.

GAN training is chaotic: one seed's final value moves with the CPU's floating-point code paths
(seed 0 gave 0.99 on one CI machine and 0.63 on another). Three seeds trained as one population
and the median member judged make the target a property of the recipe rather than of one run.
"""

import json
import statistics

import pytest

from tests.test_train_cli import run_cli

pytestmark = pytest.mark.slow


def test_ring_mlp_reaches_high_quality_samples(tmp_path):
    r = run_cli("experiment=ring_mlp", "trainer.progress=false", "trainer.population=3", "seed=[0,1,2]",
                f"hydra.run.dir={tmp_path / 'run'}", optimized=True)
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["step"] == 20000
    hq = [m["eval"]["eval/hq"] for m in summary["members"]]
    assert statistics.median(hq) >= 0.8, hq
    assert all(m["eval"]["eval/modes"] >= 1 for m in summary["members"])
