"""A refused `python -m gan_jax.train` (exit 2) leaves nothing behind, even when the error comes
after logging began (data=image_folder logs "decoding N photos" before it meets a bad file); an
existing run refused on resume keeps everything it had."""

import pytest
from PIL import Image

from tests.conftest import TINY_DCGAN
from tests.test_train_cli import run_cli


def photo_folder(root, bad_name, bad_bytes):
    """Two good photos in one category and a bad file beside them."""
    (root / "bags").mkdir(parents=True)
    for i in range(2):
        Image.new("RGB", (40, 40), (40 * i, 0, 0)).save(root / "bags" / f"ok{i}.jpg")
    path = root / "bags" / bad_name
    path.write_bytes(bad_bytes(root / "bags" / "ok0.jpg"))
    return path


BAD_FILES = {
    "truncated JPEG": ("cut.jpg", lambda good: good.read_bytes()[:200]),
    "zero-byte file": ("empty.jpg", lambda good: b""),
    "text named .jpg": ("notes.jpg", lambda good: b"not a photo"),
}


def refused(tmp_path, kind, run_dir, *extra):
    name, content = BAD_FILES[kind]
    bad = photo_folder(tmp_path / "photos", name, content)
    r = run_cli(*TINY_DCGAN, "data=image_folder", f"data.root={tmp_path / 'photos'}",
                "data.resolution=32", f"data.cache_dir={tmp_path / 'cache'}", "trainer.steps=5",
                "trainer.log_every=5", "trainer.progress=false", f"hydra.run.dir={run_dir}", *extra)
    assert r.returncode == 2, r.stderr[-2000:]
    assert str(bad) in r.stderr and "Traceback" not in r.stderr
    return r


@pytest.mark.parametrize("kind", ["truncated JPEG", "zero-byte file"])
def test_a_refused_fresh_run_leaves_no_directory_and_no_train_log(tmp_path, kind):
    # Catches: the "decoding N photos" line created <run>/train.log, so the refused run left a
    # run directory behind.
    refused(tmp_path, kind, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_refused_resume_keeps_the_existing_run(tmp_path):
    # Catches: cleaning up after a refusal removing a run that existed before this invocation.
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints" / "5").mkdir(parents=True)
    (run_dir / "train.log").write_text("the earlier run's log\n")
    refused(tmp_path, "text named .jpg", run_dir, "trainer.resume=true")
    assert (run_dir / "checkpoints" / "5").is_dir()
    assert (run_dir / "train.log").read_text().startswith("the earlier run's log")
