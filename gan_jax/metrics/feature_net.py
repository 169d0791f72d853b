"""The domain feature network of the sample-quality metrics: our Inception analogue.

A small CNN classifier trained on Fashion-MNIST (scripts/train_feature_net.py). Its 128-unit
penultimate layer gives the features of the Frechet / kernel distances and precision-recall;
its logits give the class predictions of the Inception-score analogue and mode counts.
The weights ship in `assets/` next to this file, with metadata (test accuracy, how they were
made) in `feature_net.json`.
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.metrics import packaged_weights
from gan_jax.metrics.packaged_weights import metadata_path  # noqa: F401  (the training script writes it)

FEATURE_NET_NAME = "fmnist-cnn-v1"
ASSETS = pathlib.Path(__file__).parent / "assets"
WEIGHTS = ASSETS / "feature_net.msgpack"
IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
BN_EPS = 1e-5
HOW_TO_FIX = "Recreate it with `python scripts/train_feature_net.py` (about 10 minutes on a CPU)."


def conv_3x3(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """'SAME' 3x3 stride-1 convolution (NHWC, kernel [3, 3, in, out]) as one im2col matmul.

    Exact; used because XLA:CPU runs the backward pass of `lax.conv` inside `lax.scan` about nine
    times slower than this matmul form (measured on a conv32-32-64-64 net: 5.2 s vs 0.6 s a step).
    """
    n, h, w, cin = x.shape
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    patches = jnp.concatenate([xp[:, a:a + h, b:b + w] for a in range(3) for b in range(3)], axis=-1)
    return patches @ kernel.reshape(9 * cin, kernel.shape[-1])


class Conv3x3(nn.Module):
    features: int
    use_bias: bool = True

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kernel = self.param("kernel", nn.initializers.he_normal(), (3, 3, x.shape[-1], self.features))
        y = conv_3x3(x, kernel)
        return y + self.param("bias", nn.initializers.zeros, (self.features,)) if self.use_bias else y


def max_pool_2x2(x: jax.Array) -> jax.Array:
    n, h, w, c = x.shape
    x = x[:, :h // 2 * 2, :w // 2 * 2]  # floor, like a VALID pool: 7 -> 3
    return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


class FeatureNet(nn.Module):
    """[n, 28, 28, 1] in [0, 1] -> (features [n, feature_dim] after ReLU, logits [n, 10]).

    Each stage is 3x3 convolutions of the given widths, each followed by ReLU, with a 2x2 max
    pool between stages (28 -> 14 -> 7); then dense(feature_dim)-ReLU and dense(10). The shipped net has
    no batch norm or dropout, so an image's output depends on that image alone. `batch_norm=True`
    is the training variant (BN after each convolution, for faster convergence); its running
    statistics are folded into the convolutions by `fold_batch_norm` before shipping.
    """

    stages: tuple[tuple[int, ...], ...] = ((32,), (64,), (128,))
    feature_dim: int = 128
    batch_norm: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> tuple[jax.Array, jax.Array]:
        x = x - 0.5  # centre the inputs; the net sees the same [0, 1] images the GANs produce
        i = 0
        for s, widths in enumerate(self.stages):
            if s:
                x = max_pool_2x2(x)
            for width in widths:
                x = Conv3x3(width, use_bias=not self.batch_norm, name=f"conv{i}")(x)
                if self.batch_norm:
                    x = nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=BN_EPS,
                                     name=f"bn{i}")(x)
                x = nn.relu(x)
                i += 1
        features = nn.relu(nn.Dense(self.feature_dim, name="features")(x.reshape(x.shape[0], -1)))
        return features, nn.Dense(NUM_CLASSES, name="logits")(features)


def fold_batch_norm(params: Any, batch_stats: Any) -> Any:
    """Parameters of the plain net equal to the BN net in inference mode (running statistics)."""
    out = {k: v for k, v in params.items() if not k.startswith(("conv", "bn"))}
    for name, conv in params.items():
        if name.startswith("conv"):
            bn, stats = params["bn" + name[4:]], batch_stats["bn" + name[4:]]
            scale = bn["scale"] * jax.lax.rsqrt(stats["var"] + BN_EPS)
            out[name] = {"kernel": conv["kernel"] * scale, "bias": bn["bias"] - stats["mean"] * scale}
    return out


def init_variables(module: FeatureNet, key: jax.Array) -> Any:
    return module.init(key, jnp.zeros((1, *IMAGE_SHAPE), jnp.float32))


def init_params(module: FeatureNet, key: jax.Array) -> Any:
    return init_variables(module, key)["params"]


def _pow2_at_least(n: int) -> int:
    return 1 << max(0, n - 1).bit_length()


@dataclasses.dataclass(frozen=True, eq=False)
class Extractor:
    """A loaded feature network. `embed` and `predict` are deterministic and jitted.

    Images go through in batches of one fixed size (the last one padded), so a run compiles a
    single program whatever the number of images; fewer images than a batch use the next power
    of two instead, so small calls stay cheap without compiling a program per size.
    """

    name: str
    test_accuracy: float
    feature_dim: int
    params: Any = dataclasses.field(repr=False)
    apply: Callable[[Any, jax.Array], tuple[jax.Array, jax.Array]] = dataclasses.field(repr=False)

    def embed(self, images, batch_size: int = 1000) -> tuple[jax.Array, jax.Array]:
        """(features float32 [n, feature_dim], logits float32 [n, 10]) of float images in [0, 1]."""
        x = check_images(images)
        n = x.shape[0]
        size = min(batch_size, _pow2_at_least(n))
        chunks = []
        for start in range(0, n, size):
            batch = jnp.asarray(x[start:start + size], jnp.float32)
            if batch.shape[0] < size:
                batch = jnp.pad(batch, ((0, size - batch.shape[0]), (0, 0), (0, 0), (0, 0)))
            chunks.append(self.apply(self.params, batch))
        if not chunks:
            return jnp.zeros((0, self.feature_dim)), jnp.zeros((0, NUM_CLASSES))
        features, logits = (jnp.concatenate(parts)[:n] for parts in zip(*chunks))
        return features, logits

    def predict(self, images, batch_size: int = 1000) -> jax.Array:
        """Predicted class (int32 [n]) of float images in [0, 1]."""
        return jnp.argmax(self.embed(images, batch_size)[1], axis=-1).astype(jnp.int32)


def check_images(images):
    """The images as an array [n, 28, 28, 1] of floats, or a ValueError saying what is wrong."""
    x = images if isinstance(images, jax.Array) else np.asarray(images)
    if x.ndim != 4 or tuple(x.shape[1:]) != IMAGE_SHAPE:
        raise ValueError(f"{FEATURE_NET_NAME} takes images of shape [n, 28, 28, 1]; got "
                         f"{tuple(x.shape)}. Add the channel axis with x[..., None] if needed.")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(f"{FEATURE_NET_NAME} takes float images in [0, 1]; got dtype {x.dtype}. "
                         "Convert uint8 pixels with x / 255.")
    return x


def make_apply(module: FeatureNet) -> Callable[[Any, jax.Array], tuple[jax.Array, jax.Array]]:
    return jax.jit(lambda params, x: module.apply({"params": params}, x))


def load(path: str | pathlib.Path | None = None) -> Extractor:
    """The feature network stored at `path` (default: the shipped weights), cached when default."""
    if path is None:
        return _load_default()
    return _load(pathlib.Path(path))


@functools.lru_cache(maxsize=1)
def _load_default() -> Extractor:
    return _load(WEIGHTS)


def _architecture(meta: dict) -> tuple[FeatureNet, tuple[str, float]]:
    stages = tuple(tuple(int(w) for w in stage) for stage in meta["stages"])
    module = FeatureNet(stages=stages, feature_dim=int(meta["feature_dim"]))
    return module, (str(meta["name"]), float(meta["test_accuracy"]))


def _load(path: pathlib.Path) -> Extractor:
    module, (name, test_accuracy), params = packaged_weights.load(
        path, "Feature-network", HOW_TO_FIX, _architecture, init_params)
    return Extractor(name=name, test_accuracy=test_accuracy, feature_dim=module.feature_dim,
                     params=params, apply=make_apply(module))
