"""Learning curve of one seed: modes, % high quality and rKL every `--every` steps.

    .venv/bin/python experiments/pacgan_2d/curve.py --data ring --steps 20000   # GAN, seed 0
    .venv/bin/python experiments/pacgan_2d/curve.py --data grid --steps 60000 --m 2

This is how the `cpu` budget of run.py was chosen (README.md): the shortest training at which the
plain GAN is trained in the paper's sense. One `gan_jax.train experiment=pacgan_<data>` run (seed
0, batch 100 * m, evaluated on 2500 samples every `--every` steps); the curve is read from its
TensorBoard events and written, with the commit, machine and wall time, to
`curve_<data>_m<m>.json`; `curve_<data>.png` plots every curve of that dataset found here.
A completed run in --out is reused.
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

METRICS = ("modes", "hq", "rkl")


def overrides(data: str, m: int, steps: int, every: int, seed: int, run_dir: pathlib.Path) -> list[str]:
    args = [f"experiment=pacgan_{data}", f"seed={seed}", f"trainer.steps={steps}",
            f"trainer.batch_size={100 * m}", f"trainer.log_every={every}",
            f"trainer.sample_every={steps}", f"trainer.eval_every={every}",
            f"trainer.checkpoint_every={every * 10}", "trainer.eval_samples=2500",
            "trainer.progress=false", f"hydra.run.dir={run_dir}"]
    if m > 1:
        args += ["mitigation=[pacgan]", f"mitigation.pacgan.m={m}"]
    return args


def plot(data: str) -> pathlib.Path:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    for f in sorted(HERE.glob(f"curve_{data}_m*.json")):
        c = json.loads(f.read_text())
        steps = [r["step"] for r in c["curve"]]
        label = "GAN" if c["m"] == 1 else f"PacGAN{c['m']}"
        for ax, k, scale in zip(axes, METRICS, (1, 100, 1)):
            ax.plot(steps, [scale * r[k] for r in c["curve"]], marker=".", label=label)
    for ax, title in zip(axes, ("modes captured", "% high quality (3 std)", "reverse KL")):
        ax.set(xlabel="step", title=f"{data}, seed 0: {title}")
        ax.grid(alpha=0.3)
    axes[1].axhline(80, color="gray", ls="--", lw=1)
    axes[0].legend()
    fig.tight_layout()
    out = HERE / f"curve_{data}.png"
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", choices=("ring", "grid"), default="ring")
    p.add_argument("--m", type=int, default=1, help="packing degree (1: the plain GAN)")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--every", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=pathlib.Path, default=HERE / "runs" / "curve")
    args = p.parse_args(argv)
    run_dir = (args.out / f"{args.data}_m{args.m}").resolve()
    cmd = [sys.executable, "-m", "gan_jax.train",
           *overrides(args.data, args.m, args.steps, args.every, args.seed, run_dir)]
    result = {"data": args.data, "m": args.m, "seed": args.seed, "every": args.every,
              **learning_curve(cmd, run_dir, args.steps, METRICS)}
    out = HERE / f"curve_{args.data}_m{args.m}.json"
    out.write_text(json.dumps(result, indent=2))
    plot(args.data)
    first = next((r["step"] for r in result["curve"] if r["hq"] >= 0.8), None)
    print(f"wrote {out.name}: first step with >= 80% HQ: {first}; "
          f"{result['steps_per_second']} steps/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
