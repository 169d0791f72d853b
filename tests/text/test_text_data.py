"""Tokens, vocabulary, padding and the one-hot sampler of text data (gan_jax.data.text)."""

import logging

import jax
import numpy as np
import pytest

from gan_jax.data import text
from gan_jax.data.text import EOS, UNK, build_text, tokenize
from gan_jax.errors import DataError


@pytest.mark.parametrize("line, words", [
    ("A Dog's bed.", ["a", "dog", "'s", "bed", "."]),
    ("skis going through the woods..", ["skis", "going", "through", "the", "woods", ".."]),
    ("a car, a bus: 11:59 and 1,000 cars",
     ["a", "car", ",", "a", "bus", ":", "11:59", "and", "1,000", "cars"]),
    ('a sign that says "who do you think you are?"', ["a", "sign", "that", "says", "``", "who", "do", "you",
                                                      "think", "you", "are", "?", "''"]),
    ("the letters 'mt' on it", ["the", "letters", "'", "mt", "'", "on", "it"]),
    ("i can't, they're gonna, we cannot", ["i", "ca", "n't", ",", "they", "'re", "gon", "na", ",", "we",
                                           "can", "not"]),
    ("a t-shirt and tub/shower (new) for $3 & #213; wait...",
     ["a", "t-shirt", "and", "tub/shower", "(", "new", ")", "for", "$", "3", "&", "#", "213", ";", "wait",
      "..."]),
    # A period ending a word ends a sentence (nltk's splitter), unless the word is an abbreviation;
    # the line's last period is always split off, as the Treebank does.
    ("rooms. lot of stuff in a u.s. town near d.c.", ["rooms", ".", "lot", "of", "stuff", "in", "a", "u.s.",
                                                     "town", "near", "d.c", "."]),
    ("dunkin' donuts  3.5 miles ", ["dunkin", "'", "donuts", "3.5", "miles"]),
])
def test_tokenize_splits_words_from_punctuation_as_the_treebank(line, words):
    assert tokenize(line) == words


def corpus(train, test=None, max_length=None, vocab_size=None):
    return build_text(train, test, max_length, vocab_size, "data.path=train.txt", "data.test_path=test.txt")


def test_vocabulary_comes_from_the_training_split_by_count_then_alphabet():
    c = corpus(["the cat sat", "the dog sat", "a bird"], ["the zebra sat"])
    assert c.vocabulary == ("<eos>", "<unk>", "sat", "the", "a", "bird", "cat", "dog")
    assert "zebra" not in c.vocabulary
    assert c.test.tolist() == [[3, UNK, 2]]  # the, <unk>, sat
    assert c.test_sentences == (("the", "zebra", "sat"),)  # BLEU references keep the word
    capped = corpus(["the cat sat", "the dog sat", "a bird"], vocab_size=5)
    assert capped.vocabulary == ("<eos>", "<unk>", "sat", "the", "a")
    assert capped.decode(capped.train[0]) == ["the", "<unk>", "sat"]


def test_encode_and_decode_round_trip_with_eos_padding():
    c = corpus(["a cat sat on the mat .", "a dog ."])
    assert c.max_length == 7  # the longest training sentence
    assert c.train.dtype == np.int32 and c.train.shape == (2, 7)
    assert c.train[1, 3:].tolist() == [EOS] * 4
    for ids, line in zip(c.train, ["a cat sat on the mat .", "a dog ."]):
        assert c.decode(ids) == line.split()
        assert c.encode(line.split()).tolist() == ids.tolist()
    assert c.decode([c.index["dog"], EOS, c.index["cat"]]) == ["dog"]  # up to the first EOS
    with pytest.raises(DataError, match="data.max_length=7"):
        c.encode("a b c d e f g h".split())


def test_longer_sentences_are_left_out_with_one_warning(caplog):
    with caplog.at_level(logging.WARNING):
        c = corpus(["a b", "a b c d", "c d", "a b c d e"], ["a b c", "a b c d"], max_length=3)
    assert [c.decode(s) for s in c.train] == [["a", "b"], ["c", "d"]]
    assert c.test_sentences == (("a", "b", "c"),) and len(c.test) == 1
    warnings = [r.getMessage() for r in caplog.records]
    assert "data.path=train.txt: 2 of 4 sentences are longer than data.max_length=3" in warnings[0]
    assert "data.test_path=test.txt: 1 of 2" in warnings[1]


def test_sampler_one_hots_each_batch_uniformly_with_replacement():
    c = corpus(["a cat sat", "a dog", "the bird sang loudly"])
    data = text.build("text_file", c)
    assert data.shape == (4, c.vocab_size) and data.value_range == (0.0, 1.0) and data.text is c
    assert data.arrays["x"].shape == (3, 4) and data.arrays["y"].tolist() == [0, 0, 0]
    x, y = jax.jit(data.sample, static_argnums=2)(data.arrays, jax.random.key(0), 64)
    assert x.shape == (64, 4, c.vocab_size) and x.dtype == np.float32 and y.shape == (64,)
    np.testing.assert_array_equal(x.sum(-1), 1.0)
    ids = np.asarray(x.argmax(-1))
    rows = {tuple(r) for r in c.train.tolist()}
    assert {tuple(r) for r in ids.tolist()} == rows  # 64 draws of 3 sentences reach each of them
