"""Data sources: each builds a `Dataset` whose arrays live on the device."""

from __future__ import annotations

from gan_jax.data import fashion_mnist, image_folder, mixtures, stacked_fashion_mnist
from gan_jax.data.spec import Dataset
from gan_jax.errors import ConfigError

NAMES = ("fashion_mnist", "stacked_fashion_mnist", "ring", "grid", "image_folder")


def build(cfg) -> Dataset:
    """Build the dataset named by `cfg.name` (a mapping with the data group's keys)."""
    name = cfg["name"]
    if name == "fashion_mnist":
        return fashion_mnist.build(cfg.get("split", "train"), cfg.get("root"),
                                   bool(cfg.get("download", False)))
    if name == "stacked_fashion_mnist":
        return stacked_fashion_mnist.build(cfg.get("split", "train"), cfg.get("root"),
                                           bool(cfg.get("download", False)),
                                           int(cfg.get("num_points", 128_000)), int(cfg.get("seed", 0)))
    if name == "image_folder":
        return image_folder.build(cfg.get("root"), cfg.get("resolution", 64), cfg.get("channels", 3),
                                  cfg.get("cache_dir"))
    if name in mixtures.MIXTURES:
        return mixtures.build(name, int(cfg.get("num_points", 100_000)), int(cfg.get("seed", 0)))
    raise ConfigError(f"data.name={name!r} is unknown; choose one of {', '.join(NAMES)} "
                      f"(e.g. data=ring).")


__all__ = ["Dataset", "build", "NAMES"]
