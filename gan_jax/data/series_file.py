"""A user's own multivariate series (CSV or parquet, long format) as sequence data.

The file has one row per time step and series. `id_column` tells the series apart; `time_column`
(optional: numbers or dates) orders each series' rows, else they keep the file's order;
`feature_columns` are the values (empty: every column holding numbers other than the id, time
and category columns); `category_column` (optional) is a static label of each series, the
integer labels `arrays["y"]` and `Dataset.class_names` that `data.conditional=true` conditions on.

Each series is cut into windows of `seq_len` steps, one starting every `stride` steps. Series
shorter than one window are left out with a warning that counts them; the file is refused only
when fewer than two series keep a window. The held-out split is by series id, never by window,
so that no series lends windows to both sides: `heldout_fraction` of the series of each category
(rounded, at least one where the category has two, and one always left for training), drawn from
`seed`. Every feature is min-max scaled over the training windows as TimeGAN does
(`gan_jax.data.series.Series`), which maps samples back and writes them in the file's columns.

A file a sequence GAN cannot learn from is refused with a DataError naming the column, the
series and the row (rows count data rows from 1, a CSV header not counted, as in `table_files`)
and the fix, before any training starts.
"""

from __future__ import annotations

import dataclasses
import logging
import pathlib
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np
import pandas as pd

from gan_jax.data import table_files
from gan_jax.data.series import Series, windows
from gan_jax.data.spec import Dataset, sample_by_index
from gan_jax.errors import DataError

log = logging.getLogger(__name__)
# What a row holds in each role's column (messages).
ROLE_VALUES = {"data.id_column": "the id of its series", "data.time_column": "its time",
               "data.category_column": "its series' category"}


@dataclasses.dataclass(frozen=True)
class Columns:
    """The file's layout, to write samples in its own column names: one series id per sample
    (0..n-1), its steps 0..T-1 under the time column (when the file has one), the features and,
    for samples with labels, the category as the file writes it (label i is categories[i])."""

    id: str
    time: str | None
    features: tuple[str, ...]
    category: str | None = None
    categories: tuple = ()

    def frame(self, x: np.ndarray, labels: np.ndarray | None = None) -> pd.DataFrame:
        """Long-format rows of sequences x [n, T, F] in the data's units: one per sample and step."""
        n, steps, _ = x.shape
        out = {self.id: np.repeat(np.arange(n), steps)}
        if self.time is not None:
            out[self.time] = np.tile(np.arange(steps), n)
        for k, name in enumerate(self.features):
            out[name] = x[:, :, k].reshape(-1)
        if labels is not None and self.category is not None:
            out[self.category] = np.repeat(np.asarray(self.categories, dtype=object)[labels], steps)
        return pd.DataFrame(out)


@dataclasses.dataclass(frozen=True)
class SeriesTable:
    """A validated file, series by series in the order their ids first appear: each series'
    values [steps, F] in time order and its category value (None without a category column)."""

    ids: list
    values: list[np.ndarray]
    categories: list
    columns: Columns
    source: str


def read_series(path, id_column: str, time_column: str | None, feature_columns: Sequence[str],
                category_column: str | None) -> SeriesTable:
    """The series of a CSV or parquet file, validated (see the module docstring)."""
    path = pathlib.Path(path).expanduser()
    source = str(path)
    frame = table_files.read_file(path)
    _check_header(frame, source)
    roles = {"data.id_column": id_column, "data.time_column": time_column,
             "data.category_column": category_column}
    features = _feature_columns(frame, roles, list(feature_columns), source)
    ids = frame[id_column]
    for setting, column in roles.items():
        if column is not None:
            _check_missing(frame[column], ids, source, f"every row needs {ROLE_VALUES[setting]}")
    for column in features:
        _check_missing(frame[column], ids, source,
                       "fill them (e.g. interpolate within the series) or drop those rows")
    values = np.stack([_numeric(frame[c], ids, source) for c in features], axis=1)
    for k, column in enumerate(features):
        if np.all(values[:, k] == values[0, k]):
            raise DataError(f"{source}: feature column '{column}' is {_show(values[0, k])} in every "
                            f"row; min-max scaling would divide by zero and there is nothing to "
                            f"learn. List data.feature_columns without it.")
    codes, unique_ids = pd.factorize(ids, sort=False)  # series in the order they first appear
    key = _time_key(frame, time_column, ids, source)
    order = np.lexsort((key, codes))  # by series, then time; stable, so file order breaks ties
    if time_column is not None:
        _check_distinct_times(frame[time_column], key, order, codes, ids, source)
    groups = np.split(order, np.flatnonzero(np.diff(codes[order])) + 1)
    category = frame[category_column] if category_column is not None else None
    if category is not None:
        _check_static(category, groups, ids, source)
    columns = Columns(id_column, time_column, tuple(features), category_column)
    return SeriesTable(list(unique_ids), [values[g] for g in groups],
                       [category.iloc[g[0]] if category is not None else None for g in groups],
                       columns, source)


