"""Gradient penalties on the discriminator: WGAN-GP, R1, R2, DRAGAN.

Each penalty is a pure function of a critic `critic(x, y) -> CriticOutput` and samples; the
mitigation wraps it as a D term. Gradients are taken per sample (w.r.t. the sample's pixels),
also when PacGAN packs several samples into one critic input.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from gan_jax.numeric_settings import number
from gan_jax.mitigations.base import Mitigation, Term, TermInputs


def input_gradients(critic, x: jax.Array, y: jax.Array | None = None) -> jax.Array:
    """d critic(x).logits / dx, per sample, flattened to [B, D]."""
    grads = jax.grad(lambda v: jnp.sum(critic(v, y).logits))(x)
    return grads.reshape(x.shape[0], -1)


def squared_grad_norm(critic, x, y=None) -> jax.Array:
    return jnp.sum(input_gradients(critic, x, y) ** 2, axis=-1)


def grad_norm(critic, x, y=None) -> jax.Array:
    # The epsilon keeps d||g||/dg finite where g = 0 (sqrt'(0) is infinite).
    return jnp.sqrt(squared_grad_norm(critic, x, y) + 1e-12)


def wgan_gp(critic, real, fake, key, y=None, target: float = 1.0) -> jax.Array:
    """E[(||grad D(x_hat)|| - 1)^2] at x_hat = eps x + (1 - eps) G(z), eps ~ U(0, 1) per sample
    (Gulrajani et al. 2017)."""
    eps = jax.random.uniform(key, (real.shape[0],) + (1,) * (real.ndim - 1))
    x_hat = eps * real + (1 - eps) * fake
    return jnp.mean((grad_norm(critic, x_hat, y) - target) ** 2)


def r1(critic, real, y=None) -> jax.Array:
    """(1/2) E||grad D(x)||^2 on real data (Mescheder et al. 2018); times gamma by the caller."""
    return 0.5 * jnp.mean(squared_grad_norm(critic, real, y))


def dragan(critic, real, key, y=None, scale: float = 0.5, target: float = 1.0) -> jax.Array:
    """E[(||grad D(x + delta)|| - 1)^2], delta = scale * std(x) * U(0, 1) (Kodali et al. 2017)."""
    delta = scale * jnp.std(real) * jax.random.uniform(key, real.shape)
    return jnp.mean((grad_norm(critic, jax.lax.stop_gradient(real + delta), y) - target) ** 2)


def _penalty(name: str, weight: float, fn, prefix: str = "mitigation") -> Mitigation:
    def d_term(inputs: TermInputs) -> Term:
        value = fn(inputs)
        return Term(weight * value, {"penalty": value})

    return Mitigation(name, d_term=d_term, prefix=prefix)


def build_wgan_gp(cfg, data, batch_size, prefix="mitigation") -> Mitigation:
    return _penalty("wgan_gp", number(cfg["weight"]), lambda i: wgan_gp(
        i.critic, i.real, i.fake, i.key, i.real_y), prefix)


def build_r1(cfg, data, batch_size) -> Mitigation:
    return _penalty("r1", number(cfg["gamma"]), lambda i: r1(i.critic, i.real, i.real_y))


def build_r2(cfg, data, batch_size) -> Mitigation:
    return _penalty("r2", number(cfg["gamma"]), lambda i: r1(i.critic, i.fake, i.fake_y))


def build_dragan(cfg, data, batch_size) -> Mitigation:
    return _penalty("dragan", number(cfg["weight"]), lambda i: dragan(
        i.critic, i.real, i.key, i.real_y, number(cfg["scale"])))
