"""MovieLens-100K as implicit feedback (every rating counts as an interaction, as in CFGAN).

100,000 ratings of 1,682 movies by 943 users. Ids are mapped to contiguous indices (sorted by
id). The split is a per-user random holdout drawn from `data.seed`: `test_fraction` of each
user's interactions are the test set (CFGAN's 80/20 protocol), and `validation_fraction` of each
user's remaining interactions are the validation set for tuning. With `data.split=validation`
the model trains without the validation interactions and is evaluated on them (the test set is
not read); with `data.split=test` it trains on all training interactions and is evaluated on the
test set. The authors' own split files are not public, so ours is a fresh draw of their protocol;
a split of one's own is read with `data.test_file` (held-out ratings in the ratings file's
layout; every test user and item must also have training ratings).

Training examples are rows of the interaction matrix: with `data.rows=items` one example per
item, a vector over users (CFGAN's item-based mode, its ML-100K preset); with `users`, one per
user over items. The generator is conditioned on the example itself (`sample` returns it as y).
"""

from __future__ import annotations

import dataclasses
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.data import movielens_files
from gan_jax.data.spec import Dataset
from gan_jax.errors import DataError


@dataclasses.dataclass(frozen=True)
class Interactions:
    """What a recommendation evaluator needs (host numpy, [users, items] bool matrices).

    train: what the model trains on (never recommended); heldout: what it is evaluated on.
    rows: "items" when a training example is an item's vector over users, else "users".
    """

    train: np.ndarray
    heldout: np.ndarray
    split: str
    rows: str
    user_ids: np.ndarray      # original id of each user index
    item_ids: np.ndarray
    titles: tuple[str, ...]   # per item index

    def as_rows(self, matrix: np.ndarray) -> np.ndarray:
        """A [users, items] matrix in the layout of the training examples."""
        return matrix.T if self.rows == "items" else matrix

    def from_rows(self, scores: np.ndarray) -> np.ndarray:
        """Generator outputs for every training example -> [users, items] scores."""
        return scores.T if self.rows == "items" else scores


def holdout_masks(users: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Which interactions (given their user indices) are held out: round(fraction * n) random
    ones of each user with n interactions, at most n - 1 so that every user keeps one."""
    order = np.lexsort((rng.random(len(users)), users))  # by user, random within user
    counts = np.bincount(users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(len(users), np.int64)
    rank[order] = np.arange(len(users)) - starts[users[order]]
    n_held = np.minimum(np.rint(fraction * counts).astype(np.int64), np.maximum(counts - 1, 0))
    return rank < n_held[users]


def to_matrix(users, items, n_users, n_items) -> np.ndarray:
    m = np.zeros((n_users, n_items), bool)
    m[users, items] = True
    return m


def check_unique(pairs: np.ndarray, path) -> None:
    unique, counts = np.unique(pairs, axis=0, return_counts=True)
    if (counts > 1).any():
        u, i = unique[counts > 1][0]
        raise DataError(f"{path}: user {u} rated item {i} {counts.max()} times; each "
                        f"(user, item) may appear once. Deduplicate the file.")


def read_test_file(test_file: str, pairs: np.ndarray, ratings_path) -> np.ndarray:
    """The held-out ratings of a given split: every user and item must be known from training,
    and no rating may be in both files."""
    path = pathlib.Path(test_file).expanduser()
    if not path.is_file():
        raise DataError(f"data.test_file={test_file} does not exist.")
    test = movielens_files.read_ratings(path)
    check_unique(test, path)
    for column, what in ((0, "user"), (1, "item")):
        unknown = np.setdiff1d(test[:, column], pairs[:, column])
        if len(unknown):
            raise DataError(f"{path}: {what} {unknown[0]} (and {len(unknown) - 1} more) has no "
                            f"rating in the training file {ratings_path}; a recommender cannot "
                            f"rank for or recommend it. Drop those rows or move them to training.")
    width = int(max(pairs[:, 1].max(), test[:, 1].max())) + 1  # (user, item) -> one integer
    both = np.isin(test[:, 0] * width + test[:, 1], pairs[:, 0] * width + pairs[:, 1])
    if both.any():
        u, i = test[np.argmax(both)]
        raise DataError(f"{path}: user {u}, item {i} is also in the training file {ratings_path}; "
                        f"the test set must hold other interactions.")
    return test


def load(root: str | None = None, download: bool = False, split: str = "test",
         test_fraction: float = 0.2, validation_fraction: float = 0.2, seed: int = 0,
         rows: str = "items", test_file: str | None = None) -> Interactions:
    ratings_path, items_path = movielens_files.find(root, download)
    pairs = movielens_files.read_ratings(ratings_path)
    check_unique(pairs, ratings_path)
    given_test = None if test_file is None else read_test_file(test_file, pairs, ratings_path)
    if given_test is not None:
        pairs = np.concatenate([pairs, given_test])
    titles_by_id = movielens_files.read_titles(items_path)
    user_ids, users = np.unique(pairs[:, 0], return_inverse=True)
    item_ids, items = np.unique(pairs[:, 1], return_inverse=True)
    missing = [int(i) for i in item_ids if int(i) not in titles_by_id]
    if missing:
        raise DataError(f"{items_path} has no title for item {missing[0]} (and {len(missing) - 1} "
                        f"more) that {ratings_path} rates; the two files do not belong together.")
    rng = np.random.default_rng(seed)
    if given_test is None:
        test = holdout_masks(users, test_fraction, rng)
    else:  # the given split: the appended rows are the test set
        test = np.arange(len(pairs)) >= len(pairs) - len(given_test)
    validation = np.zeros_like(test)
    validation[~test] = holdout_masks(users[~test], validation_fraction, rng)
    held = validation if split == "validation" else test
    train = ~test & ~validation if split == "validation" else ~test
    n_users, n_items = len(user_ids), len(item_ids)
    return Interactions(
        train=to_matrix(users[train], items[train], n_users, n_items),
        heldout=to_matrix(users[held], items[held], n_users, n_items),
        split=split, rows=rows, user_ids=user_ids, item_ids=item_ids,
        titles=tuple(titles_by_id[int(i)] for i in item_ids))


def build(root: str | None = None, download: bool = False, split: str = "test",
          test_fraction: float = 0.2, validation_fraction: float = 0.2, seed: int = 0,
          rows: str = "items", test_file: str | None = None) -> Dataset:
    data = load(root, download, split, test_fraction, validation_fraction, seed, rows, test_file)
    # An item whose few interactions were all held out keeps an all-zero row: a valid condition.
    vectors = data.as_rows(data.train)
    arrays = {"x": jnp.asarray(vectors, jnp.uint8),
              "y": jnp.zeros((len(vectors),), jnp.int32)}

    def sample(arrays, key, n):
        """Rows drawn with replacement; each is also its own condition (y = x)."""
        idx = jax.random.randint(key, (n,), 0, arrays["x"].shape[0])
        x = arrays["x"][idx].astype(jnp.float32)
        return x, x

    return Dataset(name="movielens_100k", arrays=arrays, sample=sample, shape=(vectors.shape[1],),
                   value_range=(0.0, 1.0), interactions=data)
