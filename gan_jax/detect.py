"""Train an anomaly detector on a one-category run and score the test split:

    python -m gan_jax.detect run_dir=runs/oneclass [detector.steps=2000] [detector.kappa=1]

The run must have learnt one category (`data.category=c`, or `data.category=[0,...,9]` with
`trainer.population=10` for all ten at once). `detector=fanogan` (`conf/detector/`) trains an
encoder onto each member's frozen G, as one compiled program for a population;
`detector.name=ganomaly` (the default for a `model=ganomaly` run) scores such a run as it is. Both write
`<run_dir>/detector/<name>/`: the settings, any trained weights, and results.json with each
member's one-class ROC AUC on the data's test split (its category normal, the nine others
anomalous).
Nothing is chosen on test data: the detector trains for a fixed number of steps. A run whose GAN
learnt from the test images (`data.split=test`, or training files that hold test images) is
refused.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import sys
import time
from typing import Any, Callable

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
from gan_jax.models import ganomaly
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


def test_split(run) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images [n, 28, 28, 1], labels [n]) of the split a detector is scored on."""
    data_cfg = run.cfg["data"]
    return fashion_mnist.load_numpy("test", data_cfg.get("root"), bool(data_cfg.get("download")))


def check_no_leak(run, test_images: np.ndarray) -> None:
    """Refuse a run whose GAN learnt from the images its detector is scored on: trained on the
    test split, or on training files that hold test images (a test file copied over the
    training one): its AUROC would measure memory, not detection."""
    members = run.setup.members if run.size > 1 else (run.cfg,)
    split = next((m["data"].get("split", "train") for m in members
                  if m["data"].get("split", "train") != "train"), "train")
    if split != "train":
        raise ConfigError(f"run_dir={run.dir} was trained with data.split={split}, the images "
                          f"its detector is scored on; retrain the GAN with data.split=train.")
    seen = {row.tobytes() for row in np.asarray(run.setup.data.arrays["x"])}
    shared = sum(row.tobytes() in seen for row in test_images)
    if shared:
        root = run.cfg["data"].get("root")
        raise ConfigError(f"{shared} of the {len(test_images)} test images the detector is scored "
                          f"on are training images of run_dir={run.dir} (data.root={root}: its "
                          f"test files repeat its training files); train on a data.root whose "
                          f"test files are held out.")


def train_encoders(run, cfg: dict, categories: list[int]):
    """Stacked encoder parameters [members, ...] trained per member, and their losses."""
    gan, data = run.setup.gan, run.setup.data
    encoder = fanogan.make_encoder(gan, cfg)
    opt = optax.adam(float(cfg["lr"]), b1=0.5, b2=0.999)

    def member_chunk(carry, gan_state, category, arrays):
        step = fanogan.make_train_step(gan, encoder, category_sampler(data, category), opt,
                                       int(cfg["batch_size"]), float(cfg["kappa"]))
        return jax.lax.scan(lambda c, _: step(c, gan_state, arrays), carry, None, length=CHUNK)

    size = len(categories)
    states = stacked_states(run)
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
    return carry[0], np.stack(losses, 1)


def stacked_states(run):
    return run.state if run.size > 1 else jax.tree_util.tree_map(lambda x: x[None], run.state)


def fanogan_scorer(run, det: dict, params) -> Callable[[np.ndarray], np.ndarray]:
    encoder, gan, kappa = fanogan.make_encoder(run.setup.gan, det), run.setup.gan, float(det["kappa"])
    fn = jax.jit(jax.vmap(lambda s, p, x: fanogan.anomaly_score(gan, encoder, s, p, x, kappa),
                          in_axes=(0, 0, None)))
    states = stacked_states(run)
    return lambda x: fn(states, params, x)


def ganomaly_scorer(run, det: dict, params=None) -> Callable[[np.ndarray], np.ndarray]:
    if run.cfg["model"]["name"] != "ganomaly":
        raise ConfigError(f"detector=ganomaly scores a model=ganomaly run; run_dir={run.dir} "
                          f"trained model={run.cfg['model']['name']}.")
    gan = run.setup.gan

    def one(state, x):
        g_params = state.ema_params if state.ema_params is not None else state.g_params
        return ganomaly.anomaly_score(gan.generator, {"params": g_params, **state.g_state}, x)

    fn, states = jax.jit(jax.vmap(one, in_axes=(0, None))), stacked_states(run)
    return lambda x: fn(states, x)


def load_encoders(run, det: dict, folder: pathlib.Path):
    encoder = fanogan.make_encoder(run.setup.gan, det)
    template = jax.vmap(lambda s: fanogan.init_encoder(encoder, run.setup.data.shape, s))(
        np.arange(run.size))
    return flax.serialization.from_bytes(template, (folder / "encoder.msgpack").read_bytes())


SCORERS = {"fanogan": fanogan_scorer, "ganomaly": ganomaly_scorer}


def score_images(scorer: Callable, x: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """[members, n] anomaly scores of images x [n, h, w, c] (floats in the data's range)."""
    return np.concatenate([np.asarray(scorer(jnp.asarray(x[i:i + chunk])))
                           for i in range(0, len(x), chunk)], axis=1)


def default_detector(run_dir: str) -> str:
    """The detector of a run when none is named: a model=ganomaly run scores itself (ganomaly);
    any other one-class GAN gets an f-AnoGAN encoder (fanogan)."""
    saved = pathlib.Path(run_dir) / "config.json"
    model = json.loads(saved.read_text())["model"]["name"] if saved.is_file() else None
    return "ganomaly" if model == "ganomaly" else "fanogan"


def detect(cfg: DetectConfig) -> dict:
    det = settings({"name": default_detector(cfg.run_dir), **cfg.detector})
    run = saved_run.load(cfg.run_dir, cfg.step)
    categories = member_categories(run)
    if det["name"] == "fanogan" and run.setup.gan.pairing is not None:
        raise ConfigError(f"detector.name=fanogan trains an encoder onto a generator of latents; "
                          f"run_dir={run.dir} is a model={run.cfg['model']['name']} run, whose "
                          f"generator reconstructs images: use detector.name=ganomaly.")
    images, labels = test_split(run)
    check_no_leak(run, images)
    out = run.dir / "detector" / det["name"]
    start = time.perf_counter()
    params, losses = None, None
    if det["name"] == "fanogan":  # stage 2: an encoder per member onto its frozen generator
        params, losses = train_encoders(run, det, categories)
    scorer = SCORERS[det["name"]](run, det, params)
    train_s = time.perf_counter() - start
    scores = score_images(scorer, images.astype(np.float32) / 255.0)
    members = [{"member": i, "category": c, "name": fashion_mnist.CLASS_NAMES[c],
                "auroc": auroc(scores[i], labels != c),
                "final_loss": None if losses is None else float(losses[i, -1])}
               for i, c in enumerate(categories)]
    out.mkdir(parents=True, exist_ok=True)
    if params is not None:
        (out / "encoder.msgpack").write_bytes(flax.serialization.to_bytes(params))
    result = {"run_dir": str(run.dir), "gan_step": int(np.max(np.asarray(run.state.step))),
              "detector": det, "members": members,
              "mean_auroc": float(np.mean([m["auroc"] for m in members])),
              "test_split": "fashion_mnist test (10k): the member's category normal, the rest anomalous",
              "detector_train_seconds": round(train_s, 1)}
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
