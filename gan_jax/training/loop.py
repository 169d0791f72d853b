"""The host loop: chunks of compiled steps, logging, samples, evaluation, checkpoints."""

from __future__ import annotations

import functools
import json
import logging
import math
import pathlib
import sys
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from gan_jax import parallel
from gan_jax.config.saved import with_new_defaults
from gan_jax.config.validate import validate_trainer
from gan_jax.errors import ConfigError, DivergenceError
from gan_jax.tensorboard_writer import Logger, flat_hparams, image_grid, label_rows, save_png, scatter_image
from gan_jax.metrics import evaluator as evaluator_lib
from gan_jax.training import phases as phases_lib
from gan_jax.training import population as population_lib
from gan_jax.training import sampling
from gan_jax.training import setup as setup_lib
from gan_jax.training.checkpoint import Checkpoints, Damage
from gan_jax.training.state import GANState, apply_generator, generate
from gan_jax.training.step import make_train_chunk

# Settings that may change when a run is resumed; everything else must match the checkpoint.
RESUMABLE = {"trainer", "eval"}
log = logging.getLogger(__name__)


class Run:
    """Everything one training run holds on the host; `train` drives it.

    A population run (`trainer.population=N`) holds N members in one state whose leaves carry a
    leading member axis; each member logs to its own TensorBoard run `tb/member_NN`. A
    `trainer.parallel=pmap` run holds one replica per device along a leading device axis;
    samples, evaluation and checkpoints use one replica (`one_replica`).
    """

    def __init__(self, cfg: dict, run_dir: str | pathlib.Path):
        self.cfg = cfg
        self.t = cfg["trainer"]
        self.dir = pathlib.Path(run_dir)
        population_lib.check_groups(cfg)  # lists where none may be, with the multirun hint
        validate_trainer(cfg)  # then the trainer group, which says how to split a population
        self.placement = parallel.placement(self.t)
        self.replicas = self.placement if isinstance(self.placement, parallel.Replicas) else None
        self.size = int(self.t["population"])
        varying = population_lib.varying_settings(cfg)  # also refuses lists without a population
        if self.placement:  # equal shares: members when a population, else the batch
            self.placement.check_divides(*((self.size, "trainer.population") if self.size > 1
                                           else (int(self.t["batch_size"]), "trainer.batch_size")))
        # Both validate cfg before anything is written.
        if self.size > 1:
            self.setup = population_lib.build(cfg)
            self.member_cfgs = list(self.setup.members)
        else:
            shard = self.placement.shard_batch if self.placement and not self.replicas else None
            self.setup = setup_lib.build(cfg, shard_batch=shard, replicas=self.replicas)
            self.member_cfgs = [cfg]
        self.varying = varying
        self.primary = parallel.is_primary()
        self.checkpoints_dir = self.dir / "checkpoints"
        self._check_resume()
        # Before anything is written: a missing feature net or reference split fails here.
        self.evaluator = evaluator_lib.build(cfg["eval"], cfg["data"], self.setup.data)
        self.eval_reference: dict[str, float] | None = None
        gan = self.setup.gan

        def latents(tag: int, n: int) -> jax.Array:
            """Fixed latents per member from its own seed, as its single run would draw."""
            zs = [sampling.fixed_latents(gan, m["seed"], tag, n) for m in self.member_cfgs]
            return zs[0] if self.size == 1 else jnp.stack(zs)

        # Conditional: one row of 8 per category; unconditional: an 8x8 grid.
        self.sample_z = latents(sampling.SAMPLE_KEY_TAG, 8 * gan.num_classes if gan.num_classes else 64)
        self.sample_y = jnp.repeat(jnp.arange(gan.num_classes), 8) if gan.num_classes else None
        self.eval_z = latents(sampling.EVAL_KEY_TAG, int(self.t["eval_samples"]))
        # Conditional runs are evaluated on equally many samples of every category.
        self.eval_y = (jnp.arange(int(self.t["eval_samples"])) % gan.num_classes
                       if gan.num_classes else None)
        if gan.pairing is not None:  # G answers real examples: the evaluator's, or fixed reals
            self.sample_z, self.sample_y = sampling.answer_inputs(
                gan, sampling.fixed_reals(self.setup.data, 64), self.size)
            conditions = getattr(self.evaluator, "conditions", None)
            if conditions is None:
                conditions = sampling.fixed_reals(self.setup.data, int(self.t["eval_samples"]))
            self.eval_z, self.eval_y = sampling.answer_inputs(
                gan, conditions, self.size, latents(sampling.EVAL_KEY_TAG, len(conditions)))
        self.phases = self.setup.schedule()
        self._chunks: dict[tuple[int, int], Any] = {}
        self.damaged: list[Damage] = []  # damaged checkpoints passed over when resuming
        generate_fn = lambda state, z, y: generate(gan, state, z, y)  # noqa: E731
        if self.size > 1:
            generate_fn = jax.vmap(generate_fn, in_axes=(0, 0, None))
        self._generate = jax.jit(generate_fn)
        self._apply_generator = jax.jit(functools.partial(apply_generator, gan),
                                        static_argnames="method")

    def open(self) -> None:
        """Create the run directory, checkpoint manager and TensorBoard writers: the first
        writes, after every check in __init__ has passed."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ckpt = Checkpoints(self.checkpoints_dir, int(self.t["keep_checkpoints"]))
        tb = self.dir / "tb"
        self.loggers = [Logger(tb / f"member_{i:02d}" if self.size > 1 else tb, self.primary)
                        for i in range(self.size)]

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
            old = with_new_defaults(json.loads(saved.read_text()))
            changed = sorted(k for k in set(old) | set(self.cfg)
                             if k not in RESUMABLE and old.get(k) != self.cfg.get(k))
            if old.get("trainer", {}).get("population", 1) != self.size:
                changed.append("trainer.population")
            if changed:
                raise ConfigError(f"cannot resume {self.dir} with a different {', '.join(changed)} "
                                  f"config; only trainer.* (but trainer.population) may change "
                                  f"(see {saved}).")

    def chunk_fn(self, n: int, phase: int = 0):
        """n steps of phase `phase` (an index into `self.phases`) in one compiled call."""
        if (phase, n) not in self._chunks:
            chunk = make_train_chunk(self.phases[phase].step, n)
            if self.replicas:
                compiled = self.replicas.compile(chunk)
            elif self.placement:
                compiled = jax.jit(chunk, donate_argnums=0, out_shardings=(
                    self.state_sharding, self.placement.replicated))
            else:
                compiled = jax.jit(chunk, donate_argnums=0)
            self._chunks[phase, n] = compiled
        return self._chunks[phase, n]

    @property
    def state_sharding(self):
        return self.placement.split if self.size > 1 else self.placement.replicated

    def initial_state(self) -> tuple[GANState, Any]:
        """The state (fresh or restored) and the dataset arrays, placed on the devices."""
        state = self.setup.init_state()
        if self.t["resume"]:
            state, step, self.damaged = self.ckpt.restore_latest_intact(state)
            for d in self.damaged:
                _warn(f"{d}; moved it to {d.moved_to} and resumed from step {step}, the newest "
                      f"intact checkpoint.")
            print(f"resumed {self.dir} at step {int(np.max(state.step))}", flush=True)
        elif self.primary:
            (self.dir / "config.json").write_text(json.dumps(self.cfg, indent=2, sort_keys=True))
        arrays = self.setup.data.arrays
        if self.replicas:
            state = self.replicas.replicate(state)
            arrays = self.replicas.put(arrays, self.replicas.replicated)
        elif self.placement:
            state = self.placement.put(state, self.state_sharding)
            arrays = self.placement.put(arrays, self.placement.replicated)
        return state, arrays

    def one_replica(self, state: GANState) -> GANState:
        """The state as a single run holds it: one replica of a pmap state, else the state."""
        return self.replicas.unreplicate(state) if self.replicas else state

    def checkpointable(self, state: GANState) -> GANState:
        return self.replicas.checkpointable(state) if self.replicas else state

    def member(self, tree: Any, i: int) -> Any:
        """Member i's slice of a per-member pytree (the tree itself for a single run)."""
        return tree if self.size == 1 else jax.tree_util.tree_map(lambda x: x[i], tree)

    def describe(self, i: int) -> str:
        if self.size == 1:
            return ""
        settings = ", ".join(f"{p}={v[i]}" for p, v in self.varying.items())
        return f"population member {i} ({settings}): "

    def log_samples(self, state: GANState, step: int) -> list[np.ndarray]:
        data = self.setup.data
        if data.text is not None:  # sentences: the first 16 of the fixed eval latents, as text
            labels = None if self.eval_y is None else self.eval_y[:16]
            ids = np.asarray(self._generate(state, self.eval_z[..., :16, :], labels))
            for i in range(self.size):
                lines = [" ".join(data.text.decode(row)) for row in self.member(ids, i)]
                self.loggers[i].text("samples", "\n\n".join(lines), step)
            return []
        if not data.is_image and data.modes is None:  # no picture of, e.g., interaction vectors
            return []
        if data.is_image:
            samples = np.asarray(self._generate(state, self.sample_z, self.sample_y))
        else:
            samples = np.asarray(self._generate(state, self.eval_z, None))
        images = []
        for i in range(self.size):
            member = self.member(samples, i)
            if data.is_image:
                image = image_grid(member, data.value_range, ncol=8)
                if self.setup.gan.num_classes:
                    image = label_rows(image, data.class_names)
            else:
                image = scatter_image(member, data.modes)
            self.loggers[i].image("samples", image, step)
            images.append(image)
        return images

    def eval_samples(self, state: GANState) -> np.ndarray:
        """[n, ...] (a single run) or [members, n, ...] samples from the fixed eval latents."""
        return sampling.in_chunks(lambda z, y: self._generate(state, z, y), self.eval_z, self.eval_y)

    def evaluate(self, state: GANState, step: int) -> list[dict[str, float]]:
        if self.evaluator is None:
            return [{} for _ in range(self.size)]
        if self.eval_reference is None:  # real data through the same metrics: the ceiling
            self.eval_reference = self.evaluator.reference(self.eval_z.shape[-2])
        samples = self.eval_samples(state)
        model_metrics = getattr(self.evaluator, "model_metrics", None)  # metrics that read G itself
        results = []
        for i in range(self.size):
            values = {f"eval/{k}": v for k, v in self.evaluator(self.member(samples, i)).items()}
            if model_metrics is not None:
                member = self.member(state, i)
                apply = functools.partial(self._apply_generator, member)  # apply(method, *args)
                values.update({f"eval/{k}": v for k, v in model_metrics(apply).items()})
            self.loggers[i].scalars(values, step)
            results.append(values)
        return results


