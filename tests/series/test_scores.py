"""TimeGAN's discriminative and predictive scores on cases with a known answer."""

import jax
import numpy as np
import pytest

from gan_jax.data import sines
from gan_jax.metrics import series

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
