"""DiffAugment-style augmentations: exact geometry, per-example randomness, gradients."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.errors import ConfigError
from gan_jax.mitigations.augment import (POLICIES, color, cutout, diff_augment, flip, jitter,
                                         translation)

B, H, W, C = 8, 8, 8, 3
KEY = jax.random.PRNGKey(0)


def images(seed: int = 1, channels: int = C) -> np.ndarray:
    """Strictly positive, distinct pixel values, so zeros and moved pixels are unambiguous."""
    return np.asarray(jax.random.uniform(jax.random.PRNGKey(seed), (B, H, W, channels), minval=0.1,
                                         maxval=1.0))


def same_image_batch() -> np.ndarray:
    """One image repeated: any difference between outputs comes from per-example parameters."""
    return np.repeat(images()[:1], B, axis=0)


def shifted(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """np.roll with zero fill: out[i, j] = image[i - dy, j - dx], zero where that is outside."""
    out = np.roll(image, (dy, dx), axis=(0, 1))
    if dy > 0:
        out[:dy] = 0
    elif dy < 0:
        out[dy:] = 0
    if dx > 0:
        out[:, :dx] = 0
    elif dx < 0:
        out[:, dx:] = 0
    return out


def translation_offsets(x: np.ndarray, y: np.ndarray, r: int) -> list[tuple[int, int]]:
    offsets = []
    for image, out in zip(x, y):
        matches = [(dy, dx) for dy, dx in itertools.product(range(-r, r + 1), repeat=2)
                   if np.array_equal(out, shifted(image, dy, dx))]
        assert len(matches) == 1, f"output is not a single exact shift: {matches}"
        offsets.append(matches[0])
    return offsets


def interval(start: int, size: int, limit: int) -> np.ndarray:
    idx = np.arange(limit)
    return (idx >= start) & (idx < start + size)


def cutout_boxes(x: np.ndarray, y: np.ndarray, ratio: float) -> list[tuple[int, int]]:
    sh, sw = int(H * ratio + 0.5), int(W * ratio + 0.5)
    boxes = []
    for image, out in zip(x, y):
        zero = out == 0
        assert np.array_equal(out[~zero], image[~zero]), "pixels outside the square changed"
        mask = zero[..., 0]
        assert (zero == mask[..., None]).all(), "channels were cut differently"
        matches = [(t, left) for t in range(-(sh // 2), H - sh // 2 + 1)
                   for left in range(-(sw // 2), W - sw // 2 + 1)
                   if np.array_equal(mask, np.outer(interval(t, sh, H), interval(left, sw, W)))]
        assert len(matches) == 1 and mask.any(), "zeroed region is not a (clipped) square"
        boxes.append(matches[0])
    return boxes


AUGMENTS = {
    "color": color,
    "translation": translation,
    "cutout": cutout,
    "flip": flip,
    "jitter": lambda k, x: jitter(k, x, 0.1),
    "diff_augment": lambda k, x: diff_augment(k, x, ("color", "translation", "cutout")),
}


@pytest.mark.parametrize("ratio", [0.125, 0.25])
def test_translation_is_an_exact_zero_filled_shift(ratio):
    x = images()
    y = np.asarray(translation(KEY, jnp.asarray(x), ratio))
    r = int(H * ratio + 0.5)
    offsets = translation_offsets(x, y, r)
    assert len(set(offsets)) > 1
    # Never invents pixels: every output value is zero or one of the input's values.
    assert np.isin(y[y != 0], x).all()


def test_cutout_zeroes_exactly_a_clipped_square():
    x = images()
    boxes = cutout_boxes(x, np.asarray(cutout(KEY, jnp.asarray(x))), 0.5)
    assert len(set(boxes)) > 1
    # Over many keys the square is sometimes clipped at a border and sometimes not.
    sizes = set()
    for seed in range(8):
        y = np.asarray(cutout(jax.random.PRNGKey(seed), jnp.asarray(x), 0.5))
        cutout_boxes(x, y, 0.5)
        sizes.update((y[..., 0] == 0).sum(axis=(1, 2)).tolist())
    assert 16 in sizes and min(sizes) < 16


def test_flip_returns_the_image_or_its_mirror():
    x = images()
    y = np.asarray(flip(KEY, jnp.asarray(x)))
    flipped = [np.array_equal(out, image[:, ::-1]) for image, out in zip(x, y)]
    kept = [np.array_equal(out, image) for image, out in zip(x, y)]
    assert all(f != k for f, k in zip(flipped, kept))
    assert any(flipped) and any(kept)


def test_color_shifts_a_constant_image_by_its_brightness():
    levels = np.linspace(0.0, 1.0, B, dtype=np.float32).reshape(B, 1, 1, 1)
    x = np.broadcast_to(levels, (B, H, W, C))
    y = np.asarray(color(KEY, jnp.asarray(x)))
    shift = y - x
    # Saturation and contrast leave a constant image alone: one brightness offset per image.
    np.testing.assert_allclose(shift, shift[:, :1, :1, :1] * np.ones_like(shift), atol=1e-6)
    offsets = shift[:, 0, 0, 0]
    assert ((offsets >= -0.5) & (offsets <= 0.5)).all()
    assert len(np.unique(np.round(offsets, 6))) == B


def test_color_keeps_the_mean_up_to_brightness_and_is_affine_in_one_channel():
    x = images(channels=1)
    y = np.asarray(color(KEY, jnp.asarray(x)))
    for image, out in zip(x.reshape(B, -1), y.reshape(B, -1)):
        slope, intercept = np.polyfit(image, out, 1)
        np.testing.assert_allclose(out, slope * image + intercept, atol=1e-5)
        assert 0.5 <= slope <= 1.5
        assert -0.5 <= out.mean() - image.mean() <= 0.5
    x = images()
    y = np.asarray(color(KEY, jnp.asarray(x)))
    change = y.mean(axis=(1, 2, 3)) - x.mean(axis=(1, 2, 3))
    assert ((change >= -0.5 - 1e-6) & (change <= 0.5 + 1e-6)).all()


@pytest.mark.parametrize("name", sorted(AUGMENTS))
def test_deterministic_per_key_and_jittable(name):
    f = AUGMENTS[name]
    x = jnp.asarray(images())
    y = f(KEY, x)
    assert y.shape == x.shape and y.dtype == x.dtype
    np.testing.assert_array_equal(y, f(KEY, x))
    np.testing.assert_allclose(jax.jit(f)(KEY, x), y, atol=1e-6)
    assert not np.array_equal(f(jax.random.PRNGKey(7), x), y)


@pytest.mark.parametrize("name", sorted(AUGMENTS))
def test_parameters_differ_per_example(name):
    y = np.asarray(AUGMENTS[name](KEY, jnp.asarray(same_image_batch())))
    assert len({out.tobytes() for out in y}) > 1


@pytest.mark.parametrize("name", ["translation", "cutout", "flip"])
def test_geometric_augments_treat_all_channels_alike(name):
    one = images(channels=1)
    x = np.repeat(one, C, axis=-1) * np.array([1.0, 2.0, 3.0], dtype=np.float32)
    y = np.asarray(AUGMENTS[name](KEY, jnp.asarray(x)))
    np.testing.assert_allclose(y, y[..., :1] * np.array([1.0, 2.0, 3.0]), rtol=1e-6)
    # The same key moves a single-channel batch the same way.
    np.testing.assert_allclose(y[..., :1], AUGMENTS[name](KEY, jnp.asarray(one)), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(AUGMENTS))
def test_gradients_flow_to_the_input(name):
    f = AUGMENTS[name]
    grad = np.asarray(jax.grad(lambda x: jnp.sum(f(KEY, x)))(jnp.asarray(images())))
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0


def test_gradients_of_masks_and_shifts_are_the_kept_pixels():
    x = jnp.asarray(images())
    grad = np.asarray(jax.grad(lambda v: jnp.sum(cutout(KEY, v)))(x))
    np.testing.assert_array_equal(grad, cutout(KEY, jnp.ones_like(x)))
    # A shift's gradient marks the input pixels that stay in frame: as many as the output keeps.
    grad = np.asarray(jax.grad(lambda v: jnp.sum(translation(KEY, v)))(x))
    assert np.isin(grad, [0.0, 1.0]).all()
    kept = np.asarray(translation(KEY, jnp.ones_like(x)))
    np.testing.assert_array_equal(grad.sum(axis=(1, 2, 3)), kept.sum(axis=(1, 2, 3)))


def test_diff_augment_composes_policies_in_order():
    x = jnp.asarray(images())
    np.testing.assert_array_equal(diff_augment(KEY, x, ()), x)
    policy = ("translation", "cutout")
    k1, k2 = jax.random.split(KEY)
    np.testing.assert_array_equal(diff_augment(KEY, x, policy), cutout(k2, translation(k1, x)))
    assert set(POLICIES) == {"color", "translation", "cutout"}
    with pytest.raises(ConfigError, match="blur"):
        diff_augment(KEY, x, ("blur",))


def test_jitter_adds_gaussian_noise_of_the_given_scale():
    points = jnp.zeros((4000, 2))
    noise = np.asarray(jitter(KEY, points, 0.3))
    assert abs(noise.std() - 0.3) < 0.02 and abs(noise.mean()) < 0.02
    np.testing.assert_array_equal(jitter(KEY, points, 0.0), points)
