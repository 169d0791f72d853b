"""RelGAN(100), RelGAN(1000) and their maximum-likelihood rival on Texygen's COCO captions.

    .venv/bin/python experiments/relgan_coco/run.py --budget cpu    # see README.md for its cost
    .venv/bin/python experiments/relgan_coco/run.py --budget full   # the authors' 150 epochs + 2,000 steps
    .venv/bin/python experiments/relgan_coco/run.py --budget smoke --out /tmp/rc  # the test

ONE training run, `experiment=relgan_coco`, holds the whole study as a population: RelGAN(100) and
RelGAN(1000) with 3 seeds each (model.max_temperature=[100,100,100,1000,1000,1000],
seed=[0,1,2,0,1,2]). It is first trained to the end of its maximum-likelihood phase: its
generators there ARE the MLE model (the same generator, optimizer, batches and seeds as
`experiment=lm_coco`; tests/text/test_relgan.py checks they are bit-identical), so members 0-2
are scored as MLE, at every temperature of the sweep. Then the same run resumes through the
adversarial phase, and members 0-2 / 3-5 are scored as RelGAN(100) / RelGAN(1000) at temperature
1 (their own distribution). Scores: the run's evaluator, `--samples` sentences per member against
the 10,000 held-out captions: BLEU-2..5, Self-BLEU-4, the Frechet distance of sentence features,
and NLL_gen (of the model sampled at that temperature). The real-data row scores as many
training captions.
Writes into --out (default: this folder) results_<budget>.{json,md} and quality_<budget>.png (the
quality-diversity plot); the run goes to <out>/runs/<budget>/relgan/, the MLE scores to
<out>/runs/<budget>/mle_scores.json the moment they exist. A completed stage is reused and an
interrupted one resumed from its last checkpoint, so a budget can be spread over sessions.
"""

from __future__ import annotations

import json
import os
import pathlib
import platform
import shutil
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from experiments.records import budget_parser, cell, mean_se  # noqa: E402
from experiments.training_runs import stamped, train_until  # noqa: E402

TEMPERATURES_OF_MEMBERS = {"RelGAN(100)": 100, "RelGAN(1000)": 1000}
# REFERENCES.md: RelGAN(x) the mean of 6 runs; MLE as reported by Texygen; Self-BLEU-4 of MLE from
# Texygen's docs.
PAPER = {"MLE": {"bleu2": 0.731, "bleu5": 0.189, "nll_gen": 0.718, "self_bleu4": 0.583},
         "RelGAN(100)": {"bleu2": 0.849, "bleu5": 0.331, "nll_gen": 0.756},
         "RelGAN(1000)": {"bleu2": 0.814, "bleu5": 0.303, "nll_gen": 0.655}}
METRICS = ("bleu2", "bleu3", "bleu4", "bleu5", "self_bleu4", "frechet", "nll_gen")
SCHEDULE = ["trainer.progress=false"]
TINY = ["data.max_length=8", "data.vocab_size=60", "model.embed_dim=8", "model.head_size=8",
        "model.num_heads=2", "model.d_embed_dim=4", "model.representations=2",
        "model.num_filters=4", "trainer.batch_size=8", "trainer.eval_samples=20",
        "trainer.log_every=2", "trainer.sample_every=2", "trainer.checkpoint_every=2"]

# Per budget: seeds, sentences per member and temperature, the MLE temperatures, the lengths of
# the two phases and the overrides on top of experiment=relgan_coco.
BUDGETS = {
    # The authors' COCO script: 150 epochs of pretraining (23,400 batches), 2,000 adversarial steps.
    "full": {"seeds": [0, 1, 2], "samples": 500, "temperatures": [0.5, 0.7, 0.8, 0.9, 1.0, 1.2, 1.5],
             "pretrain": 23400, "adversarial": 2000,
             "overrides": ["trainer.eval_every=600", "trainer.checkpoint_every=200"]},
    # What 2 CPU cores reach in a few sessions (README.md: about 5 hours): 6 epochs of
    # pretraining and 60 adversarial steps, with the temperature schedule compressed so that
    # beta ends where the authors' does after their 2,000 of N = 5,000 steps (beta_max ** 0.4).
    "cpu": {"seeds": [0, 1, 2], "samples": 500, "temperatures": [0.5, 0.7, 0.8, 0.9, 1.0, 1.2, 1.5],
            "pretrain": 1000, "adversarial": 60,
            # six members one after another: batched, an adversarial step needs 27.9 GiB
            # (scripts/bench_memory.py), more than the machine has; so, 6.5 GiB
            "overrides": ["trainer.population_map=map", "model.temperature_steps=150",
                          "trainer.eval_every=100000",
                          "trainer.log_every=10", "trainer.sample_every=100000",
                          "trainer.checkpoint_every=10"]},
    # Only that the pipeline runs end to end on the real captions; the numbers mean nothing.
    "smoke": {"seeds": [0, 1], "samples": 20, "temperatures": [0.5, 1.0], "pretrain": 2,
              "adversarial": 2, "overrides": [*TINY, "trainer.eval_every=2"]},
}


