"""Sentences as token ids: the tokenizer, the vocabulary and the text `Dataset`.

Word-level, as the RelGAN authors prepare COCO captions (they lower-case and call
`nltk.word_tokenize`): `tokenize` follows the Penn Treebank conventions on such text (punctuation
split from words, clitics such as "'s" and "n't" apart, double quotes written `` and '') without
depending on nltk. The vocabulary comes from the training split only; held-out words it lacks
become UNK. Every sentence is padded to `max_length` tokens with EOS, which also ends it (RelGAN's
padding token); a sentence of exactly `max_length` tokens has no EOS, as in RelGAN.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.data.spec import Dataset, sample_by_index
from gan_jax.errors import DataError

log = logging.getLogger(__name__)
EOS, UNK = 0, 1  # id 0 ends a sentence and pads it; id 1 stands for a word outside the vocabulary
SPECIALS = ("<eos>", "<unk>")

# Treebank rules, in order, applied to the lower-cased line padded with spaces. Hyphens and
# slashes stay inside words ("t-shirt", "tub/shower"), as in the Treebank.
_RULES = [(re.compile(p), r) for p, r in [
    (r'(^|[\s(\[{<])"', r"\1 `` "),                 # an opening double quote
    (r'"', " '' "),                                  # any other double quote closes
    (r"\.\.\.", " ... "),
    (r"[;@#$%&?!\[\](){}<>]|--", r" \g<0> "),
    (r"[:,](?!\d)", r" \g<0> "),                     # "11:59" and "1,000" stay whole
    # A run of periods ending a word ends a sentence, unless the word has periods inside it
    # (an abbreviation such as "u.s."), which nltk's sentence splitter keeps whole.
    (r"(?<![\S])([^\s.]+)(\.+)(?=\s)", r"\1 \2"),
    (r"(?<=[^\s.])(\.+)\s*$", r" \1 "),             # the line's last period always
    (r"(?<=\s)'(?![\s']|(?:s|m|d|ll|re|ve|t)\b)", "' "),  # an opening single quote, not 's
    (r"(?<=[^\s'])('s|'m|'d|'ll|'re|'ve|n't|')(?=\s)", r" \1"),  # clitics, a closing quote
    (r"(?<=\s)(can)(not)(?=\s)|(?<=\s)(gim|lem)(me)(?=\s)|(?<=\s)(gon|wan)(na)(?=\s)"
     r"|(?<=\s)(got)(ta)(?=\s)", lambda m: " ".join(g for g in m.groups() if g)),
]]


def tokenize(line: str) -> list[str]:
    """The words and punctuation of one line, lower-cased: "A dog's bed." ->
    ["a", "dog", "'s", "bed", "."]."""
    text = f" {line.lower()} "
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text.split()


@dataclasses.dataclass(frozen=True)
class Text:
    """A tokenized corpus, kept on the host.

    vocabulary: id -> word: "<eos>", "<unk>", then the training split's words by descending
      count (ties alphabetical), cut to the vocabulary size.
    max_length: L, tokens per sentence.
    train: int32 [N, L] training sentences, padded with EOS.
    test: int32 [M, L] held-out sentences (words outside the vocabulary -> UNK), or None.
    test_sentences: the same held-out sentences as words (BLEU references; every word as
      written, in or out of the vocabulary), or None.
    validation, validation_sentences: a second held-out split for choices made during a study
      (epochs, thresholds), in the same form as test; None when the source has none.
    train_labels, validation_labels, test_labels: int32 [rows] category of each sentence of that
      split (what `data.conditional=true` conditions on), or None for unlabelled text.
    metadata: split name -> a pandas DataFrame, one row per sentence of that split in order (e.g.
      the source row, rating, department), or None.
    encoder: the shipped sentence encoder the text metrics read this corpus with
      (`text_features.ENCODERS`; `data.text_encoder`).
    """

    vocabulary: tuple[str, ...]
    max_length: int
    train: np.ndarray
    test: np.ndarray | None
    test_sentences: tuple[tuple[str, ...], ...] | None
    validation: np.ndarray | None = None
    validation_sentences: tuple[tuple[str, ...], ...] | None = None
    train_labels: np.ndarray | None = None
    validation_labels: np.ndarray | None = None
    test_labels: np.ndarray | None = None
    metadata: Mapping[str, Any] | None = None
    encoder: str = "coco"

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """word -> id."""
        return {w: i for i, w in enumerate(self.vocabulary)}

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary)

    def encode(self, words: Sequence[str]) -> np.ndarray:
        """int32 [L]: the words' ids (UNK outside the vocabulary), padded with EOS."""
        if len(words) > self.max_length:
            raise DataError(f"a sentence of {len(words)} tokens does not fit data.max_length="
                            f"{self.max_length}: shorten it or raise data.max_length.")
        ids = np.full(self.max_length, EOS, np.int32)
        ids[:len(words)] = [self.index.get(w, UNK) for w in words]
        return ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        """The words of ids up to the first EOS."""
        words = []
        for i in np.asarray(ids).tolist():
            if i == EOS:
                break
            words.append(self.vocabulary[i])
        return words


