"""NaN/inf is detected, reported, and never checkpointed."""

import json

import pytest

from gan_jax.errors import DivergenceError
from gan_jax.training.loop import train
from tests.conftest import SCHEDULE, TINY_RING, make_cfg


def test_divergence_stops_without_checkpointing(tmp_path):
    run = tmp_path / "run"
    good = make_cfg(TINY_RING + SCHEDULE + ["trainer.steps=500"])
    train(good, run)
    ckpt_before = sorted(p.name for p in (run / "checkpoints").iterdir())
    # An absurd learning rate drives the weights to inf within a chunk: the resumed run must stop.
    bad = make_cfg(TINY_RING + SCHEDULE + ["trainer.steps=1000", "trainer.resume=true"])
    bad["optim"]["lr"] = 1e38  # only trainer.* may change on resume; bypass that check here
    (run / "config.json").write_text(json.dumps(bad))
    with pytest.raises(DivergenceError, match="diverged"):
        train(bad, run)
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ckpt_before
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "diverged" and summary["latest_checkpoint"] == 500
