"""The ResNet generator and discriminator of SNGAN (Miyato et al. 2018, Appendix B, CIFAR-10 version).

G: z -> FC s*s*width -> s x s -> k up-blocks -> BN-ReLU-conv3x3 C -> output activation, with
   s = H / 2^k, k = 3 if H % 8 == 0 else 2 (32x32: 4 -> 8 -> 16 -> 32; 28x28: 7 -> 14 -> 28),
   plus one up-block per further halving while s is even and at least 8, so that G always
   starts below 8x8 as in the paper (64x64: 4 -> 8 -> 16 -> 32 -> 64).
   Up-block: BN-ReLU-up2-conv3x3-BN-ReLU-conv3x3, shortcut up2-conv1x1. With num_classes > 0
   every BN is class-conditional (Miyato & Koyama 2018).
D (trunk): x -> OptimizedBlock (down) -> DownBlock(s) -> Block -> Block -> ReLU -> global sum
   pool, giving features [B, width] (32x32: 32 -> 16 -> 8; 28x28: 28 -> 14 -> 7). D has one
   DownBlock more for each up-block G has beyond the paper's rule (64x64: 64 -> 32 -> 16 -> 8).
   The caller adds the final linear layer (and, for a conditional D, the projection term).
No spectral norm here: the caller decides how D is regularised.

Initialisers follow the SNGAN code (Chainer): Glorot-uniform with gain sqrt(2) on the residual
convolutions (they feed a ReLU), plain Glorot-uniform on shortcuts, the dense layer and G's output
convolution.
"""

from __future__ import annotations

from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models.layers import ConditionalBatchNorm, batch_norm

# Glorot-uniform scaled by gain^2 = 2 (variance_scaling's scale is the squared gain).
RESIDUAL_INIT = nn.initializers.variance_scaling(2.0, "fan_avg", "uniform")
PLAIN_INIT = nn.initializers.xavier_uniform()


def conv3x3(features: int, init: Callable = RESIDUAL_INIT) -> nn.Conv:
    return nn.Conv(features, (3, 3), padding="SAME", kernel_init=init)


def conv1x1(features: int) -> nn.Conv:
    return nn.Conv(features, (1, 1), padding="VALID", kernel_init=PLAIN_INIT)


def upsample2(x: jax.Array) -> jax.Array:
    """Nearest-neighbour x2 upsampling of [B, H, W, C]."""
    return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def avgpool2(x: jax.Array) -> jax.Array:
    """2x2 average pooling, stride 2, of [B, H, W, C] with H, W even."""
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def generator_layout(out_shape: tuple[int, ...]) -> tuple[int, int]:
    """(s, k): G starts at s x s and doubles k times to reach H x W (see the module docstring)."""
    if len(out_shape) != 3 or out_shape[0] != out_shape[1]:
        raise ValueError(f"resnet needs square images [H, W, C], got {out_shape}")
    h = out_shape[0]
    k = 3 if h % 8 == 0 else 2
    if h <= 0 or h % 2 ** k:
        raise ValueError(f"resnet needs a height divisible by 4, got {out_shape}")
    s = h // 2 ** k
    while s >= 8 and s % 2 == 0:  # larger images: more up-blocks, not a larger start
        s, k = s // 2, k + 1
    return s, k


def extra_blocks(shape: tuple[int, ...]) -> int:
    """Up-blocks G has beyond the paper's 2 (28x28) or 3 (32x32); D adds as many DownBlocks."""
    h = shape[0]
    return generator_layout(shape)[1] - (3 if h % 8 == 0 else 2)


class Norm(nn.Module):
    """BatchNorm, class-conditional when num_classes > 0."""

    num_classes: int = 0
    axis_name: str | None = None  # synchronised batch norm over this axis (layers.batch_norm)

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None, train: bool) -> jax.Array:
        if self.num_classes > 0:
            return ConditionalBatchNorm(self.num_classes, axis_name=self.axis_name)(x, y, train)
        return batch_norm(train, self.axis_name)(x)


class UpBlock(nn.Module):
    features: int
    num_classes: int = 0
    batch_stats_axis: str | None = None

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None, train: bool) -> jax.Array:
        h = nn.relu(Norm(self.num_classes, self.batch_stats_axis)(x, y, train))
        h = conv3x3(self.features)(upsample2(h))
        h = nn.relu(Norm(self.num_classes, self.batch_stats_axis)(h, y, train))
        h = conv3x3(self.features)(h)
        # The shortcut must upsample too, so it is a learnt 1x1 conv rather than the identity.
        return h + conv1x1(self.features)(upsample2(x))


class Generator(nn.Module):
    out_shape: tuple[int, int, int]
    out_act: Callable[[jax.Array], jax.Array]
    width: int = 256
    num_classes: int = 0
    batch_stats_axis: str | None = None  # synchronised batch norm over this axis

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None = None, train: bool = True) -> jax.Array:
        if self.num_classes > 0 and y is None:
            raise ValueError("a conditional generator needs labels y")
        s, k = generator_layout(self.out_shape)
        x = nn.Dense(s * s * self.width, kernel_init=PLAIN_INIT)(z)
        x = x.reshape(z.shape[0], s, s, self.width)
        for _ in range(k):
            x = UpBlock(self.width, self.num_classes, self.batch_stats_axis)(x, y, train)
        x = nn.relu(Norm(self.num_classes, self.batch_stats_axis)(x, y, train))
        x = conv3x3(self.out_shape[2], PLAIN_INIT)(x)
        return self.out_act(x)


class OptimizedBlock(nn.Module):
    """D's first block: no ReLU before the first conv (it would clip the raw image), pooled shortcut
    before its 1x1 conv (cheaper on the 3-channel input)."""

    features: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        h = conv3x3(self.features)(x)
        h = avgpool2(conv3x3(self.features)(nn.relu(h)))
        return h + conv1x1(self.features)(avgpool2(x))


class DownBlock(nn.Module):
    features: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        h = conv3x3(self.features)(nn.relu(x))
        h = avgpool2(conv3x3(self.features)(nn.relu(h)))
        return h + avgpool2(conv1x1(self.features)(x))


class Block(nn.Module):
    features: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        h = conv3x3(self.features)(nn.relu(x))
        h = conv3x3(self.features)(nn.relu(h))
        return h + x


class Discriminator(nn.Module):
    """D's trunk: images [B, H, W, C] -> features [B, width]; no logits (see the module docstring)."""

    width: int = 128

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        del train  # no batch norm in D; the argument keeps the interface uniform
        extra = extra_blocks(tuple(x.shape[1:]))
        x = OptimizedBlock(self.width)(x)
        for _ in range(1 + extra):
            x = DownBlock(self.width)(x)
        x = Block(self.width)(x)
        x = Block(self.width)(x)
        # Global sum (not mean) pooling, as in the SNGAN code.
        return nn.relu(x).sum(axis=(1, 2))
