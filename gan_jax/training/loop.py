"""The host loop: chunks of compiled steps, logging, samples, evaluation, checkpoints."""

from __future__ import annotations

import json
import math
import pathlib
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from gan_jax.errors import ConfigError, DivergenceError
from gan_jax.logging import Logger, flat_hparams, image_grid, label_rows, save_png, scatter_image
from gan_jax.metrics.mixtures import mode_metrics
from gan_jax.training import setup as setup_lib
from gan_jax.training.checkpoint import Checkpoints
from gan_jax.training.state import GANState, generate
from gan_jax.training.step import make_train_chunk

SAMPLE_KEY_TAG = 1  # fold_in tags keep sample/eval latents apart from training keys
EVAL_KEY_TAG = 2
# Settings that may change when a run is resumed; everything else must match the checkpoint.
RESUMABLE = {"trainer"}


class Run:
    """Everything one training run holds on the host; `train` drives it."""

    def __init__(self, cfg: dict, run_dir: str | pathlib.Path):
        self.cfg = cfg
        self.t = cfg["trainer"]
        self.dir = pathlib.Path(run_dir)
        self.setup = setup_lib.build(cfg)  # validates cfg before anything is written
        self.checkpoints_dir = self.dir / "checkpoints"
        self._check_resume()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ckpt = Checkpoints(self.checkpoints_dir, int(self.t["keep_checkpoints"]))
        self.logger = Logger(self.dir)
        base = jax.random.PRNGKey(int(cfg["seed"]))
        gan = self.setup.gan
        # Conditional: one row of 8 per category; unconditional: an 8x8 grid.
        n = 8 * gan.num_classes if gan.num_classes else 64
        self.sample_z = gan.sample_latent(jax.random.fold_in(base, SAMPLE_KEY_TAG), n)
        self.sample_y = jnp.repeat(jnp.arange(gan.num_classes), 8) if gan.num_classes else None
        self.eval_key = jax.random.fold_in(base, EVAL_KEY_TAG)
        self._chunks: dict[int, Any] = {}
        self._generate = jax.jit(lambda state, z, y=None: generate(self.setup.gan, state, z, y))

    def _check_resume(self) -> None:
        has_ckpt = self.checkpoints_dir.is_dir() and any(
            p.name.isdigit() for p in self.checkpoints_dir.iterdir())
        if self.t["resume"] and not has_ckpt:
            raise ConfigError(f"trainer.resume=true but {self.checkpoints_dir} holds no checkpoint; "
                              f"point hydra.run.dir at an existing run or drop trainer.resume.")
        if not self.t["resume"] and has_ckpt:
            raise ConfigError(f"{self.dir} already holds checkpoints; pass trainer.resume=true to "
                              f"continue that run, or choose another hydra.run.dir.")
        saved = self.dir / "config.json"
        if self.t["resume"] and saved.is_file():
            old = json.loads(saved.read_text())
            changed = sorted(k for k in set(old) | set(self.cfg)
                             if k not in RESUMABLE and old.get(k) != self.cfg.get(k))
            if changed:
                raise ConfigError(f"cannot resume {self.dir} with a different {', '.join(changed)} "
                                  f"config; only trainer.* may change (see {saved}).")

    def chunk_fn(self, n: int):
        if n not in self._chunks:
            self._chunks[n] = jax.jit(make_train_chunk(self.setup.step, n), donate_argnums=0)
        return self._chunks[n]

    def initial_state(self) -> GANState:
        state = self.setup.init_state()
        if self.t["resume"]:
            state = self.ckpt.restore(state)
            print(f"resumed {self.dir} at step {int(state.step)}", flush=True)
        else:
            (self.dir / "config.json").write_text(json.dumps(self.cfg, indent=2, sort_keys=True))
        return state

    def log_samples(self, state: GANState, step: int) -> np.ndarray:
        samples = np.asarray(self._generate(state, self.sample_z, self.sample_y))
        data = self.setup.data
        if data.is_image:
            image = image_grid(samples, data.value_range, ncol=8)
            if self.sample_y is not None:
                image = label_rows(image, data.class_names)
        else:
            z = self.setup.gan.sample_latent(self.eval_key, int(self.t["eval_samples"]))
            image = scatter_image(np.asarray(self._generate(state, z)), data.modes)
        self.logger.image("samples", image, step)
        return image

    def evaluate(self, state: GANState, step: int) -> dict[str, float]:
        data = self.setup.data
        if data.modes is None:
            return {}
        z = self.setup.gan.sample_latent(self.eval_key, int(self.t["eval_samples"]))
        results = mode_metrics(self._generate(state, z), data.modes, data.mode_std, threshold=3.0)
        results = {f"eval/{k}": v for k, v in results.items()}
        self.logger.scalars(results, step)
        return results


