"""Does synthetic data improve a purchase-prediction model trained on few real customers?

    .venv/bin/python experiments/cdnow_augment/run.py                 # budget in README.md
    .venv/bin/python experiments/cdnow_augment/run.py --no-train      # tabulate what is done
    .venv/bin/python experiments/cdnow_augment/run.py --smoke --out /tmp/aug   # the slow test

For every real training size n and seed s (CDNOW customers, `data=cdnow data.train_size=n
data.seed=s`: the stratified 80/20 split and the stratified subsample of n training customers
both come from s):
1. gan_jax trains `experiment=ctgan_cdnow` on those n rows only, for a fixed number of steps
   (nothing is selected on held-out data).
2. The downstream model, scikit-learn's HistGradientBoostingClassifier at default settings
   (random_state=s), predicts `repurchase` and is scored on the real test customers of split s
   (ROC AUC and PR AUC = average precision). Its training rows:
   - real only: the n rows;
   - real + gan_jax: the n rows plus r * n synthetic rows for each ratio r, asked for through the
     condition vector in the real rows' class proportions (`gan_jax.sample.synthetic_table`: every
     row has the class it was asked for), as G gives them (`gan_jax_x<r>`) and, when the preset
     declares `data.constraints`, keeping those rules (`gan_jax_constrained_x<r>`);
   - real + SMOTE (imbalanced-learn, optional): the minority class oversampled to balance;
   - real + CTGAN 0.12.1 (optional, `scripts/setup_peers.sh`): as gan_jax, from CTGAN fitted on the
     same n rows for the same number of epochs as gan_jax's steps cover.
Each (n, s) is recorded in results_cache/<budget>/n<n>_seed<s>.json (committed): every score, the
commands, commit, machine and wall times, and the rules its constrained scores kept
(`constraints`); later calls reuse them, add CTGAN's scores to a record made while CTGAN was not
installed, and (re)compute the constrained scores of a record made before the preset declared its
rules or under other rules; the table pools only constrained scores made under the preset's
current rules. The table (mean +- s.e. over
seeds) goes to results_<budget>.json/.md, with auc_vs_n_<budget>.png.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import pathlib
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
from experiments.provenance import provenance  # noqa: E402
from experiments.training_runs import train_or_reuse  # noqa: E402

TARGET = "repurchase"
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"


@dataclasses.dataclass(frozen=True)
class Budget:
    sizes: tuple[int, ...]
    seeds: int
    steps: int          # gan_jax generator updates per run (batch 500)
    ratios: tuple[float, ...]


BUDGETS = {"cpu": Budget((250, 500, 1000, 2000, 5000), 5, 1000, (1.0, 2.0, 5.0)),
           "smoke": Budget((250,), 1, 40, (1.0,))}


def train_gan(n: int, seed: int, budget: Budget, out: pathlib.Path) -> tuple[pathlib.Path, list[str]]:
    run_dir = (out / f"n{n}_seed{seed}").resolve()
    steps = budget.steps
    every = math.gcd(steps, 100)
    cmd = [sys.executable, "-m", "gan_jax.train", "experiment=ctgan_cdnow", f"data.train_size={n}",
           f"data.seed={seed}", f"seed={seed}", f"trainer.steps={steps}", f"trainer.log_every={every}",
           f"trainer.sample_every={steps}", f"trainer.eval_every={steps}",
           f"trainer.checkpoint_every={steps}", "trainer.progress=false", f"hydra.run.dir={run_dir}"]
    train_or_reuse(cmd, run_dir, "training")
    return run_dir, cmd[1:]


def classifier_scores(train, test, seed: int) -> dict:
    """The downstream model's ROC AUC and PR AUC on the real test customers."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import average_precision_score, roc_auc_score

    x, y = features(train), train[TARGET].to_numpy()
    model = HistGradientBoostingClassifier(random_state=seed).fit(x, y)
    p = model.predict_proba(features(test))[:, 1]
    truth = test[TARGET].to_numpy()
    return {"roc_auc": float(roc_auc_score(truth, p)), "pr_auc": float(average_precision_score(truth, p)),
            "train_rows": len(train)}


