"""Training runs that studies start, reuse when finished and resume when interrupted."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def train_or_reuse(cmd: list[str], run_dir: pathlib.Path, what: str = "training") -> None:
    """Run `cmd` (a `python -m gan_jax.train ... hydra.run.dir=<run_dir>` command) unless
    run_dir already holds a completed run; continue from its checkpoints when it has some.
    Exits the study with the run's error when training fails."""
    summary = run_dir / "summary.json"
    if summary.is_file() and json.loads(summary.read_text()).get("status") == "completed":
        return
    resume = ["trainer.resume=true"] if (run_dir / "checkpoints").is_dir() else []
    run_or_exit(cmd + resume, f"{what} ")


def run_or_exit(cmd: list[str], what: str = "") -> float:
    """Run a study's command from the repository root; its wall seconds, or exit the study with
    the command's error output when it fails (`what`, e.g. "training ", starts the message)."""
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"{what}failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    return time.perf_counter() - start
