"""Train a GAN: `python -m gan_jax.train [hydra overrides]`.

    python -m gan_jax.train                                   # DCGAN on Fashion-MNIST
    python -m gan_jax.train model=mlp data=ring optim.lr=1e-3
    python -m gan_jax.train hydra.run.dir=runs/mine trainer.resume=true trainer.steps=10000
    python -m gan_jax.train -m hydra/sweeper=optuna_search trainer.objective=eval/hq \
        experiment=ring_mlp 'optim.lr=tag(log, interval(1e-5, 1e-2))'   # Optuna search

Expected failures print one line on stderr, no traceback, and exit non-zero: 2 for a setting or
file the user can fix, 3 when training diverged, 4 when another process of a multi-process run
was lost. In a sweep (-m) a diverged job fails alone and the sweep goes on.
"""

from __future__ import annotations

import json
import logging
import pathlib
import shutil
import sys
from typing import NoReturn

import hydra
import jax
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from gan_jax import compile_cache, parallel, peers
from gan_jax.errors import ConfigError, DivergenceError, PeerLostError, UserError
from gan_jax.sweeps import objective_value
from gan_jax.training.loop import train


def record_hydra_config(run_dir: str, cfg: DictConfig) -> None:
    """What Hydra would write to <run>/.hydra/ (conf/config.yaml turns that off), written only
    once the config is valid: a refused resume keeps the config the checkpoints were made with."""
    hydra_cfg = HydraConfig.get()
    out = pathlib.Path(run_dir) / ".hydra"
    out.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, out / "config.yaml")
    OmegaConf.save(OmegaConf.create({"hydra": hydra_cfg}), out / "hydra.yaml")
    OmegaConf.save(hydra_cfg.overrides.task, out / "overrides.yaml")


def is_fresh(run_dir: str) -> bool:
    """Whether this invocation starts the run: Hydra has just created its directory, which holds
    nothing yet (or only the train.log of an earlier refused attempt)."""
    path = pathlib.Path(run_dir)
    return not path.is_dir() or all(p.name == "train.log" for p in path.iterdir())


def discard_refused(run_dir: str, fresh: bool) -> None:
    """A refused run leaves nothing behind: Hydra created the run directory before the task
    started, and the log (train.log) began before the error (e.g. "decoding N photos" before a
    corrupt photo). A run this invocation started is removed unless it already holds
    checkpoints; an existing run (a refused resume) keeps everything it had."""
    path = pathlib.Path(run_dir)
    if not path.is_dir():
        return
    if fresh and not has_checkpoints(path):
        root = logging.getLogger()
        for handler in list(root.handlers):  # stop writing train.log before removing it
            if isinstance(handler, logging.FileHandler) and \
                    pathlib.Path(handler.baseFilename).resolve().parent == path.resolve():
                root.removeHandler(handler)
                handler.close()
        shutil.rmtree(path, ignore_errors=True)
    elif not any(path.iterdir()):
        path.rmdir()


def has_checkpoints(path: pathlib.Path) -> bool:
    ckpt = path / "checkpoints"
    return ckpt.is_dir() and any(p.name.isdigit() for p in ckpt.iterdir())


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> float | None:
    """Train one run; returns `trainer.objective` from its summary for Hydra sweepers (Optuna),
    or None when that is null."""
    run_dir = HydraConfig.get().runtime.output_dir
    logging.getLogger("absl").setLevel(logging.WARNING)  # orbax is chatty at INFO
    # JAX reports at INFO each accelerator backend it probes and does not find (TPU on every
    # machine); a real problem with a present GPU comes at WARNING and still shows.
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)
    objective = cfg.trainer.objective
    fresh = is_fresh(run_dir)
    try:
        if objective is not None and not isinstance(objective, str):
            raise ConfigError(f"trainer.objective={objective!r} must be a summary metric name, "
                              f"e.g. trainer.objective=eval/hq.")
        parallel.initialize(cfg.trainer)  # joins the other processes; before any JAX work
        peers.on_lost(lambda lost: stop_lost(lost, "another process found it lost", run_dir))
        compile_cache.enable(cfg.trainer.compile_cache)  # before anything compiles
        summary = train(OmegaConf.to_container(cfg, resolve=True), run_dir,
                        on_valid=lambda: record_hydra_config(run_dir, cfg))
        value = objective_value(summary, objective)
    except DivergenceError as e:
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            # A failed job of the sweep (for Optuna a failed trial), not the end of it; Hydra
            # prints a compact exception as one line where it would print a traceback.
            print(f"\nerror: {run_dir}: {e}", file=sys.stderr)
            raise JobFailed(f"{run_dir}: {e}") from None
        print(f"\nerror: {e}", file=sys.stderr)
        sys.exit(3)
    except UserError as e:
        print(f"\nerror: {e}", file=sys.stderr)
        discard_refused(run_dir, fresh)
        sys.exit(2)
    except Exception as e:
        lost = peers.lost_processes()  # [] unless another process of this run stopped
        if not lost:
            raise
        stop_lost(lost, f"a collective of this process failed: {first_line(e)}", run_dir)
    written = ["summary.json", "tb/", "checkpoints/"] + sorted(
        p.name for p in pathlib.Path(run_dir).glob("samples*.png"))
    print(f"run finished: {run_dir} ({', '.join(written)})")
    return value


class JobFailed(DivergenceError, CompactHydraException):
    """A diverged job of a sweep: Hydra prints its message alone, the sweeper counts a failure."""


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def stop_lost(lost: list[int], cause: str, run_dir: str) -> NoReturn:
    """Say which processes were lost (PeerLostError), record it in summary.json (which the loop
    wrote as "failed": it cannot tell), and exit 4 at once."""
    steps = sorted(int(p.name) for p in (pathlib.Path(run_dir) / "checkpoints").glob("*") if p.name.isdigit())
    error = PeerLostError(
        f"process {', '.join(map(str, lost))} of this {jax.process_count()}-process run stopped "
        f"({cause}); process {jax.process_index()} stops too. Checkpoints in {run_dir}/checkpoints "
        f"(latest: {f'step {steps[-1]}' if steps else 'none yet'}) are kept: restart every "
        f"process with trainer.resume=true.")
    print(f"\nerror: {error}", file=sys.stderr)
    summary = pathlib.Path(run_dir) / "summary.json"
    if jax.process_index() == 0 and summary.is_file():
        data = json.loads(summary.read_text())
        summary.write_text(json.dumps({**data, "status": "peer_lost", "error": str(error)}, indent=2))
    peers.stop_now(lost, 4)


if __name__ == "__main__":
    main()