def features(frame) -> np.ndarray:
    """Every column but the target; the first-purchase month one-hot (months 1-3)."""
    x = frame.drop(columns=[TARGET])
    month = x.pop("first_month").to_numpy()
    return np.column_stack([x.to_numpy(np.float64), *(month == m for m in (1, 2, 3))])


def class_counts(real, total: int) -> dict[int, int]:
    """`total` rows split between the classes in the real rows' proportions."""
    positives = int(round(total * real[TARGET].mean()))
    return {1: positives, 0: total - positives}


def with_synthetic(real, by_class: dict, ratio: float):
    """The real rows plus ratio * n synthetic ones in the real class proportions: the first rows
    of each class's synthetic sample (drawn i.i.d., so any prefix is a sample too)."""
    import pandas as pd

    counts = class_counts(real, int(round(ratio * len(real))))
    return pd.concat([real, *(by_class[c].iloc[:k] for c, k in counts.items())], ignore_index=True)


def gan_rows(run_dir: pathlib.Path, real, ratio: float, seed: int, rules=()) -> dict:
    """{class: synthetic rows of that class} for `ratio`, from the run's generator; every row
    keeps `rules` (gan_jax.data.constraints; () for G's rows as they come)."""
    from gan_jax.sample import synthetic_table
    from gan_jax.training import saved_run

    run = saved_run.load(run_dir)
    return {c: synthetic_table(run.setup.gan, run.setup.data.table, run.state, k, (TARGET, str(c)),
                               seed, constraints=rules)
            for c, k in class_counts(real, int(round(ratio * len(real)))).items()}


def preset_texts() -> list[str]:
    """The `data.constraints` of conf/experiment/ctgan_cdnow.yaml (what the study trains with),
    as written; [] when it declares none."""
    from omegaconf import OmegaConf

    preset = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "experiment" / "ctgan_cdnow.yaml"))
    return list((preset.get("data") or {}).get("constraints") or [])


def preset_rules(table) -> tuple:
    """The preset's rules, parsed and checked against the table's columns."""
    from gan_jax.data import constraints

    return constraints.parse(preset_texts(), table.train, table.discrete)


def add_constrained(record: dict, table, run_dir: pathlib.Path, budget: Budget, rules) -> None:
    """gan_jax's scores with rows that keep `rules` (`gan_jax_constrained_x<r>`) into `record`,
    tagged with the rules' texts (`record["constraints"]`) so that scores drawn under other rules
    are never pooled with them (`current_scores`); with the share of G's rows as they come that
    break each rule (`record["violations"]`)."""
    import pandas as pd

    from gan_jax.data import constraints

    seed = record["seed"]
    plain = pd.concat(list(gan_rows(run_dir, table.train, max(budget.ratios), seed).values()))
    record["violations"] = {text: count / len(plain)
                            for text, count in constraints.violations(plain, rules).items()}
    kept = gan_rows(run_dir, table.train, max(budget.ratios), seed, rules)
    for r in budget.ratios:
        record["scores"][f"gan_jax_constrained_x{r:g}"] = classifier_scores(
            with_synthetic(table.train, kept, r), table.heldout, seed)
    record["constraints"] = [rule.text for rule in rules]


def current_scores(record: dict, texts: list[str]) -> dict:
    """The record's scores, without its constrained gan_jax scores when they were drawn under
    other rules than `texts` (the preset's now): a table never pools two rule sets."""
    if record.get("constraints") == texts:
        return record["scores"]
    return {m: s for m, s in record["scores"].items() if not m.startswith("gan_jax_constrained_")}


def smote_rows(real, seed: int):
    """The real rows with the minority class oversampled to balance by SMOTE-NC (the month is
    categorical); integer columns rounded back. None without imbalanced-learn."""
    try:
        from imblearn.over_sampling import SMOTENC
    except ImportError:
        return None
    import pandas as pd

    x, y = real.drop(columns=[TARGET]), real[TARGET]
    k = min(5, int(y.value_counts().min()) - 1)
    if k < 1:
        return None
    xs, ys = SMOTENC(categorical_features=["first_month"], random_state=seed,
                     k_neighbors=k).fit_resample(x, y)
    out = pd.DataFrame(xs, columns=x.columns).assign(**{TARGET: ys.to_numpy()})
    for column, dtype in real.dtypes.items():
        if np.issubdtype(dtype, np.integer):
            out[column] = out[column].astype(np.float64).round()
    return out.astype(real.dtypes.to_dict())


