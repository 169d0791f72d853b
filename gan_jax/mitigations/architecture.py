"""Mitigations that change the discriminator (or generator) itself.

pacgan                   m samples packed into one D input (Lin et al. 2018);
spectral_norm            every weight matrix divided by its largest singular value (Miyato et al. 2018);
minibatch_std            the batch's feature standard deviation appended to D's features
                         (Karras et al. 2018);
minibatch_discrimination closeness of each sample to the rest of the batch appended to D's
                         features (Salimans et al. 2016).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.errors import ConfigError
from gan_jax.mitigations.base import Mitigation, TermInputs


# -- PacGAN ------------------------------------------------------------------------------------

def pack_spread(x: jax.Array, m: int) -> jax.Array:
    """Mean variance across the m samples of each pack: how different the packed samples are."""
    x = x.reshape(x.shape[0] // m, m, -1)
    return jnp.mean(jnp.var(x, axis=1))


def build_pacgan(cfg, data, batch_size) -> Mitigation:
    m = int(cfg["m"])
    if m < 2:
        raise ConfigError(f"mitigation.pacgan.m={m} must be at least 2 (1 is no packing).")
    if batch_size % m:
        raise ConfigError(f"mitigation.pacgan.m={m} must divide trainer.batch_size={batch_size}; "
                          f"e.g. trainer.batch_size={batch_size - batch_size % m or m}.")

    def log(i: TermInputs):
        # Collapsed generators pack near-identical samples; real packs set the reference.
        return {"fake_real_spread_ratio": pack_spread(i.fake, m) / (pack_spread(i.real, m) + 1e-12)}

    def edit(critic):
        if critic.conditioning is not None:
            raise ConfigError("mitigation=pacgan packs samples of different categories into one "
                              "input, so it cannot be combined with data.conditional=true.")
        return critic.clone(pack=critic.pack * m)

    return Mitigation("pacgan", edit_critic=edit, log=log)


# -- spectral normalisation --------------------------------------------------------------------

class SpectralNormed(nn.Module):
    """`inner` with all its weight matrices spectrally normalised (power iteration, u kept in
    the 'batch_stats' collection and updated in training mode)."""

    inner: nn.Module
    n_steps: int = 1

    @nn.compact
    def __call__(self, *args, train: bool = True, **kwargs):
        return nn.SpectralNorm(self.inner, n_steps=self.n_steps)(
            *args, train=train, update_stats=train, **kwargs)


def sigmas(collections) -> list[jax.Array]:
    """The power-iteration estimates of sigma_max stored by spectral normalisation."""
    flat = jax.tree_util.tree_flatten_with_path(collections)[0]
    return [v for path, v in flat if str(getattr(path[-1], "key", "")).endswith("/sigma")]


def build_spectral_norm(cfg, data, batch_size) -> Mitigation:
    n_steps = int(cfg["n_steps"])
    wrap = lambda module: SpectralNormed(module, n_steps)  # noqa: E731

    def log(i: TermInputs):
        found = sigmas(i.d_state)  # sigma of the raw weights, i.e. what each layer is divided by
        return {"d_max_sigma": jnp.max(jnp.stack(found))} if found else {}

    return Mitigation("spectral_norm", wrap_discriminator=wrap,
                      wrap_generator=wrap if cfg["generator"] else None, log=log)


# -- minibatch layers --------------------------------------------------------------------------

class MinibatchStd(nn.Module):
    """Append the mean (over features) standard deviation (over a group of samples) as one more
    feature; groups are samples i, i + B/g, i + 2B/g, ... as in ProGAN."""

    group_size: int = 4

    @nn.compact
    def __call__(self, h: jax.Array) -> jax.Array:
        b = h.shape[0]
        g = min(self.group_size, b)
        if b % g:
            raise ValueError(f"mitigation.minibatch_std.group_size={g} must divide the batch D sees "
                             f"({b}: trainer.batch_size / mitigation.pacgan.m when packing)")
        # h: [B, F], or [B, R, F] with one feature vector per representation (RelGAN's D)
        std = jnp.sqrt(jnp.var(h.reshape(g, b // g, *h.shape[1:]), axis=0) + 1e-8)  # [B/g, .., F]
        feature = jnp.tile(jnp.mean(std, axis=-1), (g,) + (1,) * (h.ndim - 2))      # [B, ..]
        return jnp.concatenate([h, feature[..., None]], axis=-1)


class MinibatchDiscrimination(nn.Module):
    """Salimans et al. 2016, Sec. 3.2: M = h T in R^{B x K x C}; for every kernel k,
    o(x_i)_k = sum_j exp(-||M_ik - M_jk||_1); [h, o] is returned."""

    num_kernels: int = 100
    kernel_dim: int = 5

    @nn.compact
    def __call__(self, h: jax.Array) -> jax.Array:
        t = self.param("T", nn.initializers.normal(0.1), (h.shape[-1], self.num_kernels * self.kernel_dim))
        # h: [B, F], or [B, R, F] (RelGAN's D): each representation is compared with its own
        m = (h @ t).reshape(*h.shape[:-1], self.num_kernels, self.kernel_dim)
        l1 = jnp.sum(jnp.abs(m[:, None] - m[None, :]), axis=-1)             # [B, B, .., K]
        return jnp.concatenate([h, jnp.sum(jnp.exp(-l1), axis=1)], axis=-1)


def feature_spread(features: jax.Array) -> jax.Array:
    return jnp.mean(jnp.std(features, axis=0))


def _feature_spread_log(i: TermInputs):
    # D's view of diversity: a collapsing G gives fakes whose features barely vary.
    return {"fake_real_feature_spread_ratio":
            feature_spread(i.fake_out.features) / (feature_spread(i.real_out.features) + 1e-12)}


def build_minibatch_std(cfg, data, batch_size) -> Mitigation:
    g = int(cfg["group_size"])
    if g < 2 or batch_size % g:
        raise ConfigError(f"mitigation.minibatch_std.group_size={g} must be at least 2 and divide "
                          f"trainer.batch_size={batch_size}.")
    edit = lambda c: c.clone(feature_layers=(*c.feature_layers, MinibatchStd(g)))  # noqa: E731
    return Mitigation("minibatch_std", edit_critic=edit, couples_batch=True, log=_feature_spread_log)


def build_minibatch_discrimination(cfg, data, batch_size) -> Mitigation:
    layer = MinibatchDiscrimination(int(cfg["num_kernels"]), int(cfg["kernel_dim"]))
    edit = lambda c: c.clone(feature_layers=(*c.feature_layers, layer))  # noqa: E731
    return Mitigation("minibatch_discrimination", edit_critic=edit, couples_batch=True,
                      log=_feature_spread_log)
