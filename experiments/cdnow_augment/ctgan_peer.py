"""Fit CTGAN 0.12.1 (PyTorch, the peer) on a table and write samples of it: the reference that
gan_jax's tables are compared with. Runs in the peers' environment (scripts/setup_peers.sh):

    .venv-peers/bin/python experiments/cdnow_augment/ctgan_peer.py --train train.csv \\
        --discrete first_month repurchase --epochs 100 --seed 0 --out DIR \\
        --sample 700:repurchase=1 --sample 1300:repurchase=0      # or --sample 5000

CTGAN at its defaults (its own DataTransformer, 256x256 networks, Adam 2e-4, WGAN-GP, log-frequency
training-by-sampling), bar --epochs, --batch-size and --pac. Each --sample N[:column=value] goes to
DIR/sample_<N>[_<column>=<value>].csv. CTGAN's conditional `sample` only makes the value likelier,
so a conditional sample is filled by rejection: rows are drawn until N of them have the value.
DIR/ctgan.json records the timings (seconds), the versions and, per sample, the rows drawn per
row that had the value (1 / the acceptance rate). Timings: `transform_fit_seconds` is a
DataTransformer fitted alone on the table first (the same fit that CTGAN.fit then repeats inside);
`fit_seconds` is all of CTGAN.fit, of which `fit_startup_seconds` come before the first epoch
(transformer fit and transform, sampler, nets); `seconds_per_epoch` is the mean epoch after the
first (whose warm-up it leaves out; the first alone when there is one epoch).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import random
import sys
import time

import numpy as np
import pandas as pd

MAX_DRAWS_PER_ROW = 100  # a condition CTGAN gives rarer than this has not been learnt: give up


class EpochClock:
    """Stands in for the tqdm bar around CTGAN's epoch loop, to time each epoch without touching
    the loop itself: the time when each epoch starts, and when the last one ends."""

    stamps: list[float] = []

    def __init__(self, iterable, **_):
        self.iterable = iterable
        EpochClock.stamps = []

    def __iter__(self):
        for item in self.iterable:
            EpochClock.stamps.append(time.perf_counter())
            yield item
        EpochClock.stamps.append(time.perf_counter())

    def set_description(self, *_):  # only called with verbose=True
        pass


def parse_sample(text: str) -> tuple[int, str | None, str | None]:
    """'700:repurchase=1' -> (700, 'repurchase', '1'); '5000' -> (5000, None, None)."""
    n, _, condition = text.partition(":")
    column, eq, value = condition.partition("=")
    if not n.isdigit() or int(n) < 1 or (condition and (not eq or not column or not value)):
        raise argparse.ArgumentTypeError(f"--sample {text!r}: expected N or N:column=value")
    return int(n), column or None, value or None


def typed(train: pd.DataFrame, column: str, value: str):
    """The value as the column holds it (CTGAN's one-hot matches 1, not '1')."""
    match = [v for v in pd.unique(train[column]) if str(v) == value]
    if not match:
        raise SystemExit(f"--sample ...:{column}={value}: the training rows have no such value; "
                         f"they have {sorted(map(str, pd.unique(train[column])))[:20]}")
    return match[0].item() if isinstance(match[0], np.generic) else match[0]


def draw(model, train: pd.DataFrame, n: int, column: str | None, value: str | None):
    """(n rows, rows drawn, rows drawn that had the value): unconditional, or rejection on
    column == value."""
    if column is None:
        return model.sample(n), n, n
    want = typed(train, column, value)
    kept, have, drawn = [], 0, 0
    while have < n:
        k = max(2 * (n - have), 1000)
        rows = model.sample(k, condition_column=column, condition_value=want)
        drawn += k
        rows = rows[rows[column] == want]
        kept.append(rows)
        have += len(rows)
        if have < n and drawn > MAX_DRAWS_PER_ROW * n:
            raise SystemExit(f"CTGAN gave {column}={value} in only {have} of {drawn} rows; it has not "
                             f"learnt that value. Train longer, or sample without the condition.")
    return pd.concat(kept, ignore_index=True).iloc[:n], drawn, have


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", required=True, type=pathlib.Path, help="CSV of the training rows")
    p.add_argument("--discrete", nargs="*", default=[], help="discrete columns")
    p.add_argument("--epochs", type=int, default=300, help="CTGAN's default: 300")
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--pac", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, type=pathlib.Path)
    p.add_argument("--sample", action="append", default=[], type=parse_sample, metavar="N[:column=value]")
    args = p.parse_args()

    import ctgan
    import ctgan.synthesizers.ctgan as ctgan_module
    import torch
    from ctgan.data_transformer import DataTransformer

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(cores)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    train = pd.read_csv(args.train)
    args.out.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    DataTransformer().fit(train, args.discrete)
    transform_fit = time.perf_counter() - start

    model = ctgan.CTGAN(batch_size=args.batch_size, pac=args.pac, epochs=args.epochs, enable_gpu=False)
    model.set_random_state(args.seed)
    ctgan_module.tqdm = EpochClock  # the epoch loop's only use of tqdm
    start = time.perf_counter()
    model.fit(train, args.discrete)
    fit = time.perf_counter() - start
    epochs = np.diff(EpochClock.stamps)
    steady = epochs[1:] if len(epochs) > 1 else epochs

    samples = []
    for n, column, value in args.sample:
        rows, drawn, matched = draw(model, train, n, column, value)
        name = f"sample_{n}" + (f"_{column}={value}" if column else "") + ".csv"
        rows.to_csv(args.out / name, index=False)
        samples.append({"file": name, "rows": n, "condition": f"{column}={value}" if column else None,
                        "drawn": drawn, "matched": matched,
                        "drawn_per_kept": round(drawn / matched, 3)})

    steps = max(len(train) // args.batch_size, 1)  # CTGAN's steps per epoch (the last part-batch dropped)
    record = {
        "train_rows": len(train), "discrete": args.discrete, "epochs": args.epochs,
        "batch_size": args.batch_size, "pac": args.pac, "seed": args.seed,
        "steps_per_epoch": steps, "torch_threads": torch.get_num_threads(),
        "transform_fit_seconds": round(transform_fit, 3),
        "fit_seconds": round(fit, 3),
        "fit_startup_seconds": round(EpochClock.stamps[0] - start, 3),
        "seconds_per_epoch": round(float(steady.mean()), 4),
        "seconds_per_step": round(float(steady.mean()) / steps, 5),
        "first_epoch_seconds": round(float(epochs[0]), 4),
        "epochs_timed": len(steady), "first_epoch_excluded": len(epochs) > 1,
        "samples": samples,
        "versions": {"ctgan": ctgan.__version__, "torch": torch.__version__, "numpy": np.__version__,
                     "pandas": pd.__version__, "python": sys.version.split()[0]},
    }
    (args.out / "ctgan.json").write_text(json.dumps(record, indent=1))
    print(json.dumps(record))


if __name__ == "__main__":
    main()
