"""Tabular GAN (the CTGAN architecture of Xu et al. 2019) for rows encoded by
`gan_jax.data.table_transform`: each continuous column a tanh scalar plus a one-hot of its mode,
each discrete column a one-hot.

G reads (z, condition vector) and outputs one encoded row: residual blocks whose outputs are
concatenated to their inputs (Linear-BN-ReLU), a linear layer, then per span of the row tanh for
scalars and Gumbel-softmax (tau 0.2) for one-hots. The Gumbel noise comes from the latent: z holds
`latent_dim` entries for the network and one more N(0, 1) entry per one-hot logit, mapped through
the normal CDF to a uniform and then to Gumbel noise. So G stays a pure function of (z, y), a
fixed latent gives a fixed sample, and the step needs no extra random stream.

D's trunk reads the row with its condition vector joined (the shared `Critic` joins them before
PacGAN packs, as CTGAN does): Linear-LeakyReLU(0.2) layers. CTGAN also applies dropout 0.5 after
each; the step gives D no random stream, so there is none here (stated in the experiment README).
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models.layers import batch_norm

GUMBEL_TAU = 0.2  # CTGAN's temperature for the one-hot blocks


def gumbel_from_normal(u: jax.Array) -> jax.Array:
    """Gumbel(0, 1) noise from standard normal noise: Phi(u) is uniform on (0, 1)."""
    p = jnp.clip(jax.scipy.stats.norm.cdf(u), 1e-6, 1 - 1e-6)
    return -jnp.log(-jnp.log(p))


class Generator(nn.Module):
    spans: tuple[tuple[int, int, str], ...]  # (start, width, "tanh" | "softmax") covering the row
    latent_dim: int                          # the network's share of z; the rest is Gumbel noise
    hidden: Sequence[int] = (256, 256)
    tau: float = GUMBEL_TAU
    batch_stats_axis: str | None = None

    @property
    def noise_dim(self) -> int:
        return sum(w for _, w, act in self.spans if act == "softmax")

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None = None, train: bool = True) -> jax.Array:
        h, noise = z[:, :self.latent_dim], z[:, self.latent_dim:]
        if y is not None:
            h = jnp.concatenate([h, y], axis=-1)
        for width in self.hidden:  # CTGAN's Residual: the block's output joins its input
            out = nn.relu(batch_norm(train, self.batch_stats_axis)(nn.Dense(width)(h)))
            h = jnp.concatenate([out, h], axis=-1)
        logits = nn.Dense(sum(w for _, w, _ in self.spans))(h)
        # CTGAN's conditional loss reads the raw logits; a no-op unless "intermediates" is mutable.
        self.sow("intermediates", "logits", logits)
        gumbel = gumbel_from_normal(noise)
        parts, used = [], 0
        for start, width, act in self.spans:
            block = logits[:, start:start + width]
            if act == "tanh":
                parts.append(jnp.tanh(block))
            else:
                parts.append(jax.nn.softmax((block + gumbel[:, used:used + width]) / self.tau))
                used += width
        return jnp.concatenate(parts, axis=-1)


class Discriminator(nn.Module):
    """The trunk: a (packed) row joined with its condition -> features."""

    hidden: Sequence[int] = (256, 256)
    leak: float = 0.2

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        h = x.reshape(x.shape[0], -1)
        for width in self.hidden:
            h = nn.leaky_relu(nn.Dense(width)(h), self.leak)
        return h


def span_log_probs(logits: jax.Array, spans: tuple[tuple[int, int, str], ...]) -> jax.Array:
    """[B, W] raw logits -> the same layout with every softmax span replaced by its log-softmax
    (tanh spans are kept as they are; they are never read as probabilities)."""
    return jnp.concatenate([jax.nn.log_softmax(logits[:, s:s + w]) if act == "softmax"
                            else logits[:, s:s + w] for s, w, act in spans], axis=-1)


def condition_loss(logits: jax.Array, condition: jax.Array, option_positions: jax.Array,
                   spans: tuple[tuple[int, int, str], ...]) -> jax.Array:
    """CTGAN's conditional loss (Xu et al. 2019): the cross-entropy of G's raw logits over the
    asked column's categories against the asked category, mean over rows.

    `logits` [B, W] are G's pre-activation outputs (no Gumbel noise, no temperature: taking
    -log of the tau-0.2 Gumbel-softmax sample instead gives almost no gradient exactly when G
    is most wrong); `option_positions[o]` is option o's place in the row; `condition` rows are
    one-hot over options."""
    log_p = span_log_probs(logits, spans)[:, option_positions]
    return -jnp.mean(jnp.sum(condition * log_p, axis=-1))

