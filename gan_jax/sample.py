"""Draw samples from a trained run: `python -m gan_jax.sample run_dir=RUN [key=value ...]`.

    python -m gan_jax.sample run_dir=runs/default_5k                    # 64 samples -> PNG grid
    python -m gan_jax.sample run_dir=runs/cond n=16 category=Sneaker npy=true
    python -m gan_jax.sample run_dir=runs/cond n=8 category=all            # a named row per category
    python -m gan_jax.sample run_dir=runs/cond interpolate=true n=8     # 8 rows of z1 -> z2
    python -m gan_jax.sample run_dir=runs/cdnow n=10000                 # a synthetic table (CSV)
    python -m gan_jax.sample run_dir=runs/cdnow n=1000 condition=repurchase=1 format=parquet
    python -m gan_jax.sample run_dir=runs/cdnow n=1000 constraints=false  # ignore data.constraints
    python -m gan_jax.sample run_dir=runs/timegan n=1000                # sequences [n, T, F] (.npy)
    python -m gan_jax.sample run_dir=runs/demand n=100                  # data=series_file: a CSV
    python -m gan_jax.sample run_dir=runs/rcgan_prefix n=100           # continuations of held-out windows
    python -m gan_jax.sample run_dir=runs/lm_coco n=200 temperature=0.7  # sentences, one per line (.txt)
    python -m gan_jax.sample run_dir=runs/relgan n=20 prompt="a man riding"  # sentences that begin so
    python -m gan_jax.sample run_dir=runs/reviews n=100 category=1 format=csv  # one-star reviews

Options: n, category (a class name, an index, or `all` for n per category; conditional runs), seed,
step (checkpoint; the latest by default), ema (use the EMA generator when the run has one), interpolate, steps
(columns of an interpolation), npy (also write the raw array), out (PNG path; by default
`<run_dir>/samples/<description>.png`), member (which member of a population run).
Tables: format (csv | parquet), condition (`column=value` of a discrete column: exactly n rows,
every one with that value: G is asked for it through its condition vector, and the rare rows
whose one-hot answers otherwise are dropped and drawn again) and constraints (true: keep the
run's `data.constraints`, fixed values set and rows breaking an inequality drawn again; false:
G's rows as they come).
Sequences: `.npy` [n, T, F] in the data's units; a `data=series_file` run writes a table in the
file's own columns instead (format: csv, the default, parquet or npy).
Text (model=relgan, model=lm): a .txt file, one sentence per line (format=csv: a text column, and
the category of a conditional run, e.g. the rating of a review); temperature (> 0, default 1:
the model's own distribution; lower: likelier, less diverse sentences), prompt (words every
sentence begins with, each in the run's vocabulary) and category (conditional runs).
"""

from __future__ import annotations

import dataclasses
import logging
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.cli import parse_options
from gan_jax.errors import ConfigError, UserError
from gan_jax.tensorboard_writer import image_grid, label_rows, save_png, scatter_image
from gan_jax.training import saved_run
from gan_jax.training.sampling import answer_inputs, in_chunks
from gan_jax.training.state import generate


@dataclasses.dataclass
class SampleConfig:
    run_dir: str = "???"
    n: int = 64
    category: str | None = None
    seed: int = 0
    step: int | None = None
    ema: bool = True
    interpolate: bool = False
    steps: int = 8
    npy: bool = False
    out: str | None = None
    member: int | None = None
    format: str | None = None
    condition: str | None = None
    constraints: bool = True
    temperature: float | None = None
    prompt: str | None = None

# A conditioned or constrained table gives up when G's rows pass this rarely (rows drawn per row
# kept).
MAX_DRAWS_PER_ROW = 100


def parse(argv: list[str]) -> SampleConfig:
    usage = "python -m gan_jax.sample run_dir=RUN [n=64] [category=NAME] [interpolate=true] [npy=true]"
    cfg = parse_options(SampleConfig, argv, usage)
    if cfg.n <= 0 or cfg.steps < 2:
        raise ConfigError(f"n={cfg.n} must be positive and steps={cfg.steps} at least 2.")
    return cfg


