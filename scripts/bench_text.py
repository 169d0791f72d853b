"""RelGAN steps per second, both phases: gan_jax against its eager PyTorch twin, side by side.

    python scripts/bench_text.py                          # experiment=relgan_coco: the paper's sizes
    python scripts/bench_text.py --rounds 3 --chunk 2     # more steps per round, more rounds
    python scripts/bench_text.py --no-torch               # gan_jax only
    python scripts/bench_text.py --check                  # does the twin train? (nothing timed)
    python scripts/bench_text.py model.num_filters=100    # any Hydra override of the experiment

gan_jax: the compiled steps of the two phases of `experiment=relgan_coco`
(gan_jax/training/text_phases.py: `mle`, teacher-forced maximum likelihood; `adversarial`, 5 D
updates and 1 G update of the plain step at the annealed Gumbel temperature), built by the
training setup and run as gan_jax.train runs them: chunks of steps in one `lax.scan` call, state
donated, timed after one warm-up call. gan_jax.train's chunk is `trainer.log_every` (100); here it
is `--chunk` (default 1, `--mle-chunk` 5), since an adversarial step takes a minute or more on
a 2-core CPU (about 1.15 TFLOP: 5 D updates on 128 sentences read as 8,192 representations).
The compile time of each phase's chunk is reported too.
PyTorch: scripts/torch_relgan.py, the same steps in eager PyTorch, run in a process of its own
(PyTorch lives in .venv-peers, scripts/setup_peers.sh; or pass --torch-python), on the same
training captions (token ids). Rounds alternate between the two so that both see the same machine
load; each round runs `--calls` chunks of gan_jax and as many steps of the twin, per phase;
medians are reported, with the machine (CPU, load before and after, versions, commit) stamped
above them.
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

TWIN = ROOT / "scripts" / "torch_relgan.py"
PHASES = ("mle", "adversarial")


def jax_runner(setup, phase: str, chunk: int):
    """(compile seconds, run(calls) -> seconds per step) for one phase's step."""
    step = {p.name: p.step for p in setup.schedule()}[phase]
    state = setup.init_state()
    if phase == "adversarial":  # start where the phase starts: beta = 1, as the twin's
        state = state.replace(step=state.step + int(setup.cfg["model"]["pretrain_steps"]))
    return timed_chunks(step, state, setup.data.arrays, chunk)


