"""From a composed config to the objects a run needs (plain objects, no Hydra)."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import optax

from gan_jax import data as data_lib
from gan_jax import losses, models
from gan_jax.config import validate
from gan_jax.data.spec import Dataset
from gan_jax.models import GAN
from gan_jax.training import optim
from gan_jax.training.state import GANState, init_state
from gan_jax.training.step import make_train_step


@dataclasses.dataclass(frozen=True)
class Setup:
    data: Dataset
    gan: GAN
    g_opt: optax.GradientTransformation
    d_opt: optax.GradientTransformation
    step: Callable  # pure step(state, data_arrays) -> (state, metrics)
    cfg: Any

    def init_state(self) -> GANState:
        return init_state(self.gan, self.data.shape, self.g_opt, self.d_opt, int(self.cfg["seed"]),
                          float(self.cfg["optim"]["ema_decay"]) > 0)


def build(cfg: Any) -> Setup:
    """Validate `cfg` (a mapping with data/model/loss/optim/trainer/seed) and build the run."""
    validate(cfg)
    data = data_lib.build(cfg["data"])
    gan = models.build(cfg["model"], data)
    g_opt, d_opt = optim.build(cfg["optim"])
    step = make_train_step(gan, losses.get(cfg["loss"]["name"]), data.sample, g_opt, d_opt,
                           int(cfg["trainer"]["batch_size"]), int(cfg["optim"]["n_critic"]),
                           float(cfg["optim"]["ema_decay"]))
    return Setup(data, gan, g_opt, d_opt, step, cfg)
