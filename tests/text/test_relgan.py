"""RelGAN and its maximum-likelihood rival: each phase's objective on a toy with a known answer,
the Gumbel temperature schedule, and resumption across the phase boundary."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.data import text as text_lib
from gan_jax.metrics.auroc import auroc
from gan_jax.models import relgan
from gan_jax.training import phases as phases_lib
from gan_jax.training import setup as setup_lib
from gan_jax.training.loop import train
from gan_jax.training.step import make_train_chunk
from gan_jax.training.text_phases import inverse_temperature
from tests.conftest import TINY_LM, TINY_TEXT, make_cfg
from tests.training.test_faults import assert_same_state, final_state

# A Markov source over 4 words: uniform first word, then a doubly stochastic (circulant)
# transition matrix, so every word stays uniform and each later word has the row entropy.
WORDS = ("a", "b", "c", "d")
ROW = np.array([0.7, 0.2, 0.1, 0.0])
TRANSITIONS = np.stack([np.roll(ROW, i) for i in range(4)])
LENGTH = 6
ROW_ENTROPY = -sum(p * np.log(p) for p in ROW if p > 0)
ENTROPY_PER_TOKEN = (np.log(4) + (LENGTH - 1) * ROW_ENTROPY) / LENGTH  # nats


def markov_lines(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n):
        w = [rng.integers(4)]
        for _ in range(LENGTH - 1):
            w.append(rng.choice(4, p=TRANSITIONS[w[-1]]))
        lines.append(" ".join(WORDS[i] for i in w))
    return lines


def markov_files(tmp_path, n=3000):
    (tmp_path / "train.txt").write_text("\n".join(markov_lines(n, 0)) + "\n")
    (tmp_path / "test.txt").write_text("\n".join(markov_lines(1000, 1)) + "\n")
    return [f"data.path={tmp_path / 'train.txt'}", f"data.test_path={tmp_path / 'test.txt'}"]


def run_phase(setup, state, phase: int, steps: int):
    chunk = jax.jit(make_train_chunk(setup.schedule()[phase].step, steps))
    return chunk(state, setup.data.arrays)


def test_maximum_likelihood_reaches_the_entropy_of_a_markov_source(tmp_path):
    # Catches: a teacher-forcing shift (predicting the token it was given: NLL -> 0) or a model
    # that cannot condition on the previous word (NLL stuck at log 4 = 1.386).
    cfg = make_cfg(["data=text_file", *markov_files(tmp_path), "model=lm", "model.cell=lstm",
                    "model.embed_dim=8", "model.hidden_dim=32", "optim.lr=1e-2", "optim.beta1=0.9",
                    "trainer.batch_size=64"])
    setup = setup_lib.build(cfg)
    assert [p.name for p in setup.schedule()] == ["mle"]
    state, metrics = run_phase(setup, setup.init_state(), 0, 400)
    G, test = setup.gan.generator, setup.data.text.test
    nll = float(jnp.mean(G.apply({"params": state.g_params, **state.g_state}, test, method=G.nll)))
    # 1,000 held-out sentences: the sampling error of their mean NLL is about 0.01 nats.
    assert abs(nll - ENTROPY_PER_TOKEN) < 0.03, (nll, ENTROPY_PER_TOKEN)
    assert float(metrics["mle/nll"][-50:].mean()) == pytest.approx(ENTROPY_PER_TOKEN, abs=0.05)


def test_the_discriminator_separates_a_fixed_wrong_distribution(tmp_path):
    # Catches: a D that cannot read the relaxed one-hots (e.g. embedding the wrong axis) or a
    # loss with the wrong sign: against an untrained G writing near-uniform words, D must learn
    # to tell the Markov sentences apart.
    cfg = make_cfg(["data=text_file", *markov_files(tmp_path), "model=relgan", "model.cell=lstm",
                    "model.embed_dim=8", "model.hidden_dim=16", "model.d_embed_dim=8",
                    "model.representations=2", "model.num_filters=16", "model.pretrain_steps=0",
                    "loss=rsgan", "optim.lr=1e-3", "optim.g_lr=1e-12", "trainer.batch_size=32"])
    setup = setup_lib.build(cfg)
    assert [p.name for p in setup.schedule()] == ["adversarial"]
    state, _ = run_phase(setup, setup.init_state(), 0, 150)
    real, _ = setup.data.sample(setup.data.arrays, jax.random.PRNGKey(5), 256)
    fake = setup.gan.generator.apply({"params": state.g_params, **state.g_state},
                                     setup.gan.sample_latent(jax.random.PRNGKey(6), 256), None)
    D = setup.gan.discriminator
    score = lambda x: np.asarray(D.apply({"params": state.d_params}, x).logits.mean(-1))  # noqa: E731
    # auroc(scores, positives): the real sentences score higher
    assert auroc(np.r_[score(real), score(fake)], np.r_[np.ones(256), np.zeros(256)] > 0) > 0.95


def test_the_inverse_temperature_follows_the_authors_schedules():
    # The authors' exp schedule: beta_max ** (t / N); N = 5000 whatever the run's length.
    assert float(inverse_temperature("exp", 100.0, 0, 5000)) == pytest.approx(1.0)
    assert float(inverse_temperature("exp", 100.0, 2500, 5000)) == pytest.approx(10.0, rel=1e-5)
    assert float(inverse_temperature("exp", 1000.0, 2000, 5000)) == pytest.approx(1000 ** 0.4, rel=1e-5)
    assert float(inverse_temperature("exp", 100.0, 9000, 5000)) == pytest.approx(100.0, rel=1e-5)
    assert float(inverse_temperature("linear", 100.0, 2500, 5000)) == pytest.approx(50.5)
    assert float(inverse_temperature("constant", 100.0, 7, 5000)) == pytest.approx(100.0)


def test_the_adversarial_phase_sets_the_temperature_from_the_step():
    cfg = make_cfg(TINY_TEXT + ["model.temperature_steps=4", "model.max_temperature=16"])
    setup = setup_lib.build(cfg)
    assert [(p.name, p.steps) for p in setup.schedule()] == [("mle", 2), ("adversarial", None)]
    state, mle = run_phase(setup, setup.init_state(), 0, 2)
    assert set(mle) == {"mle/nll", "g/grad_norm"}
    state, adv = run_phase(setup, state, 1, 3)
    np.testing.assert_allclose(adv["g/inverse_temperature"], [1.0, 2.0, 4.0], rtol=1e-6)
    assert float(state.g_state["schedule"]["inverse_temperature"]) == pytest.approx(4.0)


def test_sampling_is_exact_gumbel_max_at_the_temperature():
    # Catches: Gumbel noise added after the temperature (argmax(o + g) / T samples the model at
    # T = 1 whatever T) or shared across sentences. With one-step sentences, the first word's
    # frequencies must be softmax(o / T).
    G = relgan.Generator(1, 5, cell="lstm", embed_dim=4, hidden_dim=4)
    z = jax.random.normal(jax.random.PRNGKey(0), (20000, relgan.KEY_FLOATS))
    variables = G.init(jax.random.PRNGKey(1), z[:2], None)
    logits = G.apply(variables, jnp.zeros((1,), jnp.int32), method=lambda m, t: m.logits(
        m.initial_carry(1), t)[1])[0]
    for t in (0.5, 2.0):
        ids = np.asarray(G.clone(sample_temperature=t).apply(variables, z, None, train=False))[:, 0]
        want = np.asarray(jax.nn.softmax(logits / t))
        np.testing.assert_allclose(np.bincount(ids, minlength=5) / len(ids), want, atol=0.012)


def test_a_prompt_is_kept_and_continued():
    G = relgan.Generator(6, 9, cell="lstm", embed_dim=4, hidden_dim=4)
    z = jax.random.normal(jax.random.PRNGKey(0), (3, relgan.KEY_FLOATS))
    variables = G.init(jax.random.PRNGKey(1), z, None)
    ids = np.asarray(G.clone(prompt=(4, 7)).apply(variables, z, None, train=False))
    assert (ids[:, :2] == [4, 7]).all() and ((ids >= 0) & (ids < 9)).all()
    free = np.asarray(G.apply(variables, z, None, train=False))
    assert not (free[:, :2] == [4, 7]).all()


def test_a_conditional_language_model_learns_what_each_label_writes(tmp_path):
    # Catches: a label that never reaches G's steps (both labels would write alike) or labels
    # misaligned with their sentences in the MLE batch. Label 0 writes "a ...", label 1 "b ...".
    import dataclasses  # noqa: PLC0415

    lines = ["a c d c"] * 200 + ["b d c d"] * 200
    text = text_lib.build_text(lines, None, None, None, "toy")
    labels = np.r_[np.zeros(200, np.int32), np.ones(200, np.int32)]
    data = text_lib.build("toy", text)
    data = dataclasses.replace(data, arrays={**data.arrays, "y": jnp.asarray(labels)},
                               class_names=("first", "second"))
    cfg = make_cfg(["data=text_file", "data.path=unused", "+data.conditional=true", "model=lm",
                    "model.cell=lstm", "model.embed_dim=8", "model.hidden_dim=16", "model.label_dim=4",
                    "optim.lr=1e-2", "optim.beta1=0.9", "trainer.batch_size=32"])
    setup = setup_lib.assemble(cfg, data)
    state, _ = run_phase(setup, setup.init_state(), 0, 150)
    G, variables = setup.gan.generator, {"params": state.g_params, **state.g_state}
    tokens = jnp.asarray(text.train)
    right = float(jnp.mean(G.apply(variables, tokens, jnp.asarray(labels), method=G.nll)))
    wrong = float(jnp.mean(G.apply(variables, tokens, jnp.asarray(1 - labels), method=G.nll)))
    assert right < 0.1 < 1.0 < wrong, (right, wrong)
    z = setup.gan.sample_latent(jax.random.PRNGKey(0), 8)
    for label, first in ((0, "a"), (1, "b")):
        ids = G.apply(variables, z, jnp.full((8,), label), train=False)
        assert all(text.decode(row)[0] == first for row in np.asarray(ids))


def test_a_run_resumed_across_the_phase_boundary_equals_the_straight_run(tmp_path, capsys):
    # Catches: the adversarial optimizer slot or the temperature missing from the checkpoint, or
    # a resumed run that restarts the temperature schedule.
    base = TINY_TEXT + ["trainer.log_every=1", "trainer.sample_every=5", "trainer.eval_every=100",
                        "trainer.checkpoint_every=1", "trainer.eval_samples=8",
                        "trainer.progress=false"]
    straight = make_cfg(base + ["trainer.steps=5", "trainer.eval_every=5"])
    train(straight, tmp_path / "straight")
    train(make_cfg(base + ["trainer.steps=1"]), tmp_path / "split")  # inside the MLE phase
    assert "ends before the adversarial phase, which starts at step 2" in capsys.readouterr().err
    summary = train(make_cfg(base + ["trainer.steps=5", "trainer.resume=true",
                                     "trainer.eval_every=5"]), tmp_path / "split")
    assert summary["status"] == "completed" and "g/inverse_temperature" in summary["metrics"]
    assert {"eval/bleu2", "eval/bleu5", "eval/self_bleu4", "eval/frechet", "eval/nll_gen"} <= set(
        summary["eval"])
    assert_same_state(final_state(tmp_path / "straight", straight),
                      final_state(tmp_path / "split", straight))


def test_the_phases_of_a_population_follow_its_single_runs():
    # Catches: a population that runs one phase for all, or one member's temperature for all:
    # member 1 sees the losses its single run sees. (Losses, not weights: Adam's first updates
    # are about lr * sign(gradient), so a rounding-level gradient near 0 can flip a weight by lr.)
    from gan_jax.training import population as population_lib  # noqa: PLC0415

    cfg = make_cfg(TINY_TEXT + ["trainer.population=2", "seed=[0,1]", "model.max_temperature=[10,1000]",
                                "model.temperature_steps=2"])
    population = population_lib.build(cfg)
    single = setup_lib.build(make_cfg(TINY_TEXT + ["model.max_temperature=1000", "seed=1",
                                                   "model.temperature_steps=2"]))
    state, one = population.init_state(), single.init_state()
    for t in range(4):  # 2 maximum-likelihood steps, then 2 adversarial
        i = phases_lib.phase_at(population.schedule(), t)
        state, metrics = jax.jit(population.schedule()[i].step)(state, population.data.arrays)
        one, single_metrics = jax.jit(single.schedule()[i].step)(one, single.data.arrays)
        assert set(metrics) == set(single_metrics)
        for name in ("mle/nll", "d/loss", "g/loss", "g/inverse_temperature"):
            if name in metrics:
                np.testing.assert_allclose(metrics[name][1], single_metrics[name], rtol=1e-4)
    np.testing.assert_allclose(metrics["g/inverse_temperature"], [10 ** 0.5, 1000 ** 0.5], rtol=1e-6)


def test_text_helpers_the_sample_command_reads():
    # The vocabulary's index is what prompts are looked up in.
    text = text_lib.build_text(["a b c", "b c"], None, None, None, "toy")
    assert text.index["b"] == text.vocabulary.index("b")


@pytest.mark.parametrize("channels, k", [(1, 2), (1, 5), (3, 4)])
def test_the_matmul_convolution_equals_flax_conv(channels, k):
    # D's convolutions over time are written as one matmul for speed; same parameters, same sums.
    import flax.linen as nn  # noqa: PLC0415

    x = jax.random.normal(jax.random.PRNGKey(0), (7, 11, channels))
    conv = relgan.TimeConv(6, k)
    params = conv.init(jax.random.PRNGKey(1), x)
    np.testing.assert_allclose(conv.apply(params, x), nn.Conv(6, (k,), padding="VALID").apply(params, x),
                               rtol=1e-5, atol=1e-6)


def test_relgans_pretraining_is_the_maximum_likelihood_model():
    # The study scores MLE as RelGAN's generator at the end of its pretraining phase: the same
    # generator, optimizer (Adam 1e-2, betas 0.9 / 0.999), batches and seed as model=lm.
    lm = setup_lib.build(make_cfg(TINY_LM + ["optim.lr=1e-2", "optim.beta1=0.9", "optim.beta2=0.999"]))
    gan = setup_lib.build(make_cfg(TINY_TEXT + ["model.pretrain_lr=1e-2"]))
    a, _ = run_phase(lm, lm.init_state(), 0, 2)
    b, _ = run_phase(gan, gan.init_state(), 0, 2)
    assert_same_state(a.g_params, b.g_params)
    assert_same_state(a.g_opt["mle"], b.g_opt["mle"])


def test_a_text_run_without_held_out_sentences_trains_and_evaluate_says_what_is_missing(tmp_path, capsys):
    # BLEU asked for with no test file: the run trains (no eval/* metrics), evaluation refuses in
    # one line naming data.test_path, and writes nothing.
    from gan_jax import evaluate  # noqa: PLC0415

    (tmp_path / "train.txt").write_text("\n".join(markov_lines(64, 0)) + "\n")
    cfg = make_cfg(["data=text_file", f"data.path={tmp_path / 'train.txt'}", "model=lm",
                    "model.embed_dim=8", "model.head_size=8",
                    "trainer.batch_size=8", "trainer.steps=2", "trainer.log_every=2",
                    "trainer.sample_every=2", "trainer.eval_every=2", "trainer.checkpoint_every=2",
                    "trainer.eval_samples=8", "trainer.progress=false"])
    summary = train(cfg, tmp_path / "run")
    assert summary["status"] == "completed" and summary["eval"] == {}
    assert evaluate.main([f"run_dir={tmp_path / 'run'}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "data.test_path=<held-out file>" in err[0]
    assert not (tmp_path / "run" / "eval").exists()


def test_reviews_written_for_a_requested_rating(tmp_path, capsys):
    # A conditional review writer (model=lm on the shop's reviews by rating): gan_jax.sample
    # writes n reviews with the asked rating as CSV, and refuses a rating that is not a category.
    import pandas as pd  # noqa: PLC0415

    from gan_jax import sample  # noqa: PLC0415
    from tests.text.test_reviews import write_fake_reviews  # noqa: PLC0415

    cfg = make_cfg([*TINY_LM, "data=reviews", f"data.root={write_fake_reviews(tmp_path / 'shop', 40)}",
                    "data.conditional=true", "trainer.steps=2", "trainer.log_every=2",
                    "trainer.sample_every=2", "trainer.eval_every=2", "trainer.checkpoint_every=2",
                    "trainer.eval_samples=8", "trainer.progress=false"])
    assert train(cfg, tmp_path / "run")["status"] == "completed"
    assert sample.main([f"run_dir={tmp_path / 'run'}", "n=5", "category=1", "format=csv"]) == 0
    written = pd.read_csv(tmp_path / "run" / "samples" / "step2_n5_t1_1.csv")
    assert list(written.columns) == ["text", "category"] and len(written) == 5
    assert (written["category"] == 1).all()
    assert sample.main([f"run_dir={tmp_path / 'run'}", "category=6"]) == 2
    assert "category='6' is unknown" in capsys.readouterr().err