def vocabulary(sentences: Iterable[Sequence[str]], size: int | None) -> tuple[str, ...]:
    """SPECIALS, then the words by descending count, ties alphabetical, `size` in all (None: every
    word)."""
    counts = collections.Counter(w for s in sentences for w in s)
    words = sorted(counts, key=lambda w: (-counts[w], w))
    return (SPECIALS + tuple(words))[:size]


def build_text(train_lines: Sequence[str], test_lines: Sequence[str] | None, max_length: int | None,
               vocab_size: int | None, source: str, test_source: str = "the held-out file") -> Text:
    """The corpus of non-blank lines (blank ones are skipped). max_length None: the longest training
    sentence. Sentences over max_length are left out with a warning; `source` / `test_source` name
    the files in messages."""
    read = _sentences(train_lines, source, "training")
    length = max_length or max(map(len, read))
    train = _fitting(read, length, source)
    if len(train) < 2:
        fit = (f" of at most data.max_length={length} tokens; raise data.max_length: a text GAN "
               f"needs at least 2" if len(read) > 1 else "; a text GAN needs at least 2, one per line")
        raise DataError(f"{source} holds 1 sentence{fit}.")
    test = None if test_lines is None else _fitting(_sentences(test_lines, test_source, "held-out"),
                                                    length, test_source)
    return from_words(train, test, length, vocab_size)


def from_words(train: Sequence[Sequence[str]], test: Sequence[Sequence[str]] | None, max_length: int,
               vocab_size: int | None, validation: Sequence[Sequence[str]] | None = None) -> Text:
    """The corpus of tokenized sentences, each of at most max_length words; the vocabulary comes
    from `train` alone."""
    words = Text(vocabulary(train, vocab_size), max_length, np.zeros((0, max_length), np.int32), None,
                 None)

    def ids(sentences):
        return None if sentences is None else np.stack([words.encode(s) for s in sentences])

    def kept(sentences):
        return None if sentences is None else tuple(map(tuple, sentences))

    return dataclasses.replace(words, train=ids(train), test=ids(test), test_sentences=kept(test),
                               validation=ids(validation), validation_sentences=kept(validation))


def _sentences(lines: Sequence[str], source: str, role: str) -> list[list[str]]:
    sentences = [tokenize(line) for line in lines if line.strip()]
    if not sentences:
        raise DataError(f"{source} holds no {role} sentences (it is empty or blank); write one "
                        f"sentence per line.")
    return sentences


def _fitting(sentences: list[list[str]], max_length: int, source: str) -> list[list[str]]:
    """The sentences of at most max_length tokens; a DataError when none is left."""
    kept = [s for s in sentences if len(s) <= max_length]
    if not kept:
        shortest = min(map(len, sentences))
        raise DataError(f"{source}: no sentence has at most data.max_length={max_length} tokens (the "
                        f"shortest has {shortest}); raise data.max_length, or set it to null for "
                        f"the longest training sentence.")
    if len(kept) < len(sentences):
        log.warning("%s: %d of %d sentences are longer than data.max_length=%d tokens and are left "
                    "out.", source, len(sentences) - len(kept), len(sentences), max_length)
    return kept


def build(name: str, text: Text, class_names: Sequence[str] = ()) -> Dataset:
    """The Dataset of a corpus: arrays hold token ids and each sentence's category (text.train_labels,
    named by class_names; zeros when unlabelled); `sample` one-hots each batch (float32 [n, L, V])
    inside the step, never the whole corpus."""
    size = text.vocab_size
    labels = np.zeros(len(text.train), np.int32) if text.train_labels is None else text.train_labels
    arrays = {"x": jnp.asarray(text.train), "y": jnp.asarray(labels, jnp.int32)}

    def one_hot(x):
        return jax.nn.one_hot(x, size, dtype=jnp.float32)

    def sample(arrays, key, n):
        return sample_by_index(arrays, key, n, one_hot)

    def take(arrays, idx):
        return one_hot(arrays["x"][idx]), arrays["y"][idx]

    return Dataset(name=name, arrays=arrays, sample=sample, shape=(text.max_length, size),
                   value_range=(0.0, 1.0), class_names=tuple(class_names), text=text,
                   take=take if class_names else None)
