"""The detectors of the study, trained on one source of written reviews and scored on every
writer's held-out reviews against real held-out reviews.

Detectors: nblr, nbsvm (scikit-learn; Wang & Manning 2012), cnn (gan_jax.detectors.text_cnn),
semi_supervised (the K+1 GAN detector; label-budget runs only), and critic (the study GAN's own
D, no training). Each learns from real training reviews and as many written ones of its source,
stops early and sets its thresholds on the validation part of the same source, and never sees a
test review before it is scored.
"""

from __future__ import annotations

import numpy as np

from experiments.review_detection.writers import Reviews
from gan_jax.metrics import detection

TRAINED = ("nblr", "nbsvm", "cnn")


def labelled(real: Reviews, fake: Reviews) -> tuple[list[list[str]], np.ndarray]:
    return real.sentences + fake.sentences, np.r_[np.zeros(len(real.sentences)), np.ones(len(fake.sentences))]


def make_detector(name: str, vocabulary, seed: int, settings: dict):
    from gan_jax.detectors.nb_text import NBDetector  # noqa: PLC0415
    from gan_jax.detectors.semi_supervised import SemiSupervisedDetector  # noqa: PLC0415
    from gan_jax.detectors.text_cnn import CNNDetector  # noqa: PLC0415

    if name in ("nblr", "nbsvm"):
        return NBDetector(name)
    cls = {"cnn": CNNDetector, "semi_supervised": SemiSupervisedDetector}[name]
    return cls(vocabulary, seed=seed, **settings)


def train_and_score(name: str, settings: dict, vocabulary, seed: int, train: tuple, validation: tuple,
                    real_test: Reviews, fakes_test: dict[str, Reviews], unlabelled=None,
                    save_to=None) -> dict:
    """Train detector `name` on (sentences, labels), stopping on `validation`; `evaluate` it."""
    det = make_detector(name, vocabulary, seed, settings)
    det.fit(*train, validation=validation, **({} if unlabelled is None else {"unlabelled": unlabelled}))
    if save_to is not None:
        det.save(save_to)
    return evaluate(lambda r: det.score(r.sentences), validation, real_test, fakes_test)


def evaluate(score, validation: tuple, real_test: Reviews, fakes_test: dict[str, Reviews]) -> dict:
    """Per writer: detection metrics of real test reviews against that writer's test reviews, at
    thresholds set on `validation` (sentences, labels). `score(reviews)` -> scores."""
    chosen = detection.thresholds(score(Reviews(validation[0], [0] * len(validation[0]))), validation[1])
    real_scores = score(real_test)
    out = {}
    for writer, fake in fakes_test.items():
        s = np.r_[real_scores, score(fake)]
        y = np.r_[np.zeros(len(real_scores)), np.ones(len(fake.sentences))]
        out[writer] = detection.scores_at(s, y, chosen)
    return out


def mix(fakes: dict[str, dict[str, Reviews]], source: tuple[str, ...], part: str, n: int) -> Reviews:
    """n written reviews of `part`, in equal shares from the source's writers."""
    shares = [n // len(source) + (i < n % len(source)) for i in range(len(source))]
    out = Reviews([], [])
    for writer, k in zip(source, shares):
        out = out + fakes[writer][part].head(k)
    return out


def label_subset(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Indices of a stratified `fraction` of the examples (at least 2 per class)."""
    rng = np.random.default_rng([seed, 11])
    keep = []
    for c in (0, 1):
        rows = np.flatnonzero(y == c)
        k = max(2, int(round(fraction * len(rows))))
        keep.append(rng.choice(rows, k, replace=False))
    return np.sort(np.concatenate(keep))
