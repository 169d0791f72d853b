"""experiments/stacked_fashion: the aggregation on hand-made numbers, and a smoke run end to end."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys

import pytest

from tests.conftest import ROOT

EXPERIMENT = ROOT / "experiments" / "stacked_fashion"


def load(name: str):
    """A module of the experiment folder (a script folder, not a package)."""
    path = EXPERIMENT / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"stacked_fashion_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def summary(modes: list[float], kls: list[float]) -> dict:
    """A population run's summary.json as gan_jax.training.loop writes it."""
    return {"status": "completed", "step": 100, "wall_seconds": 12.5,
            "eval_reference": {"eval/modes": 900.0, "eval/kl": 0.4, "eval/other": 1.0},
            "members": [{"member": i, "hparams": {"seed": 10 + i}, "metrics": {},
                         "eval": {"eval/modes": m, "eval/kl": k}}
                        for i, (m, k) in enumerate(zip(modes, kls))]}


def test_mean_and_standard_error():
    aggregate = load("aggregate")
    # mean 4, sample std sqrt(((2-4)^2 + 0 + (6-4)^2) / 2) = 2, s.e. 2 / sqrt(3)
    assert aggregate.mean_se([2.0, 4.0, 6.0]) == pytest.approx(
        {"mean": 4.0, "se": 2 / math.sqrt(3), "n": 3})
    assert aggregate.mean_se([5.0]) == {"mean": 5.0, "se": None, "n": 1}
    with pytest.raises(ValueError):
        aggregate.mean_se([])


def test_method_result_and_table_from_summaries():
    aggregate = load("aggregate")
    r = aggregate.method_result(summary([100, 200], [4.0, 3.0]), wall_seconds=60.0)
    assert r["seeds"] == [10, 11] and r["per_seed"]["eval/modes"] == [100, 200]
    assert r["eval/modes"]["mean"] == 150 and r["eval/modes"]["se"] == pytest.approx(50)
    assert r["eval/kl"]["mean"] == 3.5 and r["eval/kl"]["se"] == pytest.approx(0.5)
    assert r["reference"] == {"eval/modes": 900.0, "eval/kl": 0.4}
    table = aggregate.markdown_table({"methods": {"DCGAN": r}})
    assert "| DCGAN | 2 | 150.0 ± 50.0 | 3.50 ± 0.50 | 100/4.00 200/3.00 | 60 s |" in table
    assert "| real stacked data (ceiling) | - | 900 | 0.40 |" in table
    with pytest.raises(ValueError, match="diverged"):
        aggregate.method_result({**summary([1], [1]), "status": "diverged"})


@pytest.mark.slow
def test_smoke_budget_end_to_end(tmp_path):
    """Every method trains a 2-seed population for 20 steps; results, table and plots appear."""
    proc = subprocess.run([sys.executable, str(EXPERIMENT / "run.py"), "--budget", "smoke",
                           "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((tmp_path / "results_smoke.json").read_text())
    assert results["steps"] == 20 and results["eval_samples"] == 200
    assert 0.5 < results["classifier"]["test_accuracy"] <= 1.0
    assert set(results["methods"]) == {"DCGAN", "PacDCGAN2", "Unrolled GAN (k=1)",
                                       "DCGAN + minibatch std"}
    for r in results["methods"].values():
        assert r["seeds"] == [0, 1] and r["steps"] == 20
        assert all(1 <= m <= 200 for m in r["per_seed"]["eval/modes"])  # at most one per sample
        assert all(k >= 0 for k in r["per_seed"]["eval/kl"])
        assert 1 <= r["reference"]["eval/modes"] <= 200
    assert "real stacked data (ceiling)" in (tmp_path / "results_smoke.md").read_text()
    for png in ("modes_smoke.png", "samples_smoke.png"):
        assert (tmp_path / png).stat().st_size > 1000
    assert "warning" not in proc.stdout  # recomputed histograms agree with summary.json
