"""BLEU-n and Self-BLEU: hand-checked values, edge cases, and agreement with nltk on COCO captions."""

import math
import pathlib
import random

import numpy as np
import pytest

from gan_jax.metrics import text as tm

COCO = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data" / "texygen_coco"


def words(*sentences):
    return [s.split() for s in sentences]


def test_identical_sentence_scores_one():
    # every k-gram of the hypothesis is in the reference, lengths equal: p_k = 1, BP = 1
    ref = words("a man rides a red bike")
    assert tm.bleu(ref, ref) == {"bleu2": 1.0, "bleu3": 1.0, "bleu4": 1.0, "bleu5": 1.0}


def test_no_shared_bigram_uses_method1():
    # p1 = 4/4; no bigram of "d c b a" is in "a b c d": p2 = (0 + 0.1) / 3; p3 = 0.1 / 2; BP = 1
    got = tm.bleu(words("d c b a"), words("a b c d"), max_n=3)
    assert got["bleu2"] == pytest.approx(math.sqrt(0.1 / 3), abs=1e-15)
    assert got["bleu3"] == pytest.approx((0.1 / 3 * 0.05) ** (1 / 3), abs=1e-15)


def test_clipping_uses_the_max_count_in_one_reference():
    # "the" appears once in each reference: clipped to 1 of 3 (not 2, the sum); p2 = 0.1 / 2
    got = tm.bleu(words("the the the"), words("the cat", "the dog"), max_n=2)
    assert got["bleu2"] == pytest.approx(math.sqrt(1 / 3 * 0.05), abs=1e-15)


def test_brevity_penalty_closest_length_ties_to_shorter():
    # h = 4; references of length 6 and 2 are equally close: r = 2 < h, so BP = 1
    assert tm.bleu(words("a b c d"), words("a b c d e f", "a b"), max_n=2)["bleu2"] == 1.0
    # a single reference of length 5: BP = exp(1 - 5/4), all precisions 1
    assert tm.bleu(words("a b c d"), words("a b c d e"), max_n=2)["bleu2"] == pytest.approx(
        math.exp(-0.25), abs=1e-15)


def test_hypothesis_shorter_than_n_and_empty():
    # "a": p1 = 1, no bigram at all -> p2 = 0.1 / max(1, 0); BP = exp(1 - 2/1)
    got = tm.bleu(words("a"), words("a b"), max_n=3)
    assert got["bleu2"] == pytest.approx(math.exp(-1) * math.sqrt(0.1), abs=1e-15)
    assert got["bleu3"] == pytest.approx(math.exp(-1) * (0.1 * 0.1) ** (1 / 3), abs=1e-15)
    # no unigram match (the empty hypothesis included) scores 0 whatever the smoothing
    assert tm.bleu([[]], words("a b"))["bleu2"] == 0.0
    assert tm.bleu(words("x y z"), words("a b"))["bleu4"] == 0.0
    # averaged over hypotheses: (1 + 0) / 2
    assert tm.bleu([["a", "b"], []], words("a b"), max_n=2)["bleu2"] == 0.5


def test_prebuilt_references_and_errors():
    refs = words("a cat on a mat", "the dog")
    hyps = words("a cat", "the dog on a mat")
    assert tm.bleu(hyps, tm.BleuReferences.build(refs, 5)) == tm.bleu(hyps, refs)
    with pytest.raises(ValueError, match="at least one reference"):
        tm.bleu(hyps, [])
    with pytest.raises(ValueError, match="max_n=5"):
        tm.bleu(hyps, tm.BleuReferences.build(refs, 3))


def test_self_bleu_hand_checked():
    # "a b c" twice: each has the other as a reference -> 1; "x y z" matches no unigram -> 0
    assert tm.self_bleu(words("a b c", "a b c", "x y z"), n=2) == pytest.approx(2 / 3, abs=1e-15)
    # the hypothesis never counts as its own reference
    assert tm.self_bleu(words("a b", "c d"), n=2) == 0.0
    # "a a b" holds the largest count of "a" (2): it is clipped by the others' largest (1)
    # p1 = (1 + 1) / 3, p2: "a a" unmatched, "a b" in "a b" -> 1 / 2; r = 2 < 3 -> BP = 1
    s = tm.self_bleu(words("a a b", "a b"), n=2)
    first = math.sqrt(2 / 3 * 1 / 2)
    second = math.exp(1 - 3 / 2)  # "a b": p1 = p2 = 1 against "a a b"; h = 2 < r = 3: BP only
    assert s == pytest.approx((first + second) / 2, abs=1e-15)
    with pytest.raises(ValueError, match="at least 2"):
        tm.self_bleu(words("a b"))


def coco(split):
    path = COCO / f"{split}.txt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return [line.lower().split() for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def nltk_bleu():
    pytest.importorskip("nltk")
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    method1 = SmoothingFunction().method1
    return lambda refs, hyp, n: sentence_bleu(refs, hyp, weights=(1 / n,) * n, smoothing_function=method1)


def test_bleu_matches_nltk_on_coco(nltk_bleu):
    rng = random.Random(0)
    refs = rng.sample(coco("test"), 200)
    edge = [[], ["a"], ["a", "man"], ["zebra", "a"], refs[0][:3], refs[1]]
    hyps = rng.sample(coco("train"), 50) + edge
    ours = tm.sentence_bleus(hyps, refs, max_n=5)
    for i, hyp in enumerate(hyps):
        for j, n in enumerate(range(2, 6)):
            assert ours[i, j] == pytest.approx(nltk_bleu(refs, hyp, n), abs=1e-9), (hyp, n)
    means = tm.bleu(hyps, refs)
    assert means["bleu4"] == pytest.approx(ours[:, 2].mean(), abs=1e-12)
    assert 0 < means["bleu5"] < means["bleu4"] < means["bleu3"] < means["bleu2"] < 1


def test_self_bleu_matches_nltk_with_duplicates(nltk_bleu):
    rng = random.Random(1)
    sents = rng.sample(coco("train"), 60)
    sents += [sents[0], sents[0], sents[1], sents[2][:4], ["a"], []]  # duplicates, short, empty
    for n in (2, 4):
        expected = [nltk_bleu(sents[:i] + sents[i + 1:], sents[i], n) for i in range(len(sents))]
        assert tm.self_bleu(sents, n=n) == pytest.approx(sum(expected) / len(expected), abs=1e-9)
    # `sample` scores a seeded subset of hypotheses, still against all the others
    picked = tm.self_bleu(sents, n=4, sample=10, seed=3)
    assert picked == tm.self_bleu(sents, n=4, sample=10, seed=3)
    idx = np.sort(np.random.default_rng(3).choice(len(sents), 10, replace=False))
    expected = [nltk_bleu(sents[:i] + sents[i + 1:], sents[i], 4) for i in idx]
    assert picked == pytest.approx(sum(expected) / 10, abs=1e-9)
