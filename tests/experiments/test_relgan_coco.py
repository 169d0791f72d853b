"""The RelGAN COCO study end to end at the smoke budget, on the real captions (tiny models)."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_the_smoke_budget_writes_the_table_and_reuses_its_runs(tmp_path):
    cmd = [sys.executable, str(ROOT / "experiments" / "relgan_coco" / "run.py"), "--budget", "smoke",
           "--out", str(tmp_path)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    results = json.loads((tmp_path / "results_smoke.json").read_text())
    assert set(results["table"]) == {"MLE", "RelGAN(100)", "RelGAN(1000)", "real captions"}
    assert set(results["table"]["MLE"]) == {"0.5", "1.0"}  # the temperature sweep
    row = results["table"]["RelGAN(100)"]["1.0"]
    assert row["bleu5"]["n"] == 2 and 0 <= row["bleu5"]["mean"] <= 1 and row["nll_gen"]["mean"] > 0
    assert "nll_gen" not in results["table"]["real captions"]["1.0"]
    assert "| RelGAN(100) | 1.0 |" in (tmp_path / "results_smoke.md").read_text()
    # MLE is the population at the end of pretraining; RelGAN the same members after it.
    mle = results["per_member"]["MLE"]
    assert {r["step"] for r in mle} == {2} and {r["member"] for r in mle} == {0, 1}
    assert {r["member"] for r in results["per_member"]["RelGAN(1000)"]} == {2, 3}
    assert {r["step"] for r in results["per_member"]["RelGAN(1000)"]} == {4}
    # A second call reuses the completed run and the MLE scores: nothing is trained again.
    r = subprocess.run(cmd + ["--train-only"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and "trained to step" not in r.stdout, r.stdout
