"""Reproduce PacGAN's Table 1 (Lin et al. 2018): GAN vs PacGAN2/3/4 on the 2D ring and grid.

    .venv/bin/python experiments/pacgan_2d/run.py --budget cpu    # see README.md for its cost
    .venv/bin/python experiments/pacgan_2d/run.py --budget full   # the paper's protocol (a GPU)
    .venv/bin/python experiments/pacgan_2d/run.py --budget cpu --no-train  # table of what is done

Per dataset and packing degree m, one training run (`experiment=pacgan_<data>`) trains every
seed as one population (`trainer.population`, `seed=[...]`); m > 1 adds `mitigation=[pacgan]`.
As in the authors' code, D sees 100 packs per step, so the batch is 100 * m samples.

Each finished run is recorded in `results_cache/<budget>/<data>_m<m>.json` (committed): every
seed's final evaluation and evaluation curve, 2500 samples of seed 0, the command, the commit,
the machine and the wall time. A later call reuses those records and trains only what is
missing, so the budget can be spread over several sessions; a run cut off mid-way continues from
its last checkpoint (every 10k steps), exactly as if never stopped. The table (mean +- s.e. over seeds of
modes, % high quality, reverse KL at 3 std) goes to `results_<budget>.json` / `.md`, with a
scatter plot of samples and a grid mode histogram (PNG).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import pathlib
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
from experiments.pacgan_2d import plots  # noqa: E402
from experiments.provenance import provenance  # noqa: E402
from experiments.training_runs import train_or_reuse  # noqa: E402

METHODS = {1: "GAN", 2: "PacGAN2", 3: "PacGAN3", 4: "PacGAN4"}
METRICS = ("modes", "hq", "rkl")
PACKS_PER_BATCH = 100  # PacGAN's batch: 100 D inputs of m samples each
EVAL_SAMPLES = 2500


@dataclasses.dataclass(frozen=True)
class Budget:
    steps: dict          # {dataset: training steps}; its keys are the datasets
    seeds: dict          # {dataset: seeds, 0..n-1}
    every: int = 500       # steps per compiled call (trainer.log_every)
    eval_every: int = 1000  # a multiple of `every`; the table uses the evaluation at the end
    checkpoint_every: int = 10_000  # a run cut off (a session's end) resumes from here, exactly

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(self.steps)


BUDGETS = {  # cpu: chosen from the learning curves (curve.py, README.md)
    "smoke": Budget(steps={"ring": 200}, seeds={"ring": 2}, every=100, eval_every=200),  # the test
    "cpu": Budget(steps={"ring": 10_000, "grid": 40_000}, seeds={"ring": 5, "grid": 3}, every=1000,
                  eval_every=1000),
    "full": Budget(steps={"ring": 400_000, "grid": 400_000}, seeds={"ring": 10, "grid": 10},
                   every=10_000, eval_every=40_000, checkpoint_every=40_000),  # the authors' 400 epochs
}


def overrides(data: str, m: int, budget: Budget, run_dir: pathlib.Path) -> list[str]:
    """The `gan_jax.train` command line of one (dataset, m) run."""
    b, steps, seeds = budget, budget.steps[data], budget.seeds[data]
    args = [f"experiment=pacgan_{data}", f"trainer.population={seeds}",
            f"seed=[{','.join(map(str, range(seeds)))}]", f"trainer.steps={steps}",
            f"trainer.batch_size={PACKS_PER_BATCH * m}", f"trainer.log_every={b.every}",
            f"trainer.sample_every={steps}", f"trainer.eval_every={b.eval_every}",
            f"trainer.checkpoint_every={min(steps, b.checkpoint_every)}",
            f"trainer.eval_samples={EVAL_SAMPLES}",
            "trainer.progress=false", f"hydra.run.dir={run_dir}"]
    if m > 1:
        args += ["mitigation=[pacgan]", f"mitigation.pacgan.m={m}"]
    return args


def protocol(data: str, m: int, budget: Budget) -> dict:
    """What a cached record must match to be reused."""
    return {"data": data, "m": m, "steps": budget.steps[data], "seeds": budget.seeds[data],
            "every": budget.every, "eval_every": budget.eval_every,
            "batch_size": PACKS_PER_BATCH * m, "eval_samples": EVAL_SAMPLES}


def member_curves(tb_dir: pathlib.Path, n: int) -> list[list[list[float]]]:
    """Per member, [[step, modes, hq, rkl], ...] from the run's TensorBoard events."""
    from tensorboard.backend.event_processing.event_accumulator import (  # noqa: PLC0415
        EventAccumulator)

    curves = []
    for i in range(n):
        acc = EventAccumulator(str(tb_dir / f"member_{i:02d}" if n > 1 else tb_dir),
                               size_guidance={"scalars": 0})
        acc.Reload()
        rows: dict[int, list[float]] = {}
        for k in METRICS:
            for e in acc.Scalars(f"eval/{k}"):
                rows.setdefault(e.step, [e.step, None, None, None])[1 + METRICS.index(k)] = e.value
        curves.append([rows[s] for s in sorted(rows)])
    return curves


