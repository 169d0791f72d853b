"""One-class anomaly detection on Fashion-MNIST (the protocol of Golan & El-Yaniv 2018):
f-AnoGAN and GANomaly trained on each category, a raw-pixel OC-SVM, and the published means.

    .venv/bin/python experiments/oneclass_fashion/run.py            # budget in README.md
    .venv/bin/python experiments/oneclass_fashion/run.py --smoke --out /tmp/oc   # the slow test

1. Per seed, one population run of `experiment=oneclass_fashion`: ten one-class WGAN-GPs,
   member i trained on category i's training images only, in one compiled program. Each seed
   is its own run (`runs/fanogan_seed{k}`), so more seeds add runs and reuse the finished ones.
2. `python -m gan_jax.detect`: f-AnoGAN's encoder per member (izi_f), a fixed number of steps,
   then each member's AUROC on the 10k test images (its category normal, the nine others
   anomalous). Nothing is selected on test data.
2b. GANomaly: population runs per seed (`experiment=oneclass_ganomaly`), scored by
   `python -m gan_jax.detect detector.name=ganomaly` (|z - z_hat|^2, nothing more to train).
3. OC-SVM on raw pixels (scikit-learn, RBF kernel): hyperparameters fixed before seeing any
   test image (nu = 0.1, gamma = 1 / (784 * pixel variance), scikit-learn's "scale"), fitted on
   the category's training images.
4. Cost probe: a single-category run of the same model for a few hundred steps, to compare one
   population step with ten separate runs' steps.
Completed stages in --out are reused. Writes results.json (per category, commands, commit,
machine, wall times) and results.md beside this file (with --smoke: under --out).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
from experiments.provenance import provenance  # noqa: E402
from experiments.training_runs import run_or_exit  # noqa: E402

# Golan & El-Yaniv 2018, Table 1, Fashion-MNIST means (REFERENCES.md); GEOM per category 0-9.
PUBLISHED = {"RAW-OC-SVM": 92.8, "CAE-OC-SVM": 91.7, "DSEBM": 86.6, "ADGAN": 88.4, "GEOM": 93.5}
GEOM = [99.4, 97.6, 91.1, 89.9, 92.1, 93.4, 83.3, 98.9, 90.8, 99.2]
FULL = {"gan_steps": 2000, "encoder_steps": 1000, "ganomaly_steps": 1500, "seeds": 3,
        "probe_steps": 300, "svm_train": None}
SMOKE = {"gan_steps": 100, "encoder_steps": 100, "ganomaly_steps": 100, "seeds": 2,
         "probe_steps": 100, "svm_train": 300, "categories": [0, 7]}


def run_cmd(cmd: list[str], what: str) -> float:
    seconds = run_or_exit(cmd, f"{what} ")
    print(f"{what}: {seconds:.0f} s", flush=True)
    return seconds


# detector -> (experiment config, GAN steps key of the budget)
FAMILIES = {"fanogan": ("oneclass_fashion", "gan_steps"),
            "ganomaly": ("oneclass_ganomaly", "ganomaly_steps")}


def train_gans(budget: dict, out: pathlib.Path, extra: list[str], family: str, seed: int) -> dict:
    """One population run: every category once, member seeds 10 * seed + position."""
    experiment, steps_key = FAMILIES[family]
    run_dir = (out / f"{family}_seed{seed}").resolve()
    cats = budget.get("categories", list(range(10)))
    seeds = [10 * seed + i for i in range(len(cats))]
    steps = budget[steps_key]
    cmd = [sys.executable, "-m", "gan_jax.train", f"experiment={experiment}",
           f"trainer.population={len(cats)}", f"data.category=[{','.join(map(str, cats))}]",
           f"seed=[{','.join(map(str, seeds))}]",
           f"trainer.steps={steps}", f"trainer.checkpoint_every={steps}",
           f"trainer.eval_every={steps}", f"trainer.sample_every={steps}",
           "trainer.progress=false", f"hydra.run.dir={run_dir}", *extra]
    summary = run_dir / "summary.json"
    saved = json.loads(summary.read_text()) if summary.is_file() else {}
    done = saved.get("status") == "completed" and len(saved.get("members", [])) == len(cats)
    if not done:
        resume = ["trainer.resume=true"] if (run_dir / "checkpoints").is_dir() else []
        run_cmd(cmd + resume, f"{len(cats)} one-class GANs ({family}, seed {seed})")
    else:
        print(f"{run_dir}: reusing the completed run", flush=True)
    return {"run_dir": run_dir, "command": cmd[1:], "summary": json.loads(summary.read_text()),
            "provenance": provenance()}


def family_runs(budget: dict, out: pathlib.Path, extra: list[str], family: str) -> dict:
    """Train and score every seed of one detector family; members of all seeds together."""
    runs, members = [], []
    for seed in range(budget["seeds"]):
        run = train_gans(budget, out, extra, family, seed)
        scored = detect(run["run_dir"], budget, family)
        members += [{**m, "seed": seed} for m in scored["members"]]
        runs.append({"seed": seed, "command": run["command"], "detector_command": scored["command"],
                     "wall_seconds": run["summary"]["wall_seconds"],
                     "steps_per_second": run["summary"]["steps_per_second"],
                     "detector_train_seconds": scored.get("detector_train_seconds"),
                     "provenance": run["provenance"]})
    return {"runs": runs, "members": members, "over_seeds": over_seeds(members)}


def detect(run_dir: pathlib.Path, budget: dict, family: str = "fanogan") -> dict:
    results = run_dir / "detector" / family / "results.json"
    cmd = [sys.executable, "-m", "gan_jax.detect", f"run_dir={run_dir}", f"detector.name={family}"]
    if family == "fanogan":
        cmd.append(f"detector.steps={budget['encoder_steps']}")
    if results.is_file() and json.loads(results.read_text())["detector"].get(
            "steps") == (budget["encoder_steps"] if family == "fanogan" else None):
        print(f"{results}: reusing the trained detector", flush=True)
    else:
        run_cmd(cmd, f"{family} detector")
    return {**json.loads(results.read_text()), "command": cmd[1:]}


def cost_probe(budget: dict, out: pathlib.Path) -> dict:
    """Steps per second of one single-category run, against the population's."""
    run_dir = (out / "probe_single").resolve()
    summary = run_dir / "summary.json"
    if not summary.is_file():
        steps = budget["probe_steps"]
        run_cmd([sys.executable, "-m", "gan_jax.train", "experiment=oneclass_fashion",
                 "trainer.population=1", "data.category=0", f"trainer.steps={steps}",
                 f"trainer.checkpoint_every={steps}", f"trainer.eval_every={steps}",
                 f"trainer.sample_every={steps}", "trainer.progress=false",
                 f"hydra.run.dir={run_dir}"], "cost probe (one category alone)")
    return json.loads(summary.read_text())


