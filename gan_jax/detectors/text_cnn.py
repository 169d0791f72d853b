"""A text CNN detector of machine-written reviews (Kim 2014's shape, RelGAN's D's layers), in JAX.

    ids [n, L] (or one-hot / relaxed one-hot [n, L, V]) -> embedding -> convolutions over time
    (widths 2-5) with max-pooling -> highway -> dense features [n, F] -> `outputs` logits

`CNNDetector.fit(sentences, labels, validation=...)` trains it with Adam on binary labels
(1 = machine-written) for `steps` minibatch steps, scoring the validation pair every `eval_every`
steps and keeping the weights of the best validation AUROC (early stopping: the only choice made,
and never on test reviews). `score(sentences)`: higher = more likely machine-written. Words
outside the training text's vocabulary read as UNK and a review longer than its `max_length`
is read up to it. `save(dir)` / `load(dir)` keep a trained detector for `gan_jax.score_reviews`.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Sequence

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_jax.data.text import EOS, UNK
from gan_jax.metrics.auroc import auroc
from gan_jax.models.relgan import Highway, TimeConv, linear_init


class TextCNN(nn.Module):
    """x: int ids [n, L] or (relaxed) one-hots [n, L, V] -> (logits [n, outputs], features [n, F])."""

    vocab_size: int
    embed_dim: int = 64
    filter_sizes: tuple[int, ...] = (2, 3, 4, 5)
    num_filters: int = 100
    fc_dim: int = 100
    outputs: int = 1

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        table = self.param("embed", linear_init(self.vocab_size), (self.vocab_size, self.embed_dim))
        # ids look their rows up; a relaxed one-hot (a generator's output) mixes them, so that
        # gradients reach the generator (semi_supervised.py)
        emb = table[x] if jnp.issubdtype(x.dtype, jnp.integer) else x @ table
        length = emb.shape[1]
        pooled = []
        for k in self.filter_sizes:
            if k > length:
                raise ValueError(f"reviews of {length} tokens are shorter than the detector's "
                                 f"filter width {k}; raise data.max_length or narrow filter_sizes")
            pooled.append(jnp.max(nn.relu(TimeConv(self.num_filters, k, name=f"conv_{k}")(emb)), axis=1))
        h = Highway()(jnp.concatenate(pooled, axis=-1))
        h = nn.Dense(self.fc_dim, kernel_init=linear_init(h.shape[-1]), name="fc")(h)
        return nn.Dense(self.outputs, name="head")(h), h


@dataclasses.dataclass(frozen=True)
class Vocabulary:
    """What a detector reads reviews with: the training text's words and its sentence length."""

    words: tuple[str, ...]
    max_length: int

    def ids(self, sentences: Sequence[Sequence[str]]) -> np.ndarray:
        """int32 [n, max_length]: each review's word ids (UNK outside the vocabulary), cut at
        max_length, padded with EOS."""
        index = {w: i for i, w in enumerate(self.words)}
        out = np.full((len(sentences), self.max_length), EOS, np.int32)
        for row, words in enumerate(sentences):
            words = list(words)[:self.max_length]
            out[row, :len(words)] = [index.get(w, UNK) for w in words]
        return out

    @classmethod
    def of(cls, text) -> Vocabulary:
        """The vocabulary of a `data.text.Text` corpus."""
        return cls(tuple(text.vocabulary), int(text.max_length))


