"""Evaluate a checkpoint: `python -m gan_jax.evaluate run_dir=RUN [key=value ...]`.

    python -m gan_jax.evaluate run_dir=runs/default_5k                  # latest checkpoint
    python -m gan_jax.evaluate run_dir=runs/default_5k samples=10000 step=3000
    python -m gan_jax.evaluate run_dir=runs/ring eval.mode_threshold=2  # any eval.* setting

Options: step (the latest by default), samples (the run's trainer.eval_samples by default; a
table run: rows of the synthetic table, as many as the training rows by default; a recommender
run ranks every training row and refuses samples), seed (latents), ema (use the EMA generator
when the run has one), out (JSON path; by default
`<run_dir>/eval/step<N>_n<samples>.json`), and eval.<key> overriding the run's eval settings
(conf/eval/default.yaml). Population runs are evaluated member by member.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import pathlib
import sys
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from omegaconf import OmegaConf

from gan_jax.cli import parse_options
from gan_jax.config import schemas
from gan_jax.config.validate import check_option
from gan_jax.errors import ConfigError, UserError
from gan_jax.metrics import evaluator as evaluator_lib
from gan_jax.training import sampling, saved_run
from gan_jax.training.state import apply_generator, generate

DEFAULT_EVAL = pathlib.Path(__file__).resolve().parents[1] / "conf" / "eval" / "default.yaml"


@dataclasses.dataclass
class EvaluateConfig:
    run_dir: str = "???"
    step: int | None = None
    samples: int | None = None
    seed: int = 0
    ema: bool = True
    out: str | None = None
    eval: dict[str, Any] = dataclasses.field(default_factory=dict)


def parse(argv: list[str]) -> EvaluateConfig:
    cfg = parse_options(EvaluateConfig, argv,
                        "python -m gan_jax.evaluate run_dir=RUN [step=N] [samples=N] [eval.KEY=VALUE]")
    if cfg.samples is not None and cfg.samples < 2:
        raise ConfigError(f"samples={cfg.samples} must be at least 2.")
    return cfg


def eval_settings(run_cfg: dict, overrides: dict) -> dict:
    """The run's eval settings (defaults for runs saved before they existed) with overrides."""
    base = run_cfg.get("eval") or OmegaConf.to_container(OmegaConf.load(DEFAULT_EVAL))
    settings = {**base, **overrides}
    check_option(settings, schemas.Eval, "eval")  # unknown keys, types and ranges
    return settings


def paired_conditions(evaluator, data, samples: int | None, n: int):
    """What a generator that answers examples (`gan.pairing`) is asked, as the training loop asks
    it: the evaluator's conditions (a table's: `samples` rows at the data's frequencies;
    a recommender's: every training row, so `samples` is refused), or n fixed real images to
    reconstruct (GANomaly)."""
    conditions = getattr(evaluator, "conditions", None)
    if conditions is None:
        return sampling.fixed_reals(data, n)
    if samples is None:
        return conditions
    if not hasattr(evaluator, "conditions_for"):
        raise ConfigError(f"samples={samples} does not apply to this run: its metrics rank the "
                          f"generator's answer to each of its {len(conditions)} training rows, "
                          f"all of them; drop samples=.")
    return evaluator.conditions_for(samples)


def evaluate(cfg: EvaluateConfig) -> dict:
    run = saved_run.load(cfg.run_dir, cfg.step)
    settings = eval_settings(run.cfg, cfg.eval)
    gan, data = run.setup.gan, run.setup.data
    evaluator = evaluator_lib.build(settings, run.cfg["data"], data)
    if evaluator is None and data.text is not None:
        raise ConfigError(f"the text metrics (BLEU, Self-BLEU, NLL_gen) compare with held-out "
                          f"sentences and {run.dir} was trained without them: train with "
                          f"data.test_path=<held-out file>; its sentences can still be drawn with "
                          f"python -m gan_jax.sample run_dir={run.dir}.")
    if evaluator is None:
        raise ConfigError(f"data={data.name} has no evaluation metrics.")
    n = cfg.samples or int(run.cfg["trainer"]["eval_samples"])
    key = jax.random.PRNGKey(cfg.seed)
    z = gan.sample_latent(key, n)
    y = jnp.arange(n) % gan.num_classes if gan.num_classes else None
    if gan.pairing is not None:  # G's answer to every condition the evaluator asks
        conditions = paired_conditions(evaluator, data, cfg.samples, n)
        z, y = sampling.answer_inputs(gan, conditions, z=gan.sample_latent(key, len(conditions)))
        n = len(y)
    sample_fn = jax.jit(lambda s, z, y: generate(gan, s, z, y, cfg.ema))

    apply_fn = jax.jit(functools.partial(apply_generator, gan, use_ema=cfg.ema),
                       static_argnames="method")
    members = []
    for i in range(run.size):
        member = run.member(i)
        metrics = evaluator(sampling.in_chunks(lambda z, y, member=member: sample_fn(member, z, y), z, y))
        if hasattr(evaluator, "model_metrics"):  # metrics that read G itself (NLL_gen)
            metrics.update(evaluator.model_metrics(functools.partial(apply_fn, member)))
        members.append(metrics)
    step = int(np.max(run.state.step))
    result = {"run_dir": str(run.dir), "step": step, "samples": n, "seed": cfg.seed,
              "ema": cfg.ema, "eval_settings": settings, "reference": evaluator.reference(n),
              "reference_is": getattr(evaluator, "reference_is", "real data")}
    if hasattr(evaluator, "net"):
        result["feature_net"] = {"name": evaluator.net.name,
                                 "test_accuracy": evaluator.net.test_accuracy}
    if run.size == 1:
        result["metrics"] = members[0]
    else:
        result["members"] = [{"member": i, "metrics": m} for i, m in enumerate(members)]
    out = pathlib.Path(cfg.out) if cfg.out else run.dir / "eval" / f"step{step}_n{n}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    result["out"] = str(out)
    return result


def main(argv: list[str] | None = None) -> int:
    logging.getLogger("absl").setLevel(logging.WARNING)
    try:
        result = evaluate(parse(sys.argv[1:] if argv is None else argv))
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    rows = [result["metrics"]] if "metrics" in result else [m["metrics"] for m in result["members"]]
    for i, row in enumerate(rows):
        label = "" if len(rows) == 1 else f"member {i}: "
        print(label + "  ".join(f"{k}={v:.4g}" for k, v in row.items()))
    print(f"{result['reference_is']}: " + "  ".join(f"{k}={v:.4g}" for k, v in result["reference"].items()))
    print(f"wrote {result['out']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
