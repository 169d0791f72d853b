"""COCO image captions as Texygen distributes them: RelGAN's and LeakGAN's text benchmark.

10,000 training and 10,000 held-out captions, one per line (Texygen's `data/image_coco.txt` and
`data/testdata/test_coco.txt`, saved as train.txt and test.txt). With `data.root` set, that
folder only. Otherwise, in order: `$GAN_JAX_DATA` (or its `texygen_coco/`), the `shared/data/
texygen_coco` folder beside the repository, the user cache `~/.cache/gan_jax/texygen_coco`, and
with `data.download=true` Texygen's raw files on GitHub, saved into the cache. Every file is
checked against Texygen's SHA-256 wherever it was found.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import tempfile
import urllib.request

from gan_jax.data import text, text_file
from gan_jax.data.spec import Dataset
from gan_jax.errors import DataError

SUBDIR = "texygen_coco"
CACHE_DIR = pathlib.Path.home() / ".cache" / "gan_jax" / SUBDIR
SHARED_DIR = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data" / SUBDIR
RAW = "https://raw.githubusercontent.com/geek-ai/Texygen/master/data/"
# name -> (Texygen's file, SHA-256)
FILES = {
    "train.txt": ("image_coco.txt",
                  "2c0fd1f0f43aac6a9dc3926a535516ccf395de535e15ac1fd17cd569420736f5"),
    "test.txt": ("testdata/test_coco.txt",
                 "72e25c9fb4d2cd43182ac602c92f6ffc377762147f9709572943b0b09174bcae"),
}
HOW_TO_GET = ("Put Texygen's data/image_coco.txt and data/testdata/test_coco.txt in a folder as "
              "train.txt and test.txt and pass data.root=/that/folder (or set GAN_JAX_DATA), or "
              "allow data.download=true.")


def candidate_dirs(root: str | None, shared_dir: pathlib.Path = SHARED_DIR,
                   cache_dir: pathlib.Path = CACHE_DIR) -> list[pathlib.Path]:
    """Folders searched, in order; a user who names a folder means that folder alone."""
    if root:
        return [pathlib.Path(root).expanduser()]
    dirs = []
    if os.environ.get("GAN_JAX_DATA"):
        env = pathlib.Path(os.environ["GAN_JAX_DATA"]).expanduser()
        dirs += [env, env / SUBDIR]
    return [*dirs, shared_dir, cache_dir]


def find(root: str | None, download: bool, shared_dir: pathlib.Path = SHARED_DIR,
         cache_dir: pathlib.Path = CACHE_DIR) -> pathlib.Path:
    """The folder holding both files, checksummed, per the lookup order above."""
    dirs = candidate_dirs(root, shared_dir, cache_dir)
    folder = next((d for d in dirs if all((d / name).is_file() for name in FILES)), None)
    if folder is None and root:
        missing = [n for n in FILES if not (dirs[0] / n).is_file()]
        state = "does not exist" if not dirs[0].is_dir() else f"lacks {' and '.join(missing)}"
        raise DataError(f"data.root={root} {state}. {HOW_TO_GET}")
    if folder is None and not download:
        raise DataError(f"COCO captions not found (searched {', '.join(map(str, dirs))}). {HOW_TO_GET}")
    if folder is None:
        folder = fetch(cache_dir)
    for name, (_, digest) in FILES.items():
        found = sha256(folder / name)
        if found != digest:
            raise DataError(f"{folder / name} has SHA-256 {found[:12]}..., not Texygen's "
                            f"{digest[:12]}...: it is corrupt or another file. Replace it (delete "
                            f"it, and data.download=true fetches it again), or use data=text_file "
                            f"for your own captions.")
    return folder


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(cache_dir: pathlib.Path, opener=urllib.request.urlopen) -> pathlib.Path:
    """Download the missing files into cache_dir, each checked before it is renamed into place
    (a failed or corrupt download leaves nothing half-written)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name, (remote, digest) in FILES.items():
        target = cache_dir / name
        if target.is_file():
            continue
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=f".{name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f, opener(RAW + remote, timeout=60) as response:
                f.write(response.read())
            if sha256(pathlib.Path(tmp)) != digest:
                raise DataError(f"the download of {RAW + remote} does not have Texygen's SHA-256 "
                                f"{digest[:12]}... (the file changed upstream, or the transfer was "
                                f"cut); nothing was saved. {HOW_TO_GET}")
            os.chmod(tmp, 0o644)  # mkstemp makes it private; a shared cache should be readable
            os.replace(tmp, target)
        except OSError as e:
            raise DataError(f"downloading {RAW + remote} failed ({e}). {HOW_TO_GET}") from e
        finally:
            pathlib.Path(tmp).unlink(missing_ok=True)
    return cache_dir


def build(root: str | None, download: bool, max_length: int | None, vocab_size: int | None) -> Dataset:
    folder = find(root, download)
    train, test = (text_file.read_lines(folder / name) for name in FILES)
    corpus = text.build_text(train, test, max_length, vocab_size, str(folder / "train.txt"),
                             str(folder / "test.txt"))
    return text.build("coco_captions", corpus)
