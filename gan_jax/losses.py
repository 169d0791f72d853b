"""Adversarial losses as pure functions of discriminator logits.

Every loss is a pair (d_loss, g_loss), each `f(real_logits, fake_logits) -> scalar`; those built on
log-sigmoids are written with softplus so that large logits neither overflow nor lose precision:
  -log sigmoid(l) = softplus(-l),   -log(1 - sigmoid(l)) = softplus(l).

Registered (`loss.name`):
  minimax         Goodfellow et al. 2014, the original saturating G objective log(1 - D(G(z))).
  non_saturating  Goodfellow et al. 2014, G minimises -log D(G(z)).
  least_squares   LSGAN, Mao et al. 2017 (a=0, b=1, c=1).
  wasserstein     WGAN, Arjovsky et al. 2017 (weight clipping is applied by the trainer).
  wgan_gp         WGAN-GP, Gulrajani et al. 2017 (the gradient penalty is added by the trainer).
  hinge           Lim & Ye 2017; Miyato et al. 2018.
  ragan           Relativistic average standard GAN, Jolicoeur-Martineau 2019.
  ragan_hinge     Relativistic average hinge GAN, Jolicoeur-Martineau 2019.
  rsgan           Relativistic standard GAN, Jolicoeur-Martineau 2019 (RelGAN's loss): real and
                  fake logits compared pair by pair, not against the other batch's mean.
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


def d_loss_least_squares(real: jax.Array, fake: jax.Array) -> jax.Array:
    """1/2 E(D(x) - 1)^2 + 1/2 E D(G(z))^2: LSGAN's discriminator (Mao et al. 2017, a=0, b=1)."""
    return 0.5 * jnp.mean(jnp.square(real - 1)) + 0.5 * jnp.mean(jnp.square(fake))


def g_loss_least_squares(real: jax.Array, fake: jax.Array) -> jax.Array:
    """1/2 E(D(G(z)) - 1)^2: LSGAN's generator (c=1)."""
    del real
    return 0.5 * jnp.mean(jnp.square(fake - 1))


def d_loss_wasserstein(real: jax.Array, fake: jax.Array) -> jax.Array:
    """E D(G(z)) - E D(x): the critic's negated Wasserstein estimate (Arjovsky et al. 2017)."""
    return jnp.mean(fake) - jnp.mean(real)


def g_loss_critic(real: jax.Array, fake: jax.Array) -> jax.Array:
    """-E D(G(z)): the generator of WGAN (Arjovsky et al. 2017) and of the hinge loss."""
    del real
    return -jnp.mean(fake)


def d_loss_hinge(real: jax.Array, fake: jax.Array) -> jax.Array:
    """E relu(1 - D(x)) + E relu(1 + D(G(z))): the hinge D (Lim & Ye 2017; Miyato et al. 2018)."""
    return jnp.mean(jax.nn.relu(1 - real)) + jnp.mean(jax.nn.relu(1 + fake))


def relativistic_average(d_loss: LossFn) -> AdversarialLoss:
    """Relativistic average version of a (real, fake) discriminator loss (Jolicoeur-Martineau 2019).

    D's loss is `d_loss(C_r - E C_f, C_f - E C_r)`; G's is the same with real and fake swapped,
    `d_loss(C_f - E C_r, C_r - E C_f)`, so G also reads real logits.
    """

    def relative(real: jax.Array, fake: jax.Array) -> tuple[jax.Array, jax.Array]:
        return real - jnp.mean(fake), fake - jnp.mean(real)

    def d(real: jax.Array, fake: jax.Array) -> jax.Array:
        rel_real, rel_fake = relative(real, fake)
        return d_loss(rel_real, rel_fake)

    def g(real: jax.Array, fake: jax.Array) -> jax.Array:
        rel_real, rel_fake = relative(real, fake)
        return d_loss(rel_fake, rel_real)

    return AdversarialLoss(d, g, g_uses_real=True)


def d_loss_relativistic(real: jax.Array, fake: jax.Array) -> jax.Array:
    """RSGAN's D: -log sigmoid(C_r - C_f), the i-th real against the i-th fake."""
    return jnp.mean(jax.nn.softplus(fake - real))


def g_loss_relativistic(real: jax.Array, fake: jax.Array) -> jax.Array:
    """RSGAN's G: -log sigmoid(C_f - C_r)."""
    return jnp.mean(jax.nn.softplus(real - fake))


LOSSES = {
    "minimax": AdversarialLoss(d_loss_bce, g_loss_minimax),
    "non_saturating": AdversarialLoss(d_loss_bce, g_loss_non_saturating),
    "least_squares": AdversarialLoss(d_loss_least_squares, g_loss_least_squares),
    "wasserstein": AdversarialLoss(d_loss_wasserstein, g_loss_critic),
    "wgan_gp": AdversarialLoss(d_loss_wasserstein, g_loss_critic),
    "hinge": AdversarialLoss(d_loss_hinge, g_loss_critic),
    "ragan": relativistic_average(d_loss_bce),
    "ragan_hinge": relativistic_average(d_loss_hinge),
    "rsgan": AdversarialLoss(d_loss_relativistic, g_loss_relativistic, g_uses_real=True),
}


def get(name: str) -> AdversarialLoss:
    if name not in LOSSES:
        raise ConfigError(f"loss.name={name!r} is unknown; choose one of {', '.join(LOSSES)} "
                          f"(e.g. loss=minimax).")
    return LOSSES[name]
