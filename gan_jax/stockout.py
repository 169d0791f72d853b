"""Will a product run out next week? Demand paths from a GAN trained on M5's or a shop's sales:

    python -m gan_jax.stockout run_dir=runs/m5 series=FOODS_3_090_CA_3 stock=12 days=7
    python -m gan_jax.stockout run_dir=runs/m5 series=FOODS_3_090_CA_3 stock=12 service=0.99 paths=2000

run_dir: a `data=m5 model=rcgan model.prefix_steps=w` run (it writes the days after w given
days), or the same on a shop's own export (`data=sales_table data.path=...`). The generator
continues the series' last w known days `paths` times; from those demand paths over the next
`days` days (at most the run's seq_len - w) the command prints the
probability that demand exceeds `stock`, the quantiles of the total demand, and the order-up-to
level: the smallest stock that covers the total with probability `service`. It writes a fan
chart (the last weeks' sales, the paths' median and 50% / 90% bands, the stock's line) as a PNG
to `out` (default <run_dir>/stockout/<series>.png).
"""

from __future__ import annotations

import dataclasses
import pathlib
import sys

import numpy as np

from gan_jax.cli import entry
from gan_jax.errors import ConfigError


@dataclasses.dataclass
class StockoutConfig:
    run_dir: str = "???"
    series: str = "???"
    stock: float = "???"  # type: ignore[assignment]
    days: int = 7
    service: float = 0.95
    paths: int = 1000
    member: int = 0
    seed: int = 0
    out: str | None = None


def check(cfg: StockoutConfig) -> None:
    if cfg.stock < 0:
        raise ConfigError(f"stock={cfg.stock:g} is negative; give the units on the shelf (0 or more).")
    if cfg.days < 1:
        raise ConfigError(f"days={cfg.days} must be at least 1 (the days the stock must last).")
    if not 0 < cfg.service < 1:
        raise ConfigError(f"service={cfg.service:g} must be a probability between 0 and 1, e.g. 0.95.")
    if cfg.paths < 10:
        raise ConfigError(f"paths={cfg.paths} is too few demand paths for probabilities; ask for at "
                          f"least 10 (1000 by default).")


def demand_paths(cfg: StockoutConfig) -> dict:
    """The run's demand paths for the series and what they say."""
    from gan_jax.forecasting import gan_paths  # noqa: PLC0415
    from gan_jax.training import saved_run  # noqa: PLC0415

    check(cfg)
    run = saved_run.load(cfg.run_dir)
    gan_paths.prefix_steps(run)  # a run that writes demand paths, before any data is read
    if not 0 <= cfg.member < run.size:
        raise ConfigError(f"member={cfg.member} is outside the run's population of {run.size}.")
    sales = gan_paths.sales_of(run)
    row = sales.index(cfg.series)
    history = sales.units[row]
    category = gan_paths.categories_of(run, sales.info.iloc[row:row + 1])
    paths = gan_paths.demand_paths(run, cfg.member, history[None], cfg.days, cfg.paths, cfg.seed,
                                   categories=category).paths[0]
    total = paths.sum(axis=1)
    return {"series": sales.ids[row], "history": history, "known_until": sales.days[-1], "paths": paths,
            "p_stockout": float(np.mean(total > cfg.stock)),
            "total_quantiles": {q: float(np.quantile(total, q, method="inverted_cdf"))
                                for q in (0.05, 0.5, 0.95)},
            "order_up_to": float(np.quantile(total, cfg.service, method="inverted_cdf"))}


def fan_chart(result: dict, cfg: StockoutConfig, path: pathlib.Path) -> bool:
    """The PNG; False when matplotlib is missing (pip install -e '.[sweeps]')."""
    try:
        import matplotlib  # noqa: PLC0415
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    history, paths = result["history"][-28:], result["paths"]
    past = np.arange(-len(history) + 1, 1)
    ahead = np.arange(1, paths.shape[1] + 1)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(past, history, "k.-", label=f"sold (to {result['known_until']})")
    for low, high, alpha in ((0.05, 0.95, 0.2), (0.25, 0.75, 0.4)):
        ax.fill_between(ahead, np.quantile(paths, low, axis=0), np.quantile(paths, high, axis=0),
                        color="C0", alpha=alpha, lw=0, label=f"{int(100 * (high - low))}% of paths")
    ax.plot(ahead, np.median(paths, axis=0), "C0-", label="median path")
    ax.set_xlabel("day (0: the last known)")
    ax.set_ylabel("units a day")
    ax.set_title(f"{result['series']}: P(demand over {cfg.days} days > {cfg.stock:g}) = "
                 f"{result['p_stockout']:.2f}; order up to {result['order_up_to']:.0f} for "
                 f"{cfg.service:.0%}", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return True


def stockout(cfg: StockoutConfig) -> dict:
    result = demand_paths(cfg)
    out = (pathlib.Path(cfg.out) if cfg.out
           else pathlib.Path(cfg.run_dir) / "stockout" / f"{result['series']}.png")
    result["png"] = str(out) if fan_chart(result, cfg, out) else None
    return result


def report(cfg: StockoutConfig, r: dict) -> None:
    q = r["total_quantiles"]
    print(f"{r['series']}, the {cfg.days} days after {r['known_until']} ({cfg.paths} demand paths):")
    print(f"  P(demand > {cfg.stock:g}) = {r['p_stockout']:.3f}")
    print(f"  total demand: 5% {q[0.05]:.0f}, median {q[0.5]:.0f}, 95% {q[0.95]:.0f}")
    print(f"  order up to {r['order_up_to']:.0f} units for a {cfg.service:.0%} chance of not running out")
    print(f"wrote {r['png']}" if r["png"]
          else "no fan chart: matplotlib is missing (pip install -e '.[sweeps]')")


main = entry(StockoutConfig, "python -m gan_jax.stockout run_dir=RUN series=ID stock=UNITS [days=7]",
             stockout, report)

if __name__ == "__main__":
    sys.exit(main())
