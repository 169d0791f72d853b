"""The evaluation a run gets, chosen from its data: `build(eval_cfg, data_cfg, data)`.

2D mixtures: modes captured, % high quality, reverse KL (threshold in std devs stated).
Fashion-MNIST: Frechet distance (FD, our FID analogue), KID, classifier score (IS analogue),
precision/recall, density/coverage, category KL and coverage, all in the space of the packaged
domain CNN (`feature_net`), against `reference_samples` real images of `reference_split`.
Stacked Fashion-MNIST: each channel classified by the same CNN; modes = distinct category
triples of 1000, KL of the triple histogram to uniform.
MovieLens (recommendation): the generator's output for every training example, read as
every user's item scores, ranked with training items excluded: P/R/NDCG/MRR at 5 and 20 against
the held-out interactions (`metrics.ranking`); `reference` is the most-popular recommender.
Tables (CDNOW, a user's table): quality, machine-learning efficacy and privacy distance of a
decoded synthetic table (`TableEvaluator`); `reference` puts real held-out rows in its place.
Sequences (sines): TimeGAN's discriminative and predictive scores (`metrics.series`), as the
authors' code computes them (against the training sequences) and against held-out ones, the
autocorrelation error and a Frechet distance of learnt sequence features against held-out ones;
`reference` puts real training sequences in the synthetic ones' place (the paper's "real data" row).
Text (COCO captions, a user's text file): BLEU-2..5 of the generated sentences against every
held-out sentence, Self-BLEU-4 among them, a Frechet distance of sentence features to the held-out
sentences', and NLL_gen, the generator's negative log-likelihood per token of the held-out
sentences (`TextEvaluator`, `metrics.text`); `reference` puts training sentences in the
generated ones' place.
Other data (a user's photos, `image_folder`): no evaluator (`build` returns None), since the
domain CNN only knows 28x28 grey Fashion-MNIST; runs train and sample, without `eval/*` metrics.

Every evaluator maps samples [n, ...] (numpy, the data's value range) to {name: float} and has
`reference(n)`: the same metrics on n real examples not drawn from the reference set (training
split images), i.e. the best a generator could score with that many samples.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import numpy as np

from gan_jax.data import fashion_mnist, stacked_fashion_mnist
from gan_jax.data.spec import Dataset
from gan_jax.errors import ConfigError
from gan_jax.metrics import (classifier, feature_net, frechet, kid, manifold, ranking, series,
                             series_acf, series_frechet, stacked, tabular, text_features)
from gan_jax.metrics import text as text_metrics
from gan_jax.metrics.mixtures import mode_metrics

class MixtureEvaluator:
    def __init__(self, data: Dataset, threshold: float):
        self.data, self.threshold = data, threshold

    def __call__(self, samples) -> dict[str, float]:
        return mode_metrics(samples, self.data.modes, self.data.mode_std, self.threshold)

    def reference(self, n: int) -> dict[str, float]:
        real, _ = self.data.sample(self.data.arrays, jax.random.PRNGKey(0), n)
        return self(np.asarray(real))


class RankingEvaluator:
    """Top-N metrics of a generator that answers each training example (CFGAN)."""

    reference_is = "most popular"

    def __init__(self, interactions):
        self.data = interactions

    @property
    def conditions(self) -> np.ndarray:
        """The generator's input for every training example: the example's own vector."""
        return self.data.as_rows(self.data.train).astype(np.float32)

    def __call__(self, samples) -> dict[str, float]:
        return ranking.ranking_metrics(self.data.from_rows(np.asarray(samples)), self.data.train,
                                       self.data.heldout)

    def reference(self, n: int) -> dict[str, float]:
        return self(self.data.as_rows(ranking.popularity_scores(self.data.train)))


class TableEvaluator:
    """A synthetic table as large as the training table, decoded to the original columns, scored
    against the real rows: column shapes and pair trends against the training rows (SDMetrics'
    quality definitions), machine-learning efficacy (train on synthetic, test on the held-out real
    rows: ROC AUC and average precision of logistic regression and gradient-boosted trees) and
    distance to the closest training record against held-out rows' (`metrics.tabular`). The table
    is G's rows as they come; with `data.constraints`, "constraint_violations" is the share of them
    that break a declared rule (which `gan_jax.sample` keeps by construction or rejection)."""

    reference_is = "real rows"

    def __init__(self, table, seed: int):
        self.table, self.seed = table, seed

    @property
    def conditions(self) -> np.ndarray:
        """One condition per training row, at the data's own frequencies."""
        return self.conditions_for(len(self.table.train))

    def conditions_for(self, n: int) -> np.ndarray:
        """n conditions at the data's own frequencies: a synthetic table of n rows."""
        return self.table.empirical_conditions(n, self.seed)

    def __call__(self, samples) -> dict[str, float]:
        return self.score(self.table.transform.decode(np.asarray(samples)))

    def _violations(self, frame) -> dict[str, float]:
        rules = self.table.constraints
        if not rules or not len(frame):
            return {}
        broken = np.zeros(len(frame), bool)
        for rule in rules:
            broken |= ~rule.holds(frame)
        return {"constraint_violations": float(broken.mean())}

    def score(self, synthetic, tstr=None, real_rows: bool = False) -> dict[str, float]:
        """Scores of `synthetic` (classifiers fit on `tstr` when given); `real_rows`: it is the
        held-out real table, whose DCR then takes half of it against the other half."""
        t = self.table
        quality = tabular.quality(t.train, synthetic, t.discrete)
        values = {k: quality[k] for k in ("quality", "column_shapes", "pair_trends")}
        if t.target:
            fit_on = synthetic if tstr is None else tstr
            values.update(tabular.ml_efficacy(fit_on, t.heldout, t.target, t.discrete, seed=self.seed))
        if real_rows:
            values.update(tabular.holdout_dcr(t.train, synthetic, t.discrete, seed=self.seed))
        else:
            values.update(tabular.distance_to_closest_record(synthetic, t.train, t.heldout,
                                                             t.discrete, seed=self.seed))
        values.update(self._violations(synthetic))
        return {k: float(v) for k, v in values.items()}

    def reference(self, n: int) -> dict[str, float]:
        """The held-out real rows in place of a synthetic table (their shapes, trends and
        distances: half of them against the other half, `tabular.holdout_dcr`), with the
        classifiers trained on the real training rows (TRTR)."""
        return self.score(self.table.heldout, tstr=self.table.train, real_rows=True)


