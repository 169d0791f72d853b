"""Eager PyTorch twin of gan_jax's TimeGAN joint step, the reference for scripts/bench_series.py.

    .venv-peers/bin/python scripts/torch_timegan.py --check           # does it train? (no timing)

The networks are those of gan_jax.models.timegan: embedder, recovery, generator and supervisor
(one layer fewer) are `torch.nn.GRU` / `torch.nn.LSTM` stacks (batch first) followed by a Linear
per step and a sigmoid; the discriminator is a stack and a Linear to one logit per step. They are
initialised as flax initialises them (input kernels and Linear weights LeCun-normal, recurrent
kernels orthogonal per gate, biases zero), and they have the same parameters: the biases torch's
cells have and flax's lack (GRU: the hidden side's on the reset and update gates; LSTM: the input
side's) stay at zero (no gradient), so that each gate has one bias, as in flax.

One `joint_step()` mirrors `joint_step` of gan_jax/training/timegan_phases.py pass for pass:

  gan_jax (timegan_phases.py)                 | this twin
  --------------------------------------------+------------------------------------------------
  n_generator times, a fresh x and z:         | n_generator times, x by index, z ~ U[0, 1]:
   generator_loss, grad w.r.t. G + S only:    |  g_loss(x, z).backward(inputs=G + S params):
     h = embed(x)        forward only         |    h = E(x) under no_grad
     e^ = latent(z), h^ = supervise(e^)       |    e^ = G(z), h^ = S(e^)
     x^ = recover(h^)    backward to h^ only  |    x^ = R(h^)   (R's weights get no gradient)
     D(h^), D(e^)        backward to inputs   |    D(h^), D(e^) (D's weights get no gradient)
     supervise(h), moments(x, x^)             |    S(h), moments(x, x^)
     adversarial + gamma adv_e                |    same, as softplus(-logit) means
       + 100 root(sup) + 100 moments          |      + 100 sqrt(sup) + 100 moments
   Adam "generator" slot on G + S             |  Adam `generator` on G + S
   embedder_loss, grad w.r.t. E + R, same x:  |  e_loss(x).backward(inputs=E + R params):
     h = embed(x), recover(h), supervise(h)   |    h = E(x), R(h), S(h)
     10 root(recon) + 0.1 sup                 |    10 sqrt(recon) + 0.1 sup
   Adam "embedder" slot on E + R              |  Adam `embedder` on E + R
  a fresh x and z: critic_loss, grad w.r.t. D:| d_loss(x, z).backward():
     embed(x), latent(z), supervise(e^)       |    E(x), G(z), S(e^) under no_grad
       forward only                           |
     D(h), D(h^), D(e^)  forward and backward |    D(h), D(h^), D(e^)
     BCE(h, 1) + BCE(h^, 0) + gamma BCE(e^, 0)|    same
   Adam on D computed, kept if loss > 0.15    |  Adam `critic` step only if loss > 0.15

Per joint step that is 26 forward passes of a recurrent stack (20 in the generator iterations,
6 in D's loss) in both. Two differences, both small: gan_jax's `root` is sqrt with gradient 0 at 0
(equal to sqrt wherever the mean squared error is positive, which it is here), and gan_jax
computes D's Adam update every step and selects it, while the twin skips `opt.step()` when the
loss is at most the threshold (an update of D's ~10k parameters). Adam: optax's defaults as
gan_jax builds them (lr 1e-3, betas 0.9 / 0.999, eps 1e-8, eps inside the square root 0).

The other two phases (`autoencoder_step`, `supervised_step`) are here too, so that the twin holds
the authors' five optimizers; scripts/bench_series.py times the joint step only.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

RNNS = {"gru": nn.GRU, "lstm": nn.LSTM}
GATES = {"gru": 3, "lstm": 4}
TRUNCATED_STD = 0.87962566103423978  # std of a unit normal truncated to [-2, 2]


def lecun_normal_(w: torch.Tensor) -> None:
    """flax's default kernel init: truncated normal with variance 1 / fan_in."""
    std = (1.0 / w.shape[1]) ** 0.5 / TRUNCATED_STD
    nn.init.trunc_normal_(w, std=std, a=-2 * std, b=2 * std)


