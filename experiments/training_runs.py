"""Training runs that studies start, reuse when finished and resume when interrupted."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import time

from experiments.provenance import commit, provenance

ROOT = pathlib.Path(__file__).resolve().parents[1]
PROVENANCE = "provenance.json"  # in a run directory: where the run was trained


def has_checkpoints(run_dir: pathlib.Path) -> bool:
    """Whether run_dir holds a step checkpoint to resume from (not an orbax temporary or a
    quarantined `damaged-<step>` folder)."""
    return any((run_dir / "checkpoints").glob("[0-9]*"))


def stamp(run_dir: pathlib.Path, started_at: str | None = None) -> None:
    """Record, next to a run just trained, the commit, machine and load it was trained with.
    started_at: the commit when its process started, which is the code it ran (HEAD may have
    moved on by the end of a long run); the HEAD at the end when not given."""
    record = provenance()
    if started_at is not None:
        record["commit"] = started_at
    (run_dir / PROVENANCE).write_text(json.dumps(record, indent=2))


def stamped(run_dir: pathlib.Path) -> dict | None:
    """The provenance `stamp` recorded for run_dir (None: trained by code that did not stamp)."""
    path = run_dir / PROVENANCE
    return json.loads(path.read_text()) if path.is_file() else None


def population_overrides(seeds: list[int]) -> list[str]:
    """The `gan_jax.train` overrides that train one population member per seed."""
    if len(seeds) == 1:
        return ["trainer.population=1", f"seed={seeds[0]}"]
    return [f"trainer.population={len(seeds)}", f"seed=[{','.join(map(str, seeds))}]"]


def steps_of(overrides: list[str]) -> int:
    """The `trainer.steps=N` among a study's training overrides."""
    return next(int(o.split("=")[1]) for o in overrides if o.startswith("trainer.steps="))


def train_or_reuse(cmd: list[str], run_dir: pathlib.Path, what: str = "training") -> float | None:
    """Run `cmd` (a `python -m gan_jax.train ... hydra.run.dir=<run_dir>` command) unless
    run_dir already holds a completed run; continue from its checkpoints when it has some.
    The wall seconds of this call's training (None when reused); a run trained here is stamped
    with its provenance. Exits the study with the run's error when training fails."""
    summary = run_dir / "summary.json"
    if summary.is_file() and json.loads(summary.read_text()).get("status") == "completed":
        return None
    resume = ["trainer.resume=true"] if has_checkpoints(run_dir) else []
    if resume:
        print(f"{run_dir}: resuming from its checkpoints", flush=True)
    started_at = commit()
    seconds = run_or_exit(cmd + resume, f"{what} ")
    stamp(run_dir, started_at)
    return seconds


def train_until(cmd: list[str], run_dir: pathlib.Path, steps: int) -> dict:
    """Train run_dir until `steps` with `cmd` (`python -m gan_jax.train ... trainer.steps=<steps>
    hydra.run.dir=<run_dir>`), resuming from its checkpoints, in its own process as a user would
    type it; its summary.json. A run already there and that far is reused: so a study in stages
    (e.g. a text GAN scored at the end of its maximum-likelihood phase, then trained on) trains
    each stage once. The process seconds of every stage add up in process_seconds.txt."""
    summary_path = run_dir / "summary.json"
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        if summary["status"] == "completed" and summary["step"] >= steps:
            return summary
    if has_checkpoints(run_dir):
        cmd = [*cmd, "trainer.resume=true"]
    print(" ".join(cmd[1:]), flush=True)
    started_at = commit()
    wall = run_or_exit(cmd, f"training to step {steps} ")
    stamp(run_dir, started_at)
    print(f"trained to step {steps} in {wall:.0f} s", flush=True)
    seconds = run_dir / "process_seconds.txt"
    before = float(seconds.read_text()) if seconds.is_file() else 0.0
    seconds.write_text(f"{before + wall:.1f}\n")
    return json.loads(summary_path.read_text())


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
    command, timings, the real-data reference, where it was trained (the run's own stamp, so that
    a reused run keeps it) and the `eval/<key>` curve."""
    process_seconds = train_or_reuse(cmd, run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    if summary["step"] != steps:
        sys.exit(f"{run_dir} holds a run of {summary['step']} steps; delete it or pick --out.")
    return {"steps": steps, "command": " ".join(cmd[1:]), "train_seconds": summary["wall_seconds"],
            "steps_per_second": summary["steps_per_second"],
            "process_seconds": process_seconds and round(process_seconds, 1),
            "eval_reference": summary.get("eval_reference"),
            **(stamped(run_dir) or {"commit": None}),
            "curve": read_eval_curve(run_dir / "tb", keys)}
