"""Transforms of every discriminator input, real and generated alike: DiffAugment, instance noise."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from gan_jax.numeric_settings import number
from gan_jax.errors import ConfigError
from gan_jax.mitigations import augment
from gan_jax.mitigations.base import Mitigation, TermInputs


def build_diffaugment(cfg, data, batch_size) -> Mitigation:
    """DiffAugment (Zhao et al. 2020): the same random, differentiable augmentation policy on real
    and fake images in both players' updates, so G receives gradients through it."""
    raw = cfg["policy"]  # "color,translation" or a list [color, translation]
    parts = raw.split(",") if isinstance(raw, str) else list(raw)
    policy = tuple(p.strip() for p in parts if p.strip())
    if not data.is_image:
        kind = ("sequences" if data.series is not None else "text" if data.text is not None
                else "points")
        raise ConfigError(f"mitigation=diffaugment augments images; data={data.name} holds "
                          f"{kind}. Use mitigation=instance_noise or bcr for {kind}.")
    unknown = sorted(set(policy) - set(augment.POLICIES))
    if unknown:
        raise ConfigError(f"mitigation.diffaugment.policy has unknown {unknown}; use a comma list "
                          f"of {', '.join(augment.POLICIES)}.")
    transform = lambda key, x, step: augment.diff_augment(key, x, policy)  # noqa: E731

    def log(i: TermInputs):
        return {"mean_abs_change": jnp.mean(jnp.abs(transform(i.key, i.real, i.step) - i.real))}

    return Mitigation("diffaugment", transform_input=transform, log=log)


def noise_std(std: float, anneal_steps: int, step: jax.Array) -> jax.Array:
    """Linear annealing from `std` at step 0 to 0 at `anneal_steps` (then 0)."""
    return std * jnp.clip(1.0 - step / anneal_steps, 0.0, 1.0)


def build_instance_noise(cfg, data, batch_size) -> Mitigation:
    """Instance noise (Sønderby et al. 2017; Arjovsky & Bottou 2017): Gaussian noise on every
    D input makes the real and generated distributions overlap; annealed to zero."""
    std, anneal = number(cfg["std"]), int(cfg["anneal_steps"])
    if (isinstance(std, float) and std < 0) or anneal <= 0:  # std is traced in populations
        raise ConfigError(f"mitigation.instance_noise needs std >= 0 and anneal_steps > 0 "
                          f"(got std={std}, anneal_steps={anneal}).")

    def transform(key, x, step):
        return x + noise_std(std, anneal, step) * jax.random.normal(key, x.shape, x.dtype)

    return Mitigation("instance_noise", transform_input=transform,
                      log=lambda i: {"std": noise_std(std, anneal, i.step)})
