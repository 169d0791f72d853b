"""A user's own table (CSV or parquet) read into pandas and validated, and stratified splits.

Columns listed in `discrete` are categories (kept as read); every other column is continuous and
converted to a number. A table that a tabular GAN cannot learn from (missing values, text in a
numeric column, a constant column, a target that is not binary, too few rows) is refused with a
DataError that names the column and the fix, before any training starts.
"""

from __future__ import annotations

import pathlib
import re
import zlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gan_jax.errors import ConfigError, DataError

MIN_ROWS = 10
FORMATS = "CSV (.csv, .csv.gz) or parquet (.parquet, .parquet.brotli, ...)"
# What pandas names a column whose header cell is empty: usually an index saved by to_csv.
UNNAMED = re.compile(r"Unnamed: \d+")


def read_table(path, target: str | None, discrete: Sequence[str],
               max_categories: int = 1000) -> pd.DataFrame:
    """The validated table of a CSV or parquet file (see validate_table)."""
    path = pathlib.Path(path).expanduser()
    return validate_table(read_file(path), target, discrete, str(path), max_categories)


def read_file(path) -> pd.DataFrame:
    """A CSV or parquet file as read by pandas (format by suffix), or a DataError saying why not."""
    path = pathlib.Path(path).expanduser()
    if not path.is_file():
        state = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise DataError(f"the table {path} {state}; give the path of a {FORMATS} file.")
    suffixes = [s.lower() for s in path.suffixes]
    if ".parquet" in suffixes:
        df = _read_parquet(path)
    elif ".csv" in suffixes:
        df = _read_csv(path)
    else:
        raise DataError(f"{path}: unknown table format {''.join(path.suffixes) or '(no suffix)'}; "
                        f"save it as {FORMATS}.")
    return df


def _read_csv(path: pathlib.Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty (no header, no rows); write the table with a header "
                        f"row of column names.") from None
    except UnicodeDecodeError as e:
        raise DataError(f"{path} is not UTF-8 text ({e}); re-save it as UTF-8 CSV.") from e
    except pd.errors.ParserError as e:
        raise DataError(f"{path} is not a well-formed CSV ({e}); every row needs as many "
                        f"comma-separated fields as the header.") from e
    except (OSError, EOFError, zlib.error) as e:  # unreadable, or a truncated / corrupt .gz
        raise DataError(f"{path} cannot be read ({e}).") from e


def _read_parquet(path: pathlib.Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except ImportError as e:
        raise DataError(f"reading the parquet file {path} needs pyarrow: `pip install pyarrow` "
                        f"(or save the table as CSV).") from e
    except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
        raise DataError(f"{path} is not a readable parquet file ({e}).") from e


def validate_table(df: pd.DataFrame, target: str | None, discrete: Sequence[str], source: str,
                   max_categories: int = 1000) -> pd.DataFrame:
    """A copy of `df` with continuous columns numeric, or a DataError naming the column at fault.

    Row numbers in messages count data rows from 1 (a CSV header not counted)."""
    discrete = list(discrete)
    _check_shape(df, source)
    _check_columns(df, target, discrete, source)
    _check_missing(df, source)
    out = df.copy()
    for column in df.columns:
        if column not in discrete:
            out[column] = _numeric(df[column], source)
    if target is not None:
        _check_target(out[target], source)
    _check_constant(out, source)
    _check_categories(out, discrete, source, max_categories)
    return out


def _check_shape(df: pd.DataFrame, source: str) -> None:
    if df.shape[1] == 0:
        raise DataError(f"{source} has no columns; write the table with a header row.")
    if len(df) == 0:
        raise DataError(f"{source} has a header but no rows; the table is empty.")
    if len(df) < MIN_ROWS:
        raise DataError(f"{source} has {len(df)} rows; a generative model needs at least {MIN_ROWS} "
                        f"(in practice hundreds). Use a larger table.")


def _check_columns(df: pd.DataFrame, target: str | None, discrete: list[str], source: str) -> None:
    names = [str(c) for c in df.columns]
    duplicated = df.columns[df.columns.duplicated()]
    if len(duplicated):
        raise DataError(f"{source}: column '{duplicated[0]}' appears twice; rename one of them.")
    for position, name in enumerate(names):
        if UNNAMED.fullmatch(name):
            raise DataError(f"{source}: column {position + 1} ('{name}') has no name in the header, "
                            f"often a saved row index; drop it (pandas: to_csv(index=False)) or "
                            f"name it.")
    if target is not None and target not in df.columns:
        raise DataError(f"{source}: the target column '{target}' does not exist; the columns are "
                        f"{names}. Set the target to one of them.")
    missing = [c for c in discrete if c not in df.columns]
    if missing:
        raise DataError(f"{source}: discrete column '{missing[0]}' does not exist; the columns are "
                        f"{names}. Fix or remove it in data.discrete.")
    if target is not None and target not in discrete:
        raise DataError(f"{source}: the target column '{target}' must be discrete (a binary label); "
                        f"add it to data.discrete.")


def _check_missing(df: pd.DataFrame, source: str) -> None:
    for column in df.columns:
        missing = df[column].isna().to_numpy()
        if missing.any():
            raise DataError(f"{source}: column '{column}' has {int(missing.sum())} missing (NaN or "
                            f"empty) values, the first in row {int(np.argmax(missing)) + 1}; fill "
                            f"them (e.g. a median or an 'unknown' category) or drop those rows.")


def _numeric(values: pd.Series, source: str) -> pd.Series:
    """A continuous column as int64 or float64 (as read), or a DataError at its first non-number."""
    if values.dtype == bool:
        return values.astype(np.int64)
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{source}: column '{values.name}' is continuous but row {row + 1} holds "
                        f"{_show(values.iloc[row])}, not a number; list '{values.name}' in data.discrete "
                        f"if it is a category, or clean the value.")
    kind = numbers.dtype.kind
    # Nullable extension dtypes (parquet's Int64, Float64) become plain numpy ones: no NA is left.
    numbers = numbers.astype(np.float64 if kind == "f" else np.int64) if kind in "iuf" else numbers
    infinite = ~np.isfinite(numbers.to_numpy(np.float64))
    if infinite.any():
        row = int(np.argmax(infinite))
        raise DataError(f"{source}: column '{values.name}' holds {numbers.iloc[row]} in row "
                        f"{row + 1} ({int(infinite.sum())} rows in all); replace or drop them.")
    return numbers