def category_index(category: str | None, class_names: tuple[str, ...], num_classes: int) -> int | None:
    if category is None:
        return None
    if not num_classes:
        raise ConfigError(f"category={category} needs a run trained with data.conditional=true; "
                          f"this one is unconditional.")
    lowered = [c.lower() for c in class_names]
    if category.lower() in lowered:  # a name first: review ratings are named "1".."5"
        return lowered.index(category.lower())
    if category.isdigit() and int(category) < num_classes:
        return int(category)
    if category.lower() not in lowered:
        raise ConfigError(f"category={category!r} is unknown; choose one of {', '.join(class_names)} "
                          f"or an index 0-{num_classes - 1}.")
    return lowered.index(category.lower())


def latents(gan, key, cfg: SampleConfig) -> jax.Array:
    """n latents, or n rows of `steps` points on the segment between two random latents."""
    if not cfg.interpolate:
        return gan.sample_latent(key, cfg.n)
    k1, k2 = jax.random.split(key)
    z1, z2 = gan.sample_latent(k1, cfg.n), gan.sample_latent(k2, cfg.n)
    t = jnp.linspace(0.0, 1.0, cfg.steps)[None, :, None]
    return ((1 - t) * z1[:, None] + t * z2[:, None]).reshape(cfg.n * cfg.steps, -1)


def sample(cfg: SampleConfig) -> dict:
    run_dir = pathlib.Path(cfg.run_dir)
    run = saved_run.load(run_dir, cfg.step)  # checks run_dir and step before member
    size = run.size
    if size > 1 and not (cfg.member is not None and 0 <= cfg.member < size):
        raise ConfigError(f"{run_dir} is a population of {size}; choose member=0..{size - 1}.")
    if size == 1 and cfg.member not in (None, 0):
        raise ConfigError(f"member={cfg.member}: {run_dir} is a single run, not a population.")
    gan, data = run.setup.gan, run.setup.data
    state = run.member(cfg.member or 0)
    if data.table is not None:
        return sample_table(cfg, gan, data.table, state, run_dir)
    if data.series is not None:
        return sample_series(cfg, gan, data, state, run_dir)
    if data.text is not None:
        return sample_text(cfg, gan, data.text, state, run_dir, data.class_names)
    if cfg.temperature is not None or cfg.prompt is not None:
        raise ConfigError("temperature= and prompt= are settings of text runs (model=relgan, "
                          "model=lm); drop them.")
    if gan.pairing is not None:  # G answers given examples (a user's history, a photo)
        raise ConfigError(answers_only(run_dir, run.cfg["model"]["name"]))
    if cfg.format not in (None, "png") or cfg.condition is not None or not cfg.constraints:
        raise ConfigError("format=, condition= and constraints= are settings of table runs (data=cdnow, "
                          "data=adult, data=table); an image run writes a PNG grid (npy=true adds the "
                          "array).")

    every = (cfg.category or "").lower() == "all"  # one row of n per category
    if every and (not gan.num_classes or cfg.interpolate):
        raise ConfigError("category=all needs a run trained with data.conditional=true and no "
                          "interpolate=true.")
    label = None if every else category_index(cfg.category, data.class_names, gan.num_classes)
    key = jax.random.PRNGKey(cfg.seed)
    y = None
    if every:
        z = gan.sample_latent(key, cfg.n * gan.num_classes)
        y = jnp.repeat(jnp.arange(gan.num_classes), cfg.n)
    else:
        z = latents(gan, key, cfg)
        if gan.num_classes:  # conditional: the asked category, else uniform labels
            y = (jnp.full((z.shape[0],), label, jnp.int32) if label is not None
                 else jnp.repeat(gan.sample_labels(jax.random.fold_in(key, 1), cfg.n),
                                 cfg.steps if cfg.interpolate else 1))
    x = np.asarray(jax.jit(lambda s, z, y: generate(gan, s, z, y, cfg.ema))(state, z, y))

    name = f"step{int(state.step)}_n{cfg.n}" + (f"_member{cfg.member}" if size > 1 else "")
    name += "_all" if every else (f"_{data.class_names[label]}" if label is not None else "")
    name += "_interp" if cfg.interpolate else ""
    out = pathlib.Path(cfg.out) if cfg.out else run_dir / "samples" / f"{name}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    if data.is_image:
        ncol = cfg.steps if cfg.interpolate else (cfg.n if every else None)
        image = image_grid(x, data.value_range, ncol=ncol)
        if every:
            image = label_rows(image, data.class_names)
    else:
        image = scatter_image(x, data.modes)
    save_png(out, image)
    written = {"png": str(out)}
    if cfg.npy:
        np.save(out.with_suffix(".npy"), x)
        written["npy"] = str(out.with_suffix(".npy"))
    return written


