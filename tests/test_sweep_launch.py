"""Sweeps launched as a user launches them: the submitit launcher and the Optuna sweeper."""

import json

import yaml

from tests.conftest import EVERY_100, TINY_RING
from tests.test_train_cli import run_cli

TINY = [*TINY_RING, *EVERY_100, "trainer.steps=200", "trainer.progress=false"]


def summaries(sweep_dir):
    return [json.loads(p.read_text()) for p in sorted(sweep_dir.glob("*/summary.json"))]


def test_submitit_local_launcher_runs_each_job_in_its_own_process(tmp_path):
    sweep_dir = tmp_path / "sweep"
    r = run_cli("-m", "hydra/launcher=submitit_local", *TINY, "seed=0,1",
                f"hydra.sweep.dir={sweep_dir}")
    assert r.returncode == 0, r.stderr
    done = summaries(sweep_dir)
    assert [s["status"] for s in done] == ["completed", "completed"]
    assert (sweep_dir / ".submitit").is_dir()  # the jobs went through submitit


def test_optuna_search_returns_the_best_trial(tmp_path):
    sweep_dir = tmp_path / "sweep"
    r = run_cli("-m", "hydra/sweeper=optuna_search", "hydra.sweeper.n_trials=4", *TINY,
                "trainer.objective=eval/hq", "optim.lr=tag(log, interval(1e-4, 1e-2))",
                f"hydra.sweep.dir={sweep_dir}")
    assert r.returncode == 0, r.stderr
    done = summaries(sweep_dir)
    assert len(done) == 4 and all(s["status"] == "completed" for s in done)
    lrs = {json.loads(p.read_text())["optim"]["lr"] for p in sweep_dir.glob("*/config.json")}
    assert len(lrs) == 4 and all(1e-4 <= lr <= 1e-2 for lr in lrs)
    best = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    assert best["best_value"] == max(s["eval"]["eval/hq"] for s in done)
    assert set(best["best_params"]) == {"optim.lr"}


def test_a_diverged_job_fails_without_ending_the_sweep(tmp_path):
    sweep_dir = tmp_path / "sweep"
    r = run_cli("-m", *TINY, "optim.lr=1e38,1e-3",
                f"hydra.sweep.dir={sweep_dir}")
    assert r.returncode == 1 and "training diverged" in r.stderr  # Hydra reports the failed job
    assert [s["status"] for s in summaries(sweep_dir)] == ["diverged", "completed"]
