"""Optimizers from the optim config: Adam per player, with TTUR (separate learning rates) and
WGAN's weight clipping of the discriminator."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax


def learning_rates(cfg: Any) -> tuple[float, float]:
    """(g_lr, d_lr): `optim.g_lr` / `optim.d_lr` override the shared `optim.lr` (TTUR)."""
    lr = float(cfg["lr"])
    g_lr = cfg.get("g_lr")
    d_lr = cfg.get("d_lr")
    return (lr if g_lr is None else float(g_lr)), (lr if d_lr is None else float(d_lr))


def clip_weights(limit: float) -> optax.GradientTransformation:
    """Rewrite updates so that every updated parameter lies in [-limit, limit] (Arjovsky et al.
    2017). Chained after the optimizer; needs `params` in `update`."""

    def update(updates, state, params):
        new = jax.tree_util.tree_map(lambda p, u: jnp.clip(p + u, -limit, limit) - p, params, updates)
        return new, state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def build(cfg: Any, d_weight_clip: float | None = None
          ) -> tuple[optax.GradientTransformation, optax.GradientTransformation]:
    g_lr, d_lr = learning_rates(cfg)
    make = lambda lr: optax.adam(lr, b1=float(cfg["beta1"]), b2=float(cfg["beta2"]))  # noqa: E731
    d_opt = make(d_lr)
    if d_weight_clip is not None:
        d_opt = optax.chain(d_opt, clip_weights(d_weight_clip))
    return make(g_lr), d_opt
