"""TimeGAN's scores of synthetic sequences (Yoon et al. 2019; the authors' `metrics/`), jitted.

discriminative  A post-hoc one-layer GRU classifier (hidden = features // 2, its last state to a
                logit) learns real from synthetic for `iterations` Adam steps on batches of
                `batch_size` of each; the score is |accuracy - 0.5| on sequences it did not train
                on (0: indistinguishable). The authors split the real and the synthetic sets
                80/20 (`authors_split`); with held-out real sequences the classifier tests on
                those instead.
predictive      A GRU (hidden = features // 2, sigmoid output per step) trained on synthetic
                sequences to predict the last feature at t + 1 from the other features up to t
                (a single feature from itself up to t); the score is its mean absolute error on
                real sequences (the authors: all of the real training sequences; better:
                held-out ones).
Both use Adam with TensorFlow's defaults (lr 1e-3), as the authors' `tf.train.AdamOptimizer()`.
Inputs are numpy or JAX arrays [n, T, F] in the data's units.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax


class Classifier(nn.Module):
    hidden: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        last, _ = nn.RNN(nn.GRUCell(self.hidden), return_carry=True)(x)
        return nn.Dense(1)(last)[:, 0]


class Predictor(nn.Module):
    hidden: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return nn.sigmoid(nn.Dense(1)(nn.RNN(nn.GRUCell(self.hidden))(x)))[..., 0]


def hidden_size(features: int) -> int:
    return max(1, features // 2)  # the authors' int(dim / 2), at least one unit


def fit(loss_fn, params, key, iterations: int):
    """`iterations` Adam steps of `loss_fn(params, key_t)`, in one lax.fori_loop."""
    opt = optax.adam(1e-3)

    def body(t, carry):
        params, opt_state = carry
        grads = jax.grad(loss_fn)(params, jax.random.fold_in(key, t))
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    return jax.lax.fori_loop(0, iterations, body, (params, opt.init(params)))[0]


def batch(key, x: jax.Array, n: int) -> jax.Array:
    """n sequences of x drawn with replacement. The authors draw a batch without replacement
    (permutation[:batch_size]); a permutation of all n sequences at every iteration costs a sort,
    which made the scores 20 times slower here, and with replacement a batch of 128 of thousands
    differs from it in a few repeated sequences at most."""
    return x[jax.random.randint(key, (n,), 0, x.shape[0])]


@functools.partial(jax.jit, static_argnames=("iterations", "batch_size"))
def discriminative_score(key, train_real, train_fake, test_real, test_fake,
                         iterations: int = 2000, batch_size: int = 128) -> jax.Array:
    """|accuracy - 0.5| of a GRU classifier trained on train_real vs train_fake, tested on
    test_real vs test_fake (each [n, T, F])."""
    model = Classifier(hidden_size(train_real.shape[-1]))
    k_init, k_fit = jax.random.split(key)
    params = model.init(k_init, train_real[:1])

    def loss(params, key):
        kr, kf = jax.random.split(key)
        real = model.apply(params, batch(kr, train_real, batch_size))
        fake = model.apply(params, batch(kf, train_fake, batch_size))
        return jnp.mean(jax.nn.softplus(-real)) + jnp.mean(jax.nn.softplus(fake))

    params = fit(loss, params, k_fit, iterations)
    correct = jnp.concatenate([model.apply(params, test_real) > 0, model.apply(params, test_fake) <= 0])
    return jnp.abs(jnp.mean(correct.astype(jnp.float32)) - 0.5)


def authors_split(key, real, fake, train_fraction: float = 0.8):
    """(train_real, train_fake, test_real, test_fake): each set split at random 80/20, as the
    authors' `train_test_divide`."""
    def split(k, x):
        x = jnp.asarray(x)
        idx = jax.random.permutation(k, x.shape[0])
        cut = int(x.shape[0] * train_fraction)
        return x[idx[:cut]], x[idx[cut:]]

    (a, b), (c, d) = split(jax.random.fold_in(key, 0), real), split(jax.random.fold_in(key, 1), fake)
    return a, c, b, d


def predictive_score(key, synthetic, real, iterations: int = 5000,
                     batch_size: int = 128) -> jax.Array:
    """Mean absolute error on `real` of a GRU trained on `synthetic` to predict the last
    feature one step ahead from the other features ([n, T, F]; for F = 1, from itself)."""
    return predictive_scores(key, synthetic, (real,), iterations, batch_size)[0]


@functools.partial(jax.jit, static_argnames=("iterations", "batch_size"))
def predictive_scores(key, synthetic, reals: tuple, iterations: int = 5000,
                      batch_size: int = 128) -> tuple[jax.Array, ...]:
    """`predictive_score` of one predictor on each real set of `reals`."""
    features = synthetic.shape[-1]
    model = Predictor(hidden_size(features))
    # one feature (a product's daily units, data=m5): it is predicted from its own past, as the
    # authors' slice of the "other features" would leave no input at all
    read = features - 1 if features > 1 else 1
    inputs = lambda x: x[:, :-1, :read]  # noqa: E731
    target = lambda x: x[:, 1:, features - 1]  # noqa: E731
    k_init, k_fit = jax.random.split(key)
    params = model.init(k_init, inputs(synthetic[:1]))

    def loss(params, key):
        x = batch(key, synthetic, batch_size)
        return jnp.mean(jnp.abs(model.apply(params, inputs(x)) - target(x)))

    params = fit(loss, params, k_fit, iterations)
    # The mean over sequences of each one's MAE: with equal lengths, the mean of all errors.
    return tuple(jnp.mean(jnp.abs(model.apply(params, inputs(r)) - target(r))) for r in reals)
