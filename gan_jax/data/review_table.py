"""A user's own reviews as text data: `data=review_table data.path=reviews.csv data.text=<column>
[data.label=<column>] [data.rating=<column>]`.

A CSV or parquet export read as `table_files` reads tables. The text column must be filled in
every row; the optional label column (e.g. fake / genuine, for a detector) must hold exactly two
values, and the optional rating column whole numbers 1-5. `data.condition_on` picks which of the
two `data.conditional=true` conditions on. Split, cutting and vocabulary as `review_corpus` makes
them; the label and rating of each review are kept in `Text.metadata`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gan_jax.data import review_corpus, table_files, text
from gan_jax.data.reviews import RATING_NAMES
from gan_jax.data.spec import Dataset
from gan_jax.errors import ConfigError, DataError


def read(path, text_column: str, label: str | None = None, rating: str | None = None) -> pd.DataFrame:
    """The table's reviews: columns text, then label (as strings) and rating (1-5) when named;
    a DataError naming the file, column, row or value at fault."""
    raw = table_files.read_file(path)
    source = f"data.path={path}"
    for setting, column in (("text", text_column), ("label", label), ("rating", rating)):
        if column is not None and column not in raw.columns:
            raise DataError(f"{source} has no column '{column}' (data.{setting}); its columns are "
                            f"{[str(c) for c in raw.columns]}. Set data.{setting} to one of them.")
    frame = pd.DataFrame({"text": filled_texts(raw[text_column], source)})
    if label is not None:
        frame["label"] = _labels(raw[label], source)
    if rating is not None:
        frame["rating"] = review_corpus.ratings(raw[rating], source, "data.rating")
    return frame


def filled_texts(values: pd.Series, source: str) -> pd.Series:
    """The column's texts as strings; a DataError naming the first empty one's row (from 1)."""
    empty = (values.isna() | (values.astype(str).str.strip() == "")).to_numpy()
    if empty.any():
        raise DataError(f"{source}: the text column '{values.name}' is empty in row "
                        f"{int(np.argmax(empty)) + 1} ({int(empty.sum())} rows in all); fill or drop "
                        f"those rows.")
    return values.astype(str)


def _labels(values: pd.Series, source: str) -> pd.Series:
    missing = values.isna().to_numpy()
    if missing.any():
        raise DataError(f"{source}: the label column '{values.name}' is empty in row "
                        f"{int(np.argmax(missing)) + 1}; label every review or drop data.label.")
    labels = values.astype(str).str.strip()
    classes = sorted(labels.unique())
    if len(classes) != 2:
        shown = ", ".join(map(repr, classes[:5])) + (", ..." if len(classes) > 5 else "")
        raise DataError(f"{source}: the label column '{values.name}' has {len(classes)} distinct values "
                        f"({shown}); a detector's label needs exactly 2 (e.g. fake and genuine). "
                        f"Recode it, or drop data.label.")
    return labels


def categories(frame: pd.DataFrame, condition_on: str | None) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """Each review's category and their names, from the column condition_on names (None: none)."""
    if condition_on is None:
        return None, ()
    if condition_on not in frame:
        raise ConfigError(f"data.condition_on={condition_on} needs the {condition_on} column: name it "
                          f"in data.{condition_on}=<column>, or set data.condition_on=null.")
    if condition_on == "rating":
        return frame["rating"].to_numpy() - 1, RATING_NAMES
    names = tuple(sorted(frame["label"].unique()))
    return frame["label"].map({n: i for i, n in enumerate(names)}).to_numpy(), names


def load(path, text_column: str, label: str | None, rating: str | None, condition_on: str | None,
         max_length: int | None, vocab_size: int | None, validation_fraction: float,
         test_fraction: float, seed: int) -> tuple[text.Text, tuple[str, ...]]:
    """The corpus (labels and metadata per split) and its category names."""
    frame = read(path, text_column, label, rating)
    codes, names = categories(frame, condition_on)
    corpus = review_corpus.build(frame, codes, max_length, vocab_size, validation_fraction,
                                 test_fraction, seed, f"data.path={path}")
    return corpus, names


def build(path, text_column: str, label: str | None, rating: str | None, condition_on: str | None,
          max_length: int | None, vocab_size: int | None, validation_fraction: float,
          test_fraction: float, seed: int) -> Dataset:
    corpus, names = load(path, text_column, label, rating, condition_on, max_length, vocab_size,
                         validation_fraction, test_fraction, seed)
    return text.build("review_table", corpus, names)