def answers_only(run_dir: pathlib.Path, model: str) -> str:
    """Why a run whose generator answers given examples has nothing to sample, and what to run."""
    if model == "cfgan":
        return (f"run_dir={run_dir} is a recommender (model=cfgan): its generator scores items "
                f"for a user's history and draws nothing new; ask for a user's top items with "
                f"python -m gan_jax.recommend run_dir={run_dir} user=ID.")
    return (f"run_dir={run_dir} is an anomaly detector (model={model}): its generator "
            f"reconstructs the photos it is given and draws nothing new; score photos with "
            f"python -m gan_jax.detect run_dir={run_dir} detector.name={model}, then "
            f"python -m gan_jax.score run_dir={run_dir} detector={model} images=PATH.")


def parse_condition(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    column, sep, value = text.partition("=")
    if not sep or not column or not value:
        raise ConfigError(f"condition={text!r} must be column=value, e.g. condition=repurchase=1.")
    return column.strip(), value.strip()


def synthetic_table(gan, table, state, n: int, condition: tuple[str, str] | None = None,
                    seed: int = 0, ema: bool = True, constraints=None):
    """n synthetic rows (a DataFrame with the table's columns) from a table run's `state`.

    condition: (column, value) of a discrete column: G is asked for it through the condition
    vector and the rows whose one-hot answers otherwise are dropped and drawn again, so every
    row has it. Without a condition, rows are asked for at the data's own frequencies.
    constraints: the rules every row keeps (`gan_jax.data.constraints`; None: the table's own
    `data.constraints`, () for none): fixed values are set, and rows breaking an inequality are
    dropped and drawn again (rejection), so that all n rows satisfy every rule."""
    import pandas as pd  # noqa: PLC0415  (tables only)

    from gan_jax.data import constraints as constraints_lib  # noqa: PLC0415

    rules = table.constraints if constraints is None else tuple(constraints)
    wanted = table.condition(*condition) if condition else None
    generate_fn = jax.jit(lambda s, z, y: generate(gan, s, z, y, ema))
    key, kept, have, drawn = jax.random.PRNGKey(seed), [], 0, 0
    while have < n:
        k = min(max(2 * (n - have), 1000), 100_000)
        y = (np.broadcast_to(wanted, (k, len(wanted))) if condition is not None
             else table.empirical_conditions(k, seed + drawn))
        z = gan.sample_latent(jax.random.fold_in(key, drawn), k)
        frame = table.transform.decode(in_chunks(lambda z, y: generate_fn(state, z, y), z,
                                                 jnp.asarray(y)))
        drawn += k
        if condition is not None:  # only rows that answer the condition
            frame = frame[frame[condition[0]].astype(str) == condition[1]]
        frame = constraints_lib.enforce(frame, rules)
        kept.append(frame)
        have += len(frame)
        if have < n and drawn > MAX_DRAWS_PER_ROW * n:
            asked = [f"condition={condition[0]}={condition[1]}"] if condition else []
            asked += [f"the constraints {', '.join(r.text for r in rules)}"] if rules else []
            raise ConfigError(f"{' and '.join(asked)}: only {have} of {drawn} generated rows pass; "
                              f"the generator has not learnt them. Train longer, or sample without "
                              f"them (constraints=false drops the run's data.constraints).")
    return pd.concat(kept, ignore_index=True).iloc[:n]


def sample_table(cfg: SampleConfig, gan, table, state, run_dir: pathlib.Path) -> dict:
    """n synthetic rows decoded to the table's columns, written as CSV or parquet."""
    fmt = cfg.format or "csv"
    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"format={fmt} must be csv or parquet for a table run.")
    if cfg.interpolate or cfg.category is not None:
        raise ConfigError("interpolate= and category= are image settings; a table run takes "
                          "condition=column=value.")
    if fmt == "parquet":
        check_parquet()
    condition = parse_condition(cfg.condition)
    rows = synthetic_table(gan, table, state, cfg.n, condition, cfg.seed, cfg.ema,
                           None if cfg.constraints else ())
    name = f"step{int(state.step)}_n{cfg.n}" + (f"_{condition[0]}={condition[1]}" if condition else "")
    name += "_unconstrained" if table.constraints and not cfg.constraints else ""
    out = pathlib.Path(cfg.out) if cfg.out else run_dir / "samples" / f"{name}.{fmt}"
    write_frame(rows, out, fmt)
    return {fmt: str(out)}