class Recurrent(nn.Module):
    """`layers` recurrent layers of `hidden` units, then a Linear of `out` units per step
    (gan_jax.models.timegan.Recurrent); with layers = 0, the Linear alone."""

    def __init__(self, cell: str, inputs: int, hidden: int, layers: int, out: int,
                 sigmoid: bool = True):
        super().__init__()
        self.rnn = RNNS[cell](inputs, hidden, layers, batch_first=True) if layers else None
        self.head = nn.Linear(hidden if layers else inputs, out)
        self.sigmoid = sigmoid
        with torch.no_grad():
            for name, w in self.named_parameters():
                if name.startswith("rnn.weight_ih") or name == "head.weight":
                    lecun_normal_(w)
                elif name.startswith("rnn.weight_hh"):
                    for gate in w.view(GATES[cell], hidden, hidden):
                        nn.init.orthogonal_(gate)
                else:
                    w.zero_()
        if cell == "lstm":
            for name, b in self.named_parameters():
                if name.startswith("rnn.bias_ih"):
                    b.requires_grad_(False)
        elif layers:
            for name, b in self.named_parameters():
                if name.startswith("rnn.bias_hh"):  # keep [b_hr, b_hz] at zero, train b_hn
                    b.register_hook(lambda g: torch.cat([torch.zeros_like(g[:2 * hidden]),
                                                         g[2 * hidden:]]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.rnn is not None:
            x = self.rnn(x)[0]
        x = self.head(x)
        return torch.sigmoid(x) if self.sigmoid else x


def supervised(h: torch.Tensor, h_next: torch.Tensor) -> torch.Tensor:
    """The supervisor's next-step MSE: h_next[:, t] predicts h[:, t + 1]."""
    return torch.mean(torch.square(h[:, 1:] - h_next[:, :-1]))


def moments(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Mean |std difference| + mean |mean difference| over the batch (population variance)."""
    def std(a):
        return torch.sqrt(torch.var(a, dim=0, correction=0) + 1e-6)
    return (torch.mean(torch.abs(std(x_hat) - std(x)))
            + torch.mean(torch.abs(torch.mean(x_hat, dim=0) - torch.mean(x, dim=0))))


class TimeGANTwin:
    """The five networks, the five Adam optimizers and one step of each phase, on `data`
    [n, seq_len, features] in [0, 1] (the scaled training sequences gan_jax samples from)."""

    def __init__(self, data: np.ndarray, batch_size: int = 128, hidden: int = 24, layers: int = 3,
                 cell: str = "gru", z_dim: int | None = None, gamma: float = 1.0,
                 d_threshold: float = 0.15, n_generator: int = 2, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), seed: int = 0, device: str = "cpu"):
        torch.manual_seed(seed)
        self.data = torch.tensor(np.array(data, np.float32), device=device)
        _, self.seq_len, features = self.data.shape
        self.z_dim = z_dim or features
        self.batch_size, self.gamma, self.device = batch_size, gamma, device
        self.d_threshold, self.n_generator = d_threshold, n_generator
        stack = lambda i, n, o, sig=True: Recurrent(cell, i, hidden, n, o, sig).to(device)  # noqa: E731
        self.embedder = stack(features, layers, hidden)
        self.recovery = stack(hidden, layers, features)
        self.generator = stack(self.z_dim, layers, hidden)
        self.supervisor = stack(hidden, layers - 1, hidden)
        self.critic = stack(hidden, layers, 1, False)
        trained = lambda *nets: [p for n in nets for p in n.parameters() if p.requires_grad]  # noqa: E731
        self.er = trained(self.embedder, self.recovery)
        self.gs = trained(self.generator, self.supervisor)
        adam = lambda params: torch.optim.Adam(params, lr, betas=betas, eps=1e-8)  # noqa: E731
        # The authors' five solvers, as gan_jax's slots and D's optimizer.
        self.opt = {"autoencoder": adam(self.er), "supervised": adam(self.gs),
                    "generator": adam(self.gs), "embedder": adam(self.er),
                    "critic": adam(trained(self.critic))}

    def draw(self) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch of real sequences (by index, with replacement) and noise in [0, 1]."""
        idx = torch.randint(0, len(self.data), (self.batch_size,), device=self.device)
        z = torch.rand(self.batch_size, self.seq_len, self.z_dim, device=self.device)
        return self.data[idx], z

    def minimise(self, slot: str, loss: torch.Tensor, params: list[torch.Tensor]) -> None:
        """One step of `slot`'s optimizer on `params`; no other weight receives a gradient."""
        self.opt[slot].zero_grad(set_to_none=True)
        loss.backward(inputs=params)
        self.opt[slot].step()

    def autoencoder_step(self) -> dict[str, torch.Tensor]:
        x, _ = self.draw()
        rmse = torch.sqrt(torch.mean(torch.square(x - self.recovery(self.embedder(x)))))
        self.minimise("autoencoder", 10 * rmse, self.er)
        return {"autoencoder/rmse": rmse.detach()}

    def supervised_step(self) -> dict[str, torch.Tensor]:
        x, _ = self.draw()
        with torch.no_grad():
            h = self.embedder(x)
        mse = supervised(h, self.supervisor(h))
        self.minimise("supervised", mse, self.gs)
        return {"supervised/rmse": torch.sqrt(mse.detach())}

    def generator_loss(self, x, z):
        with torch.no_grad():  # gan_jax differentiates this loss w.r.t. G and S only
            h = self.embedder(x)
        e_hat = self.generator(z)
        h_hat = self.supervisor(e_hat)
        x_hat = self.recovery(h_hat)
        adversarial = (F.softplus(-self.critic(h_hat)).mean()
                       + self.gamma * F.softplus(-self.critic(e_hat)).mean())
        sup = torch.sqrt(supervised(h, self.supervisor(h)))
        mom = moments(x, x_hat)
        value = adversarial + 100 * sup + 100 * mom
        return value, {"g/loss": value, "g/adversarial": adversarial,
                       "g/supervised_rmse": sup, "g/moments": mom}

    def embedder_loss(self, x):
        h = self.embedder(x)
        rmse = torch.sqrt(torch.mean(torch.square(x - self.recovery(h))))
        sup = supervised(h, self.supervisor(h))
        return 10 * rmse + 0.1 * sup, {"embedder/rmse": rmse}

    def critic_loss(self, x, z):
        with torch.no_grad():
            h = self.embedder(x)
            e_hat = self.generator(z)
            h_hat = self.supervisor(e_hat)
        return (F.softplus(-self.critic(h)).mean() + F.softplus(self.critic(h_hat)).mean()
                + self.gamma * F.softplus(self.critic(e_hat)).mean())

    def joint_step(self, draw: Callable | None = None) -> dict[str, torch.Tensor]:
        """One step of the joint phase; `draw() -> (x, z)` supplies the batches (default: fresh
        random ones). Metrics as gan_jax's: the last generator iteration's, and D's."""
        draw = draw or self.draw
        metrics = {}
        for _ in range(self.n_generator):
            x, z = draw()
            g_loss, g_metrics = self.generator_loss(x, z)
            self.minimise("generator", g_loss, self.gs)
            e_loss, e_metrics = self.embedder_loss(x)
            self.minimise("embedder", e_loss, self.er)
            metrics.update(g_metrics, **e_metrics)
        x, z = draw()
        d_loss = self.critic_loss(x, z)
        opt = self.opt["critic"]
        opt.zero_grad(set_to_none=True)
        d_loss.backward()
        keep = d_loss.item() > self.d_threshold  # the authors skip D's update at or below it
        if keep:
            opt.step()
        metrics.update({"d/loss": d_loss, "d/updated": torch.tensor(float(keep))})
        return {k: v.detach() for k, v in metrics.items()}


def time_steps(step: Callable, n: int) -> float:
    """Seconds per step over n steps."""
    start = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - start) / n


def check_trains(twin: TimeGANTwin, steps: int = 300, window: int = 20) -> dict:
    """Run `steps` joint steps from the fresh twin: every loss finite, and the reconstruction
    RMSE of the last `window` steps (at most a quarter of them) below 80% of the first
    `window`'s -> a report with `ok`."""
    window = max(1, min(window, steps // 4))
    history = [{k: float(v) for k, v in twin.joint_step().items()} for _ in range(steps)]
    finite = all(math.isfinite(v) for row in history for v in row.values())
    rmse = [row["embedder/rmse"] for row in history]
    first, last = float(np.mean(rmse[:window])), float(np.mean(rmse[-window:]))
    return {"ok": finite and last < 0.8 * first, "steps": steps, "finite": finite,
            "rmse_first": round(first, 4), "rmse_last": round(last, 4),
            "d_updated": round(float(np.mean([row["d/updated"] for row in history])), 3),
            "last": {k: round(v, 4) for k, v in history[-1].items()}}


def info() -> dict:
    return {"torch": torch.__version__, "threads": torch.get_num_threads()}


def serve(twin: TimeGANTwin) -> None:
    """Answer one JSON line per command on stdin (for bench_series.py, which runs gan_jax in its
    own process): `time N` -> seconds per joint step over N steps; `quit`."""
    print(json.dumps({"ready": True, **info()}), flush=True)
    for line in sys.stdin:
        command, *rest = line.split()
        if command == "quit":
            return
        if command == "time":
            print(json.dumps({"seconds_per_step": time_steps(twin.joint_step, int(rest[0]))}),
                  flush=True)
        else:
            print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help=".npy of training sequences [n, T, F] in [0, 1] "
                   "(default: 10,000 fresh sines of 24 steps and 5 features)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--hidden", type=int, default=24)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--cell", choices=sorted(RNNS), default="gru")
    p.add_argument("--n-generator", type=int, default=2)
    p.add_argument("--gamma", type=float, default=1.0)
    p.add_argument("--d-threshold", type=float, default=0.15)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--betas", type=float, nargs=2, default=(0.9, 0.999))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--check", type=int, nargs="?", const=300, metavar="STEPS",
                   help="train STEPS joint steps (default 300) and check that it trains")
    p.add_argument("--serve", action="store_true", help="time steps on request (bench_series.py)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = np.load(args.data) if args.data else default_sines(args.seed)
    twin = TimeGANTwin(data, args.batch, args.hidden, args.layers, args.cell,
                       gamma=args.gamma, d_threshold=args.d_threshold,
                       n_generator=args.n_generator, lr=args.lr, betas=tuple(args.betas),
                       seed=args.seed)
    if args.serve:
        serve(twin)
    elif args.check:
        report = {**check_trains(twin, args.check), **info()}
        print(json.dumps(report), flush=True)
        sys.exit(0 if report["ok"] else 1)
    else:
        p.error("pass --check or --serve")


def default_sines(seed: int) -> np.ndarray:
    """10,000 sine sequences as gan_jax.data.sines draws them, min-max scaled per feature."""
    rng = np.random.default_rng(seed)
    freq, phase = rng.uniform(0, 0.1, (2, 10_000, 1, 5))
    x = (np.sin(freq * np.arange(24.0)[None, :, None] + phase) + 1) / 2
    low = x.min(axis=(0, 1))
    return ((x - low) / (x.max(axis=(0, 1)) - low + 1e-7)).astype(np.float32)


if __name__ == "__main__":
    main()