class ImageEvaluator:
    """Feature-space metrics of grey 28x28 product images against real ones."""

    def __init__(self, cfg: Any, real: np.ndarray, train_images: np.ndarray):
        self.cfg, self.net = cfg, feature_net.load(cfg["feature_net"])
        self.train_images = train_images
        self.real_features, _ = self.net.embed(real)
        self.real_stats = frechet.gaussian_stats(self.real_features)
        self.num_real = len(real)

    def __call__(self, samples) -> dict[str, float]:
        c = self.cfg
        features, logits = self.net.embed(samples)
        labels = np.asarray(logits.argmax(-1))
        num_classes = logits.shape[-1]
        kid_mean, kid_std = kid.kid(self.real_features, features, num_subsets=int(c["kid_subsets"]),
                                    subset_size=int(c["kid_subset_size"]), seed=int(c["seed"]))
        cs_mean, _ = classifier.classifier_score(logits)
        pr = manifold.precision_recall(self.real_features, features, k=int(c["pr_k"]))
        dc = manifold.density_coverage(self.real_features, features, k=int(c["dc_k"]))
        values = {
            "fd": frechet.frechet_distance(*frechet.gaussian_stats(features), *self.real_stats),
            "kid": kid_mean, "kid_std": kid_std, "cs": cs_mean, **pr, **dc,
            "category_kl": classifier.category_kl(labels, num_classes),
            "category_coverage": classifier.category_coverage(labels, num_classes),
        }
        return {k: float(v) for k, v in values.items()}

    def reference(self, n: int) -> dict[str, float]:
        if len(self.train_images) < 2:  # e.g. reference_split=train took the whole split
            return {}
        return self(self.train_images[:n].astype(np.float32) / 255.0)


class StackedEvaluator:
    """Modes over category triples of 3-channel stacked images, one CNN call per channel."""

    def __init__(self, cfg: Any, real_grey: tuple[np.ndarray, np.ndarray]):
        self.net = feature_net.load(cfg["feature_net"])
        self.real_grey, self.seed = real_grey, int(cfg["seed"])

    def channel_labels(self, samples) -> np.ndarray:
        samples = np.asarray(samples, np.float32)
        return np.stack([np.asarray(self.net.predict(samples[..., c:c + 1]))
                         for c in range(samples.shape[-1])], axis=1)

    def __call__(self, samples) -> dict[str, float]:
        return {k: float(v) for k, v in stacked.stacked_modes(self.channel_labels(samples)).items()}

    def reference(self, n: int) -> dict[str, float]:
        images, labels = self.real_grey
        triples = np.random.default_rng(self.seed).integers(0, len(images), (n, 3))
        x, _ = stacked_fashion_mnist.stack(images, labels, triples)
        return self(np.asarray(x, np.float32) / 255.0)


