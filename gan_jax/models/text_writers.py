"""Classical review writers, the cheap attackers beside the text GANs (issue 23): a word n-gram
model and a "spinner" that rewrites real reviews as review farms do. Plain numpy on word lists.

NGramWriter  counts of each word after its n - 1 previous words (sentence start and end marked),
             sampled exactly from those counts: what the training sentences say, no smoothing,
             so it never writes a context it has not seen.
spin         a real sentence with words dropped and neighbours swapped at given rates, and its
             sentences (split at ".", "!", "?") shuffled.
"""

from __future__ import annotations

import collections
from typing import Sequence

import numpy as np

START, END = "<s>", "</s>"


class NGramWriter:
    """An order-n word model fitted to tokenized sentences; `sample(n, seed)` writes n sentences."""

    def __init__(self, sentences: Sequence[Sequence[str]], order: int = 3, max_length: int = 60):
        if order < 1:
            raise ValueError(f"an n-gram writer needs order >= 1, got {order}")
        if not sentences:
            raise ValueError("an n-gram writer needs at least one sentence to count")
        self.order, self.max_length = order, max_length
        counts: dict[tuple[str, ...], collections.Counter] = collections.defaultdict(collections.Counter)
        for s in sentences:
            words = [START] * (order - 1) + list(s) + [END]
            for i in range(order - 1, len(words)):
                counts[tuple(words[i - order + 1:i])][words[i]] += 1
        # per context: the next words and their probabilities, in a fixed order (reproducible)
        self.table = {ctx: (tuple(c), np.array(list(c.values()), np.float64) / sum(c.values()))
                      for ctx, c in counts.items()}

    def sample(self, n: int, seed: int = 0) -> list[list[str]]:
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(n):
            context, words = (START,) * (self.order - 1), []
            while len(words) < self.max_length:
                options, p = self.table[context]
                word = options[rng.choice(len(options), p=p)]
                if word == END:
                    break
                words.append(word)
                context = (context + (word,))[1:] if self.order > 1 else ()
            out.append(words)
        return out


def spin(sentence: Sequence[str], rng: np.random.Generator, drop: float = 0.1, swap: float = 0.1,
         shuffle: bool = True) -> list[str]:
    """One rewritten review (see the module docstring); never empty."""
    parts, current = [], []
    for w in sentence:  # split into sentences at their end marks, which stay with them
        current.append(w)
        if w in (".", "!", "?"):
            parts.append(current)
            current = []
    if current:
        parts.append(current)
    if shuffle and len(parts) > 1:
        parts = [parts[i] for i in rng.permutation(len(parts))]
    words = [w for part in parts for w in part]
    kept = [w for w in words if rng.random() >= drop] or words[:1]
    for i in range(len(kept) - 1):
        if rng.random() < swap:
            kept[i], kept[i + 1] = kept[i + 1], kept[i]
    return kept


def spin_all(sentences: Sequence[Sequence[str]], seed: int = 0, **rates) -> list[list[str]]:
    """`spin` of every sentence, from one seeded generator."""
    rng = np.random.default_rng(seed)
    return [spin(s, rng, **rates) for s in sentences]
