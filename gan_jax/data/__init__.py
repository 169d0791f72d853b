"""Data sources: each builds a `Dataset` whose arrays live on the device.

`BUILDERS` maps `data.name` (the option name in conf/data) to a function of the data group's
settings, validated beforehand by gan_jax.config.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from gan_jax.data import (adult, cdnow, coco_captions, fashion_mnist, image_folder, m5, mixtures,
                          movielens, review_table, reviews, sales_table, series_file, sines,
                          stacked_fashion_mnist, table_files, tabular, text_file)
from gan_jax.data.spec import Dataset, with_category_index
from gan_jax.errors import ConfigError

BUILDERS: dict[str, Callable[[Any], Dataset]] = {
    "fashion_mnist": lambda c: fashion_mnist.build(c["split"], c["root"], bool(c["download"])),
    "stacked_fashion_mnist": lambda c: stacked_fashion_mnist.build(
        c["split"], c["root"], bool(c["download"]), int(c["num_points"]), int(c["seed"])),
    "ring": lambda c: mixtures.build("ring", int(c["num_points"]), int(c["seed"])),
    "grid": lambda c: mixtures.build("grid", int(c["num_points"]), int(c["seed"])),
    "sines": lambda c: sines.build(int(c["num_sequences"]), int(c["seq_len"]), int(c["features"]),
                                   int(c["heldout"]), int(c["seed"])),
    "series_file": lambda c: series_file.build(
        c["path"], c["id_column"], c["time_column"], c["feature_columns"], c["category_column"],
        int(c["seq_len"]), int(c["stride"]), float(c["heldout_fraction"]), int(c["seed"])),
    "m5": lambda c: m5.build(c["root"], int(c["seq_len"]), int(c["stride"]), int(c["final_days"]),
                             float(c["heldout_fraction"]), c["condition_on"], c["transform"],
                             int(c["seed"]), bool(c["categories_as_channels"]),
                             None if c["stores"] is None else list(c["stores"]),
                             bool(c["dequantize"])),
    "sales_table": sales_table.build,
    "image_folder": lambda c: image_folder.build(c["root"], c["resolution"], c["channels"],
                                                 c["cache_dir"]),
    "movielens_100k": lambda c: movielens.build(
        c["root"], bool(c["download"]), c["split"], float(c["test_fraction"]),
        float(c["validation_fraction"]), int(c["seed"]), c["rows"], c["test_file"]),
    "cdnow": lambda c: table_data("cdnow", cdnow.customers(c["root"]), cdnow.TARGET, cdnow.DISCRETE, c),
    "adult": lambda c: table_data("adult", adult.table(c["root"]), adult.TARGET, adult.DISCRETE, c),
    "table": lambda c: table_data("table", table_files.read_table(c["path"], c["target"], c["discrete"]),
                                  c["target"], c["discrete"], c),
    "coco_captions": lambda c: coco_captions.build(c["root"], bool(c["download"]), c["max_length"],
                                                   c["vocab_size"]),
    "text_file": lambda c: text_file.build(c["path"], c["test_path"], c["max_length"], c["vocab_size"]),
    "reviews": lambda c: reviews.build(c["root"], bool(c["title"]), c["max_length"], c["vocab_size"],
                                       float(c["validation_fraction"]), float(c["test_fraction"]),
                                       int(c["seed"]), c["condition_on"]),
    "review_table": lambda c: review_table.build(
        c["path"], c["text"], c["label"], c["rating"], c["condition_on"], c["max_length"],
        c["vocab_size"], float(c["validation_fraction"]), float(c["test_fraction"]), int(c["seed"])),
}
NAMES = tuple(BUILDERS)


def table_data(name: str, frame, target, discrete, c) -> Dataset:
    """A customer table with the split and transform settings every table option has; `frame`
    comes validated from its reader (`table_files.validate_table`)."""
    return tabular.build(name, frame, target, discrete, c["split"], float(c["test_fraction"]),
                         float(c["validation_fraction"]), int(c["seed"]), c["train_size"],
                         int(c["max_modes"]), c.get("constraints"))


def build(cfg) -> Dataset:
    """Build the dataset named by `cfg["name"]` (a mapping with the data group's keys)."""
    name = cfg["name"]
    if name not in BUILDERS:
        raise ConfigError(f"data.name={name!r} is unknown; choose one of {', '.join(NAMES)} "
                          f"(e.g. data=ring).")
    data = BUILDERS[name](cfg)
    if data.text is not None:  # every text option names the encoder its metrics read it with
        data = dataclasses.replace(data, text=dataclasses.replace(data.text, encoder=cfg["text_encoder"]))
    if cfg.get("category") is not None:  # one category (a list: one per population member)
        data = with_category_index(data)
    return data


__all__ = ["BUILDERS", "Dataset", "NAMES", "build"]
