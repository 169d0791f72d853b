"""The JAX detectors of machine-written reviews: the text CNN and the semi-supervised GAN detector,
on toy corpora whose answer is known, and `gan_jax.score_reviews` on bad input."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from gan_jax import score_reviews
from gan_jax.detectors import text_cnn
from gan_jax.detectors.semi_supervised import SemiSupervisedDetector, k_plus_one_losses
from gan_jax.detectors.text_cnn import CNNDetector, Vocabulary
from gan_jax.metrics.auroc import auroc

WORDS = ("<eos>", "<unk>") + tuple(f"w{i}" for i in range(20))
VOCABULARY = Vocabulary(WORDS, 8)
TINY = dict(embed_dim=8, num_filters=8, fc_dim=8, batch_size=32, eval_every=50)


def sentences(rng, n, low, high):
    """n sentences of 3-8 words drawn uniformly from w<low>..w<high - 1>."""
    return [[f"w{j}" for j in rng.integers(low, high, rng.integers(3, 9))] for _ in range(n)]


def two_sources(seed: int, n: int):
    """Real reviews from words w0-w11, machine-written from w8-w19 (4 words shared)."""
    rng = np.random.default_rng(seed)
    return sentences(rng, n, 0, 12) + sentences(rng, n, 8, 20), np.r_[np.zeros(n), np.ones(n)].astype(int)


@pytest.fixture(scope="module")
def cnn():
    x, y = two_sources(0, 200)
    return CNNDetector(VOCABULARY, steps=150, **TINY).fit(x, y, validation=two_sources(1, 50))


def test_the_cnn_detector_separates_two_fixed_token_distributions(cnn):
    # Catches: a detector whose score does not point at the machine-written class, or that
    # never learns (a sentence of words w12-w19 can only be machine-written).
    x, y = two_sources(2, 100)
    assert auroc(cnn.score(x), y == 1) > 0.99
    only_machine_words = [["w15", "w16", "w19"]]
    only_real_words = [["w0", "w3", "w5"]]
    assert cnn.score(only_machine_words)[0] > cnn.score(only_real_words)[0]


def test_the_cnn_detector_keeps_the_weights_of_the_best_validation_auroc(cnn):
    # Catches: early stopping that keeps the last weights, or chooses on anything but validation.
    validation = two_sources(1, 50)
    best = max(h["validation_auroc"] for h in cnn.history)
    assert [h["step"] for h in cnn.history] == [50, 100, 150]
    assert auroc(cnn.score(validation[0]), validation[1] == 1) == pytest.approx(best)


def test_a_saved_detector_scores_as_it_did_before(cnn, tmp_path):
    x, _ = two_sources(3, 20)
    cnn.save(tmp_path / "cnn")
    np.testing.assert_array_equal(text_cnn.load(tmp_path / "cnn").score(x), cnn.score(x))
    assert sorted(p.name for p in (tmp_path / "cnn").iterdir()) == ["detector.json", "params.msgpack"]


def test_the_vocabulary_reads_unknown_words_and_long_reviews():
    ids = VOCABULARY.ids([["w0", "zyzzyva"], [f"w{i}" for i in range(12)]])
    assert ids[0].tolist() == [2, 1, 0, 0, 0, 0, 0, 0]  # w0, UNK, then EOS padding
    assert ids[1].tolist() == list(range(2, 10))  # cut at max_length 8


def test_a_detector_refuses_labels_other_than_0_and_1():
    with pytest.raises(ValueError, match="labels 0 \\(real\\) and 1"):
        CNNDetector(VOCABULARY, steps=1).fit([["w0"], ["w1"]], [0, 2])


def test_the_k_plus_one_losses_on_known_logits():
    # Labelled: logits (0, log 3), class 1 -> -log(3/4). Unlabelled logits (0, 0): Z = 2,
    # -log(Z / (Z + 1)) = log 1.5. Generated (0, 0): -log(1 / (Z + 1)) = log 3.
    supervised, unsupervised = k_plus_one_losses(jnp.array([[0.0, math.log(3)]]), jnp.array([1]),
                                                 jnp.zeros((1, 2)), jnp.zeros((1, 2)))
    assert float(supervised) == pytest.approx(-math.log(0.75), rel=1e-6)
    assert float(unsupervised) == pytest.approx(math.log(1.5) + math.log(3), rel=1e-6)


def test_the_semi_supervised_detector_trains_its_generator_on_the_unlabelled_reviews():
    # Catches: a K+1 detector whose generator never moves (no adversary: plain supervised
    # learning under another name), or one that fails to learn the labelled task.
    x, y = two_sources(0, 100)
    labelled = [0, 1, 2, 3, 4, 100, 101, 102, 103, 104]
    kwargs = dict(steps=100, **TINY)
    det = SemiSupervisedDetector(VOCABULARY, **kwargs).fit(
        [x[i] for i in labelled], y[labelled], validation=two_sources(1, 50), unlabelled=x)
    # G as fit initialised it (the third of the seed's keys)
    start = det.init_extra(jax.random.split(jax.random.PRNGKey(det.seed), 3)[2])["g_params"]
    moved = [float(jnp.abs(a - b).max()) for a, b in zip(jax.tree_util.tree_leaves(det.extra["g_params"]),
                                                          jax.tree_util.tree_leaves(start))]
    assert max(moved) > 0
    held_out, truth = two_sources(2, 100)
    assert auroc(det.score(held_out), truth == 1) > 0.8


def write_csv(path, **columns):
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("case, says", [
    ("no_column", "has no column 'text' (text=)"),
    ("empty_text", "the text column 'text' is empty in row 2"),
    ("not_utf8", "is not UTF-8"),
    ("rating_6", "holds 6 in row 2; ratings must be whole numbers 1-5"),
    ("blank_txt", "holds no review"),
])
def test_score_reviews_refuses_bad_review_files_in_one_line(case, says, tmp_path, capsys):
    # Catches: a traceback, or a half-written scores file, on a user's broken export.
    files = {
        "no_column": lambda p: write_csv(p / "r.csv", review=["fine", "good"]),
        "empty_text": lambda p: write_csv(p / "r.csv", text=["fine", ""]),
        "not_utf8": lambda p: (p / "r.csv").write_bytes(b"text\n\xff\xfe bad\n") and p / "r.csv",
        "rating_6": lambda p: write_csv(p / "r.csv", text=["fine", "good"], stars=[5, 6]),
        "blank_txt": lambda p: (p / "r.txt").write_text("\n  \n") and p / "r.txt",
    }
    path = files[case](tmp_path)
    argv = [f"run_dir={tmp_path}", f"reviews={path}", *(["rating=stars"] if case == "rating_6" else [])]
    assert score_reviews.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err
    assert not (tmp_path / "review_scores").exists()


def test_score_reviews_ranks_reviews_with_a_saved_detector(cnn, tmp_path, capsys):
    cnn.save(tmp_path / "cnn")
    reviews = write_csv(tmp_path / "new.csv", text=["w0 w1 w2 w3", "w15 w16 w17 w19", "w4 w5 w6"])
    assert score_reviews.main([f"run_dir={tmp_path / 'cnn'}", f"reviews={reviews}"]) == 0
    scores = pd.read_csv(tmp_path / "cnn" / "review_scores" / "new.csv")
    assert scores["row"].iloc[0] == 2 and scores["text"].iloc[0] == "w15 w16 w17 w19"
    assert (np.diff(scores["score"]) <= 0).all() and scores["rank"].tolist() == [1, 2, 3]
    # A rating column means nothing to a detector that is not conditioned on ratings.
    rated = write_csv(tmp_path / "rated.csv", text=["w0 w1", "w2"], stars=[1, 5])
    capsys.readouterr()
    assert score_reviews.main([f"run_dir={tmp_path / 'cnn'}", f"reviews={rated}", "rating=stars"]) == 2
    assert "is not conditioned on ratings" in capsys.readouterr().err


def test_score_reviews_says_what_a_run_dir_must_be(tmp_path, capsys):
    reviews = write_csv(tmp_path / "r.csv", text=["fine"])
    assert score_reviews.main([f"run_dir={tmp_path / 'nothing'}", f"reviews={reviews}"]) == 2
    assert "neither a text GAN's training run" in capsys.readouterr().err


@pytest.fixture(scope="module")
def rated_relgan(tmp_path_factory):
    """A tiny RelGAN conditioned on the rating of 40 fake shop reviews: 2 MLE + 2 adversarial steps."""
    import subprocess
    import sys

    from tests.conftest import ROOT, TINY_TEXT
    from tests.text.test_reviews import write_fake_reviews
    root = tmp_path_factory.mktemp("rated")
    shop = write_fake_reviews(root / "shop", n=40)
    run_dir = root / "run"
    overrides = [*TINY_TEXT, "data=reviews", f"data.root={shop}", "data.conditional=true", "trainer.steps=4",
                 "trainer.checkpoint_every=2", "trainer.eval_every=100", "trainer.sample_every=100",
                 "trainer.log_every=2", "trainer.progress=false", "trainer.keep_checkpoints=5",
                 f"hydra.run.dir={run_dir}"]
    r = subprocess.run([sys.executable, "-m", "gan_jax.train", *overrides], cwd=ROOT, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    return run_dir


def test_the_gan_critic_scores_as_its_discriminator_judges(rated_relgan):
    # Catches: a critic score with the wrong sign, one that ignores the given rating, or an
    # average over ratings that is not one.
    from gan_jax.detectors.gan_critic import CriticDetector
    from gan_jax.training.state import apply_model

    det = CriticDetector(rated_relgan)
    assert det.class_names == ("1", "2", "3", "4", "5")
    reviews = [["it", "is", "fine", "!"], ["nice", "."], ["<unk>"] * 3]
    ids = jnp.asarray(det.vocabulary.ids(reviews))
    x = jax.nn.one_hot(ids, len(det.vocabulary.words))
    by_rating = []
    for c in range(5):
        out = apply_model(det.gan.discriminator, det.state.d_params, det.state.d_state, x,
                          jnp.full((3,), c), train=False)[0]
        by_rating.append(-np.asarray(out.logits).mean(axis=1))  # mean over D's representations
        np.testing.assert_allclose(det.score(reviews, categories=[c] * 3), by_rating[-1], rtol=1e-5,
                                   atol=1e-6)
    np.testing.assert_allclose(det.score(reviews), np.mean(by_rating, axis=0), rtol=1e-5, atol=1e-6)
    mixed = det.score(reviews, categories=[0, -1, 4])
    np.testing.assert_allclose(mixed, [by_rating[0][0], np.mean(by_rating, axis=0)[1], by_rating[4][2]],
                               rtol=1e-5, atol=1e-6)


def test_the_gan_critic_refuses_a_discriminator_that_has_not_trained(rated_relgan):
    from gan_jax.detectors.gan_critic import CriticDetector
    from gan_jax.errors import ConfigError
    with pytest.raises(ConfigError, match="within its maximum-likelihood phase"):
        CriticDetector(rated_relgan, step=2)
