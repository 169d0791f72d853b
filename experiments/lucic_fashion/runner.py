"""Train one group of trials as one population run, in this process, through gan_jax's loop.

A member that produces NaN/inf stops the whole population run (`DivergenceError` names it). That
member is recorded as diverged and the others are trained again without it, in a new directory:
members are independent, so the survivors train as they would have (up to float rounding).

A run directory that already holds a finished run (completed or diverged) is read, not trained
again, and one with checkpoints but no end (a study cut off by a session's end) is resumed from
its last checkpoint, so a budget can be spread over several sessions.
"""

from __future__ import annotations

import json
import math
import pathlib
import re
import shlex
import time
from typing import Callable

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from experiments.lucic_fashion.search import population_overrides
from experiments.training_runs import has_checkpoints, stamp, stamped
from gan_jax.errors import DivergenceError

ROOT = pathlib.Path(__file__).resolve().parents[2]
MEMBER = re.compile(r"population member (\d+)")


def make_cfg(overrides: list[str]) -> dict:
    """The config `python -m gan_jax.train <overrides>` would train (a plain dict)."""
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        return OmegaConf.to_container(compose("config", overrides=list(overrides)), resolve=True)


def command(overrides: list[str], run_dir: pathlib.Path) -> str:
    """The shell command that trains the same run on its own."""
    args = " ".join(shlex.quote(o) for o in [*overrides, f"hydra.run.dir={run_dir}"])
    return f"python -m gan_jax.train {args}"


def _default_train(cfg: dict, run_dir: pathlib.Path) -> dict:
    from gan_jax.training.loop import train  # noqa: PLC0415 (JAX only when training)

    return train(cfg, run_dir)


FINISHED = ("completed", "diverged")


def _train(overrides: list[str], run_dir: pathlib.Path, train_fn: Callable) -> dict:
    """summary.json of the run; a diverged run's summary too (status `diverged`). A finished run
    is read back; a cut-off one continues from its last checkpoint."""
    path = run_dir / "summary.json"
    if path.is_file() and json.loads(path.read_text()).get("status") in FINISHED:
        return json.loads(path.read_text())
    if has_checkpoints(run_dir):
        overrides = [*overrides, "trainer.resume=true"]
    try:
        summary = train_fn(make_cfg(overrides), run_dir)
        stamp(run_dir)
        return summary
    except DivergenceError as e:
        path = run_dir / "summary.json"
        return json.loads(path.read_text()) if path.is_file() else {"status": "diverged",
                                                                     "error": str(e)}


def _fd(evals: dict) -> float | None:
    fd = evals.get("eval/fd")
    return fd if fd is not None and math.isfinite(fd) else None


def run_group(tag: str, shared: list[str], trials: list[dict], runs_dir: pathlib.Path,
              train_fn: Callable = _default_train, log: Callable = print) -> list[dict]:
    """Train `trials` (one loss and structure) together; one result per trial, in order:
    status, fd (None unless completed with a finite FD), the run and member that trained it,
    its TensorBoard directory, the real-data FD of that run, and the command."""
    results: list[dict | None] = [None] * len(trials)
    pending = list(range(len(trials)))
    attempt = 0
    while pending:
        run_dir = runs_dir / (tag if attempt == 0 else f"{tag}_retry{attempt}")
        overrides = [*shared, *population_overrides([trials[i] for i in pending])]
        start = time.perf_counter()
        summary = _train(overrides, run_dir, train_fn)
        population = len(pending) > 1
        if summary.get("status") != "completed":
            match = MEMBER.search(summary.get("error", ""))
            bad = int(match.group(1)) if match and population else 0
            log(f"  {tag}: member {bad} diverged ({summary.get('error', '')[:160]}); "
                f"training the other {len(pending) - 1} again")
            results[pending.pop(bad)] = {"status": "diverged", "fd": None, "run_dir": str(run_dir),
                                         "error": summary.get("error"),
                                         "command": command(overrides, run_dir)}
            attempt += 1
            continue
        members = summary["members"] if population else [{"eval": summary["eval"]}]
        real_fd = summary.get("eval_reference", {}).get("eval/fd")
        for m, (i, member) in enumerate(zip(pending, members)):
            fd = _fd(member["eval"])
            results[i] = {"status": "completed" if fd is not None else "fd_not_finite", "fd": fd,
                          "run_dir": str(run_dir), "member": m,
                          "tb_dir": str(run_dir / "tb" / f"member_{m:02d}" if population
                                        else run_dir / "tb"),
                          "samples": str(run_dir / (f"samples_member_{m:02d}.png" if population
                                                    else "samples.png")),
                          "real_fd": real_fd, "wall_seconds": summary.get("wall_seconds"),
                          "provenance": stamped(run_dir),
                          "command": command(overrides, run_dir)}
        fds = ", ".join("failed" if results[i]["fd"] is None else f"{results[i]['fd']:.2f}"
                        for i in pending)
        log(f"  {tag}: {len(pending)} member(s) in {time.perf_counter() - start:.0f} s, FD {fds}")
        pending = []
    return results