def _check_header(frame: pd.DataFrame, source: str) -> None:
    if frame.shape[1] == 0 or len(frame) == 0:
        raise DataError(f"{source} has no {'columns' if frame.shape[1] == 0 else 'rows'}; write "
                        f"one row per series and time step under a header of column names.")
    duplicated = frame.columns[frame.columns.duplicated()]
    if len(duplicated):
        raise DataError(f"{source}: column '{duplicated[0]}' appears twice; rename one of them.")
    for position, name in enumerate(map(str, frame.columns)):
        if table_files.UNNAMED.fullmatch(name):
            raise DataError(f"{source}: column {position + 1} ('{name}') has no name in the header, "
                            f"often a saved row index; drop it (pandas: to_csv(index=False)) or "
                            f"name it.")


def _feature_columns(frame: pd.DataFrame, roles: dict, listed: list[str], source: str) -> list[str]:
    """The feature columns: the listed ones, or every other column holding numbers."""
    names = [str(c) for c in frame.columns]
    for setting, column in [*roles.items(), *(("data.feature_columns", c) for c in listed)]:
        if column is not None and column not in frame.columns:
            raise DataError(f"{source}: {setting} names '{column}', which is not a column; the "
                            f"columns are {names}. Set {setting} to " +
                            ("existing columns." if setting == "data.feature_columns" else "one of them."))
    given: dict[str, str] = {}
    for setting, column in roles.items():
        if column is not None and column in given:
            raise DataError(f"{source}: {given[column]} and {setting} both name '{column}'; each "
                            f"role needs a column of its own.")
        if column is not None:
            given[column] = setting
    for column in listed:
        if column in given:
            raise DataError(f"{source}: data.feature_columns lists '{column}', which is "
                            f"{given[column]}; leave it out of data.feature_columns.")
    if len(set(listed)) < len(listed):
        twice = next(c for c in listed if listed.count(c) > 1)
        raise DataError(f"{source}: data.feature_columns lists '{twice}' twice; list it once.")
    if listed:
        return listed
    features = [c for c in frame.columns if c not in given and _holds_numbers(frame[c])]
    if not features:
        raise DataError(f"{source}: no column besides {', '.join(map(repr, given))} holds numbers; "
                        f"the series need numeric features. Name them in data.feature_columns.")
    return features


def _holds_numbers(values: pd.Series) -> bool:
    """Whether any cell is a number: a column of text (a store's name) is no feature, while one
    number-column with a stray word is, and is refused at that word."""
    return values.dtype == bool or bool(pd.to_numeric(values, errors="coerce").notna().any())


def _where(ids: pd.Series, row: int) -> str:
    """'row 7 (series 'A')', the data row numbered from 1."""
    series = ids.iloc[row]
    return f"row {row + 1}" + ("" if pd.isna(series) else f" (series {_show(series)})")


def _check_missing(values: pd.Series, ids: pd.Series, source: str, fix: str) -> None:
    missing = values.isna().to_numpy()
    if not missing.any():
        return
    row = int(np.argmax(missing))
    raise DataError(f"{source}: column '{values.name}' has {int(missing.sum())} missing (NaN or "
                    f"empty) values, the first in {_where(ids, row)}; {fix}.")


def _numeric(values: pd.Series, ids: pd.Series, source: str) -> np.ndarray:
    """A feature column as float64, or a DataError at its first non-number or infinity."""
    if values.dtype == bool:
        return values.to_numpy(np.float64)
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{source}: feature column '{values.name}' holds {_show(values.iloc[row])} "
                        f"in {_where(ids, row)}, not a number; clean the value, or list "
                        f"data.feature_columns without '{values.name}' if it is not a feature.")
    out = numbers.to_numpy(np.float64)
    infinite = ~np.isfinite(out)
    if infinite.any():
        row = int(np.argmax(infinite))
        raise DataError(f"{source}: feature column '{values.name}' holds {out[row]} in "
                        f"{_where(ids, row)}; replace or drop the infinite values "
                        f"({int(infinite.sum())} in all).")
    return out


def _time_key(frame: pd.DataFrame, time_column: str | None, ids: pd.Series,
              source: str) -> np.ndarray:
    """What orders the rows of a series: the time column as numbers or dates, else file order."""
    if time_column is None:
        return np.arange(len(frame))
    values = frame[time_column]
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().any():  # step numbers, one of them mistyped
        bad, times = numbers.isna().to_numpy(), numbers.to_numpy(np.float64)
    else:  # dates; utc=True reads dates with and without time zones alike
        dates = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
        bad, times = dates.isna().to_numpy(), (dates - dates.min()).dt.total_seconds().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{source}: time column '{time_column}' holds {_show(values.iloc[row])} in "
                        f"{_where(ids, row)}, neither a number nor a date; write every time as "
                        f"a date (e.g. 2024-01-31) or every time as a step number.")
    return times


