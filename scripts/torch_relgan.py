"""Eager PyTorch twin of gan_jax's RelGAN steps, the reference for scripts/bench_text.py.

    .venv-peers/bin/python scripts/torch_relgan.py --data tokens.npy --vocab 4655 --check

The networks are those of gan_jax.models.relgan, layer for layer, initialised as flax initialises
them (the authors' truncated normal with std 1/sqrt(fan_in) for linear maps and embeddings, He
normal for D's convolutions, zero biases, LayerNorm eps 1e-6):

  G  z -> L steps of: embed(previous token) -> relational memory (one step of a relational
     memory core: input projection, attention over [memory; input] with LayerNorms and an MLP,
     input / forget gates) -> logits o_t [n, V] -> softmax(beta (o_t + g_t)), g_t Gumbel noise;
     the next input is argmax(o_t + g_t), a hard token without gradient.
  D  one-hot [n, L, V] -> x @ embed [n, L, R e] -> R representations of e columns each, read by
     convolutions of widths 2-5 (num_filters each), ReLU and max over time -> a highway layer
     without biases -> fc 100 -> the Critic's linear head: logits [n, R].

The steps mirror gan_jax/training/text_phases.py:

  gan_jax                                      | this twin
  ---------------------------------------------+------------------------------------------------
  mle: teacher-forced NLL per token (EOS       | mle_step(): the same loss, Adam (pretrain_lr,
    padding included), Adam 1e-2 clipped to    |   betas 0.9 / 0.999) after clip_grad_norm_(5)
    global norm 5 ("mle" slot)                 |
  adversarial: beta from the phase's step,     | adversarial_step(): beta from its own count
    then the plain step (training/step.py):    |   of adversarial steps, then:
    n_critic times: fresh reals and G(z)       |   n_critic times: reals by index, G under no_grad,
      (stop_gradient), D on [real; fake],      |     D on cat([real, fake]), RSGAN's D loss,
      RSGAN mean softplus(C_f - C_r), clip 5,  |     clip_grad_norm_(5), Adam `d`
      Adam on D                                |
    once: fresh reals and G(z), D(fake) and    |   once: G(z) with grad, D(real) under no_grad,
      D(real), mean softplus(C_r - C_f), grad  |     D(fake), backward(inputs=G's parameters),
      w.r.t. G only, clip 5, Adam "adversarial"|     clip_grad_norm_(5), Adam `g`

Differences, all small: the Gumbel noise comes from torch's generator (-log of an exponential
draw), not from the keys in z; torch's clip_grad_norm_ divides by norm + 1e-6 where optax divides
by the norm; D(real) in G's update runs without recording its graph (G's gradient does not need
it; XLA prunes the same work from the compiled step).
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

EOS = 0  # gan_jax.data.text.EOS: end of sentence and padding, and G's first input


def truncated_(w: torch.Tensor, fan_in: int) -> torch.Tensor:
    """The authors' linear init (gan_jax.models.relgan.linear_init): std 1/sqrt(fan_in),
    truncated at two standard deviations."""
    std = fan_in ** -0.5
    return nn.init.trunc_normal_(w, std=std, a=-2 * std, b=2 * std)


def linear(fan_in: int, out: int, bias: bool = True) -> nn.Linear:
    layer = nn.Linear(fan_in, out, bias=bias)
    with torch.no_grad():
        truncated_(layer.weight, fan_in)
        if bias:
            layer.bias.zero_()
    return layer


def layer_norm(size: int) -> nn.LayerNorm:
    return nn.LayerNorm(size, eps=1e-6)  # flax's default eps


class RelationalMemory(nn.Module):
    """One step of gan_jax.models.relgan.RelationalMemory (same layer names)."""

    def __init__(self, input_dim: int, mem_slots: int = 1, head_size: int = 256, num_heads: int = 2):
        super().__init__()
        self.mem_slots, self.head_size, self.num_heads = mem_slots, head_size, num_heads
        size = self.mem_size = head_size * num_heads
        self.input = linear(input_dim, size)
        self.qkv = linear(size, 3 * size, bias=False)
        self.qkv_norm = layer_norm(3 * size)
        self.attend_norm = layer_norm(size)
        self.mlp_0, self.mlp_1 = linear(size, size), linear(size, size)
        self.mlp_norm = layer_norm(size)
        self.gate_in = linear(size, 2 * size, bias=False)
        self.gate_mem = linear(size, 2 * size, bias=False)

    def initial(self, n: int) -> torch.Tensor:
        eye = torch.eye(self.mem_slots, self.mem_size, device=self.input.weight.device)
        return eye.expand(n, -1, -1)

    def attend(self, memory: torch.Tensor) -> torch.Tensor:
        n, slots, size = memory.shape
        qkv_size = 3 * self.head_size
        qkv = self.qkv_norm(self.qkv(memory)).view(n, slots, self.num_heads, qkv_size)
        q, k, v = qkv.transpose(1, 2).split(self.head_size, dim=-1)  # [n, heads, slots, head]
        weights = torch.softmax((q * qkv_size ** -0.5) @ k.transpose(2, 3), dim=-1)
        attended = (weights @ v).transpose(1, 2).reshape(n, slots, size)
        memory = self.attend_norm(memory + attended)
        mlp = self.mlp_1(torch.relu(self.mlp_0(memory)))
        return self.mlp_norm(memory + mlp)

    def forward(self, memory: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.input(x)[:, None]
        new = self.attend(torch.cat([memory, x], dim=1))[:, :-1]
        input_gate, forget_gate = (self.gate_in(x) + self.gate_mem(torch.tanh(memory))).chunk(2, -1)
        new = torch.sigmoid(input_gate) * torch.tanh(new) + torch.sigmoid(forget_gate + 1.0) * memory
        return new, new.reshape(len(new), -1)


class Generator(nn.Module):
    def __init__(self, seq_len: int, vocab: int, embed_dim: int = 32, mem_slots: int = 1,
                 head_size: int = 256, num_heads: int = 2):
        super().__init__()
        self.seq_len = seq_len
        self.embed = nn.Embedding(vocab, embed_dim)
        with torch.no_grad():
            truncated_(self.embed.weight, vocab)
        self.core = RelationalMemory(embed_dim, mem_slots, head_size, num_heads)
        self.out = linear(mem_slots * self.core.mem_size, vocab)

    def logits(self, memory: torch.Tensor, token: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        memory, h = self.core(memory, self.embed(token))
        return memory, self.out(h)

    def forward(self, n: int, beta: float, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Relaxed one-hots [n, L, V]; `noise` [n, L, V]: the Gumbel noise (default: fresh)."""
        memory = self.core.initial(n)
        token = torch.full((n,), EOS, dtype=torch.long, device=memory.device)
        out = []
        for t in range(self.seq_len):
            memory, o = self.logits(memory, token)
            g = noise[:, t] if noise is not None else -torch.empty_like(o).exponential_().log()
            y = o + g
            token = y.detach().argmax(-1)
            out.append(torch.softmax(beta * y, dim=-1))
        return torch.stack(out, dim=1)

    def nll(self, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher-forced negative log-likelihood per token [n, L], EOS padding included."""
        n = len(tokens)
        previous = torch.cat([torch.full((n, 1), EOS, dtype=tokens.dtype, device=tokens.device),
                              tokens[:, :-1]], dim=1)
        memory, logits = self.core.initial(n), []
        for t in range(self.seq_len):
            memory, o = self.logits(memory, previous[:, t])
            logits.append(o)
        log_p = torch.log_softmax(torch.stack(logits, dim=1), dim=-1)
        return -log_p.gather(-1, tokens[..., None])[..., 0]


class Highway(nn.Module):
    def __init__(self, size: int):
        super().__init__()
        self.transform, self.gate = linear(size, size, bias=False), linear(size, size, bias=False)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        t = torch.sigmoid(self.gate(h))
        return t * torch.relu(self.transform(h)) + (1 - t) * h


class Discriminator(nn.Module):
    """D with the Critic's head: one-hot [n, L, V] -> logits [n, R]."""

    def __init__(self, vocab: int, embed_dim: int = 64, representations: int = 64,
                 filter_sizes: tuple[int, ...] = (2, 3, 4, 5), num_filters: int = 300, fc_dim: int = 100):
        super().__init__()
        self.r, self.width = representations, embed_dim // representations
        self.embed = nn.Parameter(truncated_(torch.empty(vocab, embed_dim), vocab))
        self.convs = nn.ModuleDict({str(k): nn.Conv1d(self.width, num_filters, k) for k in filter_sizes})
        with torch.no_grad():
            for k, conv in self.convs.items():
                nn.init.normal_(conv.weight, std=(2.0 / (int(k) * self.width)) ** 0.5)
                conv.bias.zero_()
        features = num_filters * len(filter_sizes)
        self.highway = Highway(features)
        self.fc = linear(features, fc_dim)
        self.head = linear(fc_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, length, _ = x.shape
        emb = x @ self.embed  # [n, L, R e]
        emb = emb.view(n, length, self.r, self.width).permute(0, 2, 3, 1).reshape(n * self.r, self.width,
                                                                                 length)
        pooled = [torch.relu(conv(emb)).amax(dim=-1) for conv in self.convs.values()]
        h = self.fc(self.highway(torch.cat(pooled, dim=-1)))
        return self.head(h.view(n, self.r, -1))[..., 0]


def inverse_temperature(schedule: str, beta_max: float, t: int, n: int) -> float:
    """gan_jax.training.text_phases.inverse_temperature after t adversarial steps."""
    frac = min(t / n, 1.0)
    if schedule == "exp":
        return beta_max ** frac
    if schedule == "linear":
        return 1.0 + (beta_max - 1.0) * frac
    return beta_max


class RelGANTwin:
    def __init__(self, tokens: np.ndarray, vocab: int, batch_size: int = 64, embed_dim: int = 32,
                 mem_slots: int = 1, head_size: int = 256, num_heads: int = 2, d_embed_dim: int = 64,
                 representations: int = 64, num_filters: int = 300, n_critic: int = 5,
                 lr: float = 1e-4, pretrain_lr: float = 1e-2, betas: tuple[float, float] = (0.9, 0.999),
                 clip_norm: float = 5.0, max_temperature: float = 100.0, temperature_schedule: str = "exp",
                 temperature_steps: int = 5000, seed: int = 0, device: str = "cpu"):
        torch.manual_seed(seed)
        self.data = torch.tensor(np.asarray(tokens), dtype=torch.long, device=device)
        self.vocab, self.batch_size, self.n_critic, self.clip_norm = vocab, batch_size, n_critic, clip_norm
        self.schedule = (temperature_schedule, max_temperature, temperature_steps)
        self.G = Generator(self.data.shape[1], vocab, embed_dim, mem_slots, head_size, num_heads).to(device)
        self.D = Discriminator(vocab, d_embed_dim, representations, num_filters=num_filters).to(device)
        adam = lambda params, rate: torch.optim.Adam(params, rate, betas=betas, eps=1e-8)  # noqa: E731
        # G's two optimizers (gan_jax's "mle" and "adversarial" slots) and D's.
        self.opt = {"mle": adam(self.G.parameters(), pretrain_lr), "g": adam(self.G.parameters(), lr),
                    "d": adam(self.D.parameters(), lr)}
        self.adversarial_steps = 0

    def tokens(self) -> torch.Tensor:
        """A batch of real sentences, by index with replacement."""
        return self.data[torch.randint(0, len(self.data), (self.batch_size,), device=self.data.device)]

    def one_hot(self, tokens: torch.Tensor) -> torch.Tensor:
        return F.one_hot(tokens, self.vocab).float()

    def minimise(self, slot: str, loss: torch.Tensor, params: list[torch.Tensor]) -> None:
        """One clipped step of `slot`'s optimizer; no other weight receives a gradient."""
        self.opt[slot].zero_grad(set_to_none=True)
        loss.backward(inputs=params)
        nn.utils.clip_grad_norm_(params, self.clip_norm)
        self.opt[slot].step()

    def mle_step(self, tokens: torch.Tensor | None = None) -> dict[str, float]:
        nll = self.G.nll(self.tokens() if tokens is None else tokens).mean()
        self.minimise("mle", nll, list(self.G.parameters()))
        return {"mle/nll": nll.item()}

    def adversarial_step(self) -> dict[str, float]:
        beta = inverse_temperature(*self.schedule[:2], self.adversarial_steps, self.schedule[2])
        n = self.batch_size
        for _ in range(self.n_critic):
            real = self.one_hot(self.tokens())
            with torch.no_grad():
                fake = self.G(n, beta)
            logits = self.D(torch.cat([real, fake]))
            d_loss = F.softplus(logits[n:] - logits[:n]).mean()
            self.minimise("d", d_loss, list(self.D.parameters()))
        real = self.one_hot(self.tokens())
        fake = self.G(n, beta)
        with torch.no_grad():
            real_logits = self.D(real)
        g_loss = F.softplus(real_logits - self.D(fake)).mean()
        self.minimise("g", g_loss, list(self.G.parameters()))
        self.adversarial_steps += 1
        return {"d/loss": d_loss.item(), "g/loss": g_loss.item(), "g/inverse_temperature": beta}


def time_steps(step: Callable, n: int) -> float:
    """Seconds per step over n steps."""
    start = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - start) / n


def check_trains(twin: RelGANTwin, mle_steps: int = 100, adversarial_steps: int = 2,
                 window: int = 10) -> dict:
    """`mle_steps` maximum-likelihood steps, then `adversarial_steps` adversarial ones from the
    fresh twin: every loss finite, and the NLL of the last `window` steps (at most a quarter of
    them) below 80% of the first `window`'s -> a report with `ok`."""
    window = max(1, min(window, mle_steps // 4))
    nll = [twin.mle_step()["mle/nll"] for _ in range(mle_steps)]
    adversarial = [twin.adversarial_step() for _ in range(adversarial_steps)]
    finite = all(math.isfinite(v) for v in nll + [v for row in adversarial for v in row.values()])
    first, last = float(np.mean(nll[:window])), float(np.mean(nll[-window:]))
    return {"ok": finite and last < 0.8 * first, "mle_steps": mle_steps, "finite": finite,
            "nll_first": round(first, 4), "nll_last": round(last, 4),
            "adversarial_last": {k: round(v, 4) for k, v in adversarial[-1].items()} if adversarial else {}}


def info() -> dict:
    return {"torch": torch.__version__, "threads": torch.get_num_threads()}


def serve(twin: RelGANTwin) -> None:
    """Answer one JSON line per command on stdin (for bench_text.py, which runs gan_jax in its own
    process): `time N mle|adversarial` -> seconds per step of that phase over N steps; `quit`."""
    steps = {"mle": twin.mle_step, "adversarial": twin.adversarial_step}
    print(json.dumps({"ready": True, **info()}), flush=True)
    for line in sys.stdin:
        command, *rest = line.split()
        if command == "quit":
            return
        if command == "time" and len(rest) == 2 and rest[1] in steps:
            print(json.dumps({"seconds_per_step": time_steps(steps[rest[1]], int(rest[0]))}), flush=True)
        else:
            print(json.dumps({"error": f"unknown command {line.strip()!r}"}), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help=".npy of training token ids, int [N, L], EOS-padded")
    p.add_argument("--vocab", type=int, required=True, help="V: the one-hots' width")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--embed-dim", type=int, default=32)
    p.add_argument("--mem-slots", type=int, default=1)
    p.add_argument("--head-size", type=int, default=256)
    p.add_argument("--num-heads", type=int, default=2)
    p.add_argument("--d-embed-dim", type=int, default=64)
    p.add_argument("--representations", type=int, default=64)
    p.add_argument("--num-filters", type=int, default=300)
    p.add_argument("--n-critic", type=int, default=5)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--pretrain-lr", type=float, default=1e-2)
    p.add_argument("--betas", type=float, nargs=2, default=(0.9, 0.999))
    p.add_argument("--clip-norm", type=float, default=5.0)
    p.add_argument("--max-temperature", type=float, default=100.0)
    p.add_argument("--temperature-schedule", choices=("exp", "linear", "constant"), default="exp")
    p.add_argument("--temperature-steps", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--check", type=int, nargs="?", const=100, metavar="STEPS",
                   help="train STEPS maximum-likelihood steps (default 100), then 2 adversarial "
                        "ones, and check that it trains")
    p.add_argument("--serve", action="store_true", help="time steps on request (bench_text.py)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    twin = RelGANTwin(np.load(args.data), args.vocab, args.batch, args.embed_dim, args.mem_slots,
                      args.head_size, args.num_heads, args.d_embed_dim, args.representations,
                      args.num_filters, args.n_critic, args.lr, args.pretrain_lr, tuple(args.betas),
                      args.clip_norm, args.max_temperature, args.temperature_schedule,
                      args.temperature_steps, args.seed)
    if args.serve:
        serve(twin)
    elif args.check:
        report = {**check_trains(twin, args.check), **info()}
        print(json.dumps(report), flush=True)
        sys.exit(0 if report["ok"] else 1)
    else:
        p.error("pass --check or --serve")


if __name__ == "__main__":
    main()
