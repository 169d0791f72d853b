"""Demand paths from a prefix RCGAN trained on daily sales (`data=m5` or `data=sales_table`,
`model=rcgan model.prefix_steps=w`): its generator continues each series' last w known days,
`samples` times, and the continuations are mapped back to units (the data's inverse scaling,
rounded, floored at 0)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.errors import ConfigError, DataError
from gan_jax.forecasting.forecast import SampleForecast


def prefix_steps(run) -> int:
    """w of a saved run that can write demand paths; a ConfigError saying why not otherwise."""
    data_cfg, model_cfg = run.cfg["data"], run.cfg["model"]
    w = int(model_cfg.get("prefix_steps", 0) or 0)
    if data_cfg["name"] not in SALES or model_cfg["name"] != "rcgan" or not w:
        raise ConfigError(f"run_dir={run.dir} is a data={data_cfg['name']} model={model_cfg['name']} "
                          f"run; demand paths need a data=m5 (or sales_table) model=rcgan run with "
                          f"model.prefix_steps > 0 (e.g. 14).")
    return w


SALES = {"m5": "condition_on", "sales_table": "category_column"}  # data: its category setting


def sales_of(run):
    """The daily sales (`m5.Sales`) the run's data setting reads."""
    from gan_jax.data import m5, sales_table  # noqa: PLC0415

    c = run.cfg["data"]
    if c["name"] == "m5":
        return m5.load(c.get("root"))
    return sales_table.load(c["path"], c["id_column"], c["date_column"], c["units_column"],
                            c["category_column"])


def categories_of(run, info) -> np.ndarray:
    """Each series' category index as the run numbers them (its data.condition_on, or
    data.category_column for a sales table), from rows of the series' info."""
    from gan_jax.data.m5 import category_values  # noqa: PLC0415

    setting = SALES[run.cfg["data"]["name"]]
    condition_on, names = run.cfg["data"][setting], list(run.setup.data.class_names)
    values = category_values(info, condition_on)
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise DataError(f"run_dir={run.dir} learnt no category {unknown[0]!r} "
                        f"(data.{setting}={condition_on}); its categories are {names[:8]}.")
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[v] for v in values], np.int32)


def as_units(run, written: np.ndarray) -> np.ndarray:
    """Written demand (unscaled) as units sold: rounded, floored at 0; a DataError when the run's
    generator wrote non-finite values."""
    if not np.isfinite(written).all():
        raise DataError(f"run_dir={run.dir} writes non-finite demand; its generator has diverged.")
    return np.maximum(np.rint(written), 0).astype(np.int64)


def demand_paths(run, member: int, history: np.ndarray, days: int, samples: int, seed: int = 0,
                 chunk: int = 20_000, categories: np.ndarray | None = None) -> SampleForecast:
    """Paths [N, samples, days] after history [N, >= w] (units), from population member `member`;
    categories [N]: each series' category index, for a run with data.categories_as_channels."""
    from gan_jax.training.sampling import in_chunks  # noqa: PLC0415
    from gan_jax.training.state import generate  # noqa: PLC0415

    w = prefix_steps(run)
    horizon = int(run.cfg["data"]["seq_len"]) - w
    if days > horizon:
        raise ConfigError(f"days={days}: the run writes {horizon} days after its {w}-day prefix "
                          f"(data.seq_len={run.cfg['data']['seq_len']}); ask for days={horizon} or fewer.")
    history = np.asarray(history, np.float32)
    if history.shape[1] < w:
        raise DataError(f"a history of {history.shape[1]} days is shorter than the run's {w}-day prefix.")
    series, gan, state = run.setup.data.series, run.setup.gan, run.member(member)
    write = jax.jit(lambda z, y: generate(gan, state, z, y))
    if series.static and categories is None:  # the category channels the run's windows begin with
        raise ValueError("this run reads each series' category: pass categories")
    from gan_jax.data.m5 import category_channels  # noqa: PLC0415

    # a chunk of series at a time: all N * samples prefixes at once would not fit in memory
    per_chunk, out = max(1, chunk // samples), []
    for i, start in enumerate(range(0, len(history), per_chunk)):
        prefixes = history[start:start + per_chunk, -w:, None]  # [n, w, 1]
        if series.static:
            labels = np.asarray(categories)[start:start + per_chunk]
            prefixes = np.concatenate([category_channels(labels, series.static, w), prefixes], axis=-1)
        prefixes = np.repeat(prefixes, samples, axis=0)  # [n * samples, w, F]
        z = gan.sample_latent(jax.random.fold_in(jax.random.PRNGKey(seed), i), len(prefixes))
        # a dequantized run reads every prefix as it trained: counts + U(0, 1), one draw per path
        y = gan.pairing.infer(jnp.asarray(series.scale(prefixes, np.random.default_rng([seed, i]))))
        out.append(as_units(run, series.unscale(in_chunks(write, z, y))[:, w:w + days, -1]))
    paths = np.concatenate(out)
    return SampleForecast(paths.reshape(len(history), samples, days))


def written_series(run, member: int, categories: np.ndarray, seed: int = 0) -> np.ndarray:
    """Whole series [N, seq_len] (units) written from noise by a conditional, prefix-free RCGAN
    (`data=m5 data.conditional=true model=rcgan`), one per entry of `categories` [N] (the run's
    category indices): new demand histories, e.g. to add to a forecaster's training data."""
    from gan_jax.training.sampling import in_chunks  # noqa: PLC0415
    from gan_jax.training.state import generate  # noqa: PLC0415

    data_cfg, model_cfg = run.cfg["data"], run.cfg["model"]
    if (data_cfg["name"] not in SALES or model_cfg["name"] != "rcgan" or model_cfg.get("prefix_steps")
            or not data_cfg.get("conditional") or data_cfg.get("categories_as_channels")):
        raise ConfigError(f"run_dir={run.dir}: whole series are written by a data=m5 (or sales_table) "
                          f"data.conditional=true model=rcgan run without model.prefix_steps or "
                          f"data.categories_as_channels.")
    gan, state, series = run.setup.gan, run.member(member), run.setup.data.series
    write = jax.jit(lambda z, y: generate(gan, state, z, y))
    y = jnp.asarray(categories, jnp.int32)
    z = gan.sample_latent(jax.random.PRNGKey(seed), len(y))
    return as_units(run, series.unscale(in_chunks(write, z, y))[..., -1])
