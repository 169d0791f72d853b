"""The phase schedule: which phase runs each step, chunks cut at phase ends, resume across them."""

import jax
import numpy as np
import pytest

from gan_jax.errors import ConfigError
from gan_jax.training import phases as phases_lib
from gan_jax.training import population as population_lib
from gan_jax.training import setup as setup_lib
from gan_jax.training.loop import Run, train
from gan_jax.training.phases import Phase
from tests.conftest import TINY_RING, TINY_SERIES, make_cfg
from tests.training.test_faults import final_state

SCHEDULE = (Phase("a", 3, None), Phase("b", 2, None), Phase("c", None, None))


def test_the_phase_of_a_step_is_fixed_by_the_declared_lengths():
    # Catches: an off-by-one at a boundary (step 3 is the first of phase b), or the last phase
    # ending before the run does.
    assert phases_lib.starts(SCHEDULE) == [0, 3, 5]
    assert [phases_lib.phase_at(SCHEDULE, t) for t in range(8)] == [0, 0, 0, 1, 1, 2, 2, 2]
    assert [phases_lib.steps_left_in_phase(SCHEDULE, t) for t in range(7)] == [3, 2, 1, 2, 1, None, None]
    assert phases_lib.unreached(SCHEDULE, 5) == ["c"] and phases_lib.unreached(SCHEDULE, 6) == []
    with pytest.raises(ValueError, match="runs until the end"):
        phases_lib.check((Phase("a", 3, None), Phase("b", 2, None)))
    with pytest.raises(ValueError, match="positive length"):
        phases_lib.check((Phase("a", 0, None), Phase("b", None, None)))


def test_a_single_phase_run_is_the_plain_step():
    # Catches: phases changing what a run without them computes (its one phase must be the very
    # step function it had before, so that its programs are the same).
    setup = setup_lib.build(make_cfg(TINY_RING))
    (phase,) = setup.schedule()
    assert phase.step is setup.step and phase.steps is None


def test_timegan_declares_its_three_phases_from_its_settings():
    setup = setup_lib.build(make_cfg(TINY_SERIES + ["model.autoencoder_steps=5",
                                                    "model.supervised_steps=7"]))
    assert [(p.name, p.steps) for p in setup.schedule()] == [
        ("autoencoder", 5), ("supervised", 7), ("joint", None)]


def test_the_loop_cuts_chunks_at_phase_ends(tmp_path, monkeypatch):
    # Catches: a chunk of compiled steps that runs into the next phase with the previous
    # phase's step.
    cfg = make_cfg(TINY_SERIES + ["trainer.steps=9", "trainer.log_every=3", "trainer.sample_every=3",
                                  "trainer.eval_every=9", "trainer.checkpoint_every=9",
                                  "trainer.eval_samples=20", "trainer.progress=false"])
    calls = []
    chunk_fn = Run.chunk_fn
    monkeypatch.setattr(Run, "chunk_fn", lambda self, n, phase=0: calls.append((phase, n))
                        or chunk_fn(self, n, phase))
    train(cfg, tmp_path / "run")
    # autoencoder 2 steps, supervised 2 (1 to the log edge at 3, then 1), joint 5 (2 + 3)
    assert calls == [(0, 2), (1, 1), (1, 1), (2, 2), (2, 3)]


def test_a_run_resumed_inside_a_phase_equals_the_straight_run(tmp_path, capsys):
    # Catches: state a phase needs that is not in the checkpoint (an optimizer slot), or a
    # resumed run that picks its phase from where it restarted rather than from the step.
    base = TINY_SERIES + ["trainer.log_every=4", "trainer.sample_every=4", "trainer.eval_every=8",
                          "trainer.checkpoint_every=4", "trainer.eval_samples=20",
                          "trainer.progress=false"]
    straight = make_cfg(base + ["trainer.steps=8"])
    train(straight, tmp_path / "straight")
    # Stops in the supervised phase (step 3 of 2 + 2), resumes across the joint phase's start.
    train(make_cfg(base + ["trainer.steps=3"]), tmp_path / "split")
    assert ("warning: trainer.steps=3 ends before the joint phase, which starts at step 4"
            in capsys.readouterr().err)
    summary = train(make_cfg(base + ["trainer.steps=8", "trainer.resume=true"]), tmp_path / "split")
    assert summary["status"] == "completed" and summary["step"] == 8
    assert "d/loss" in summary["metrics"]  # the last chunk ran the joint phase
    a, b = final_state(tmp_path / "straight", straight), final_state(tmp_path / "split", straight)
    leaves_a, leaves_b = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert int(a.step) == int(b.step) == 8 and len(leaves_a) == len(leaves_b)
    for x, y in zip(leaves_a, leaves_b):
        assert np.array_equal(np.asarray(x), np.asarray(y))  # bit for bit


def test_a_population_trains_every_phase_member_by_member(tmp_path):
    # Catches: a population that runs the plain step, or one phase for all, instead of its
    # members' phase steps; its member 0 follows the single run of the same seed.
    cfg = make_cfg(TINY_SERIES + ["trainer.population=2", "seed=[0,1]"])
    population = population_lib.build(cfg)
    single = setup_lib.build(make_cfg(TINY_SERIES))
    assert [p.name for p in population.schedule()] == ["autoencoder", "supervised", "joint"]
    state, one = population.init_state(), single.init_state()
    for t in range(5):  # 2 autoencoder, 2 supervised, 1 joint
        i = phases_lib.phase_at(population.schedule(), t)
        state, metrics = jax.jit(population.schedule()[i].step)(state, population.data.arrays)
        one, _ = jax.jit(single.schedule()[i].step)(one, single.data.arrays)
    assert metrics["d/loss"].shape == (2,)
    for a, b in zip(jax.tree_util.tree_leaves(state.g_params), jax.tree_util.tree_leaves(one.g_params)):
        np.testing.assert_allclose(np.asarray(a)[0], np.asarray(b), rtol=1e-4, atol=1e-6)


def test_phase_lengths_cannot_vary_within_a_population():
    with pytest.raises(ConfigError, match="structural"):
        population_lib.build(make_cfg(TINY_SERIES + ["trainer.population=2",
                                                     "model.autoencoder_steps=[2,3]"]))
