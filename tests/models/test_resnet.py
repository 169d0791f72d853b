"""The SNGAN-style ResNet generator / discriminator trunk and conditional batch norm."""

import zlib

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.models import resnet
from gan_jax.models.layers import ConditionalBatchNorm

B, Z = 4, 8


@pytest.mark.parametrize("shape,act,lo,hi", [((28, 28, 1), nn.sigmoid, 0.0, 1.0),
                                             ((32, 32, 3), jnp.tanh, -1.0, 1.0)])
def test_generator_shapes_and_range(shape, act, lo, hi):
    g = resnet.Generator(shape, act, width=16)
    z = jax.random.normal(jax.random.PRNGKey(0), (B, Z))
    variables = g.init(jax.random.PRNGKey(1), z)
    x, _ = g.apply(variables, z, mutable=["batch_stats"])
    assert x.shape == (B, *shape)
    assert np.all(np.asarray(x) >= lo) and np.all(np.asarray(x) <= hi)


@pytest.mark.parametrize("shape,s,k", [((28, 28, 1), 7, 2), ((32, 32, 3), 4, 3), ((48, 48, 3), 6, 3),
                                       ((64, 64, 3), 4, 4), ((128, 128, 1), 4, 5)])
def test_generator_layout(shape, s, k):
    assert resnet.generator_layout(shape) == (s, k)


@pytest.mark.parametrize("side,downs", [(28, 1), (32, 1), (64, 2), (128, 3)])
def test_blocks_follow_the_resolution(side, downs):
    """Larger images get one more up-block in G and one more DownBlock in D per doubling."""
    g = resnet.Generator((side, side, 3), jnp.tanh, width=4)
    d = resnet.Discriminator(width=4)
    z = jnp.zeros((2, Z))
    g_params = jax.eval_shape(g.init, jax.random.PRNGKey(0), z)["params"]
    x = jax.eval_shape(lambda v: g.apply(v, z, mutable=["batch_stats"])[0],
                       jax.eval_shape(g.init, jax.random.PRNGKey(0), z))
    d_params = jax.eval_shape(d.init, jax.random.PRNGKey(0), x)["params"]
    assert x.shape == (2, side, side, 3)
    assert sum(n.startswith("UpBlock") for n in g_params) == resnet.generator_layout(x.shape[1:])[1]
    assert sum(n.startswith("DownBlock") for n in d_params) == downs
    assert jax.eval_shape(d.apply, {"params": d_params}, x).shape == (2, 4)


@pytest.mark.parametrize("shape", [(30, 30, 1), (32, 28, 3), (32, 32)])
def test_generator_rejects_bad_shapes(shape):
    with pytest.raises(ValueError):
        resnet.generator_layout(shape)


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (64, 64, 3)])
def test_discriminator_trunk_features(shape):
    d = resnet.Discriminator(width=16)
    x = jax.random.uniform(jax.random.PRNGKey(0), (B, *shape))
    params = d.init(jax.random.PRNGKey(1), x)
    f = d.apply(params, x)
    assert f.shape == (B, 16)
    assert np.all(np.asarray(f) >= 0)  # ReLU before the sum pooling


def test_discriminator_input_gradients_finite():
    d = resnet.Discriminator(width=16)
    x = jax.random.uniform(jax.random.PRNGKey(0), (B, 32, 32, 3))
    params = d.init(jax.random.PRNGKey(1), x)
    grad = jax.grad(lambda x: d.apply(params, x).sum())(x)
    assert grad.shape == x.shape
    assert np.all(np.isfinite(np.asarray(grad))) and np.any(np.asarray(grad) != 0)


def test_conditional_generator_depends_on_labels():
    g = resnet.Generator((28, 28, 1), nn.sigmoid, width=16, num_classes=10)
    z = jax.random.normal(jax.random.PRNGKey(0), (B, Z))
    y0 = jnp.zeros(B, jnp.int32)
    variables = g.init(jax.random.PRNGKey(1), z, y0)
    # Fresh gains/biases are 1/0 for every class; give them class-specific values.
    def perturb(path, p):
        if "ConditionalBatchNorm" not in jax.tree_util.keystr(path):
            return p
        key = jax.random.PRNGKey(zlib.crc32(jax.tree_util.keystr(path).encode()))
        return p + 0.5 * jax.random.normal(key, p.shape)

    params = jax.tree_util.tree_map_with_path(perturb, variables["params"])
    variables = {**variables, "params": params}
    x0 = g.apply(variables, z, y0, train=False)
    x1 = g.apply(variables, z, y0 + 3, train=False)
    assert x0.shape == (B, 28, 28, 1)
    assert not np.allclose(np.asarray(x0), np.asarray(x1))
    with pytest.raises(ValueError):
        g.apply(variables, z, train=False)


@pytest.mark.parametrize("shape", [(B, 5), (B, 3, 3, 5)])
def test_conditional_batch_norm_by_hand(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32) * 3 + 1
    y = np.array([0, 2, 1, 2], np.int32)
    cbn = ConditionalBatchNorm(num_classes=3)
    variables = cbn.init(jax.random.PRNGKey(0), x, y, train=True)
    gamma = rng.standard_normal((3, 5)).astype(np.float32)
    beta = rng.standard_normal((3, 5)).astype(np.float32)
    params = {**variables["params"], "gain": {"embedding": gamma}, "bias": {"embedding": beta}}
    out, _ = cbn.apply({**variables, "params": params}, x, y, train=True, mutable=["batch_stats"])
    axes = tuple(range(x.ndim - 1))
    xhat = (x - x.mean(axes)) / np.sqrt(x.var(axes) + 1e-5)
    bshape = (B,) + (1,) * (x.ndim - 2) + (5,)
    expected = gamma[y].reshape(bshape) * xhat + beta[y].reshape(bshape)
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-4, atol=1e-4)


def test_conditional_batch_norm_starts_as_plain_batch_norm():
    x = np.random.default_rng(1).standard_normal((B, 2, 2, 3)).astype(np.float32)
    y = np.array([0, 1, 0, 1], np.int32)
    cbn = ConditionalBatchNorm(num_classes=2)
    variables = cbn.init(jax.random.PRNGKey(0), x, y, train=True)
    out, _ = cbn.apply(variables, x, y, train=True, mutable=["batch_stats"])
    ref = nn.BatchNorm(use_running_average=False, epsilon=1e-5)
    ref_out, _ = ref.apply(ref.init(jax.random.PRNGKey(0), x), x, mutable=["batch_stats"])
    np.testing.assert_allclose(np.asarray(out), np.asarray(ref_out), rtol=1e-5, atol=1e-5)
