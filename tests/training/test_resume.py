"""Stopping and resuming gives bit-identical parameters to an uninterrupted run."""

import json

import jax
import numpy as np
import pytest

from gan_jax.errors import ConfigError
from gan_jax.training import setup as setup_lib
from gan_jax.training.checkpoint import Checkpoints
from gan_jax.training.loop import train
from tests.conftest import SCHEDULE, TINY_DCGAN, TINY_RING, make_cfg


def final_state(cfg, run_dir):
    template = setup_lib.build(cfg).init_state()
    ckpt = Checkpoints(run_dir / "checkpoints")
    state = ckpt.restore(template)
    ckpt.close()
    return state


# Mitigations with state of their own (LeCam anchors, spectral-norm vectors, a step schedule).
STATEFUL = ["mitigation=[lecam,spectral_norm,instance_noise]"]


@pytest.mark.parametrize("model", ["ring", "ring_stateful_mitigations",
                                   pytest.param("dcgan", marks=pytest.mark.slow)])
def test_resume_is_bit_identical(tmp_path, fake_fmnist, model):
    base = {"ring": TINY_RING, "ring_stateful_mitigations": TINY_RING + STATEFUL,
            "dcgan": TINY_DCGAN + [f"data.root={fake_fmnist}"]}[model] + SCHEDULE
    straight = make_cfg(base + ["trainer.steps=2000"])
    train(straight, tmp_path / "straight")

    train(make_cfg(base + ["trainer.steps=1000"]), tmp_path / "split")
    summary = train(make_cfg(base + ["trainer.steps=2000", "trainer.resume=true"]), tmp_path / "split")
    assert summary["status"] == "completed" and summary["step"] == 2000

    a, b = final_state(straight, tmp_path / "straight"), final_state(straight, tmp_path / "split")
    assert int(a.step) == int(b.step) == 2000
    leaves_a, leaves_b = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(leaves_a) == len(leaves_b)
    for x, y in zip(leaves_a, leaves_b):
        assert np.array_equal(np.asarray(x), np.asarray(y))  # bit for bit
    # Only the last keep_checkpoints=3 survive.
    assert sorted(int(p.name) for p in (tmp_path / "split" / "checkpoints").iterdir()
                  if p.name.isdigit()) == [1000, 1500, 2000]


def test_run_directory_is_protected(tmp_path):
    cfg = make_cfg(TINY_RING + SCHEDULE + ["trainer.steps=250", "trainer.checkpoint_every=250"])
    train(cfg, tmp_path / "run")
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "run").rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match="trainer.resume=true"):
        train(cfg, tmp_path / "run")  # would overwrite: refused
    changed = make_cfg(TINY_RING + SCHEDULE + ["trainer.steps=500", "trainer.resume=true",
                                                "optim.lr=0.1"])
    with pytest.raises(ConfigError, match="optim"):
        train(changed, tmp_path / "run")  # resume with other hyperparameters: refused
    after = {p: p.stat().st_mtime_ns for p in (tmp_path / "run").rglob("*") if p.is_file()}
    assert before == after
    with pytest.raises(ConfigError, match="no checkpoint"):
        train(make_cfg(TINY_RING + SCHEDULE + ["trainer.resume=true"]), tmp_path / "empty")


def test_summary_and_outputs(tmp_path):
    cfg = make_cfg(TINY_RING + SCHEDULE + ["trainer.steps=500"])
    summary = train(cfg, tmp_path / "run")
    on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert on_disk == summary and summary["status"] == "completed"
    assert set(summary["eval"]) == {"eval/modes", "eval/hq", "eval/rkl"}
    assert (tmp_path / "run" / "samples.png").is_file()
    assert list((tmp_path / "run" / "tb").glob("events.out.tfevents.*"))
    assert json.loads((tmp_path / "run" / "config.json").read_text()) == cfg