class SeriesEvaluator:
    """TimeGAN's two scores of n synthetic sequences (model outputs, mapped to the data's units),
    each the authors' way and on held-out real sequences, and two distances to the held-out ones:
      discriminative          real training vs synthetic sequences, each split 80/20 (the authors')
      discriminative_heldout  trained on real training vs 80% of the synthetic, tested on as many
                              held-out real sequences as the other 20%
      predictive              trained on the synthetic, MAE on every real training sequence (the
                              authors')
      predictive_heldout      the same predictor's MAE on the held-out real sequences
      autocorrelation         autocorrelation error to every held-out sequence (`series_acf`:
                              TSGBench's ACD)
      frechet                 Frechet distance of the features of an encoder trained once, on the
                              real training sequences, to every held-out sequence's
                              (`series_frechet`)
    The classifiers train for the authors' 2,000 and 5,000 iterations, the encoder for
    `encoder_iterations`, all with keys from eval.seed. A prefix-conditioned generator
    (`model.prefix_steps`) is asked to continue the held-out sequences (`conditions`), never the
    training ones."""

    reference_is = "real training sequences"

    def __init__(self, data: Dataset, seed: int, iterations: tuple[int, int] = (2000, 5000),
                 encoder_iterations: int = 1000):
        self.series, self.seed, self.iterations = data.series, seed, iterations
        self.encoder_iterations = encoder_iterations
        if len(self.series.heldout) < 2:
            setting = "data.heldout_fraction" if data.name == "series_file" else "data.heldout"
            raise ConfigError(f"the series metrics fit a Gaussian to the held-out sequences' features "
                              f"and there are {len(self.series.heldout)}; hold out at least 2 "
                              f"({setting}).")

    @functools.cached_property
    def encoder(self) -> tuple[series_frechet.Encoder, tuple[np.ndarray, np.ndarray]]:
        """The feature encoder and the held-out sequences' feature statistics, made at first use."""
        encoder = series_frechet.train_encoder(self.series.train, seed=self.seed,
                                               iterations=self.encoder_iterations)
        return encoder, encoder.stats(self.series.heldout)

    @property
    def conditions(self) -> np.ndarray:
        """The windows a prefix-conditioned generator (`model.prefix_steps`) continues: one per
        held-out sequence, in the model's units."""
        return self.conditions_for(len(self.series.heldout))

    def conditions_for(self, n: int) -> np.ndarray:
        return self.series.heldout_windows(n)

    def __call__(self, samples) -> dict[str, float]:
        return self.score(self.series.unscale(samples))

    def score(self, synthetic: np.ndarray) -> dict[str, float]:
        s, (d_iters, p_iters) = self.series, self.iterations
        if len(synthetic) < 10:
            raise ConfigError(f"TimeGAN's scores split {len(synthetic)} synthetic sequences 80/20; "
                              f"ask for at least 10 (trainer.eval_samples, or samples=).")
        key = jax.random.PRNGKey(self.seed)
        kd, kh, kp = jax.random.split(key, 3)
        # The authors compare as many real sequences as synthetic ones.
        real = s.train[np.random.default_rng(self.seed).permutation(len(s.train))[:len(synthetic)]]
        train_real, train_fake, test_real, test_fake = series.authors_split(kd, real, synthetic)
        heldout = s.heldout[:len(test_fake)]
        predictive, predictive_heldout = series.predictive_scores(kp, synthetic, (s.train, s.heldout),
                                                                  iterations=p_iters)
        encoder, heldout_stats = self.encoder
        return {
            "discriminative": float(series.discriminative_score(
                kd, train_real, train_fake, test_real, test_fake, iterations=d_iters)),
            "discriminative_heldout": float(series.discriminative_score(
                kh, s.train, train_fake, heldout, test_fake[:len(heldout)], iterations=d_iters)),
            "predictive": float(predictive), "predictive_heldout": float(predictive_heldout),
            "autocorrelation": series_acf.autocorrelation_error(s.heldout, synthetic),
            "frechet": encoder.distance(heldout_stats, synthetic),
        }

    def reference(self, n: int) -> dict[str, float]:
        rng = np.random.default_rng(self.seed + 1)
        return self.score(self.series.train[rng.permutation(len(self.series.train))[:n]])


