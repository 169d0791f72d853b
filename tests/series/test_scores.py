"""TimeGAN's discriminative and predictive scores, and the series evaluator, on cases with a
known answer."""

import jax
import numpy as np
import pytest

from gan_jax.data import sines
from gan_jax.errors import ConfigError
from gan_jax.metrics import series
from gan_jax.metrics.evaluator import SeriesEvaluator

KEY = jax.random.PRNGKey(0)


@pytest.fixture(scope="module")
def real():
    """Two disjoint sets of sine sequences from one generator, and a held-out set."""
    data = sines.build(num_sequences=2000, seq_len=12, features=4, heldout=2000, seed=0)
    return data.series.train[:1000], data.series.train[1000:], data.series.heldout


def test_real_against_real_scores_near_zero_and_noise_near_half(real):
    # Known answer: a classifier cannot tell two draws of the same data apart (|acc - 0.5| ~ 0),
    # and tells sines from uniform noise almost always (~0.5).
    # 2,000 test sequences: the accuracy's standard error is about 0.011.
    a, b, heldout = real
    same = series.discriminative_score(KEY, a, b, heldout[:1000], heldout[1000:], iterations=400)
    noise = np.random.default_rng(0).uniform(0, 1, b.shape).astype(np.float32)
    apart = series.discriminative_score(KEY, a, noise, heldout[:1000], noise[::-1], iterations=400)
    assert float(same) < 0.05  # measured 0.001-0.02 over three keys
    assert float(apart) > 0.3  # measured 0.44


def test_a_predictor_trained_on_real_beats_one_trained_on_a_shuffled_copy(real):
    # Known answer: sequences whose steps are shuffled keep every marginal but lose the dynamics
    # the predictor must learn, so training on them predicts real sequences worse.
    a, _, heldout = real
    rng = np.random.default_rng(1)
    shuffled = np.stack([x[rng.permutation(len(x))] for x in a])
    on_real = float(series.predictive_score(KEY, a, heldout, iterations=1500))
    on_shuffled = float(series.predictive_score(KEY, shuffled, heldout, iterations=1500))
    assert on_real < 0.85 * on_shuffled, (on_real, on_shuffled)  # measured 0.068 vs 0.090


def test_the_authors_split_keeps_every_sequence_once():
    x = np.arange(10, dtype=np.float32).reshape(10, 1, 1)
    tr, tf, te, tfe = series.authors_split(KEY, x, x + 100)
    assert tr.shape[0] == tf.shape[0] == 8 and te.shape[0] == tfe.shape[0] == 2
    assert sorted(np.concatenate([tr, te]).ravel().tolist()) == list(range(10))


def test_the_evaluator_scores_samples_in_the_data_units_both_ways():
    # Catches: samples scored in the model's [0, 1] scale against real sequences in the data's
    # units (every score would flag the scaling, not the generator).
    data = sines.build(num_sequences=400, seq_len=8, features=3, heldout=100, seed=0)
    evaluator = SeriesEvaluator(data, seed=0, iterations=(1000, 300), encoder_iterations=300)
    scaled = np.asarray(data.arrays["x"][:200])  # what a perfect generator outputs
    scores = evaluator(scaled)
    assert set(scores) == {"discriminative", "discriminative_heldout", "predictive",
                           "predictive_heldout", "autocorrelation", "frechet"}
    assert scores["discriminative"] < 0.15 and scores["discriminative_heldout"] < 0.15
    unscaled = evaluator.score(scaled)  # the same sequences read as if already in data units
    assert unscaled["discriminative"] > 0.3  # measured 0.05 / 0.0 scaled, 0.5 / 0.5 not
    assert unscaled["predictive"] > 2 * scores["predictive"]  # measured 0.05 against 0.21
    assert unscaled["frechet"] > 10 * scores["frechet"]  # measured 0.43 against 12.6
    # The ACF reads any units (an affine map per feature leaves it as it is): measured 0.21 both
    # ways, against 1.78 for the same sequences with their steps shuffled.
    assert scores["autocorrelation"] < 0.5
    assert unscaled["autocorrelation"] == pytest.approx(scores["autocorrelation"], abs=1e-5)
    # The real-data row: other training sequences in place of synthetic ones, scored as the
    # perfect generator above (measured FD 0.32, discriminative 0.025).
    reference = evaluator.reference(200)
    assert set(reference) == set(scores)
    assert reference["frechet"] < unscaled["frechet"] / 10 and reference["discriminative"] < 0.15
    with pytest.raises(ConfigError, match="at least 10"):
        evaluator(scaled[:5])


def test_the_evaluator_refuses_fewer_than_two_heldout_sequences():
    data = sines.build(num_sequences=40, seq_len=4, features=2, heldout=1, seed=0)
    with pytest.raises(ConfigError, match=r"data\.heldout"):
        SeriesEvaluator(data, seed=0)
