"""Sweeps: the objective a sweeper reads, the compilation cache, and scripts/collect.py."""

import csv
import importlib.util
import json
import math

import jax
import pytest
from hydra import compose, initialize_config_dir

from gan_jax import compile_cache
from gan_jax.errors import ConfigError
from gan_jax.sweeps import objective_value
from tests.conftest import CONF, EVERY_100, ROOT, TINY_RING
from tests.test_train_cli import run_cli

SUMMARY = {"status": "completed", "step": 200, "wall_seconds": 3.5,
           "metrics": {"d/loss": 1.2, "g/loss": 0.7}, "eval": {"eval/hq": 0.5, "eval/modes": 3.0}}


def test_objective_is_looked_up_in_eval_then_metrics():
    assert objective_value(SUMMARY, "eval/hq") == 0.5
    assert objective_value(SUMMARY, "g/loss") == 0.7
    assert objective_value(SUMMARY, None) is None


def test_unknown_objective_lists_the_available_names():
    with pytest.raises(ConfigError, match=r"trainer.objective=eval/fid .*available: d/loss, "
                                          r"eval/hq, eval/modes, g/loss"):
        objective_value(SUMMARY, "eval/fid")


def test_population_objective_is_the_mean_over_members():
    members = [{"member": i, "hparams": {"optim.lr": lr}, "status": "completed",
                "metrics": {"g/loss": 1.0}, "eval": {"eval/hq": hq}}
               for i, (lr, hq) in enumerate([(1e-4, 0.2), (2e-4, 0.6)])]
    summary = {**SUMMARY, "members": members}
    assert objective_value(summary, "eval/hq") == pytest.approx(0.4)
    members[1]["eval"]["eval/hq"] = math.nan  # a diverged member: Optuna fails the trial
    assert math.isnan(objective_value(summary, "eval/hq"))
    with pytest.raises(ConfigError, match="available: eval/hq, g/loss"):
        objective_value(summary, "eval/rkl")


def hydra_node(override: str, key: str):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("config", overrides=[override], return_hydra_config=True).hydra[key]


def test_slurm_launcher_extends_the_plugin_config():
    launcher = hydra_node("hydra/launcher=slurm", "launcher")
    assert launcher._target_.endswith("SlurmLauncher")
    assert launcher.gpus_per_node == 1 and launcher.partition is None
    assert "account" in launcher  # the plugin's other keys are there to override


def test_optuna_search_extends_the_plugin_config():
    sweeper = hydra_node("hydra/sweeper=optuna_search", "sweeper")
    assert sweeper._target_.endswith("OptunaSweeper")
    assert sweeper.sampler._target_ == "optuna.samplers.TPESampler" and sweeper.sampler.seed == 0
    assert (sweeper.direction, sweeper.n_jobs) == ("maximize", 1)


@pytest.fixture
def restore_jax_cache_config():
    names = ["jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs",
             "jax_persistent_cache_min_entry_size_bytes"]
    saved = {n: jax.config.values[n] for n in names}
    yield
    for n, v in saved.items():
        jax.config.update(n, v)
    compile_cache.compilation_cache.reset_cache()


def test_enable_expands_the_path_and_caches_small_programs(tmp_path, monkeypatch,
                                                           restore_jax_cache_config):
    assert compile_cache.enable(None) is None
    monkeypatch.setenv("HOME", str(tmp_path))
    assert compile_cache.enable("~/xla") == str(tmp_path / "xla")
    assert jax.config.jax_compilation_cache_dir == str(tmp_path / "xla")
    assert jax.config.jax_persistent_cache_min_compile_time_secs == 0


def test_second_run_with_the_same_config_compiles_nothing_new(tmp_path):
    cache = tmp_path / "xla"
    common = [*TINY_RING, *EVERY_100, "trainer.steps=100", "trainer.progress=false",
              f"trainer.compile_cache={cache}"]
    r = run_cli(*common, f"hydra.run.dir={tmp_path / 'a'}")
    assert r.returncode == 0, r.stderr
    first = sorted(p.name for p in cache.iterdir())
    assert first  # the training chunk, sampling and evaluation programs at least
    r = run_cli(*common, f"hydra.run.dir={tmp_path / 'b'}")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in cache.iterdir()) == first  # every program came from the cache
    a, b = (json.loads((tmp_path / d / "summary.json").read_text()) for d in "ab")
    assert a["eval"] == b["eval"]  # cached executables compute the same run


