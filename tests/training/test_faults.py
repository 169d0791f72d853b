"""Faults: damaged checkpoints, the first non-finite step, log_every changed on resume."""

from __future__ import annotations

import json
import shutil

import jax
import numpy as np
import pytest

from gan_jax.errors import CheckpointError, ConfigError, DivergenceError, UserError
from gan_jax.training import setup as setup_lib
from gan_jax.training.checkpoint import Checkpoints
from gan_jax.training.loop import _check_finite, train
from tests.conftest import EVERY_100, TINY_RING, make_cfg

BASE = TINY_RING + EVERY_100 + ["trainer.progress=false"]


def cfg(steps: int, *extra: str) -> dict:
    return make_cfg(BASE + [f"trainer.steps={steps}", *extra])


def final_state(run_dir, template_cfg):
    ckpt = Checkpoints(run_dir / "checkpoints")
    state = ckpt.restore(setup_lib.build(template_cfg).init_state())
    ckpt.close()
    return state


def assert_same_state(a, b):
    leaves_a, leaves_b = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(leaves_a) == len(leaves_b)
    for x, y in zip(leaves_a, leaves_b):
        assert np.array_equal(np.asarray(x), np.asarray(y))  # bit for bit


def steps_in(run_dir) -> list[int]:
    return sorted(int(p.name) for p in (run_dir / "checkpoints").iterdir() if p.name.isdigit())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A run with checkpoints at steps 100 and 200: copies are damaged; the original is the
    straight run a resumed copy must equal."""
    root = tmp_path_factory.mktemp("runs")
    train(cfg(200), root / "two_checkpoints")
    return root


def largest_array_file(step_dir):
    return max((step_dir / "default").rglob("d/*"), key=lambda p: p.stat().st_size)


def truncate(path, size=10):
    with open(path, "r+b") as f:
        f.truncate(size)


DAMAGE = {  # how a checkpoint folder gets damaged (a full disk, a copy cut short, a stray rm)
    "truncated_array_file": lambda step_dir: truncate(largest_array_file(step_dir)),
    "missing_metadata_file": lambda step_dir: (step_dir / "default" / "_METADATA").unlink(),
    "truncated_manifest": lambda step_dir: truncate(step_dir / "default" / "manifest.ocdbt"),
    "missing_item_folder": lambda step_dir: shutil.rmtree(step_dir / "default"),
}


@pytest.mark.parametrize("how", list(DAMAGE))
def test_resume_passes_over_a_damaged_latest_checkpoint(runs, tmp_path, capsys, caplog, how):
    run = tmp_path / "run"
    shutil.copytree(runs / "two_checkpoints", run)
    DAMAGE[how](run / "checkpoints" / "200")
    damaged_files = sorted(str(p.relative_to(run)) for p in (run / "checkpoints" / "200").rglob("*"))

    # Back at step 200 (where the damaged one was), with keep_checkpoints=1 orbax prunes step 100.
    summary = train(cfg(200, "trainer.resume=true", "trainer.keep_checkpoints=1"), run)

    err = capsys.readouterr().err
    assert "warning: checkpoint step 200 is damaged" in err
    assert f"moved it to {run / 'checkpoints' / 'damaged-200'}" in err
    assert "resumed from step 100, the newest intact checkpoint" in err
    assert "Traceback" not in err and "Event loop is closed" not in err
    assert any("checkpoint step 200 is damaged" in r.message for r in caplog.records)  # logged
    assert summary["status"] == "completed" and summary["step"] == 200
    assert [d["step"] for d in summary["damaged_checkpoints"]] == [200]
    # The damaged files are kept, out of orbax's way: it saved 200 anew and kept only that.
    assert steps_in(run) == [200]
    moved = run / "checkpoints" / "damaged-200"
    assert sorted(str(p.relative_to(run)).replace("damaged-200", "200")
                  for p in moved.rglob("*")) == damaged_files
    # Resumed exactly: the state equals a straight run's.
    assert_same_state(final_state(run, cfg(200)), final_state(runs / "two_checkpoints", cfg(200)))


def test_damage_names_the_file(runs, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(runs / "two_checkpoints", run)
    (run / "checkpoints" / "200" / "default" / "_METADATA").unlink()
    truncate(largest_array_file(run / "checkpoints" / "100"))
    ckpt = Checkpoints(run / "checkpoints")
    template = setup_lib.build(cfg(200)).init_state()
    with pytest.raises(CheckpointError, match=r"step 200 is damaged: .*200/default/_METADATA"):
        ckpt.restore(template)
    with pytest.raises(CheckpointError, match=r"step 100 is damaged: .*100/default: OUT_OF_RANGE: "
                                              r"Error reading \"[\w./]+\""):
        ckpt.restore(template, 100)
    ckpt.close()


def test_no_intact_checkpoint_is_an_error_that_changes_nothing(runs, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(runs / "two_checkpoints", run)
    (run / "checkpoints" / "200" / "default" / "_METADATA").unlink()
    truncate(largest_array_file(run / "checkpoints" / "100"))
    before = {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()}
    with pytest.raises(CheckpointError) as e:
        train(cfg(300, "trainer.resume=true"), run)
    assert isinstance(e.value, UserError) and not isinstance(e.value, ConfigError)
    message = str(e.value)
    assert message.startswith("no intact checkpoint to resume from: checkpoint step 200 is damaged")
    assert "checkpoint step 100 is damaged" in message and "Nothing was changed" in message
    # Nothing was moved, deleted or rewritten (only TensorBoard's new, empty events file appeared).
    assert all(p.exists() and p.stat().st_mtime_ns == t for p, t in before.items())
    assert {p for p in (run / "checkpoints").rglob("*") if p.is_file()} == {
        p for p in before if (run / "checkpoints") in p.parents}


def test_an_intact_checkpoint_of_another_config_is_not_called_damaged(runs, tmp_path):
    ckpt = Checkpoints(runs / "two_checkpoints" / "checkpoints")
    other = setup_lib.build(cfg(200, "model.g_hidden=[16,32]")).init_state()
    with pytest.raises(ConfigError, match=r"does not fit this config: g_opt/0/mu/Dense_0/bias is "
                                          r"saved with shape \(32,\), this config has \(16,\)"):
        ckpt.restore(other)
    ckpt.close()


# --- divergence: the first non-finite step, whatever the chunk length -----------------------------

def test_divergence_names_the_first_bad_step_over_all_metrics():
    nan, inf = float("nan"), float("inf")
    metrics = {"d/loss": np.array([1.0, 1.0, nan, nan]),  # first in the dict, bad from step 3
               "g/loss": np.array([1.0, inf, nan, 1.0]),  # bad from step 2
               "g/grad_norm": np.array([1.0, nan, 1.0, 1.0])}  # bad at step 2 too
    with pytest.raises(DivergenceError, match=r"diverged: g/loss=inf, g/grad_norm=nan at step 12\."):
        _check_finite([metrics], first_step=10)
    _check_finite([{"d/loss": np.ones(4)}], first_step=0)  # finite: no error


def test_divergence_names_the_first_bad_member_of_a_population():
    nan = float("nan")
    members = [{"d/loss": np.array([1.0, 1.0, nan])}, {"d/loss": np.array([1.0, nan, nan])}]
    with pytest.raises(DivergenceError, match=r"diverged: member 1: d/loss=nan at step 2\."):
        _check_finite(members, 0, ["member 0: ", "member 1: "])


def test_a_non_finite_state_is_a_divergence_and_not_saved(tmp_path):
    ckpt = Checkpoints(tmp_path / "checkpoints")
    with pytest.raises(DivergenceError, match="state after step 7 has NaN/inf"):
        ckpt.save(7, {"w": np.array([1.0, np.inf], np.float32)})
    assert ckpt.all_steps() == []
    ckpt.close()


def test_divergence_step_does_not_depend_on_log_every(tmp_path):
    """An absurd learning rate diverges within a few steps; a chunk of 100 steps and chunks of
    one step report the same first bad step and metrics."""
    messages = []
    for every in (100, 1):
        bad = cfg(100, f"trainer.log_every={every}", "trainer.sample_every=100",
                  "trainer.eval_every=100", "trainer.checkpoint_every=100")
        bad["optim"]["lr"] = 1e38
        with pytest.raises(DivergenceError) as e:
            train(bad, tmp_path / f"every_{every}")
        messages.append(str(e.value))
        summary = json.loads((tmp_path / f"every_{every}" / "summary.json").read_text())
        assert summary["status"] == "diverged" and summary["latest_checkpoint"] is None
    assert messages[0] == messages[1]


# --- resume with another log_every (another lax.scan length) --------------------------------------

def test_resume_with_another_log_every_is_bit_identical(runs, tmp_path):
    """Keys come from the step in the state and the scan body is the same program, so the
    chunk length does not change any number."""
    run = tmp_path / "run"
    shutil.copytree(runs / "two_checkpoints", run)
    shutil.rmtree(run / "checkpoints" / "200")  # resume at 100, as if stopped there
    summary = train(cfg(200, "trainer.resume=true", "trainer.log_every=50"), run)
    assert summary["status"] == "completed" and summary["step"] == 200
    assert_same_state(final_state(run, cfg(200)), final_state(runs / "two_checkpoints", cfg(200)))
