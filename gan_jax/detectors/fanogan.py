"""f-AnoGAN (Schlegl et al. 2019): a GAN of normal images, then an encoder that inverts it.

Stage 1 is an ordinary gan_jax run on one category (`data.category=c`; the paper uses WGAN-GP).
Stage 2 trains an encoder E with G and D frozen, by the izi_f objective:
    A(x) = mean_pixels (x - G(E(x)))^2 + kappa * mean_features (f(x) - f(G(E(x))))^2,
f being D's features (the input of its linear head). A(x) is also the anomaly score: an image
G cannot reproduce scores high. E is a DCGAN discriminator trunk with a linear head onto the
latent space (tanh for a uniform latent), so it reuses the architecture of the run's critic.
"""

from __future__ import annotations

from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from gan_jax.models import GAN, dcgan
from gan_jax.training.state import GANState, apply_model


class Encoder(nn.Module):
    latent_dim: int
    uniform: bool            # squash into the uniform latent's (-1, 1)
    width: int = 64
    fc_width: int = 1024

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        h = dcgan.Discriminator(self.width, self.fc_width)(x, train=False)
        z = nn.Dense(self.latent_dim)(h)
        return jnp.tanh(z) if self.uniform else z


def make_encoder(gan: GAN, cfg: dict) -> Encoder:
    return Encoder(gan.latent_dim, gan.latent_dist == "uniform", int(cfg["width"]),
                   int(cfg["fc_width"]))


def anomaly_score(gan: GAN, encoder: Encoder, state: GANState, enc_params, x: jax.Array,
                  kappa: float) -> jax.Array:
    """A(x) [n] for images x [n, h, w, c] in the data's value range (higher = more anomalous)."""
    g_params = state.ema_params if state.ema_params is not None else state.g_params
    z = encoder.apply({"params": enc_params}, x)
    x_hat = apply_model(gan.generator, g_params, state.g_state, z, None, train=False)[0]
    features = lambda v: apply_model(gan.discriminator, state.d_params, state.d_state, v,  # noqa: E731
                                     None, train=False)[0].features
    pixel = jnp.mean(jnp.square(x - x_hat).reshape(len(x), -1), axis=1)
    feature = jnp.mean(jnp.square(features(x) - features(x_hat)), axis=1)
    return pixel + kappa * feature


def make_train_step(gan: GAN, encoder: Encoder, sample: Callable, opt: optax.GradientTransformation,
                    batch_size: int, kappa: float) -> Callable:
    """`step((enc_params, opt_state, key), gan_state, arrays) -> (carry, loss)`: one izi_f
    update of E on a batch of normal training images, G and D frozen."""

    def step(carry, gan_state: GANState, arrays):
        params, opt_state, key = carry
        key, k = jax.random.split(key)
        x, _ = sample(arrays, k, batch_size)
        loss_fn = lambda p: jnp.mean(anomaly_score(gan, encoder, gan_state, p, x, kappa))  # noqa: E731
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state, key), loss

    return step


def init_encoder(encoder: Encoder, shape: tuple[int, ...], seed) -> Any:
    return encoder.init(jax.random.PRNGKey(seed), jnp.zeros((1, *shape)))["params"]
