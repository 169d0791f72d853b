"""TensorBoard logging (event files written by tensorboardX, no TensorFlow needed)."""

from __future__ import annotations

import math
import pathlib
from typing import Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw
from tensorboardX import SummaryWriter
from tensorboardX.summary import hparams as hparams_summary


def image_grid(images: np.ndarray, value_range=(0.0, 1.0), ncol: int | None = None,
               pad: int = 2) -> np.ndarray:
    """[n, h, w, c] floats in `value_range` -> one uint8 [H, W, 3] grid image, row-major."""
    images = np.asarray(images, np.float32)
    lo, hi = value_range
    images = np.clip((images - lo) / (hi - lo), 0, 1)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    n, h, w, c = images.shape
    ncol = ncol or math.ceil(math.sqrt(n))
    nrow = math.ceil(n / ncol)
    grid = np.ones((nrow * (h + pad) + pad, ncol * (w + pad) + pad, c), np.float32)
    for i, img in enumerate(images):
        r, q = divmod(i, ncol)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + q * (w + pad):pad + q * (w + pad) + w] = img
    return (grid * 255).round().astype(np.uint8)


def scatter_image(points: np.ndarray, modes: np.ndarray | None = None, size: int = 400) -> np.ndarray:
    """2D samples (blue) over mixture mode centres (red) as a uint8 [size, size, 3] image."""
    points = np.asarray(points)
    ref = points if modes is None else np.concatenate([points, modes])
    finite = ref[np.all(np.isfinite(ref), axis=1)]
    extent = (1.2 * (np.abs(finite).max() if len(finite) else 1.0) if modes is None
              else 1.5 * np.abs(modes).max())
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)
    to_px = lambda p: ((p[0] / extent + 1) * size / 2, (1 - p[1] / extent) * size / 2)  # noqa: E731
    for p in points:
        if np.all(np.isfinite(p)):
            x, y = to_px(p)
            draw.point((x, y), fill=(40, 90, 200))
    for m in [] if modes is None else modes:
        x, y = to_px(m)
        draw.ellipse((x - 3, y - 3, x + 3, y + 3), outline=(220, 30, 30))
    return np.asarray(img)


def label_rows(grid: np.ndarray, names: Sequence[str], width: int = 80, pad: int = 2) -> np.ndarray:
    """Write `names[i]` left of row i of an `image_grid` (rows of equal height)."""
    row = (grid.shape[0] - pad) / len(names)
    img = Image.new("RGB", (width + grid.shape[1], grid.shape[0]), "white")
    img.paste(Image.fromarray(grid), (width, 0))
    draw = ImageDraw.Draw(img)
    for i, name in enumerate(names):
        draw.text((4, pad + i * row + row / 2 - 6), name, fill=(0, 0, 0))
    return np.asarray(img)


def flat_hparams(cfg: Mapping, prefix: str = "") -> dict[str, bool | str | float | int]:
    """Nested config -> {"optim.lr": 2e-4, ...} with values TensorBoard's HParams accepts."""
    out: dict[str, bool | str | float | int] = {}
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flat_hparams(value, name + "."))
        elif isinstance(value, (bool, str, int, float)):
            out[name] = value
        else:  # None, lists
            out[name] = str(value)
    return out


def save_png(path: str | pathlib.Path, image: np.ndarray) -> None:
    Image.fromarray(image).save(path)


class Logger:
    """Scalars and images of one TensorBoard run (a run's `tb/`, or a population member's
    `tb/member_NN/`). Disabled loggers (processes other than 0) write nothing."""

    def __init__(self, log_dir: str | pathlib.Path, enabled: bool = True):
        self.writer = SummaryWriter(str(log_dir)) if enabled else None

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        if self.writer is None:
            return
        for name, value in values.items():
            self.writer.add_scalar(name, float(value), step)

    def image(self, name: str, image: np.ndarray, step: int) -> None:
        if self.writer is not None:
            self.writer.add_image(name, image, step, dataformats="HWC")

    def text(self, name: str, text: str, step: int = 0) -> None:
        if self.writer is not None:
            self.writer.add_text(name, text, step)

    def hparams(self, hparams: Mapping[str, bool | str | float | int], metric_names) -> None:
        """This run's hyperparameters for the HParams dashboard; its metrics are the scalars
        already logged under `metric_names` (one run per directory, so a sweep is one table)."""
        if self.writer is None:
            return
        for summary in hparams_summary(dict(hparams), {name: 0.0 for name in metric_names}):
            self.writer.file_writer.add_summary(summary)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