def ctgan_rows(real, ratio: float, epochs: int, seed: int, work: pathlib.Path):
    """CTGAN 0.12.1 fitted on the same rows (in the peers' virtual environment):
    ({class: rows} for `ratio`, CTGAN's record), or (None, None) when it is not installed."""
    if not PEERS_PYTHON.is_file():
        return None, None
    import pandas as pd

    work.mkdir(parents=True, exist_ok=True)
    real.to_csv(work / "train.csv", index=False)
    counts = class_counts(real, int(round(ratio * len(real))))
    cmd = [str(PEERS_PYTHON), str(HERE / "ctgan_peer.py"), "--train", str(work / "train.csv"),
           "--discrete", "first_month", TARGET, "--epochs", str(epochs), "--seed", str(seed),
           "--out", str(work), *sum((["--sample", f"{k}:{TARGET}={c}"] for c, k in counts.items()), [])]
    done = work / "command.json"  # a finished fit of this very command is read back, not refit
    if not (done.is_file() and json.loads(done.read_text()) == cmd[1:]):
        for old in work.glob("sample_*.csv"):
            old.unlink()
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            print(f"CTGAN failed ({r.returncode}); left out: {r.stderr[-800:]}", flush=True)
            return None, None
        done.write_text(json.dumps(cmd[1:]))
    rows = pd.concat([pd.read_csv(f) for f in sorted(work.glob("sample_*.csv"))], ignore_index=True)
    return {c: rows[rows[TARGET] == c].reset_index(drop=True) for c in counts}, \
        json.loads((work / "ctgan.json").read_text())


def cell_table(n: int, seed: int):
    """The cell's real rows (training subset and test customers), as the GAN run builds them."""
    from omegaconf import OmegaConf

    from gan_jax import data as data_lib

    cfg = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "data" / "cdnow.yaml"))
    return data_lib.build({**cfg, "train_size": n, "seed": seed}).table


def run_cell(n: int, seed: int, budget: Budget, out: pathlib.Path, cache: pathlib.Path) -> dict:
    """gan_jax, real only and SMOTE for one (n, seed); CTGAN too when its environment exists."""
    start = time.perf_counter()
    run_dir, command = train_gan(n, seed, budget, out)
    table = cell_table(n, seed)
    real, test = table.train, table.heldout
    scores = {"real": classifier_scores(real, test, seed)}
    synthetic = gan_rows(run_dir, real, max(budget.ratios), seed)  # G's rows as they come
    for r in budget.ratios:
        scores[f"gan_jax_x{r:g}"] = classifier_scores(with_synthetic(real, synthetic, r), test, seed)
    summary = json.loads((run_dir / "summary.json").read_text())
    record = {"n": n, "seed": seed, "scores": scores, "test_rows": len(test),
              "gan_jax": {"command": command, "wall_seconds": summary["wall_seconds"],
                          "eval": summary.get("eval")},
              "ctgan": None, "constraints": [], **provenance()}
    rules = preset_rules(table)
    if rules:
        add_constrained(record, table, run_dir, budget, rules)
    smote = smote_rows(real, seed)
    if smote is not None:
        scores["smote"] = classifier_scores(smote, test, seed)
    record["wall_seconds"] = round(time.perf_counter() - start, 1)
    add_ctgan(record, table, budget, out)
    save(record, cache)
    return record


