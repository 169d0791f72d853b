"""Every loss x every mitigation in the real step: each mitigation changes the update it claims
to change, and leaves alone what it claims not to touch.

A cell trains one step from the same state and key with and without the mitigation. The step is
the real one, assembled by `setup.build` from the composed config, with the configured optimizers
wrapped by `recording`, which keeps the gradient each player's optimizer is given in its state;
after the step `state.d_opt.grads` is the gradient of D's objective, `state.g_opt.grads` G's.
(Comparing updates instead would hide most changes: Adam's first update is about lr * sign(g).)

What the mitigations claim (CLAIMS):
  d      D's objective only (penalties, regularisers, label smoothing): D's gradient changes; G's
         gradient does not. D's update is set to zero in these cells, so G's half of the step
         sees the same D with and without the mitigation (otherwise G's gradient would change
         only because D had moved differently).
  g      G's objective only (feature matching, unrolling): G's gradient changes; D's does not
         (D's update comes first in the step, from the same state and key). D's optimizer is the
         configured one here: unrolling differentiates through its look-ahead updates.
  both   every D input (instance noise, DiffAugment): both gradients change (D frozen, as for d).
  model  the networks (spectral norm, packing, minibatch layers): D's variables change (shapes or
         collections) and G's do not; what each change does to D's outputs is tested below.

The fast suite runs every mitigation with the non-saturating loss on the 2D ring and the model
checks on the ring's MLP; the slow suite runs the rest of the loss x mitigation matrix on the
ring, every mitigation on a tiny DCGAN and a tiny ResNet, and all of them at once with every
loss on the DCGAN (with hinge on the ResNet).
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple
from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gan_jax import losses, mitigations
from gan_jax.mitigations.architecture import sigmas
from gan_jax.training import setup as setup_lib
from gan_jax.training.state import apply_model
from tests.conftest import TINY_DCGAN, TINY_RING, make_cfg, write_fake_fashion_mnist

CLAIMS = {
    "wgan_gp": "d", "r1": "d", "r2": "d", "dragan": "d", "lecam": "d", "bcr": "d",
    "label_smoothing": "d",
    "feature_matching": "g", "unrolled": "g",
    "instance_noise": "both", "diffaugment": "both",
    "spectral_norm": "model", "pacgan": "model", "minibatch_std": "model",
    "minibatch_discrimination": "model",
}
EXTRA = {"unrolled": ["mitigation.unrolled.steps=1"]}
POINT_MITIGATIONS = [m for m in mitigations.BUILDERS if m != "diffaugment"]  # diffaugment: images
TINY_RESNET = ["model=resnet", "model.g_width=8", "model.d_width=8", "model.latent_dim=8",
               "trainer.batch_size=16"]
FAST_LOSS = "non_saturating"

# A gradient "changes" when max |with - without| over all its leaves exceeds CHANGED times
# max |without|; it is "the same" below SAME times that. The same arithmetic compiled into
# another program may round differently, which SAME allows (measured: the unchanged gradients
# are bit-for-bit equal); a claimed change must be 100 times larger than that. Run with -s to
# see each cell's numbers.
CHANGED, SAME = 1e-4, 1e-6


class Recorded(NamedTuple):
    inner: Any     # the wrapped optimizer's state
    grads: Any     # the gradient of the last update


def recording(opt: optax.GradientTransformation) -> optax.GradientTransformation:
    """`opt`, also keeping the last gradient it was given in its state."""
    def init(params):
        return Recorded(opt.init(params), jax.tree_util.tree_map(jnp.zeros_like, params))

    def update(grads, state, params=None):
        updates, inner = opt.update(grads, state.inner, params)
        return updates, Recorded(inner, grads)

    return optax.GradientTransformation(init, update)


class Step(NamedTuple):
    setup: Any
    initial: Any      # the state before the step
    d_grad: Any       # gradient of D's objective in the step
    g_grad: Any       # gradient of G's objective in the step
    metrics: dict


def one_step(overrides: tuple[str, ...], move_d: bool) -> Step:
    """One real step of the composed config, recording both players' gradients; D's update is
    the configured one when `move_d`, else zero."""
    configured, built = setup_lib.optim.build, []

    def build_optimizers(*args, **kwargs):
        g_opt, d_opt = configured(*args, **kwargs)
        built[:] = [recording(g_opt), recording(d_opt if move_d else optax.set_to_zero())]
        return tuple(built)

    with mock.patch.object(setup_lib.optim, "build", build_optimizers):
        s = setup_lib.build(make_cfg(list(overrides)))
    assert [s.g_opt, s.d_opt] == built  # the step really records its gradients
    state = s.init_state()
    new, metrics = jax.jit(s.step)(state, s.data.arrays)
    metrics = jax.device_get(metrics)
    bad = {k: v for k, v in metrics.items() if not np.isfinite(v)}
    assert not bad, bad
    return Step(s, state, new.d_opt.grads, new.g_opt.grads, metrics)


@functools.lru_cache(maxsize=None)
def plain_step(overrides: tuple[str, ...], move_d: bool) -> Step:
    """The step without mitigations, shared by every cell of a model and loss."""
    return one_step(overrides, move_d)


def leaves(tree) -> list[np.ndarray]:
    return [np.asarray(x, np.float64) for x in jax.tree_util.tree_leaves(tree)]


def relative_change(new, old) -> float:
    """max |new - old| over all leaves of two gradients, relative to max |old|."""
    a, b = leaves(new), leaves(old)
    assert jax.tree_util.tree_structure(new) == jax.tree_util.tree_structure(old)
    scale = max(np.abs(x).max() for x in b)
    assert scale > 0, "the plain gradient is zero: nothing to compare against"
    return max(np.abs(x - y).max() for x, y in zip(a, b)) / scale


def variable_shapes(params, collections) -> list[tuple[str, tuple[int, ...]]]:
    flat = jax.tree_util.tree_flatten_with_path({"params": params, **collections})[0]
    return [(jax.tree_util.keystr(path), tuple(np.shape(x))) for path, x in flat]


def check_cell(base: list[str], name: str) -> None:
    """One mitigation against the plain step of the same model and loss (see CLAIMS)."""
    claim = CLAIMS[name]
    plain = plain_step(tuple(base), claim == "g")
    run = one_step(tuple(base + [f"mitigation=[{name}]"] + EXTRA.get(name, [])), claim == "g")
    assert any(k.startswith(f"mitigation/{name}/") for k in run.metrics), sorted(run.metrics)
    if claim == "model":
        d_vars = [variable_shapes(s.initial.d_params, s.initial.d_state) for s in (run, plain)]
        g_vars = [variable_shapes(s.initial.g_params, s.initial.g_state) for s in (run, plain)]
        assert d_vars[0] != d_vars[1], "D's variables are those of the plain D"
        assert g_vars[0] == g_vars[1], "G's variables changed"
        return
    d = relative_change(run.d_grad, plain.d_grad)
    g = relative_change(run.g_grad, plain.g_grad)
    print(f"{name:>18} {' '.join(base[-1:])}: D gradient changed {d:.1e}, G gradient {g:.1e}")
    if claim in ("d", "both"):
        assert d > CHANGED, f"{name} claims to change D's update; relative change {d:.1e}"
    else:
        assert d <= SAME, f"{name} claims not to touch D's update; relative change {d:.1e}"
    if claim in ("g", "both"):
        assert g > CHANGED, f"{name} claims to change G's update; relative change {g:.1e}"
    else:
        assert g <= SAME, f"{name} claims not to touch G's update (same D); relative change {g:.1e}"


def test_every_mitigation_states_its_claim():
    assert set(CLAIMS) == set(mitigations.BUILDERS)


def compatible(loss: str, name: str) -> bool:
    return not (loss == "wgan_gp" and name == "wgan_gp")  # the loss has the penalty built in


# CI runs non_saturating (fast) and wasserstein (slow); the other losses' cells are the
# opt-in full matrix (`pytest -m matrix`, about 40 min on 2 cores with the ResNet cells below).
CI_LOSSES = ("wasserstein",)
FULL_MATRIX = [pytest.mark.slow, pytest.mark.matrix]
LOSS_CELLS = [pytest.param(loss, marks=[] if loss == FAST_LOSS else
                           [pytest.mark.slow] if loss in CI_LOSSES else FULL_MATRIX)
              for loss in losses.LOSSES]


@pytest.mark.parametrize("loss", LOSS_CELLS)
@pytest.mark.parametrize("name", POINT_MITIGATIONS)
def test_mitigation_changes_what_it_claims_on_the_ring(loss, name):
    if not compatible(loss, name):
        pytest.skip("loss=wgan_gp already includes the wgan_gp penalty")
    check_cell(TINY_RING + [f"loss={loss}"], name)


@pytest.fixture(scope="module")
def image_root(tmp_path_factory) -> str:
    return str(write_fake_fashion_mnist(tmp_path_factory.mktemp("fmnist")))


IMAGE_MODELS = {"dcgan": TINY_DCGAN, "resnet": TINY_RESNET}


@pytest.mark.slow
@pytest.mark.parametrize("model", [pytest.param("dcgan"), pytest.param("resnet", marks=FULL_MATRIX)])
@pytest.mark.parametrize("name", list(mitigations.BUILDERS))
def test_mitigation_changes_what_it_claims_on_images(model, name, image_root):
    # One loss per model, the one the architecture is usually trained with; the loss x
    # mitigation pairs on images are covered by the all-at-once test below.
    loss = {"dcgan": "non_saturating", "resnet": "hinge"}[model]
    check_cell(IMAGE_MODELS[model] + [f"data.root={image_root}", f"loss={loss}"], name)


@pytest.mark.slow
@pytest.mark.parametrize("model,loss", [("dcgan", "non_saturating"), ("dcgan", "wasserstein"),
                                        pytest.param("dcgan", "ragan_hinge", marks=FULL_MATRIX),
                                        pytest.param("resnet", "hinge", marks=FULL_MATRIX)])
def test_all_mitigations_at_once_on_images(model, loss, image_root):
    """Every mitigation together composes with one loss of each kind (cross-entropy, critic with
    weight clipping, relativistic): two steps with the real optimizers stay finite and every
    mitigation logs its scalars. Each loss meets each mitigation alone in the ring matrix above;
    the all-at-once programs take 1-3 min each to compile on 2 cores, so CI runs four of them."""
    names = [m for m in mitigations.BUILDERS if compatible(loss, m)]
    s = setup_lib.build(make_cfg(IMAGE_MODELS[model] + [
        f"data.root={image_root}", f"loss={loss}", f"mitigation=[{','.join(names)}]",
        "mitigation.unrolled.steps=1", "mitigation.feature_matching.replace=false"]))
    state, step = s.init_state(), jax.jit(s.step)
    for _ in range(2):
        state, metrics = step(state, s.data.arrays)
    metrics = jax.device_get(metrics)
    bad = {k: v for k, v in metrics.items() if not np.isfinite(v)}
    assert not bad, bad
    for name in names:
        assert any(k.startswith(f"mitigation/{name}/") for k in metrics), name


# --- what the model changes do to D ------------------------------------------------------------

MODEL_CASES = [pytest.param("mlp", id="mlp"),
               pytest.param("dcgan", id="dcgan", marks=pytest.mark.slow),
               pytest.param("resnet", id="resnet", marks=FULL_MATRIX)]


def built(model: str, image_root: str, extra: list[str]):
    base = TINY_RING if model == "mlp" else IMAGE_MODELS[model] + [f"data.root={image_root}"]
    s = setup_lib.build(make_cfg(base + extra))
    return s, s.init_state()


def d_logits(s, state, x, d_params=None) -> np.ndarray:
    d_params = state.d_params if d_params is None else d_params
    return np.asarray(apply_model(s.gan.discriminator, d_params, state.d_state, x, train=False)[0].logits)


def diverse_and_collapsed(s) -> tuple[jax.Array, jax.Array]:
    """A batch of real samples, and the batch collapsed onto its first sample (all copies)."""
    n = int(s.cfg["trainer"]["batch_size"])
    x = s.data.sample(s.data.arrays, jax.random.PRNGKey(1), n)[0]
    return x, jnp.broadcast_to(x[:1], x.shape)


@pytest.mark.parametrize("model", MODEL_CASES)
@pytest.mark.parametrize("name", ["pacgan", "minibatch_std", "minibatch_discrimination"])
def test_batch_mitigations_make_d_judge_a_sample_with_the_rest_of_its_batch(model, name, image_root):
    """Plain D scores each sample alone; with packing or a minibatch layer D sees whether the
    batch is diverse: the first sample's score moves when the rest of the batch collapses onto
    copies of it (what these mitigations are for)."""
    for extra, coupled in (([], False), ([f"mitigation=[{name}]"], True)):
        s, state = built(model, image_root, extra)
        x, collapsed = diverse_and_collapsed(s)
        before, after = d_logits(s, state, x), d_logits(s, state, collapsed)
        m = int(s.cfg["mitigation"]["pacgan"]["m"]) if name == "pacgan" and coupled else 1
        assert before.shape == (x.shape[0] // m,)  # PacGAN: one score per pack of m samples
        moved = abs(after[0] - before[0]) / np.abs(before).max()
        print(f"{model} {' '.join(extra) or 'plain'}: first score moved {moved:.1e}")
        if coupled:
            assert moved > CHANGED, (name, moved)
        else:
            assert moved <= SAME, moved


@pytest.mark.parametrize("model", MODEL_CASES)
def test_spectral_norm_makes_d_blind_to_the_scale_of_its_weight_matrices(model, image_root):
    """W / sigma_max(W) does not depend on the scale of W: with spectral normalisation, D's
    outputs stay put when every weight matrix is multiplied by 3; without, they move."""
    x = None
    for extra, normalised in (([], False), (["mitigation=[spectral_norm]"], True)):
        s, state = built(model, image_root, extra)
        x = s.data.sample(s.data.arrays, jax.random.PRNGKey(1), 16)[0] if x is None else x
        scaled = jax.tree_util.tree_map(lambda p: 3 * p if p.ndim >= 2 else p, state.d_params)
        before, after = d_logits(s, state, x), d_logits(s, state, x, scaled)
        moved = np.abs(after - before).max() / np.abs(before).max()
        print(f"{model} {' '.join(extra) or 'plain'}: weights x3 moved the scores by {moved:.1e}")
        if normalised:
            assert moved < 1e-4, moved  # only rounding of the power iteration
            matrices = sum(p.ndim >= 2 for p in jax.tree_util.tree_leaves(state.d_params))
            assert len(sigmas(state.d_state)) == matrices  # one sigma per weight matrix
            assert not sigmas(state.g_state)  # G is left alone unless asked
        else:
            assert moved > 0.1, moved
    s, state = built(model, image_root, ["mitigation=[spectral_norm]",
                                         "mitigation.spectral_norm.generator=true"])
    assert sigmas(state.g_state)