def _warn(message: str) -> None:
    """On stderr, and in the run's log (Hydra's <run_dir>/train.log) when logging is set up."""
    print(f"warning: {message}", file=sys.stderr, flush=True)
    if logging.getLogger().handlers:  # else Python's last-resort handler would print it again
        log.warning(message)


def _check_finite(members: list[dict[str, np.ndarray]], first_step: int,
                  who: list[str] | None = None) -> None:
    """Raise DivergenceError naming the first step (after `first_step`) at which any metric of
    any member is NaN/inf, and every metric (and member) bad at that step.

    `members`: one dict per population member (one for a single run) of per-step metrics [n].
    """
    who = who or [""] * len(members)
    first, bad_names = None, []
    for i, metrics in enumerate(members):
        for name, values in metrics.items():
            values = np.asarray(values)
            bad = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)  # per step
            if not bad.any():
                continue
            at = int(np.argmax(bad))
            if first is None or at < first:
                first, bad_names = at, []
            if at == first:
                row = np.ravel(values[at])
                value = row[~np.isfinite(row)][0]
                bad_names.append(f"{who[i]}{name}={value}")
    if first is not None:
        raise DivergenceError(
            f"training diverged: {', '.join(bad_names)} at step {first_step + first + 1}. Nothing "
            f"after the last checkpoint was saved. Try a lower optim.lr, a different loss, or "
            f"resume from the last checkpoint with trainer.resume=true.")


