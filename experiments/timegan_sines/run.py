"""TimeGAN and RCGAN on TimeGAN's sines: discriminative and predictive scores beside the paper's.

    .venv/bin/python experiments/timegan_sines/run.py --budget cpu    # see README.md for its cost
    .venv/bin/python experiments/timegan_sines/run.py --budget full   # the paper's 50,000 per phase
    .venv/bin/python experiments/timegan_sines/run.py --budget smoke --out /tmp/ts  # the test

Each model is ONE training run (its preset, `experiment=timegan_sines` / `experiment=rcgan_sines`,
with the budget's lengths) holding a population of seeds. After training, every member writes
`--samples` sequences with `gan_jax.sample` (the authors generate as many as the real set), and
the scores are computed `repeats` times with fresh classifiers (the authors average 10) by the
same evaluator that training logs with: the authors' way (real training sequences) and on
held-out real sequences. The real-data row scores real training sequences the same way.
Writes into --out (default: this folder) results_<budget>.{json,md}, curves_<budget>.png (the
learning curves the budget was chosen from) and embedding_<model>_<budget>.png (TimeGAN's PCA /
t-SNE figure: seed 0's sequences against held-out real ones); runs go to <out>/runs/<budget>/<model>/. A
completed run is reused and an interrupted one resumed from its last checkpoint, so a budget can
be spread over several sessions; --force trains again.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import shutil
import statistics
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from experiments.training_runs import (read_eval_curve, run_or_exit, stamped,  # noqa: E402
                                       train_or_reuse)

MODELS = {"timegan": ("TimeGAN", "timegan_sines"), "rcgan": ("RCGAN", "rcgan_sines")}
PAPER = {"TimeGAN": {"discriminative": 0.011, "predictive": 0.093},
         "RCGAN": {"discriminative": 0.022, "predictive": 0.097},
         "real data": {"discriminative": None, "predictive": 0.094}}
SCORES = ("discriminative", "discriminative_heldout", "predictive", "predictive_heldout")
SCHEDULE = ["trainer.progress=false"]

# Per budget: seeds, sequences sampled per member for the final scores, classifier repeats, and
# per model the Hydra overrides on top of its preset (lengths, evaluation schedule).
BUDGETS = {
    # The paper's table: 50,000 iterations per phase (REFERENCES.md), 10 classifier runs.
    "full": {"seeds": [0, 1, 2], "samples": 10_000, "repeats": 10, "models": {
        "timegan": ["model.autoencoder_steps=50000", "model.supervised_steps=50000",
                    "trainer.steps=150000", "trainer.eval_every=5000", "trainer.log_every=500",
                    "trainer.sample_every=50000", "trainer.checkpoint_every=5000"],
        "rcgan": ["trainer.steps=50000", "trainer.eval_every=5000", "trainer.log_every=500",
                  "trainer.sample_every=50000", "trainer.checkpoint_every=5000"]}},
    # What 2 CPU cores do in about an hour per model (README.md: the learning curves): a fifth
    # of the code's 10,000 steps in each of the first two phases and 3,000 joint steps.
    "cpu": {"seeds": [0, 1, 2], "samples": 10_000, "repeats": 5, "models": {
        "timegan": ["model.autoencoder_steps=2000", "model.supervised_steps=2000",
                    "trainer.steps=7000", "trainer.eval_every=1000", "trainer.log_every=250",
                    "trainer.sample_every=7000", "trainer.checkpoint_every=500",
                    "trainer.eval_samples=2000"],
        "rcgan": ["trainer.steps=5000", "trainer.eval_every=1000", "trainer.log_every=250",
                  "trainer.sample_every=5000", "trainer.checkpoint_every=500",
                  "trainer.eval_samples=2000"]}},
    # Only that the pipeline runs end to end; the numbers mean nothing.
    "smoke": {"seeds": [0, 1], "samples": 40, "repeats": 1, "models": {
        "timegan": ["data.num_sequences=64", "data.heldout=32", "data.seq_len=6",
                    "data.features=3", "model.hidden_dim=4", "model.num_layers=2",
                    "model.autoencoder_steps=2", "model.supervised_steps=2", "trainer.steps=6",
                    "trainer.batch_size=8", "trainer.log_every=2", "trainer.eval_every=6",
                    "trainer.sample_every=6", "trainer.checkpoint_every=2",
                    "trainer.eval_samples=20"],
        "rcgan": ["data.num_sequences=64", "data.heldout=32", "data.seq_len=6",
                  "data.features=3", "model.hidden_dim=4", "trainer.steps=4",
                  "trainer.batch_size=8", "trainer.log_every=2", "trainer.eval_every=4",
                  "trainer.sample_every=4", "trainer.checkpoint_every=2",
                  "trainer.eval_samples=20"]}},
}


# Models whose seeds train as separate runs rather than one population: a population of
# RCGAN's 100-unit LSTMs never finishes its first compiled call on XLA:CPU (jax 0.10.2; the
# process waits with idle cores; GRU cells and 32-unit LSTMs do not), see README.md.
SEPARATE_SEEDS = ("rcgan",)


def train(model: str, overrides: list[str], seeds: list[int], run_dir: pathlib.Path
          ) -> list[tuple[pathlib.Path, int | None, dict]]:
    """Train (or reuse, or resume) the model's seeds, each run in its own process as a user would
    type it: one population run, or one run per seed (`SEPARATE_SEEDS`). Per seed: (run
    directory, population member or None, summary.json)."""
    if model in SEPARATE_SEEDS:
        jobs = [(run_dir / f"seed_{seed}", [f"seed={seed}"]) for seed in seeds]
    else:
        jobs = [(run_dir, [f"trainer.population={len(seeds)}",
                           f"seed=[{','.join(map(str, seeds))}]"])]
    steps = int(next(o for o in overrides if o.startswith("trainer.steps=")).split("=")[1])
    out = []
    for directory, seeding in jobs:
        cmd = [sys.executable, "-m", "gan_jax.train", f"experiment={MODELS[model][1]}", *overrides,
               *seeding, f"hydra.run.dir={directory}", *SCHEDULE]
        print(f"[{model}] {' '.join(cmd[1:])}", flush=True)
        wall = train_or_reuse(cmd, directory, f"[{model}] training")
        if wall is not None:
            print(f"[{model}] trained in {wall:.0f} s", flush=True)
            (directory / "process_seconds.txt").write_text(f"{wall:.1f}\n")
        summary = json.loads((directory / "summary.json").read_text())
        if summary["step"] != steps:
            sys.exit(f"[{model}] {directory} holds a run of {summary['step']} steps, not {steps}; "
                     f"pass --force to train it again.")
        out += ([(directory, None, summary)] if model in SEPARATE_SEEDS
                else [(directory, i, summary) for i in range(len(seeds))])
    return out


def samples(run_dir: pathlib.Path, member: int | None, n: int):
    """n sequences (data units) of the run, or of its population member `member`, written by
    `gan_jax.sample` once and reused."""
    import numpy as np  # noqa: PLC0415

    which = [] if member is None else [f"member={member}"]
    out = run_dir / "samples" / (f"final_n{n}.npy" if member is None else f"final_n{n}_member{member}.npy")
    if not out.is_file():
        run_or_exit([sys.executable, "-m", "gan_jax.sample", f"run_dir={run_dir}", *which,
                     f"n={n}", "seed=0", f"out={out}"], "sampling ")
    return np.load(out)


def repeated(score, repeats: int) -> dict[str, float]:
    """The mean of `score(seed)` over `repeats` evaluation seeds, per metric."""
    rows = [score(seed) for seed in range(repeats)]
    return {k: statistics.fmean(r[k] for r in rows) for k in rows[0]}


def mean_sd(values: list[float]) -> dict:
    """Mean and sample standard deviation (None for one value)."""
    return {"mean": statistics.fmean(values),
            "sd": statistics.stdev(values) if len(values) > 1 else None, "n": len(values)}


def evaluator_for(run_dir: pathlib.Path):
    """(data, evaluator factory seed -> evaluator) as the run's own config builds them."""
    from gan_jax import data as data_lib  # noqa: PLC0415
    from gan_jax.metrics import evaluator  # noqa: PLC0415

    cfg = json.loads((run_dir / "config.json").read_text())
    data = data_lib.build(cfg["data"])
    return data, lambda seed: evaluator.SeriesEvaluator(data, seed)