def add_ctgan(record: dict, table, budget: Budget, out: pathlib.Path) -> bool:
    """CTGAN's scores into `record` (from the same rows), when its environment exists. CTGAN trains
    for as many epochs of its own (max(n // 500, 1) steps each) as gan_jax's steps."""
    n, seed = record["n"], record["seed"]
    start = time.perf_counter()
    epochs = budget.steps // max(n // 500, 1)
    peer, info = ctgan_rows(table.train, max(budget.ratios), epochs, seed,
                            out / "ctgan" / f"n{n}_seed{seed}")
    if peer is None:
        return False
    for r in budget.ratios:
        record["scores"][f"ctgan_x{r:g}"] = classifier_scores(
            with_synthetic(table.train, peer, r), table.heldout, seed)
    record["ctgan"] = {**info, "cell_wall_seconds": round(time.perf_counter() - start, 1),
                       "provenance": provenance()}
    return True


def reuse_ctgan(record: dict, rev: str, budget_name: str) -> bool:
    """CTGAN's scores for `record`'s cell copied from the record committed at git revision `rev`,
    when that record's real-only scores equal this one's exactly (the same rows and classifier
    seed, so CTGAN, whose code gan_jax's changes do not touch, was fitted on the same data).
    CTGAN's fits are the slow part of a cell; the copy names its revision."""
    path = f"experiments/cdnow_augment/results_cache/{budget_name}/n{record['n']}_seed{record['seed']}.json"
    r = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, text=True)
    if r.returncode:
        return False
    old = json.loads(r.stdout)
    if old.get("ctgan") is None or old["scores"]["real"] != record["scores"]["real"]:
        return False
    record["scores"].update({k: v for k, v in old["scores"].items() if k.startswith("ctgan_")})
    record["ctgan"] = {**old["ctgan"], "reused_from": rev}
    return True


def save(record: dict, cache: pathlib.Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"n{record['n']}_seed{record['seed']}.json"
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(record, indent=1, default=str))
    tmp.replace(path)


def mean_se(values) -> dict:
    v = np.asarray(values, np.float64)
    se = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0
    return {"mean": float(v.mean()), "se": se, "n": len(v)}


def aggregate(records: list[dict]) -> dict:
    """{method: {n: {metric: mean_se}}} over seeds."""
    table: dict = {}
    for rec in records:
        for method, s in rec["scores"].items():
            for metric in ("roc_auc", "pr_auc"):
                table.setdefault(method, {}).setdefault(rec["n"], {}).setdefault(metric, []).append(s[metric])
    return {m: {n: {k: mean_se(v) for k, v in cells.items()} for n, cells in by_n.items()}
            for m, by_n in table.items()}


def paired_gains(records: list[dict]) -> dict:
    """{method: {n: mean_se of (its ROC AUC - real only's) over seeds, and how many are > 0}}: the
    same split, rows and classifier seed on both sides of each difference."""
    gains: dict = {}
    for rec in records:
        base = rec["scores"]["real"]["roc_auc"]
        for method, s in rec["scores"].items():
            if method != "real":
                gains.setdefault(method, {}).setdefault(rec["n"], []).append(s["roc_auc"] - base)
    return {m: {n: {**mean_se(v), "positive": int(np.sum(np.asarray(v) > 0))} for n, v in by_n.items()}
            for m, by_n in gains.items()}


def size_table(title: str, sizes: list[int], by_method: dict, cell) -> list[str]:
    """Markdown lines of one table: a row per method, a column per training size n (`cell` of
    that method's value at n, "-" where it has none)."""
    lines = [title, "", "| training rows | " + " | ".join(f"n = {n}" for n in sizes) + " |",
             "|---|" + "---|" * len(sizes)]
    for method, by_n in by_method.items():
        cells = [cell(by_n[n]) if n in by_n else "-" for n in sizes]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return lines + [""]


def markdown(table: dict, sizes: list[int], gains: dict | None = None) -> str:
    lines = []
    if gains:
        lines += size_table("**ROC AUC gain over real only**, paired by seed (mean ± s.e.; seeds "
                            "with a gain / seeds)", sizes, gains,
                            lambda g: f"{g['mean']:+.3f} ± {g['se']:.3f} ({g['positive']}/{g['n']})")
    for metric, title in (("roc_auc", "ROC AUC"), ("pr_auc", "PR AUC (average precision)")):
        lines += size_table(f"**{title}** on the real test customers (mean ± s.e. over seeds; seeds "
                            "in brackets)", sizes, table,
                            lambda c, m=metric: f"{c[m]['mean']:.3f} ± {c[m]['se']:.3f} ({c[m]['n']})")
    return "\n".join(lines)


