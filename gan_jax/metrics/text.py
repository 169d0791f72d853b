"""BLEU-n and Self-BLEU of generated sentences (Texygen's and the RelGAN authors' convention).

Each hypothesis is scored by nltk's `sentence_bleu(references, hypothesis, weights=(1/n,) * n,
smoothing_function=SmoothingFunction().method1)` against ALL the references, and the scores are
averaged over the hypotheses. nltk takes seconds per hypothesis against the 10,000 test captions,
so this module reproduces its arithmetic from per-n-gram tables built once:

- modified precision of order k: sum over the hypothesis' k-grams of min(count in the hypothesis,
  the largest count in any single reference), over max(1, number of k-grams in the hypothesis);
- method 1: a precision whose numerator is 0 becomes 0.1 / denominator; so an order longer than
  the hypothesis (no k-grams, denominator 1) counts as precision 0.1, not 0;
- no unigram match at all (which includes the empty hypothesis) scores 0 at every n;
- brevity penalty exp(1 - r / h) when h <= r, where r is the reference length closest to the
  hypothesis length h, ties to the shorter; 1 when h > r;
- BLEU-n = BP * exp(fsum(1/n * log p_k for k = 1..n)), computed with the same float operations
  as nltk (tests/text check agreement to 1e-9).

Sentences are sequences of hashable tokens (words as the data module's `decode` gives them).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections import Counter
from typing import Hashable, Sequence

import numpy as np

EPSILON = 0.1  # nltk SmoothingFunction().method1's default
Sentence = Sequence[Hashable]


def ngram_counts(sentence: Sentence, k: int) -> Counter:
    """Counts of the k-grams (tuples) of `sentence`; empty when it is shorter than k."""
    s = tuple(sentence)
    return Counter(s[i:i + k] for i in range(len(s) - k + 1))


@dataclasses.dataclass(frozen=True, eq=False)
class BleuReferences:
    """Reference tables for BLEU up to order `max_n`: build once, score many hypothesis sets.

    `max_counts[k - 1]` maps each k-gram to its largest count in any single reference (nltk's
    clipping); `lengths` are the distinct reference lengths, sorted (for the brevity penalty).
    """

    max_n: int
    max_counts: tuple[dict, ...]
    lengths: tuple[int, ...]

    @classmethod
    def build(cls, references: Sequence[Sentence], max_n: int = 5) -> BleuReferences:
        if len(references) == 0:
            raise ValueError("BLEU needs at least one reference sentence; got none "
                             "(is the held-out/test file empty or missing?)")
        tables = []
        for k in range(1, max_n + 1):
            table: dict = {}
            for ref in references:
                for gram, c in ngram_counts(ref, k).items():
                    if c > table.get(gram, 0):
                        table[gram] = c
            tables.append(table)
        return cls(max_n, tuple(tables), tuple(sorted({len(r) for r in references})))


def closest_length(lengths: Sequence[int], h: int) -> int:
    """The value in sorted `lengths` closest to h, ties to the smaller (nltk's closest_ref_length)."""
    i = bisect.bisect_left(lengths, h)
    below = lengths[i - 1] if i > 0 else None
    above = lengths[i] if i < len(lengths) else None
    if above is None or (below is not None and h - below <= above - h):
        return below
    return above


def scores_from_counts(matches: Sequence[int], totals: Sequence[int], h: int, r: int,
                       orders: Sequence[int]) -> list[float]:
    """nltk's sentence BLEU (method 1) for each n in `orders` from the clipped match counts and
    the n-gram counts of orders 1..max(orders), the hypothesis length h and closest length r."""
    if matches[0] == 0:  # nltk: no unigram match -> 0, before smoothing
        return [0.0] * len(orders)
    bp = 1.0 if h > r else math.exp(1 - r / h)  # h > 0 here since there is a unigram match
    logs = []
    for m, t in zip(matches, totals):
        den = max(1, t)
        # nltk keeps a Fraction (math.log converts it exactly-rounded) or uses 0.1 / den
        logs.append(math.log(m / den) if m else math.log((m + EPSILON) / den))
    out = []
    for n in orders:
        w = 1.0 / n
        out.append(bp * math.exp(math.fsum(w * lp for lp in logs[:n])))
    return out


def sentence_bleus(hypotheses: Sequence[Sentence], references: Sequence[Sentence] | BleuReferences,
                   max_n: int = 5) -> np.ndarray:
    """float64 [len(hypotheses), max_n - 1]: BLEU-2..BLEU-max_n of each hypothesis."""
    if max_n < 2:
        raise ValueError(f"max_n must be >= 2 (BLEU-2 and up); got {max_n}")
    refs = references if isinstance(references, BleuReferences) else BleuReferences.build(references, max_n)
    if refs.max_n < max_n:
        raise ValueError(f"the reference tables go up to order {refs.max_n}; max_n={max_n} needs a "
                         f"BleuReferences built with max_n >= {max_n}")
    orders = range(2, max_n + 1)
    out = np.zeros((len(hypotheses), len(orders)))
    for i, hyp in enumerate(hypotheses):
        matches, totals = [], []
        for k in range(1, max_n + 1):
            counts, table = ngram_counts(hyp, k), refs.max_counts[k - 1]
            matches.append(sum(min(c, table.get(g, 0)) for g, c in counts.items()))
            totals.append(sum(counts.values()))
        h = len(hyp)
        out[i] = scores_from_counts(matches, totals, h, closest_length(refs.lengths, h), orders)
    return out


def bleu(hypotheses: Sequence[Sentence], references: Sequence[Sentence] | BleuReferences,
         max_n: int = 5) -> dict[str, float]:
    """{"bleu2": ..., ..., f"bleu{max_n}": ...}: sentence BLEU of each hypothesis against all the
    references (a list of sentences, or a prebuilt `BleuReferences`), averaged over hypotheses."""
    if len(hypotheses) == 0:
        raise ValueError("BLEU needs at least one hypothesis sentence; got none")
    scores = sentence_bleus(hypotheses, references, max_n)
    return {f"bleu{n}": float(scores[:, j].mean()) for j, n in enumerate(range(2, max_n + 1))}


def self_bleu(sentences: Sequence[Sentence], n: int = 4, sample: int | None = None,
              seed: int = 0) -> float:
    """Texygen's Self-BLEU-n (diversity; lower = more diverse): each sentence's BLEU-n against all
    the OTHER sentences as references, averaged.

    `sample` scores only that many hypotheses, drawn without replacement (numpy seed `seed`); the
    references stay all the other sentences. (Texygen's fast mode instead truncates the whole set
    to its first 500 sentences: pass `sentences[:500]` for that.) Excluding the hypothesis itself
    is exact: per n-gram the table keeps the two largest per-sentence counts (with multiplicity),
    so a hypothesis holding the largest count is clipped by the second; duplicates of the
    hypothesis elsewhere in the set count as references, as in Texygen.
    """
    if n < 1:
        raise ValueError(f"Self-BLEU order n must be >= 1; got {n}")
    if len(sentences) < 2:
        raise ValueError(f"Self-BLEU needs at least 2 sentences; got {len(sentences)}")
    sents = [tuple(s) for s in sentences]
    per_order = [[ngram_counts(s, k) for s in sents] for k in range(1, n + 1)]
    top2 = []  # per order: gram -> [largest count, second largest count]
    for counts in per_order:
        table: dict = {}
        for cnt in counts:
            for g, c in cnt.items():
                best = table.setdefault(g, [0, 0])
                if c > best[0]:
                    best[1], best[0] = best[0], c
                elif c > best[1]:
                    best[1] = c
        top2.append(table)
    length_count = Counter(len(s) for s in sents)
    lengths = sorted(length_count)

    index = range(len(sents))
    if sample is not None and sample < len(sents):
        index = np.sort(np.random.default_rng(seed).choice(len(sents), sample, replace=False))
    scores = []
    for i in index:
        matches, totals = [], []
        for k in range(n):
            counts, table = per_order[k][i], top2[k]
            m = 0
            for g, c in counts.items():
                first, second = table[g]
                m += min(c, second if c == first else first)  # max over the others
            matches.append(m)
            totals.append(sum(counts.values()))
        h = len(sents[i])
        if length_count[h] > 1:
            r = h  # another sentence has exactly this length
        else:
            others = lengths[:bisect.bisect_left(lengths, h)] + lengths[bisect.bisect_right(lengths, h):]
            r = closest_length(others, h)
        scores.append(scores_from_counts(matches, totals, h, r, [n])[0])
    return float(np.mean(scores))
