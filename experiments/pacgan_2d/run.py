"""Reproduce PacGAN's Table 1 (Lin et al. 2018): GAN vs PacGAN2/3/4 on the 2D ring and grid.

    .venv/bin/python experiments/pacgan_2d/run.py --budget cpu    # 11-13 min on 2 CPU cores
    .venv/bin/python experiments/pacgan_2d/run.py --budget full   # the paper's protocol (a GPU)

Per dataset and packing degree m, one training run (`experiment=pacgan_<data>`) trains every
seed as one population (`trainer.population`, `seed=[...]`); m > 1 adds `mitigation=[pacgan]`.
As in the authors' code, D sees 100 packs per step, so the batch is 100 * m samples. The table
(mean +- s.e. over seeds of modes, % high quality, reverse KL at 3 std) goes to
`results_<budget>.json` / `.md`, with a scatter plot of samples and a mode histogram (PNG).
Completed runs found in --out are reused, so an interrupted call can simply be repeated.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import pathlib
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
METHODS = {1: "GAN", 2: "PacGAN2", 3: "PacGAN3", 4: "PacGAN4"}
METRICS = ("modes", "hq", "rkl")
PACKS_PER_BATCH = 100  # PacGAN's batch: 100 D inputs of m samples each


@dataclasses.dataclass(frozen=True)
class Budget:
    steps: int
    seeds: int
    datasets: tuple[str, ...] = ("ring", "grid")
    every: int = 500         # steps per compiled call (trainer.log_every)
    eval_every: int = 1000   # a multiple of `every`; the table uses the evaluation at the end


BUDGETS = {  # cpu: measured 11-13 min on 2 shared cores (README.md)
    "smoke": Budget(steps=200, seeds=2, datasets=("ring",), every=100, eval_every=200),  # slow test
    "cpu": Budget(steps=1000, seeds=3, every=500, eval_every=500),
    "full": Budget(steps=400_000, seeds=10, every=10_000, eval_every=40_000),  # authors' 400 epochs
}


def overrides(data: str, m: int, budget: Budget, run_dir: pathlib.Path) -> list[str]:
    """The `gan_jax.train` command line of one (dataset, m) run."""
    b = budget
    args = [f"experiment=pacgan_{data}", f"trainer.population={b.seeds}",
            f"seed=[{','.join(map(str, range(b.seeds)))}]", f"trainer.steps={b.steps}",
            f"trainer.batch_size={PACKS_PER_BATCH * m}", f"trainer.log_every={b.every}",
            f"trainer.sample_every={b.eval_every}", f"trainer.eval_every={b.eval_every}",
            f"trainer.checkpoint_every={b.steps}", "trainer.eval_samples=2500",
            "trainer.progress=false", f"hydra.run.dir={run_dir}"]
    if m > 1:
        args += ["mitigation=[pacgan]", f"mitigation.pacgan.m={m}"]
    return args


def train(data: str, m: int, budget: Budget, out: pathlib.Path) -> dict:
    """Run (or reuse) one population run; its summary.json."""
    run_dir = out / f"{data}_m{m}"
    summary_file = run_dir / "summary.json"
    if summary_file.is_file():
        summary = json.loads(summary_file.read_text())
        done = summary["status"] == "completed" and summary["step"] == budget.steps
        if done and len(summary["members"]) == budget.seeds:
            print(f"{run_dir}: reusing the completed run", flush=True)
            return {**summary, "reused": True}
        sys.exit(f"{run_dir} holds an unfinished or different run; delete it or pick --out.")
    cmd = [sys.executable, "-m", "gan_jax.train", *overrides(data, m, budget, run_dir.resolve())]
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    print(f"{data} {METHODS[m]}: {time.perf_counter() - start:.0f} s", flush=True)
    return json.loads(summary_file.read_text())


def mean_se(values: list[float]) -> dict:
    """Mean and standard error (sample std / sqrt(n); 0 for one value) over the finite values.

    rKL is infinite for a member without any high-quality sample (its mode histogram is empty);
    such members are left out and counted in `undefined` (None in `values`), not averaged in.
    """
    v = np.asarray(values, float)
    ok = v[np.isfinite(v)]
    mean = float(ok.mean()) if len(ok) else None
    se = float(ok.std(ddof=1) / math.sqrt(len(ok))) if len(ok) > 1 else (0.0 if len(ok) else None)
    return {"mean": mean, "se": se, "undefined": int(len(v) - len(ok)),
            "values": [float(x) if np.isfinite(x) else None for x in v]}


def aggregate(evals: dict[str, dict[str, list[dict]]]) -> dict:
    """{data: {method: [member eval dicts]}} -> {data: {method: {metric: mean_se}}}."""
    return {data: {method: {k: mean_se([e[f"eval/{k}"] for e in members]) for k in METRICS}
                   for method, members in by_method.items()}
            for data, by_method in evals.items()}


def cell(stat: dict, scale: float = 1.0, digits: int = 1, unit: str = "") -> str:
    if stat["mean"] is None:
        return "undefined"
    text = f"{scale * stat['mean']:.{digits}f}±{scale * stat['se']:.{digits}f}{unit}"
    return text + (f" ({stat['undefined']} undef.)" if stat["undefined"] else "")


def markdown(table: dict) -> str:
    """The table in the paper's layout: one row per method, modes / HQ / rKL per dataset."""
    datasets = list(table)
    head = "| Method | " + " | ".join(f"{d.capitalize()} {c}" for d in datasets
                                      for c in ("modes", "HQ", "rKL")) + " |"
    lines = [head, "|" + "---|" * (1 + 3 * len(datasets))]
    for method in METHODS.values():
        cells = []
        for d in datasets:
            s = table[d][method]
            cells += [cell(s["modes"]), cell(s["hq"], 100, 1, "%"), cell(s["rkl"], digits=2)]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    if any(s["rkl"]["undefined"] for by_method in table.values() for s in by_method.values()):
        lines.append("\n(k undef.): k seeds had no high-quality sample, so no rKL; the mean is "
                     "over the others.")
    return "\n".join(lines) + "\n"


