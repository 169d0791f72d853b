"""SDMetrics' Quality Report and gan_jax's `gan_jax.metrics.tabular.quality` on the same real and
synthetic tables, side by side, with their differences.

    .venv-peers/bin/python scripts/check_sdmetrics.py --real real.csv --synthetic synthetic.csv \\
        --discrete first_month repurchase [--out check.json]

SDMetrics lives in the peers' environment (scripts/setup_peers.sh) and gan_jax needs JAX, which
only .venv has: run in the peers' environment, this script computes SDMetrics' report and runs
itself in .venv (--gan-jax-only, which prints gan_jax's scores as JSON) for gan_jax's. Both read
the same CSVs; the discrete columns are SDMetrics' "categorical", the others "numerical".

SDMetrics is scored twice. `sdmetrics` sets the report's real_correlation_threshold and
real_association_threshold to 0, so every column pair counts: the definition gan_jax follows, and
the one the differences are taken against. `sdmetrics_default` is the report as SDMetrics 0.32
ships it, whose Column Pair Trends averages only the pairs with a real |Pearson r| above 0.5 or a
real association (Cramer's V) above 0.3. Per pair, gan_jax's score is `pair_trends` of those two
columns alone.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
MAIN_PYTHON = ROOT / ".venv" / "bin" / "python"
HEADLINE = (("column_shapes", "Column Shapes"), ("pair_trends", "Column Pair Trends"), ("quality", None))


def read(args):
    import pandas as pd

    real, synthetic = pd.read_csv(args.real), pd.read_csv(args.synthetic)
    if list(real.columns) != list(synthetic.columns):
        sys.exit(f"the tables' columns differ: {list(real.columns)} and {list(synthetic.columns)}")
    return real, synthetic


def gan_jax_scores(args) -> dict:
    """gan_jax's quality, and pair_trends of each pair alone (run in .venv)."""
    sys.path.insert(0, str(ROOT))
    from experiments.provenance import commit
    from gan_jax.metrics.tabular import pair_trends, quality

    real, synthetic = read(args)
    pairs = {}
    for a, b in itertools.combinations(real.columns, 2):
        pair = [c for c in args.discrete if c in (a, b)]
        pairs[f"{a}|{b}"] = pair_trends(real[[a, b]], synthetic[[a, b]], pair)["pair_trends"]
    return {"scores": quality(real, synthetic, args.discrete), "pairs": pairs, "commit": commit()}


def number(score) -> float | None:
    """A pair's score; None where SDMetrics gave NaN (a pair it left out, or one it failed on)."""
    import pandas as pd

    return None if pd.isna(score) else float(score)


def counted(flag) -> bool:
    """Whether SDMetrics averaged a pair in (its "Meets Threshold?": True, False or NA)."""
    import pandas as pd

    return False if pd.isna(flag) else bool(flag)


def sdmetrics_scores(real, synthetic, discrete, every_pair: bool) -> dict:
    import sdmetrics
    from sdmetrics.reports import QualityReport

    columns = {c: {"sdtype": "categorical" if c in discrete else "numerical"} for c in real.columns}
    report = QualityReport()
    if every_pair:
        report.real_correlation_threshold = 0
        report.real_association_threshold = 0
    report.generate({"table": real}, {"table": synthetic}, {"tables": {"table": {"columns": columns}}},
                    verbose=False)
    props = dict(zip(report.get_properties()["Property"], report.get_properties()["Score"]))
    shapes = report.get_details("Column Shapes")
    pairs = report.get_details("Column Pair Trends")
    return {"scores": {"column_shapes": float(props["Column Shapes"]),
                       "pair_trends": float(props["Column Pair Trends"]),
                       "quality": float(report.get_score())},
            "columns": {r["Column"]: {"metric": r["Metric"], "score": float(r["Score"])}
                        for _, r in shapes.iterrows()},
            "pairs": {f"{r['Column 1']}|{r['Column 2']}": {
                "metric": r["Metric"], "score": number(r["Score"]),
                "counted": counted(r.get("Meets Threshold?", True))}
                for _, r in pairs.iterrows()},
            "version": sdmetrics.__version__}


