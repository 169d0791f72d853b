"""experiments/pacgan_2d/run.py: the table's aggregation, and a tiny end-to-end run (slow)."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from experiments.pacgan_2d import run
from tests.conftest import FAST_COMPILE, ROOT

SCRIPT = ROOT / "experiments" / "pacgan_2d" / "run.py"


def member(modes, hq, rkl):
    return {"eval/modes": modes, "eval/hq": hq, "eval/rkl": rkl}


def test_mean_and_standard_error_per_method():
    evals = {"ring": {"GAN": [member(6, 0.90, 0.5), member(8, 1.00, 0.1)],
                      "PacGAN2": [member(8, 0.95, 0.2), member(8, 0.95, 0.2), member(7, 0.5, 0.3)]}}
    table = run.aggregate(evals)
    gan = table["ring"]["GAN"]
    assert gan["modes"]["mean"] == 7.0 and math.isclose(gan["modes"]["se"], 1.0)  # std sqrt(2) / sqrt(2)
    assert math.isclose(gan["hq"]["mean"], 0.95) and math.isclose(gan["hq"]["se"], 0.05)
    pac = table["ring"]["PacGAN2"]["rkl"]
    assert math.isclose(pac["mean"], 0.7 / 3) and pac["undefined"] == 0
    assert math.isclose(pac["se"], math.sqrt(((0.2 - 0.7 / 3) ** 2 * 2 + (0.3 - 0.7 / 3) ** 2) / 2 / 3))


def test_undefined_rkl_is_left_out_and_counted():
    stat = run.mean_se([0.4, float("inf"), 0.2])
    assert math.isclose(stat["mean"], 0.3) and stat["undefined"] == 1 and stat["values"][1] is None
    assert run.mean_se([float("inf")])["mean"] is None
    assert run.mean_se([5.0]) == {"mean": 5.0, "se": 0.0, "undefined": 0, "values": [5.0]}


def test_markdown_has_one_row_per_method():
    evals = {d: {m: [member(8, 0.5, 0.1), member(6, 0.7, float("inf"))] for m in run.METHODS.values()}
             for d in ("ring", "grid")}
    text = run.markdown(run.aggregate(evals))
    assert "| Ring modes | Ring HQ | Ring rKL | Grid modes |" in text
    assert "| PacGAN4 | 7.0±1.0 | 60.0±10.0% | 0.10±0.00 (1 undef.) |" in text


def test_markdown_marks_runs_not_done_yet():
    evals = {"ring": {"GAN": [member(8, 0.9, 0.1), member(7, 0.8, 0.2)]}}
    text = run.markdown(run.aggregate(evals), ["ring", "grid"])
    assert "| GAN | 7.5±0.5 | 85.0±5.0% | 0.15±0.05 | not run yet | not run yet | not run yet |" in text
    assert "| PacGAN2 | not run yet |" in text


def test_overrides_pack_100_inputs_per_batch(tmp_path):
    args = run.overrides("grid", 3, run.Budget(steps={"grid": 500}, seeds={"grid": 3}), tmp_path)
    assert "trainer.batch_size=300" in args and "mitigation.pacgan.m=3" in args
    assert "trainer.steps=500" in args
    assert "seed=[0,1,2]" in args and "trainer.population=3" in args
    assert not any(a.startswith("mitigation") for a in run.overrides("grid", 1, run.BUDGETS["cpu"], tmp_path))


RING = np.stack([np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)], 1)


def test_the_studys_mode_metrics_on_samples_with_known_answers():
    # Catches an inverted or mis-scaled high-quality test (distance vs threshold * std), modes
    # counted without a high-quality sample, and a reverse KL of the wrong direction or base:
    # every mode hit equally -> (8, 1, 0); one mode -> (1, 1, log 8); half the samples 4 std
    # off, the rest on 4 modes -> (4, 0.5, log 2); nothing within 3 std -> hq 0, rKL undefined.
    from gan_jax.metrics.mixtures import mode_metrics
    from experiments.pacgan_2d.plots import mode_counts
    std = 0.01
    every = np.repeat(RING, 10, axis=0) + 2 * std * np.array([1.0, 0.0]) / np.sqrt(2)
    assert mode_metrics(every, RING, std) == pytest.approx({"modes": 8, "hq": 1, "rkl": 0}, abs=1e-6)
    one = np.repeat(RING[:1], 50, axis=0)
    assert mode_metrics(one, RING, std) == pytest.approx({"modes": 1, "hq": 1, "rkl": math.log(8)}, rel=1e-5)
    off = RING * (1 + 4 * std)  # 4 std outside every mode
    half = np.concatenate([np.repeat(RING[:4], 2, axis=0), np.repeat(off, 1, axis=0)])
    assert mode_metrics(half, RING, std) == pytest.approx({"modes": 4, "hq": 0.5, "rkl": math.log(2)},
                                                          rel=1e-5)
    none = mode_metrics(off, RING, std)
    assert none["hq"] == 0 and none["modes"] == 0 and none["rkl"] == float("inf")
    # The study's figures count the same high-quality samples per mode.
    assert mode_counts(half, RING, std, 3.0).tolist() == [2, 2, 2, 2, 0, 0, 0, 0]


def hq_by_hand(samples: np.ndarray, std: float = 0.01, threshold: float = 3.0) -> float:
    d = np.linalg.norm(samples[:, None] - RING[None], axis=-1).min(1)
    return float((d < threshold * std).mean())


@pytest.mark.slow
def test_smoke_budget_writes_the_table(tmp_path):
    env = {**os.environ, "XLA_FLAGS": os.environ.get("XLA_FLAGS", "").replace(FAST_COMPILE, "").strip()}
    r = subprocess.run([sys.executable, str(SCRIPT), "--budget", "smoke", "--out", str(tmp_path / "runs"),
                        "--results", str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads((tmp_path / "results_smoke.json").read_text())
    assert result["threshold_std"] == 3.0 and result["seeds"] == {"ring": 2}
    ring = result["table"]["ring"]
    assert list(ring) == ["GAN", "PacGAN2", "PacGAN3", "PacGAN4"]
    for stats in ring.values():
        assert 0 <= stats["modes"]["mean"] <= 8 and 0 <= stats["hq"]["mean"] <= 1
        assert all(math.isfinite(stats[k]["se"]) for k in ("modes", "hq"))
        for rkl, hq in zip(stats["rkl"]["values"], stats["hq"]["values"]):
            assert (rkl is None) == (hq == 0) and (rkl is None or 0 <= rkl <= math.log(8) + 1e-6)
    assert "| PacGAN4 |" in (tmp_path / "results_smoke.md").read_text()
    assert (tmp_path / "results_smoke_samples.png").stat().st_size > 0
    record = json.loads((tmp_path / "results_cache" / "smoke" / "ring_m2.json").read_text())
    assert record["commit"] and record["machine"]["cpu_count"] and record["process_seconds"] > 0
    assert len(record["members"]) == 2 and len(record["samples_seed0"]) == 2500
    # Catches a table whose HQ is not the fraction of the generator's samples within 3 std of a
    # mode: 2500 fresh samples of seed 0, scored here by hand, agree with its recorded final HQ
    # (two draws of 2500 from one generator: s.e. of the difference at most 0.015).
    final_hq = record["members"][0]["eval"]["eval/hq"]
    assert abs(hq_by_hand(np.asarray(record["samples_seed0"])) - final_hq) < 0.05
    assert record["members"][0]["curve"][-1][0] == 200  # [step, modes, hq, rkl] at the end
    # A second call trains nothing: every run comes from the cache.
    r = subprocess.run([sys.executable, str(SCRIPT), "--budget", "smoke", "--out", str(tmp_path / "none"),
                        "--results", str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and r.stdout.count("reusing") == 4 and not (tmp_path / "none").exists()
