"""CDNOW customers as a table: RFM features from 1997's first nine months, and whether each
customer bought again in the next nine (the classic buy-till-you-die benchmark).

The master file holds 69,659 transactions (1997-01-01..1998-06-30) of the 23,570 customers who
first bought in Q1 1997. It ships inside the PyPI wheel `lifetimes==0.11.3`. With `root` set,
that folder only. Otherwise, in order: `$GAN_JAX_DATA` (or its `cdnow/`), the user cache
`~/.cache/gan_jax/cdnow`, and the file inside a lifetimes-0.11.3 wheel in `~/.cache/gan_jax/wheels`
(`scripts/setup.sh` fetches it with `pip download --no-deps`; extracted into the cache, the
package is never imported).
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd

from gan_jax.data.table_files import validate_table
from gan_jax.data.packaged_files import Packaged
from gan_jax.errors import DataError

FILE = "CDNOW_master.txt"
CACHE_DIR = pathlib.Path.home() / ".cache" / "gan_jax" / "cdnow"
WHEEL_DIR = pathlib.Path.home() / ".cache" / "gan_jax" / "wheels"
WHEEL_GLOB = "lifetimes-0.11.3-*.whl"  # matched case-insensitively: PyPI serves "Lifetimes-..."
WHEEL_MEMBER = "lifetimes/datasets/" + FILE
HOW_TO_GET = ("Run scripts/setup.sh (it runs `pip download --no-deps lifetimes==0.11.3 -d "
              "~/.cache/gan_jax/wheels`; the wheel ships the file), or put CDNOW_master.txt in a folder "
              "and pass data.root=/that/folder.")
COLUMNS = ("customer_id", "date", "number_of_cds", "dollar_value")

CALIBRATION_END = pd.Timestamp("1997-09-30")
HOLDOUT_END = pd.Timestamp("1998-06-30")
DISCRETE = ("first_month", "repurchase")
TARGET = "repurchase"


PACKAGED = Packaged("CDNOW", (FILE,), "cdnow", WHEEL_GLOB, WHEEL_MEMBER, HOW_TO_GET)


def find(root: str | None = None) -> pathlib.Path:
    """The CDNOW file per the lookup order above."""
    return PACKAGED.find(root, CACHE_DIR, WHEEL_DIR)


def read_transactions(path: pathlib.Path) -> pd.DataFrame:
    """One row per transaction: customer_id, date (Timestamp), number_of_cds, dollar_value."""
    try:
        t = pd.read_csv(path, sep=r"\s+", dtype={"date": str})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise DataError(f"{path} cannot be read ({e}). {HOW_TO_GET}") from e
    if tuple(t.columns) != COLUMNS or t.empty:
        raise DataError(f"{path} has columns {list(t.columns)} and {len(t)} rows, not CDNOW's "
                        f"{list(COLUMNS)}; the file is corrupt or not CDNOW. {HOW_TO_GET}")
    try:
        t["date"] = pd.to_datetime(t["date"], format="%Y%m%d")
    except ValueError as e:
        raise DataError(f"{path}: a date is not yyyymmdd ({e}); the file is corrupt.") from e
    return t


def features(t: pd.DataFrame) -> pd.DataFrame:
    """Per-customer table (sorted by customer id, id dropped) from a transaction table."""
    cal = t[t["date"] <= CALIBRATION_END]
    holdout = t[(t["date"] > CALIBRATION_END) & (t["date"] <= HOLDOUT_END)]
    # BTYD counts purchase days, not transactions: several rows on one day are one purchase.
    days = cal.groupby(["customer_id", "date"], as_index=False)["dollar_value"].sum()
    by_day = days.groupby("customer_id")
    first, last = by_day["date"].min(), by_day["date"].max()
    is_first = days["date"].to_numpy() == days["customer_id"].map(first).to_numpy()
    first_spend = days[is_first].set_index("customer_id")["dollar_value"]
    # lifetimes' monetary value: mean over repeat days only, so the first purchase is excluded.
    repeat_mean = days[~is_first].groupby("customer_id")["dollar_value"].mean()
    by_row = cal.groupby("customer_id")
    out = pd.DataFrame({
        "frequency": by_day.size() - 1,
        "recency": (last - first).dt.days,
        "T": (CALIBRATION_END - first).dt.days,
        "monetary_value": repeat_mean.reindex(first.index, fill_value=0.0),
        "total_spend": by_row["dollar_value"].sum(),
        "total_cds": by_row["number_of_cds"].sum(),
        "n_transactions": by_row.size(),
        "first_spend": first_spend,
        "first_month": first.dt.month,
        "repurchase": first.index.isin(holdout["customer_id"].unique()),
    }).sort_index()
    ints = ["frequency", "recency", "T", "total_cds", "n_transactions", "first_month", "repurchase"]
    out[ints] = out[ints].astype(np.int64)
    out[["monetary_value", "total_spend", "first_spend"]] = (
        out[["monetary_value", "total_spend", "first_spend"]].astype(np.float64))
    return out.reset_index(drop=True)


def customers(root: str | None = None) -> pd.DataFrame:
    """One row per customer (23,570): calibration RFM features and the binary `repurchase`."""
    path = find(root)
    return validate_table(features(read_transactions(path)), TARGET, DISCRETE, str(path))
