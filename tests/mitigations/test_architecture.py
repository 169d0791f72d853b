"""Packing, spectral normalisation and the minibatch layers: their defining properties."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.errors import ConfigError
from gan_jax.mitigations import architecture
from gan_jax.models import mlp
from gan_jax.models.critic import Critic, pack
from gan_jax.models.layers import Conv2x


def test_pack_puts_m_samples_side_by_side_in_channels():
    x = jnp.arange(6 * 4 * 4 * 3, dtype=jnp.float32).reshape(6, 4, 4, 3)
    packed = pack(x, 2)
    assert packed.shape == (3, 4, 4, 6)
    np.testing.assert_array_equal(packed[1, ..., :3], x[2])
    np.testing.assert_array_equal(packed[1, ..., 3:], x[3])
    points = jnp.arange(12.0).reshape(6, 2)
    np.testing.assert_array_equal(pack(points, 3), points.reshape(2, 6))


def test_packed_critic_scores_packs_and_checks_the_batch():
    critic = Critic(mlp.Discriminator((8,)), pack=4)
    x = jnp.ones((8, 2))
    variables = critic.init(jax.random.PRNGKey(0), x)
    assert variables["params"]["trunk"]["Dense_0"]["kernel"].shape == (8, 8)  # input 4 x 2
    assert critic.apply(variables, x).logits.shape == (2,)
    with pytest.raises(ConfigError, match="trainer.batch_size"):
        architecture.build_pacgan({"m": 3}, None, 64)


class Plain(nn.Module):
    """A layer with the models' call signature (they all take `train`)."""

    layer: nn.Module

    @nn.compact
    def __call__(self, x, train=True):
        return self.layer(x)


def power_iterate(module, x, steps):
    variables = module.init(jax.random.PRNGKey(0), x)
    params, stats = variables["params"], variables["batch_stats"]
    for _ in range(steps):
        out, updated = module.apply({"params": params, "batch_stats": stats}, x, train=True,
                                    mutable=["batch_stats"])
        stats = updated["batch_stats"]
    return params, stats, out


def test_spectral_norm_makes_the_largest_singular_value_one():
    dense = architecture.SpectralNormed(Plain(nn.Dense(8, use_bias=False)))
    params, stats, out = power_iterate(dense, jnp.eye(16), 30)
    # With x = I the output is the normalised weight matrix itself.
    np.testing.assert_allclose(np.linalg.svd(np.asarray(out), compute_uv=False)[0], 1.0, atol=1e-3)
    kernel = params["inner"]["layer"]["kernel"]
    assert np.linalg.svd(np.asarray(kernel), compute_uv=False)[0] > 1.5  # raw weights are not


def test_spectral_norm_estimates_conv_kernels_sigma():
    conv = architecture.SpectralNormed(Plain(Conv2x(6)))
    params, stats, _ = power_iterate(conv, jnp.ones((2, 8, 8, 3)), 30)
    kernel = np.asarray(params["inner"]["layer"]["kernel"])
    [sigma] = architecture.sigmas(stats)
    want = np.linalg.svd(kernel.reshape(-1, 6), compute_uv=False)[0]
    np.testing.assert_allclose(sigma, want, rtol=1e-3)


def test_minibatch_std_appends_the_group_std():
    h = jnp.array([[1.0, 0.0], [3.0, 0.0], [1.0, 4.0], [3.0, 4.0]])  # groups {0, 2} and {1, 3}
    out = architecture.MinibatchStd(group_size=2).apply({}, h)
    assert out.shape == (4, 3)
    np.testing.assert_array_equal(out[:, :2], h)
    # group {0,2}: feature stds (0, 2) -> mean 1; group {1,3}: same; eps 1e-8 inside the sqrt.
    np.testing.assert_allclose(out[:, 2], [1.0, 1.0, 1.0, 1.0], atol=1e-4)
    same = architecture.MinibatchStd(group_size=4).apply({}, jnp.ones((4, 5)))
    np.testing.assert_allclose(same[:, -1], 1e-4, rtol=1e-3)


def test_minibatch_discrimination_counts_close_samples():
    layer = architecture.MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
    variables = layer.init(jax.random.PRNGKey(0), jnp.ones((4, 5)))
    same = layer.apply(variables, jnp.ones((4, 5)))
    np.testing.assert_allclose(same[:, 5:], 4.0)  # every sample equals all 4 (itself included)
    far = layer.apply(variables, 1e4 * jax.random.normal(jax.random.PRNGKey(1), (4, 5)))
    np.testing.assert_allclose(far[:, 5:], 1.0, atol=1e-6)  # only itself


def test_group_size_must_divide_the_batch():
    with pytest.raises(ConfigError, match="group_size"):
        architecture.build_minibatch_std({"group_size": 5}, None, 64)
