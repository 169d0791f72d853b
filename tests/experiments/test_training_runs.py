"""experiments/training_runs.py: a study's run is reused when complete and resumed when cut off."""

from __future__ import annotations

import json
import sys

from experiments.training_runs import train_or_reuse


def ring_command(run_dir, steps: int) -> list[str]:
    return [sys.executable, "-m", "gan_jax.train", "experiment=ring_mlp", "model.g_hidden=[16]", "model.d_hidden=[16]",
            f"trainer.steps={steps}", "trainer.batch_size=32", "trainer.log_every=10",
            "trainer.checkpoint_every=10", "trainer.sample_every=1000", "trainer.eval_every=1000",
            "trainer.progress=false", f"hydra.run.dir={run_dir}"]


def test_cut_off_run_resumes_to_the_straight_result_and_a_complete_one_is_reused(tmp_path, capsys):
    straight, cut = tmp_path / "straight", tmp_path / "cut"
    assert train_or_reuse(ring_command(straight, 30), straight) > 0

    # A run killed after its step-20 checkpoint: checkpoints on disk, no completed summary.
    train_or_reuse(ring_command(cut, 20), cut)
    (cut / "summary.json").unlink()
    capsys.readouterr()
    assert train_or_reuse(ring_command(cut, 30), cut) > 0
    assert "resuming from its checkpoints" in capsys.readouterr().out
    resumed = json.loads((cut / "summary.json").read_text())
    assert resumed["status"] == "completed" and resumed["step"] == 30
    # Exact resumption: the last step's losses equal the uninterrupted run's, bit for bit.
    assert resumed["metrics"] and (
        resumed["metrics"] == json.loads((straight / "summary.json").read_text())["metrics"])

    # Complete: nothing runs again (None), and the summary is untouched.
    before = (cut / "summary.json").read_text()
    assert train_or_reuse(ring_command(cut, 30), cut) is None
    assert (cut / "summary.json").read_text() == before