def members(budget: dict) -> tuple[list[int], list[int]]:
    """(seeds, max temperatures) of the population: every seed at 100, then every seed at 1000."""
    seeds = budget["seeds"]
    return seeds * 2, [100] * len(seeds) + [1000] * len(seeds)


def train_to(budget: dict, run_dir: pathlib.Path, steps: int) -> dict:
    """Train the study's run (or resume it, or reuse it) until `steps`; its summary.json."""
    seeds, temperatures = members(budget)
    cmd = [sys.executable, "-m", "gan_jax.train", "experiment=relgan_coco",
           f"model.pretrain_steps={budget['pretrain']}", *budget["overrides"],
           f"trainer.steps={steps}", f"trainer.population={len(seeds)}",
           f"seed=[{','.join(map(str, seeds))}]",
           f"model.max_temperature=[{','.join(map(str, temperatures))}]",
           f"hydra.run.dir={run_dir}", *SCHEDULE]
    return train_until(cmd, run_dir, steps)


def score(run_dir: pathlib.Path, member_ids: list[int], temperatures: list[float], n: int) -> list[dict]:
    """Per member, per temperature: the evaluator's metrics of n sentences sampled at it (seed 0),
    the generator's own NLL_gen at it, and 5 example sentences."""
    import dataclasses  # noqa: PLC0415
    import functools  # noqa: PLC0415

    import jax  # noqa: PLC0415

    from gan_jax.metrics import evaluator as evaluator_lib  # noqa: PLC0415
    from gan_jax.training import saved_run, sampling  # noqa: PLC0415
    from gan_jax.training.state import apply_generator, generate  # noqa: PLC0415

    run = saved_run.load(run_dir)
    gan, data = run.setup.gan, run.setup.data
    evaluator = evaluator_lib.build(run.cfg["eval"], run.cfg["data"], data)
    z = gan.sample_latent(jax.random.PRNGKey(0), n)
    rows = []
    for t in temperatures:
        at_t = dataclasses.replace(gan, generator=gan.generator.clone(sample_temperature=t))
        sample = jax.jit(lambda s, z, y, g=at_t: generate(g, s, z, y))
        apply = jax.jit(functools.partial(apply_generator, at_t), static_argnames="method")
        for i in member_ids:
            state = run.member(i)
            sentences = evaluator.sentences(sampling.in_chunks(functools.partial(sample, state), z))
            values = evaluator.score(sentences)
            values.update(evaluator.model_metrics(functools.partial(apply, state)))
            rows.append({"member": i, "step": int(state.step), "temperature": t, **values,
                         "examples": [" ".join(s) for s in sentences[:5]]})
            print(f"  member {i} T={t}: " + ", ".join(f"{k} {values[k]:.3f}" for k in METRICS), flush=True)
    return rows


def summarise(rows: list[dict]) -> dict[str, dict]:
    """temperature -> metric -> mean +- s.e. over members."""
    out = {}
    for t in sorted({r["temperature"] for r in rows}):
        at = [r for r in rows if r["temperature"] == t]
        out[str(t)] = {k: mean_se([r[k] for r in at]) for k in METRICS}
    return out


