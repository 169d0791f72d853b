"""Train a GAN: `python -m gan_jax.train [hydra overrides]`.

    python -m gan_jax.train                                   # DCGAN on Fashion-MNIST
    python -m gan_jax.train model=mlp data=ring optim.lr=1e-3
    python -m gan_jax.train hydra.run.dir=runs/mine trainer.resume=true trainer.steps=10000
"""

from __future__ import annotations

import logging
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from gan_jax.errors import DivergenceError, UserError
from gan_jax.training.loop import train


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> float | None:
    run_dir = HydraConfig.get().runtime.output_dir
    logging.getLogger("absl").setLevel(logging.WARNING)  # orbax is chatty at INFO
    try:
        summary = train(OmegaConf.to_container(cfg, resolve=True), run_dir)
    except DivergenceError as e:
        print(f"\nerror: {e}", file=sys.stderr)
        sys.exit(3)
    except UserError as e:
        print(f"\nerror: {e}", file=sys.stderr)
        sys.exit(2)
    print(f"run finished: {run_dir} (summary.json, tb/, checkpoints/, samples.png)")
    # Returned for Hydra sweepers (Optuna): the first eval metric when there is one.
    return next(iter(summary["eval"].values()), None)


if __name__ == "__main__":
    main()
