"""Generators and discriminators; `build` picks a pair from the model config and data spec."""

from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn
import jax

from gan_jax.data.spec import Dataset
from gan_jax.errors import ConfigError
from gan_jax.models import dcgan, mlp
from gan_jax.models.layers import ACTIVATIONS, output_activation

NAMES = ("dcgan", "mlp")
LATENT_DISTS = ("normal", "uniform")


@dataclasses.dataclass(frozen=True)
class GAN:
    """A generator/discriminator pair and its latent distribution (all static)."""

    generator: nn.Module
    discriminator: nn.Module
    latent_dim: int
    latent_dist: str = "normal"

    def sample_latent(self, key: jax.Array, n: int) -> jax.Array:
        if self.latent_dist == "uniform":
            return jax.random.uniform(key, (n, self.latent_dim), minval=-1.0, maxval=1.0)
        return jax.random.normal(key, (n, self.latent_dim))


def build(cfg: Any, data: Dataset) -> GAN:
    """`cfg` has the model group's keys; shapes and output range come from `data`."""
    name = cfg["name"]
    out_act = output_activation(data.value_range)
    if name == "dcgan":
        if not data.is_image or data.shape[0] % 4 or data.shape[1] % 4:
            raise ConfigError(f"model=dcgan needs images with height and width divisible by 4; "
                              f"data={data.name} has shape {data.shape}. Use model=mlp for it.")
        g = dcgan.Generator(tuple(data.shape), out_act, cfg["width"], cfg["fc_width"], cfg["init_std"])
        d = dcgan.Discriminator(cfg["width"], cfg["fc_width"], bool(cfg["d_batch_norm"]),
                                cfg["leak"], cfg["init_std"])
    elif name == "mlp":
        for key in ("g_act", "d_act"):
            if cfg[key] not in ACTIVATIONS:
                raise ConfigError(f"model.{key}={cfg[key]!r} is unknown; choose one of "
                                  f"{', '.join(ACTIVATIONS)}.")
        g = mlp.Generator(tuple(data.shape), out_act, tuple(cfg["g_hidden"]), cfg["g_act"],
                          bool(cfg["g_batch_norm"]))
        d = mlp.Discriminator(tuple(cfg["d_hidden"]), cfg["d_act"])
    else:
        raise ConfigError(f"model.name={name!r} is unknown; choose one of {', '.join(NAMES)}.")
    if cfg["latent_dist"] not in LATENT_DISTS:
        raise ConfigError(f"model.latent_dist={cfg['latent_dist']!r} is unknown; choose one of "
                          f"{', '.join(LATENT_DISTS)}.")
    return GAN(g, d, int(cfg["latent_dim"]), cfg["latent_dist"])


__all__ = ["GAN", "build", "NAMES"]