def test_a_missing_objective_exits_2_after_writing_the_summary(tmp_path):
    r = run_cli(*TINY_RING, *EVERY_100, "trainer.steps=100", "trainer.objective=eval/fid",
                f"hydra.run.dir={tmp_path}")
    assert r.returncode == 2
    assert "trainer.objective=eval/fid" in r.stderr and "eval/hq" in r.stderr
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "completed"


# scripts/collect.py on synthetic sweeps ---------------------------------------------------------

def load_collect():
    spec = importlib.util.spec_from_file_location("collect", ROOT / "scripts" / "collect.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_run(run_dir, overrides, config, summary):
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    (run_dir / "config.json").write_text(json.dumps(config))
    (run_dir / "summary.json").write_text(json.dumps(summary))


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def config(lr, seed=0):
    return {"seed": seed, "optim": {"lr": lr, "beta1": 0.5}, "loss": {"name": "hinge"},
            "trainer": {"steps": 200, "objective": "eval/hq"}}


def test_collect_tables_and_plots_a_sweep(tmp_path):
    sweep = tmp_path / "sweep"
    for job, lr in enumerate([1e-4, 1e-3, 1e-2]):
        summary = {**SUMMARY, "eval": {"eval/hq": 0.1 * job, "eval/modes": 8.0}}
        write_run(sweep / str(job), [f"optim.lr={lr:g}", "trainer.steps=200"], config(lr), summary)
    write_run(sweep / "10", ["optim.lr=0.1", "trainer.steps=200"], config(0.1),
              {**SUMMARY, "status": "diverged", "eval": {}})
    assert load_collect().main([str(sweep), "--out", str(tmp_path / "out")]) == 0

    rows = read_csv(tmp_path / "out" / "results.csv")
    assert list(rows[0]) == ["run", "optim.lr", "status", "step", "wall_seconds", "d/loss",
                             "g/loss", "eval/hq", "eval/modes"]  # only the varying setting
    assert [r["run"] for r in rows] == ["0", "1", "2", "10"]
    assert [float(r["optim.lr"]) for r in rows] == [1e-4, 1e-3, 1e-2, 0.1]
    assert [r["eval/hq"] for r in rows] == ["0.0", "0.1", "0.2", ""]
    assert rows[3]["status"] == "diverged"
    md = (tmp_path / "out" / "results.md").read_text().splitlines()
    assert md[0].startswith("| run | optim.lr | status") and len(md) == 2 + 4
    # metric from the runs' trainer.objective, parameter the one numeric setting that varies
    assert (tmp_path / "out" / "eval_hq_vs_optim.lr.png").stat().st_size > 1000


def test_collect_gives_one_row_per_population_member(tmp_path):
    sweep = tmp_path / "sweep"
    for job, seed in enumerate([0, 1]):
        members = [{"member": i, "hparams": {"optim.lr": lr}, "status": "completed",
                    "metrics": {"g/loss": 1.0 + i}, "eval": {"eval/hq": 0.1 * i + seed}}
                   for i, lr in enumerate([1e-4, 2e-4])]
        write_run(sweep / str(job), [f"seed={seed}", "optim.lr=[1e-4,2e-4]"],
                  config([1e-4, 2e-4], seed), {**SUMMARY, "members": members})
    collect = load_collect()
    assert collect.main([str(sweep), "--metric", "eval/hq", "--param", "optim.lr"]) == 0
    rows = read_csv(sweep / "results.csv")
    assert [(r["run"], r["member"], r["seed"], r["optim.lr"], r["eval/hq"]) for r in rows] == [
        ("0", "0", "0", "0.0001", "0.0"), ("0", "1", "0", "0.0002", "0.1"),
        ("1", "0", "1", "0.0001", "1.0"), ("1", "1", "1", "0.0002", "1.1")]
    assert (sweep / "eval_hq_vs_optim.lr.png").is_file()
    assert collect.main([str(sweep), "--metric", "eval/fid"]) == 2
