"""Finding and reading the MovieLens-100K files (ratings and movie titles).

Two layouts are read: RecBole's (`ml-100k.inter` + `ml-100k.item`, tab-separated with typed
headers, as shipped inside the PyPI wheel `recbole==1.2.1`) and GroupLens' official one
(`u.data` + `u.item`). With `data.root` set, that folder only. Otherwise, in order:
`$GAN_JAX_DATA` (or its `ml-100k/`), the user cache `~/.cache/gan_jax/ml-100k`, the files
inside a `recbole-1.2.1` wheel in `~/.cache/gan_jax/wheels` (`scripts/setup.sh` fetches it with
`pip download --no-deps`; extracted into the cache, the package is never imported), and with
`data.download=true` GroupLens' official zip.
"""

from __future__ import annotations

import io
import os
import pathlib
import urllib.request
import zipfile

import numpy as np

from gan_jax.errors import DataError

CACHE_DIR = pathlib.Path.home() / ".cache" / "gan_jax" / "ml-100k"
WHEEL_DIR = pathlib.Path.home() / ".cache" / "gan_jax" / "wheels"
WHEEL_GLOB = "recbole-1.2.1-*.whl"
WHEEL_MEMBER = "recbole/dataset_example/ml-100k/"
LAYOUTS = (("ml-100k.inter", "ml-100k.item"), ("u.data", "u.item"))
OFFICIAL_ZIP = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
HOW_TO_GET = ("Run scripts/setup.sh (it fetches the recbole==1.2.1 wheel that ships the files), "
              "put ml-100k.inter + ml-100k.item (or GroupLens' u.data + u.item) in a folder and "
              "pass data.root=/that/folder, or allow data.download=true.")


def _layout(folder: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path] | None:
    for ratings, items in LAYOUTS:
        if (folder / ratings).is_file():
            return folder / ratings, folder / items
    return None


def _from_wheel() -> pathlib.Path | None:
    """Extract the ml-100k files of a cached recbole wheel into CACHE_DIR."""
    wheels = sorted(WHEEL_DIR.glob(WHEEL_GLOB)) if WHEEL_DIR.is_dir() else []
    if not wheels:
        return None
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(wheels[-1]) as z:
            for name in LAYOUTS[0]:
                tmp = CACHE_DIR / (name + ".part")
                tmp.write_bytes(z.read(WHEEL_MEMBER + name))
                tmp.rename(CACHE_DIR / name)
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        raise DataError(f"{wheels[-1]} does not hold readable MovieLens-100K files ({e}); delete "
                        f"it and rerun scripts/setup.sh.") from e
    return CACHE_DIR


def _download() -> pathlib.Path:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(OFFICIAL_ZIP, timeout=60) as r:
            archive = zipfile.ZipFile(io.BytesIO(r.read()))
        for name in LAYOUTS[1]:
            (CACHE_DIR / name).write_bytes(archive.read(f"ml-100k/{name}"))
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        raise DataError(f"MovieLens-100K download from {OFFICIAL_ZIP} failed ({e}). {HOW_TO_GET}") from e
    return CACHE_DIR


def find(root: str | None, download: bool) -> tuple[pathlib.Path, pathlib.Path]:
    """(ratings file, item file) per the lookup order above."""
    if root:
        folder = pathlib.Path(root).expanduser()
        found = _layout(folder) if folder.is_dir() else None
        if found is None:
            state = "does not exist" if not folder.is_dir() else "holds neither ml-100k.inter nor u.data"
            raise DataError(f"data.root={root} {state}. {HOW_TO_GET}")
        return found
    folders = []
    if os.environ.get("GAN_JAX_DATA"):
        env = pathlib.Path(os.environ["GAN_JAX_DATA"]).expanduser()
        folders += [env, env / "ml-100k"]
    for folder in folders + [CACHE_DIR]:
        if (found := _layout(folder)) is not None:
            return found
    folder = _from_wheel() or (_download() if download else None)
    if folder is None:
        searched = ", ".join(map(str, folders + [CACHE_DIR, WHEEL_DIR]))
        raise DataError(f"MovieLens-100K not found (searched {searched}). {HOW_TO_GET}")
    return _layout(folder)


def read_ratings(path: pathlib.Path) -> np.ndarray:
    """[n, 2] int64 (user id, item id) as written in the file, one row per rating."""
    try:
        lines = path.read_text(encoding="latin-1").splitlines()
    except OSError as e:
        raise DataError(f"{path} cannot be read ({e}). {HOW_TO_GET}") from e
    if lines and lines[0].startswith("user_id"):  # RecBole's typed header
        lines = lines[1:]
    pairs = []
    for number, line in enumerate(lines, start=2 if path.suffix == ".inter" else 1):
        fields = line.split("\t")
        if not line.strip():
            continue
        try:
            pairs.append((int(fields[0]), int(fields[1])))
        except (ValueError, IndexError):
            raise DataError(f"{path}, line {number}: {line!r} is not 'user<TAB>item<TAB>rating"
                            f"<TAB>timestamp'; the file is corrupt or not MovieLens.") from None
    if not pairs:
        raise DataError(f"{path} holds no ratings. {HOW_TO_GET}")
    return np.asarray(pairs, np.int64)


def read_titles(path: pathlib.Path) -> dict[int, str]:
    """item id -> title (with year when the file has it)."""
    if not path.is_file():
        raise DataError(f"the item file {path} is missing; it ships beside the ratings file "
                        f"({path.parent}). {HOW_TO_GET}")
    titles = {}
    lines = path.read_text(encoding="latin-1").splitlines()
    recbole = bool(lines) and lines[0].startswith("item_id")
    for line in lines[1:] if recbole else lines:
        fields = line.split("\t" if recbole else "|")
        if len(fields) < 2 or not fields[0].strip().isdigit():
            continue
        title = fields[1]
        if recbole and len(fields) > 2 and fields[2]:
            title = f"{title} ({fields[2]})"
        titles[int(fields[0])] = title
    return titles
