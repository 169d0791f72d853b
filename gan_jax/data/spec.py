"""The contract between a data source and the rest of gan_jax."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A dataset that lives on the device and is sampled inside the jitted step.

    arrays: dict of device arrays whose "x" has one row per example (e.g. {"x": uint8 images,
      "y": int32 labels}); it is
      passed to the step as an argument (never closed over, so it is not baked into the
      compiled program as a constant).
    sample: pure `sample(arrays, key, n) -> (x float32 [n, *shape], y int32 [n])`.
    shape: shape of one example, e.g. (28, 28, 1) or (2,).
    value_range: (low, high) of the examples, or None when unbounded (2D mixtures); the
      generator's output activation is chosen from it.
    class_names: names of the categories, () when unlabelled.
    modes: [n_modes, dim] mode centres for synthetic mixtures, else None.
    mode_std: standard deviation of each mixture component, else None.
    take: pure `take(arrays, idx) -> (x float32, y int32)` for given example indices, when the
      data can be restricted to one category (`with_category_index`, `category_sampler`).
    interactions: for recommendation data, the train / held-out interactions an evaluator ranks
      against (`gan_jax.data.movielens.Interactions`), kept on the host; else None.
    table: for customer tables, the transform, training and held-out rows and condition options
      (`gan_jax.data.tabular.Table`), kept on the host; else None.
    series: for sequences, the training and held-out sequences and their scaling
      (`gan_jax.data.series.Series`), kept on the host; else None.
    text: for sentences, the vocabulary and the training and held-out token ids
      (`gan_jax.data.text.Text`), kept on the host; else None.
    """

    name: str
    arrays: Any
    sample: Callable[[Any, jax.Array, int], tuple[jax.Array, jax.Array]]
    shape: tuple[int, ...]
    value_range: tuple[float, float] | None
    class_names: tuple[str, ...] = ()
    modes: Any = None
    mode_std: float | None = None
    interactions: Any = None
    take: Callable[[Any, jax.Array], tuple[jax.Array, jax.Array]] | None = None
    table: Any = None
    series: Any = None
    text: Any = None

    @property
    def num_examples(self) -> int:
        return int(self.arrays["x"].shape[0])

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3


def sample_by_index(arrays, key: jax.Array, n: int, to_float: Callable[[jax.Array], jax.Array]):
    """Draw n examples uniformly with replacement; `to_float` maps stored x to float32."""
    idx = jax.random.randint(key, (n,), 0, arrays["x"].shape[0])
    return to_float(arrays["x"][idx]), arrays["y"][idx]


def with_category_index(data: Dataset) -> Dataset:
    """`data` with per-category index arrays (examples sorted by label, each category's start
    and count), so that `category_sampler` draws from one category inside the compiled step."""
    if data.take is None or not data.class_names:
        raise ConfigError(f"data.category needs labelled data that can be restricted to one "
                          f"category; data={data.name} cannot. Drop data.category.")
    labels = np.asarray(data.arrays["y"])
    counts = np.bincount(labels, minlength=len(data.class_names))
    arrays = {**data.arrays, "by_category": jnp.asarray(np.argsort(labels, kind="stable"), jnp.int32),
              "category_start": jnp.asarray(np.cumsum(counts) - counts, jnp.int32),
              "category_count": jnp.asarray(counts, jnp.int32)}
    return dataclasses.replace(data, arrays=arrays)


def category_sampler(data: Dataset, category) -> Callable:
    """`sample(arrays, key, n)` of `data` restricted to one category (an int, or a value traced
    per population member: member i trains on its own category)."""
    def sample(arrays, key, n):
        c = jnp.asarray(category).astype(jnp.int32)
        u = jax.random.uniform(key, (n,))
        offset = jnp.minimum((u * arrays["category_count"][c]).astype(jnp.int32),
                             arrays["category_count"][c] - 1)
        return data.take(arrays, arrays["by_category"][arrays["category_start"][c] + offset])
    return sample