def _check_finite(metrics: dict[str, np.ndarray], first_step: int) -> None:
    for name, values in metrics.items():
        bad = ~np.isfinite(values)
        if bad.any():
            at = first_step + int(np.argmax(bad)) + 1
            raise DivergenceError(
                f"training diverged: {name} is {values[bad][0]} at step {at}. Nothing after the "
                f"last checkpoint was saved. Try a lower optim.lr, a different loss, or resume "
                f"from the last checkpoint with trainer.resume=true.")


def train(cfg: dict, run_dir: str | pathlib.Path) -> dict:
    """Train per `cfg` (plain nested dict) in `run_dir`; returns (and writes) summary.json."""
    run = Run(cfg, run_dir)
    t = run.t
    total, every = int(t["steps"]), int(t["log_every"])
    state = run.initial_state()
    step = int(state.step)
    if step >= total:
        raise ConfigError(f"{run.dir} is already at step {step} >= trainer.steps={total}; "
                          f"raise trainer.steps to train further.")
    start_step, start_time = step, time.perf_counter()
    summary: dict[str, Any] = {"status": "running", "run_dir": str(run.dir)}
    final_metrics: dict[str, float] = {}
    evals: dict[str, float] = {}
    bar = tqdm(total=total, initial=step, disable=not t["progress"], unit="step", dynamic_ncols=True)
    try:
        while step < total:
            n = min(every - step % every, total - step)  # chunk edges at multiples of log_every
            state, metrics = run.chunk_fn(n)(state, run.setup.data.arrays)
            metrics = jax.device_get(metrics)
            _check_finite(metrics, step)
            step += n
            final_metrics = {k: float(np.mean(v)) for k, v in metrics.items()}
            run.logger.scalars(final_metrics, step)
            elapsed = time.perf_counter() - start_time
            run.logger.scalars({"perf/steps_per_second": (step - start_step) / elapsed}, step)
            bar.update(n)
            bar.set_postfix({k: f"{v:.3f}" for k, v in final_metrics.items() if k.endswith("loss")})
            last = step == total
            if step % int(t["sample_every"]) == 0 or last:
                image = run.log_samples(state, step)
                if last:
                    save_png(run.dir / "samples.png", image)
            if step % int(t["eval_every"]) == 0 or last:
                evals = run.evaluate(state, step)
            if step % int(t["checkpoint_every"]) == 0 or last:
                run.ckpt.save(step, state)
        summary.update(status="completed")
    except DivergenceError as e:
        summary.update(status="diverged", error=str(e))
        raise
    except BaseException as e:  # interrupted or crashed: say so rather than leave "running"
        summary.update(status="interrupted" if isinstance(e, KeyboardInterrupt) else "failed",
                       error=repr(e))
        raise
    finally:
        bar.close()
        elapsed = time.perf_counter() - start_time
        summary.update(step=step, wall_seconds=round(elapsed, 2),
                       steps_per_second=round((step - start_step) / elapsed, 3) if elapsed > 0 else math.nan,
                       metrics=final_metrics, eval=evals, latest_checkpoint=run.ckpt.latest_step())
        (run.dir / "summary.json").write_text(json.dumps(summary, indent=2))
        hparams = flat_hparams({k: v for k, v in cfg.items() if k != "trainer"})
        hparams["mitigations"] = "+".join(cfg.get("mitigation") or {}) or "none"
        run.logger.hparams(hparams, [*final_metrics, *evals])
        run.logger.close()
        run.ckpt.close()
    return summary
