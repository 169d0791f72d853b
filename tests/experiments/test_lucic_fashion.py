"""experiments/lucic_fashion: the search space, the grouping into population runs, the retry of
diverged members, and (slow) the whole study at its smoke budget on real Fashion-MNIST."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from experiments.lucic_fashion import runner
from experiments.lucic_fashion.budgets import BUDGETS
from experiments.lucic_fashion.report import permutation_p, spearman
from experiments.lucic_fashion.search import (LOSSES, STRUCTURAL, group_trials,
                                              population_overrides, sample_trials)
from gan_jax.data import fashion_mnist
from gan_jax.errors import DivergenceError
from gan_jax.training import population as population_lib
from tests.conftest import ROOT


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_sampler_respects_the_papers_ranges(loss):
    trials = sample_trials(loss, 300, seed=3)
    lr = np.array([t["optim.lr"] for t in trials])
    beta1 = np.array([t["optim.beta1"] for t in trials])
    assert lr.min() >= 1e-5 and lr.max() <= 1e-2
    assert np.log10(lr).min() < -4.5 and np.log10(lr).max() > -2.5  # log-uniform: spans decades
    assert beta1.min() >= 0 and beta1.max() < 1
    assert {t["optim.n_critic"] for t in trials} == {1, 2, 3, 4, 5}
    assert {t["model.d_batch_norm"] for t in trials} == {True, False}
    extra = LOSSES[loss].extra
    if extra:
        low, high = LOSSES[loss].extra_range
        values = [t[extra] for t in trials]
        assert low <= min(values) and max(values) <= high
    assert [t["seed"] for t in trials] == list(range(300))


def test_sampler_is_reproducible_and_fixing_structure_keeps_the_rest():
    assert sample_trials("wgan", 5, seed=1) == sample_trials("wgan", 5, seed=1)
    assert sample_trials("wgan", 5, seed=1) != sample_trials("wgan", 5, seed=2)
    assert sample_trials("ns", 5, seed=1)[0]["optim.lr"] != sample_trials("mm", 5, seed=1)[0]["optim.lr"]
    free = sample_trials("dragan", 5, seed=1)
    fixed = sample_trials("dragan", 5, seed=1, fixed={"optim.n_critic": 1, "model.d_batch_norm": False})
    for a, b in zip(free, fixed):
        assert b["optim.n_critic"] == 1 and b["model.d_batch_norm"] is False
        assert {k: v for k, v in a.items() if k not in STRUCTURAL} == \
            {k: v for k, v in b.items() if k not in STRUCTURAL}


def test_trials_grouped_by_structure_become_valid_population_runs():
    trials = sample_trials("wgan_gp", 12, seed=0)
    groups = group_trials(trials)
    assert sorted(t["trial"] for g in groups.values() for t in g) == list(range(12))
    assert list(groups) == sorted(groups)
    for (n_critic, bn), group in groups.items():
        assert all((t["optim.n_critic"], t["model.d_batch_norm"]) == (n_critic, bn) for t in group)
        overrides = population_overrides(group)
        cfg = runner.make_cfg(["experiment=lucic_fashion", *overrides])
        assert cfg["loss"]["name"] == "wgan_gp"
        assert cfg["optim"]["n_critic"] == n_critic and cfg["model"]["d_batch_norm"] == bn
        if len(group) == 1:
            assert cfg["trainer"]["population"] == 1 and cfg["seed"] == group[0]["seed"]
            assert cfg["optim"]["lr"] == group[0]["optim.lr"]
            continue
        varying = population_lib.varying_settings(cfg)  # what the trainer accepts
        assert varying["optim.lr"] == [t["optim.lr"] for t in group]  # exact, not rounded
        assert varying["loss.gp_weight"] == [t["loss.gp_weight"] for t in group]
        assert varying["seed"] == [t["seed"] for t in group]
    with pytest.raises(AssertionError, match="differs within a group"):
        population_overrides([{**trials[0], "optim.n_critic": 1}, {**trials[1], "optim.n_critic": 2}])


def test_dragan_trials_select_the_penalty_on_the_ns_loss():
    group = sample_trials("dragan", 2, seed=0, fixed={"optim.n_critic": 1, "model.d_batch_norm": False})
    cfg = runner.make_cfg(["experiment=lucic_fashion", *population_overrides(group)])
    assert cfg["loss"]["name"] == "non_saturating"
    assert cfg["mitigation"]["dragan"]["weight"] == [t["mitigation.dragan.weight"] for t in group]


def test_a_diverged_member_is_dropped_and_the_others_trained_again(tmp_path):
    trials = sample_trials("ns", 3, seed=0, fixed={"optim.n_critic": 1, "model.d_batch_norm": False})
    calls = []

    def fake_train(cfg, run_dir):
        calls.append((cfg["trainer"]["population"], cfg["seed"]))
        run_dir.mkdir(parents=True)
        if len(calls) == 1:  # member 1 (trial 1) diverges in the first run
            (run_dir / "summary.json").write_text(json.dumps({
                "status": "diverged", "error": "training diverged: population member 1 "
                "(optim.lr=0.01): d/loss is nan at step 7."}))
            raise DivergenceError("diverged")
        return {"status": "completed", "wall_seconds": 1.0, "eval_reference": {"eval/fd": 0.5},
                "members": [{"eval": {"eval/fd": 10.0 + s}} for s in cfg["seed"]]}

    results = runner.run_group("g", ["experiment=lucic_fashion"], trials, tmp_path,
                               train_fn=fake_train, log=lambda m: None)
    assert calls == [(3, [0, 1, 2]), (2, [0, 2])]
    assert [r["status"] for r in results] == ["completed", "diverged", "completed"]
    assert [r["fd"] for r in results] == [10.0, None, 12.0]
    assert results[2]["run_dir"].endswith("g_retry1") and results[2]["member"] == 1
    assert results[2]["tb_dir"].endswith("member_01") and results[0]["real_fd"] == 0.5


def test_finished_runs_are_read_and_cut_off_ones_resumed(tmp_path):
    trials = sample_trials("ns", 2, seed=0, fixed={"optim.n_critic": 1, "model.d_batch_norm": False})
    calls = []

    def fake_train(cfg, run_dir):
        calls.append(cfg["trainer"]["resume"])
        run_dir.mkdir(parents=True, exist_ok=True)
        summary = {"status": "completed", "wall_seconds": 1.0, "eval_reference": {"eval/fd": 0.5},
                   "members": [{"eval": {"eval/fd": 10.0 + s}} for s in cfg["seed"]]}
        (run_dir / "summary.json").write_text(json.dumps(summary))
        return summary

    def run():
        return runner.run_group("g", ["experiment=lucic_fashion"], trials, tmp_path,
                                train_fn=fake_train, log=lambda m: None)

    (tmp_path / "g" / "checkpoints" / "100").mkdir(parents=True)  # cut off after step 100
    first = run()
    assert calls == [True]  # resumed, not started again
    assert [r["fd"] for r in first] == [10.0, 11.0] and first[0]["provenance"]["commit"]
    assert run() == first and calls == [True]  # finished: read back, not trained


def test_spearman():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2], [1, 2]) is None
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486833)  # tied ranks averaged
    # Only the identity and the reversal of 4 items are as extreme as a perfect order.
    assert permutation_p([1, 2, 3, 4], [5, 6, 7, 8]) == pytest.approx(2 / 24)


def reference_images(cfg) -> tuple[str, set[int]]:
    """(split, indices) of the real images a run's FD is measured against, as
    `gan_jax.metrics.evaluator.build` takes them: the first reference_samples of the split."""
    return cfg["eval"]["reference_split"], set(range(int(cfg["eval"]["reference_samples"])))


@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_the_search_selects_on_images_the_reported_fds_never_use(name):
    # Catches model selection on the test set: the FD the search ranks trials by and the FD the
    # table reports must be measured against disjoint real images.
    budget = BUDGETS[name]
    search_cfg = runner.make_cfg(budget.overrides_for(rerun=False))
    report_cfg = runner.make_cfg(budget.overrides_for(rerun=True))
    (s_split, s_idx), (r_split, r_idx) = reference_images(search_cfg), reference_images(report_cfg)
    assert r_split == "test"  # the reported numbers are test numbers
    assert s_split != r_split or not s_idx & r_idx


@pytest.mark.slow
@pytest.mark.skipif(fashion_mnist.find_dir(None, "train") is None,
                    reason="real Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
def test_smoke_budget_end_to_end(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "experiments/lucic_fashion/run.py"),
                        "--budget", "smoke", "--out", str(tmp_path)],
                       cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    results = json.loads((tmp_path / "results_smoke.json").read_text())
    losses = results["budget"]["losses"]
    assert len(results["trials"]) == len(losses) * results["budget"]["trials"]
    assert all(t["status"] == "completed" and math.isfinite(t["fd"]) for t in results["trials"])
    for loss in losses:
        # The reruns train the chosen trial's settings (which images the choice may read:
        # test_the_search_selects_on_images_the_reported_fds_never_use).
        best = results["best"][loss]
        rerun = results["reruns"][loss]
        assert rerun["trial"] == best["trial"]
        assert rerun["seeds"] == [1000, 1001] and rerun["summary"]["n"] == 2
        assert all(math.isfinite(f) for f in rerun["fds"])
        # Evaluated along the way (every steps // curve_points) and read back from TensorBoard.
        assert all([s for s, _ in c] == [10, 20] for c in rerun["curves"])
        assert rerun["curves"][0][-1][1] == pytest.approx(rerun["fds"][0], rel=1e-5)
    assert results["eval"]["reference_split"] == "test" and results["eval"]["samples"] == 200
    assert "BEGAN" in results["not_implemented"]
    for name in ("results_smoke.md", "fd_vs_step_smoke.png", "best_fd_smoke.png",
                 "samples_smoke.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert "| NS GAN |" in (tmp_path / "results_smoke.md").read_text()
