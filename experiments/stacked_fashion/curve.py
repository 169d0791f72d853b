"""Learning curve of one seed of DCGAN on stacked Fashion-MNIST: modes and KL along training.

    .venv/bin/python experiments/stacked_fashion/curve.py --steps 6000 --every 500

How the `cpu` budget's length is chosen (README.md): the shortest training at which the plain
DCGAN of the `cpu` model (`model.width=16 model.fc_width=128`) is trained in the paper's sense,
i.e. covers hundreds of the 1000 triples. One `gan_jax.train experiment=stacked_fashion` run
(seed 0, evaluated on 2600 samples every `--every` steps, `--method` adds a mitigation); the curve
is read from its TensorBoard events and written, with the command, commit, machine and wall time,
to `curve_<method>.json`, and plotted in `curve.png` (every curve found here).
A completed run in --out is reused, an interrupted one resumed from its last checkpoint.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
from experiments.training_runs import learning_curve  # noqa: E402

MODEL = ["model.width=16", "model.fc_width=128"]  # the cpu budget's model (run.py)
METHODS = {"dcgan": [], "pacdcgan2": ["mitigation=[pacgan]", "mitigation.pacgan.m=2"]}


def plot() -> pathlib.Path:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for f in sorted(HERE.glob("curve_*.json")):
        c = json.loads(f.read_text())
        steps = [r["step"] for r in c["curve"]]
        for ax, k in zip(axes, ("modes", "kl")):
            ax.plot(steps, [r[k] for r in c["curve"]], marker=".", label=c["method"])
        ref = c.get("eval_reference") or {}
        for ax, k in zip(axes, ("modes", "kl")):
            if f"eval/{k}" in ref:
                ax.axhline(ref[f"eval/{k}"], color="gray", ls="--", lw=1)
    axes[0].set(xlabel="step", title="modes of 1000 (dashed: real data)")
    axes[1].set(xlabel="step", title="KL to uniform, nats (dashed: real data)")
    axes[0].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    out = HERE / "curve.png"
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--method", choices=METHODS, default="dcgan")
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--every", type=int, default=500)
    p.add_argument("--out", type=pathlib.Path, default=HERE / "runs" / "curve")
    args = p.parse_args(argv)
    run_dir = (args.out / args.method).resolve()
    cmd = [sys.executable, "-m", "gan_jax.train", "experiment=stacked_fashion", *MODEL,
           *METHODS[args.method], "seed=0", f"trainer.steps={args.steps}",
           f"trainer.log_every={args.every}", f"trainer.eval_every={args.every}",
           f"trainer.sample_every={args.steps}", f"trainer.checkpoint_every={args.every * 4}",
           "trainer.eval_samples=2600", "trainer.progress=false", f"hydra.run.dir={run_dir}"]
    result = {"method": args.method, "seed": 0, "every": args.every,
              **learning_curve(cmd, run_dir, args.steps, ("modes", "kl"))}
    out = HERE / f"curve_{args.method}.json"
    out.write_text(json.dumps(result, indent=2))
    plot()
    print(f"wrote {out.name}: {result['steps_per_second']} steps/s; "
          + ", ".join(f"{r['step']}: {r['modes']:.0f}" for r in result["curve"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