def oc_svm(categories: list[int], max_train: int | None) -> dict:
    from sklearn.svm import OneClassSVM

    from gan_jax.data import fashion_mnist
    from gan_jax.metrics.auroc import auroc

    train, train_y = fashion_mnist.load_numpy("train")
    test, test_y = fashion_mnist.load_numpy("test")
    flat = lambda a: a.reshape(len(a), -1).astype(np.float32) / 255.0  # noqa: E731
    x_test = flat(test)
    result = {}
    for c in categories:
        x = flat(train[train_y == c])[:max_train]
        start = time.perf_counter()
        svm = OneClassSVM(kernel="rbf", nu=0.1, gamma="scale").fit(x)
        scores = -svm.decision_function(x_test)  # higher = more anomalous
        result[c] = {"auroc": auroc(scores, test_y != c), "seconds": time.perf_counter() - start,
                     "train_images": len(x)}
        print(f"OC-SVM category {c}: AUROC {result[c]['auroc']:.3f}", flush=True)
    return result


def table(results: dict) -> str:
    from gan_jax.data.fashion_mnist import CLASS_NAMES

    fano, gano = (results[f]["over_seeds"] for f in ("fanogan", "ganomaly"))
    lines = ["| category | f-AnoGAN (ours) | GANomaly (ours) | raw OC-SVM (ours) | GEOM (published) |",
             "|---|---|---|---|---|"]
    for c in sorted(int(c) for c in fano["per_category"]):
        lines.append(f"| {c} {CLASS_NAMES[c]} | {fano['per_category'][str(c)]['mean']:.1f} | "
                     f"{gano['per_category'][str(c)]['mean']:.1f} | "
                     f"{100 * results['oc_svm'][str(c)]['auroc']:.1f} | {GEOM[c]:.1f} |")
    cat_means = [mean_se([s / 100 for s in (
        [v["mean"] for v in f["per_category"].values()])]) for f in (fano, gano)]
    cells = " | ".join(f"{m['mean']:.1f} ± {m['se']:.1f}" for m in cat_means)
    svm = results["summary"]["oc_svm"]
    lines.append(f"| mean ± s.e. over categories | {cells} | {svm['mean']:.1f} ± {svm['se']:.1f} | "
                 f"{np.mean(GEOM):.1f} |")
    seeds = " | ".join(f"**{f['mean_over_categories']['mean']:.1f} ± "
                       f"{f['mean_over_categories']['se']:.1f}** ({f['seeds']} seeds)"
                       for f in (fano, gano))
    lines.append(f"| **mean over categories, ± s.e. over seeds** | {seeds} | - | - |")
    lines += ["", "Published means (Golan & El-Yaniv 2018): " +
              ", ".join(f"{k} {v}" for k, v in PUBLISHED.items()) + "."]
    return "\n".join(lines) + "\n"


