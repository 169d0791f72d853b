"""Few real series: does adding GAN-written series to quantile boosting's training data help?

    .venv/bin/python experiments/m5_stockout/augment.py --budget cpu
    .venv/bin/python experiments/m5_stockout/augment.py --budget smoke --out /tmp/m5a   # the test

A shop that knows the sales of one store's series only (store CA_1: 3,049 series) forecasts the
other nine stores' series (27,441) from their own last 21 days. Quantile boosting
(`gan_jax/forecasting/boosting.py`, ids: department and category, since the other stores are
never seen) learns from:

- `real`: CA_1's series, days 1-21;
- `real+gan xK`: those and K written series per real one from a conditional RCGAN trained on
  CA_1's days 1-21 only (`data=m5 data.stores=[CA_1] data.conditional=true
  data.condition_on=dept_id model=rcgan`), each written for the department of a real series;
- `real+nb xK`: the control a GAN must beat: K series per real one drawn day by day from that
  series' own negative binomial (its days 1-21's mean and variance), so "more rows" alone is
  measured apart from "rows a GAN wrote";
- `all stores`: every store's real days 1-21, the forecast series' own included: what knowing
  every series would give (the ceiling).

Every forecast is scored on the other stores' days 22-28 (scoring.py), which nothing here learns
from; nothing is tuned. Seeds pair GAN population member s with boosting seed s. Results are
cached under runs/augment_<budget>/ (the GAN run resumes from its checkpoints) and written to
results_augment_<budget>.{json,md} in --out.
"""

from __future__ import annotations

import pathlib
import sys
import time

import numpy as np
import pandas as pd

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from experiments.m5_stockout import scoring  # noqa: E402
from experiments.records import budget_parser, cached, cell, hardware, mean_se, write_results  # noqa: E402
from experiments.m5_stockout.run import GANS, WHEEL  # noqa: E402
from experiments.training_runs import population_overrides, stamped, steps_of, train_until  # noqa: E402

DAYS = WHEEL.days - WHEEL.horizon  # days 1-21: every series' history; 22-28 the scored week
IDS = ["dept_id", "cat_id"]  # the other stores are never seen: no store or state id
BUDGETS = {
    "cpu": {"store": "CA_1", "other_series": None, "seeds": [0, 1, 2], "multiples": [1, 4],
            "boosting": {"max_iter": 100, "max_rows": 200_000},
            "gan": ["model.hidden_dim=64", "model.z_dim=4", "trainer.steps=3000", "trainer.batch_size=256",
                    "data.heldout_fraction=0.05"]},
    "smoke": {"store": "CA_1", "other_series": 300, "seeds": [0], "multiples": [1],
              "boosting": {"max_iter": 5, "max_rows": 2000},
              "gan": ["model.hidden_dim=4", "model.z_dim=2", "trainer.steps=2", "trainer.batch_size=16",
                      "data.heldout_fraction=0.05", "trainer.eval_samples=12", "trainer.log_every=2",
                      "trainer.checkpoint_every=2", "trainer.eval_every=2", "trainer.sample_every=2"]},
}


def train_gan(budget: dict, run_dir: pathlib.Path) -> dict:
    cmd = [sys.executable, "-m", "gan_jax.train", "data=m5", f"data.final_days={WHEEL.horizon}",
           f"data.seq_len={DAYS}", f"data.stores=[{budget['store']}]", "data.conditional=true",
           "data.condition_on=dept_id", "model=rcgan", *budget["gan"],
           # the main table's fix of its GAN (dequantized counts, D's learning rate at 5e-3)
           *GANS["gan_dequantized"], "trainer.progress=false",
           *population_overrides(budget["seeds"]), f"hydra.run.dir={run_dir}"]
    return train_until(cmd, run_dir, steps_of(budget["gan"]))


