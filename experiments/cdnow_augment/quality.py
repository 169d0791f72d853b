"""Synthetic CDNOW customers from gan_jax and CTGAN 0.12.1, scored by one scorer.

    .venv/bin/python experiments/cdnow_augment/quality.py                # 3 seeds, 100 epochs each
    .venv/bin/python experiments/cdnow_augment/quality.py --smoke --out /tmp/q

Both fit the 18,856 training customers (`data=cdnow`: stratified 80/20 split, seed 0) for the same
number of epochs at batch 500 with PacGAN 10 and WGAN-GP: gan_jax as one population of
`experiment=ctgan_cdnow` (one member per seed, one compiled program), CTGAN through
`ctgan_peer.py` in the peers' virtual environment (`scripts/setup_peers.sh`; left out when
absent). Each seed's synthetic table has as many rows as the training table, drawn at the data's
own category frequencies, and is scored by `gan_jax.metrics.tabular` against the real rows:
column shapes, pair trends and their mean (SDMetrics' quality definitions), train-on-synthetic /
test-on-real ROC AUC and PR AUC of HistGradientBoostingClassifier and logistic regression (default
settings) on the 4,714 real test customers, and the distance to the closest training record.
gan_jax's tables are scored twice: as G gives them, and under the preset's `data.constraints`
("gan_jax + constraints": CDNOW's rules kept by `gan_jax.sample.synthetic_table`, the same
number of rows), with the shares of rows breaking each rule (`recency_above_T`,
`spend_without_repeat`) in both. The real held-out rows in place of the synthetic ones give the
reference row (classifiers fit on the training rows; DCR of half the held-out rows against the
other half, so its ratio is measured, not 1 by construction). Nothing is chosen
on the test customers: both run a fixed number of epochs. Writes quality_<budget>.json / .md
beside this file (with --smoke: under --out); synthetic tables stay in --out for
scripts/check_sdmetrics.py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
from experiments.cdnow_augment.run import PEERS_PYTHON, TARGET, mean_se, preset_rules  # noqa: E402
from experiments.provenance import provenance  # noqa: E402
from experiments.training_runs import train_or_reuse  # noqa: E402

BUDGETS = {"cpu": {"epochs": 100, "seeds": 3}, "smoke": {"epochs": 1, "seeds": 2}}
BATCH = 500


def train_gan_jax(epochs: int, seeds: int, rows: int, out: pathlib.Path,
                  single: int | None = None) -> tuple[pathlib.Path, list]:
    """One population of `seeds` members (one compiled program), or with `single=s` the plain
    run of seed s, as a user's `python -m gan_jax.train experiment=ctgan_cdnow seed=s` trains it.
    The two differ by float rounding that GAN training amplifies (docs/design.md), so both are
    reported."""
    steps = epochs * -(-rows // BATCH)
    every = next(k for k in (steps // 20, steps // 10, steps // 4, steps // 2, steps, 1)
                 if k and steps % k == 0)
    if single is None:
        run_dir = (out / f"gan_jax_e{epochs}").resolve()
        seeding = [f"trainer.population={seeds}", f"seed=[{','.join(map(str, range(seeds)))}]"]
    else:
        run_dir = (out / f"gan_jax_single_e{epochs}_seed{single}").resolve()
        seeding = [f"seed={single}"]
    cmd = [sys.executable, "-m", "gan_jax.train", "experiment=ctgan_cdnow", f"trainer.steps={steps}",
           *seeding, f"trainer.log_every={every}", f"trainer.sample_every={steps}",
           f"trainer.eval_every={steps}", f"trainer.checkpoint_every={steps}", "trainer.progress=false",
           f"hydra.run.dir={run_dir}"]
    train_or_reuse(cmd, run_dir, "gan_jax")
    return run_dir, cmd[1:]


def rules_tag(rules) -> str:
    """A short name of a rule set for cached file names: rows drawn under other rules never mix."""
    return hashlib.sha1("\n".join(r.text for r in rules).encode()).hexdigest()[:8]


def gan_jax_tables(run_dir: pathlib.Path, out: pathlib.Path, name: str = "gan_jax",
                   seeds: tuple[int, ...] | None = None) -> tuple[object, list, tuple, list]:
    """(the run's Table, [synthetic table per member], the rules, [the same under the rules]),
    tables cached as CSV. The rules are the run's `data.constraints`, or the preset's for a run
    trained before it declared them; the second list is empty when there are none."""
    import pandas as pd

    from gan_jax.sample import synthetic_table
    from gan_jax.training import saved_run

    run = saved_run.load(run_dir)
    table = run.setup.data.table
    rules = table.constraints or preset_rules(table)
    frames, constrained = [], []
    for i, seed in enumerate(seeds or range(run.size)):
        for rows, file, kept in ((frames, f"{name}_seed{seed}.csv", ()),
                                 (constrained, f"{name}_seed{seed}_rules{rules_tag(rules)}.csv", rules)):
            if rows is constrained and not rules:
                continue
            path = out / file
            if not path.is_file():
                synthetic_table(run.setup.gan, table, run.member(i), len(table.train), seed=seed,
                                constraints=kept).to_csv(path, index=False)
            rows.append(pd.read_csv(path))
    return table, frames, rules, constrained


def ctgan_tables(table, epochs: int, seeds: int, out: pathlib.Path) -> tuple[list, list]:
    """CTGAN fitted per seed on the same training rows: ([synthetic tables], [records])."""
    import pandas as pd

    if not PEERS_PYTHON.is_file():
        return [], []
    train_csv = out / "train.csv"
    table.train.to_csv(train_csv, index=False)
    frames, records = [], []
    for seed in range(seeds):
        work = out / f"ctgan_e{epochs}_seed{seed}"
        if not (work / "ctgan.json").is_file():
            cmd = [str(PEERS_PYTHON), str(HERE / "ctgan_peer.py"), "--train", str(train_csv),
                   "--discrete", *table.discrete, "--epochs", str(epochs), "--batch-size", str(BATCH),
                   "--pac", "10", "--seed", str(seed), "--out", str(work), "--sample",
                   str(len(table.train))]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode:
                sys.exit(f"CTGAN failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
        frames.append(pd.read_csv(next(work.glob("sample_*.csv"))))
        records.append(json.loads((work / "ctgan.json").read_text()))
    return frames, records


def score(table, synthetic, fit_on=None) -> dict:
    """The scores of one table; `fit_on` (the real training rows) marks the real reference row,
    whose DCR compares half the held-out rows with the training rows against the other half."""
    from gan_jax.metrics import tabular

    values = tabular.quality(table.train, synthetic, table.discrete)
    out = {k: values[k] for k in ("quality", "column_shapes", "pair_trends")}
    out.update(tabular.ml_efficacy(synthetic if fit_on is None else fit_on, table.heldout, TARGET,
                                   table.discrete))
    if fit_on is None:
        out.update(tabular.distance_to_closest_record(synthetic, table.train, table.heldout,
                                                      table.discrete))
    else:
        out.update(tabular.holdout_dcr(table.train, synthetic, table.discrete))
    out.update(violations(synthetic))
    return {k: float(v) for k, v in out.items()}


def violations(frame) -> dict:
    """Shares of rows breaking CDNOW's logic, which no column-wise range check catches (real rows:
    0, bar one customer whose only repeat purchase cost $0)."""
    return {"recency_above_T": float((frame["recency"] > frame["T"]).mean()),
            "spend_without_repeat": float(((frame["frequency"] == 0) & (frame["monetary_value"] > 0)).mean())}


METRICS = ("quality", "column_shapes", "pair_trends", "auc_hgb", "ap_hgb", "auc_logreg", "dcr_ratio",
           "recency_above_T", "spend_without_repeat")


def markdown(rows: dict) -> str:
    lines = ["| table | " + " | ".join(METRICS) + " |", "|---|" + "---|" * len(METRICS)]
    for name, stats in rows.items():
        cells = [f"{stats[m]['mean']:.3f}" + (f" ± {stats[m]['se']:.3f}" if stats[m]["n"] > 1 else "")
                 for m in METRICS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", default="cpu", choices=sorted(BUDGETS))
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--out", type=pathlib.Path, default=HERE / "runs" / "quality")
    p.add_argument("--ctgan-seeds", type=int, help="fit CTGAN for only this many seeds (its fits are "
                                                   "the slow part; the results say how many ran)")
    args = p.parse_args(argv)
    name = "smoke" if args.smoke else args.budget
    budget, start = BUDGETS[name], time.perf_counter()
    results = args.out if args.smoke else HERE
    args.out.mkdir(parents=True, exist_ok=True)
    rows = 18856  # CDNOW's training customers at the default split (checked below)
    run_dir, command = train_gan_jax(budget["epochs"], budget["seeds"], rows, args.out)
    table, ours, rules, constrained = gan_jax_tables(run_dir, args.out)
    if len(table.train) != rows:
        sys.exit(f"expected {rows} training customers, the run has {len(table.train)}")
    singles = [train_gan_jax(budget["epochs"], budget["seeds"], rows, args.out, single=s)
               for s in range(budget["seeds"])]
    single_tables = [gan_jax_tables(d, args.out, "gan_jax_single", (s,)) for s, (d, _) in enumerate(singles)]
    peers, ctgan_records = ctgan_tables(table, budget["epochs"], args.ctgan_seeds or budget["seeds"],
                                        args.out)
    per_seed = {"gan_jax": [score(table, f) for f in ours],
                "gan_jax + constraints": [score(table, f) for f in constrained],
                "gan_jax, single runs (the README's command)": [score(table, t[1][0]) for t in single_tables],
                "gan_jax, single runs + constraints": [score(table, t[3][0]) for t in single_tables
                                                       if t[3]],
                "CTGAN 0.12.1": [score(table, f) for f in peers],
                "real (held-out rows; classifiers fit on the training rows)":
                    [score(table, table.heldout, fit_on=table.train)]}
    per_seed = {k: v for k, v in per_seed.items() if v}
    summary = {k: {m: mean_se([s[m] for s in v]) for m in METRICS} for k, v in per_seed.items()}
    gan_summary = json.loads((run_dir / "summary.json").read_text())
    md = markdown(summary)
    (results / f"quality_{name}.md").write_text(md)
    (results / f"quality_{name}.json").write_text(json.dumps({
        "budget": budget, "per_seed": per_seed, "summary": summary,
        "constraints": [r.text for r in rules],
        "gan_jax": {"command": command, "wall_seconds": gan_summary["wall_seconds"],
                    "steps_per_second": gan_summary["steps_per_second"]},
        "gan_jax_single": [{"command": c, "wall_seconds": json.loads(
            (d / "summary.json").read_text())["wall_seconds"]} for d, c in singles],
        "ctgan": ctgan_records, "wall_seconds": round(time.perf_counter() - start, 1),
        **provenance()}, indent=1, default=str))
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