def train(cfg: dict, run_dir: str | pathlib.Path, on_valid: Callable[[], None] | None = None
          ) -> dict:
    """Train per `cfg` (plain nested dict) in `run_dir`; returns (and writes) summary.json.

    `on_valid` runs once every check has passed, before the run writes anything (the entry
    point records the Hydra config there).
    """
    run = Run(cfg, run_dir)
    if on_valid is not None:
        on_valid()
    run.open()
    t = run.t
    total, every = int(t["steps"]), int(t["log_every"])
    state, arrays = run.initial_state()
    step = int(np.max(state.step))
    if step >= total:
        raise ConfigError(f"{run.dir} is already at step {step} >= trainer.steps={total}; "
                          f"raise trainer.steps to train further.")
    skipped = phases_lib.unreached(run.phases, total)
    if skipped:  # e.g. TimeGAN's joint phase: G would never be trained adversarially
        first = phases_lib.starts(run.phases)[len(run.phases) - len(skipped)]
        which = (f"the {skipped[0]} phase, which starts" if len(skipped) == 1 else
                 f"the {', '.join(skipped[:-1])} and {skipped[-1]} phases, which start")
        _warn(f"trainer.steps={total} ends before {which} at step {first}; raise trainer.steps "
              f"(now, or later with trainer.resume=true) to train them.")
    start_step, start_time = step, time.perf_counter()
    summary: dict[str, Any] = {"status": "running", "run_dir": str(run.dir)}
    final: list[dict[str, float]] = [{} for _ in range(run.size)]  # per member
    evals: list[dict[str, float]] = [{} for _ in range(run.size)]
    bar = tqdm(total=total, initial=step, unit="step", dynamic_ncols=True,
               disable=not (t["progress"] and run.primary))
    try:
        while step < total:
            n = min(every - step % every, total - step)  # chunk edges at multiples of log_every
            phase = phases_lib.phase_at(run.phases, step)  # and at the ends of phases
            n = min(n, phases_lib.steps_left_in_phase(run.phases, step) or n)
            state, metrics = run.chunk_fn(n, phase)(state, arrays)
            metrics = jax.device_get(metrics)  # [n] per scalar, [n, members] in a population
            per_step = [{k: v if run.size == 1 else v[:, i] for k, v in metrics.items()}
                        for i in range(run.size)]
            _check_finite(per_step, step, [run.describe(i) for i in range(run.size)])
            final = [{k: float(np.mean(v)) for k, v in member.items()} for member in per_step]
            step += n
            elapsed = time.perf_counter() - start_time
            for i, logger in enumerate(run.loggers):
                logger.scalars({**final[i], "perf/steps_per_second": (step - start_step) / elapsed}, step)
            bar.update(n)
            bar.set_postfix({k: f"{v:.3f}" for k, v in final[0].items() if k.endswith("loss")})
            last = step == total
            if step % int(t["sample_every"]) == 0 or last:
                images = run.log_samples(run.one_replica(state), step)
                if last and run.primary:
                    for i, image in enumerate(images):
                        save_png(run.dir / (f"samples_member_{i:02d}.png" if run.size > 1
                                            else "samples.png"), image)
            if step % int(t["eval_every"]) == 0 or last:
                evals = run.evaluate(run.one_replica(state), step)
            if step % int(t["checkpoint_every"]) == 0 or last:
                run.ckpt.save(step, run.checkpointable(state))
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
        if run.damaged:
            summary.update(damaged_checkpoints=[
                {"step": d.step, "path": str(d.path), "problem": d.problem,
                 "moved_to": str(d.moved_to)} for d in run.damaged])
        summary.update(step=step, wall_seconds=round(elapsed, 2),
                       steps_per_second=round((step - start_step) / elapsed, 3) if elapsed > 0 else math.nan,
                       latest_checkpoint=run.ckpt.latest_step())
        if run.eval_reference is not None:
            summary.update(eval_reference={f"eval/{k}": v for k, v in run.eval_reference.items()})
        if run.size == 1:
            summary.update(metrics=final[0], eval=evals[0])
        else:  # one entry per member; the top level keeps the run-wide fields
            summary.update(metrics={}, eval={}, members=[
                {"member": i, "hparams": {p: v[i] for p, v in run.varying.items()},
                 "metrics": final[i], "eval": evals[i]} for i in range(run.size)])
        if run.primary:
            (run.dir / "summary.json").write_text(json.dumps(summary, indent=2))
        for i, logger in enumerate(run.loggers):
            member_cfg = run.member_cfgs[i]
            hparams = flat_hparams({k: v for k, v in member_cfg.items() if k != "trainer"})
            hparams["mitigations"] = "+".join(member_cfg.get("mitigation") or {}) or "none"
            if run.size > 1:
                hparams["member"] = i
            logger.hparams(hparams, [*final[i], *evals[i]])
            logger.close()
        run.ckpt.close()
    return summary
