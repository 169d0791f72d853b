import jax
import numpy as np
import pytest

from gan_jax.data import build, fashion_mnist, stacked_fashion_mnist
from gan_jax.errors import ConfigError
from tests.conftest import make_cfg


def test_channels_are_the_indexed_images_and_the_label_their_triple(fake_fmnist):
    data = build(make_cfg(["data=stacked_fashion_mnist", f"data.root={fake_fmnist}",
                          "data.num_points=500"])["data"])
    images, labels = fashion_mnist.load_numpy("train", str(fake_fmnist))
    assert data.shape == (28, 28, 3) and data.num_examples == 500 and data.value_range == (0.0, 1.0)
    x, mode = jax.jit(data.sample, static_argnums=2)(data.arrays, jax.random.PRNGKey(0), 64)
    x, mode = np.asarray(x), np.asarray(mode)
    assert x.shape == (64, 28, 28, 3) and x.dtype == np.float32
    for i in range(64):  # each channel is one real image; the label spells its three categories
        idx = [int(np.flatnonzero((images[..., 0] == np.round(x[i, ..., c] * 255)).all((1, 2)))[0])
               for c in range(3)]
        assert mode[i] == 100 * labels[idx[0]] + 10 * labels[idx[1]] + labels[idx[2]]
    assert 0 <= mode.min() and mode.max() < stacked_fashion_mnist.NUM_MODES


def test_fixed_training_set_is_drawn_once_from_the_seed(fake_fmnist):
    a = build(make_cfg(["data=stacked_fashion_mnist", f"data.root={fake_fmnist}",
                       "data.num_points=100", "data.seed=1"])["data"])
    b = build(make_cfg(["data=stacked_fashion_mnist", f"data.root={fake_fmnist}",
                       "data.num_points=100", "data.seed=1"])["data"])
    c = build(make_cfg(["data=stacked_fashion_mnist", f"data.root={fake_fmnist}",
                       "data.num_points=100", "data.seed=2"])["data"])
    assert np.array_equal(a.arrays["x"], b.arrays["x"]) and not np.array_equal(a.arrays["x"], c.arrays["x"])


def test_stacked_data_cannot_be_conditional(fake_fmnist):
    from gan_jax.training import setup

    cfg = make_cfg(["data=stacked_fashion_mnist", f"data.root={fake_fmnist}", "data.conditional=true"])
    with pytest.raises(ConfigError, match="data.conditional"):
        setup.build(cfg)