def over_seeds(members: list[dict]) -> dict:
    """Per category: mean over its members (seeds); and the mean over categories computed per
    seed, with its mean +- s.e. over seeds."""
    cats = sorted({m["category"] for m in members})
    per_cat = {c: [m["auroc"] for m in members if m["category"] == c] for c in cats}
    n_seeds = min(len(v) for v in per_cat.values())
    per_seed = [float(np.mean([per_cat[c][k] for c in cats])) for k in range(n_seeds)]
    return {"seeds": n_seeds, "per_category": {str(c): mean_se(v) for c, v in per_cat.items()},
            "mean_over_categories_per_seed": per_seed, "mean_over_categories": mean_se(per_seed)}


def mean_se(values) -> dict:
    v = 100 * np.asarray(values, np.float64)
    return {"mean": float(v.mean()), "se": float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", default=str(HERE / "runs"))
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for the GAN runs")
    args = parser.parse_args(argv)
    budget, out = (SMOKE if args.smoke else FULL), pathlib.Path(args.out)
    results_dir = out if args.smoke else HERE
    start = time.perf_counter()
    fano = family_runs(budget, out, args.overrides, "fanogan")
    gano = family_runs(budget, out, args.overrides, "ganomaly")
    probe = cost_probe(budget, out)
    cats = sorted({m["category"] for m in fano["members"]})
    svm = oc_svm(cats, budget["svm_train"])
    population_sps = fano["runs"][0]["steps_per_second"]
    results = {
        "fanogan": fano, "ganomaly": gano, "oc_svm": {str(c): v for c, v in svm.items()},
        "summary": {"oc_svm": mean_se([v["auroc"] for v in svm.values()])},
        "published": PUBLISHED, "geom_per_category": GEOM,
        "population_vs_separate": {
            "population_seconds_per_step": 1 / population_sps,
            "single_run_seconds_per_step": 1 / probe["steps_per_second"],
            "ten_separate_runs_seconds_per_step": len(cats) / probe["steps_per_second"],
            "note": "steady-state steps/s from each run's summary.json (compilation included in "
                    "both); separate runs would each also pay their own start-up and compilation"},
        "provenance": provenance(),
        "wall_seconds": round(time.perf_counter() - start, 1),
    }
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "results.json").write_text(json.dumps(results, indent=2, default=str))
    (results_dir / "results.md").write_text(table(results))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
