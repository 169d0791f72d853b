"""A user's top-n unseen items from a trained recommender run (CFGAN on MovieLens):

    python -m gan_jax.recommend run_dir=runs/cfgan user=42 n=10

`user` is the user's id in the ratings file (MovieLens ids start at 1). Items the user has in
the training interactions are never recommended. Options: step (checkpoint; the latest by
default), member (which member of a population run), ema.
"""

from __future__ import annotations

import dataclasses
import sys

import jax
import numpy as np

from gan_jax.cli import entry
from gan_jax.errors import ConfigError
from gan_jax.metrics.ranking import top_k_unseen
from gan_jax.training import sampling, saved_run
from gan_jax.training.state import generate


@dataclasses.dataclass
class RecommendConfig:
    run_dir: str = "???"
    user: int = "???"  # type: ignore[assignment]
    n: int = 10
    step: int | None = None
    member: int = 0
    ema: bool = True


def recommend(cfg: RecommendConfig) -> list[tuple[int, str, float]]:
    """[(item id, title, score)] of the user's top-n unseen items, best first."""
    if cfg.n <= 0:
        raise ConfigError(f"n={cfg.n} must be positive.")
    run = saved_run.load(cfg.run_dir, cfg.step)
    gan, data = run.setup.gan, run.setup.data
    if gan.pairing is None or data.interactions is None:
        raise ConfigError(f"run_dir={cfg.run_dir} is a {run.cfg['model']['name']} run on "
                          f"data={data.name}, not a recommender; train one with "
                          f"experiment=cfgan_ml100k.")
    if not 0 <= cfg.member < run.size:
        raise ConfigError(f"member={cfg.member} is out of range: the run has {run.size} member(s).")
    inter = data.interactions
    index = np.flatnonzero(inter.user_ids == cfg.user)
    if not len(index):
        raise ConfigError(f"user={cfg.user} is not in the data: user ids run from "
                          f"{inter.user_ids.min()} to {inter.user_ids.max()}.")
    n = min(cfg.n, int((~inter.train[index[0]]).sum()))
    z, y = sampling.answer_inputs(gan, inter.as_rows(inter.train).astype(np.float32))
    state = run.member(cfg.member)
    rows = np.asarray(jax.jit(lambda s, z, y: generate(gan, s, z, y, cfg.ema))(state, z, y))
    scores = inter.from_rows(rows)[index]
    top = np.asarray(top_k_unseen(scores, inter.train[index], n))[0]
    return [(int(inter.item_ids[i]), inter.titles[i], float(scores[0, i])) for i in top]


def report(cfg: RecommendConfig, items: list[tuple[int, str, float]]) -> None:
    print(f"top {len(items)} unseen items for user {cfg.user}:")
    for rank, (item, title, score) in enumerate(items, 1):
        print(f"{rank:3d}. {title}  (item {item}, score {score:.3f})")


main = entry(RecommendConfig, "python -m gan_jax.recommend run_dir=RUN user=ID [n=10]", recommend,
             report)

if __name__ == "__main__":
    sys.exit(main())
