"""RCGAN (Esteban, Hyland & Rätsch 2017): a recurrent generator and a recurrent discriminator.

generator      z [n, (T - w) * z_dim] -> noise per step -> LSTM -> Dense per step -> x [n, T, F]
discriminator  x [n, T, F] -> LSTM -> mean over steps of its outputs [n, H]  (the Critic's trunk)

As in the authors' code (ratschlab/RGAN, `model.py`), G reads fresh noise at every step and D
emits one logit per step. Here D's per-step logits meet the shared `Critic` through their mean:
the trunk returns the mean of the recurrent outputs, and since the Critic's head is linear,
w . mean_t(h_t) + b = mean_t(w . h_t + b) is exactly the mean of D's per-step logits. Each
sequence thus has one score, so every loss and mitigation keeps its meaning per example
(gradient penalties on a scalar D(x), packing, minibatch layers, projection and ACGAN heads on
[n, H] features). The one difference from the paper: its cross-entropy is averaged over the
per-step logits, ours is taken of their mean (equal for the Wasserstein loss, which is linear).

Static channels (`static` = K > 0, data=m5 data.categories_as_channels=true): the first K features
of every window are its series' fixed category one-hot; G reads them in the prefix and writes
only the other features, the K channels copied into every step, so D judges demand given the
category and G writes it given the category (with a prefix only).

Conditioning. On a category (`num_classes`, data.conditional=true): a learnt embedding of the
label joins every step's input of G (the authors join the one-hot label); D reads the label
through the Critic's head (projection or ACGAN). On a prefix (`prefix_steps` = w > 0): G reads
the first w real steps of the window through its recurrence (the values, and a flag saying which
steps are observed) and writes the remaining T - w; its output is the whole window with the real
prefix copied in, so D judges whole windows and every loss applies unchanged (`prefix_pairing`).
"""

from __future__ import annotations

from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models.timegan import CELLS


def recurrent(x: jax.Array, cell: str, hidden: int, layers: int) -> jax.Array:
    """`layers` recurrent layers of `hidden` units over x [n, T, d] -> [n, T, hidden]."""
    for _ in range(layers):
        x = nn.RNN(CELLS[cell](features=hidden))(x)
    return x


class Generator(nn.Module):
    """G(z, y) -> [n, seq_len, features]; y: int labels [n] (num_classes > 0), the real prefix
    [n, prefix_steps, features] (prefix_steps > 0), else None."""

    seq_len: int
    features: int
    out_act: Callable[[jax.Array], jax.Array]
    z_dim: int = 5
    hidden: int = 100
    layers: int = 1
    cell: str = "lstm"
    num_classes: int = 0
    label_dim: int = 10
    prefix_steps: int = 0
    static: int = 0  # the first `static` features: fixed channels (a category) kept from the prefix

    @property
    def noise_dim(self) -> int:
        """G's whole latent: z_dim noise values for every step it writes."""
        return (self.seq_len - self.prefix_steps) * self.z_dim

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None = None, train: bool = True) -> jax.Array:
        n, t, w = z.shape[0], self.seq_len, self.prefix_steps
        noise = z.reshape(n, t - w, self.z_dim)
        inputs = [jnp.pad(noise, ((0, 0), (w, 0), (0, 0)))]  # no noise over the observed steps
        if w:
            prefix = y.astype(noise.dtype)
            observed = (jnp.arange(t) < w).astype(noise.dtype)[None, :, None]
            inputs += [jnp.pad(prefix, ((0, 0), (0, t - w), (0, 0))),
                       jnp.broadcast_to(observed, (n, t, 1))]
        if self.num_classes:
            label = nn.Embed(self.num_classes, self.label_dim, name="label")(y)
            inputs.append(jnp.broadcast_to(label[:, None], (n, t, self.label_dim)))
        h = recurrent(jnp.concatenate(inputs, axis=-1), self.cell, self.hidden, self.layers)
        x = self.out_act(nn.Dense(self.features - self.static)(h))
        if self.static:  # the series' fixed channels, as the prefix holds them, at every step
            x = jnp.concatenate([jnp.broadcast_to(prefix[:, :1, :self.static], (n, t, self.static)), x],
                                axis=-1)
        return jnp.concatenate([prefix, x[:, w:]], axis=1) if w else x


class Discriminator(nn.Module):
    """D's trunk: x [n, T, F] -> the mean over steps of its recurrent outputs [n, hidden]; the
    Critic's linear head makes that the mean of per-step logits."""

    hidden: int = 100
    layers: int = 1
    cell: str = "lstm"

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        return jnp.mean(recurrent(x, self.cell, self.hidden, self.layers), axis=1)


def prefix(w: int) -> tuple[Callable, Callable]:
    """(train, infer) of a prefix pairing: both read the first w steps of real windows [n, T, F];
    G is asked to continue them (at training, the batch's own reals)."""
    return (lambda key, real, real_y: real[:, :w]), (lambda windows: windows[:, :w])
