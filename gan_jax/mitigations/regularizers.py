"""Extra objective terms: label smoothing, feature matching, consistency (bCR), LeCam."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from gan_jax.numeric_settings import number
from gan_jax.mitigations import augment
from gan_jax.mitigations.base import Mitigation, Term, TermInputs


def label_smoothing_term(real_logits: jax.Array, smoothing: float) -> jax.Array:
    """s * E[D(x)]: added to the BCE discriminator loss it gives one-sided label smoothing
    (Salimans et al. 2016), real targets 1 - s, because
        (1 - s) softplus(-l) + s softplus(l) = softplus(-l) + s l.
    For least squares it is the same up to a constant: 0.5(l - 1 + s)^2 = 0.5(l - 1)^2 + s l + c.
    With Wasserstein / hinge critics it is the same linear term (real term scaled by 1 - s).
    """
    return smoothing * jnp.mean(real_logits)


def build_label_smoothing(cfg, data, batch_size) -> Mitigation:
    s = number(cfg["smoothing"])

    def d_term(i: TermInputs) -> Term:
        value = label_smoothing_term(i.real_out.logits, s)
        return Term(value, {"term": value})

    return Mitigation("label_smoothing", d_term=d_term)


def feature_matching(real_features: jax.Array, fake_features: jax.Array) -> jax.Array:
    """||E f(x) - E f(G(z))||^2 on D's penultimate features (Salimans et al. 2016, Sec. 3.1)."""
    diff = jnp.mean(jax.lax.stop_gradient(real_features), axis=0) - jnp.mean(fake_features, axis=0)
    return jnp.sum(diff ** 2)


def build_feature_matching(cfg, data, batch_size) -> Mitigation:
    weight = number(cfg["weight"])

    def g_term(i: TermInputs) -> Term:
        value = feature_matching(i.real_out.features, i.fake_out.features)
        return Term(weight * value, {"distance": value})

    return Mitigation("feature_matching", g_term=g_term, g_needs_real=True,
                      replaces_g_loss=bool(cfg["replace"]))


def consistency(critic, x, y, x_augmented) -> jax.Array:
    """E (D(x) - D(T(x)))^2: D should not care about semantics-preserving transforms."""
    return jnp.mean((critic(x, y).logits - critic(x_augmented, y).logits) ** 2)


def build_bcr(cfg, data, batch_size) -> Mitigation:
    """Balanced consistency regularisation (Zhao et al. 2021) on real and generated samples.
    T: random flip + translation for images, Gaussian jitter for points."""
    real_weight, fake_weight = number(cfg["real_weight"]), number(cfg["fake_weight"])
    if data.is_image:
        def transform(key, x):
            k1, k2 = jax.random.split(key)
            return augment.translation(k2, augment.flip(k1, x))
    else:
        transform = lambda key, x: augment.jitter(key, x, number(cfg["jitter_std"]))  # noqa: E731

    def d_term(i: TermInputs) -> Term:
        kr, kf = jax.random.split(i.key)
        real = consistency(i.critic, i.real, i.real_y, transform(kr, i.real))
        fake = consistency(i.critic, i.fake, i.fake_y, transform(kf, i.fake))
        return Term(real_weight * real + fake_weight * fake, {"real": real, "fake": fake})

    return Mitigation("bcr", d_term=d_term)


def build_lecam(cfg, data, batch_size) -> Mitigation:
    """LeCam regularisation (Tseng et al. 2021): ||D(x) - a_F||^2 + ||D(G(z)) - a_R||^2 with a_R,
    a_F exponential moving averages of D's mean output on real and generated samples."""
    weight, decay = number(cfg["weight"]), number(cfg["decay"])

    def d_term(i: TermInputs) -> Term:
        real, fake = i.real_out.logits, i.fake_out.logits
        ema = lambda old, new: decay * old + (1 - decay) * jax.lax.stop_gradient(jnp.mean(new))  # noqa: E731
        anchors = {"real": ema(i.state["real"], real), "fake": ema(i.state["fake"], fake)}
        value = jnp.mean((real - anchors["fake"]) ** 2) + jnp.mean((fake - anchors["real"]) ** 2)
        return Term(weight * value, {"penalty": value, "anchor_real": anchors["real"],
                                     "anchor_fake": anchors["fake"]}, anchors)

    return Mitigation("lecam", d_term=d_term,
                      init_state=lambda: {"real": jnp.zeros(()), "fake": jnp.zeros(())})