def plot(table: dict, sizes: list[int], path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for method, by_n in table.items():
        ns = [n for n in sizes if n in by_n]
        means = [by_n[n]["roc_auc"]["mean"] for n in ns]
        ses = [by_n[n]["roc_auc"]["se"] for n in ns]
        ax.errorbar(ns, means, yerr=ses, marker="o", capsize=3, label=method,
                    linewidth=2.5 if method == "real" else 1.2)
    ax.set_xscale("log")
    ax.set_xlabel("real training customers n")
    ax.set_ylabel("ROC AUC on real test customers")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def print_cell(rec: dict) -> None:
    print(f"n={rec['n']} seed={rec['seed']}: " + "  ".join(
        f"{m} {s['roc_auc']:.3f}" for m, s in rec["scores"].items()), flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", default="cpu", choices=sorted(BUDGETS))
    p.add_argument("--smoke", action="store_true", help="--budget smoke")
    p.add_argument("--out", type=pathlib.Path, default=HERE / "runs", help="training run directories")
    p.add_argument("--results", type=pathlib.Path, help="where results go (default: beside this file; "
                                                          "with --smoke: --out)")
    p.add_argument("--no-train", action="store_true", help="only tabulate the cached records")
    p.add_argument("--sizes", type=int, nargs="+", help="only these n (the table has every cached n)")
    p.add_argument("--ctgan-from", metavar="REV", help="cells without CTGAN scores take them from the "
                   "records committed at git revision REV where their real-only scores are identical")
    args = p.parse_args(argv)
    name = "smoke" if args.smoke else args.budget
    budget = BUDGETS[name]
    results = args.results or (args.out if args.smoke else HERE)
    cache = results / "results_cache" / name
    start = time.perf_counter()
    from gan_jax.data import constraints

    texts = [r.text for r in constraints.parse(preset_texts())]
    if not args.no_train:  # seeds outermost: a partial pass still covers every n
        for seed in range(budget.seeds):
            for n in args.sizes or budget.sizes:
                path = cache / f"n{n}_seed{seed}.json"
                if not path.is_file():
                    rec = run_cell(n, seed, budget, args.out, cache)
                    print_cell(rec)
                    continue
                rec, changed = json.loads(path.read_text()), False
                if texts and rec.get("constraints") != texts:  # made before, or under other rules
                    table = cell_table(n, seed)
                    add_constrained(rec, table, train_gan(n, seed, budget, args.out)[0], budget,
                                    preset_rules(table))
                    changed = True
                if rec["ctgan"] is None and PEERS_PYTHON.is_file():
                    changed = add_ctgan(rec, cell_table(n, seed), budget, args.out) or changed
                if changed:
                    save(rec, cache)  # constrained or CTGAN scores added to an older record
                    print_cell(rec)
    records = [json.loads(f.read_text()) for f in sorted(cache.glob("n*_seed*.json"))]
    for rec in records:
        if args.ctgan_from and rec["ctgan"] is None and reuse_ctgan(rec, args.ctgan_from, name):
            save(rec, cache)
    records = [{**r, "scores": current_scores(r, texts)} for r in records]
    sizes = sorted({r["n"] for r in records})
    table, gains = aggregate(records), paired_gains(records)
    results.mkdir(parents=True, exist_ok=True)
    md = markdown(table, sizes, gains)
    (results / f"results_{name}.md").write_text(md)
    (results / f"results_{name}.json").write_text(json.dumps(
        {"budget": dataclasses.asdict(budget), "table": table, "paired_gains": gains,
         "records": len(records), "constraints": texts,
         "this_call": {**provenance(), "wall_seconds": round(time.perf_counter() - start, 1)}},
        indent=1))
    if records:
        plot(table, sizes, results / f"auc_vs_n_{name}.png")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
