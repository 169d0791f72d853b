"""An autoregressive recurrent forecaster with a negative-binomial likelihood: DeepAR's idea
(Salinas et al. 2020), the maximum-likelihood rival of the demand GAN.

At each day t an LSTM reads the previous day's units, divided by the series' scale
nu = 1 + mean of its history (DeepAR's scaling), with the day's weekday and, when given, an
embedding of the series' category. It outputs the day's negative-binomial mean mu_t = nu *
softplus(.) and shape alpha_t = softplus(.) (variance mu + alpha mu^2). Training maximises the
likelihood of every day of windows of `context + horizon` days cut from the history, teacher-forced.
Forecasting runs the LSTM through the last `context` days, then samples the next `horizon` days
one at a time, each fed back: `samples` paths per series (a SampleForecast).
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_jax.forecasting.forecast import SampleForecast


def nb_log_prob(y: jax.Array, mean: jax.Array, alpha: jax.Array) -> jax.Array:
    """log P(y) of a negative binomial with mean `mean` and variance mean + alpha mean^2."""
    r = 1.0 / alpha
    gammaln = jax.scipy.special.gammaln
    return (gammaln(y + r) - gammaln(r) - gammaln(y + 1)
            + r * jnp.log(r / (r + mean)) + y * jnp.log(mean / (r + mean)))


class Net(nn.Module):
    hidden: int = 40
    num_categories: int = 0
    category_dim: int = 4

    def setup(self):
        self.cell = nn.OptimizedLSTMCell(self.hidden)
        self.head = nn.Dense(2)
        if self.num_categories:
            self.embed = nn.Embed(self.num_categories, self.category_dim)

    def step(self, carry, previous, weekday, category):
        """One day: (carry, scaled previous units [n], weekday [n], category [n] or None) ->
        (carry, (raw mean, raw alpha) [n, 2])."""
        x = [jnp.log1p(previous)[:, None], jax.nn.one_hot(weekday, 7)]
        if self.num_categories:
            x.append(self.embed(category))
        carry, h = self.cell(carry, jnp.concatenate(x, axis=-1))
        return carry, self.head(h)

    def __call__(self, previous, weekdays, category):
        """Teacher-forced: previous [n, T] scaled units, weekdays [n, T] -> raw outputs [n, T, 2]."""
        n = previous.shape[0]
        carry = self.cell.initialize_carry(jax.random.PRNGKey(0), (n, 1))
        outs = []
        for t in range(previous.shape[1]):
            carry, o = self.step(carry, previous[:, t], weekdays[:, t], category)
            outs.append(o)
        return jnp.stack(outs, axis=1)


def params_of(raw, nu):
    return nu * jax.nn.softplus(raw[..., 0]) + 1e-6, jax.nn.softplus(raw[..., 1]) + 1e-4


@dataclasses.dataclass
class DeepAR:
    context: int = 14
    horizon: int = 7
    hidden: int = 40
    steps: int = 2000
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0

    def fit(self, history, categories=None, first_day: int = 0) -> DeepAR:
        """history [N, T] units; categories [N] ints or None; first_day: the history's first day
        index (its weekday)."""
        h = np.asarray(history, np.float32)
        n, t = h.shape
        window = self.context + self.horizon
        if t < window + 1:
            raise ValueError(f"DeepAR needs more than context + horizon = {window} days of history, "
                             f"got {t}")
        self.first_day, self.history = first_day, h
        self.nu = (1.0 + h.mean(axis=1)).astype(np.float32)
        self.categories = None if categories is None else np.asarray(categories, np.int32)
        k = 0 if categories is None else int(self.categories.max()) + 1
        self.net = Net(self.hidden, k)
        starts = np.arange(1, t - window + 1)  # the window's first target day; day start-1 is its input
        rng = np.random.default_rng(self.seed)
        cat = (lambda rows: jnp.asarray(self.categories[rows])) if k else (lambda rows: None)  # noqa: E731

        def batch():
            rows, s = rng.integers(0, n, self.batch_size), rng.choice(starts, self.batch_size)
            days = s[:, None] + np.arange(window)[None]
            target = h[rows[:, None], days]
            previous = h[rows[:, None], days - 1] / self.nu[rows, None]
            return (jnp.asarray(previous), jnp.asarray((first_day + days) % 7), jnp.asarray(target),
                    jnp.asarray(self.nu[rows]), cat(rows))

        previous, weekdays, _, _, c = batch()
        self.params = self.net.init(jax.random.PRNGKey(self.seed), previous, weekdays, c)
        opt = optax.adam(self.learning_rate)
        state = opt.init(self.params)

        @jax.jit
        def update(params, state, previous, weekdays, target, nu, c):
            def loss(p):
                mean, alpha = params_of(self.net.apply(p, previous, weekdays, c), nu[:, None])
                return -nb_log_prob(target, mean, alpha).mean()
            value, grads = jax.value_and_grad(loss)(params)
            updates, state = opt.update(grads, state, params)
            return optax.apply_updates(params, updates), state, value

        self.losses = []
        for _ in range(self.steps):
            self.params, state, value = update(self.params, state, *batch())
            self.losses.append(float(value))
            if not np.isfinite(self.losses[-1]):
                raise FloatingPointError(f"DeepAR's loss is {value} at step {len(self.losses)}; lower "
                                         f"learning_rate (now {self.learning_rate})")
        return self

    def forecast(self, samples: int = 500, key: int = 0, chunk: int = 200) -> SampleForecast:
        """Paths [N, samples, horizon] after the whole history, from its last `context` days
        (`chunk` series at a time)."""
        h, (n, t) = self.history, self.history.shape
        net, params, hidden = self.net, self.params, self.hidden
        weekday = lambda day, m: jnp.full(m, (self.first_day + day) % 7)  # noqa: E731

        @jax.jit
        def run(key, known, nu, c):
            m = known.shape[0]
            carry = nn.OptimizedLSTMCell(hidden).initialize_carry(jax.random.PRNGKey(0), (m, 1))
            for j in range(self.context):  # through the known days: input day t-context-1+j
                carry, _ = net.apply(params, carry, known[:, j] / nu, weekday(t - self.context + j, m), c,
                                     method=Net.step)
            previous, out = known[:, -1], []
            for j in range(self.horizon):  # each sampled day is the next one's input
                carry, raw = net.apply(params, carry, previous / nu, weekday(t + j, m), c, method=Net.step)
                mean, alpha = params_of(raw, nu)
                key, k_gamma, k_poisson = jax.random.split(key, 3)
                r = 1.0 / alpha
                previous = jax.random.poisson(k_poisson, jax.random.gamma(k_gamma, r) * mean / r)
                previous = previous.astype(jnp.float32)
                out.append(previous)
            return jnp.stack(out, axis=1)

        parts = []
        for start in range(0, n, chunk):
            rows = np.repeat(np.arange(start, min(start + chunk, n)), samples)
            c = None if self.categories is None else jnp.asarray(self.categories[rows])
            known = jnp.asarray(h[rows][:, t - self.context - 1:])
            paths = run(jax.random.fold_in(jax.random.PRNGKey(key), start), known,
                        jnp.asarray(self.nu[rows]), c)
            parts.append(np.asarray(paths).reshape(-1, samples, self.horizon))
        return SampleForecast(np.concatenate(parts).astype(np.int64))
