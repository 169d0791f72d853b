"""A finished (or running) training run read back from its directory, for sampling and eval."""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any

import jax

from gan_jax.config.saved import with_new_defaults
from gan_jax.errors import ConfigError
from gan_jax.training import population as population_lib
from gan_jax.training import setup as setup_lib
from gan_jax.training.checkpoint import Checkpoints
from gan_jax.training.state import GANState


@dataclasses.dataclass
class SavedRun:
    dir: pathlib.Path
    cfg: dict            # the run's config.json
    setup: Any           # Setup, or Population for `trainer.population` > 1
    state: GANState      # leaves carry a leading member axis in a population
    size: int            # trainer.population

    def member(self, i: int) -> GANState:
        return self.state if self.size == 1 else jax.tree_util.tree_map(lambda x: x[i], self.state)


def load(run_dir: str | pathlib.Path, step: int | None = None) -> SavedRun:
    """Rebuild the run's models from its config.json and restore checkpoint `step` (latest)."""
    run_dir = pathlib.Path(run_dir)
    saved = run_dir / "config.json"
    if not saved.is_file():
        raise ConfigError(f"run_dir={run_dir} has no config.json; point it at a training run "
                          f"directory (the one holding checkpoints/).")
    cfg = with_new_defaults(json.loads(saved.read_text()))
    size = int(cfg["trainer"].get("population", 1))
    setup = population_lib.build(cfg) if size > 1 else setup_lib.build(cfg)
    ckpt_dir = run_dir / "checkpoints"
    if not ckpt_dir.is_dir() or not any(p.name.isdigit() for p in ckpt_dir.iterdir()):
        raise ConfigError(f"{ckpt_dir} holds no checkpoint yet.")
    ckpt = Checkpoints(ckpt_dir)
    try:
        if step is not None and step not in ckpt.all_steps():
            raise ConfigError(f"step={step} is not saved; saved steps: {ckpt.all_steps()}.")
        state = ckpt.restore(jax.eval_shape(setup.init_state), step)
    finally:
        ckpt.close()
    return SavedRun(run_dir, cfg, setup, state, size)
