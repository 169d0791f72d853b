"""Unrolled GAN (Metz et al. 2017): G's loss sees D after k look-ahead updates of D, and G's
gradient is taken through those updates. The step provides one differentiable D update
(`CriticForG.update_d`); this piece applies it k times, so k = 0 is exactly the plain step."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from gan_jax.mitigations.base import CriticForG, Mitigation


def build_unrolled(cfg, data, batch_size) -> Mitigation:
    k = int(cfg["steps"])
    if k == 0:  # no hook at all: the plain step, bit for bit (D's optimizer stays as it is)
        return Mitigation("unrolled")

    def look_ahead(i: CriticForG):
        d_params, d_opt_state = i.d_params, i.d_opt_state
        for step in range(k):
            d_params, d_opt_state = i.update_d(d_params, d_opt_state, jax.random.fold_in(i.key, step))
        shift = optax.tree.norm(jax.tree_util.tree_map(jnp.subtract, d_params, i.d_params))
        return d_params, {"d_param_shift": shift}

    return Mitigation("unrolled", critic_for_g=look_ahead)
