"""Label smoothing, feature matching, consistency, LeCam, instance noise, DiffAugment."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.data.spec import Dataset
from gan_jax.errors import ConfigError
from gan_jax.losses import d_loss_bce, d_loss_least_squares
from gan_jax.mitigations import augment, inputs, regularizers
from gan_jax.mitigations.base import TermInputs
from gan_jax.models.critic import CriticOutput

REAL = jnp.array([2.0, -1.0, 0.5])
FAKE = jnp.array([0.5, -3.0, 1.0])
sig = lambda v: 1 / (1 + np.exp(-np.asarray(v, np.float64)))  # noqa: E731
POINTS = Dataset("ring", {}, None, (2,), None)
IMAGES = Dataset("images", {}, None, (8, 8, 1), (0.0, 1.0))


def term_inputs(real_logits=REAL, fake_logits=FAKE, state=None, critic=None, real=None, fake=None):
    feats = lambda logits: logits[:, None]  # noqa: E731
    return TermInputs(critic, real, None, fake, None, CriticOutput(real_logits, feats(real_logits), None),
                      CriticOutput(fake_logits, feats(fake_logits), None), jax.random.PRNGKey(0),
                      jnp.zeros((), jnp.int32), state, {})


def test_label_smoothing_equals_bce_with_soft_real_targets():
    s = 0.1
    t = regularizers.build_label_smoothing({"smoothing": s}, POINTS, 3).d_term(term_inputs())
    want = (-np.mean((1 - s) * np.log(sig(REAL)) + s * np.log(1 - sig(REAL)))
            - np.mean(np.log(1 - sig(FAKE))))
    np.testing.assert_allclose(d_loss_bce(REAL, FAKE) + t.value, want, rtol=1e-6)
    # Least squares: the same term gives real targets 1 - s, up to a constant.
    ls = lambda r: d_loss_least_squares(r, FAKE) + regularizers.label_smoothing_term(r, s)  # noqa: E731
    soft = lambda r: 0.5 * jnp.mean((r - 1 + s) ** 2) + 0.5 * jnp.mean(FAKE ** 2)  # noqa: E731
    np.testing.assert_allclose(jax.grad(ls)(REAL), jax.grad(soft)(REAL), rtol=1e-6)


def test_feature_matching_distance_by_hand():
    real = jnp.array([[1.0, 2.0], [3.0, 4.0]])
    fake = jnp.array([[0.0, 0.0], [2.0, 2.0]])
    np.testing.assert_allclose(regularizers.feature_matching(real, fake), 1.0 + 4.0, rtol=1e-6)
    # Gradient reaches the generated features only.
    g_real = jax.grad(regularizers.feature_matching)(real, fake)
    assert float(jnp.abs(g_real).max()) == 0.0


def test_consistency_of_a_linear_critic():
    w = jnp.array([1.0, -2.0])
    critic = lambda x, y=None: CriticOutput(x @ w, x, None)  # noqa: E731
    x = jnp.array([[0.0, 0.0], [1.0, 1.0]])
    shift = jnp.array([[0.5, 0.0], [0.0, 0.5]])
    # (D(x) - D(x + d))^2 = (w . d)^2 = 0.25 and 1.0
    np.testing.assert_allclose(regularizers.consistency(critic, x, None, x + shift), 0.625, rtol=1e-6)
    bcr = regularizers.build_bcr({"real_weight": 1.0, "fake_weight": 1.0, "jitter_std": 0.0}, POINTS, 2)
    assert float(bcr.d_term(term_inputs(critic=critic, real=x, fake=x)).value) == 0.0  # T = identity


def test_lecam_anchors_and_penalty_by_hand():
    lecam = regularizers.build_lecam({"weight": 2.0, "decay": 0.9}, POINTS, 3)
    state = lecam.init_state()
    t = lecam.d_term(term_inputs(state=state))
    a_real, a_fake = 0.1 * np.mean(REAL), 0.1 * np.mean(FAKE)
    np.testing.assert_allclose([t.state["real"], t.state["fake"]], [a_real, a_fake], rtol=1e-6)
    want = np.mean((np.asarray(REAL) - a_fake) ** 2) + np.mean((np.asarray(FAKE) - a_real) ** 2)
    np.testing.assert_allclose(t.value, 2.0 * want, rtol=1e-6)


def test_instance_noise_anneals_to_zero():
    m = inputs.build_instance_noise({"std": 0.4, "anneal_steps": 100}, POINTS, 8)
    x = jnp.ones((1000, 2))
    key = jax.random.PRNGKey(0)
    for step, std in [(0, 0.4), (50, 0.2), (100, 0.0), (250, 0.0)]:
        y = m.transform_input(key, x, jnp.asarray(step))
        np.testing.assert_allclose(np.std(np.asarray(y - x)), std, rtol=0.1, atol=1e-7)


def test_diffaugment_is_the_policy_and_needs_images():
    m = inputs.build_diffaugment({"policy": "translation, cutout"}, IMAGES, 8)
    x = jax.random.uniform(jax.random.PRNGKey(1), (4, 8, 8, 1))
    key = jax.random.PRNGKey(2)
    np.testing.assert_array_equal(m.transform_input(key, x, 0),
                                  augment.diff_augment(key, x, ("translation", "cutout")))
    as_list = inputs.build_diffaugment({"policy": ["translation", "cutout"]}, IMAGES, 8)
    np.testing.assert_array_equal(as_list.transform_input(key, x, 0), m.transform_input(key, x, 0))
    with pytest.raises(ConfigError, match="augments images"):
        inputs.build_diffaugment({"policy": "color"}, POINTS, 8)
    with pytest.raises(ConfigError, match="policy"):
        inputs.build_diffaugment({"policy": "colour"}, IMAGES, 8)