def negative_binomial_series(history: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k series [k N, days] per row of history, each day drawn from that row's negative binomial
    (mean and variance of its days; Poisson where the variance does not exceed the mean)."""
    from gan_jax.forecasting import baselines  # noqa: PLC0415

    fit = baselines.negative_binomial(history, 1)
    mean, r = np.repeat(fit.mean[:, 0], k), np.repeat(fit.dispersion, k)
    rng = np.random.default_rng(seed)
    poisson = ~np.isfinite(r)
    out = np.empty((len(mean), history.shape[1]), np.int64)
    out[poisson] = rng.poisson(mean[poisson, None], (poisson.sum(), history.shape[1]))
    nb = ~poisson
    p = r[nb] / (r[nb] + mean[nb])
    out[nb] = rng.negative_binomial(r[nb, None], p[:, None], (nb.sum(), history.shape[1]))
    return out


def gan_series(run_dir: pathlib.Path, member: int, info, k: int, seed: int) -> np.ndarray:
    """k written series per row of info, each for that row's department."""
    from gan_jax.forecasting import gan_paths  # noqa: PLC0415
    from gan_jax.training import saved_run  # noqa: PLC0415

    run = saved_run.load(run_dir)
    names = list(run.setup.data.class_names)
    categories = np.repeat([names.index(d) for d in info["dept_id"]], k)
    return gan_paths.written_series(run, member, categories, seed)


def training_data(name: str, sales, known: np.ndarray, seed: int, member: int, run_dir: pathlib.Path):
    """(history [M, DAYS], ids) that the boosting of condition `name` learns from."""
    real, ids = sales.units[known, :DAYS], sales.info.loc[known, IDS].reset_index(drop=True)
    if name == "all stores":
        return sales.units[:, :DAYS], sales.info[IDS]
    if name == "real":
        return real, ids
    kind, k = name.split(" x")
    k = int(k)
    written = (gan_series(run_dir, member, sales.info.iloc[known], k, seed) if kind == "real+gan"
               else negative_binomial_series(real, k, seed))
    written_ids = ids.loc[ids.index.repeat(k)]  # each written series has its real one's department
    return np.concatenate([real, written]), pd.concat([ids, written_ids], ignore_index=True)


def markdown(results: dict) -> str:
    keys = ("spl", "crps", "coverage50", "coverage95", "brier", "auroc", "service95", "stock95")
    lines = [f"# M5, few real series: boosting learns from store {results['store']} only, budget "
             f"`{results['budget']}`", "",
             f"Forecasts for {results['series']} series of the other stores (history days 1-21, "
             f"target days 22-28); seeds {results['seeds']}. Lower is better for SPL, CRPS and Brier.", "",
             "| learns from | rows of series | " + " | ".join(keys) + " |",
             "|---|---:|" + "---:|" * len(keys)]
    for name, row in results["table"].items():
        lines.append(f"| {name} | {results['learnt_series'][name]} | "
                     + " | ".join(cell(row[k]) for k in keys) + " |")
    lines += ["", f"GAN run: commit {results['commit']}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = budget_parser(__doc__, BUDGETS, HERE).parse_args(argv)
    budget = BUDGETS[args.budget]
    out = args.out.resolve()
    base = out / "runs" / f"augment_{args.budget}"
    base.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    from gan_jax.data import m5  # noqa: PLC0415
    from gan_jax.forecasting import boosting  # noqa: PLC0415

    sales = m5.load()
    known = np.flatnonzero(sales.info["store_id"] == budget["store"])
    other = np.flatnonzero(sales.info["store_id"] != budget["store"])
    if budget["other_series"] is not None:
        other = np.sort(np.random.default_rng(0).permutation(other)[:budget["other_series"]])
    history, actual = WHEEL.final(sales.units[other])
    ids = sales.info.loc[other, IDS].reset_index(drop=True)
    train_gan(budget, base / "gan")
    names = ["real", *(f"real+{kind} x{k}" for k in budget["multiples"] for kind in ("gan", "nb")),
             "all stores"]
    per_seed: dict[str, list] = {}
    learnt: dict[str, int] = {}
    for name in names:
        for member, seed in enumerate(budget["seeds"]):
            def run(name=name, seed=seed, member=member):
                train = training_data(name, sales, known, seed, member, base / "gan")
                f = boosting.fit_predict(history, ids, WHEEL.horizon, seed=seed, train=train,
                                         **budget["boosting"])
                return {**scoring.score(f, history, actual), "learnt_series": len(train[0])}
            record = cached(base / "scores" / f"{name.replace(' ', '_')}_seed{seed}.json", run)
            per_seed.setdefault(name, []).append(record)
            learnt[name] = record["learnt_series"]
            print(f"  {name} seed {seed}: spl {record['spl']:.3f}", flush=True)
    skip = ("spl_series", "learnt_series")
    table = {name: {k: mean_se([r[k] for r in rs]) for k in rs[0] if k not in skip}
             for name, rs in per_seed.items()}
    results = {"budget": args.budget, "store": budget["store"], "series": len(other),
               "seeds": budget["seeds"], "table": table, "learnt_series": learnt, "per_seed": per_seed,
               "commit": (stamped(base / "gan") or {}).get("commit"),
               "hardware": hardware(), "wall_seconds": round(time.perf_counter() - start, 1)}
    write_results(out, f"augment_{args.budget}", results, markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
