"""Populations: N members in one vmapped program, each equal to its own single run."""

import json
import operator
import subprocess
import sys

import jax
import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gan_jax.errors import ConfigError
from gan_jax.training import population as population_lib
from gan_jax.training import setup as setup_lib
from gan_jax.training.checkpoint import Checkpoints
from gan_jax.training.loop import train
from gan_jax.training.step import make_train_chunk
from tests.conftest import CONF, ROOT, SCHEDULE, TINY_RING, make_cfg

POPULATION = TINY_RING + ["trainer.population=3", "optim.lr=[1e-4,1e-3,3e-3]",
                          "optim.beta1=[0.5,0.0,0.5]", "mitigation=[r1]",
                          "mitigation.r1.gamma=[0.1,1.0,10]", "optim.ema_decay=[0.0,0.9,0.99]"]


def run_chunk(step, state, arrays, n):
    return jax.jit(make_train_chunk(step, n))(state, arrays)


def test_members_equal_their_single_runs():
    population = population_lib.build(make_cfg(POPULATION))
    assert population.varying["seed"] == [0, 1, 2]  # seed + i unless seed is a list
    state, metrics = run_chunk(population.step, population.init_state(), population.data.arrays, 50)
    assert metrics["d/loss"].shape == (50, 3)
    for i, member_cfg in enumerate(population.members):
        assert member_cfg["optim"]["lr"] == [1e-4, 1e-3, 3e-3][i]
        assert member_cfg["trainer"]["population"] == 1
        single = setup_lib.build(member_cfg)  # the run `python -m gan_jax.train` would do
        alone, alone_metrics = run_chunk(single.step, single.init_state(), single.data.arrays, 50)
        member = jax.tree_util.tree_map(operator.itemgetter(i), state)
        if alone.ema_params is None:  # decay 0: the population's EMA is the generator itself
            for x, y in zip(*map(jax.tree_util.tree_leaves, (member.ema_params, member.g_params))):
                np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
            member = member.replace(ema_params=None)
        for x, y in zip(jax.tree_util.tree_leaves(member), jax.tree_util.tree_leaves(alone)):
            np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(metrics["d/loss"][:, i], alone_metrics["d/loss"], rtol=1e-4)
    # The settings really differ: members' parameters are far apart.
    g0 = jax.tree_util.tree_leaves(jax.tree_util.tree_map(lambda x: x[0] - x[2], state.g_params))
    assert max(float(np.max(np.abs(d))) for d in g0) > 1e-2


def test_members_one_after_another_equal_members_batched():
    # population_map=map runs the same member steps through jax.lax.map (one member's memory):
    # the same training, up to float rounding.
    batched = population_lib.build(make_cfg(POPULATION))
    mapped = population_lib.build(make_cfg([*POPULATION, "trainer.population_map=map"]))
    a, a_metrics = run_chunk(batched.step, batched.init_state(), batched.data.arrays, 20)
    b, b_metrics = run_chunk(mapped.step, mapped.init_state(), mapped.data.arrays, 20)
    assert b_metrics["d/loss"].shape == (20, 3)
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-4, atol=1e-5)


def test_seed_list_and_same_seed_members_are_identical():
    population = population_lib.build(make_cfg(TINY_RING + ["trainer.population=2", "seed=[7,7]"]))
    state, _ = run_chunk(population.step, population.init_state(), population.data.arrays, 20)
    for leaf in jax.tree_util.tree_leaves(state):
        np.testing.assert_array_equal(np.asarray(leaf[0]), np.asarray(leaf[1]))


