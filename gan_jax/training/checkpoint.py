"""Checkpoints of the whole `GANState` with orbax: atomic, periodic, keep-last-N."""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import orbax.checkpoint as ocp

from gan_jax.errors import ConfigError


class Checkpoints:
    """Orbax CheckpointManager over `<run_dir>/checkpoints/<step>/`.

    Orbax writes each step into a temporary folder and renames it when complete, so a crash
    mid-write never leaves a half checkpoint that `latest_step` would pick up.
    """

    def __init__(self, directory: str | pathlib.Path, keep: int = 3):
        self.directory = pathlib.Path(directory).absolute()
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True,
                                                 enable_async_checkpointing=False))

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        return list(self._manager.all_steps())

    def save(self, step: int, state) -> None:
        if not bool(all_finite(state)):
            raise FloatingPointError(f"refusing to checkpoint step {step}: state has NaN/inf")
        self._manager.save(step, args=ocp.args.StandardSave(state))
        self._manager.wait_until_finished()

    def restore(self, template, step: int | None = None):
        """Restore into the structure, shapes and dtypes of `template` (a state or its eval_shape)."""
        step = self.latest_step() if step is None else step
        abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, template)
        try:
            return self._manager.restore(step, args=ocp.args.StandardRestore(abstract))
        except (ValueError, KeyError, TypeError) as e:
            raise ConfigError(
                f"checkpoint {self.directory / str(step)} does not fit this config ({e}). "
                f"Resume with the config the run was started with (see its config.json)."
            ) from e

    def close(self) -> None:
        self._manager.close()


@jax.jit
def all_finite(tree) -> jax.Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree)
              if jnp.issubdtype(x.dtype, jnp.floating)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)
