"""Train an anomaly detector on a one-category run and score the test split:

    python -m gan_jax.detect run_dir=runs/oneclass [detector.steps=2000] [detector.kappa=1]

The run must have learnt one category (`data.category=c`, or `data.category=[0,...,9]` with
`trainer.population=10` for all ten at once). f-AnoGAN (`conf/detector/fanogan.yaml`) trains an
encoder onto G's latent space per member, as one compiled program for a population, and writes
`<run_dir>/detector/fanogan/`: the encoders, the settings, and results.json with each member's
one-class ROC AUC on the data's test split (its category normal, the other nine anomalous).
Nothing is chosen on test data: the detector trains for a fixed number of steps.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import sys
import time
from typing import Any

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax
from omegaconf import OmegaConf

from gan_jax.cli import entry
from gan_jax.config import schemas
from gan_jax.config.validate import check_option
from gan_jax.data import fashion_mnist
from gan_jax.data.spec import category_sampler
from gan_jax.detectors import fanogan
from gan_jax.errors import ConfigError, UserError
from gan_jax.metrics.auroc import auroc
from gan_jax.training import saved_run

CONF = pathlib.Path(__file__).resolve().parents[1] / "conf" / "detector"
CHUNK = 100  # encoder steps per compiled call


@dataclasses.dataclass
class DetectConfig:
    run_dir: str = "???"
    step: int | None = None
    detector: dict[str, Any] = dataclasses.field(default_factory=dict)


def settings(overrides: dict) -> dict:
    name = overrides.get("name", "fanogan")
    path = CONF / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"detector.name={name} is unknown; choose one of "
                          f"{', '.join(p.stem for p in sorted(CONF.glob('*.yaml')))}.")
    cfg = {**OmegaConf.to_container(OmegaConf.load(path)), **overrides}
    check_option(cfg, schemas.DETECTORS[name], "detector")
    return cfg


def member_categories(run) -> list[int]:
    members = run.setup.members if run.size > 1 else (run.cfg,)
    categories = [m["data"].get("category") for m in members]
    if run.cfg["data"]["name"] != "fashion_mnist" or any(c is None for c in categories):
        raise ConfigError(f"run_dir={run.dir} was not trained on one category; train the GAN with "
                          f"data=fashion_mnist data.category=<0-9> (or a list with "
                          f"trainer.population) first.")
    return [int(c) for c in categories]


def train_encoders(run, cfg: dict, categories: list[int]):
    """Stacked encoder parameters [members, ...] trained per member; (params, losses, encoder)."""
    gan, data = run.setup.gan, run.setup.data
    encoder = fanogan.make_encoder(gan, cfg)
    opt = optax.adam(float(cfg["lr"]), b1=0.5, b2=0.999)

    def member_chunk(carry, gan_state, category, arrays):
        step = fanogan.make_train_step(gan, encoder, category_sampler(data, category), opt,
                                       int(cfg["batch_size"]), float(cfg["kappa"]))
        return jax.lax.scan(lambda c, _: step(c, gan_state, arrays), carry, None, length=CHUNK)

    size = len(categories)
    states = run.state if size > 1 else jax.tree_util.tree_map(lambda x: x[None], run.state)
    seeds = jnp.arange(size) + int(cfg["seed"])
    params = jax.vmap(lambda s: fanogan.init_encoder(encoder, data.shape, s))(seeds)
    carry = (params, jax.vmap(opt.init)(params), jax.vmap(jax.random.PRNGKey)(seeds + 1000))
    chunk = jax.jit(jax.vmap(member_chunk, in_axes=(0, 0, 0, None)))
    cats = jnp.asarray(categories, jnp.float32)
    losses = []
    for _ in range(-(-int(cfg["steps"]) // CHUNK)):
        carry, loss = chunk(carry, states, cats, data.arrays)
        losses.append(np.asarray(loss)[:, -1])
        if not np.isfinite(losses[-1]).all():
            raise UserError(f"the encoder diverged (loss {losses[-1]}); lower detector.lr.")
    return carry[0], np.stack(losses, 1), encoder, states


def score_images(run, encoder, params, states, x: np.ndarray, kappa: float) -> np.ndarray:
    """[members, n] anomaly scores of images x [n, h, w, c] (floats in the data's range)."""
    fn = jax.jit(jax.vmap(lambda s, p, xb: fanogan.anomaly_score(run.setup.gan, encoder, s, p,
                                                                  xb, kappa), in_axes=(0, 0, None)))
    return np.concatenate([np.asarray(fn(states, params, jnp.asarray(x[i:i + 1000])))
                           for i in range(0, len(x), 1000)], axis=1)


def detect(cfg: DetectConfig) -> dict:
    det = settings(cfg.detector)
    run = saved_run.load(cfg.run_dir, cfg.step)
    categories = member_categories(run)
    start = time.perf_counter()
    params, losses, encoder, states = train_encoders(run, det, categories)
    train_s = time.perf_counter() - start
    data_cfg = run.cfg["data"]
    images, labels = fashion_mnist.load_numpy("test", data_cfg.get("root"), bool(data_cfg.get("download")))
    x = images.astype(np.float32) / 255.0
    scores = score_images(run, encoder, params, states, x, float(det["kappa"]))
    members = [{"member": i, "category": c, "name": fashion_mnist.CLASS_NAMES[c],
                "auroc": auroc(scores[i], labels != c), "final_loss": float(losses[i, -1])}
               for i, c in enumerate(categories)]
    out = run.dir / "detector" / det["name"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "encoder.msgpack").write_bytes(flax.serialization.to_bytes(params))
    result = {"run_dir": str(run.dir), "gan_step": int(np.max(np.asarray(run.state.step))),
              "detector": det, "members": members,
              "mean_auroc": float(np.mean([m["auroc"] for m in members])),
              "test_split": "fashion_mnist test (10k): the member's category normal, the rest anomalous",
              "encoder_train_seconds": round(train_s, 1)}
    (out / "results.json").write_text(json.dumps(result, indent=2))
    result["out"] = str(out)
    return result


def report(cfg: DetectConfig, result: dict) -> None:
    for m in result["members"]:
        print(f"{m['category']} {m['name']:<12} AUROC {m['auroc']:.3f}")
    print(f"mean AUROC {result['mean_auroc']:.3f}; wrote {result['out']}")


main = entry(DetectConfig, "python -m gan_jax.detect run_dir=RUN [detector.KEY=VALUE]", detect, report)

if __name__ == "__main__":
    sys.exit(main())
