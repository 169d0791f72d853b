"""Eager PyTorch twin of gan_jax's DCGAN step, the reference for scripts/bench_step.py.

Same networks as gan_jax.models.dcgan (Lucic et al.'s InfoGAN-style DCGAN for 28x28x1), same
Adam settings, same non-saturating loss, one D and one G update per step, batches drawn by
index from the uint8 training set held in memory (on `device`: "cpu", or "cuda" for the GPU).

Run as a script it serves scripts/bench_step.py and scripts/profile_step.py from a process of its
own (PyTorch may live in another virtual environment, .venv-peers):

    python scripts/torch_dcgan.py --data images.npy --batch 64 --serve

answers one JSON line per command on stdin: `time N` (seconds per step over N steps), `profile N`
(torch.profiler's self CPU time per operator over N steps), `quit`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


def generator(latent_dim=64, width=64, fc_width=1024):
    return nn.Sequential(
        nn.Linear(latent_dim, fc_width), nn.BatchNorm1d(fc_width), nn.ReLU(),
        nn.Linear(fc_width, 7 * 7 * 2 * width), nn.BatchNorm1d(7 * 7 * 2 * width), nn.ReLU(),
        nn.Unflatten(1, (2 * width, 7, 7)),
        nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.BatchNorm2d(width), nn.ReLU(),
        nn.ConvTranspose2d(width, 1, 4, 2, 1), nn.Sigmoid(),
    )


def discriminator(width=64, fc_width=1024):
    return nn.Sequential(
        nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(7 * 7 * 2 * width, fc_width), nn.LeakyReLU(0.2),
        nn.Linear(fc_width, 1),
    )


def make_step(images_uint8: np.ndarray, batch_size=64, latent_dim=64, device="cpu"):
    """A `step()` closure: one D and one G update on a fresh batch (state kept inside), with
    the networks, optimiser state and training set on `device`."""
    torch.manual_seed(0)
    G, D = generator(latent_dim).to(device), discriminator().to(device)
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    data = torch.from_numpy(np.array(images_uint8).reshape(-1, 1, 28, 28)).to(device)

    def step():
        real = data[torch.randint(0, len(data), (batch_size,), device=device)].float() / 255.0
        z = torch.rand(batch_size, latent_dim, device=device) * 2 - 1
        fake = G(z)
        d_loss = (F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean())
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        z = torch.rand(batch_size, latent_dim, device=device) * 2 - 1
        g_loss = F.softplus(-D(G(z))).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()

    return step


def time_steps(step, n: int) -> float:
    """Seconds per step over n steps (on a GPU, until its queued work has finished)."""
    sync = torch.cuda.synchronize if torch.cuda.is_initialized() else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(n):
        step()
    sync()
    return (time.perf_counter() - start) / n


def info() -> dict:
    return {"torch": torch.__version__, "threads": torch.get_num_threads()}


def profile_steps(step, n: int) -> list[dict]:
    """Self CPU milliseconds per step of each operator over n steps, largest first."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(n):
            step()
    ops = [{"op": e.key, "ms_per_step": e.self_cpu_time_total / 1e3 / n, "calls_per_step": e.count / n}
           for e in prof.key_averages()]
    return sorted(ops, key=lambda o: -o["ms_per_step"])


def serve(step) -> None:
    """One JSON line per command on stdin: `time N`, `profile N`, `quit`."""
    print(json.dumps({"ready": True, **info()}), flush=True)
    for line in sys.stdin:
        command, *rest = line.split()
        if command == "quit":
            return
        if command == "time":
            print(json.dumps({"seconds_per_step": time_steps(step, int(rest[0]))}), flush=True)
        elif command == "profile":
            print(json.dumps({"ops": profile_steps(step, int(rest[0]))}), flush=True)
        else:
            print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help=".npy of uint8 training images [n, 28, 28(, 1)]")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--serve", action="store_true", help="time or profile steps on request")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.serve:
        p.error("pass --serve")
    serve(make_step(np.load(args.data), args.batch, device=args.device))


if __name__ == "__main__":
    main()
