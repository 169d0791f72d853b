"""Layers shared by the generators and discriminators."""

from __future__ import annotations

from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": nn.relu,
    "leaky_relu": lambda x: nn.leaky_relu(x, 0.2),
    "tanh": jnp.tanh,
    "elu": nn.elu,
    "gelu": nn.gelu,
}


def activation(name: str) -> Callable[[jax.Array], jax.Array]:
    return ACTIVATIONS[name]


def output_activation(value_range: tuple[float, float] | None) -> Callable[[jax.Array], jax.Array]:
    """The generator's last nonlinearity, chosen from the data's value range."""
    if value_range is None:
        return lambda x: x
    if tuple(value_range) == (0.0, 1.0):
        return nn.sigmoid
    if tuple(value_range) == (-1.0, 1.0):
        return jnp.tanh
    raise ValueError(f"no output activation for value range {value_range}")


def conv_transpose_4x4_s2(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """Transposed convolution, kernel 4x4, stride 2, padding 1 (PyTorch's semantics): HxW -> 2Hx2W.

    Defined by out[2i + a - 1, 2j + b - 1] += x[i, j] @ kernel[a, b] (NHWC, kernel [4, 4, in, out]).
    Computed as one matmul of every input pixel with all 16 taps followed by an overlap-add
    ("col2im"): tap a = 2s + r lands on output row 2(i + s) + r - 1, so the 4x4 taps split into
    four 2x2 phase blocks, each a depth-to-space shifted by (2sy, 2sx). This is exact (same
    arithmetic, no zero taps) and its backward pass is two plain matmuls, which on XLA:CPU is
    several times faster than the backward pass of `lax.conv_transpose`.
    """
    n, h, w, cin = x.shape
    cout = kernel.shape[-1]
    # kernel [a=(sy,ry), b=(sx,rx), cin, cout] -> [cin, (sy, sx, ry, rx, cout)]
    k = kernel.reshape(2, 2, 2, 2, cin, cout).transpose(4, 0, 2, 1, 3, 5).reshape(cin, 16 * cout)
    cols = (x.reshape(n * h * w, cin) @ k).reshape(n, h, w, 2, 2, 2, 2, cout)
    out = jnp.zeros((n, 2 * h + 2, 2 * w + 2, cout), x.dtype)
    for sy in (0, 1):
        for sx in (0, 1):
            # [n, i, j, ry, rx, c] -> [n, 2i + ry, 2j + rx, c]
            phase = cols[:, :, :, sy, sx].transpose(0, 1, 3, 2, 4, 5).reshape(n, 2 * h, 2 * w, cout)
            out = out + jnp.pad(phase, ((0, 0), (2 * sy, 2 - 2 * sy), (2 * sx, 2 - 2 * sx), (0, 0)))
    return out[:, 1:-1, 1:-1]


def conv_4x4_s2(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """Convolution, kernel 4x4, stride 2, padding 1: HxW -> H/2xW/2 (H, W even).

    out[i, j] = sum_{a,b} xpad[2i + a, 2j + b] @ kernel[a, b] (NHWC, kernel [4, 4, in, out]).
    Computed as space-to-depth of the padded input, the four 2x2 neighbours of each cell
    gathered into one patch, and a single matmul with the (permuted) kernel. Exact; used
    because XLA:CPU runs the backward pass of a strided `lax.conv` several times slower
    inside `lax.scan` than outside it, while matmuls keep their speed.
    """
    n, h, w, cin = x.shape
    cout = kernel.shape[-1]
    hs, ws = h // 2 + 1, w // 2 + 1
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    cells = xp.reshape(n, hs, 2, ws, 2, cin).transpose(0, 1, 3, 2, 4, 5).reshape(n, hs, ws, 4 * cin)
    patches = jnp.concatenate([cells[:, a:a + hs - 1, b:b + ws - 1] for a in (0, 1) for b in (0, 1)],
                              axis=-1)
    # kernel [ky=(a,ry), kx=(b,rx), cin, cout] -> [(a, b, ry, rx, cin), cout]
    k = kernel.reshape(2, 2, 2, 2, cin, cout).transpose(0, 2, 1, 3, 4, 5).reshape(16 * cin, cout)
    return patches @ k


class Conv2x(nn.Module):
    """4x4 stride-2 convolution that halves height and width (DCGAN's down-sampler)."""

    features: int
    use_bias: bool = True
    kernel_init: Callable = nn.initializers.lecun_normal()
    op = staticmethod(conv_4x4_s2)  # not a dataclass field: subclasses swap the operator

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kernel = self.param("kernel", self.kernel_init, (4, 4, x.shape[-1], self.features))
        y = self.op(x, kernel)
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,))
        return y


class ConvTranspose2x(Conv2x):
    """4x4 stride-2 transposed convolution that doubles height and width (DCGAN's up-sampler)."""

    op = staticmethod(conv_transpose_4x4_s2)


class Maxout(nn.Module):
    """Maxout layer (Goodfellow et al. 2013): `pieces` affine maps per unit, output their maximum.

    One Dense of features * pieces outputs; unit j takes the max of columns [j*pieces, (j+1)*pieces).
    The max is itself the nonlinearity, so no activation follows.
    """

    features: int
    pieces: int
    kernel_init: Callable = nn.initializers.lecun_normal()

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        y = nn.Dense(self.features * self.pieces, kernel_init=self.kernel_init)(x)
        return jnp.max(y.reshape(*y.shape[:-1], self.features, self.pieces), axis=-1)


def batch_norm(train: bool, axis_name: str | None = None) -> nn.BatchNorm:
    """BatchNorm with PyTorch's defaults (momentum 0.1 there = 0.9 here, eps 1e-5).

    axis_name: a mapped axis (`jax.pmap`) whose replicas share batch statistics (synchronised
    batch norm: the statistics of the global batch); None: each device's own batch.
    """
    return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                        axis_name=axis_name)


class ConditionalBatchNorm(nn.Module):
    """BatchNorm whose gain and bias are looked up per class (de Vries et al. 2017; Miyato & Koyama 2018).

    x is normalised with batch statistics (running averages at eval) but without a learnt affine
    of its own; gamma[y] * xhat + beta[y] then follows, broadcast over any spatial dims, so
    x may be [B, C] or [B, H, W, C]. y is int [B].
    """

    num_classes: int
    momentum: float = 0.9
    epsilon: float = 1e-5
    axis_name: str | None = None  # see `batch_norm`

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array, train: bool) -> jax.Array:
        c = x.shape[-1]
        x = nn.BatchNorm(use_running_average=not train, momentum=self.momentum, epsilon=self.epsilon,
                         use_scale=False, use_bias=False, axis_name=self.axis_name)(x)
        # Gain starts at one and bias at zero, so every class begins as plain BatchNorm.
        gamma = nn.Embed(self.num_classes, c, embedding_init=nn.initializers.ones, name="gain")(y)
        beta = nn.Embed(self.num_classes, c, embedding_init=nn.initializers.zeros, name="bias")(y)
        bshape = (x.shape[0],) + (1,) * (x.ndim - 2) + (c,)
        return gamma.reshape(bshape) * x + beta.reshape(bshape)
