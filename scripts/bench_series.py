"""TimeGAN joint-phase steps per second: gan_jax against its eager PyTorch twin, side by side.

    python scripts/bench_series.py                        # GRU, batch 128: experiment=timegan_sines
    python scripts/bench_series.py --cell lstm --batch 64
    python scripts/bench_series.py --no-torch             # gan_jax only
    python scripts/bench_series.py --check                # does the twin train? (nothing timed)
    python scripts/bench_series.py trainer.log_every=50   # any Hydra override of the experiment

gan_jax: the joint phase's compiled step (gan_jax/training/timegan_phases.py `joint_step`), built
by the training setup of `experiment=timegan_sines` and run as gan_jax.train runs it: chunks of
`trainer.log_every` steps in one `lax.scan` call, state donated, timed after one warm-up call.
PyTorch: scripts/torch_timegan.py, the same step in eager PyTorch, run in a process of its own
(PyTorch lives in .venv-peers, scripts/setup_peers.sh; or pass --torch-python), on the same
training sequences. Rounds alternate between the two so that both see the same machine load;
each round runs `--calls` chunks of gan_jax and as many steps of the twin; medians are reported,
with the machine (CPU, load before and after, versions, commit) stamped above them.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

from gan_jax.training import setup as setup_lib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # scripts/, run as a script
from scripts.bench_step import timed_chunks  # noqa: E402
from scripts.bench_twin import ROOT, Twin, config, load, rounds, stamp, torch_python  # noqa: E402

TWIN = ROOT / "scripts" / "torch_timegan.py"
GOAL = 1.5  # issue 24: gan_jax at least 1.5x the eager twin's steps per second


def series_config(args) -> dict:
    return config(["experiment=timegan_sines", f"model.cell={args.cell}",
                   f"trainer.batch_size={args.batch}", *args.overrides])


def jax_runner(setup, chunk: int):
    """(compile seconds, run(calls) -> seconds per step) for the joint phase's step."""
    joint = setup.schedule()[-1]
    assert joint.name == "joint", joint.name
    return timed_chunks(joint.step, setup.init_state(), setup.data.arrays, chunk)


def twin_command(python: str, cfg: dict, data_file: str) -> list[str]:
    m, o = cfg["model"], cfg["optim"]
    if (m["z_dim"] is not None or cfg["loss"]["name"] != "non_saturating" or o["name"] != "adam"
            or o.get("g_lr") is not None or o.get("d_lr") is not None):
        raise SystemExit("the twin mirrors model.z_dim=null, loss=non_saturating and optim=adam "
                         "with one optim.lr only")
    return [python, str(TWIN), "--data", data_file, "--batch", str(cfg["trainer"]["batch_size"]),
            "--hidden", str(m["hidden_dim"]), "--layers", str(m["num_layers"]),
            "--cell", m["cell"], "--n-generator", str(cfg["optim"]["n_generator"]),
            "--gamma", str(m["gamma"]), "--d-threshold", str(m["d_threshold"]),
            "--lr", str(o["lr"]), "--betas", str(o["beta1"]), str(o["beta2"]), "--seed", str(cfg["seed"])]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("overrides", nargs="*", help="Hydra overrides of experiment=timegan_sines")
    p.add_argument("--cell", choices=("gru", "lstm"), default="gru")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--calls", type=int, default=1, help="chunks of trainer.log_every steps per round")
    p.add_argument("--rounds", type=int, default=3, help="alternating timing rounds (median)")
    p.add_argument("--no-torch", action="store_true", help="time gan_jax only")
    p.add_argument("--torch-python", help="the Python with PyTorch that runs the twin "
                   "(default: this one if it has PyTorch, else .venv-peers/bin/python)")
    p.add_argument("--torch-threads", type=int,
                   help="PyTorch's intra-op threads (default: torch's choice, the physical cores)")
    p.add_argument("--check", type=int, nargs="?", const=300, metavar="STEPS",
                   help="instead of timing: train the twin STEPS joint steps (default 300) on the "
                        "same data and check that its losses stay finite and its reconstruction falls")
    args = p.parse_args()
    cfg = series_config(args)
    chunk = int(cfg["trainer"]["log_every"])
    setup = setup_lib.build(cfg)
    tag = f"{cfg['model']['cell']}, batch {cfg['trainer']['batch_size']}"
    with tempfile.TemporaryDirectory() as tmp:
        data_file = os.path.join(tmp, "sequences.npy")  # the twin trains on gan_jax's sequences
        np.save(data_file, np.asarray(setup.data.arrays["x"]))
        command = None if args.no_torch else twin_command(torch_python(args.torch_python), cfg, data_file)
        if command and args.torch_threads:
            command += ["--threads", str(args.torch_threads)]
        if args.check:
            if command is None:
                raise SystemExit("--check checks the PyTorch twin; drop --no-torch")
            out = subprocess.run([*command, "--check", str(args.check)], capture_output=True, text=True)
            print(f"pytorch twin [{tag}], {args.check} joint steps: {out.stdout.strip()}{out.stderr}")
            sys.exit(out.returncode)
        print(stamp(), flush=True)
        compile_s, run_jax = jax_runner(setup, chunk)
        twin = Twin(command) if command else None
        if twin:
            twin.run(3)  # warm-up
        jax_times, torch_times = [], []
        for _ in range(args.rounds):  # alternating, so that both see the same load
            jax_times.append(run_jax(args.calls))
            if twin:
                torch_times.append(twin.run(args.calls * chunk))
        if twin:
            twin.close()
    after = load()
    sec = float(np.median(jax_times))
    print(f"gan_jax timegan joint [{tag}], {args.calls} x {chunk} steps per round: {1 / sec:.2f} "
          f"steps/s ({sec * 1e3:.1f} ms/step, median of {args.rounds}; rounds {rounds(jax_times)} "
          f"ms), compile {compile_s:.1f} s", flush=True)
    if twin:
        tsec = float(np.median(torch_times))
        print(f"pytorch eager {twin.info['torch']} ({twin.info['threads']} threads) [{tag}]: "
              f"{1 / tsec:.2f} steps/s ({tsec * 1e3:.1f} ms/step, median of {args.rounds}; rounds "
              f"{rounds(torch_times)} ms); gan_jax / pytorch = {tsec / sec:.2f}x (goal {GOAL}x)",
              flush=True)
    print(f"load average after: {after}", flush=True)


if __name__ == "__main__":
    main()
