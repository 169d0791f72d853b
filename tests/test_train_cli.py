"""The entry point as a user runs it: bad input fails fast, readably, with a non-zero exit."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import EVERY_100, FAST_COMPILE, ROOT, TINY_RING


def run_cli(*overrides, cwd=ROOT, optimized=False):
    """`python -m gan_jax.train` in a subprocess; `optimized` compiles as a user would (slower to
    compile, faster to run: for runs of thousands of steps)."""
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    if optimized:
        env["XLA_FLAGS"] = env.get("XLA_FLAGS", "").replace(FAST_COMPILE, "").strip()
    return subprocess.run([sys.executable, "-m", "gan_jax.train", *overrides], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("override, message", [
    ("optim.lr=-1", "optim.lr=-1 must be positive"),
    ("trainer.batch_size=0", "trainer.batch_size=0 must be positive"),
    ("optim.beta1=1.5", "optim.beta1=1.5 must lie in [0, 1)"),
    ("trainer.checkpoint_every=150", "trainer.checkpoint_every=150 must be a multiple of trainer.log_every"),
    ("optim.lr=fast", "optim.lr='fast' must be a number"),
    ("model.g_hidden=[0,32]", "model.g_hidden=[0, 32] has [0]: each value must be positive"),
])
def test_invalid_values_exit_2_naming_the_setting(tmp_path, override, message):
    r = run_cli(*TINY_RING, override, f"hydra.run.dir={tmp_path / 'run'}")
    assert r.returncode == 2, r.stderr
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "run").exists()  # no run directory, .hydra/ or train.log left behind


def test_a_refused_multirun_job_leaves_no_directory(tmp_path):
    r = run_cli("-m", *TINY_RING, "data.num_points=0,-1", f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert r.returncode != 0 and "data.num_points=0 must be positive" in r.stderr
    assert not (tmp_path / "sweep" / "0").exists()


@pytest.mark.parametrize("override, message", [
    ("data=imagenet", "Could not find 'data/imagenet'"),
    ("optim.lrr=1", "Key 'lrr' is not in struct"),
])
def test_unknown_options_are_rejected_by_hydra(tmp_path, override, message):
    r = run_cli(override, f"hydra.run.dir={tmp_path / 'run'}")
    assert r.returncode != 0 and message in r.stderr


def test_trains_and_refuses_to_overwrite(tmp_path):
    run_dir = tmp_path / "run"
    base = [*TINY_RING, *EVERY_100, f"hydra.run.dir={run_dir}"]
    common = [*base, "trainer.steps=200"]
    r = run_cli(*common)
    assert r.returncode == 0, r.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["step"] == 200
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    recorded = {p.name: p.read_bytes() for p in (run_dir / ".hydra").iterdir()}
    r = run_cli(*common)
    assert r.returncode == 2 and "trainer.resume=true" in r.stderr
    r = run_cli(*base, "trainer.steps=300", "trainer.resume=true", "optim.lr=1e-3")
    assert r.returncode == 2 and "cannot resume" in r.stderr
    # Refused: the run's recorded config still matches its checkpoints.
    assert {p.name: p.read_bytes() for p in (run_dir / ".hydra").iterdir()} == recorded
    r = run_cli(*base, "trainer.steps=300", "trainer.resume=true")
    assert r.returncode == 0, r.stderr
    assert json.loads((run_dir / "summary.json").read_text())["step"] == 300


def hparams_of(tb_dir) -> dict:
    """The HParams dashboard's view of one run: its session's hyperparameters."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2
    events = EventAccumulator(str(tb_dir))
    events.Reload()
    content = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    info = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    return {k: v.string_value or v.number_value for k, v in info.hparams.items()}


def test_multirun_over_loss_and_mitigation_gives_one_tensorboard_run_each(tmp_path):
    sweep_dir = tmp_path / "sweep"
    grid = [o.replace("data=ring", "data=grid") for o in TINY_RING]
    r = run_cli("-m", *grid, *EVERY_100, "trainer.steps=100", "loss=non_saturating,hinge",
                "mitigation=[],[pacgan,r1]", f"hydra.sweep.dir={sweep_dir}")
    assert r.returncode == 0, r.stderr
    summaries = sorted(sweep_dir.glob("*/summary.json"))
    assert len(summaries) == 4
    assert all(json.loads(s.read_text())["status"] == "completed" for s in summaries)
    combos = {(h["loss.name"], h["mitigations"]) for h in (hparams_of(s.parent / "tb") for s in summaries)}
    assert combos == {(loss, m) for loss in ("non_saturating", "hinge") for m in ("none", "pacgan+r1")}
