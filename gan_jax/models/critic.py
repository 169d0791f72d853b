"""The discriminator shared by every architecture: a feature trunk and the heads on top of it.

    x -> [pack m samples] -> trunk -> features h -> [feature layers] -> logit = w.h + b
                                                                      [+ <embed(y), h>]  projection
                                                                      [class logits]     ACGAN

Architectures only supply the trunk (x -> h [B, F]); packing (PacGAN), minibatch layers,
projection (Miyato & Koyama 2018) and the auxiliary classifier (Odena et al. 2017) are options of
this one module, so every mitigation and conditioning works with every architecture.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

CONDITIONINGS = ("projection", "acgan")


class CriticOutput(NamedTuple):
    logits: jax.Array                 # [B / pack], or [B, R] for a trunk with R representations (RelGAN)
    features: jax.Array               # [B / pack, F]: the input of the linear head
    class_logits: jax.Array | None    # [B / pack, num_classes] with ACGAN, else None


def pack(x: jax.Array, m: int) -> jax.Array:
    """PacGAN packing: m consecutive samples become one input with m times the channels.

    [B, ..., C] -> [B/m, ..., m*C]; sample i of a pack occupies channels [i*C, (i+1)*C).
    """
    b, rest = x.shape[0], x.shape[1:]
    if b % m:
        raise ValueError(f"PacGAN needs the batch ({b}) divisible by the packing degree ({m})")
    x = jnp.moveaxis(x.reshape(b // m, m, *rest), 1, -2)
    return x.reshape(b // m, *rest[:-1], m * rest[-1])


class Critic(nn.Module):
    trunk: nn.Module
    feature_layers: Sequence[nn.Module] = ()
    pack: int = 1
    num_classes: int = 0
    conditioning: str | None = None   # None | "projection" | "acgan" (needs num_classes)
    head_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
    trunk_reads_condition: bool = False  # the trunk takes (x, y): it uses the condition itself (CFGAN)
    joins_condition: bool = False  # x becomes [x, y] (one vector per example) before packing (CTGAN)

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None = None, train: bool = True) -> CriticOutput:
        if self.joins_condition:
            x = jnp.concatenate([x.reshape(x.shape[0], -1), y.reshape(y.shape[0], -1)], axis=-1)
        if self.pack > 1:
            x = pack(x, self.pack)
        if self.trunk_reads_condition:
            if self.pack > 1:
                raise ValueError("PacGAN packs D's inputs, but this trunk reads one condition per "
                                 "input; drop mitigation=pacgan for this model")
            h = self.trunk(x, y, train=train)
        else:
            h = self.trunk(x, train=train)
        for layer in self.feature_layers:
            h = layer(h)
        logits = nn.Dense(1, kernel_init=self.head_init, name="head")(h)[..., 0]
        class_logits = None
        # h: [B, F], or [B, R, F] for a trunk with R representations (RelGAN): the label
        # projects onto every representation, and the class logits are averaged over them.
        if self.conditioning == "projection":
            e = nn.Embed(self.num_classes, h.shape[-1], name="embed")(y)
            logits = logits + jnp.sum((e if h.ndim == 2 else e[:, None]) * h, -1)
        elif self.conditioning == "acgan":
            class_logits = nn.Dense(self.num_classes, kernel_init=self.head_init, name="classifier")(h)
            class_logits = class_logits if h.ndim == 2 else class_logits.mean(axis=1)
        return CriticOutput(logits, h, class_logits)


def find_critic(module: nn.Module) -> Critic | None:
    """The `Critic` inside D, through wrappers that hold it as `inner` (spectral norm); None
    for a discriminator built without one."""
    while module is not None and not isinstance(module, Critic):
        module = getattr(module, "inner", None)
    return module


def input_geometry(module: nn.Module) -> dict:
    """How D reads its inputs, for gradient penalties: samples per input (`pack`) and whether
    each example's condition vector is joined to it (`condition_is_input`)."""
    critic = find_critic(module)
    if critic is None:
        return {}
    return {"pack": critic.pack, "condition_is_input": critic.joins_condition}