class TextEvaluator:
    """The text-GAN metrics of n generated sentences (token ids [n, L]) against the held-out ones:
      bleu2..bleu5   BLEU of each generated sentence against all held-out sentences, smoothing
                     method 1, averaged (Texygen's and the RelGAN authors' convention)
      self_bleu4     each generated sentence against the other generated ones (diversity: lower is
                     more diverse)
      frechet        Frechet distance of the features of the fixed sentence encoder the corpus
                     names (`text_features`, data.text_encoder)
    and `model_metrics`: NLL_gen, the generator's teacher-forced negative log-likelihood per token
    of the held-out sentences (end-of-sentence padding included, as the RelGAN authors' is)."""

    reference_is = "real training sentences"

    def __init__(self, data: Dataset, chunk: int = 500):
        # `build` makes one only for text with held-out sentences (gan_jax.evaluate says what is
        # missing otherwise).
        self.text, self.chunk = data.text, chunk

    @functools.cached_property
    def references(self) -> tuple[text_metrics.BleuReferences, np.ndarray]:
        """The held-out sentences' n-gram tables and feature statistics, made at first use."""
        refs = [list(s) for s in self.text.test_sentences]
        return text_metrics.BleuReferences.build(refs, max_n=5), self.encoder.features(refs)

    @functools.cached_property
    def encoder(self) -> text_features.Encoder:
        """The shipped sentence encoder the corpus names (data.text_encoder)."""
        return text_features.load(self.text.encoder)

    def sentences(self, ids) -> list[list[str]]:
        return [self.text.decode(row) for row in np.asarray(ids)]

    def __call__(self, samples) -> dict[str, float]:
        return self.score(self.sentences(samples))

    def score(self, sentences: list[list[str]]) -> dict[str, float]:
        if len(sentences) < 2:
            raise ConfigError(f"Self-BLEU compares each generated sentence with the others: ask for "
                              f"at least 2 (trainer.eval_samples), not {len(sentences)}.")
        refs, features = self.references
        values = text_metrics.bleu(sentences, refs, max_n=5)
        values["self_bleu4"] = text_metrics.self_bleu(sentences, n=4)
        values["frechet"] = frechet.frechet_distance_features(
            self.encoder.features(sentences), features)
        return {k: float(v) for k, v in values.items()}

    def model_metrics(self, apply_generator) -> dict[str, float]:
        """`apply_generator(method, *args)`: the run's generator's `method` (its EMA weights when
        kept). A conditional generator reads each held-out sentence's label."""
        test = self.text.test
        labels = getattr(self.text, "test_labels", None)
        if labels is None:
            labels = np.zeros(len(test), np.int32)
        total = sum(float(np.sum(apply_generator("nll", test[i:i + self.chunk],
                                                 labels[i:i + self.chunk])))
                    for i in range(0, len(test), self.chunk))
        return {"nll_gen": total / test.size}

    def reference(self, n: int) -> dict[str, float]:
        train = self.text.train[np.random.default_rng(0).permutation(len(self.text.train))[:n]]
        return self.score(self.sentences(train))


def build(cfg: Any, data_cfg: Any, data: Dataset):
    """The evaluator for `data` per the eval group `cfg` (validated by gan_jax.config), or None
    when the data has no metrics."""
    if data.interactions is not None:
        return RankingEvaluator(data.interactions)
    if data.table is not None:
        return TableEvaluator(data.table, int(cfg["seed"]))
    if data.modes is not None:
        return MixtureEvaluator(data, float(cfg["mode_threshold"]))
    if data.series is not None:
        return SeriesEvaluator(data, int(cfg["seed"]))
    if data.text is not None:  # no held-out sentences (a text file alone): nothing to compare with
        return TextEvaluator(data) if data.text.test is not None else None
    if data.name not in ("fashion_mnist", "stacked_fashion_mnist"):
        return None
    split, count = cfg["reference_split"], cfg["reference_samples"]
    root, download = data_cfg.get("root"), bool(data_cfg.get("download", False))
    images, labels = fashion_mnist.load_numpy(split, root, download)
    if data.name == "stacked_fashion_mnist":
        return StackedEvaluator(cfg, (images, labels))
    real = images[:count].astype(np.float32) / 255.0
    # The reference row uses training images, disjoint from a test-split reference.
    train = images[count:] if split == "train" else fashion_mnist.load_numpy("train", root, download)[0]
    return ImageEvaluator(cfg, real, train)
