"""A semi-supervised GAN detector: the text CNN with K + 1 outputs (Salimans et al. 2016; the idea
of GAN-BERT, Croce et al. 2020, without BERT), for when few reviews carry a label.

D has K = 2 class logits l (real review, machine-written) and an implicit (K+1)-th for "written
by D's own generator", whose logit is fixed at 0, so that with Z(x) = sum_k exp l_k(x):

    P(class k | x, not generated) = softmax(l)_k           (the detector's score: l_1 - l_0)
    P(not generated | x)          = Z / (Z + 1) = sigmoid(logsumexp l)

D's loss = cross-entropy on the labelled reviews
           + weight * (softplus(-logsumexp l(unlabelled)) + softplus(logsumexp l(G(z)))),
so the unlabelled reviews (labels hidden: real and machine-written alike) shape D's features too.
G is RelGAN's LSTM generator writing relaxed one-hots at a fixed inverse temperature, trained by
feature matching (the squared distance of D's mean features on unlabelled and on generated
reviews), which Salimans et al. found best for semi-supervised learning.
With weight 0 it is `CNNDetector` with two softmax outputs instead of one sigmoid.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from gan_jax.detectors.text_cnn import CNNDetector, Vocabulary
from gan_jax.models import relgan


def k_plus_one_losses(labelled: jax.Array, y: jax.Array, unlabelled: jax.Array,
                      generated: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(supervised, unsupervised) losses of D's K class logits [n, K] on labelled reviews (labels
    y), unlabelled reviews and generated ones, the generated class's logit being 0."""
    supervised = optax.softmax_cross_entropy_with_integer_labels(labelled, y).mean()
    real, fake = jax.nn.logsumexp(unlabelled, axis=-1), jax.nn.logsumexp(generated, axis=-1)
    # -log P(not generated | real) - log P(generated | G(z))
    return supervised, jax.nn.softplus(-real).mean() + jax.nn.softplus(fake).mean()


class SemiSupervisedDetector(CNNDetector):
    kind = "semi_supervised"
    outputs = 2

    def __init__(self, vocabulary: Vocabulary, unsupervised_weight: float = 1.0,
                 inverse_temperature: float = 5.0, generator_hidden: int = 64,
                 generator_learning_rate: float = 1e-3, **kwargs):
        super().__init__(vocabulary, **kwargs)
        self.options = {"unsupervised_weight": unsupervised_weight,
                        "inverse_temperature": inverse_temperature,
                        "generator_hidden": generator_hidden,
                        "generator_learning_rate": generator_learning_rate}
        self.G = relgan.Generator(seq_len=vocabulary.max_length, vocab_size=len(vocabulary.words),
                                  cell="lstm", hidden_dim=generator_hidden)
        self.g_opt = optax.adam(generator_learning_rate)

    def settings(self) -> dict:
        return {**super().settings(), "options": self.options}

    @staticmethod
    def suspicion(logits: jax.Array) -> jax.Array:
        return logits[:, 1] - logits[:, 0]

    def fakes(self, g_params, key) -> jax.Array:
        z = jax.random.normal(key, (self.batch_size, relgan.KEY_FLOATS))
        schedule = {"inverse_temperature": jnp.float32(self.options["inverse_temperature"])}
        return self.G.apply({"params": g_params, "schedule": schedule}, z, train=True)

    def init_extra(self, key) -> dict:
        z = jnp.zeros((1, relgan.KEY_FLOATS))
        g_params = self.G.init(key, z)["params"]
        return {"g_params": g_params, "g_opt": self.g_opt.init(g_params)}

    def loss(self, params, x, y, extra, key):
        apply = lambda v: self.net.apply({"params": params}, v)[0]  # noqa: E731
        fakes = jax.lax.stop_gradient(self.fakes(extra["g_params"], key))
        supervised, unsupervised = k_plus_one_losses(apply(x), y, apply(extra["unlabelled"]), apply(fakes))
        return supervised + self.options["unsupervised_weight"] * unsupervised, {}

    def update_extra(self, params, extra, key, unlabelled):
        if self.options["unsupervised_weight"] == 0:
            return extra
        features = lambda v: self.net.apply({"params": params}, v)[1].mean(axis=0)  # noqa: E731
        target = jax.lax.stop_gradient(features(unlabelled))

        def matching(g_params):
            return jnp.sum((features(self.fakes(g_params, key)) - target) ** 2)

        grads = jax.grad(matching)(extra["g_params"])
        updates, g_opt = self.g_opt.update(grads, extra["g_opt"], extra["g_params"])
        return {"g_params": optax.apply_updates(extra["g_params"], updates), "g_opt": g_opt}
