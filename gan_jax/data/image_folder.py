"""A folder of the user's own product photos (`data=image_folder data.root=/path/to/photos`).

Files: JPEG, PNG and WebP (`EXTENSIONS`, any case), any size, any colour mode. Each photo is
turned upright by its EXIF orientation, put on a white background where it is transparent,
converted to RGB (`data.channels=3`) or grey (`data.channels=1`), and its centred square (side =
the shorter side) resized to `data.resolution` pixels: the short side is scaled to the resolution
and the long side is cropped evenly at both ends.

Labels: one sub-folder of `data.root` per category (any depth below it), the sorted sub-folder
names being the class names; photos directly in `data.root` with no sub-folders are unlabelled.
Ignored: hidden files and folders (names starting with "."; e.g. .DS_Store, ._IMG.jpg) and the
Windows thumbnails files in `IGNORED`. Any other file is an error naming it, as is a file with an
image extension that does not decode, so that no photo is silently left out.

Decoding happens once: the uint8 array is cached as `.npz` in `data.cache_dir` (default
`~/.cache/gan_jax/image_folder`) under a name hashed from the folder's path, each file's relative
path, size and modification time, the resolution and channels, and is rebuilt when any of them
changes. The cache is written to a temporary file and renamed into place, so an interrupted or
concurrent build never leaves a partial cache behind. On the device the images are uint8; a batch
is scaled to [-1, 1] inside the step.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import os
import pathlib
import re
import tempfile
import time
import zipfile

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image, ImageOps

from gan_jax.data.spec import Dataset, sample_by_index
from gan_jax.errors import ConfigError, DataError

EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
IGNORED = ("Thumbs.db", "desktop.ini")  # written by Windows Explorer beside photos
CACHE_DIR = pathlib.Path.home() / ".cache" / "gan_jax" / "image_folder"
CACHE_VERSION = 1  # bump when decoding changes, so that old caches are not reused
log = logging.getLogger(__name__)

LAYOUT = ("Put the photos (.jpg, .jpeg, .png, .webp) directly in data.root, or in one "
          "sub-folder of it per category.")


def check_settings(root, resolution, channels) -> pathlib.Path:
    """The photo folder as an absolute path; ConfigError / DataError naming a bad setting.
    (resolution and channels are typed and ranged by gan_jax.config.)"""
    if root is None or str(root).strip() == "":
        raise ConfigError("data.root is not set: data=image_folder needs the folder of your "
                          "photos, e.g. data.root=/path/to/photos.")
    path = pathlib.Path(str(root)).expanduser().resolve()
    if not path.exists():
        raise DataError(f"data.root={root} does not exist; set data.root to the folder of your "
                        f"photos. {LAYOUT}")
    if not path.is_dir():
        raise DataError(f"data.root={root} is a file, not a folder; set data.root to the folder "
                        f"that holds your photos. {LAYOUT}")
    return path


def _visible(names) -> list[str]:
    return sorted(n for n in names if not n.startswith(".") and n not in IGNORED)


def _images_below(folder: pathlib.Path) -> list[pathlib.Path]:
    """Every image file in `folder` and its non-hidden sub-folders, in a stable order."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = _visible(dirnames)  # prunes the walk, sorted for a stable order
        found += [pathlib.Path(dirpath) / n for n in _visible(filenames)]
    return found


def _check_extensions(files: list[pathlib.Path], root: pathlib.Path) -> None:
    bad = [f for f in files if f.suffix.lower() not in EXTENSIONS]
    if bad:
        more = f" (and {len(bad) - 1} other such files)" if len(bad) > 1 else ""
        raise DataError(f"{bad[0]}{more} in data.root={root} is not a supported image: only "
                        f"{', '.join(EXTENSIONS)} files are read (hidden files are ignored). Move "
                        f"other files out of the folder, or convert them to one of these formats.")


def list_images(root: pathlib.Path) -> tuple[list[pathlib.Path], np.ndarray, tuple[str, ...]]:
    """(image files, int32 labels, class names) of the folder; labels are 0 when unlabelled."""
    entries = _visible(os.listdir(root))
    dirs = [n for n in entries if (root / n).is_dir()]
    loose = [root / n for n in entries if n not in dirs]
    if dirs and loose:
        raise DataError(f"{loose[0]} lies directly in data.root={root}, beside the category "
                        f"sub-folders {', '.join(dirs[:3])}{', ...' if len(dirs) > 3 else ''}; "
                        f"move it into the sub-folder of its category (or out of the folder).")
    groups = [(n, _images_below(root / n)) for n in dirs] if dirs else [("", loose)]
    files, labels = [], []
    for label, (name, found) in enumerate(groups):
        _check_extensions(found, root)
        if not found and dirs:
            raise DataError(f"category folder {root / name} holds no images; add photos to it "
                            f"or remove it. {LAYOUT}")
        files += found
        labels += [label] * len(found)
    if not files:
        raise DataError(f"data.root={root} holds no images. {LAYOUT}")
    return files, np.asarray(labels, np.int32), tuple(dirs)


def _flatten(im: Image.Image, channels: int) -> Image.Image:
    """Any PIL mode -> "RGB" or "L"; transparent pixels become white (product-photo backdrop)."""
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        im = Image.alpha_composite(Image.new("RGBA", im.size, (255, 255, 255, 255)),
                                   im.convert("RGBA"))
    elif im.mode.startswith("I"):  # 16-bit grey PNG: keep the top 8 bits (convert would clip)
        im = Image.fromarray((np.asarray(im, np.uint32) >> 8).clip(0, 255).astype(np.uint8))
    return im.convert("RGB" if channels == 3 else "L")