def check_parquet() -> None:
    try:
        import pyarrow  # noqa: F401, PLC0415
    except ImportError as e:
        raise ConfigError("format=parquet needs pyarrow: pip install pyarrow, or use "
                          "format=csv.") from e


def write_frame(rows, out: pathlib.Path, fmt: str) -> None:
    """A DataFrame as CSV or parquet at `out`, whole or not at all."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")  # a failed write never leaves a half table
    if fmt == "csv":
        rows.to_csv(tmp, index=False)
    else:
        rows.to_parquet(tmp, index=False)
    tmp.replace(out)


def sample_series(cfg: SampleConfig, gan, data, state, run_dir: pathlib.Path) -> dict:
    """n synthetic sequences [n, steps, features] in the data's units, written as .npy, or for
    a user's file (data=series_file) as a table in its own columns (csv or parquet). A prefix
    model (`model.prefix_steps`) continues the first n held-out windows (cycled), whose real
    prefixes its sequences begin with; a conditional run writes `category` (default: uniform)."""
    if cfg.interpolate or cfg.condition is not None:
        raise ConfigError("interpolate= and condition= do not apply to a sequence run; it writes "
                          "n sequences (n=, seed=, step=, out=, format=, category= when "
                          "conditional).")
    series, key = data.series, jax.random.PRNGKey(cfg.seed)
    formats = ("npy",) if series.columns is None else ("csv", "parquet", "npy")
    fmt = cfg.format or formats[0]
    if fmt not in formats:
        raise ConfigError(f"format={cfg.format}: a sequence run writes .npy; drop format=."
                          if series.columns is None else f"format={cfg.format}: a series_file run "
                          f"writes csv (the default), parquet or npy; choose one of them.")
    if fmt == "parquet":
        check_parquet()
    label = category_index(cfg.category, data.class_names, gan.num_classes)
    z, y = gan.sample_latent(key, cfg.n), None
    if gan.pairing is not None:
        z, y = answer_inputs(gan, series.heldout_windows(cfg.n), z=z)
    elif gan.num_classes:
        y = (jnp.full((cfg.n,), label, jnp.int32) if label is not None
             else gan.sample_labels(jax.random.fold_in(key, 1), cfg.n))
    generate_fn = jax.jit(lambda s, z, y: generate(gan, s, z, y, cfg.ema))
    x = series.unscale(in_chunks(lambda z, y: generate_fn(state, z, y), z, y))
    name = f"step{int(state.step)}_n{cfg.n}" + (f"_member{cfg.member}" if cfg.member is not None else "")
    name += f"_{data.class_names[label]}" if label is not None else ""
    out = pathlib.Path(cfg.out) if cfg.out else run_dir / "samples" / f"{name}.{fmt}"
    if fmt != "npy":  # one row per sample and step, in the file's column names
        labels = None if y is None or gan.pairing is not None else np.asarray(y)
        write_frame(series.columns.frame(x, labels), out, fmt)
        return {fmt: str(out)}
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, x)
    return {"npy": str(out)}


def prompt_ids(prompt: str | None, text) -> tuple[int, ...]:
    """The token ids every sentence begins with (() for none)."""
    if prompt is None:
        return ()
    from gan_jax.data.text import tokenize  # noqa: PLC0415  (text runs only)

    words = tokenize(prompt)
    unknown = [w for w in words if w not in text.index]
    if not words or unknown:
        raise ConfigError(f"prompt={prompt!r}: " + (f"the word {unknown[0]!r} is not in the run's "
                          f"vocabulary of {len(text.vocabulary)} words" if unknown else
                          "it holds no word") + "; use words of the training sentences.")
    if len(words) >= text.max_length:
        raise ConfigError(f"prompt={prompt!r} has {len(words)} words; sentences have at most "
                          f"{text.max_length}: give a shorter prompt.")
    return tuple(text.index[w] for w in words)


def sample_text(cfg: SampleConfig, gan, text, state, run_dir: pathlib.Path,
                class_names: tuple[str, ...] = ()) -> dict:
    """n sentences at `temperature` (optionally after a prompt), one per line in a .txt."""
    if cfg.interpolate or cfg.condition is not None:
        raise ConfigError("interpolate= and condition= do not apply to a text run; it takes n=, "
                          "temperature=, prompt=, category= (conditional runs), seed=, step=, out=.")
    fmt = cfg.format or "txt"
    if fmt not in ("txt", "csv"):
        raise ConfigError(f"format={cfg.format}: a text run writes txt (one sentence per line, the "
                          f"default) or csv (a text column, and the category of a conditional run).")
    temperature = 1.0 if cfg.temperature is None else cfg.temperature
    if not temperature > 0:
        raise ConfigError(f"temperature={cfg.temperature} must be positive (1: the model's own "
                          f"distribution; e.g. temperature=0.7 for likelier sentences).")
    label = category_index(cfg.category, class_names, gan.num_classes)
    G = gan.generator.clone(sample_temperature=temperature, prompt=prompt_ids(cfg.prompt, text))
    gan = dataclasses.replace(gan, generator=G)
    key = jax.random.PRNGKey(cfg.seed)
    z, y = gan.sample_latent(key, cfg.n), None
    if gan.num_classes:  # conditional: the asked category, else uniform labels
        y = (jnp.full((cfg.n,), label, jnp.int32) if label is not None
             else gan.sample_labels(jax.random.fold_in(key, 1), cfg.n))
    generate_fn = jax.jit(lambda s, z, y: generate(gan, s, z, y, cfg.ema))
    ids = in_chunks(lambda z, y: generate_fn(state, z, y), z, y)
    name = f"step{int(state.step)}_n{cfg.n}_t{temperature:g}"
    name += f"_member{cfg.member}" if cfg.member is not None else ""
    name += f"_{class_names[label]}" if label is not None else ""
    out = pathlib.Path(cfg.out) if cfg.out else run_dir / "samples" / f"{name}.{fmt}"
    sentences = [" ".join(text.decode(row)) for row in np.asarray(ids)]
    if fmt == "csv":
        import pandas as pd  # noqa: PLC0415  (tables only)

        columns = {"text": sentences}
        if y is not None:
            columns["category"] = [class_names[i] for i in np.asarray(y)]
        write_frame(pd.DataFrame(columns), out, "csv")
        return {"csv": str(out)}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")  # nothing half-written
    tmp.write_text("".join(s + "\n" for s in sentences))
    tmp.replace(out)
    return {"txt": str(out)}


def main(argv: list[str] | None = None) -> int:
    logging.getLogger("absl").setLevel(logging.WARNING)
    try:
        written = sample(parse(sys.argv[1:] if argv is None else argv))
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print("wrote " + ", ".join(written.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