def markdown(results: dict) -> str:
    lines = [f"# RelGAN on COCO captions, budget `{results['budget']}`", "",
             f"Mean +- s.e. over seeds {results['seeds']}; {results['samples']} sentences per seed "
             "and temperature against the 10,000 held-out captions. BLEU: higher is better; "
             "Self-BLEU-4, Frechet, NLL_gen: lower is better. Paper values in brackets. "
             f"MLE: step {results['pretrain']} (the end of pretraining); RelGAN: step "
             f"{results['pretrain'] + results['adversarial']}.", "",
             "| model | T | BLEU-2 | BLEU-3 | BLEU-4 | BLEU-5 | Self-BLEU-4 | Frechet | NLL_gen |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, by_t in results["table"].items():
        paper = PAPER.get(name, {})
        for t, row in by_t.items():
            at_one = float(t) == 1.0
            cells = [cell(row.get(k)) + (f" ({paper[k]:.3f})" if at_one and k in paper else "")
                     for k in METRICS]
            lines.append(f"| {name} | {t} | " + " | ".join(cells) + " |")
    run = results["run"]
    lines += ["", f"Training: {run['process_seconds']} s in all (process wall time), "
              f"{run['steps_per_second']} steps/s in the last stage; commit {run['commit']}."]
    return "\n".join(lines) + "\n"


def quality_figure(results: dict, path: pathlib.Path) -> None:
    """BLEU-5 against Self-BLEU-4 and against NLL_gen: the MLE temperature curve and every model."""
    import matplotlib  # noqa: PLC0415
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, x in zip(axes, ("self_bleu4", "nll_gen")):
        for color, (name, by_t) in zip(("C0", "C1", "C2", "k"), results["table"].items()):
            ts = sorted(by_t, key=float)
            xs = [by_t[t][x]["mean"] for t in ts if by_t[t].get(x)]
            ys = [by_t[t]["bleu5"]["mean"] for t in ts if by_t[t].get(x)]
            if not xs:
                continue
            ax.plot(xs, ys, "o-" if len(xs) > 1 else "o", color=color, label=name)
            if len(xs) > 1:
                for t, a, b in zip(ts, xs, ys):
                    ax.annotate(f"T={t}", (a, b), fontsize=7)
        ax.set_xlabel({"self_bleu4": "Self-BLEU-4 (lower: more diverse)",
                       "nll_gen": "NLL_gen (lower: covers the test set)"}[x])
        ax.set_ylabel("BLEU-5 (higher: closer to real captions)")
        ax.legend(fontsize=8)
    fig.suptitle(f"COCO captions, budget {results['budget']}: quality against diversity")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = budget_parser(__doc__, BUDGETS, HERE)
    parser.add_argument("--train-only", action="store_true",
                        help="train (or resume) and score MLE, then stop before scoring RelGAN")
    parser.add_argument("--force", action="store_true",
                        help="train again even where <out>/runs/<budget> is complete")
    args = parser.parse_args(argv)
    budget = BUDGETS[args.budget]
    out = args.out.resolve()
    base = out / "runs" / args.budget
    run_dir, mle_path = base / "relgan", base / "mle_scores.json"
    if args.force and base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    k = len(budget["seeds"])
    pretrain, total = budget["pretrain"], budget["pretrain"] + budget["adversarial"]

    if not mle_path.is_file():  # stage 1: pretraining, then MLE scored at the phase boundary
        summary = train_to(budget, run_dir, pretrain)
        if summary["step"] != pretrain:
            sys.exit(f"{run_dir} is at step {summary['step']}, past the end of pretraining "
                     f"({pretrain}), and its MLE scores are missing; pass --force to start over.")
        print("scoring MLE", flush=True)
        rows = score(run_dir, list(range(k)), budget["temperatures"], budget["samples"])
        mle_path.write_text(json.dumps(rows, indent=2) + "\n")
    summary = train_to(budget, run_dir, total)  # stage 2: the adversarial phase
    if args.train_only:
        return 0
    print("scoring RelGAN", flush=True)
    per_member = {"MLE": json.loads(mle_path.read_text())}
    table = {"MLE": summarise(per_member["MLE"])}
    for j, name in enumerate(TEMPERATURES_OF_MEMBERS):
        per_member[name] = score(run_dir, list(range(j * k, (j + 1) * k)), [1.0], budget["samples"])
        table[name] = summarise(per_member[name])
    # Real captions: as many training sentences, scored like a model's (no NLL_gen: no model).
    from gan_jax import data as data_lib  # noqa: PLC0415
    from gan_jax.config.saved import with_new_defaults  # noqa: PLC0415
    from gan_jax.metrics import evaluator as evaluator_lib  # noqa: PLC0415

    cfg = with_new_defaults(json.loads((run_dir / "config.json").read_text()))
    real = evaluator_lib.build(cfg["eval"], cfg["data"], data_lib.build(cfg["data"])).reference(
        budget["samples"])
    table["real captions"] = {"1.0": {k: {"mean": v, "se": None, "n": 1} for k, v in real.items()}}

    import jax  # noqa: PLC0415

    seconds = run_dir / "process_seconds.txt"
    results = {"budget": args.budget, "seeds": budget["seeds"], "samples": budget["samples"],
               "pretrain": pretrain, "adversarial": budget["adversarial"], "paper": PAPER,
               "table": table, "per_member": per_member,
               "run": {"dir": str(run_dir.relative_to(out)), "overrides": budget["overrides"],
                       "steps_per_second": summary["steps_per_second"],
                       "process_seconds": float(seconds.read_text()) if seconds.is_file() else None,
                       "commit": (stamped(run_dir) or {}).get("commit"), "provenance": stamped(run_dir)},
               "hardware": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                            "devices": [str(d) for d in jax.devices()],
                            "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
               "wall_seconds": round(time.perf_counter() - start, 1)}
    (out / f"results_{args.budget}.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / f"results_{args.budget}.md").write_text(markdown(results))
    written = [f"results_{args.budget}.json", f"results_{args.budget}.md"]
    try:
        quality_figure(results, out / f"quality_{args.budget}.png")
        written.append(f"quality_{args.budget}.png")
    except ImportError:
        print("matplotlib is missing: no quality-diversity figure (pip install -e '.[sweeps]')")
    print((out / f"results_{args.budget}.md").read_text())
    print(f"wrote {', '.join(written)} in {results['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