def samples(run_dir: pathlib.Path, member: int = 0, n: int = EVAL_SAMPLES) -> np.ndarray:
    """n samples of one member from the run's last checkpoint (via `gan_jax.sample`)."""
    from gan_jax.sample import SampleConfig, sample  # noqa: PLC0415  (JAX: after training)

    out = run_dir / "samples" / f"pacgan_2d_member{member}.png"
    written = sample(SampleConfig(run_dir=str(run_dir), n=n, member=member, npy=True, out=str(out)))
    return np.load(written["npy"])


def run_one(data: str, m: int, budget: Budget, out: pathlib.Path, cache: pathlib.Path) -> dict:
    """The record of one population run: from the cache, or trained now and cached."""
    want = protocol(data, m, budget)
    cache_file = cache / f"{data}_m{m}.json"
    if cache_file.is_file():
        record = json.loads(cache_file.read_text())
        if record["protocol"] == want:
            print(f"{data} {METHODS[m]}: reusing {cache_file.relative_to(cache.parents[1])}", flush=True)
            return record
        print(f"{cache_file}: recorded for another protocol, training again", flush=True)
    run_dir = (out / f"{data}_m{m}").resolve()
    cmd = [sys.executable, "-m", "gan_jax.train", *overrides(data, m, budget, run_dir)]
    summary_file, process_seconds = run_dir / "summary.json", None
    summary = json.loads(summary_file.read_text()) if summary_file.is_file() else None
    if summary is not None and summary["status"] == "completed" and summary["step"] != want["steps"]:
        sys.exit(f"{run_dir} holds a run of {summary['step']} steps; delete it or pick --out.")
    if summary is None or summary["status"] != "completed":
        print(f"{data} {METHODS[m]}: {' '.join(cmd[1:])}", flush=True)
        process_seconds = round(train_or_reuse(cmd, run_dir), 1)
        summary = json.loads(summary_file.read_text())
    members = summary["members"]
    curves = member_curves(run_dir / "tb", len(members))
    cfg = json.loads((run_dir / "config.json").read_text())
    threshold = float(cfg.get("eval", {}).get("mode_threshold", 3.0))
    record = {"method": METHODS[m], "protocol": want, "command": " ".join(cmd[1:]),
              "threshold_std": threshold, "process_seconds": process_seconds,
              "train_seconds": summary["wall_seconds"], "steps_per_second": summary["steps_per_second"],
              **provenance(),
              "members": [{"seed": i, "eval": mem["eval"], "curve": c}
                          for i, (mem, c) in enumerate(zip(members, curves))],
              "samples_seed0": np.round(samples(run_dir), 4).tolist()}
    cache.mkdir(parents=True, exist_ok=True)
    cache_file.write_text(json.dumps(record))
    print(f"{data} {METHODS[m]}: {process_seconds} s in all, {summary['wall_seconds']} s training; "
          f"recorded in {cache_file.name}", flush=True)
    return record


def mean_se(values: list[float]) -> dict:
    """Mean and standard error (sample std / sqrt(n); 0 for one value) over the finite values.

    rKL is infinite for a member without any high-quality sample (its mode histogram is empty);
    such members are left out and counted in `undefined` (None in `values`), not averaged in.
    """
    v = np.asarray([math.inf if x is None else x for x in values], float)
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


