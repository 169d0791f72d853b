"""Generators and discriminators; `build` picks a pair from the model config and data spec."""

from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn
import jax

from gan_jax.data.spec import Dataset
from gan_jax.errors import ConfigError
from gan_jax.models import dcgan, mlp, resnet
from gan_jax.models.critic import CONDITIONINGS, Critic, CriticOutput
from gan_jax.models.layers import ACTIVATIONS, output_activation

NAMES = ("dcgan", "mlp", "resnet")
LATENT_DISTS = ("normal", "uniform")


@dataclasses.dataclass(frozen=True)
class GAN:
    """A generator/discriminator pair and its latent (and label) distribution; all static.

    generator(z, y=None, train) -> x;  discriminator(x, y=None, train) -> CriticOutput.
    num_classes > 0 makes both conditional on integer labels y.
    """

    generator: nn.Module
    discriminator: nn.Module  # a Critic, possibly wrapped (e.g. spectral norm) by mitigations
    latent_dim: int
    latent_dist: str = "normal"
    num_classes: int = 0

    def sample_latent(self, key: jax.Array, n: int) -> jax.Array:
        if self.latent_dist == "uniform":
            return jax.random.uniform(key, (n, self.latent_dim), minval=-1.0, maxval=1.0)
        return jax.random.normal(key, (n, self.latent_dim))

    def sample_labels(self, key: jax.Array, n: int) -> jax.Array | None:
        """Uniform labels for conditional fakes; None for an unconditional GAN."""
        return jax.random.randint(key, (n,), 0, self.num_classes) if self.num_classes else None


def _choice(cfg: Any, key: str, options) -> str:
    if cfg[key] not in options:
        raise ConfigError(f"model.{key}={cfg[key]!r} is unknown; choose one of {', '.join(options)}.")
    return cfg[key]


def _mlp_options(cfg: Any) -> tuple[int, float | None]:
    """model.d_maxout_pieces and model.init_std, checked.

    Both default when missing (runs saved before the keys existed). A population traces
    numeric lists per member; a traced number of pieces fails in `int` there, which the
    population reports as a structural setting.
    """
    pieces, std = cfg.get("d_maxout_pieces", 1), cfg.get("init_std")
    if isinstance(pieces, jax.Array):
        pieces = int(pieces)
    elif isinstance(pieces, bool) or not isinstance(pieces, int) or pieces < 1:
        raise ConfigError(f"model.d_maxout_pieces={pieces!r} must be a positive integer: 1 for "
                          f"Dense + d_act layers, e.g. 5 for maxout layers of 5 pieces.")
    if not (std is None or isinstance(std, jax.Array)) and (
            isinstance(std, bool) or not isinstance(std, (int, float)) or std <= 0):
        raise ConfigError(f"model.init_std={std!r} must be null (the default init) or a positive "
                          f"number, e.g. model.init_std=0.02.")
    return pieces, std


def build(cfg: Any, data: Dataset, conditional: bool = False,
          batch_stats_axis: str | None = None) -> GAN:
    """`cfg` has the model group's keys; shapes and output range come from `data`.

    conditional: condition G and D on the data's categories (`data.conditional=true`).
    batch_stats_axis: every batch norm averages its statistics over this mapped axis
    (`trainer.parallel=pmap` with `trainer.sync_batch_stats=true`); None: per device.
    """
    name = _choice(cfg, "name", NAMES)
    _choice(cfg, "latent_dist", LATENT_DISTS)
    out_act = output_activation(data.value_range)
    num_classes = 0
    if conditional:
        if not data.class_names:
            raise ConfigError(f"data.conditional=true needs labelled data; data={data.name} has no "
                              f"categories. Use data=fashion_mnist or data.conditional=false.")
        num_classes = len(data.class_names)
    head_init = nn.initializers.lecun_normal()
    if name == "dcgan":
        if not data.is_image or data.shape[0] % 4 or data.shape[1] % 4:
            raise ConfigError(f"model=dcgan needs images with height and width divisible by 4; "
                              f"data={data.name} has shape {data.shape}. Use model=mlp for it.")
        g = dcgan.Generator(tuple(data.shape), out_act, cfg["width"], cfg["fc_width"], cfg["init_std"],
                            num_classes, batch_stats_axis)
        trunk = dcgan.Discriminator(cfg["width"], cfg["fc_width"], bool(cfg["d_batch_norm"]),
                                    cfg["leak"], cfg["init_std"], batch_stats_axis)
        head_init = nn.initializers.normal(cfg["init_std"])
    elif name == "resnet":
        if not data.is_image or data.shape[0] != data.shape[1] or data.shape[0] % 4:
            raise ConfigError(f"model=resnet needs square images of side 28 or 32 (divisible by 4); "
                              f"data={data.name} has shape {data.shape}.")
        g = resnet.Generator(tuple(data.shape), out_act, cfg["g_width"], num_classes,
                             batch_stats_axis)
        trunk = resnet.Discriminator(cfg["d_width"])
    else:
        _choice(cfg, "g_act", ACTIVATIONS)
        _choice(cfg, "d_act", ACTIVATIONS)
        pieces, init_std = _mlp_options(cfg)
        g = mlp.Generator(tuple(data.shape), out_act, tuple(cfg["g_hidden"]), cfg["g_act"],
                          bool(cfg["g_batch_norm"]), num_classes, init_std, batch_stats_axis)
        trunk = mlp.Discriminator(tuple(cfg["d_hidden"]), cfg["d_act"], pieces, init_std)
        head_init = mlp.kernel_init(init_std)
    conditioning = _choice(cfg, "conditioning", CONDITIONINGS) if num_classes else None
    d = Critic(trunk, num_classes=num_classes, conditioning=conditioning, head_init=head_init)
    return GAN(g, d, int(cfg["latent_dim"]), cfg["latent_dist"], num_classes)


__all__ = ["GAN", "build", "NAMES", "Critic", "CriticOutput"]
