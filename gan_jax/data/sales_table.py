"""A shop's own daily sales export (CSV or parquet, long format) as demand series, like data=m5.

One row per series and day: `id_column` (a product, or product x store), `date_column` (dates),
`units_column` (units sold: whole numbers, 0 or more) and, optionally, `category_column` (a
static label of each series: a department, a category), which a run may condition on. Other
columns (a price) are allowed and not read.

The calendar runs from the file's first date to its last. A day on which a series has no row
sold 0 units (exports often leave such days out), so the series become one [N, days] table of
units, as M5's are, and `m5.windows_dataset` cuts them the same way. A file the forecasts cannot
trust is refused before anything is written, with a DataError naming the column, row and
series: negative or fractional units, a date that does not parse, two rows of one series on one
day, a series whose rows go back in time (sort the file by id, then date), a series whose rows
span fewer days than one training window.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd

from gan_jax.data import series_file, table_files
from gan_jax.data.m5 import Sales
from gan_jax.errors import DataError


def load(path, id_column: str, date_column: str, units_column: str,
         category_column: str | None = None, min_days: int = 1) -> Sales:
    """The file's series as `Sales` (ids sorted as text; info holds the category column)."""
    if not path:
        raise DataError("data=sales_table needs data.path=<your sales .csv or .parquet>.")
    path = pathlib.Path(path).expanduser()
    source = str(path)
    frame = table_files.read_file(path)
    series_file._check_header(frame, source)
    roles = {"data.id_column": id_column, "data.date_column": date_column,
             "data.units_column": units_column, "data.category_column": category_column}
    names = [str(c) for c in frame.columns]
    for setting, column in roles.items():
        if column is not None and column not in frame.columns:
            raise DataError(f"{source}: {setting} names '{column}', which is not a column; the "
                            f"columns are {names}. Set {setting} to one of them.")
    ids = frame[id_column]
    for column in (c for c in roles.values() if c is not None):
        series_file._check_missing(frame[column], ids, source, "every row needs a value there")
    units = _units(frame[units_column], ids, source)
    days = _days(frame[date_column], ids, source)
    text_ids = ids.astype(str)
    codes, unique = pd.factorize(text_ids, sort=True)
    _check_in_order(days, codes, frame[date_column], text_ids, source)
    groups = np.split(np.argsort(codes, kind="stable"), np.cumsum(np.bincount(codes))[:-1])
    if category_column is not None:
        series_file._check_static(frame[category_column], groups, ids, source)
    first, last = days.min(), days.max()
    span = np.array([days[g[-1]] - days[g[0]] + 1 for g in groups])
    if (span < min_days).any():
        k = int(np.argmin(span))
        raise DataError(f"{source}: series {unique[k]!r} has rows over {span[k]} days, fewer than "
                        f"data.seq_len={min_days} (one training window); leave it out of the file or "
                        f"lower data.seq_len.")
    table = np.zeros((len(unique), last - first + 1), np.int32)
    table[codes, days - first] = units
    calendar = pd.date_range(pd.Timestamp(first, unit="D"), periods=table.shape[1], freq="D")
    info = (pd.DataFrame({category_column: [frame[category_column].iloc[g[0]] for g in groups]})
            if category_column is not None else pd.DataFrame(index=range(len(unique))))
    return Sales(ids=np.asarray(unique, dtype=object), info=info, units=table,
                 days=tuple(calendar.strftime("%Y-%m-%d")), scale_mse=None, weight=None, source=source)


def _units(values: pd.Series, ids: pd.Series, source: str) -> np.ndarray:
    """Units sold as int32: a DataError at the first negative or fractional value."""
    numbers = series_file._numeric(values, ids, source)
    for bad, what in ((numbers < 0, "negative"), (numbers != np.round(numbers), "not a whole number")):
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(f"{source}: units column '{values.name}' holds {numbers[row]:g} in "
                            f"{series_file._where(ids, row)}, {what}; units sold are whole numbers, "
                            f"0 or more (write returns as a column of their own).")
    return numbers.astype(np.int32)


def _days(values: pd.Series, ids: pd.Series, source: str) -> np.ndarray:
    """Each row's date as a day number (days since 1970-01-01)."""
    dates = pd.to_datetime(values, errors="coerce", format="mixed")
    bad = dates.isna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{source}: date column '{values.name}' holds {values.iloc[row]!r} in "
                        f"{series_file._where(ids, row)}, not a date; write dates as 2024-01-31.")
    return (dates.dt.normalize().to_numpy().astype("datetime64[D]").astype(np.int64))


def _check_in_order(days: np.ndarray, codes: np.ndarray, dates: pd.Series, ids: pd.Series,
                    source: str) -> None:
    """One row per series and day, and each series' rows in the file move forward in time."""
    by_day = np.lexsort((days, codes))
    twice = (np.diff(codes[by_day]) == 0) & (np.diff(days[by_day]) == 0)
    if twice.any():
        a, b = sorted(by_day[int(np.argmax(twice)):][:2])
        raise DataError(f"{source}: series {ids.iloc[a]!r} has two rows on {dates.iloc[a]!r} (rows "
                        f"{a + 1} and {b + 1}); keep one row per series and day (sum them).")
    in_file = np.argsort(codes, kind="stable")  # by series, file order within each
    back = (np.diff(codes[in_file]) == 0) & (np.diff(days[in_file]) < 0)
    if back.any():
        a, b = in_file[int(np.argmax(back)):][:2]
        raise DataError(f"{source}: series {ids.iloc[a]!r} goes back in time at {dates.iloc[b]!r} "
                        f"(row {b + 1}, after {dates.iloc[a]!r} in row {a + 1}); sort the file by id, "
                        f"then date.")


def build(c: dict):
    """`data=sales_table`: the file's series cut into windows as data=m5's are."""
    from gan_jax.data.m5 import windows_dataset  # noqa: PLC0415

    sales = load(c["path"], c["id_column"], c["date_column"], c["units_column"], c["category_column"],
                 min_days=int(c["seq_len"]))
    return windows_dataset(sales, "sales_table", int(c["seq_len"]), int(c["stride"]),
                           int(c["final_days"]), float(c["heldout_fraction"]), c["category_column"],
                           c["transform"], int(c["seed"]), bool(c["categories_as_channels"]),
                           bool(c["dequantize"]))
