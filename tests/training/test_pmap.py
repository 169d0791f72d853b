"""trainer.parallel=pmap: per-device replicas (jax.pmap) with gradients averaged by lax.pmean.

With pmap each replica draws its own batch from its own key, so a pmap run and a single-device
run draw different numbers. The equality checks therefore feed both programs the same global
batch: a sampler that ignores the key and gives replica i rows [i*b, (i+1)*b) of a fixed batch,
while the single-device step takes all rows. Where the semantics agree (no batch norm, or batch
norm synchronised over the replicas) the two then train the same model.

As in test_parallel.py, the 4-device checks run in a child process
(`python -m tests.training.test_pmap CASE`) that prints its measurements as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import EVERY_100, ROOT, TINY_DCGAN, TINY_RING, make_cfg

DEVICES = 4
CASES = {"ring": TINY_RING + ["trainer.batch_size=64"],
         "ring_sync_bn": TINY_RING + ["trainer.batch_size=64", "model.g_batch_norm=true",
                                      "trainer.parallel=pmap", "trainer.sync_batch_stats=true"],
         "dcgan_sync_bn": TINY_DCGAN + ["model.d_batch_norm=true", "trainer.parallel=pmap",
                                        "trainer.sync_batch_stats=true"]}


def env() -> dict:
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={DEVICES}"
    return {**os.environ, "XLA_FLAGS": flags.strip(), "HYDRA_FULL_ERROR": "0"}


def child(case: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "tests.training.test_pmap", case, *args],
                         cwd=ROOT, env=env(), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def cli(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env(),
                          capture_output=True, text=True, timeout=600)


# Tolerances: float32 summation order. Without batch norm the two agree to 1e-5. With batch
# norm the statistics (E[x^2] - E[x]^2 over 16 examples, per device then averaged) round
# differently: one device fed the same 16 examples in another order differs from itself by as
# much (d/grad_norm 0.596576 vs 0.596595; the pmap step gives 0.596594), hence 1e-4 there.
RTOL = {"ring": 1e-5, "ring_sync_bn": 1e-4, "dcgan_sync_bn": 1e-4}


@pytest.mark.parametrize("case", ["ring", "ring_sync_bn",
                                  pytest.param("dcgan_sync_bn", marks=pytest.mark.slow)])
def test_pmap_equals_one_device_on_the_same_global_batch(tmp_path, case):
    r = child("equal", case, str(tmp_path))
    assert r["devices"] == DEVICES and r["state_axis"] == DEVICES
    assert r["per_device_batch"] * DEVICES == r["batch"]
    rtol = RTOL[case]
    for name, (single, pmapped) in r["metrics"].items():  # every scalar, both steps
        np.testing.assert_allclose(pmapped, single, rtol=rtol, atol=1e-6, err_msg=name)
    if case == "ring":  # no batch norm: the parameters themselves
        assert r["params_allclose"], r["params_max_abs_diff"]
    assert r["generator_max_diff"] < rtol and r["critic_max_diff"] < rtol, r
    if r["has_batch_stats"]:  # synchronised statistics are those of the global batch
        assert r["stats_rel_diff"]["true"] < 1e-5, r["stats_rel_diff"]
        assert r["stats_rel_diff"]["false"] > 1e-3, r["stats_rel_diff"]  # per device: not


def test_sync_batch_stats_is_read_and_replicas_stay_identical(tmp_path):
    r = child("sync", str(tmp_path))
    # Per-device statistics (16 examples each) train another model than global ones (64).
    assert r["sync_vs_per_device_generator_diff"] > 1e-3, r
    assert r["replicas_identical"] == {"true": True, "false": True}
    assert r["replicas_drew_different_batches"]


def test_bad_batch_size_exits_2_and_writes_nothing(tmp_path):
    run_dir = tmp_path / "run"
    r = cli("gan_jax.train", *TINY_RING, "trainer.batch_size=30", "trainer.parallel=pmap",
            "trainer.progress=false", f"hydra.run.dir={run_dir}")
    assert r.returncode == 2, r.stderr[-2000:]
    assert ("trainer.batch_size=30 must be a multiple of the 4 devices of trainer.parallel=pmap"
            in r.stderr)
    assert "Traceback" not in r.stderr
    written = ("checkpoints", "config.json", "summary.json", "tb")
    assert not any((run_dir / name).exists() for name in written)
    errors = child("refusals", str(tmp_path))
    assert "trainer.parallel=data" in errors["population"]  # suggests the mode that can
    assert "each device's batch, trainer.batch_size / 4 = 6" in errors["per_device_pacgan"], errors
    assert errors["nothing_written"]


@pytest.mark.slow  # four CLI processes on 4 forced devices: about a minute on 2 cores
def test_cli_run_checkpoints_resumes_bit_identically_and_samples(tmp_path):
    base = TINY_RING + EVERY_100 + ["trainer.parallel=pmap", "trainer.progress=false",
                                    "trainer.compile_cache=null", "mitigation=[lecam]"]
    straight, split = tmp_path / "straight", tmp_path / "split"
    for args in ([*base, "trainer.steps=200", f"hydra.run.dir={straight}"],
                 [*base, "trainer.steps=100", f"hydra.run.dir={split}"],
                 [*base, "trainer.steps=200", "trainer.resume=true", f"hydra.run.dir={split}"]):
        r = cli("gan_jax.train", *args)
        assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((split / "summary.json").read_text())["step"] == 200

    import jax

    from gan_jax.training import setup as setup_lib
    from gan_jax.training.checkpoint import Checkpoints

    # The checkpoint holds one replica: the state of a single run, restorable without pmap.
    template = setup_lib.build(make_cfg(base)).init_state()
    states = []
    for run in (straight, split):
        ckpt = Checkpoints(run / "checkpoints")
        states.append(ckpt.restore(template))
        ckpt.close()
    assert int(states[0].step) == int(states[1].step) == 200
    for x, y in zip(*map(jax.tree_util.tree_leaves, states)):
        assert np.array_equal(np.asarray(x), np.asarray(y))  # bit for bit
    r = cli("gan_jax.sample", f"run_dir={split}", "n=16")
    assert r.returncode == 0, r.stderr[-2000:]
    assert (split / "samples" / "step200_n16.png").is_file()


@pytest.mark.slow  # three processes: about a minute and a half on 2 cores
def test_two_processes_equal_two_local_devices(tmp_path):
    """Multi-host pmap: two processes (1 CPU device each, gloo) map over their local device and
    pmean across both; the run equals one process mapping over 2 devices (replica i draws with
    index i either way)."""
    from tests.training.test_parallel import free_port

    base = TINY_RING + ["trainer.steps=20", "trainer.log_every=10", "trainer.sample_every=10",
                        "trainer.eval_every=10", "trainer.checkpoint_every=10",
                        "trainer.eval_samples=100", "trainer.parallel=pmap",
                        "trainer.progress=false", "trainer.compile_cache=null"]
    port, joined = free_port(), tmp_path / "two"
    one_device = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    procs = [subprocess.Popen(
        [sys.executable, "-m", "gan_jax.train", *base, "trainer.distributed=true",
         f"trainer.coordinator_address=localhost:{port}", "trainer.num_processes=2",
         f"trainer.process_id={i}", f"hydra.run.dir={joined}"],
        cwd=ROOT, env=one_device, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for i in range(2)]
    logs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], logs[0][-2000:] + logs[1][-2000:]
    two_devices = {**one_device, "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} "
                                              f"--xla_force_host_platform_device_count=2".strip()}
    single = subprocess.run([sys.executable, "-m", "gan_jax.train", *base,
                             f"hydra.run.dir={tmp_path / 'one'}"], cwd=ROOT, env=two_devices,
                            capture_output=True, text=True, timeout=600)
    assert single.returncode == 0, single.stderr[-2000:]

    import jax

    from gan_jax.training import setup as setup_lib
    from gan_jax.training.checkpoint import Checkpoints

    template = setup_lib.build(make_cfg(base)).init_state()
    states = []
    for run in (joined, tmp_path / "one"):
        ckpt = Checkpoints(run / "checkpoints")
        states.append(ckpt.restore(template))
        ckpt.close()
    assert int(states[0].step) == 20
    for x, y in zip(*map(jax.tree_util.tree_leaves, states)):  # a mean of two: order-free
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-6, atol=1e-7)


# --- child process ------------------------------------------------------------------------------

def _cfg(overrides: list[str], tmp: str) -> dict:
    import pathlib

    from tests.conftest import write_fake_fashion_mnist
    if "model=dcgan" not in overrides:
        return make_cfg(overrides)
    root = write_fake_fashion_mnist(pathlib.Path(tmp) / "fmnist")
    return make_cfg(overrides + [f"data.root={root}"])


def _fixed_batch_steps(setup, replicas_setup, replicas, cfg):
    """Single-device and one-replica steps that read the same fixed global batch, ignoring keys."""
    import dataclasses

    import jax

    from gan_jax import losses
    from gan_jax.models import GAN
    from gan_jax.training.step import make_train_step

    batch = int(cfg["trainer"]["batch_size"])
    real = setup.data.sample(setup.data.arrays, jax.random.PRNGKey(7), batch)[0]
    z = setup.gan.sample_latent(jax.random.PRNGKey(8), batch)

    def rows(x, n):  # replica i's rows of the fixed batch; all of them on one device
        start = jax.lax.axis_index(replicas.axis_name) * n if n < batch else 0
        return jax.lax.dynamic_slice_in_dim(x, start, n)

    @dataclasses.dataclass(frozen=True)
    class FixedLatents(GAN):
        def sample_latent(self, key, n):
            return rows(z, n)

    def build(s, n, axis_name):
        gan = FixedLatents(s.gan.generator, s.gan.discriminator, s.gan.latent_dim)
        sample_data = lambda data, key, m: (rows(real, m), None)  # noqa: E731
        return make_train_step(gan, losses.get(cfg["loss"]["name"]), sample_data, s.g_opt,
                               s.d_opt, n, int(cfg["optim"]["n_critic"]),
                               float(cfg["optim"]["ema_decay"]), s.pieces, axis_name=axis_name)

    return (build(setup, batch, None),
            build(replicas_setup, replicas.per_device(batch), replicas.axis_name))


def _statistics(gan, state, z, x):
    """The batch-norm running averages after one training-mode call of G on z and D on x."""
    from gan_jax.training.state import apply_model

    g = apply_model(gan.generator, state.g_params, state.g_state, z, train=True)[1]
    d = apply_model(gan.discriminator, state.d_params, state.d_state, x, train=True)[1]
    return g, d


def _max_rel_diff(a, b) -> float:
    import jax

    pairs = zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b))
    return max((float(np.max(np.abs(np.asarray(p) - np.asarray(q))) / (np.max(np.abs(p)) + 1e-12))
                for p, q in pairs), default=0.0)


def equal_case(case: str, tmp: str) -> dict:
    import functools

    import jax
    import jax.numpy as jnp

    from gan_jax import parallel
    from gan_jax.training import setup as setup_lib
    from gan_jax.training.state import apply_model
    from gan_jax.training.step import make_train_chunk

    cfg = _cfg(CASES[case], tmp)
    batch = int(cfg["trainer"]["batch_size"])
    replicas = parallel.placement({**cfg["trainer"], "parallel": "pmap"})
    single, per_replica = setup_lib.build(cfg), setup_lib.build(cfg, replicas=replicas)
    step_single, step_replica = _fixed_batch_steps(single, per_replica, replicas, cfg)
    state, arrays = single.init_state(), single.data.arrays

    # Two steps each, one compiled call per step.
    run_single = jax.jit(make_train_chunk(step_single, 1))
    run_replicas = replicas.compile(make_train_chunk(step_replica, 1))
    replicated = replicas.replicate(state)
    state_axis = jax.tree_util.tree_leaves(replicated)[0].shape[0]
    a, b, metrics_a, metrics_b = state, replicated, [], []
    for _ in range(2):
        a, m = run_single(a, arrays)
        metrics_a.append(m)
        b, m = run_replicas(b, replicas.put(arrays, replicas.replicated))
        metrics_b.append(m)
    b = replicas.unreplicate(b)
    metrics = {k: [[float(m[k][0]) for m in metrics_a], [float(m[k][0]) for m in metrics_b]]
               for k in metrics_a[0]}

    z = single.gan.sample_latent(jax.random.PRNGKey(1), batch)
    x = single.data.sample(arrays, jax.random.PRNGKey(2), batch)[0]

    # The trained functions, in training mode (statistics of the batch): a bias just before a
    # batch norm cancels there, so Adam's amplified noise in it (see below) does not show.
    def functions(s):
        fake = apply_model(single.gan.generator, s.g_params, s.g_state, z, train=True)[0]
        critic = apply_model(single.gan.discriminator, s.d_params, s.d_state, x, train=True)[0]
        return fake, critic.logits

    (fake_a, logits_a), (fake_b, logits_b) = functions(a), functions(b)
    params = list(zip(jax.tree_util.tree_leaves((a.g_params, a.d_params)),
                      jax.tree_util.tree_leaves((b.g_params, b.d_params))))

    # Batch statistics on their own: the global batch on one device, against its 4 shards on 4
    # replicas whose batch norms average over the replicas (or, for contrast, do not).
    shards = lambda t: t.reshape(DEVICES, -1, *t.shape[1:])  # noqa: E731
    stats_single = _statistics(single.gan, state, z, x)
    stats = {}
    for sync in (True, False):
        r = parallel.placement({**cfg["trainer"], "parallel": "pmap", "sync_batch_stats": sync})
        gan = setup_lib.build(cfg, replicas=r).gan
        statistics = functools.partial(_statistics, gan, state)
        mapped = jax.pmap(statistics, parallel.AXIS)(shards(z), shards(x))
        stats[str(sync).lower()] = _max_rel_diff(stats_single, replicas.unreplicate(mapped))
    return {
        "devices": jax.device_count(), "state_axis": state_axis, "batch": batch,
        "per_device_batch": replicas.per_device(batch), "metrics": metrics,
        # Adam makes step one's update about lr * sign(gradient): tiny gradients (biases at zero)
        # turn float rounding into ~1e-9 differences of ~4e-4 values, hence the atol.
        "params_allclose": all(np.allclose(q, p, rtol=1e-5, atol=1e-7) for p, q in params),
        "params_max_abs_diff": max(float(jnp.max(jnp.abs(p - q))) for p, q in params),
        "generator_max_diff": float(jnp.max(jnp.abs(fake_a - fake_b))),
        "critic_max_diff": float(jnp.max(jnp.abs(logits_a - logits_b))),
        "has_batch_stats": bool(jax.tree_util.tree_leaves((state.g_state, state.d_state))),
        "stats_rel_diff": stats,
    }


def sync_case(tmp: str) -> dict:
    import jax
    import jax.numpy as jnp

    from gan_jax import parallel
    from gan_jax.training import setup as setup_lib
    from gan_jax.training.state import generate
    from gan_jax.training.step import make_train_chunk

    cfg = _cfg(CASES["ring_sync_bn"], tmp)  # batch norm in G; 16 examples per device
    trained, identical = {}, {}
    for sync in (True, False):
        replicas = parallel.placement({**cfg["trainer"], "parallel": "pmap", "sync_batch_stats": sync})
        s = setup_lib.build(cfg, replicas=replicas)
        state, _ = replicas.compile(make_train_chunk(s.step, 5))(
            replicas.replicate(s.init_state()), replicas.put(s.data.arrays, replicas.replicated))
        identical[str(sync).lower()] = all(
            bool(np.all(np.asarray(leaf) == np.asarray(leaf)[:1]))
            for leaf in jax.tree_util.tree_leaves(state))
        trained[sync] = replicas.unreplicate(state)

    # Each replica draws its own batch (its index is folded into the step key): had they all
    # drawn replica 0's, 4 replicas would compute exactly what 1 replica computes alone.
    one_step = make_train_chunk(s.step, 1)
    alone = jax.pmap(one_step, parallel.AXIS, in_axes=(0, None))(
        jax.tree_util.tree_map(lambda leaf: leaf[None], s.init_state()), s.data.arrays)[1]
    together = replicas.compile(one_step)(replicas.replicate(s.init_state()),
                                          replicas.put(s.data.arrays, replicas.replicated))[1]
    z = s.gan.sample_latent(jax.random.PRNGKey(1), 16)
    return {
        "sync_vs_per_device_generator_diff": float(jnp.max(jnp.abs(
            generate(s.gan, trained[True], z) - generate(s.gan, trained[False], z)))),
        "replicas_identical": identical,
        "replicas_drew_different_batches": float(alone["d/loss"][0, 0]) != float(together["d/loss"][0]),
    }


def refusals_case(tmp: str) -> dict:
    import pathlib

    from gan_jax.errors import ConfigError
    from gan_jax.training.loop import train

    run = pathlib.Path(tmp) / "refused"
    errors = {}
    for name, extra in (("population", TINY_RING + ["trainer.population=4"]),
                        # 24 / 4 devices = 6 per device, which pacgan's m=4 does not divide
                        ("per_device_pacgan", TINY_DCGAN + ["mitigation=[pacgan]",
                                                            "mitigation.pacgan.m=4",
                                                            "trainer.batch_size=24"])):
        try:
            pmap = ["trainer.parallel=pmap", "trainer.progress=false"]
            train(_cfg(extra + EVERY_100 + pmap, tmp), run)
        except ConfigError as e:
            errors[name] = str(e)
    return {**errors, "nothing_written": not run.exists()}


if __name__ == "__main__":
    what, *rest = sys.argv[1:]
    result = {"equal": equal_case, "sync": sync_case, "refusals": refusals_case}[what](*rest)
    print(json.dumps(result))