def twin_command(python: str, cfg: dict, vocab: int, data_file: str) -> list[str]:
    m, o = cfg["model"], cfg["optim"]
    if (m["cell"] != "rmc" or cfg["loss"]["name"] != "rsgan" or o["name"] != "adam" or cfg["mitigation"]
            or o.get("g_lr") is not None or o.get("d_lr") is not None or o["n_generator"] != 1
            or o["ema_decay"] or o["clip_norm"] is None or not int(m["pretrain_steps"])):
        raise SystemExit("the twin mirrors model.cell=rmc, loss=rsgan, optim=adam with one optim.lr, "
                         "optim.clip_norm set, one G update, no EMA, no mitigation, and pretraining")
    return [python, str(TWIN), "--data", data_file, "--vocab", str(vocab),
            "--batch", str(cfg["trainer"]["batch_size"]), "--embed-dim", str(m["embed_dim"]),
            "--mem-slots", str(m["mem_slots"]), "--head-size", str(m["head_size"]),
            "--num-heads", str(m["num_heads"]), "--d-embed-dim", str(m["d_embed_dim"]),
            "--representations", str(m["representations"]), "--num-filters", str(m["num_filters"]),
            "--n-critic", str(o["n_critic"]), "--lr", str(o["lr"]), "--pretrain-lr", str(m["pretrain_lr"]),
            "--betas", str(o["beta1"]), str(o["beta2"]), "--clip-norm", str(o["clip_norm"]),
            "--max-temperature", str(m["max_temperature"]),
            "--temperature-schedule", m["temperature_schedule"],
            "--temperature-steps", str(m["temperature_steps"]), "--seed", str(cfg["seed"])]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("overrides", nargs="*", help="Hydra overrides of experiment=relgan_coco")
    p.add_argument("--chunk", type=int, default=1, help="adversarial steps per compiled call")
    p.add_argument("--mle-chunk", type=int, default=5, help="maximum-likelihood steps per compiled call")
    p.add_argument("--calls", type=int, default=1, help="chunks per phase per round")
    p.add_argument("--rounds", type=int, default=1, help="alternating timing rounds (median)")
    p.add_argument("--no-torch", action="store_true", help="time gan_jax only")
    p.add_argument("--torch-python", help="the Python with PyTorch that runs the twin "
                   "(default: this one if it has PyTorch, else .venv-peers/bin/python)")
    p.add_argument("--torch-threads", type=int,
                   help="PyTorch's intra-op threads (default: torch's choice, the physical cores)")
    p.add_argument("--check", type=int, nargs="?", const=100, metavar="STEPS",
                   help="instead of timing: train the twin STEPS maximum-likelihood steps (default "
                        "100) and 2 adversarial ones on the same data, and check that its NLL falls")
    args = p.parse_args()
    cfg = config(["experiment=relgan_coco", *args.overrides])
    setup = setup_lib.build(cfg)
    length, vocab = setup.data.shape
    chunks = {"mle": args.mle_chunk, "adversarial": args.chunk}
    tag = f"batch {cfg['trainer']['batch_size']}, L {length}, V {vocab}"
    with tempfile.TemporaryDirectory() as tmp:
        data_file = os.path.join(tmp, "tokens.npy")  # the twin trains on gan_jax's token ids
        np.save(data_file, np.asarray(setup.data.arrays["x"]))
        command = None if args.no_torch else twin_command(torch_python(args.torch_python), cfg, vocab,
                                                          data_file)
        if command and args.torch_threads:
            command += ["--threads", str(args.torch_threads)]
        if args.check:
            if command is None:
                raise SystemExit("--check checks the PyTorch twin; drop --no-torch")
            out = subprocess.run([*command, "--check", str(args.check)], capture_output=True, text=True)
            print(f"pytorch twin [{tag}], {args.check} mle steps + 2 adversarial: "
                  f"{out.stdout.strip()}{out.stderr}")
            sys.exit(out.returncode)
        print(stamp(), flush=True)
        runners = {}
        for phase in PHASES:
            runners[phase] = jax_runner(setup, phase, chunks[phase])
            print(f"gan_jax {phase}: compiled a chunk of {chunks[phase]} steps in "
                  f"{runners[phase][0]:.1f} s", flush=True)
        twin = Twin(command) if command else None
        if twin:  # warm-up; not of the adversarial step, a minute or more on a CPU, in which
            twin.run(1, "mle")  # its first-call costs are lost
        times = {(side, phase): [] for side in ("jax", "torch") for phase in PHASES}
        for _ in range(args.rounds):  # alternating, so that both see the same load
            for phase in PHASES:
                times["jax", phase].append(runners[phase][1](args.calls))
                if twin:
                    times["torch", phase].append(twin.run(args.calls * chunks[phase], phase))
        if twin:
            twin.close()
    after = load()
    for phase in PHASES:
        sec = float(np.median(times["jax", phase]))
        print(f"gan_jax relgan {phase} [{tag}], {args.calls} x {chunks[phase]} steps per round: "
              f"{1 / sec:.3g} steps/s ({sec * 1e3:.0f} ms/step, median of {args.rounds}; rounds "
              f"{rounds(times['jax', phase])} ms), compile {runners[phase][0]:.1f} s", flush=True)
        if twin:
            tsec = float(np.median(times["torch", phase]))
            print(f"pytorch eager {twin.info['torch']} ({twin.info['threads']} threads) {phase} [{tag}]: "
                  f"{1 / tsec:.3g} steps/s ({tsec * 1e3:.0f} ms/step, median of {args.rounds}; rounds "
                  f"{rounds(times['torch', phase])} ms); gan_jax / pytorch = {tsec / sec:.2f}x", flush=True)
    print(f"load average after: {after}", flush=True)


if __name__ == "__main__":
    main()
