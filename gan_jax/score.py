"""Anomaly scores of product photos under a trained detector (`python -m gan_jax.detect` first):

    python -m gan_jax.score run_dir=runs/oneclass images=photos/ member=7
    python -m gan_jax.score run_dir=runs/oneclass images=batch.npy out=scores.csv

`images`: a .npy array [n, 28, 28] or [n, 28, 28, 1] (integers 0-255, of any integer type, or
floats in [0, 1]; other values are refused), or a
folder of 28x28 greyscale PNG/JPEG files. `member`: which population member's detector (the
category it learnt as normal). Writes a CSV (input, score; higher = more anomalous) and a PNG
of the 16 most anomalous inputs beside it.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import pathlib
import sys

import numpy as np
from PIL import Image, UnidentifiedImageError

from gan_jax.cli import entry
from gan_jax.detect import (SCORERS, check_no_leak, default_detector, load_encoders,
                            member_categories, score_images, settings, test_split)
from gan_jax.errors import ConfigError, DataError
from gan_jax.tensorboard_writer import image_grid, save_png
from gan_jax.training import saved_run

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}


@dataclasses.dataclass
class ScoreConfig:
    run_dir: str = "???"
    images: str = "???"
    member: int = 0
    detector: str | None = None  # fanogan, or ganomaly; by default the run's (default_detector)
    out: str | None = None


def unit_pixels(x: np.ndarray, path: str) -> np.ndarray:
    """float32 pixels in [0, 1] from integer pixels 0-255 (any integer dtype) or floats already
    in [0, 1]; a DataError for anything else, rather than a silent misreading (floats 0-255
    scored as if in [0, 1])."""
    fix = "save uint8 pixels 0-255 or floats in [0, 1]"
    if np.issubdtype(x.dtype, np.integer):
        low, high = int(x.min()), int(x.max())
        if low < 0 or high > 255:
            raise DataError(f"images={path} holds integer pixels from {low} to {high}, outside "
                            f"0-255; {fix}.")
        return x.astype(np.float32) / 255.0
    if not np.issubdtype(x.dtype, np.floating):
        raise DataError(f"images={path} holds {x.dtype} values; {fix}.")
    if not np.isfinite(x).all():
        raise DataError(f"images={path} holds NaN or infinite pixels; {fix}.")
    low, high = float(x.min()), float(x.max())
    if low < 0 or high > 1:
        hint = " (divide by 255)" if low >= 0 and high <= 255 else ""
        raise DataError(f"images={path} holds float pixels from {low:g} to {high:g}, outside "
                        f"[0, 1]{hint}; {fix}.")
    return x.astype(np.float32)


def read_images(path: str, shape: tuple[int, ...]) -> tuple[np.ndarray, list[str]]:
    """(floats [n, *shape] in [0, 1], one name per image) from a .npy file or an image folder."""
    p = pathlib.Path(path).expanduser()
    if p.is_file() and p.suffix == ".npy":
        try:
            x = np.load(p, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise DataError(f"images={path} is not a readable .npy array ({e}).") from e
        if x.ndim == len(shape) and shape[-1] == 1 and x.shape[1:] == shape[:-1]:
            x = x[..., None]
        if x.shape[1:] != shape or len(x) == 0:
            raise DataError(f"images={path} has shape {x.shape}; the detector needs [n, "
                            f"{', '.join(map(str, shape))}] (n > 0), greyscale {shape[0]}x{shape[1]}.")
        return unit_pixels(x, path), [f"{p.name}[{i}]" for i in range(len(x))]
    if not p.is_dir():
        raise DataError(f"images={path} is neither a .npy file nor a folder of images.")
    files = sorted(f for f in p.iterdir() if f.is_file())
    if not files:
        raise DataError(f"images={path} is an empty folder.")
    arrays = []
    for f in files:
        if f.suffix.lower() not in IMAGE_SUFFIXES:
            raise DataError(f"{f} is not an image ({', '.join(sorted(IMAGE_SUFFIXES))}); "
                            f"move it out of images={path}.")
        try:
            with Image.open(f) as im:
                if im.mode not in ("L", "I;16") and shape[-1] == 1:
                    raise DataError(f"{f} has {len(im.getbands())} channels ({im.mode}); the "
                                    f"detector scores greyscale images.")
                a = np.asarray(im.convert("L"), np.float32) / 255.0
        except (UnidentifiedImageError, OSError) as e:
            raise DataError(f"{f} cannot be read as an image ({e}).") from e
        if a.shape != shape[:2]:
            raise DataError(f"{f} is {a.shape[1]}x{a.shape[0]} pixels; the detector needs "
                            f"{shape[1]}x{shape[0]}.")
        arrays.append(a[..., None])
    return np.stack(arrays), [f.name for f in files]


def score(cfg: ScoreConfig) -> dict:
    name = cfg.detector or default_detector(cfg.run_dir)
    out_dir = pathlib.Path(cfg.run_dir) / "detector" / name
    if not (out_dir / "results.json").is_file():
        raise ConfigError(f"run_dir={cfg.run_dir} has no {name} detector ({out_dir} lacks "
                          f"results.json); run python -m gan_jax.detect run_dir={cfg.run_dir} "
                          f"first.")
    trained = json.loads((out_dir / "results.json").read_text())
    det = settings(trained["detector"])
    run = saved_run.load(cfg.run_dir, trained["gan_step"])
    categories = member_categories(run)
    check_no_leak(run, test_split(run)[0])  # a detector scored on its own training images
    if not 0 <= cfg.member < len(categories):
        raise ConfigError(f"member={cfg.member} is out of range: the run has {len(categories)} "
                          f"member(s).")
    x, names = read_images(cfg.images, run.setup.data.shape)
    params = load_encoders(run, det, out_dir) if det["name"] == "fanogan" else None
    scores = score_images(SCORERS[det["name"]](run, det, params), x)[cfg.member]
    out = pathlib.Path(cfg.out) if cfg.out else out_dir / f"scores_member{cfg.member}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["input", "score"])
        writer.writerows((n, f"{s:.6g}") for n, s in zip(names, scores))
    worst = np.argsort(-scores)[:16]
    png = out.with_suffix(".png")
    save_png(png, image_grid(x[worst], run.setup.data.value_range, ncol=8))
    return {"csv": str(out), "png": str(png), "n": len(x), "category": categories[cfg.member],
            "most_anomalous": [names[i] for i in worst[:5]]}


def report(cfg: ScoreConfig, result: dict) -> None:
    print(f"scored {result['n']} images against category {result['category']}; most anomalous: "
          f"{', '.join(result['most_anomalous'])}")
    print(f"wrote {result['csv']}, {result['png']}")


main = entry(ScoreConfig, "python -m gan_jax.score run_dir=RUN images=PATH [member=0]", score, report)

if __name__ == "__main__":
    sys.exit(main())