def load_image(path: pathlib.Path, resolution: int, channels: int) -> np.ndarray:
    """One photo as uint8 [resolution, resolution, channels]; DataError naming the file."""
    try:
        with Image.open(path) as im:
            # JPEG only: decode at the smallest 1/2^k scale still >= the target (much faster).
            im.draft("RGB" if channels == 3 else "L", (resolution, resolution))
            im = _flatten(ImageOps.exif_transpose(im), channels)
        w, h = im.size
        side = min(w, h)
        box = ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)  # centred square
        im = im.resize((resolution, resolution), Image.Resampling.LANCZOS, box=box)
    except Exception as e:  # a user's file can fail anywhere in the decoder
        raise DataError(f"{path} cannot be read as an image ({type(e).__name__}: {e}): it is "
                        f"corrupt or not an image. Delete or replace it, or move it out of "
                        f"data.root.") from e
    return np.asarray(im, np.uint8).reshape(resolution, resolution, channels)


def cache_path(root: pathlib.Path, files, resolution: int, channels: int,
               cache_dir: str | None) -> pathlib.Path:
    """<cache_dir>/<folder>-<hash of path>-<res>px<ch>c-<hash of file list + stats>.npz"""
    listing = []
    for f in files:
        st = f.stat()
        listing.append([str(f.relative_to(root)), st.st_size, st.st_mtime_ns])
    content = json.dumps([CACHE_VERSION, str(root), resolution, channels, listing])
    digest = hashlib.sha256(content.encode()).hexdigest()[:16]
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", root.name)[:40] or "root"
    prefix = f"{slug}-{hashlib.sha256(str(root).encode()).hexdigest()[:8]}-{resolution}px{channels}c"
    folder = pathlib.Path(cache_dir).expanduser() if cache_dir else CACHE_DIR
    return folder / f"{prefix}-{digest}.npz"


def read_cache(path: pathlib.Path, n: int, resolution: int, channels: int):
    """(x, y, class names) from a cache file, or None when it is missing or unusable."""
    try:
        with np.load(path, allow_pickle=False) as z:
            x, y, names = z["x"], z["y"], tuple(str(s) for s in z["class_names"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:  # missing, partial, foreign
        if path.exists():
            log.warning("image_folder: ignoring unreadable cache %s (%s); rebuilding it", path, e)
        return None
    if x.shape != (n, resolution, resolution, channels) or x.dtype != np.uint8 or y.shape != (n,):
        return None
    return x, y.astype(np.int32), names


def write_cache(path: pathlib.Path, x: np.ndarray, y: np.ndarray, names) -> None:
    """Atomic write (temporary file, then rename); stale caches of the same folder and settings
    are removed. A cache folder that cannot be written only costs decoding again next time."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, x=x, y=y, class_names=np.asarray(names, dtype=str))
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a shared cache_dir should be readable
        os.replace(tmp, path)
        tmp = None
        prefix = path.name.rsplit("-", 1)[0]  # same folder, resolution and channels
        for old in path.parent.glob(prefix + "-*.npz"):
            if old != path and re.fullmatch(re.escape(prefix) + r"-[0-9a-f]{16}\.npz", old.name):
                old.unlink(missing_ok=True)
    except OSError as e:
        log.warning("image_folder: could not write the cache %s (%s); set data.cache_dir to a "
                    "writable folder to avoid decoding the photos on every run", path, e)
    finally:
        if tmp is not None:
            pathlib.Path(tmp).unlink(missing_ok=True)


def load_numpy(root, resolution: int = 64, channels: int = 3, cache_dir: str | None = None):
    """(images uint8 [n, r, r, channels], labels int32 [n], class names), from the cache when the
    folder has not changed since it was written."""
    folder = check_settings(root, resolution, channels)
    try:
        files, labels, names = list_images(folder)
        path = cache_path(folder, files, resolution, channels, cache_dir)
    except OSError as e:  # unreadable folder, dangling link: the message names the path
        raise DataError(f"data.root={root} cannot be listed ({e}); check its permissions and "
                        f"links, or move the file named out of the folder.") from e
    cached = read_cache(path, len(files), resolution, channels)
    if cached is not None and cached[2] == names and np.array_equal(cached[1], labels):
        return cached
    log.info("image_folder: decoding %d photos from %s at %dpx (once; cached in %s)",
             len(files), folder, resolution, path)
    start = time.perf_counter()
    x = np.empty((len(files), resolution, resolution, channels), np.uint8)
    # Pillow releases the GIL while it decodes and resizes, so threads decode in parallel;
    # `map` yields in order, so the first bad file in the listing is the one reported.
    pool = concurrent.futures.ThreadPoolExecutor(max(1, min(8, os.cpu_count() or 1)))
    try:
        for i, image in enumerate(pool.map(lambda f: load_image(f, resolution, channels), files)):
            x[i] = image
    finally:
        pool.shutdown(cancel_futures=True)  # after a bad file, do not decode the rest
    log.info("image_folder: decoded %d photos in %.1f s", len(files), time.perf_counter() - start)
    write_cache(path, x, labels, names)
    return x, labels, names


def to_signed_float(x: jax.Array) -> jax.Array:
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return x.astype(jnp.float32) / 127.5 - 1.0


def build(root, resolution: int = 64, channels: int = 3, cache_dir: str | None = None) -> Dataset:
    images, labels, names = load_numpy(root, resolution, channels, cache_dir)
    arrays = {"x": jnp.asarray(images), "y": jnp.asarray(labels)}

    def sample(arrays, key, n):
        return sample_by_index(arrays, key, n, to_signed_float)

    return Dataset(name="image_folder", arrays=arrays, sample=sample,
                   shape=(resolution, resolution, channels), value_range=(-1.0, 1.0),
                   class_names=names)
