"""experiments/timegan_sines: the table on hand-made numbers, and a smoke run end to end."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "experiments" / "timegan_sines" / "run.py"


def load():
    spec = importlib.util.spec_from_file_location("timegan_sines_run", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seeds_give_mean_and_sample_sd_and_repeats_average():
    run = load()
    # mean 4, sample sd sqrt((4 + 0 + 4) / 2) = 2; one value has no sd
    assert run.mean_sd([2.0, 4.0, 6.0]) == {"mean": 4.0, "sd": 2.0, "n": 3}
    assert run.mean_sd([5.0]) == {"mean": 5.0, "sd": None, "n": 1}
    seen = []
    averaged = run.repeated(lambda s: seen.append(s) or {"a": float(s)}, 4)
    assert seen == [0, 1, 2, 3] and averaged == {"a": 1.5}


def test_the_table_puts_the_paper_beside_ours():
    run = load()
    row = {k: run.mean_sd([0.1, 0.3]) for k in run.SCORES}
    results = {"budget": "cpu", "seeds": [0, 1], "repeats": 5, "samples": 100,
               "table": {"TimeGAN": row, "real data": {k: run.mean_sd([0.05]) for k in run.SCORES}},
               "models": {"TimeGAN": {"process_seconds": 10.0, "steps_per_second": 2.0}}}
    md = run.markdown(results)
    assert ("| TimeGAN | 0.011 | 0.200 +- 0.141 | 0.200 +- 0.141 | 0.093 | 0.200 +- 0.141 | "
            "0.200 +- 0.141 |") in md
    assert "| real data | - | 0.050 | 0.050 | 0.094 | 0.050 | 0.050 |" in md


@pytest.mark.slow
def test_smoke_budget_end_to_end_and_reuse(tmp_path):
    cmd = [sys.executable, str(SCRIPT), "--budget", "smoke", "--out", str(tmp_path)]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    results = json.loads((tmp_path / "results_smoke.json").read_text())
    assert set(results["table"]) == {"TimeGAN", "RCGAN", "real data"}
    for name in ("TimeGAN", "RCGAN"):
        assert results["table"][name]["discriminative"]["n"] == 2
        assert 0 <= results["table"][name]["discriminative"]["mean"] <= 0.5
    # A second call reuses the completed runs: nothing is trained again.
    r = subprocess.run([*cmd, "--train-only"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0 and "trained in" not in r.stdout
