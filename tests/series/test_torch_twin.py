"""The eager PyTorch twin of TimeGAN's joint step (scripts/torch_timegan.py, the reference of
scripts/bench_series.py): from the same weights and batches it computes gan_jax's joint step,
and from its own start it trains. Skipped where PyTorch is not importable (gan_jax's .venv;
`pip install -e ".[bench]"` adds it)."""

import copy
import importlib.util
import math

import jax
import numpy as np
import pytest

from gan_jax.training import setup as setup_lib
from tests.conftest import ROOT, TINY_SERIES, make_cfg

torch = pytest.importorskip("torch")
spec = importlib.util.spec_from_file_location("torch_timegan", ROOT / "scripts" / "torch_timegan.py")
twin_lib = importlib.util.module_from_spec(spec)
spec.loader.exec_module(twin_lib)

# Two generator iterations, as the authors', and lr 1e-3 so that three steps move the weights.
OVERRIDES = ["optim.n_generator=2", "optim.lr=1e-3", "optim.beta1=0.9"]
GATES = {"gru": (("ir", "iz", "in"), ("hr", "hz", "hn")),
         "lstm": (("ii", "if", "ig", "io"), ("hi", "hf", "hg", "ho"))}


def load_flax(net, params: dict, cell: str) -> None:
    """Copy one flax `Recurrent`'s parameters into the twin's: gates stacked in torch's order,
    kernels transposed, the biases flax lacks at zero."""
    inputs, hidden = GATES[cell]
    layers = sorted(k for k in params if k != "Dense_0")

    def stacked(p: dict, gates, leaf: str) -> torch.Tensor:
        return torch.cat([torch.tensor(np.asarray(p[g][leaf])).t() if leaf in p[g]
                          else torch.zeros(net.rnn.hidden_size) for g in gates])

    with torch.no_grad():
        for i, name in enumerate(layers):
            for side, gates in (("ih", inputs), ("hh", hidden)):
                getattr(net.rnn, f"weight_{side}_l{i}").copy_(stacked(params[name], gates, "kernel"))
                getattr(net.rnn, f"bias_{side}_l{i}").copy_(stacked(params[name], gates, "bias"))
        net.head.weight.copy_(torch.tensor(np.asarray(params["Dense_0"]["kernel"])).T)
        net.head.bias.copy_(torch.tensor(np.asarray(params["Dense_0"]["bias"])))

def jax_draws(setup, state, n_generator: int):
    """The (x, noise) batches gan_jax's joint step draws at `state.step`, in its order."""
    gan, batch = setup.gan, int(setup.cfg["trainer"]["batch_size"])
    keys = jax.random.split(jax.random.fold_in(state.key, state.step), n_generator + 1)
    out = []
    for key in keys:
        kx, kz = jax.random.split(key)
        x = setup.data.sample(setup.data.arrays, kx, batch)[0]
        z = gan.sample_latent(kz, batch)
        noise = gan.generator.noise(z)
        out.append((torch.tensor(np.asarray(x)), torch.tensor(np.asarray(noise))))
    return iter(out)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_the_twin_computes_the_joint_step_of_gan_jax(cell):
    # Catches: a network, loss term, weight, optimizer slot or update order of the twin that
    # differs from gan_jax's joint step (the losses of later steps would part), and the torch
    # biases flax lacks taking gradient (the effective biases would move twice as far).
    cfg = make_cfg(TINY_SERIES + OVERRIDES + [f"model.cell={cell}"])
    setup = setup_lib.build(cfg)
    state = setup.init_state()
    m, o = cfg["model"], cfg["optim"]
    twin = twin_lib.TimeGANTwin(
        np.asarray(setup.data.arrays["x"]), cfg["trainer"]["batch_size"], m["hidden_dim"],
        m["num_layers"], cell, gamma=m["gamma"], d_threshold=m["d_threshold"],
        n_generator=o["n_generator"], lr=o["lr"], betas=(o["beta1"], o["beta2"]))
    for name in ("embedder", "recovery", "generator", "supervisor"):
        load_flax(getattr(twin, name), state.g_params[name], cell)
    load_flax(twin.critic, state.d_params["Recurrent_0"], cell)
    joint = jax.jit(setup.schedule()[-1].step)
    for _ in range(3):
        draws = jax_draws(setup, state, o["n_generator"])
        ours = twin.joint_step(draws.__next__)
        state, theirs = joint(state, setup.data.arrays)
        assert set(ours) == set(theirs)
        for k in ours:
            assert float(ours[k]) == pytest.approx(float(theirs[k]), rel=1e-4, abs=1e-6), k
    assert float(theirs["d/updated"]) == 1.0  # D's update ran (its loss is far above 0.15)
    # The weights agree too: after three steps of Adam, each has moved by about 3 lr = 3e-3.
    nets = [(getattr(twin, n), state.g_params[n]) for n in ("embedder", "recovery", "generator",
                                                           "supervisor")]
    for net, params in [*nets, (twin.critic, state.d_params["Recurrent_0"])]:
        expected = copy.deepcopy(net)
        load_flax(expected, params, cell)
        for (name, a), b in zip(net.state_dict().items(), expected.state_dict().values()):
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5, err_msg=name)

def test_the_twin_trains():
    # Catches: a twin that diverges or whose autoencoder does not learn in the joint phase
    # (what scripts/bench_series.py --check runs on the full sizes).
    data = np.asarray(setup_lib.build(make_cfg(TINY_SERIES)).data.arrays["x"])
    twin = twin_lib.TimeGANTwin(data, batch_size=16, hidden=8, layers=1)
    report = twin_lib.check_trains(twin, steps=120, window=10)
    assert report["finite"] and all(math.isfinite(v) for v in report["last"].values())
    assert report["rmse_last"] < 0.8 * report["rmse_first"], report
    assert report["ok"]