def compare(args) -> dict:
    real, synthetic = read(args)
    every = sdmetrics_scores(real, synthetic, args.discrete, every_pair=True)
    default = sdmetrics_scores(real, synthetic, args.discrete, every_pair=False)
    cmd = [str(args.gan_jax_python), str(pathlib.Path(__file__).resolve()), "--gan-jax-only",
           "--real", str(args.real), "--synthetic", str(args.synthetic), "--discrete", *args.discrete]
    ours = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    g = ours["scores"]

    def row(s, d, mine):
        return {"sdmetrics": s, "sdmetrics_default": d, "gan_jax": mine,
                "difference": None if s is None else mine - s}

    return {
        "real": str(args.real), "synthetic": str(args.synthetic), "rows": [len(real), len(synthetic)],
        "discrete": args.discrete,
        "scores": {k: row(every["scores"][k], default["scores"][k], g[k]) for k, _ in HEADLINE},
        "columns": {c: {"metric": v["metric"], **row(v["score"], v["score"], g[f"shape/{c}"])}
                    for c, v in every["columns"].items()},
        "pairs": {p: {"metric": v["metric"], "counted_by_default": default["pairs"][p]["counted"],
                      **row(v["score"], default["pairs"][p]["score"], ours["pairs"][p])}
                  for p, v in every["pairs"].items()},
        "versions": {"sdmetrics": every["version"], "gan_jax_commit": ours["commit"]},
    }


def print_report(result: dict, worst: int) -> None:
    print(f"{result['real']} ({result['rows'][0]} rows) vs {result['synthetic']} ({result['rows'][1]} rows)")
    print(f"{'':20} {'SDMetrics':>10} {'gan_jax':>10} {'difference':>11} {'SDMetrics default':>18}")
    for key, _ in HEADLINE:
        r = result["scores"][key]
        print(f"{key:20} {r['sdmetrics']:>10.4f} {r['gan_jax']:>10.4f} {r['difference']:>+11.4f} "
              f"{r['sdmetrics_default']:>18.4f}")
    print("(SDMetrics: every column pair counts, as in gan_jax; SDMetrics default: its thresholds on "
          "the real pairs)")
    for kind in ("columns", "pairs"):
        failed = [name for name, r in result[kind].items() if r["difference"] is None]
        items = sorted((kv for kv in result[kind].items() if kv[1]["difference"] is not None),
                       key=lambda kv: -abs(kv[1]["difference"]))[:worst]
        print(f"largest differences, {kind} (SDMetrics vs gan_jax):")
        for name, r in items:
            print(f"  {name:32} {r['metric']:22} {r['sdmetrics']:.4f} vs {r['gan_jax']:.4f} "
                  f"({r['difference']:+.4f})")
        if failed:
            print(f"  SDMetrics gave no score for: {', '.join(failed)}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--real", required=True, type=pathlib.Path)
    p.add_argument("--synthetic", required=True, type=pathlib.Path)
    p.add_argument("--discrete", nargs="*", default=[])
    p.add_argument("--out", type=pathlib.Path, help="write the comparison as JSON here")
    p.add_argument("--worst", type=int, default=5, help="columns and pairs listed by difference")
    p.add_argument("--gan-jax-python", type=pathlib.Path, default=MAIN_PYTHON,
                   help="the Python with gan_jax and JAX (default: .venv)")
    p.add_argument("--gan-jax-only", action="store_true", help=argparse.SUPPRESS)  # the .venv half
    args = p.parse_args()
    if args.gan_jax_only:
        print(json.dumps(gan_jax_scores(args)))
        return
    result = compare(args)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))
    print_report(result, args.worst)


if __name__ == "__main__":
    main()
