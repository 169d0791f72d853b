"""The InfoGAN-style DCGAN used by Lucic et al. (2018) for (Fashion-)MNIST.

G: z -> FC1024-BN-ReLU -> FC (H/4)(W/4)128-BN-ReLU -> deconv64 4x4 s2-BN-ReLU -> deconv C 4x4 s2
   -> output activation.
D: x -> conv64 4x4 s2-lReLU -> conv128 4x4 s2-[BN]-lReLU -> FC1024-[BN]-lReLU (the trunk here)
   -> FC1 (logit, added by `critic.Critic`).
Any H, W divisible by 4 and any channel count C work (28x28x1, 32x32x3, ...). With
`num_classes > 0` the generator's batch norms become class-conditional (de Vries et al. 2017).
"""

from __future__ import annotations

from typing import Callable

import flax.linen as nn
import jax

from gan_jax.models.layers import ConditionalBatchNorm, Conv2x, ConvTranspose2x, batch_norm


class Generator(nn.Module):
    out_shape: tuple[int, int, int]
    out_act: Callable[[jax.Array], jax.Array]
    width: int = 64
    fc_width: int = 1024
    init_std: float = 0.02
    num_classes: int = 0
    batch_stats_axis: str | None = None  # synchronised batch norm (layers.batch_norm)

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None = None, train: bool = True) -> jax.Array:
        h, w, c = self.out_shape
        init = nn.initializers.normal(self.init_std)
        axis = self.batch_stats_axis

        def norm(x):
            if self.num_classes:
                return ConditionalBatchNorm(self.num_classes, axis_name=axis)(x, y, train)
            return batch_norm(train, axis)(x)

        x = nn.relu(norm(nn.Dense(self.fc_width, kernel_init=init)(z)))
        x = nn.Dense((h // 4) * (w // 4) * 2 * self.width, kernel_init=init)(x)
        x = nn.relu(norm(x))
        x = x.reshape(z.shape[0], h // 4, w // 4, 2 * self.width)
        x = nn.relu(norm(ConvTranspose2x(self.width, kernel_init=init)(x)))
        x = ConvTranspose2x(c, kernel_init=init)(x)
        return self.out_act(x)


class Discriminator(nn.Module):
    """The trunk: x -> FC1024 features."""

    width: int = 64
    fc_width: int = 1024
    batch_norm: bool = False
    leak: float = 0.2
    init_std: float = 0.02
    batch_stats_axis: str | None = None

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        init = nn.initializers.normal(self.init_std)
        act = lambda y: nn.leaky_relu(y, self.leak)  # noqa: E731
        axis = self.batch_stats_axis
        norm = (lambda y: batch_norm(train, axis)(y)) if self.batch_norm else (lambda y: y)
        x = act(Conv2x(self.width, kernel_init=init)(x))
        x = act(norm(Conv2x(2 * self.width, kernel_init=init)(x)))
        x = x.reshape(x.shape[0], -1)
        return act(norm(nn.Dense(self.fc_width, kernel_init=init)(x)))

