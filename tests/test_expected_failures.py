"""Expected failures print one readable message, never a traceback: a diverged job of a sweep, a
damaged checkpoint (a lost peer: tests/training/test_peer_loss.py)."""

import json
import shutil

import yaml

from tests.conftest import EVERY_100, TINY_RING
from tests.test_train_cli import run_cli

BASE = [*TINY_RING, *EVERY_100, "trainer.progress=false"]
TINY = [*BASE, "trainer.steps=200"]


def statuses(sweep_dir):
    return [json.loads(p.read_text())["status"] for p in sorted(sweep_dir.glob("*/summary.json"))]


def test_a_diverged_job_of_a_sweep_is_one_line(tmp_path):
    sweep = tmp_path / "sweep"
    r = run_cli("-m", *TINY, "optim.lr=1e38,1e-3", f"hydra.sweep.dir={sweep}")
    assert r.returncode == 1  # Hydra reports the failed job ...
    assert f"error: {sweep / '0'}: training diverged: " in r.stderr  # ... as the job fails
    assert "Traceback" not in r.stderr  # and once more at the end, as one line
    assert statuses(sweep) == ["diverged", "completed"]  # the sweep went on


def test_a_diverged_optuna_trial_fails_and_the_search_goes_on(tmp_path):
    sweep = tmp_path / "sweep"
    # TPE with the search's seed 0 draws both values within 3 trials.
    r = run_cli("-m", "hydra/sweeper=optuna_search", "hydra.sweeper.n_trials=3", *TINY,
                "trainer.objective=eval/hq", "optim.lr=choice(1e38, 1e-3)",
                f"hydra.sweep.dir={sweep}")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert "Failed experiment: " in r.stdout and "training diverged" in r.stdout  # Optuna's log
    assert set(statuses(sweep)) == {"completed", "diverged"}
    best = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert best["best_params"] == {"optim.lr": 1e-3}  # the failed trial is not the best


def test_a_damaged_checkpoint_is_one_line(tmp_path):
    run = tmp_path / "run"
    r = run_cli(*TINY, f"hydra.run.dir={run}")
    assert r.returncode == 0, r.stderr
    (run / "checkpoints" / "200" / "default" / "_METADATA").unlink()
    r = run_cli(*BASE, "trainer.steps=300", "trainer.resume=true", f"hydra.run.dir={run}")
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert (f"warning: checkpoint step 200 is damaged: {run}/checkpoints/200/default/_METADATA: "
            in r.stderr)
    assert "resumed from step 100, the newest intact checkpoint" in r.stderr
    assert "checkpoint step 200 is damaged" in (run / "train.log").read_text()  # logged
    # Nothing intact left: exit 2 with one line, nothing changed.
    shutil.rmtree(run / "checkpoints" / "300" / "default")
    shutil.rmtree(run / "checkpoints" / "200" / "default")
    (run / "checkpoints" / "100" / "default" / "_METADATA").unlink()
    before = sorted(p.name for p in (run / "checkpoints").iterdir())
    r = run_cli(*BASE, "trainer.steps=400", "trainer.resume=true", f"hydra.run.dir={run}")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "error: no intact checkpoint to resume from: checkpoint step 300 is damaged" in r.stderr
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == before