def curves_figure(curves: dict[str, dict[str, list[dict]]], path: pathlib.Path, title: str) -> None:
    """Discriminative and predictive score (held-out) against training step, per model and seed."""
    import matplotlib  # noqa: PLC0415
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, key in zip(axes, ("discriminative_heldout", "predictive_heldout")):
        for color, (name, members) in zip(("C0", "C1"), curves.items()):
            for i, rows in enumerate(members.values()):
                rows = [r for r in rows if key in r]
                ax.plot([r["step"] for r in rows], [r[key] for r in rows], color=color,
                        alpha=0.8, label=name if i == 0 else None)
        ax.set_xlabel("training step")
        ax.set_title(key.replace("_", " "))
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(results: dict) -> str:
    budget = results["budget"]
    lines = [f"# TimeGAN sines, budget `{budget}`", "",
             f"Mean +- s.d. over seeds {results['seeds']}; each seed's score is the mean of "
             f"{results['repeats']} classifier runs on {results['samples']} synthetic sequences. "
             "Lower is better. Commit and machine in the JSON.", "",
             "| model | discriminative (paper) | discriminative (ours) | held-out | "
             "predictive (paper) | predictive (ours) | held-out |",
             "|---|---|---|---|---|---|---|"]

    def cell(row, key):
        v = row.get(key)
        if v is None:
            return "-"
        return f"{v['mean']:.3f}" + ("" if v["sd"] is None else f" +- {v['sd']:.3f}")

    for name, row in results["table"].items():
        paper = PAPER.get(name, {})
        p = lambda k, paper=paper: "-" if paper.get(k) is None else f"{paper[k]:.3f}"  # noqa: E731
        lines.append(f"| {name} | {p('discriminative')} | {cell(row, 'discriminative')} | "
                     f"{cell(row, 'discriminative_heldout')} | {p('predictive')} | "
                     f"{cell(row, 'predictive')} | {cell(row, 'predictive_heldout')} |")
    extra = sorted({k for row in results["table"].values() for k in row} - set(SCORES) - {"per_seed"})
    if extra:
        lines += ["", "| model | " + " | ".join(extra) + " |", "|---" * (len(extra) + 1) + "|"]
        for name, row in results["table"].items():
            lines.append(f"| {name} | " + " | ".join(cell(row, k) for k in extra) + " |")
    lines += ["", "| model | training wall seconds (process) | steps/s |", "|---|---|---|"]
    for name, m in results["models"].items():
        lines.append(f"| {name} | {m['process_seconds']} | {m['steps_per_second']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), required=True)
    parser.add_argument("--out", type=pathlib.Path, default=HERE)
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--train-only", action="store_true",
                        help="train (or resume) the runs and stop before scoring")
    parser.add_argument("--force", action="store_true",
                        help="train again even where <out>/runs/<budget>/<model> is complete")
    args = parser.parse_args(argv)
    budget = BUDGETS[args.budget]
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    runs = {}
    for model in args.models:
        run_dir = out / "runs" / args.budget / model
        if args.force and run_dir.exists():
            shutil.rmtree(run_dir)
        runs[model] = train(model, budget["models"][model], budget["seeds"], run_dir)
    if args.train_only:
        return 0

    # JAX only now: the training processes had the cores to themselves.
    import jax  # noqa: PLC0415

    table, models, curves, synthetic_first = {}, {}, {}, {}
    data = evaluators = None
    for model, seed_runs in runs.items():
        name = MODELS[model][0]
        data, evaluators = evaluator_for(seed_runs[0][0])
        per_seed, curves[name] = [], {}
        for seed, (run_dir, member, _) in zip(budget["seeds"], seed_runs):
            x = samples(run_dir, member, budget["samples"])
            synthetic_first.setdefault(name, x)
            per_seed.append(repeated(lambda s, x=x, e=evaluators: e(s).score(x), budget["repeats"]))
            print(f"[{model}] seed {seed}: {per_seed[-1]}", flush=True)
            tb = run_dir / "tb" / (f"member_{member:02d}" if member is not None else "")
            curves[name][f"seed {seed}"] = read_eval_curve(tb, tuple(SCORES))
        table[name] = {k: mean_sd([r[k] for r in per_seed]) for k in per_seed[0]}
        table[name]["per_seed"] = per_seed
        directories = list(dict.fromkeys(r[0] for r in seed_runs))
        seconds = [d / "process_seconds.txt" for d in directories]
        models[name] = {"run_dirs": [str(d.relative_to(out)) for d in directories],
                        "overrides": budget["models"][model],
                        "steps_per_second": [json.loads((d / "summary.json").read_text())[
                            "steps_per_second"] for d in directories],
                        "process_seconds": (round(sum(float(f.read_text()) for f in seconds), 1)
                                            if all(f.is_file() for f in seconds) else None),
                        "provenance": [stamped(d) for d in directories]}
    # Real data: real training sequences scored like a model's samples (no seeds: no training).
    n = budget["samples"]
    real_rows = [repeated(lambda s: evaluators(s).reference(n), budget["repeats"])]
    table["real data"] = {k: mean_sd([r[k] for r in real_rows]) for k in real_rows[0]}

    results = {"budget": args.budget, "seeds": budget["seeds"], "samples": budget["samples"],
               "repeats": budget["repeats"], "paper": PAPER,
               "table": {k: {m: v for m, v in row.items()} for k, row in table.items()},
               "models": models, "curves": curves,
               "hardware": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                            "devices": [str(d) for d in jax.devices()],
                            "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
               "wall_seconds": round(time.perf_counter() - start, 1)}
    (out / f"results_{args.budget}.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / f"results_{args.budget}.md").write_text(markdown(results))
    written = [f"results_{args.budget}.json", f"results_{args.budget}.md"]
    try:
        curves_figure(curves, out / f"curves_{args.budget}.png",
                      f"TimeGAN sines, budget {args.budget}: held-out scores while training")
        written.append(f"curves_{args.budget}.png")
    except ImportError:
        print("matplotlib is missing: no curves figure (pip install -e '.[sweeps]')")
    try:
        from gan_jax.metrics import series_plot  # noqa: PLC0415
        for name, x in synthetic_first.items():  # TimeGAN's figure: seed 0 against held-out real
            slug = name.lower().replace(" ", "_")
            series_plot.plot_pca_tsne(data.series.heldout, x, out / f"embedding_{slug}_{args.budget}.png")
            written.append(f"embedding_{slug}_{args.budget}.png")
    except ImportError as e:
        print(f"matplotlib is missing: no PCA / t-SNE figures ({e})")
    print((out / f"results_{args.budget}.md").read_text())
    print(f"wrote {', '.join(written)} in {results['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
