"""Learning curve of one seed of the `cpu` budget's narrowed DCGAN: FD along training.

    .venv/bin/python experiments/lucic_fashion/curve.py --steps 8000 --every 500

How the `cpu` budget's length is chosen (README.md): the shortest training at which the
narrowed DCGAN (`model.width=16 model.fc_width=256`) with the NS GAN loss at the common setting
(Adam 2e-4, beta1 0.5) draws products, i.e. its FD has stopped falling steeply, far below the
300-step budget's 390-1260. One `gan_jax.train experiment=lucic_fashion` run (seed 0, FD on 2000
samples against 2000 test images every `--every` steps); the curve goes, with the command,
commit, machine and wall time, to `curve_<loss>.json` and is plotted in `curve.png`.
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
from experiments.lucic_fashion.budgets import BUDGETS  # noqa: E402
from experiments.training_runs import learning_curve  # noqa: E402

LOSSES = {"ns": ["loss=non_saturating"], "wgan_gp": ["loss=wgan_gp"]}


def plot() -> pathlib.Path:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for f in sorted(HERE.glob("curve_*.json")):
        c = json.loads(f.read_text())
        ax.plot([r["step"] for r in c["curve"]], [r["fd"] for r in c["curve"]], marker=".",
                label=c["loss"])
        if "eval/fd" in (c.get("eval_reference") or {}):
            ax.axhline(c["eval_reference"]["eval/fd"], color="gray", ls="--", lw=1)
    ax.set(xlabel="step", ylabel="FD (our CNN features)", yscale="log",
           title="FD along training, seed 0 (dashed: real data)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out = HERE / "curve.png"
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--loss", choices=LOSSES, default="ns")
    p.add_argument("--steps", type=int, default=8000)
    p.add_argument("--every", type=int, default=500)
    p.add_argument("--out", type=pathlib.Path, default=HERE / "runs" / "curve")
    args = p.parse_args(argv)
    cpu = BUDGETS["cpu"]
    run_dir = (args.out / args.loss).resolve()
    cmd = [sys.executable, "-m", "gan_jax.train", "experiment=lucic_fashion", *LOSSES[args.loss],
           *cpu.overrides, "seed=0", f"trainer.steps={args.steps}",
           f"trainer.log_every={args.every}", f"trainer.eval_every={args.every}",
           f"trainer.sample_every={args.steps}", f"trainer.checkpoint_every={args.every * 4}",
           f"trainer.eval_samples={cpu.eval_samples}",
           f"eval.reference_samples={cpu.reference_samples}", "trainer.progress=false",
           f"hydra.run.dir={run_dir}"]
    result = {"loss": args.loss, "seed": 0, "every": args.every,
              **learning_curve(cmd, run_dir, args.steps, ("fd",))}
    out = HERE / f"curve_{args.loss}.json"
    out.write_text(json.dumps(result, indent=2))
    plot()
    print(f"wrote {out.name}: {result['steps_per_second']} steps/s; "
          + ", ".join(f"{r['step']}: {r['fd']:.0f}" for r in result["curve"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