@pytest.mark.parametrize("overrides, message", [
    (["optim.lr=[1e-4,1e-3]"], "trainer.population=2"),
    (["trainer.population=3", "optim.lr=[1e-4,1e-3]"], "has 2 values"),
    (["trainer.population=2", "trainer.eval_samples=[100,200]"], "Hydra multirun"),
    (["trainer.population=2", "model.latent_dim=[4,8]"], "structural"),
    (["trainer.population=2", "optim.lr=[1e-4,-1.0]"], "optim.lr=-1.0"),
])
def test_population_config_errors(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        train(make_cfg(TINY_RING + SCHEDULE + ["trainer.steps=250"] + overrides), tmp_path / "run")
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_list_settings_are_declared():
    """Every list-valued setting in conf/ is declared, so it is never read as per-member values."""
    import yaml

    lists = set()
    for group in population_lib.VARYING_GROUPS:
        for path in (CONF / group).glob("*.yaml"):
            for key, value in (yaml.safe_load(path.read_text()) or {}).items():
                if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
                    lists.add(f"{group}.{key}")
    assert lists and lists <= population_lib.LIST_SETTINGS


@pytest.mark.slow  # three short population runs
def test_population_run_logs_members_and_resumes_exactly(tmp_path):
    base = POPULATION[:-1] + SCHEDULE  # no EMA: keeps the state small
    train(make_cfg(base + ["trainer.steps=1000"]), tmp_path / "straight")
    train(make_cfg(base + ["trainer.steps=500"]), tmp_path / "split")
    summary = train(make_cfg(base + ["trainer.steps=1000", "trainer.resume=true"]), tmp_path / "split")

    assert summary["status"] == "completed" and len(summary["members"]) == 3
    written = json.loads((tmp_path / "split" / "summary.json").read_text())
    assert [m["hparams"]["optim.lr"] for m in written["members"]] == [1e-4, 1e-3, 3e-3]
    assert all("eval/modes" in m["eval"] and "g/loss" in m["metrics"] for m in written["members"])

    template = population_lib.build(make_cfg(base + ["trainer.steps=1000"])).init_state()
    states = []
    for name in ("straight", "split"):
        ckpt = Checkpoints(tmp_path / name / "checkpoints")
        states.append(ckpt.restore(template))
        ckpt.close()
    for x, y in zip(*map(jax.tree_util.tree_leaves, states)):
        assert np.array_equal(np.asarray(x), np.asarray(y))  # bit for bit, all members

    # Each member is its own TensorBoard run with its hyperparameters.
    for i in range(3):
        events = EventAccumulator(str(tmp_path / "straight" / "tb" / f"member_{i:02d}"),
                                  size_guidance={"scalars": 0, "tensors": 0})
        events.Reload()
        assert "eval/hq" in events.Tags()["scalars"]
        plugin = events.PluginTagToContent("hparams")
        session = next(v for k, v in plugin.items() if "session_start" in k)
        assert b"optim.lr" in session and b"member" in session

    # The sample command draws from one member of the population checkpoint.
    from gan_jax import sample

    run = tmp_path / "straight"
    assert sample.main([f"run_dir={run}", "n=8"]) == 2  # which member? refused
    assert sample.main([f"run_dir={run}", "n=8", "member=2", "npy=true"]) == 0
    drawn = np.load(run / "samples" / "step1000_n8_member2.npy")
    member2 = jax.tree_util.tree_map(lambda x: x[2], states[0])
    from gan_jax.training.state import generate
    gan = population_lib.build(make_cfg(base + ["trainer.steps=1000"])).gan
    z = gan.sample_latent(jax.random.PRNGKey(0), 8)
    np.testing.assert_allclose(drawn, np.asarray(generate(gan, member2, z)), atol=1e-6)


def test_lstm_population_initialises_without_hanging():
    # Regression: vmapping the init batched the LSTMs' orthogonal-init QRs, and XLA:CPU's thread
    # pool deadlocked at the first result (every start of this very config hung on 2 cores).
    # A fresh process, since a deadlocked one cannot be stopped from inside.
    code = ("import jax; from tests.conftest import make_cfg; "
            "from gan_jax.training import population; "
            "p = population.build(make_cfg(['experiment=relgan_reviews', "
            "'trainer.population=3', 'seed=[0,1,2]'])); "
            "print(int(jax.numpy.max(p.init_state().step)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "0"