def _show(value) -> str:
    """A value as the user wrote it: 7, not numpy's np.int64(7)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _check_target(values: pd.Series, source: str) -> None:
    classes = values.unique()
    if len(classes) != 2:
        shown = ", ".join(map(_show, classes[:5])) + (", ..." if len(classes) > 5 else "")
        raise DataError(f"{source}: the target column '{values.name}' has {len(classes)} distinct "
                        f"values ({shown}); it must have exactly 2 (a binary label). Recode it, or "
                        f"choose another target.")


def _check_constant(df: pd.DataFrame, source: str) -> None:
    for column in df.columns:
        if df[column].nunique() == 1:
            raise DataError(f"{source}: column '{column}' has one value ({_show(df[column].iloc[0])}) in "
                            f"every row; there is nothing to learn from it. Drop the column.")


def _check_categories(df: pd.DataFrame, discrete: list[str], source: str, max_categories: int) -> None:
    for column in discrete:
        n = df[column].nunique()
        if n > max_categories:
            numeric = pd.to_numeric(df[column], errors="coerce").notna().all()
            fix = ("it is numeric: remove it from data.discrete to treat it as continuous" if numeric
                   else f"bucket it into at most {max_categories} categories (e.g. rare values -> 'other')")
            raise DataError(f"{source}: discrete column '{column}' has {n} categories, more than "
                            f"max_categories={max_categories}; {fix}.")


def stratified_split(target_values: np.ndarray, test_fraction: float,
                     seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) row indices, sorted: round(test_fraction * n_c) random rows of each class c
    (at least one, and one left for training) go to the test set."""
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test_fraction={test_fraction} must lie strictly between 0 and 1.")
    labels = np.asarray(target_values)
    rng = np.random.default_rng(seed)
    test = []
    for label, rows in _class_rows(labels):
        if len(rows) < 2:
            raise DataError(f"target class {_show(label)} has {len(rows)} row; it cannot be in both the "
                            f"training and the test set. Use a larger table.")
        n_test = min(max(int(np.rint(test_fraction * len(rows))), 1), len(rows) - 1)
        test.append(rng.permutation(rows)[:n_test])
    test = np.sort(np.concatenate(test))
    return np.setdiff1d(np.arange(len(labels)), test), test


def subsample(train_idx: np.ndarray, target_values: np.ndarray, n: int, seed: int) -> np.ndarray:
    """n of the training rows (sorted), each class's share kept up to rounding and every class
    present when n allows. With a binary target and a fixed seed, a smaller n gives a subset of a
    larger n's rows, so that results across training sizes differ by the added rows only."""
    train_idx = np.asarray(train_idx)
    if not 1 <= n <= len(train_idx):
        raise DataError(f"a subsample of {n} training rows was asked for, but there are "
                        f"{len(train_idx)}; choose n between 1 and {len(train_idx)}.")
    groups = _class_rows(np.asarray(target_values)[train_idx])
    sizes = np.array([len(rows) for _, rows in groups])
    counts = _allocate(n, sizes)
    rng = np.random.default_rng(seed)
    picked = [train_idx[rng.permutation(rows)[:k]] for (_, rows), k in zip(groups, counts)]
    return np.sort(np.concatenate(picked))


def _class_rows(labels: np.ndarray) -> list[tuple[object, np.ndarray]]:
    """(label, its row positions) per class, in sorted label order (so draws are deterministic)."""
    classes, inverse = np.unique(labels, return_inverse=True)
    return [(label, np.flatnonzero(inverse == c)) for c, label in enumerate(classes)]


def _allocate(n: int, sizes: np.ndarray) -> np.ndarray:
    """n split over classes proportionally to sizes (largest remainder), one each first if n allows."""
    floor = np.minimum(sizes, 1) if n >= len(sizes) else np.zeros_like(sizes)
    share = (n - floor.sum()) * sizes / sizes.sum()
    counts = floor + np.minimum(np.floor(share).astype(np.int64), sizes - floor)
    remainder = share - np.floor(share)
    for c in np.argsort(-remainder, kind="stable"):  # hand out what rounding down left over
        if counts.sum() == n:
            break
        if counts[c] < sizes[c]:
            counts[c] += 1
    while counts.sum() < n:  # only when capped classes left rows over: fill from any class
        c = int(np.argmax(sizes - counts))
        counts[c] += 1
    return counts
