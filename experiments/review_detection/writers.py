"""The review writers of the study and the reviews they write, per seed and part.

Every review is a word list through the corpus vocabulary (a rare word reads "<unk>", real or
written alike, so that no detector tells them apart by that alone) and at most max_length words.
Parts: "train" (detectors learn from them), "validation" (detectors stop and set thresholds on
them), "test" (only scored). Each writer learnt from the training split only:

  mle_t0.7 / mle_t1.0 / mle_t1.3  the study's RelGAN run at the end of its maximum-likelihood
                                  phase (frozen as its own run, runs/<budget>/mle), sampled at
                                  temperature T, each review for a requested rating
  gan                             the same run after its adversarial phase, at temperature 1
  ngram                           a word trigram model of the training reviews
  spinner                         training reviews rewritten (words dropped and swapped,
                                  sentences shuffled); never the ones detectors see as real
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib

import numpy as np

PARTS = ("train", "validation", "test")
MLE_TEMPERATURES = (0.7, 1.0, 1.3)
WRITERS = ("mle_t0.7", "mle_t1.0", "mle_t1.3", "gan", "ngram", "spinner")


@dataclasses.dataclass
class Reviews:
    """Word lists and their ratings (1-5; 0 when the writer takes none)."""

    sentences: list[list[str]]
    ratings: list[int]

    def to_json(self) -> dict:
        return {"sentences": [" ".join(s) for s in self.sentences], "ratings": self.ratings}

    @classmethod
    def from_json(cls, d: dict) -> Reviews:
        return cls([s.split() for s in d["sentences"]], list(d["ratings"]))

    def __add__(self, other: Reviews) -> Reviews:
        return Reviews(self.sentences + other.sentences, self.ratings + other.ratings)

    def head(self, n: int) -> Reviews:
        return Reviews(self.sentences[:n], self.ratings[:n])


def decoded(text, ids: np.ndarray) -> list[list[str]]:
    return [text.decode(row) for row in ids]


def real_reviews(text, seed: int, sizes: dict[str, int]) -> tuple[dict[str, Reviews], np.ndarray]:
    """Per part, real reviews of its split drawn with `seed`; and the training rows left unused
    (the spinner's sources). A held-out review that reads as a training review through the
    vocabulary (its rare words as "<unk>") is never drawn: a detector would have learnt it."""
    rng = np.random.default_rng(seed)
    out, unused = {}, None
    training = {tuple(text.decode(row)) for row in text.train}
    for part, split in zip(PARTS, ("train", "validation", "test")):
        ids, labels = getattr(text, split), getattr(text, f"{split}_labels")
        order = rng.permutation(len(ids))
        if part != "train":
            order = np.array([r for r in order if tuple(text.decode(ids[r])) not in training], np.int64)
        if len(order) < sizes[part]:
            raise SystemExit(f"the {split} split holds {len(order)} usable reviews; the budget asks "
                             f"for {sizes[part]}.")
        rows = order[:sizes[part]]
        if part == "train":
            unused = order[sizes[part]:]
        out[part] = Reviews(decoded(text, ids[rows]), (labels[rows] + 1).tolist())
    return out, unused


def requested_ratings(text, seed: int, n: int) -> np.ndarray:
    """n ratings (1-5) drawn as the training reviews' ratings are distributed."""
    return np.random.default_rng([seed, 7]).choice(text.train_labels, n) + 1


@functools.lru_cache(maxsize=4)
def _saved(run_dir: str, step: int | None):
    from gan_jax.training import saved_run  # noqa: PLC0415

    return saved_run.load(run_dir, step)


def sample_run(run_dir: pathlib.Path, member: int, temperature: float, ratings: np.ndarray,
               key_seed: int) -> list[list[str]]:
    """Reviews the run's member `member` writes at `temperature`, one per requested rating."""
    import jax  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415

    from gan_jax.training.sampling import in_chunks  # noqa: PLC0415
    from gan_jax.training.state import generate  # noqa: PLC0415

    run = _saved(str(run_dir), None)
    gan = run.setup.gan
    gan = dataclasses.replace(gan, generator=gan.generator.clone(sample_temperature=temperature))
    state = run.member(member)
    z = gan.sample_latent(jax.random.PRNGKey(key_seed), len(ratings))
    y = jnp.asarray(ratings - 1, jnp.int32)
    write = jax.jit(lambda z, y: generate(gan, state, z, y))
    return decoded(run.setup.data.text, in_chunks(write, z, y))


def write_part(writer: str, part: int, seed: int, member: int, n: int, text, mle_dir, gan_dir,
               unused_rows: np.ndarray, ngram) -> Reviews:
    """n reviews of `writer` for part number `part` (0-2) of seed `seed`."""
    from gan_jax.models.text_writers import spin_all  # noqa: PLC0415

    key_seed = 1000 * seed + 10 * part + WRITERS.index(writer)
    ratings = requested_ratings(text, key_seed, n)
    if writer.startswith("mle_t"):
        return Reviews(sample_run(mle_dir, member, float(writer[5:]), ratings, key_seed), ratings.tolist())
    if writer == "gan":
        return Reviews(sample_run(gan_dir, member, 1.0, ratings, key_seed), ratings.tolist())
    if writer == "ngram":
        return Reviews([s[:text.max_length] for s in ngram.sample(n, key_seed)], [0] * n)
    # spinner: its own slice of the unused training rows per part, so no source is shared
    rows = unused_rows[part * n:(part + 1) * n]
    if len(rows) < n:
        raise SystemExit(f"the spinner needs {3 * n} training reviews beyond the detectors' own; "
                         f"lower the budget's sizes.")
    sources = decoded(text, text.train[rows])
    return Reviews(spin_all(sources, seed=key_seed), (text.train_labels[rows] + 1).tolist())


def written(path: pathlib.Path, make) -> dict[str, Reviews]:
    """{part: Reviews} cached in path (JSON), made by `make()` when missing."""
    from experiments.records import cached  # noqa: PLC0415

    record = cached(path, lambda: {p: r.to_json() for p, r in make().items()})
    return {p: Reviews.from_json(d) for p, d in record.items()}