def samples(run_dir: pathlib.Path, member: int = 0, n: int = 2500) -> np.ndarray:
    """n samples of one member from the run's last checkpoint (via `gan_jax.sample`)."""
    from gan_jax.sample import SampleConfig, sample  # JAX only here: training runs elsewhere

    out = run_dir / "samples" / f"pacgan_2d_member{member}.png"
    written = sample(SampleConfig(run_dir=str(run_dir), n=n, member=member, npy=True, out=str(out)))
    return np.load(written["npy"])


def mode_counts(x: np.ndarray, modes: np.ndarray, std: float, threshold: float) -> np.ndarray:
    """High-quality samples per mode (nearest mode, within threshold * std), as in the metric."""
    d = np.linalg.norm(x[:, None] - modes[None], axis=-1)
    nearest, hq = d.argmin(1), d.min(1) < threshold * std
    return np.bincount(nearest[hq], minlength=len(modes))


def plot(points: dict, threshold: float, prefix: pathlib.Path) -> list[pathlib.Path]:
    """Scatter of seed 0's samples per method and dataset; grid mode histogram GAN vs PacGAN2.

    Panel titles are the metrics of the plotted samples (not the table's evaluation latents).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gan_jax.data.mixtures import MIXTURES

    datasets = list(points)
    fig, axes = plt.subplots(len(datasets), len(METHODS), figsize=(3.2 * len(METHODS), 3.3 * len(datasets)),
                             squeeze=False)
    for row, data in zip(axes, datasets):
        make_modes, std = MIXTURES[data]
        modes, lim = make_modes(), 1.5 if data == "ring" else 5.5
        for ax, method in zip(row, METHODS.values()):
            counts = mode_counts(points[data][method], modes, std, threshold)
            ax.scatter(*points[data][method].T, s=2, alpha=0.3, color="tab:blue")
            ax.scatter(*modes.T, s=30, marker="x", color="red")
            ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xticks=[], yticks=[],
                   title=f"{data} {method}: {(counts > 0).sum()} modes, "
                         f"{100 * counts.sum() / len(points[data][method]):.1f}% HQ")
            ax.title.set_fontsize(9)
    fig.tight_layout()
    files = [prefix.with_name(prefix.name + "_samples.png")]
    fig.savefig(files[0], dpi=90)
    plt.close(fig)
    if "grid" in points:
        make_modes, std = MIXTURES["grid"]
        fig, ax = plt.subplots(figsize=(9, 3))
        for shift, method in ((-0.2, "GAN"), (0.2, "PacGAN2")):
            counts = mode_counts(points["grid"][method], make_modes(), std, threshold)
            ax.bar(np.arange(len(counts)) + shift, counts, width=0.4, label=method)
        ax.axhline(len(points["grid"]["GAN"]) / 25, color="gray", ls="--", label="uniform, all HQ")
        ax.set(xlabel="grid mode", ylabel=f"samples within {threshold:g} std (of 2500)",
               title="grid, seed 0: high-quality samples per mode")
        ax.legend()
        fig.tight_layout()
        files.append(prefix.with_name(prefix.name + "_grid_modes.png"))
        fig.savefig(files[-1], dpi=90)
        plt.close(fig)
    return files


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budget", choices=BUDGETS, default="cpu")
    p.add_argument("--out", type=pathlib.Path, default=HERE / "runs", help="training run directories")
    p.add_argument("--results", type=pathlib.Path, default=HERE, help="results, table and plots")
    args = p.parse_args(argv)
    budget, start = BUDGETS[args.budget], time.perf_counter()
    evals, points, seconds, reused, threshold = {}, {}, {}, 0, 3.0
    for data in budget.datasets:
        evals[data], points[data], seconds[data] = {}, {}, {}
        for m, method in METHODS.items():
            summary = train(data, m, budget, args.out)
            evals[data][method] = [member["eval"] for member in summary["members"]]
            seconds[data][method] = summary["wall_seconds"]  # inside the run: no start-up
            reused += summary.get("reused", False)
            run_dir = pathlib.Path(summary["run_dir"])
            cfg = json.loads((run_dir / "config.json").read_text())
            threshold = float(cfg.get("eval", {}).get("mode_threshold", 3.0))
            points[data][method] = samples(run_dir)
    table = aggregate(evals)
    args.results.mkdir(parents=True, exist_ok=True)
    prefix = args.results / f"results_{args.budget}"
    plots = plot(points, threshold, prefix)
    result = {"budget": args.budget, **dataclasses.asdict(budget), "threshold_std": threshold,
              "packs_per_batch": PACKS_PER_BATCH, "eval_samples": 2500,
              "wall_seconds": round(time.perf_counter() - start, 1), "reused_runs": reused,
              "train_seconds": seconds, "table": table, "plots": [f.name for f in plots]}
    prefix.with_suffix(".json").write_text(json.dumps(result, indent=2))
    text = (f"{args.budget} budget: {budget.steps} steps, seeds 0-{budget.seeds - 1}, mean ± s.e.; "
            f"threshold {threshold:g} std, 2500 samples\n\n" + markdown(table))
    prefix.with_suffix(".md").write_text(text)
    print(text + f"total {result['wall_seconds']:.0f} s; wrote {prefix}.json/.md and the plots")
    return 0


if __name__ == "__main__":
    sys.exit(main())
