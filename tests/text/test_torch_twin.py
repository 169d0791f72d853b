"""The eager PyTorch twin of RelGAN (scripts/torch_relgan.py, the reference of
scripts/bench_text.py): from gan_jax's weights it computes gan_jax's G (teacher-forced and, with
the same Gumbel noise, free-running) and D, and its maximum-likelihood steps follow gan_jax's.
Skipped where PyTorch is not importable (gan_jax's .venv; `pip install -e ".[bench]"` adds it)."""

import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.models import relgan
from gan_jax.training import setup as setup_lib
from gan_jax.training.text_phases import tokens_of
from tests.conftest import ROOT, TINY_TEXT, make_cfg

torch = pytest.importorskip("torch")
spec = importlib.util.spec_from_file_location("torch_relgan", ROOT / "scripts" / "torch_relgan.py")
twin_lib = importlib.util.module_from_spec(spec)
spec.loader.exec_module(twin_lib)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """PyTorch's threads and XLA's in one process: once XLA has run, torch's second thread waits
    on cores XLA's pool holds, and the tiny twin runs 100 times slower (seconds -> a minute)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tensor(x) -> "torch.Tensor":
    return torch.tensor(np.array(x))


def load_dense(layer, p: dict) -> None:
    layer.weight.copy_(tensor(p["kernel"]).T)
    if "bias" in p:
        layer.bias.copy_(tensor(p["bias"]))


def load_norm(layer, p: dict) -> None:
    layer.weight.copy_(tensor(p["scale"]))
    layer.bias.copy_(tensor(p["bias"]))


@torch.no_grad()
def load_generator(G, p: dict) -> None:
    G.embed.weight.copy_(tensor(p["embed"]["embedding"]))
    load_dense(G.out, p["out"])
    for name, q in p["core"].items():
        (load_norm if name.endswith("_norm") else load_dense)(getattr(G.core, name), q)


@torch.no_grad()
def load_discriminator(D, p: dict) -> None:
    trunk = p["trunk"]
    D.embed.copy_(tensor(trunk["embed"]))
    for k, conv in D.convs.items():
        # flax [k, in, out] -> torch [out, in, k]
        conv.weight.copy_(tensor(trunk[f"conv_{k}"]["kernel"]).permute(2, 1, 0))
        conv.bias.copy_(tensor(trunk[f"conv_{k}"]["bias"]))
    load_dense(D.highway.transform, trunk["Highway_0"]["transform"])
    load_dense(D.highway.gate, trunk["Highway_0"]["gate"])
    load_dense(D.fc, trunk["fc"])
    load_dense(D.head, p["head"])


def twin_of(cfg, setup, state):
    m, o = cfg["model"], cfg["optim"]
    twin = twin_lib.RelGANTwin(
        np.asarray(setup.data.arrays["x"]), setup.data.shape[1], cfg["trainer"]["batch_size"],
        m["embed_dim"], m["mem_slots"], m["head_size"], m["num_heads"], m["d_embed_dim"],
        m["representations"], m["num_filters"], o["n_critic"], o["lr"], m["pretrain_lr"],
        (o["beta1"], o["beta2"]), o["clip_norm"])
    load_generator(twin.G, state.g_params)
    load_discriminator(twin.D, state.d_params)
    return twin


@pytest.fixture(scope="module")
def tiny():
    cfg = make_cfg(TINY_TEXT + ["optim.clip_norm=5.0", "model.pretrain_lr=1e-3"])
    setup = setup_lib.build(cfg)
    state = setup.init_state()
    return cfg, setup, state, twin_of(cfg, setup, state)


def test_the_twin_computes_gan_jax_s_networks(tiny):
    # Catches: a layer, its order, a transposed kernel, the attention's scale or split, the gates'
    # +1 forget bias, the Gumbel relaxation or the hard next input, D's split of the embedding
    # into representations, the convolutions' layout or the highway differing from gan_jax's.
    cfg, setup, state, twin = tiny
    G, D = setup.gan.generator, setup.gan.discriminator
    tokens = setup.data.arrays["x"][:8]
    nll = G.apply({"params": state.g_params, **state.g_state}, tokens, method=G.nll)
    with torch.no_grad():
        ours = twin.G.nll(torch.tensor(np.asarray(tokens), dtype=torch.long))
    np.testing.assert_allclose(ours.numpy(), np.asarray(nll), atol=1e-5, rtol=1e-5)

    # Free-running, at beta 3, with gan_jax's Gumbel noise for each sentence and step.
    n, (length, vocab) = 8, setup.data.shape
    z = setup.gan.sample_latent(jax.random.PRNGKey(3), n)
    keys = relgan.keys_of(z)
    noise = jnp.stack([jax.vmap(lambda k, t=t: jax.random.gumbel(jax.random.fold_in(k, t), (vocab,)))(keys)
                       for t in range(length)], axis=1)
    g_state = {"schedule": {"inverse_temperature": jnp.float32(3.0)}}
    fake = G.apply({"params": state.g_params, **g_state}, z, train=True)
    with torch.no_grad():
        ours = twin.G(n, 3.0, noise=tensor(noise))
    np.testing.assert_allclose(ours.numpy(), np.asarray(fake), atol=1e-5)

    x = jnp.concatenate([fake, setup.data.sample(setup.data.arrays, jax.random.PRNGKey(4), n)[0]])
    logits = D.apply({"params": state.d_params}, x, train=True).logits
    assert logits.shape == (2 * n, cfg["model"]["representations"])
    with torch.no_grad():
        ours = twin.D(tensor(x))
    np.testing.assert_allclose(ours.numpy(), np.asarray(logits), atol=1e-5, rtol=1e-5)


def assert_same_grads(G, grads: dict) -> None:
    """The twin G's .grad against gan_jax's gradient tree, entry by entry."""
    expected = type(G)(G.seq_len, *G.embed.weight.shape, G.core.mem_slots, G.core.head_size,
                       G.core.num_heads)
    load_generator(expected, grads)  # gan_jax's gradient, laid out as the twin's parameters
    for (name, p), want in zip(G.named_parameters(), expected.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), want.detach().numpy(), atol=1e-6, rtol=1e-4,
                                   err_msg=name)


def test_the_twin_s_gradients_are_gan_jax_s(tiny):
    # Catches: a gradient path that differs: the hard next input taking gradient, the relaxed
    # one-hot's beta, D's graph in G's update, the teacher forcing of the NLL.
    cfg, setup, state, _ = tiny
    twin = twin_of(cfg, setup, state)
    G, D = setup.gan.generator, setup.gan.discriminator
    tokens = setup.data.arrays["x"][:8]

    def nll(g_params):
        return jnp.mean(G.apply({"params": g_params, **state.g_state}, tokens, method=G.nll))

    twin.G.nll(torch.tensor(np.asarray(tokens), dtype=torch.long)).mean().backward()
    assert_same_grads(twin.G, jax.grad(nll)(state.g_params))

    n, (length, vocab) = 8, setup.data.shape
    z = setup.gan.sample_latent(jax.random.PRNGKey(5), n)
    noise = jnp.stack([jax.vmap(lambda k, t=t: jax.random.gumbel(jax.random.fold_in(k, t), (vocab,)))(
        relgan.keys_of(z)) for t in range(length)], axis=1)
    real = setup.data.sample(setup.data.arrays, jax.random.PRNGKey(6), n)[0]
    g_state = {"schedule": {"inverse_temperature": jnp.float32(2.0)}}

    def g_loss(g_params):  # RSGAN's G loss, as training/step.py's g_objective computes it
        fake = G.apply({"params": g_params, **g_state}, z, train=True)
        logit = lambda x: D.apply({"params": state.d_params}, x, train=True).logits  # noqa: E731
        return jnp.mean(jax.nn.softplus(logit(real) - logit(fake)))

    twin.G.zero_grad(set_to_none=True)
    torch_loss = torch.nn.functional.softplus(twin.D(tensor(real)) - twin.D(twin.G(n, 2.0, tensor(noise))))
    torch_loss.mean().backward()
    assert_same_grads(twin.G, jax.grad(g_loss)(state.g_params))


def test_the_twin_s_maximum_likelihood_steps_follow_gan_jax_s(tiny):
    # Catches: a different loss or learning rate in the MLE phase. Two steps only: a few of G's
    # gradients are zero but for rounding (the attention's key bias: softmax ignores a shift
    # common to all keys), Adam's first update turns their rounding into steps of +-lr, and the
    # losses part by 1e-3 from the third step on.
    cfg, setup, state, _ = tiny
    twin = twin_of(cfg, setup, state)
    mle = jax.jit(setup.schedule()[0].step)
    batch = cfg["trainer"]["batch_size"]
    for _ in range(2):
        real, _ = setup.data.sample(setup.data.arrays, jax.random.fold_in(state.key, state.step), batch)
        ours = twin.mle_step(torch.tensor(np.asarray(tokens_of(real)), dtype=torch.long))
        state, theirs = mle(state, setup.data.arrays)
        assert ours["mle/nll"] == pytest.approx(float(theirs["mle/nll"]), rel=1e-5)


def test_the_twin_trains():
    # Catches: a twin whose NLL does not fall or whose adversarial step is not finite (what
    # scripts/bench_text.py --check runs on the full sizes).
    setup = setup_lib.build(make_cfg(TINY_TEXT))
    twin = twin_lib.RelGANTwin(np.asarray(setup.data.arrays["x"]), setup.data.shape[1], batch_size=16,
                               embed_dim=8, head_size=8, d_embed_dim=4, representations=2, num_filters=4)
    report = twin_lib.check_trains(twin, mle_steps=40, adversarial_steps=2, window=5)
    assert report["finite"] and report["ok"], report
