import gzip

import numpy as np
import pytest

from gan_jax.data import fashion_mnist
from gan_jax.errors import DataError
from tests.conftest import write_fake_fashion_mnist, write_idx


def test_reads_official_format(fake_fmnist):
    images, labels = fashion_mnist.load_numpy("train", str(fake_fmnist))
    assert images.shape == (128, 28, 28, 1) and images.dtype == np.uint8
    assert labels.shape == (128,) and labels.dtype == np.int32
    raw = gzip.open(fake_fmnist / "train-images-idx3-ubyte.gz").read()
    assert np.array_equal(images[..., 0].ravel(), np.frombuffer(raw, np.uint8, offset=16))


def test_lookup_order_root_then_env(tmp_path, monkeypatch):
    a = write_fake_fashion_mnist(tmp_path / "a", n=8)
    b = write_fake_fashion_mnist(tmp_path / "b", n=16)
    monkeypatch.setenv("GAN_JAX_DATA", str(b))
    assert fashion_mnist.find_dir(str(a), "train") == a
    assert fashion_mnist.find_dir(None, "train") == b
    assert len(fashion_mnist.load_numpy("train", None)[0]) == 16


def test_missing_files_explain_how_to_install(tmp_path, monkeypatch):
    monkeypatch.delenv("GAN_JAX_DATA", raising=False)
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIR", tmp_path / "none1")
    monkeypatch.setattr(fashion_mnist, "CACHE_DIR", tmp_path / "none2")
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist"):
        fashion_mnist.load_numpy("train", str(tmp_path / "empty"))


@pytest.mark.parametrize("corruption", ["truncated", "magic", "not_gzip"])
def test_corrupt_files_are_rejected(fake_fmnist, corruption):
    path = fake_fmnist / "train-images-idx3-ubyte.gz"
    raw = gzip.open(path).read()
    if corruption == "truncated":
        with gzip.open(path, "wb") as f:
            f.write(raw[:-100])
    elif corruption == "magic":
        with gzip.open(path, "wb") as f:
            f.write(b"\x00\x00\x08\x01" + raw[4:])
    else:
        path.write_bytes(b"this is not gzip")
    with pytest.raises(DataError, match="corrupt"):
        fashion_mnist.load_numpy("train", str(fake_fmnist))


def test_mismatched_labels_rejected(fake_fmnist):
    write_idx(fake_fmnist / "train-labels-idx1-ubyte.gz", 2049, np.zeros(5, np.uint8))
    with pytest.raises(DataError, match="labels"):
        fashion_mnist.load_numpy("train", str(fake_fmnist))


def test_device_sampling_is_keyed_and_in_range(fake_fmnist):
    import jax

    ds = fashion_mnist.build("train", str(fake_fmnist))
    sample = jax.jit(ds.sample, static_argnums=2)
    x1, y1 = sample(ds.arrays, jax.random.PRNGKey(0), 32)
    x2, _ = sample(ds.arrays, jax.random.PRNGKey(0), 32)
    x3, _ = sample(ds.arrays, jax.random.PRNGKey(1), 32)
    assert x1.shape == (32, 28, 28, 1) and x1.dtype == np.float32 and y1.shape == (32,)
    assert 0.0 <= float(x1.min()) and float(x1.max()) <= 1.0
    assert np.array_equal(x1, x2) and not np.array_equal(x1, x3)


@pytest.mark.skipif(fashion_mnist.find_dir(None, "train") is None,
                    reason="real Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
def test_real_fashion_mnist():
    for split, n in (("train", 60000), ("test", 10000)):
        images, labels = fashion_mnist.load_numpy(split)
        assert images.shape == (n, 28, 28, 1)
        assert np.array_equal(np.bincount(labels), np.full(10, n // 10))  # balanced classes
    assert len(fashion_mnist.CLASS_NAMES) == 10


def test_an_explicit_root_is_the_only_folder_read(tmp_path, monkeypatch):
    """data.root names a folder: when it lacks the files, no fallback to the installed copy."""
    monkeypatch.delenv("GAN_JAX_DATA", raising=False)
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIR", write_fake_fashion_mnist(tmp_path / "system"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=f"data.root={empty} lacks train-images-idx3-ubyte.gz"):
        fashion_mnist.load_numpy("train", str(empty))
    with pytest.raises(DataError, match="does not exist"):
        fashion_mnist.load_numpy("train", str(tmp_path / "nowhere"))
    images, _ = fashion_mnist.load_numpy("train", None)  # unset: the lookup order applies
    assert images.shape == (128, 28, 28, 1)
