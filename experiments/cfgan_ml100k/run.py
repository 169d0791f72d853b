"""CFGAN on MovieLens-100K (Chae et al. 2018) against tuned simple baselines, one split, one
metric code.

    .venv/bin/python experiments/cfgan_ml100k/run.py            # ~10 min on 2 CPU cores
    .venv/bin/python experiments/cfgan_ml100k/run.py --smoke    # tiny budget: the slow test

1. CFGAN, tuned: one population run (`trainer.population=S`, one member per seed) of
   `experiment=cfgan_ml100k data.split=validation`, evaluated on the validation interactions
   every `eval_every` steps; the training length is the step with the best mean NDCG@20 over
   seeds. (The authors' code draws its epoch count from 750-1000 and reports the test metrics of
   that run; here nothing is chosen on test data.)
2. CFGAN, final: the same population on `data.split=test` for the chosen number of steps; its
   final evaluation is the table row (mean +- s.e. over seeds).
3. Baselines (`gan_jax.models.baselines`): each hyperparameter grid fitted as a population
   (numeric settings vmapped, `fit_grid`) on the validation split's training interactions and
   scored on its validation interactions; the best by NDCG@20 refitted on all training
   interactions and scored on the test set.
Completed runs in --out are reused, so an interrupted call can be repeated. Writes
results.json (every number, commands, commit, machine, wall times), results.md and
p20_vs_epoch.png beside this file (with --smoke: under --out).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
PAPER = {"precision_5": .444, "precision_20": .294, "recall_5": .152, "recall_20": .360,
         "ndcg_5": .476, "ndcg_20": .433, "mrr_5": .681, "mrr_20": .693}
METRICS = tuple(PAPER)
SELECT_BY = "ndcg_20"
GRIDS = {
    "most_popular": [{}],
    "item_knn": [{"k": k, "shrink": s} for k, s in itertools.product(
        (10, 25, 50, 100, 200, 400), (0.0, 10.0, 50.0, 100.0, 200.0))],
    "ease": [{"l2": v} for v in (10.0, 50.0, 100.0, 200.0, 350.0, 500.0, 750.0, 1000.0, 2000.0)],
}
FULL = {"seeds": 3, "steps": 12000, "eval_every": 500}
SMOKE = {"seeds": 2, "steps": 200, "eval_every": 100}
ITEMS, BATCH = 1682, 64  # an "epoch": every item row seen once by D (1682 / 64 steps)


def train(split: str, steps: int, budget: dict, out: pathlib.Path, extra: list[str]) -> dict:
    """Run (or reuse) one CFGAN population run; its summary.json plus the command."""
    run_dir = (out / f"cfgan_{split}_{steps}").resolve()
    seeds = budget["seeds"]
    cmd = [sys.executable, "-m", "gan_jax.train", "experiment=cfgan_ml100k", f"data.split={split}",
           f"trainer.population={seeds}", f"seed=[{','.join(map(str, range(seeds)))}]",
           f"trainer.steps={steps}", f"trainer.eval_every={budget['eval_every']}",
           f"trainer.log_every={budget['eval_every']}", f"trainer.sample_every={budget['eval_every']}",
           f"trainer.checkpoint_every={steps}", "trainer.progress=false",
           f"hydra.run.dir={run_dir}", *extra]
    summary_file = run_dir / "summary.json"
    if summary_file.is_file():
        summary = json.loads(summary_file.read_text())
        if summary["status"] == "completed" and summary["step"] == steps:
            print(f"{run_dir}: reusing the completed run", flush=True)
            return {**summary, "command": cmd[1:], "reused": True}
    resume = ["trainer.resume=true"] if (run_dir / "checkpoints").is_dir() else []
    start = time.perf_counter()
    r = subprocess.run(cmd + resume, cwd=ROOT, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    print(f"CFGAN {split}, {steps} steps: {time.perf_counter() - start:.0f} s", flush=True)
    return {**json.loads(summary_file.read_text()), "command": cmd[1:], "reused": False}


def curves(run_dir: pathlib.Path, seeds: int, tag: str) -> dict[int, list[float]]:
    """step -> [value per member] of an eval scalar, from the run's TensorBoard events."""
    from tensorboard.backend.event_processing import event_accumulator

    per_step: dict[int, list[float]] = {}
    for i in range(seeds):
        acc = event_accumulator.EventAccumulator(str(run_dir / "tb" / f"member_{i:02d}"))
        acc.Reload()
        for event in acc.Scalars(f"eval/{tag}"):
            per_step.setdefault(event.step, []).append(event.value)
    return dict(sorted(per_step.items()))


def mean_se(values) -> dict:
    v = np.asarray(values, np.float64)
    se = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0
    return {"mean": float(v.mean()), "se": se, "values": v.tolist()}