def _check_distinct_times(values: pd.Series, key: np.ndarray, order: np.ndarray,
                          codes: np.ndarray, ids: pd.Series, source: str) -> None:
    same = (np.diff(codes[order]) == 0) & (np.diff(key[order]) == 0)
    if same.any():
        first, second = order[int(np.argmax(same))], order[int(np.argmax(same)) + 1]
        raise DataError(f"{source}: series {_show(ids.iloc[first])} has two rows at time "
                        f"{_show(values.iloc[first])} (rows {min(first, second) + 1} and "
                        f"{max(first, second) + 1}); keep one row per series and step.")


def _check_static(category: pd.Series, groups: list[np.ndarray], ids: pd.Series,
                  source: str) -> None:
    """A series' category is one value (a store's region), not one that changes over time."""
    for rows in groups:
        values = category.iloc[rows].to_numpy()
        changed = values != values[0]
        if changed.any():
            row = int(rows[np.argmax(changed)])
            raise DataError(f"{source}: series {_show(ids.iloc[row])} changes category column "
                            f"'{category.name}' from {_show(values[0])} to "
                            f"{_show(category.iloc[row])} in row {row + 1}; a category is static, "
                            f"one value per series. Fix the value, or split that series in two ids.")


def _show(value) -> str:
    """A value as the user wrote it: 7, not numpy's np.int64(7); 2.0 rather than 2.0000."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _sorted(values: set) -> list:
    """Category values in order: numbers as numbers (2 before 10), mixed kinds as text."""
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def split_ids(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training, held-out) series indices, sorted: per category, round(fraction * n) random
    series (at least one where the category has two; one always kept for training)."""
    rng = np.random.default_rng(seed)
    held = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        k = min(max(int(np.rint(fraction * len(members))), 1), len(members) - 1)
        held.append(rng.permutation(members)[:k])
    held = np.sort(np.concatenate(held))
    return np.setdiff1d(np.arange(len(labels)), held), held


def build(path, id_column: str, time_column: str | None, feature_columns: Sequence[str],
          category_column: str | None, seq_len: int, stride: int, heldout_fraction: float,
          seed: int) -> Dataset:
    table = read_series(path, id_column, time_column, feature_columns, category_column)
    source = table.source
    cut = [windows(v.astype(np.float32), seq_len, stride) for v in table.values]
    kept = [i for i, w in enumerate(cut) if len(w)]
    short = [table.ids[i] for i in range(len(cut)) if not len(cut[i])]
    if len(kept) < 2:
        longest = max(len(v) for v in table.values)
        raise DataError(f"{source}: {len(kept)} of {len(cut)} series {'is' if len(kept) == 1 else 'are'} "
                        f"at least data.seq_len={seq_len} steps long (the longest has {longest}); the "
                        f"held-out split is by series and needs two. Lower data.seq_len, or add "
                        f"series.")
    if short:
        shown = ", ".join(map(_show, short[:5])) + (", ..." if len(short) > 5 else "")
        log.warning("series_file: %d of %d series are shorter than data.seq_len=%d steps and are "
                    "left out: %s", len(short), len(cut), seq_len, shown)
    categories = _sorted({table.categories[i] for i in kept}) if category_column else [None]
    labels = np.array([categories.index(table.categories[i]) for i in kept])
    train_idx, held_idx = split_ids(labels, heldout_fraction, seed)
    if not len(held_idx):
        raise DataError(f"{source}: no series can be held out: each of the {len(categories)} "
                        f"categories of '{category_column}' has one series long enough, kept for "
                        f"training. Add series, or drop data.category_column.")
    train = np.concatenate([cut[kept[i]] for i in train_idx])
    heldout = np.concatenate([cut[kept[i]] for i in held_idx])
    y = np.concatenate([np.full(len(cut[kept[i]]), labels[i], np.int32) for i in train_idx])
    _check_varies(train, table.columns.features, len(train_idx), source)
    columns = dataclasses.replace(table.columns, categories=tuple(categories) if category_column else ())
    series = Series.fit(train, heldout, columns)
    arrays = {"x": jnp.asarray(series.scale(train)), "y": jnp.asarray(y)}

    def sample(arrays, key, n):
        return sample_by_index(arrays, key, n, lambda x: x)

    return Dataset(name="series_file", arrays=arrays, sample=sample,
                   shape=(seq_len, len(columns.features)), value_range=(0.0, 1.0),
                   class_names=tuple(map(str, categories)) if category_column else (),
                   series=series)


def _check_varies(train: np.ndarray, features: tuple[str, ...], n_series: int, source: str) -> None:
    """Min-max scaling divides by each feature's range over the training windows."""
    flat = train.reshape(-1, train.shape[-1])
    for k, column in enumerate(features):
        if np.all(flat[:, k] == flat[0, k]):
            raise DataError(f"{source}: feature column '{column}' is {_show(flat[0, k])} in every "
                            f"training window ({n_series} series); min-max scaling would divide by "
                            f"zero. List data.feature_columns without it, or hold out other series "
                            f"(data.seed).")
