"""Training runs that studies start, reuse when finished and resume when interrupted."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def train_or_reuse(cmd: list[str], run_dir: pathlib.Path, what: str = "training") -> float | None:
    """Run `cmd` (a `python -m gan_jax.train ... hydra.run.dir=<run_dir>` command) unless
    run_dir already holds a completed run; continue from its checkpoints when it has some.
    The wall seconds of this call's training (None when reused). Exits the study with the run's
    error when training fails."""
    summary = run_dir / "summary.json"
    if summary.is_file() and json.loads(summary.read_text()).get("status") == "completed":
        return None
    resume = ["trainer.resume=true"] if any((run_dir / "checkpoints").glob("[0-9]*")) else []
    if resume:
        print(f"{run_dir}: resuming from its checkpoints", flush=True)
    return run_or_exit(cmd + resume, f"{what} ")


def run_or_exit(cmd: list[str], what: str = "") -> float:
    """Run a study's command from the repository root; its wall seconds, or exit the study with
    the command's error output when it fails (`what`, e.g. "training ", starts the message)."""
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"{what}failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    return time.perf_counter() - start


def read_eval_curve(tb_dir: pathlib.Path, keys: tuple[str, ...]) -> list[dict]:
    """[{"step": s, key: value, ...}, ...] from a run's `eval/<key>` TensorBoard scalars, by step."""
    from tensorboard.backend.event_processing.event_accumulator import (  # noqa: PLC0415
        EventAccumulator)

    acc = EventAccumulator(str(tb_dir), size_guidance={"scalars": 0})
    acc.Reload()
    rows: dict[int, dict] = {}
    for k in keys:
        for e in acc.Scalars(f"eval/{k}"):
            rows.setdefault(e.step, {"step": e.step})[k] = e.value
    return [rows[s] for s in sorted(rows)]


def learning_curve(cmd: list[str], run_dir: pathlib.Path, steps: int, keys: tuple[str, ...]) -> dict:
    """Train (or reuse, or resume) the one-seed run of a study's learning curve; its record: the
    command, timings, the real-data reference, where it was trained (provenance, kept in the run
    directory so that a reused run keeps its own) and the `eval/<key>` curve."""
    from experiments.provenance import provenance  # noqa: PLC0415

    process_seconds = train_or_reuse(cmd, run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    if summary["step"] != steps:
        sys.exit(f"{run_dir} holds a run of {summary['step']} steps; delete it or pick --out.")
    trained_by = run_dir / "provenance.json"
    if process_seconds is not None:
        trained_by.write_text(json.dumps(provenance(), indent=2))
    return {"steps": steps, "command": " ".join(cmd[1:]), "train_seconds": summary["wall_seconds"],
            "steps_per_second": summary["steps_per_second"],
            "process_seconds": process_seconds and round(process_seconds, 1),
            "eval_reference": summary.get("eval_reference"),
            **(json.loads(trained_by.read_text()) if trained_by.is_file() else {"commit": None}),
            "curve": read_eval_curve(run_dir / "tb", keys)}
