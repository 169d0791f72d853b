"""What the side-by-side benches share (scripts/bench_series.py, scripts/bench_text.py): the
composed experiment, the Python that runs a PyTorch twin, the twin in a process of its own, and
the machine stamp printed above the numbers."""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import pathlib
import platform
import subprocess
import sys

import flax
import jax
import optax
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # experiments/, when a bench runs as a script
from experiments.provenance import commit, cpu_model  # noqa: E402


def config(overrides: list[str]) -> dict:
    """The composed config as gan_jax.train sees it (plain dict, interpolations resolved)."""
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        return OmegaConf.to_container(compose("config", overrides=overrides), resolve=True)


def torch_python(given: str | None) -> str:
    """The Python that runs the twin: --torch-python, else this one if it has PyTorch, else
    .venv-peers'."""
    if given:
        return given
    if importlib.util.find_spec("torch") is not None:
        return sys.executable
    peers = ROOT / ".venv-peers" / "bin" / "python"
    if peers.is_file():
        return str(peers)
    raise SystemExit("PyTorch is not importable here and .venv-peers is missing: run "
                     "scripts/setup_peers.sh, pass --torch-python, or --no-torch.")


class Twin:
    """A twin in its own process (`<twin>.py ... --serve`), asked for one round at a time:
    `time N [PHASE]` -> {"seconds_per_step": ...}; its first line says its versions."""

    def __init__(self, command: list[str]):
        self.proc = subprocess.Popen([*command, "--serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.info = self.answer()

    def answer(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the PyTorch twin exited (code {self.proc.wait()})")
        return json.loads(line)

    def ask(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.answer()

    def run(self, steps: int, phase: str | None = None) -> float:
        return self.ask(f"time {steps}{'' if phase is None else ' ' + phase}")["seconds_per_step"]

    def close(self) -> None:
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait()


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def stamp() -> str:
    """The machine (CPU, cores, load average now, time) and the software (commit, versions)."""
    return (f"machine: {cpu_model()}, {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), "
            f"{platform.system()} {platform.machine()}; load average {load()}; "
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC\n"
            f"software: commit {commit()}, Python {platform.python_version()}, jax {jax.__version__} "
            f"({jax.default_backend()} x{jax.local_device_count()}), flax {flax.__version__}, "
            f"optax {optax.__version__}")


def rounds(seconds: list[float]) -> str:
    """Each round's milliseconds per step, for the report line."""
    return ", ".join(f"{t * 1e3:.1f}" for t in seconds)
