"""The fast DCGAN layers are exact reformulations of (transposed) strided convolutions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.models.layers import conv_4x4_s2, conv_transpose_4x4_s2


def transposed_conv_by_definition(x, w):
    """PyTorch's conv_transpose2d(stride=2, padding=1) written as its scatter definition."""
    n, h, wd, _ = x.shape
    out = np.zeros((n, 2 * h + 2, 2 * wd + 2, w.shape[-1]))
    for i in range(h):
        for j in range(wd):
            for a in range(4):
                for b in range(4):
                    out[:, 2 * i + a, 2 * j + b] += x[:, i, j] @ w[a, b]
    return out[:, 1:-1, 1:-1]


def lax_conv_transpose(x, w):
    # Same operator through XLA's convolution: lhs dilation 2, flipped kernel, padding k-1-p = 2.
    return jax.lax.conv_general_dilated(x, w[::-1, ::-1], (1, 1), ((2, 2), (2, 2)), lhs_dilation=(2, 2),
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))


def lax_conv(x, w):
    return jax.lax.conv_general_dilated(x, w, (2, 2), ((1, 1), (1, 1)),
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 7, 7, 3)])
def test_conv_transpose_equals_definition(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((4, 4, shape[-1], 6)).astype(np.float32)
    got = jax.jit(conv_transpose_4x4_s2)(x, w)
    assert got.shape == (shape[0], 2 * shape[1], 2 * shape[2], 6)
    np.testing.assert_allclose(got, transposed_conv_by_definition(x, w), atol=1e-4)
    np.testing.assert_allclose(got, lax_conv_transpose(x, w), atol=1e-4)


def test_conv_equals_lax_conv():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 14, 10, 3)).astype(np.float32)
    w = rng.standard_normal((4, 4, 3, 5)).astype(np.float32)
    np.testing.assert_allclose(jax.jit(conv_4x4_s2)(x, w), lax_conv(x, w), atol=1e-4)


@pytest.mark.parametrize("fast, reference, in_hw", [(conv_transpose_4x4_s2, lax_conv_transpose, 5),
                                                    (conv_4x4_s2, lax_conv, 8)])
def test_gradients_match_reference(fast, reference, in_hw):
    rng = np.random.default_rng(2)
    x = jnp.asarray(rng.standard_normal((2, in_hw, in_hw, 3)), jnp.float32)
    w = jnp.asarray(rng.standard_normal((4, 4, 3, 4)), jnp.float32)
    loss = lambda f: lambda x, w: jnp.sum(jnp.sin(f(x, w)))  # noqa: E731
    got = jax.jit(jax.grad(loss(fast), argnums=(0, 1)))(x, w)
    want = jax.grad(loss(reference), argnums=(0, 1))(x, w)
    for g, r in zip(got, want):
        np.testing.assert_allclose(g, r, atol=1e-3, rtol=1e-4)
