"""Adversarial losses as pure functions of discriminator logits.

Every loss is a pair (d_loss, g_loss), each `f(real_logits, fake_logits) -> scalar`, written with
softplus so that large logits neither overflow nor lose precision:
  -log sigmoid(l) = softplus(-l),   -log(1 - sigmoid(l)) = softplus(l).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from gan_jax.errors import ConfigError

LossFn = Callable[[jax.Array, jax.Array], jax.Array]


class AdversarialLoss(NamedTuple):
    d_loss: LossFn
    g_loss: LossFn
    g_uses_real: bool = False  # whether g_loss reads real logits (relativistic losses)


def d_loss_bce(real: jax.Array, fake: jax.Array) -> jax.Array:
    """-log D(x) - log(1 - D(G(z))): the discriminator's cross-entropy, shared by MM and NS."""
    return jnp.mean(jax.nn.softplus(-real)) + jnp.mean(jax.nn.softplus(fake))


def g_loss_minimax(real: jax.Array, fake: jax.Array) -> jax.Array:
    """log(1 - D(G(z))): Goodfellow et al.'s original (saturating) generator objective."""
    del real
    return -jnp.mean(jax.nn.softplus(fake))


def g_loss_non_saturating(real: jax.Array, fake: jax.Array) -> jax.Array:
    """-log D(G(z)): the non-saturating heuristic of the same paper."""
    del real
    return jnp.mean(jax.nn.softplus(-fake))


LOSSES = {
    "minimax": AdversarialLoss(d_loss_bce, g_loss_minimax),
    "non_saturating": AdversarialLoss(d_loss_bce, g_loss_non_saturating),
}


def get(name: str) -> AdversarialLoss:
    if name not in LOSSES:
        raise ConfigError(f"loss.name={name!r} is unknown; choose one of {', '.join(LOSSES)} "
                          f"(e.g. loss=minimax).")
    return LOSSES[name]
