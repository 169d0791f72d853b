"""The shipped sentence encoders: shapes, determinism, Frechet distances with a known order, errors."""

import json
import pathlib
import random
import shutil

import numpy as np
import pytest

from gan_jax.errors import DataError
from gan_jax.metrics import text_features as tf

COCO = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data" / "texygen_coco"


@pytest.fixture(scope="module")
def encoder():
    return tf.load()


def test_shipped_encoder_loads_and_is_small(encoder):
    assert tf.load() is encoder and encoder.name == tf.ENCODER_NAME
    assert encoder.vocabulary[:3] == tf.SPECIALS and encoder.feature_dim == 128
    assert tf.WEIGHTS.stat().st_size < 2_000_000
    meta = json.loads(tf.metadata_path(tf.WEIGHTS).read_text())
    assert meta["heldout_accuracy"] > 0.3 and "train_text_encoder.py" in meta["command"]


def test_features_shape_and_determinism(encoder):
    sents = [["a", "man", "riding", "a", "horse"], ["two", "dogs", "."], [], ["qwertyuiop"] * 50]
    f = tf.sentence_features(sents)
    assert f.shape == (4, 128) and f.dtype == np.float32 and np.isfinite(f).all()
    np.testing.assert_array_equal(f, tf.sentence_features(sents, encoder))
    # a sentence's features do not depend on its batch, padding or the batch size
    np.testing.assert_allclose(encoder.features(sents[:1]), f[:1], atol=1e-6)
    np.testing.assert_allclose(encoder.features(sents * 3, batch_size=4)[4:8], f, atol=1e-6)
    # words are lower-cased; unknown words go to <unk>
    ids, lengths = encoder.encode([["A", "zzzz"]])
    np.testing.assert_array_equal(ids[0, :4], [tf.BOS, encoder.index["a"], tf.UNK, tf.EOS])
    assert lengths.tolist() == [3]
    assert tf.sentence_features([]).shape == (0, 128)
    with pytest.raises(TypeError, match="lists of words"):
        tf.sentence_features(["a man riding a horse"])


def test_frechet_orders_real_above_shuffled(encoder):
    def read(split):
        path = COCO / f"{split}.txt"
        if not path.is_file():
            pytest.skip(f"{path} not found")
        return [tf.tokenize(line) for line in path.read_text().splitlines()]

    rng = random.Random(0)
    test, train = rng.sample(read("test"), 1500), rng.sample(read("train"), 1500)
    shuffled = [rng.sample(s, len(s)) for s in test]  # same words, wrong order
    assert abs(tf.text_frechet(test, test)) < 1e-6
    to_train, to_shuffled = tf.text_frechet(test, train), tf.text_frechet(test, shuffled)
    assert to_train < 0.3 * to_shuffled, (to_train, to_shuffled)


def test_missing_or_corrupt_assets_say_how_to_fix(tmp_path):
    with pytest.raises(DataError, match="scripts/train_text_encoder.py"):
        tf.load(tmp_path / "text_encoder.msgpack")
    shutil.copy(tf.WEIGHTS, tmp_path / "text_encoder.msgpack")
    (tmp_path / "text_encoder.json").write_text("{not json")
    with pytest.raises(DataError, match="corrupt.*scripts/train_text_encoder.py"):
        tf.load(tmp_path / "text_encoder.msgpack")
    meta = json.loads(tf.metadata_path(tf.WEIGHTS).read_text())
    (tmp_path / "text_encoder.json").write_text(json.dumps({**meta, "hidden_dim": 64}))
    with pytest.raises(DataError, match="do not match"):
        tf.load(tmp_path / "text_encoder.msgpack")


@pytest.fixture(scope="module")
def shop_reviews():
    from gan_jax.data import reviews  # noqa: PLC0415

    try:
        reviews.find()
    except DataError as e:
        pytest.skip(f"the reviews table is not on this machine (scripts/setup.sh fetches it): {e}")
    corpus, _ = reviews.load(None, False, 40, 5000, 0.1, 0.1, 0)
    return corpus


def test_the_review_encoder_knows_the_shops_words_and_orders_real_above_shuffled(shop_reviews):
    review = tf.load("reviews")
    assert review.name == "reviews-gru-lm-v1" and tf.load("reviews") is review
    assert review is not tf.load() and tf.load("coco").name == tf.ENCODER_NAME
    meta = json.loads(tf.metadata_path(tf.ENCODERS["reviews"][1]).read_text())
    assert meta["corpus"] == "reviews" and "--corpus reviews" in meta["command"]
    # validation reviews: never seen by the encoder, whose vocabulary is the training split's
    held = [list(s) for s in shop_reviews.validation_sentences[:1500]]

    def unknown(encoder):  # the share of words read as <unk>
        ids = encoder.encode(held)[0][:, 1:]  # after <bos>; 0 is the padding
        return float(np.mean(ids[ids > 0] == tf.UNK))
    assert unknown(review) < 0.05 < unknown(tf.load("coco")), (unknown(review), unknown(tf.load("coco")))
    train = [shop_reviews.decode(row) for row in shop_reviews.train[:1500]]
    rng = random.Random(0)
    shuffled = [rng.sample(s, len(s)) for s in held]
    to_train = tf.text_frechet(held, train, review)
    to_shuffled = tf.text_frechet(held, shuffled, review)
    assert to_train < 0.3 * to_shuffled, (to_train, to_shuffled)
