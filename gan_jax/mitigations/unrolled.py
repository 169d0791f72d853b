"""Unrolled GAN (Metz et al. 2017): G's loss sees D after k look-ahead updates of D, and G's
gradient is taken through those updates. The step performs the look-ahead (it owns D's update);
this piece only says how many, so k = 0 is exactly the plain step."""

from __future__ import annotations

from gan_jax.errors import ConfigError
from gan_jax.mitigations.base import Mitigation


def build_unrolled(cfg, data, batch_size) -> Mitigation:
    k = cfg["steps"]
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ConfigError(f"mitigation.unrolled.steps={k!r} must be a non-negative integer "
                          f"(Metz et al. use 5).")
    return Mitigation("unrolled", unroll_steps=k)