def baselines(smoke: bool) -> dict:
    """Each baseline tuned on the validation split, then scored on the test set."""
    import jax
    from gan_jax.data import movielens
    from gan_jax.metrics.ranking import ranking_metrics
    from gan_jax.models.baselines import RECOMMENDERS, fit_grid

    val, test = movielens.load(split="validation"), movielens.load(split="test")
    results = {}
    for name, grid in GRIDS.items():
        grid = grid[:2] if smoke else grid
        fit = RECOMMENDERS[name]
        start = time.perf_counter()  # the grid as populations: numeric settings vmapped
        all_scores = jax.block_until_ready(fit_grid(name, val.train, grid))
        trials = [{"params": params, **ranking_metrics(scores, val.train, val.heldout)}
                  for params, scores in zip(grid, all_scores)]
        tune_s = time.perf_counter() - start
        best = max(trials, key=lambda t: t[SELECT_BY])
        start = time.perf_counter()
        scores = jax.block_until_ready(fit(test.train, **best["params"]))
        fit_s = time.perf_counter() - start
        results[name] = {"params": best["params"], "validation": trials, "fit_seconds": fit_s,
                         "tuning_seconds": tune_s,
                         "test": ranking_metrics(scores, test.train, test.heldout)}
        print(f"{name} {best['params']}: test {SELECT_BY}={results[name]['test'][SELECT_BY]:.3f}",
              flush=True)
    return results


def table(results: dict) -> str:
    cols = " | ".join(m.replace("_", "@").replace("precision", "P").replace("recall", "R")
                      .replace("ndcg", "NDCG").replace("mrr", "MRR") for m in METRICS)
    lines = [f"| method | {cols} |", "|---" * (len(METRICS) + 1) + "|",
             "| CFGAN, paper (their split) | " + " | ".join(f"{PAPER[m]:.3f}" for m in METRICS) + " |"]
    cf = results["cfgan"]["test"]
    lines.append(f"| CFGAN, ours ({len(cf[METRICS[0]]['values'])} seeds, mean ± s.e.) | "
                 + " | ".join(f"{cf[m]['mean']:.3f} ± {cf[m]['se']:.3f}" for m in METRICS) + " |")
    for name, r in results["baselines"].items():
        params = ", ".join(f"{k}={v:g}" for k, v in r["params"].items())
        label = f"{name} ({params})" if params else name
        lines.append(f"| {label} | " + " | ".join(f"{r['test'][m]:.3f}" for m in METRICS) + " |")
    return "\n".join(lines) + "\n"


def plot(val_curve: dict, test_curve: dict, chosen: int, path: pathlib.Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for curve, label in ((val_curve, "validation (selects the length)"), (test_curve, "test")):
        steps = np.array(list(curve))
        values = np.array([np.mean(v) for v in curve.values()])
        ax.plot(steps / (ITEMS / BATCH), values, marker="o", ms=3, label=label)
    ax.axvline(chosen / (ITEMS / BATCH), color="grey", ls=":", label="chosen length")
    ax.axhline(PAPER["precision_20"], color="k", ls="--", lw=1, label="paper (test)")
    ax.set_xlabel("epochs (passes of D over the 1,682 items)")
    ax.set_ylabel("P@20 (mean over seeds)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny budget (the slow test)")
    parser.add_argument("--out", default=str(HERE / "runs"), help="training runs (reused)")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every CFGAN run")
    args = parser.parse_args(argv)
    budget, out = (SMOKE if args.smoke else FULL), pathlib.Path(args.out)
    results_dir = out if args.smoke else HERE
    start = time.perf_counter()

    tuning = train("validation", budget["steps"], budget, out, args.overrides)
    val_curve = curves(pathlib.Path(tuning["run_dir"]), budget["seeds"], SELECT_BY)
    chosen = max(val_curve, key=lambda s: np.mean(val_curve[s]))
    final = train("test", chosen, budget, out, args.overrides)
    test_curve = curves(pathlib.Path(final["run_dir"]), budget["seeds"], "precision_20")
    val_p20 = curves(pathlib.Path(tuning["run_dir"]), budget["seeds"], "precision_20")
    results = {
        "cfgan": {
            "chosen_steps": chosen, "chosen_epochs": round(chosen / (ITEMS / BATCH), 1),
            "validation_curve": {SELECT_BY: val_curve, "precision_20": val_p20},
            "test_curve": {"precision_20": test_curve},
            "test": {m: mean_se([mem["eval"][f"eval/{m}"] for mem in final["members"]])
                     for m in METRICS},
            "seconds_per_epoch": {  # population of all seeds in one program
                "tuning_run": (ITEMS / BATCH) / tuning["steps_per_second"],
                "final_run": (ITEMS / BATCH) / final["steps_per_second"]},
            "wall_seconds": {"tuning_run": tuning["wall_seconds"], "final_run": final["wall_seconds"]},
            "commands": {"tuning": tuning["command"], "final": final["command"]},
            "reused": {"tuning": tuning["reused"], "final": final["reused"]},
        },
        "baselines": baselines(args.smoke),
        "paper": PAPER, "selected_by": f"validation {SELECT_BY}",
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                 capture_output=True, text=True).stdout.strip(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.platform()}",
        "wall_seconds": round(time.perf_counter() - start, 1),
    }
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "results.json").write_text(json.dumps(results, indent=2))
    (results_dir / "results.md").write_text(table(results))
    plot(val_p20, test_curve, chosen, results_dir / "p20_vs_epoch.png")
    print(table(results))
    print(f"wrote {results_dir / 'results.json'}, results.md, p20_vs_epoch.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
