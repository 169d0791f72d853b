"""trainer.parallel=data: the sharded step equals the single-device step with the same global
batch, on 4 CPU devices, and two processes joined by jax.distributed equal one process.

The device count is fixed when JAX starts, so the 4-device checks run in a child process
(`python -m tests.training.test_parallel CASE`) that prints its measurements as JSON.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.conftest import EVERY_100, ROOT, TINY_DCGAN, TINY_RING, make_cfg

DEVICES = 4
CASES = {"dcgan_batch_norm": TINY_DCGAN + ["model.d_batch_norm=true"],
         "wgan_gp": TINY_DCGAN + ["loss=wgan_gp"]}


def child(case: str, *args: str, devices: int = DEVICES) -> dict:
    env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
    out = subprocess.run([sys.executable, "-m", "tests.training.test_parallel", case, *args],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", ["dcgan_batch_norm", pytest.param("wgan_gp", marks=pytest.mark.slow)])
def test_data_parallel_step_equals_single_device(tmp_path, case):
    r = child("step", case, str(tmp_path))
    assert r["devices"] == DEVICES and r["all_reduces"] > 0  # really partitioned
    assert r["params_replicated"] and r["batch_split"] == DEVICES
    for name, (single, sharded) in r["metrics"].items():  # every scalar of both steps
        np.testing.assert_allclose(sharded, single, rtol=1e-4, atol=1e-6, err_msg=name)
    # The trained functions agree. (Raw parameters are compared through the functions: biases
    # before batch norm have an exactly-zero gradient, whose float noise Adam scales to +-lr.)
    assert r["generator_max_diff"] < 1e-4 and r["critic_max_diff"] < 1e-4


def test_population_members_spread_over_devices(tmp_path):
    r = child("population", str(tmp_path))
    assert r["state_split"] == DEVICES
    assert r["max_diff"] < 1e-5


def test_batch_must_divide_over_devices(tmp_path):
    r = child("divides", str(tmp_path))
    assert "trainer.batch_size=30 must be a multiple of the 4 devices" in r["error"]
    assert "trainer.population=3 must be a multiple" in r["population_error"]
    assert r["nothing_written"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # two processes plus a reference run: about a minute and a half
def test_two_processes_equal_one(tmp_path):
    """Two local processes (1 CPU device each, gloo collectives) train one model with a global
    batch of 64, 32 per process; the result equals one process with the same global batch."""
    base = TINY_RING + EVERY_100 + ["trainer.steps=100", "trainer.batch_size=64",
                                    "trainer.progress=false", "trainer.compile_cache=null"]
    port = free_port()
    joined = tmp_path / "two"
    procs = [subprocess.Popen(
        [sys.executable, "-m", "gan_jax.train", *base, "trainer.parallel=data",
         "trainer.distributed=true", f"trainer.coordinator_address=localhost:{port}",
         "trainer.num_processes=2", f"trainer.process_id={i}", f"hydra.run.dir={joined}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in range(2)]
    logs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], logs[0][-2000:] + logs[1][-2000:]
    single = subprocess.run([sys.executable, "-m", "gan_jax.train", *base,
                             f"hydra.run.dir={tmp_path / 'one'}"], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert single.returncode == 0, single.stderr[-2000:]

    summary = json.loads((joined / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["step"] == 100
    from gan_jax.training import setup as setup_lib
    from gan_jax.training.checkpoint import Checkpoints

    initial = setup_lib.build(make_cfg(base)).init_state()  # both runs start here (seed 0)
    states = []
    for run in (joined, tmp_path / "one"):
        ckpt = Checkpoints(run / "checkpoints")
        states.append(ckpt.restore(initial))
        ckpt.close()
    two, one = (leaves_with_names(s) for s in states)
    start = leaves_with_names(initial)
    # Training really moved every parameter, so the comparison below cannot pass trivially
    # (Adam moves each weight by up to lr = 2e-4 a step: up to 2e-2 in 100 steps).
    for name in start:
        if name.startswith((".g_params", ".d_params")):
            assert np.abs(one[name] - start[name]).max() > 1e-3, name
    # The cross-process all-reduce sums the two halves of the batch in another order than one
    # process sums the whole batch, so the runs differ by float32 rounding, which training
    # carries forward and amplifies. It stays a tiny fraction of how far training moved each
    # quantity; leaves that did not move at all (step counts, keys) must be equal.
    # Measured on a 2-core x86-64 CI machine: the largest ratio over all leaves was 2.6e-6 with
    # an earlier JAX; with jax 0.10.2 it is 1.6e-3 (median over leaves 8.6e-5), the reductions
    # summing in another order. A real fault (a process training on its half of the batch alone,
    # or on other examples) moves leaves by a ratio of order 0.1-1, so the bound below, 1e-2 for
    # the worst leaf and 1e-3 for the median, still catches it.
    diff = {name: np.abs(two[name] - one[name]).max() for name in start}
    moved = {name: np.abs(one[name] - start[name]).max() for name in start}
    ratios = {name: 0.0 if diff[name] == 0 else diff[name] / moved[name] if moved[name] else np.inf
              for name in start}
    worst = max(ratios, key=ratios.get)
    report = (f"{worst}: max|two - one| = {diff[worst]:.2e}, max|trained - initial| = "
              f"{moved[worst]:.2e}, ratio {ratios[worst]:.2e}")
    assert ratios[worst] <= 1e-2, report
    assert np.median(list(ratios.values())) <= 1e-3, report
    print(f"\nlargest ratio over all leaves: {report}")


def leaves_with_names(tree) -> dict[str, np.ndarray]:
    """Every leaf of a pytree as float64 numpy, keyed by its path (e.g. `.g_params['Dense_0']`)."""
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {jax.tree_util.keystr(path): np.asarray(leaf, np.float64) for path, leaf in flat}


# --- child process ------------------------------------------------------------------------------

def _fake_root(tmp: str) -> str:
    import pathlib

    from tests.conftest import write_fake_fashion_mnist
    return str(write_fake_fashion_mnist(pathlib.Path(tmp) / "fmnist"))


def step_case(case: str, tmp: str) -> dict:
    from gan_jax import parallel
    from gan_jax.training import setup as setup_lib
    from gan_jax.training.state import apply_model, generate
    from gan_jax.training.step import make_train_chunk

    cfg = make_cfg(CASES[case] + [f"data.root={_fake_root(tmp)}"])
    placement = parallel.Placement.over_all_devices()
    single = setup_lib.build(cfg)
    sharded = setup_lib.build(cfg, shard_batch=placement.shard_batch)
    state = single.init_state()
    a, metrics_a = jax.jit(make_train_chunk(single.step, 2))(state, single.data.arrays)
    chunk = jax.jit(make_train_chunk(sharded.step, 2),
                    out_shardings=(placement.replicated, placement.replicated))
    args = (placement.put(state, placement.replicated),
            placement.put(single.data.arrays, placement.replicated))
    compiled = chunk.lower(*args).compile().as_text()
    b, metrics_b = chunk(*args)

    # Where the batch lives inside the step: the sharded program's real batch on each device.
    real = sharded.data.sample(args[1], jax.random.PRNGKey(0), 64)[0]
    split = jax.jit(placement.shard_batch)(real).sharding.shard_shape(real.shape)[0]

    z = single.gan.sample_latent(jax.random.PRNGKey(1), 16)
    x = single.data.sample(single.data.arrays, jax.random.PRNGKey(2), 16)[0]
    critic = lambda s: apply_model(single.gan.discriminator, s.d_params, s.d_state, x,  # noqa: E731
                                   train=False)[0].logits
    return {
        "devices": jax.device_count(),
        "all_reduces": compiled.count("all-reduce"),
        "params_replicated": all(leaf.sharding.is_fully_replicated
                                 for leaf in jax.tree_util.tree_leaves(b.g_params)),
        "batch_split": 64 // split,
        "metrics": {k: [np.asarray(metrics_a[k]).tolist(), np.asarray(metrics_b[k]).tolist()]
                    for k in metrics_a},
        "generator_max_diff": float(jnp.max(jnp.abs(generate(single.gan, a, z)
                                                    - generate(single.gan, b, z)))),
        "critic_max_diff": float(jnp.max(jnp.abs(critic(a) - critic(b)))),
    }


def population_case(tmp: str) -> dict:
    from gan_jax import parallel
    from gan_jax.training import population as population_lib
    from gan_jax.training.step import make_train_chunk

    population = population_lib.build(make_cfg(TINY_RING + ["trainer.population=4",
                                                            "optim.lr=[1e-4,3e-4,1e-3,3e-3]"]))
    placement = parallel.Placement.over_all_devices()
    state, arrays = population.init_state(), population.data.arrays
    a, _ = jax.jit(make_train_chunk(population.step, 20))(state, arrays)
    chunk = jax.jit(make_train_chunk(population.step, 20),
                    out_shardings=(placement.split, placement.replicated))
    b, _ = chunk(placement.put(state, placement.split), placement.put(arrays, placement.replicated))
    leaf = b.g_params["Dense_0"]["kernel"]
    return {"state_split": leaf.shape[0] // leaf.sharding.shard_shape(leaf.shape)[0],
            "max_diff": max(float(jnp.max(jnp.abs(x - y))) for x, y in
                            zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))}


def divides_case(tmp: str) -> dict:
    import pathlib

    from gan_jax.errors import ConfigError
    from gan_jax.training.loop import train

    errors = []
    for extra in (["trainer.batch_size=30"], ["trainer.population=3"]):
        try:
            train(make_cfg(TINY_RING + EVERY_100 + ["trainer.steps=100", "trainer.parallel=data"]
                           + extra), pathlib.Path(tmp) / "run")
        except ConfigError as e:
            errors.append(str(e))
    return {"error": errors[0], "population_error": errors[1],
            "nothing_written": not (pathlib.Path(tmp) / "run").exists()}


if __name__ == "__main__":
    what, *rest = sys.argv[1:]
    result = {"step": step_case, "population": population_case, "divides": divides_case}[what](*rest)
    print(json.dumps(result))
