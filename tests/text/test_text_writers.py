"""The classical review writers: the n-gram writer reproduces its source's n-gram frequencies,
the spinner rewrites at its stated rates."""

import collections

import numpy as np
import pytest

from gan_jax.models.text_writers import END, START, NGramWriter, spin, spin_all


def bigram_frequencies(sentences):
    counts = collections.Counter()
    for s in sentences:
        words = [START, *s, END]
        counts.update(zip(words, words[1:]))
    total = sum(counts.values())
    return {g: c / total for g, c in counts.items()}


def test_the_bigram_writer_reproduces_its_sources_bigram_frequencies():
    # A source with known bigram statistics: sentences of random words and lengths.
    rng = np.random.default_rng(0)
    words = ["good", "fit", "small", "dress", "love", "it"]
    source = [[words[i] for i in rng.integers(0, 6, rng.integers(2, 7))] for _ in range(3000)]
    written = NGramWriter(source, order=2).sample(20000, seed=1)
    want, got = bigram_frequencies(source), bigram_frequencies(written)
    total_variation = 0.5 * sum(abs(want.get(g, 0) - got.get(g, 0)) for g in set(want) | set(got))
    assert total_variation < 0.03, total_variation
    assert set(got) <= set(want)  # no smoothing: never a bigram the source lacks


def test_a_trigram_writer_of_one_sentence_writes_it_back():
    sentence = "runs true to size and the fabric is soft".split()
    assert NGramWriter([sentence], order=3).sample(3, seed=0) == [sentence] * 3


def test_the_writer_is_reproducible_and_refuses_nothing_to_count():
    writer = NGramWriter([["a", "b"], ["b", "a"]], order=2)
    assert writer.sample(20, seed=4) == writer.sample(20, seed=4)
    with pytest.raises(ValueError, match="at least one sentence"):
        NGramWriter([], order=2)


def test_the_spinner_drops_swaps_and_shuffles_at_its_rates():
    review = "i love it . the fit is great ! would buy again .".split()
    assert spin(review, np.random.default_rng(0), drop=0, swap=0, shuffle=False) == review
    shuffled = spin(review, np.random.default_rng(3), drop=0, swap=0)
    assert sorted(shuffled) == sorted(review)  # sentences reordered, every word kept
    many = spin_all([review] * 2000, seed=1, drop=0.2, swap=0, shuffle=False)
    kept = np.mean([len(s) for s in many]) / len(review)
    assert kept == pytest.approx(0.8, abs=0.01)
    assert spin(["hi"], np.random.default_rng(0), drop=1.0) == ["hi"]  # never empty
