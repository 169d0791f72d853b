"""ACGAN's auxiliary classifier (Odena et al. 2017) as objective terms: D classifies real and
generated samples, G makes its samples classifiable as the category it was asked for. Selected
by `model.conditioning=acgan` with `data.conditional=true`; it plugs into the step like a
mitigation, its scalars are logged under conditioning/acgan/."""

from __future__ import annotations

import jax.numpy as jnp
import optax

from gan_jax.mitigations.base import Mitigation, Term, TermInputs


def classification_loss(class_logits, labels) -> jnp.ndarray:
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(class_logits, labels))


def build_acgan(weight: float) -> Mitigation:
    def d_term(i: TermInputs) -> Term:
        real = classification_loss(i.real_out.class_logits, i.real_y)
        fake = classification_loss(i.fake_out.class_logits, i.fake_y)
        accuracy = jnp.mean(jnp.argmax(i.real_out.class_logits, -1) == i.real_y)
        return Term(weight * (real + fake), {"d_real_loss": real, "d_fake_loss": fake,
                                             "real_accuracy": accuracy})

    def g_term(i: TermInputs) -> Term:
        fake = classification_loss(i.fake_out.class_logits, i.fake_y)
        return Term(weight * fake, {"g_loss": fake})

    return Mitigation("acgan", d_term=d_term, g_term=g_term, prefix="conditioning")