def binary_labels(labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or not set(np.unique(labels).tolist()) <= {0, 1}:
        raise ValueError(f"a detector learns labels 0 (real) and 1 (machine-written); got "
                         f"{sorted(set(np.ravel(labels).tolist()))[:5]}")
    return labels.astype(np.int32)


class CNNDetector:
    """fit(sentences, labels [, validation=(sentences, labels)]) -> self; score(sentences) -> [n]."""

    kind = "cnn"

    def __init__(self, vocabulary: Vocabulary, steps: int = 1500, batch_size: int = 64,
                 learning_rate: float = 1e-3, eval_every: int = 100, seed: int = 0, **network):
        self.vocabulary, self.steps, self.batch_size = vocabulary, steps, batch_size
        self.learning_rate, self.eval_every, self.seed = learning_rate, eval_every, seed
        self.network = network
        self.net = TextCNN(len(vocabulary.words), outputs=self.outputs, **network)
        self.params = None
        self.history: list[dict] = []

    outputs = 1

    def settings(self) -> dict:
        return {"kind": self.kind, "steps": self.steps, "batch_size": self.batch_size,
                "learning_rate": self.learning_rate, "eval_every": self.eval_every,
                "seed": self.seed, "network": self.network}

    # -- what a subclass changes: the score of the network's logits, and the training loss
    @staticmethod
    def suspicion(logits: jax.Array) -> jax.Array:
        return logits[:, 0]

    def loss(self, params, x, y, extra, key):
        del extra, key
        logits, _ = self.net.apply({"params": params}, x)
        return optax.sigmoid_binary_cross_entropy(logits[:, 0], y.astype(jnp.float32)).mean(), {}

    def init_extra(self, key) -> dict:
        """Models trained beside the detector (the semi-supervised one's generator); none here."""
        del key
        return {}

    def update_extra(self, params, extra, key, unlabelled):
        del params, key, unlabelled
        return extra

    # -- training
    def fit(self, sentences, labels, validation=None, unlabelled=None) -> CNNDetector:
        """Train on the labelled reviews (and, for a semi-supervised detector, unlabelled ones);
        keep the weights of the best validation AUROC when `validation` is given, else the last."""
        x, y = self.vocabulary.ids(sentences), binary_labels(labels)
        if len(x) < 2 or len(set(y.tolist())) < 2:
            raise ValueError("a detector needs labelled examples of both classes")
        pool = self.vocabulary.ids(unlabelled) if unlabelled is not None else x
        key = jax.random.PRNGKey(self.seed)
        key, init_key, extra_key = jax.random.split(key, 3)
        params = self.net.init(init_key, jnp.asarray(x[:1]))["params"]
        opt = optax.adam(self.learning_rate)
        opt_state = opt.init(params)
        extra = self.init_extra(extra_key)

        @jax.jit
        def step(params, opt_state, extra, xb, yb, ub, key):
            k_loss, k_extra = jax.random.split(key)
            (value, logs), grads = jax.value_and_grad(
                lambda p: self.loss(p, xb, yb, {**extra, "unlabelled": ub}, k_loss), has_aux=True)(params)
            updates, opt_state = opt.update(grads, opt_state, params)
            params = optax.apply_updates(params, updates)
            extra = self.update_extra(params, extra, k_extra, ub)
            return params, opt_state, extra, value

        rng = np.random.default_rng(self.seed)
        best, self.history = -np.inf, []
        self.params = params
        for t in range(1, self.steps + 1):
            rows = rng.integers(0, len(x), self.batch_size)
            pool_rows = rng.integers(0, len(pool), self.batch_size)
            key, k = jax.random.split(key)
            params, opt_state, extra, value = step(params, opt_state, extra, x[rows], y[rows],
                                                   pool[pool_rows], k)
            if not np.isfinite(float(value)):
                raise FloatingPointError(f"the {self.kind} detector's loss is {float(value)} at step {t}; "
                                         f"lower its learning_rate (now {self.learning_rate})")
            if validation is not None and (t % self.eval_every == 0 or t == self.steps):
                value_auc = auroc(self._score(params, validation[0]), binary_labels(validation[1]) == 1)
                self.history.append({"step": t, "validation_auroc": value_auc, "loss": float(value)})
                if value_auc > best:
                    best, self.params = value_auc, params
        if validation is None:
            self.params = params
        self.extra = extra
        return self

    def _score(self, params, sentences) -> np.ndarray:
        ids = self.vocabulary.ids(sentences)
        apply = jax.jit(lambda p, xb: self.suspicion(self.net.apply({"params": p}, xb)[0]))
        return np.concatenate([np.asarray(apply(params, ids[i:i + 512]))
                               for i in range(0, len(ids), 512)]) if len(ids) else np.zeros(0)

    def score(self, sentences) -> np.ndarray:
        """[n] suspicion scores: higher = more likely machine-written."""
        if self.params is None:
            raise RuntimeError("fit (or load) the detector before scoring")
        return self._score(self.params, sentences)

    # -- on disk
    def save(self, directory) -> None:
        """detector.json (kind, settings, vocabulary) and params.msgpack, each written whole."""
        directory = pathlib.Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {**self.settings(), "vocabulary": list(self.vocabulary.words),
                "max_length": self.vocabulary.max_length, "history": self.history}
        for name, data in (("params.msgpack", flax.serialization.to_bytes(self.params)),
                           ("detector.json", (json.dumps(meta) + "\n").encode())):
            tmp = directory / f".{name}.tmp"
            tmp.write_bytes(data)
            tmp.replace(directory / name)


def load(directory) -> CNNDetector:
    """A detector `save` wrote (its class from the kind it names)."""
    from gan_jax.detectors import semi_supervised  # noqa: PLC0415  (it imports this module)

    directory = pathlib.Path(directory)
    meta = json.loads((directory / "detector.json").read_text())
    cls = {"cnn": CNNDetector, "semi_supervised": semi_supervised.SemiSupervisedDetector}[meta["kind"]]
    kwargs = {k: meta[k] for k in ("steps", "batch_size", "learning_rate", "eval_every", "seed")}
    kwargs.update(meta.get("options", {}))
    det = cls(Vocabulary(tuple(meta["vocabulary"]), meta["max_length"]), **kwargs, **meta["network"])
    template = det.net.init(jax.random.PRNGKey(0), jnp.zeros((1, det.vocabulary.max_length), jnp.int32))
    saved = (directory / "params.msgpack").read_bytes()
    det.params = flax.serialization.from_bytes(template["params"], saved)
    det.history = meta.get("history", [])
    return det
