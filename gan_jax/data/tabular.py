"""Customer tables as GAN data: rows encoded by `TableTransform`, drawn by CTGAN's
training-by-sampling inside the compiled step.

Split: customers (rows) are split once, stratified on the target, from `data.seed`:
`test_fraction` of them are the test set; with `data.split=validation`, `validation_fraction` of
the remaining rows are held out as a validation set and the test set is never read (tuning and
model selection); with `split=test` the GAN trains on all non-test rows and is evaluated on the
test rows. `data.train_size` keeps a stratified subset of the training rows (the augmentation
study's small real samples). The transform is fitted on the training rows only.

Training-by-sampling (Xu et al. 2019): each example of a batch picks a discrete column uniformly,
then one of its categories with probability proportional to log(1 + count), then a real row with
that category; its condition vector is the one-hot of (column, category) over all discrete
columns' categories. Rare categories are seen far more often than their share, and G is asked
for them just as often (the condition is shared with the fakes through the model's `Pairing`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.data import constraints as constraints_lib
from gan_jax.data import table_files
from gan_jax.data.spec import Dataset
from gan_jax.data.table_transform import TableTransform
from gan_jax.errors import DataError


@dataclasses.dataclass(frozen=True)
class Table:
    """What the table's evaluator, sampler and command line need (host side).

    options: (column, value) of each condition-vector entry, in order; positions: each option's
    place in an encoded row (where G's one-hot answers it); constraints: the rules the sampler
    keeps, checked against the table's columns.
    """

    transform: TableTransform
    train: Any          # pandas DataFrame: the rows the GAN trains on
    heldout: Any        # the real rows it is evaluated against (validation or test)
    target: str | None
    discrete: tuple[str, ...]
    split: str
    options: tuple[tuple[str, Any], ...]
    positions: np.ndarray
    row_options: np.ndarray  # [training rows, discrete columns]: each row's option per column
    constraints: tuple = ()  # declared rules (`data.constraints`, gan_jax/data/constraints.py)

    @property
    def num_options(self) -> int:
        return len(self.options)

    def condition(self, column: str, value: Any) -> np.ndarray:
        """The condition vector asking for `column == value` (a float32 one-hot)."""
        if column not in self.discrete:
            raise DataError(f"condition on {column!r}: it is not a discrete column of this table; "
                            f"choose one of {', '.join(self.discrete) or '(none)'}.")
        values = [v for c, v in self.options if c == column]
        match = [i for i, (c, v) in enumerate(self.options) if c == column and str(v) == str(value)]
        if not match:
            raise DataError(f"condition {column}={value!r}: the training rows have no such value; "
                            f"choose one of {', '.join(map(str, values))}.")
        return np.eye(self.num_options, dtype=np.float32)[match[0]]

    def empirical_conditions(self, n: int, seed: int = 0) -> np.ndarray:
        """n condition vectors as the data has them: a random training row's value in a random
        discrete column (the frequencies a sample of the table should show; no log boost)."""
        if not self.discrete:
            return np.zeros((n, 0), np.float32)
        rng = np.random.default_rng(seed)
        rows = rng.integers(0, len(self.train), n)
        cols = rng.integers(0, len(self.discrete), n)
        return np.eye(self.num_options, dtype=np.float32)[self.row_options[rows, cols]]


def split_rows(target_values: np.ndarray, split: str, test_fraction: float,
               validation_fraction: float, seed: int, train_size: int | None):
    """(train, heldout) row indices per the module docstring."""
    train, test = table_files.stratified_split(target_values, test_fraction, seed)
    heldout = test
    if split == "validation":
        inner_train, validation = table_files.stratified_split(
            target_values[train], validation_fraction, seed + 1)
        train, heldout = train[inner_train], train[validation]
    if train_size is not None:
        train = table_files.subsample(train, target_values, train_size, seed)
    return train, heldout


def condition_arrays(codes: list[np.ndarray], sizes: list[int]) -> dict[str, jax.Array]:
    """Index arrays for training-by-sampling: every discrete column's rows sorted by category,
    each option's start and count, and per column the log-frequency sampling logits."""
    rows, starts, counts, logits = [], [], [], np.full((len(codes), max(sizes)), -1e9, np.float32)
    offset = 0
    for j, (code, size) in enumerate(zip(codes, sizes)):
        count = np.bincount(code, minlength=size)
        rows.append(np.argsort(code, kind="stable"))
        starts.append(offset + np.cumsum(count) - count)
        counts.append(count)
        offset += len(code)
        with np.errstate(divide="ignore"):  # a category absent from training is never drawn
            logits[j, :size] = np.where(count > 0, np.log(np.log1p(count)), -1e9)
    first = np.cumsum(sizes) - np.asarray(sizes)
    return {"option_rows": jnp.asarray(np.concatenate(rows), jnp.int32),
            "option_start": jnp.asarray(np.concatenate(starts), jnp.int32),
            "option_count": jnp.asarray(np.concatenate(counts), jnp.int32),
            "column_logits": jnp.asarray(logits), "column_first": jnp.asarray(first, jnp.int32)}


def sample(arrays, key, n):
    """(rows [n, D], condition vectors [n, options]) by training-by-sampling."""
    num_options = arrays["option_start"].shape[0]
    if num_options == 0:  # no discrete column: plain uniform rows, an empty condition
        idx = jax.random.randint(key, (n,), 0, arrays["x"].shape[0])
        return arrays["x"][idx], jnp.zeros((n, 0), jnp.float32)
    kc, ko, kr = jax.random.split(key, 3)
    column = jax.random.randint(kc, (n,), 0, arrays["column_logits"].shape[0])
    option = arrays["column_first"][column] + jax.random.categorical(ko, arrays["column_logits"][column])
    count = arrays["option_count"][option]
    offset = jnp.minimum((jax.random.uniform(kr, (n,)) * count).astype(jnp.int32), count - 1)
    idx = arrays["option_rows"][arrays["option_start"][option] + offset]
    return arrays["x"][idx], jax.nn.one_hot(option, num_options, dtype=jnp.float32)


def build(name: str, frame, target: str | None, discrete: Sequence[str], split: str,
          test_fraction: float, validation_fraction: float, seed: int, train_size: int | None,
          max_modes: int, constraints: Sequence[str] | None = ()) -> Dataset:
    """A Dataset of `frame` (validated by `table_files.validate_table`); `constraints`: the
    strings of `data.constraints`, refused (ConfigError) if they name a column `frame` lacks."""
    discrete = tuple(discrete)
    rules = constraints_lib.parse(constraints, frame, discrete)
    labels = frame[target].to_numpy() if target else np.zeros(len(frame), np.int64)
    train_idx, held_idx = split_rows(labels, split, test_fraction, validation_fraction, seed,
                                     train_size)
    train = frame.iloc[train_idx].reset_index(drop=True)
    heldout = frame.iloc[held_idx].reset_index(drop=True)
    transform = TableTransform.fit(train, discrete, max_modes=max_modes, seed=seed)
    x = transform.encode(train, seed=seed)
    options, positions, codes, sizes, by_column = [], [], [], [], {}
    for column, start, size in transform.option_offsets():
        values = transform.categories(column)
        options += [(column, v) for v in values]
        positions += range(start, start + size)
        codes.append(np.argmax(x[:, start:start + size], axis=1))
        by_column[column] = len(options) - size + codes[-1]  # each row's global option
        sizes.append(size)
    arrays = {"x": jnp.asarray(x, jnp.float32), "y": jnp.zeros((len(x),), jnp.int32),
              **(condition_arrays(codes, sizes) if codes else
                 {"option_start": jnp.zeros((0,), jnp.int32)})}
    row_options = np.stack([by_column[c] for c in discrete], axis=1) if discrete else \
        np.zeros((len(x), 0), np.int64)
    table = Table(transform, train, heldout, target, discrete, split, tuple(options),
                  np.asarray(positions, np.int64), row_options, rules)
    return Dataset(name=name, arrays=arrays, sample=sample, shape=(transform.width,),
                   value_range=None, table=table)
