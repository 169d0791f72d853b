"""Checkpoints of the whole `GANState` with orbax: atomic, periodic, keep-last-N.

A checkpoint that cannot be read (a truncated or missing file) is *damaged*; one that reads but
holds another structure or other shapes *does not fit this config*. The two are told apart by
reading the checkpoint's own tree metadata before restoring into the config's template, so a
damaged file is never blamed on the config and a wrong config never on the files.
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
import tensorstore as ts

from gan_jax.errors import CheckpointError, ConfigError, DivergenceError

ITEM = "default"  # the folder orbax writes the single StandardSave item into
DAMAGED_PREFIX = "damaged-"  # orbax reads "<digits>" and "<prefix>_<digits>" as steps; this is neither


@dataclasses.dataclass
class Damage:
    """A checkpoint whose files cannot be read: its step, the file or folder at fault, why, and
    where it was set aside (None while it stays in place)."""

    step: int
    path: pathlib.Path
    problem: str
    moved_to: pathlib.Path | None = None

    def __str__(self) -> str:
        return f"checkpoint step {self.step} is damaged: {self.path}: {self.problem}"


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
        if not bool(all_finite(state)):  # metrics finite, yet the last update made inf/NaN
            raise DivergenceError(
                f"training diverged: the state after step {step} has NaN/inf (its metrics were "
                f"still finite); it was not checkpointed. Try a lower optim.lr or a different "
                f"loss, or resume from the last checkpoint with trainer.resume=true.")
        self._manager.save(step, args=ocp.args.StandardSave(state))
        self._manager.wait_until_finished()

    def restore(self, template, step: int | None = None):
        """Restore `step` (default: the latest) into the structure, shapes and dtypes of
        `template` (a state or its eval_shape).

        Raises CheckpointError when its files are damaged, ConfigError when it is intact but was
        written by another config.
        """
        step = self.latest_step() if step is None else step
        result = self._read(template, step)
        if isinstance(result, Damage):
            others = [s for s in self.all_steps() if s != step]
            raise CheckpointError(f"{result}. Other saved steps: {others or 'none'}.")
        return result

    def restore_latest_intact(self, template) -> tuple[Any, int, list[Damage]]:
        """The newest checkpoint that reads, its step, and the newer damaged ones it passed.

        The damaged ones are moved aside to `checkpoints/damaged-<step>` (kept for the user, out
        of orbax's way: orbax skips saves at or below its latest step, and would later collide
        with or prune them). Raises CheckpointError, touching nothing, when every checkpoint is
        damaged; ConfigError when the newest intact one does not fit `template`.
        """
        damaged: list[Damage] = []
        for step in sorted(self.all_steps(), reverse=True):
            result = self._read(template, step)
            if isinstance(result, Damage):
                damaged.append(result)
                continue
            self._set_aside(damaged)
            return result, step, damaged
        listing = "; ".join(str(d) for d in damaged) or f"{self.directory} holds no checkpoint"
        raise CheckpointError(
            f"no intact checkpoint to resume from: {listing}. Nothing was changed; restore the "
            f"files from a copy, or start a new run in another hydra.run.dir.")

    def _read(self, template, step: int):
        """The restored state, or the Damage that prevents it; ConfigError if it does not fit."""
        folder = self.directory / str(step)
        item = folder / ITEM
        if not item.is_dir():
            return Damage(step, item, "folder missing")
        damage = _manifest_damage(step, item)
        if damage is not None:
            return damage
        handler = ocp.StandardCheckpointHandler()
        try:
            saved = handler.metadata(item)
        except Exception as e:  # noqa: BLE001 - whatever orbax raises, the file is unreadable
            return Damage(step, item / "_METADATA", _describe(e))
        finally:
            handler.close()
        mismatch = _mismatch(getattr(saved, "tree", saved), template)
        if mismatch:
            raise ConfigError(
                f"checkpoint {folder} does not fit this config: {'; '.join(mismatch[:3])}"
                f"{f' (and {len(mismatch) - 3} more)' if len(mismatch) > 3 else ''}. Resume with "
                f"the config the run was started with (see its config.json).")
        abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, template)
        try:
            return self._manager.restore(step, args=ocp.args.StandardRestore(abstract))
        except Exception as e:  # noqa: BLE001 - the tree fits, so the array files are at fault
            return Damage(step, item, _describe(e))

    def _set_aside(self, damaged: list[Damage]) -> None:
        if not damaged:
            return
        for d in damaged:
            d.moved_to = self.directory / f"{DAMAGED_PREFIX}{d.step}"
            n = 1
            while d.moved_to.exists():  # damaged at the same step before: keep both
                n += 1
                d.moved_to = self.directory / f"{DAMAGED_PREFIX}{d.step}-{n}"
        # Every process has read (and given up on) the damaged steps before one moves them.
        ocp.multihost.sync_global_processes("gan_jax_damaged_checkpoints_read")
        if jax.process_index() == 0:
            for d in damaged:
                (self.directory / str(d.step)).rename(d.moved_to)
        ocp.multihost.sync_global_processes("gan_jax_damaged_checkpoints_moved")
        self._manager.reload()

    def close(self) -> None:
        self._manager.close()


def _manifest_damage(step: int, item: pathlib.Path) -> Damage | None:
    """Orbax's OCDBT format keeps every array behind `manifest.ocdbt`: open it directly first,
    since orbax's own reads of a broken manifest print asyncio tracebacks besides the error."""
    manifest = item / "manifest.ocdbt"
    if not manifest.exists():
        if any(item.glob("ocdbt.process_*")):
            return Damage(step, manifest, "file missing")
        return None  # not the OCDBT format: orbax's own reads tell
    try:
        store = ts.KvStore.open({"driver": "ocdbt", "base": {"driver": "file",
                                                             "path": f"{item}/"}}).result()
        if not store.list().result():
            return Damage(step, manifest, "lists no arrays")
    except Exception as e:  # noqa: BLE001
        return Damage(step, manifest, _describe(e))
    return None


def _mismatch(saved, template) -> list[str]:
    """How the checkpoint's tree (names and shapes) differs from the template's."""
    def flat(tree) -> dict[str, tuple]:
        return {"/".join(map(str, k)): tuple(getattr(v, "shape", np.shape(v)))
                for k, v in ocp.tree.to_flat_dict(tree).items()}

    have, want = flat(saved), flat(template)
    out = []
    for name in sorted(set(have) | set(want)):
        if name not in want:
            out.append(f"{name} is saved but not in this config's state")
        elif name not in have:
            out.append(f"{name} of this config's state is not saved")
        elif have[name] != want[name]:
            out.append(f"{name} is saved with shape {have[name]}, this config has {want[name]}")
    return out


def _describe(error: BaseException) -> str:
    """The innermost cause's first line, without tensorstore's spec dump."""
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__
    text = (str(error) or type(error).__name__).strip().splitlines()[0]
    text = text.split(" [tensorstore_spec", 1)[0].split(" See full TensorStore details", 1)[0]
    return text[:400]


@jax.jit
def all_finite(tree) -> jax.Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree)
              if jnp.issubdtype(x.dtype, jnp.floating)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)
