"""Fashion-MNIST: Zalando product images, 10 categories, 60k train / 10k test, 28x28 grey.

The four official IDX `.gz` files are read from `data.root` when it is set (that folder only);
otherwise they are looked up in order: `$GAN_JAX_DATA`,
`/usr/share/datasets/fashion-mnist` (Debian package `dataset-fashion-mnist`), and the user cache
`~/.cache/gan_jax/fashion-mnist`, where the official release is downloaded when the network
allows and `data.download=true`.
"""

from __future__ import annotations

import gzip
import os
import pathlib
import struct
import urllib.request

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.data.spec import Dataset, sample_by_index
from gan_jax.errors import DataError

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
SYSTEM_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")
CACHE_DIR = pathlib.Path.home() / ".cache" / "gan_jax" / "fashion-mnist"
RELEASE_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_IMAGE_MAGIC, _LABEL_MAGIC = 2051, 2049

HOW_TO_INSTALL = (
    "Install it with `apt-get install dataset-fashion-mnist` (files land in "
    f"{SYSTEM_DIR}), or put the four official .gz files in a folder and pass "
    "data.root=/that/folder (or set GAN_JAX_DATA), or allow data.download=true."
)


def candidate_dirs(root: str | None) -> list[pathlib.Path]:
    """Folders searched for the IDX files, in priority order. An explicit `data.root` is the
    only one: a user who names a folder means that folder."""
    if root:
        return [pathlib.Path(root).expanduser()]
    dirs = []
    if os.environ.get("GAN_JAX_DATA"):
        dirs.append(pathlib.Path(os.environ["GAN_JAX_DATA"]).expanduser())
    dirs += [SYSTEM_DIR, CACHE_DIR]
    return dirs


def find_dir(root: str | None, split: str) -> pathlib.Path | None:
    names = FILES[split]
    for d in candidate_dirs(root):
        if all((d / n).is_file() for n in names):
            return d
    return None


def download(split: str, dest: pathlib.Path = CACHE_DIR) -> pathlib.Path:
    """Fetch the official release files of `split` into `dest` (atomically, file by file)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in FILES[split]:
        target = dest / name
        if target.is_file():
            continue
        tmp = target.with_suffix(".part")
        try:
            with urllib.request.urlopen(RELEASE_URL + name, timeout=60) as r, open(tmp, "wb") as f:
                f.write(r.read())
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise DataError(f"Fashion-MNIST download of {name} failed ({e}). {HOW_TO_INSTALL}") from e
        tmp.rename(target)
    return dest


def read_idx(path: pathlib.Path, magic: int, item_shape: tuple[int, ...]) -> np.ndarray:
    """Read one gzipped IDX file, checking magic number, item shape and length."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"{path} is not a readable gzip file ({e}): it is corrupt. "
                        f"Delete it and reinstall. {HOW_TO_INSTALL}") from e
    ndim = 1 + len(item_shape)
    header = 4 + 4 * ndim
    if len(raw) < header or struct.unpack(">I", raw[:4])[0] != magic:
        raise DataError(f"{path}: wrong IDX magic number (expected {magic}); the file is "
                        f"corrupt or not Fashion-MNIST. {HOW_TO_INSTALL}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = (dims[0], *item_shape)
    if dims != expected or dims[0] == 0 or len(raw) != header + int(np.prod(expected)):
        raise DataError(f"{path}: header says {dims} with {len(raw) - header} bytes of data, "
                        f"expected {expected}; the file is truncated or corrupt. {HOW_TO_INSTALL}")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(expected)


def load_numpy(split: str = "train", root: str | None = None, download_ok: bool = False):
    """(images uint8 [n, 28, 28, 1], labels int32 [n]) of one split, from the first folder found."""
    if split not in FILES:
        raise DataError(f"data.split={split!r} is not a Fashion-MNIST split; use 'train' or 'test'.")
    d = find_dir(root, split)
    if d is None and root:
        folder = pathlib.Path(root).expanduser()
        missing = [n for n in FILES[split] if not (folder / n).is_file()]
        state = "does not exist" if not folder.is_dir() else f"lacks {', '.join(missing)}"
        raise DataError(f"data.root={root} {state}. Put the official Fashion-MNIST .gz files "
                        f"there, or drop data.root to use the installed copy "
                        f"(apt-get install dataset-fashion-mnist) or the download.")
    if d is None:
        if not download_ok:
            searched = ", ".join(str(p) for p in candidate_dirs(root))
            raise DataError(f"Fashion-MNIST {split} files not found (searched {searched}). "
                            f"{HOW_TO_INSTALL}")
        d = download(split)
    img_name, lbl_name = FILES[split]
    images = read_idx(d / img_name, _IMAGE_MAGIC, (28, 28))
    labels = read_idx(d / lbl_name, _LABEL_MAGIC, ())
    if len(images) != len(labels):
        raise DataError(f"{d}: {len(images)} images but {len(labels)} labels; the files do not "
                        f"belong together. {HOW_TO_INSTALL}")
    if labels.max() >= len(CLASS_NAMES):
        raise DataError(f"{d / lbl_name}: label {labels.max()} out of range 0..9; corrupt file.")
    return images[..., None], labels.astype(np.int32)


def to_unit_float(x: jax.Array) -> jax.Array:
    return x.astype(jnp.float32) / 255.0


def build(split: str = "train", root: str | None = None, download: bool = False) -> Dataset:
    images, labels = load_numpy(split, root, download)
    arrays = {"x": jnp.asarray(images), "y": jnp.asarray(labels)}

    def sample(arrays, key, n):
        return sample_by_index(arrays, key, n, to_unit_float)

    def take(arrays, idx):
        return to_unit_float(arrays["x"][idx]), arrays["y"][idx]

    return Dataset(name="fashion_mnist", arrays=arrays, sample=sample, shape=(28, 28, 1),
                   value_range=(0.0, 1.0), class_names=CLASS_NAMES, take=take)
