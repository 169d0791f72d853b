"""Optimizers from the optim config (`optim=adam|rmsprop|sgd`), one per player, with TTUR
(separate learning rates) and WGAN's weight clipping of the discriminator."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax

from gan_jax.numeric_settings import number


def learning_rates(cfg: Any) -> tuple[float, float]:
    """(g_lr, d_lr): `optim.g_lr` / `optim.d_lr` override the shared `optim.lr` (TTUR)."""
    lr = number(cfg["lr"])
    g_lr = cfg.get("g_lr")
    d_lr = cfg.get("d_lr")
    return (lr if g_lr is None else number(g_lr)), (lr if d_lr is None else number(d_lr))


def clip_weights(limit: float) -> optax.GradientTransformation:
    """Rewrite updates so that every updated parameter lies in [-limit, limit] (Arjovsky et al.
    2017). Chained after the optimizer; needs `params` in `update`."""

    def update(updates, state, params):
        new = jax.tree_util.tree_map(lambda p, u: jnp.clip(p + u, -limit, limit) - p, params, updates)
        return new, state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


# sqrt(v + eps_root) instead of sqrt(v): finite derivatives where a gradient is exactly 0 (e.g.
# the D head's bias under relativistic losses), needed when G differentiates through D's update.
DIFFERENTIABLE_EPS_ROOT = 1e-16


def adam(cfg: Any, lr, eps_root: float = 0.0) -> optax.GradientTransformation:
    return optax.adam(lr, b1=number(cfg["beta1"]), b2=number(cfg["beta2"]), eps_root=eps_root)


def rmsprop(cfg: Any, lr, eps_root: float = 0.0) -> optax.GradientTransformation:
    return optax.rmsprop(lr, decay=number(cfg["decay"]), eps=number(cfg["eps"]),
                         eps_in_sqrt=True, momentum=number(cfg["momentum"]))


def sgd(cfg: Any, lr, eps_root: float = 0.0) -> optax.GradientTransformation:
    return optax.sgd(lr, momentum=number(cfg["momentum"]), nesterov=bool(cfg["nesterov"]))


# optim.name -> factory(cfg, lr, eps_root); eps_root only matters where a square root of a
# gradient statistic is differentiated (Adam under the unrolled GAN).
OPTIMIZERS = {"adam": adam, "rmsprop": rmsprop, "sgd": sgd}


def build(cfg: Any, d_weight_clip: float | None = None, differentiable_d: bool = False
          ) -> tuple[optax.GradientTransformation, optax.GradientTransformation]:
    """G's and D's optimizer; `differentiable_d` when D's update is differentiated (unrolled GAN)."""
    make = OPTIMIZERS[cfg["name"]]
    g_lr, d_lr = learning_rates(cfg)
    d_opt = with_l2(cfg.get("d_l2"), make(cfg, d_lr, DIFFERENTIABLE_EPS_ROOT if differentiable_d else 0.0))
    if d_weight_clip is not None:
        d_opt = optax.chain(d_opt, clip_weights(d_weight_clip))
    g_opt = with_l2(cfg.get("g_l2"), make(cfg, g_lr))
    return with_clip_norm(cfg.get("clip_norm"), g_opt), with_clip_norm(cfg.get("clip_norm"), d_opt)


def with_clip_norm(limit, opt: optax.GradientTransformation) -> optax.GradientTransformation:
    """`opt` on gradients rescaled to global norm at most `limit` (RelGAN's 5.0); `opt` itself
    when unset."""
    return opt if limit is None else optax.chain(optax.clip_by_global_norm(number(limit)), opt)


def with_l2(weight, opt: optax.GradientTransformation) -> optax.GradientTransformation:
    """`opt` on the gradient of loss + (weight/2)||w||^2 (coupled L2, as in CFGAN's code); `opt`
    itself when the weight is a plain 0 or unset (configs saved before the setting existed)."""
    if weight is None or (isinstance(weight, (int, float)) and weight == 0):
        return opt
    return optax.chain(optax.add_decayed_weights(number(weight)), opt)
