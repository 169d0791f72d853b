"""The autocorrelation error, the Frechet distance of sequence features and the PCA / t-SNE
figure, on cases with a known answer."""

import numpy as np
import pytest
from PIL import Image

from gan_jax.data import sines
from gan_jax.metrics import series_acf, series_frechet, series_plot


def ar1(n: int, seq_len: int, features: int, phi: float, seed: int) -> np.ndarray:
    """Stationary AR(1) sequences x_t = phi x_{t-1} + e_t (unit noise): ACF phi^k."""
    rng = np.random.default_rng(seed)
    x = np.empty((n, seq_len, features))
    x[:, 0] = rng.normal(size=(n, features)) / np.sqrt(1 - phi ** 2)
    for t in range(1, seq_len):
        x[:, t] = phi * x[:, t - 1] + rng.normal(size=(n, features))
    return x.astype(np.float32)


def shuffled_steps(x: np.ndarray, seed: int) -> np.ndarray:
    """Each sequence's steps permuted: every marginal kept, the dynamics gone."""
    rng = np.random.default_rng(seed)
    return np.stack([s[rng.permutation(len(s))] for s in x])


def test_the_acf_of_an_ar1_process_is_phi_to_the_lag():
    x = ar1(500, 64, 2, phi=0.7, seed=0)
    acf = np.asarray(series_acf.autocorrelation(x, 5))
    # 32,000 steps per feature: the lag-k estimate's s.e. is about 0.01 (measured 0.705, 0.497,
    # 0.350, 0.249, 0.178 and 0.701, 0.492, 0.345, 0.244, 0.168 against 0.7, 0.49, 0.343, 0.240,
    # 0.168).
    np.testing.assert_allclose(acf, np.repeat(0.7 ** np.arange(1, 6)[:, None], 2, axis=1), atol=0.03)


def test_the_autocorrelation_error_is_zero_on_itself_and_large_for_white_noise():
    a, b = ar1(1000, 24, 2, 0.8, seed=1), ar1(1000, 24, 2, 0.8, seed=2)
    noise = np.random.default_rng(3).normal(size=a.shape).astype(np.float32)
    assert series_acf.autocorrelation_error(a, a) == 0.0
    same, apart = series_acf.autocorrelation_error(a, b), series_acf.autocorrelation_error(a, noise)
    # White noise's ACF is 0: the error is about ||phi^k||_2 over 23 lags, 1.33 (measured 1.34;
    # two AR(1) draws 0.12), and at lag 1 alone it is phi (measured 0.80).
    assert apart > 5 * same, (same, apart)
    assert series_acf.autocorrelation_error(a, noise, lags=1) == pytest.approx(0.8, abs=0.05)
    with pytest.raises(ValueError, match="lags=24"):
        series_acf.autocorrelation_error(a, b, lags=24)


def test_a_constant_feature_has_acf_zero():
    x = ar1(50, 10, 2, 0.5, seed=4)
    x[..., 1] = 3.0  # a generator collapsed on one feature
    acf = np.asarray(series_acf.autocorrelation(x, 3))
    assert np.all(acf[:, 1] == 0.0) and np.all(np.isfinite(acf))


@pytest.fixture(scope="module")
def sine_sets():
    data = sines.build(num_sequences=800, seq_len=12, features=3, heldout=400, seed=0)
    return data.series.train, data.series.heldout


@pytest.fixture(scope="module")
def encoder(sine_sets):
    return series_frechet.train_encoder(sine_sets[0], seed=0, iterations=300)


def test_the_frechet_distance_separates_real_from_shuffled_and_noise(sine_sets, encoder):
    train, heldout = sine_sets
    assert abs(series_frechet.frechet_distance(encoder, heldout, heldout)) < 1e-9
    real = series_frechet.frechet_distance(encoder, heldout, train[:400])
    shuffled = series_frechet.frechet_distance(encoder, heldout, shuffled_steps(heldout, 0))
    noise = np.random.default_rng(0).uniform(0, 1, heldout.shape).astype(np.float32)
    far = series_frechet.frechet_distance(encoder, heldout, noise)
    # Measured (400 sequences of 12 steps, 3 features, 300 iterations): 0.086, 6.0, 20.
    assert shuffled > 20 * real and far > 20 * real, (real, shuffled, far)


def test_the_encoder_is_a_function_of_its_seed(sine_sets, encoder):
    # Every evaluator of a data set and eval.seed measures in the same feature space.
    train, heldout = sine_sets
    again = series_frechet.train_encoder(train, seed=0, iterations=300)
    np.testing.assert_array_equal(again.features(heldout[:20]), encoder.features(heldout[:20]))


def test_the_pca_is_fitted_on_real_sequences_only(sine_sets):
    from sklearn.decomposition import PCA

    train, heldout = sine_sets
    real, fake = heldout[:40], train[:30]
    points = series_plot.embeddings(real, fake)
    expected = PCA(n_components=2).fit_transform(real.astype(np.float64).mean(axis=-1))
    np.testing.assert_allclose(points["pca_real"], expected, atol=1e-9)
    assert points["tsne_real"].shape == (40, 2) and points["tsne_synthetic"].shape == (30, 2)


def test_the_figure_is_a_readable_png(tmp_path, sine_sets):
    pytest.importorskip("matplotlib")
    train, heldout = sine_sets
    path = tmp_path / "figs" / "pca_tsne.png"
    series_plot.plot_pca_tsne(heldout[:30], train[:30], path)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (1000, 450)