def markdown(table: dict, datasets: list[str] | None = None) -> str:
    """The table in the paper's layout: one row per method, modes / HQ / rKL per dataset;
    a (dataset, method) not in `table` reads "not run yet"."""
    datasets = datasets or list(table)
    head = "| Method | " + " | ".join(f"{d.capitalize()} {c}" for d in datasets
                                      for c in ("modes", "HQ", "rKL")) + " |"
    lines = [head, "|" + "---|" * (1 + 3 * len(datasets))]
    for method in METHODS.values():
        cells = []
        for d in datasets:
            s = table.get(d, {}).get(method)
            cells += (["not run yet"] * 3 if s is None else
                      [cell(s["modes"]), cell(s["hq"], 100, 1, "%"), cell(s["rkl"], digits=2)])
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    if any(s["rkl"]["undefined"] for by_method in table.values() for s in by_method.values()):
        lines.append("\n(k undef.): k seeds had no high-quality sample, so no rKL; the mean is "
                     "over the others.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budget", choices=BUDGETS, default="cpu")
    p.add_argument("--out", type=pathlib.Path, default=HERE / "runs", help="training run directories")
    p.add_argument("--results", type=pathlib.Path, default=HERE, help="results, cache and plots")
    p.add_argument("--no-train", action="store_true", help="only tabulate the cached runs")
    p.add_argument("--datasets", nargs="+", help="train only these (the table has all cached runs)")
    args = p.parse_args(argv)
    budget, start = BUDGETS[args.budget], time.perf_counter()
    cache = args.results / "results_cache" / args.budget
    records: dict[str, dict[str, dict]] = {}
    for data in budget.datasets:
        records[data] = {}
        for m, method in METHODS.items():
            if args.no_train or data not in (args.datasets or budget.datasets):
                f = cache / f"{data}_m{m}.json"
                rec = json.loads(f.read_text()) if f.is_file() else None
                if rec is not None and rec["protocol"] == protocol(data, m, budget):
                    records[data][method] = rec
            else:
                records[data][method] = run_one(data, m, budget, args.out / args.budget, cache)
    evals = {d: {meth: [mem["eval"] for mem in rec["members"]] for meth, rec in by.items()}
             for d, by in records.items() if by}
    table = aggregate(evals)
    missing = [f"{d} {meth}" for d in budget.datasets for meth in METHODS.values()
               if meth not in records[d]]
    threshold = next((r["threshold_std"] for by in records.values() for r in by.values()), 3.0)
    args.results.mkdir(parents=True, exist_ok=True)
    prefix = args.results / f"results_{args.budget}"
    points = {d: {meth: r["samples_seed0"] for meth, r in by.items()} for d, by in records.items() if by}
    steps_text = ", ".join(f"{d} {s} steps x seeds 0-{budget.seeds[d] - 1}"
                           for d, s in budget.steps.items())
    title = f"budget {args.budget}: {steps_text}; samples of seed 0"
    figs = [*plots.plot(points, threshold, prefix, title), plots.curves(records, prefix)] if points else []
    runs = {d: {meth: {k: r[k] for k in ("command", "commit", "machine", "finished_utc",
                                         "load_average_1_5_15", "process_seconds",
                                         "train_seconds", "steps_per_second")}
                for meth, r in by.items()} for d, by in records.items()}
    result = {"budget": args.budget, **dataclasses.asdict(budget), "threshold_std": threshold,
              "packs_per_batch": PACKS_PER_BATCH, "eval_samples": EVAL_SAMPLES,
              "missing": missing, "runs": runs, "table": table, "plots": [f.name for f in figs],
              "this_call": {**provenance(), "wall_seconds": round(time.perf_counter() - start, 1)}}
    prefix.with_suffix(".json").write_text(json.dumps(result, indent=2))
    text = (f"{args.budget} budget: {steps_text}; mean ± s.e. over seeds; "
            f"threshold {threshold:g} std, {EVAL_SAMPLES} samples\n\n"
            + markdown(table, list(budget.datasets)))
    prefix.with_suffix(".md").write_text(text)
    print(text + f"\nthis call: {result['this_call']['wall_seconds']:.0f} s; "
          f"{len(missing)} runs missing; wrote {prefix}.json/.md and the plots")
    return 0


if __name__ == "__main__":
    sys.exit(main())
