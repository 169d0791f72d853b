"""Gradient penalties on the discriminator: WGAN-GP, R1, R2, DRAGAN.

Each penalty is a pure function of a critic `critic(x, y) -> CriticOutput` and samples; the
mitigation wraps it as a D term. The gradient is taken w.r.t. D's whole input, as the papers do:
when PacGAN packs m samples into one input, one norm per pack (of the m samples' gradients
together) and, for WGAN-GP, one interpolation weight per pack (Lin et al. 2018; CTGAN's
`calc_gradient_penalty`); when D reads each example's condition vector joined to it (CTGAN),
the gradient w.r.t. the condition is part of the input's gradient.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from gan_jax.numeric_settings import number
from gan_jax.mitigations.base import Mitigation, Term, TermInputs


def input_gradients(critic, x: jax.Array, y: jax.Array | None = None, pack: int = 1,
                    condition_is_input: bool = False) -> jax.Array:
    """d sum(critic(x, y).logits) / d(D's inputs) -> [B / pack, pack * D]: one row per D input.

    Each logit depends on its own input only, so the gradient of the sum is every input's own
    gradient. With `condition_is_input` the gradient w.r.t. y is appended to each example's."""
    if condition_is_input:
        gx, gy = jax.grad(lambda v, c: jnp.sum(critic(v, c).logits), argnums=(0, 1))(x, y)
        grads = jnp.concatenate([gx.reshape(x.shape[0], -1), gy.reshape(y.shape[0], -1)], -1)
    else:
        grads = jax.grad(lambda v: jnp.sum(critic(v, y).logits))(x).reshape(x.shape[0], -1)
    return grads.reshape(x.shape[0] // pack, -1)  # packs are consecutive samples (critic.pack)


def squared_grad_norm(critic, x, y=None, pack=1, condition_is_input=False) -> jax.Array:
    return jnp.sum(input_gradients(critic, x, y, pack, condition_is_input) ** 2, axis=-1)


def grad_norm(critic, x, y=None, pack=1, condition_is_input=False) -> jax.Array:
    # The epsilon keeps d||g||/dg finite where g = 0 (sqrt'(0) is infinite).
    return jnp.sqrt(squared_grad_norm(critic, x, y, pack, condition_is_input) + 1e-12)


def per_pack(key, n: int, pack: int, ndim: int) -> jax.Array:
    """U(0, 1) weights, one per pack of `pack` consecutive samples, broadcastable to [n, ...]."""
    eps = jnp.repeat(jax.random.uniform(key, (n // pack,)), pack)
    return eps.reshape((n,) + (1,) * (ndim - 1))


def wgan_gp(critic, real, fake, key, real_y=None, fake_y=None, target: float = 1.0, pack: int = 1,
            condition_is_input: bool = False) -> jax.Array:
    """E[(||grad D(x_hat)|| - 1)^2] at x_hat = eps x + (1 - eps) G(z), eps ~ U(0, 1) per D input
    (Gulrajani et al. 2017); a condition D reads as input is interpolated the same way."""
    eps = per_pack(key, real.shape[0], pack, real.ndim)
    x_hat = eps * real + (1 - eps) * fake
    y_hat = real_y
    if condition_is_input:
        e = eps.reshape((-1,) + (1,) * (real_y.ndim - 1))
        y_hat = e * real_y + (1 - e) * fake_y
    return jnp.mean((grad_norm(critic, x_hat, y_hat, pack, condition_is_input) - target) ** 2)


def r1(critic, real, y=None, pack: int = 1, condition_is_input: bool = False) -> jax.Array:
    """(1/2) E||grad D(x)||^2 on real data (Mescheder et al. 2018); times gamma by the caller."""
    return 0.5 * jnp.mean(squared_grad_norm(critic, real, y, pack, condition_is_input))


def dragan(critic, real, key, y=None, scale: float = 0.5, target: float = 1.0, pack: int = 1,
           condition_is_input: bool = False) -> jax.Array:
    """E[(||grad D(x + delta)|| - 1)^2], delta = scale * std(x) * U(0, 1) (Kodali et al. 2017).
    A condition read as input is not perturbed (it is a choice, not a sample)."""
    delta = scale * jnp.std(real) * jax.random.uniform(key, real.shape)
    x = jax.lax.stop_gradient(real + delta)
    return jnp.mean((grad_norm(critic, x, y, pack, condition_is_input) - target) ** 2)


def _penalty(name: str, weight: float, fn, prefix: str = "mitigation") -> Mitigation:
    def d_term(inputs: TermInputs) -> Term:
        value = fn(inputs)
        return Term(weight * value, {"penalty": value})

    return Mitigation(name, d_term=d_term, prefix=prefix)


def geometry(i: TermInputs) -> dict:
    return {"pack": i.pack, "condition_is_input": i.condition_is_input}


def build_wgan_gp(cfg, data, batch_size, prefix="mitigation") -> Mitigation:
    return _penalty("wgan_gp", number(cfg["weight"]), lambda i: wgan_gp(
        i.critic, i.real, i.fake, i.key, i.real_y, i.fake_y, **geometry(i)), prefix)


def build_r1(cfg, data, batch_size) -> Mitigation:
    return _penalty("r1", number(cfg["gamma"]), lambda i: r1(i.critic, i.real, i.real_y,
                                                             **geometry(i)))


def build_r2(cfg, data, batch_size) -> Mitigation:
    return _penalty("r2", number(cfg["gamma"]), lambda i: r1(i.critic, i.fake, i.fake_y,
                                                             **geometry(i)))


def build_dragan(cfg, data, batch_size) -> Mitigation:
    return _penalty("dragan", number(cfg["weight"]), lambda i: dragan(
        i.critic, i.real, i.key, i.real_y, number(cfg["scale"]), **geometry(i)))
