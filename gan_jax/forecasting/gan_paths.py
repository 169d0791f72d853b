"""Demand paths from a prefix RCGAN trained on M5 (`data=m5 model=rcgan model.prefix_steps=w`): its
generator continues each series' last w known days, `samples` times, and the continuations are
mapped back to units (the data's inverse scaling, rounded, floored at 0)."""

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
    if data_cfg["name"] != "m5" or model_cfg["name"] != "rcgan" or not w:
        raise ConfigError(f"run_dir={run.dir} is a data={data_cfg['name']} model={model_cfg['name']} "
                          f"run; demand paths need a data=m5 model=rcgan run with model.prefix_steps > 0 "
                          f"(e.g. 14).")
    return w


def demand_paths(run, member: int, history: np.ndarray, days: int, samples: int, seed: int = 0,
                 chunk: int = 20_000) -> SampleForecast:
    """Paths [N, samples, days] after history [N, >= w] (units), from population member `member`."""
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
    prefixes = np.repeat(history[:, -w:], samples, axis=0)[..., None]  # [N * samples, w, 1]
    z = gan.sample_latent(jax.random.PRNGKey(seed), len(prefixes))
    out = []
    for start in range(0, len(prefixes), chunk):
        y = gan.pairing.infer(jnp.asarray(series.scale(prefixes[start:start + chunk])))
        out.append(series.unscale(in_chunks(write, z[start:start + chunk], y))[:, w:w + days, 0])
    paths = np.concatenate(out)
    if not np.isfinite(paths).all():
        raise DataError(f"run_dir={run.dir} writes non-finite demand; its generator has diverged.")
    paths = np.maximum(np.rint(paths), 0).astype(np.int64)
    return SampleForecast(paths.reshape(len(history), samples, days))
