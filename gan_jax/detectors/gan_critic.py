"""The text GAN's own discriminator, reused as a detector with no further training.

D learnt to tell real reviews from its generator's, so -D(one-hot review) is a suspicion score
(higher = less like the real reviews D saw). RelGAN's D gives one logit per representation; the
score averages them, as the RSGAN loss does. A conditional D (projection or ACGAN) is asked about
every category and the logits are averaged, unless the review's category is given.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.detectors.text_cnn import Vocabulary
from gan_jax.errors import ConfigError
from gan_jax.training import saved_run
from gan_jax.training.state import apply_model


class CriticDetector:
    kind = "critic"

    def __init__(self, run_dir, member: int = 0, step: int | None = None):
        run = saved_run.load(run_dir, step)
        text = run.setup.data.text
        if text is None:
            raise ConfigError(f"run_dir={run_dir} is a data={run.cfg['data']['name']} run, not a text "
                              f"run; its discriminator reads no reviews. Train one with data=reviews "
                              f"(or data=review_table) and model=relgan.")
        model, step = run.cfg["model"]["name"], int(run.member(0).step)
        if model == "lm":
            raise ConfigError(f"run_dir={run_dir} is a model=lm run: it trains no discriminator. "
                              f"Score with a model=relgan run, or a saved detector.")
        pretrain = int(run.cfg["model"].get("pretrain_steps", 0))
        if step <= pretrain:
            raise ConfigError(f"run_dir={run_dir} is at step {step}, within its maximum-likelihood "
                              f"phase (model.pretrain_steps={pretrain}): its discriminator has not "
                              f"trained yet. Train past step {pretrain} (trainer.resume=true).")
        if not 0 <= member < run.size:
            raise ConfigError(f"member={member} is outside the run's population of {run.size}; "
                              f"choose 0-{run.size - 1}.")
        self.vocabulary = Vocabulary.of(text)
        self.class_names = tuple(run.setup.data.class_names) if run.setup.gan.num_classes else ()
        self.gan, self.state = run.setup.gan, run.member(member)

    def fit(self, *args, **kwargs) -> CriticDetector:
        """Nothing to train: D is used as the GAN left it."""
        return self

    @functools.cached_property
    def _apply(self):
        gan, state, v = self.gan, self.state, len(self.vocabulary.words)
        classes = gan.num_classes

        def logit(x, y):
            out = apply_model(gan.discriminator, state.d_params, state.d_state, x, y, train=False)[0]
            return out.logits.reshape(x.shape[0], -1).mean(axis=1)

        def suspicion(ids, y):  # y: categories [n], or -1 where unknown
            x = jax.nn.one_hot(ids, v, dtype=jnp.float32)
            if not classes:
                return -logit(x, None)
            each = jnp.stack([logit(x, jnp.full((x.shape[0],), c, jnp.int32)) for c in range(classes)], 1)
            given = jnp.take_along_axis(each, jnp.maximum(y, 0)[:, None], axis=1)[:, 0]
            return -jnp.where(y >= 0, given, each.mean(axis=1))

        return jax.jit(suspicion)

    def score(self, sentences, categories=None) -> np.ndarray:
        """[n] suspicion scores: higher = more likely machine-written. categories: each review's
        category index (a conditional D's; -1 where unknown), or None."""
        ids = self.vocabulary.ids(sentences)
        y = np.full(len(ids), -1, np.int32) if categories is None else np.asarray(categories, np.int32)
        return np.concatenate([np.asarray(self._apply(ids[i:i + 256], y[i:i + 256]))
                               for i in range(0, len(ids), 256)]) if len(ids) else np.zeros(0)
