"""experiments/training_runs.py: a study's run is reused when complete and resumed when cut off."""

from __future__ import annotations

import json
import sys

from experiments.training_runs import learning_curve, train_or_reuse


def ring_command(run_dir, steps: int) -> list[str]:
    return [sys.executable, "-m", "gan_jax.train", "experiment=ring_mlp", "model.g_hidden=[16]",
            "model.d_hidden=[16]", f"trainer.steps={steps}", "trainer.batch_size=32", "trainer.log_every=10",
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


def test_learning_curve_reads_every_evaluation_and_keeps_the_training_commit(tmp_path):
    run_dir = tmp_path / "curve"
    cmd = ring_command(run_dir, 40)
    cmd[cmd.index("trainer.eval_every=1000")] = "trainer.eval_every=20"
    record = learning_curve(cmd, run_dir, 40, ("modes", "hq"))
    assert [r["step"] for r in record["curve"]] == [20, 40]
    assert all(1 <= r["modes"] <= 8 and 0 <= r["hq"] <= 1 for r in record["curve"])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert record["curve"][-1]["hq"] == summary["eval"]["eval/hq"]
    assert record["process_seconds"] > 0 and record["commit"]
    # Reused later (another commit, say): the record still names the run's own provenance.
    (run_dir / "provenance.json").write_text(json.dumps({"commit": "abc123"}))
    again = learning_curve(cmd, run_dir, 40, ("modes", "hq"))
    assert again["commit"] == "abc123" and again["process_seconds"] is None
    assert again["curve"] == record["curve"]


def test_a_run_is_stamped_with_the_commit_it_started_at(tmp_path, monkeypatch):
    # Catches: a long run stamped with the HEAD at its end, a commit whose code it never ran.
    import experiments.training_runs as training_runs
    from experiments import provenance
    monkeypatch.setattr(training_runs, "commit", lambda: "started-here")
    monkeypatch.setattr(provenance, "commit", lambda: "moved-on")
    run_dir = tmp_path / "run"
    training_runs.train_until(ring_command(run_dir, 10), run_dir, 10)
    assert json.loads((run_dir / "provenance.json").read_text())["commit"] == "started-here"
