"""data=image_folder: a user's folder of photos, decoded once into a cached uint8 array."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from gan_jax import data as data_lib
from gan_jax.data import image_folder
from gan_jax.config.validate import validate
from gan_jax.errors import ConfigError, DataError
from gan_jax.training import setup as setup_lib
from gan_jax.training.state import apply_model, generate
from tests.conftest import TINY_DCGAN, make_cfg

RED, BLUE = (255, 0, 0), (0, 0, 255)


def noise(size, mode="RGB", seed=0):
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0]) + ((3,) if mode == "RGB" else ())
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


def write_photos(root):
    """Two categories, mixed sizes and formats, an RGB and a grey one, plus ignored junk."""
    (root / "bags").mkdir(parents=True)
    (root / "shoes" / "2024").mkdir(parents=True)  # deeper folders belong to their category
    noise((50, 40)).save(root / "bags" / "a.jpg", quality=95)
    noise((33, 61), seed=1).save(root / "bags" / "b.PNG")
    noise((64, 64), "L", seed=2).save(root / "shoes" / "c.png")  # greyscale
    noise((90, 45), seed=3).save(root / "shoes" / "d.webp")
    noise((40, 40), seed=4).save(root / "shoes" / "2024" / "e.jpeg")
    (root / ".DS_Store").write_bytes(b"\0junk")
    (root / "bags" / "._a.jpg").write_bytes(b"AppleDouble junk")  # hidden: not an image
    (root / "shoes" / "Thumbs.db").write_bytes(b"junk")
    return root


@pytest.fixture
def photos(tmp_path):
    return write_photos(tmp_path / "photos")


@pytest.fixture
def cache(tmp_path):
    return str(tmp_path / "cache")


def count_opens(monkeypatch):
    opened = []
    real_open = Image.open

    def counting_open(fp, *args, **kwargs):
        opened.append(fp)
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    return opened


def test_shapes_labels_and_class_names(photos, cache):
    x, y, names = image_folder.load_numpy(str(photos), 32, 3, cache)
    assert x.shape == (5, 32, 32, 3) and x.dtype == np.uint8
    assert names == ("bags", "shoes")
    assert y.tolist() == [0, 0, 1, 1, 1] and y.dtype == np.int32
    # Order: bags/a.jpg, bags/b.PNG, shoes/c.png (grey), shoes/d.webp, shoes/2024/e.jpeg.
    assert np.array_equal(x[2][..., 0], x[2][..., 2]) and x[2].std() > 10  # grey -> equal RGB
    assert not np.array_equal(x[0][..., 0], x[0][..., 2])
    x1, y1, _ = image_folder.load_numpy(str(photos), 32, 1, cache)
    assert x1.shape == (5, 32, 32, 1) and np.array_equal(y1, y)


def test_device_sampling_in_signed_range(photos, cache):
    ds = image_folder.build(str(photos), 32, 3, cache)
    assert ds.shape == (32, 32, 3) and ds.value_range == (-1.0, 1.0) and ds.num_examples == 5
    sample = jax.jit(ds.sample, static_argnums=2)
    x, y = sample(ds.arrays, jax.random.PRNGKey(0), 64)
    x2, _ = sample(ds.arrays, jax.random.PRNGKey(0), 64)
    assert x.shape == (64, 32, 32, 3) and x.dtype == np.float32 and y.shape == (64,)
    assert float(x.min()) >= -1.0 and float(x.max()) <= 1.0 and float(x.min()) < -0.9
    assert np.array_equal(x, x2) and set(np.asarray(y).tolist()) == {0, 1}


def test_config_keys_all_reach_the_loader(photos, tmp_path):
    cfg = make_cfg(["data=image_folder", f"data.root={photos}", "data.resolution=32",
                    "data.channels=1", f"data.cache_dir={tmp_path / 'c'}"])["data"]
    assert set(cfg) == {"name", "root", "resolution", "channels", "cache_dir", "conditional"}
    ds = data_lib.build(cfg)
    assert ds.name == "image_folder" and ds.shape == (32, 32, 1)
    assert len(list((tmp_path / "c").glob("photos-*-32px1c-*.npz"))) == 1


def test_cache_is_reused_and_rebuilt_when_files_change(photos, cache, monkeypatch):
    opened = count_opens(monkeypatch)
    x, _, _ = image_folder.load_numpy(str(photos), 32, 3, cache)
    assert len(opened) == 5
    opened.clear()
    x2, _, _ = image_folder.load_numpy(str(photos), 32, 3, cache)
    assert opened == [] and np.array_equal(x, x2)  # no decoding the second time
    # A changed photo (new content and size) is noticed; stale caches are removed.
    noise((70, 70), seed=9).save(photos / "bags" / "a.jpg")
    x3, _, _ = image_folder.load_numpy(str(photos), 32, 3, cache)
    assert len(opened) == 5 and not np.array_equal(x3[0], x[0])
    assert len(os.listdir(cache)) == 1  # one .npz, no leftover temporary file
    # A new photo too; another resolution is a separate cache.
    opened.clear()
    noise((20, 20), seed=5).save(photos / "bags" / "z.png")
    assert image_folder.load_numpy(str(photos), 32, 3, cache)[0].shape[0] == 6
    assert image_folder.load_numpy(str(photos), 64, 3, cache)[0].shape == (6, 64, 64, 3)
    assert len(os.listdir(cache)) == 2


def test_corrupt_cache_is_rebuilt(photos, cache):
    x, _, _ = image_folder.load_numpy(str(photos), 32, 3, cache)
    (path,) = [os.path.join(cache, n) for n in os.listdir(cache)]
    with open(path, "wb") as f:
        f.write(b"PK\x03\x04 truncated")
    assert np.array_equal(image_folder.load_numpy(str(photos), 32, 3, cache)[0], x)


def test_unwritable_cache_still_loads(photos, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    x, _, _ = image_folder.load_numpy(str(photos), 32, 3, str(blocker / "cache"))
    assert x.shape == (5, 32, 32, 3)


def test_centre_crop_drops_the_long_sides(tmp_path, cache):
    a = np.zeros((40, 80, 3), np.uint8)
    a[:, :20] = a[:, 60:] = RED  # left and right quarters: cropped away
    a[:, 20:60] = BLUE
    (tmp_path / "p").mkdir()
    Image.fromarray(a).save(tmp_path / "p" / "wide.png")
    Image.fromarray(a.transpose(1, 0, 2)).save(tmp_path / "p" / "tall.png")  # top/bottom red
    x, y, names = image_folder.load_numpy(str(tmp_path / "p"), 32, 3, cache)
    assert names == () and y.tolist() == [0, 0]  # unlabelled
    # Resampling reads a few pixels past the crop box: at most a faint tint at the border.
    assert x[..., 0].max() < 16 and x[..., 2].min() > 240


def test_exif_orientation_and_transparency(tmp_path, cache):
    (tmp_path / "p").mkdir()
    a = np.zeros((32, 32, 3), np.uint8)
    a[:, :16], a[:, 16:] = RED, BLUE
    exif = Image.Exif()
    exif[0x0112] = 3  # rotated 180 degrees: the camera's left is the viewer's right
    Image.fromarray(a).save(tmp_path / "p" / "a_rotated.png", exif=exif)
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(tmp_path / "p" / "b_clear.png")
    x, _, _ = image_folder.load_numpy(str(tmp_path / "p"), 32, 3, cache)
    assert tuple(x[0, 5, 2]) == BLUE and tuple(x[0, 5, 29]) == RED
    assert (x[1] == 255).all()  # transparent -> white backdrop


@pytest.mark.parametrize("name, content", [("broken.jpg", b"\xff\xd8\xff not really a jpeg"),
                                           ("truncated.png", None), ("notes.txt", b"hello")])
def test_corrupt_or_non_image_file_is_named(photos, cache, name, content):
    path = photos / "shoes" / name
    if content is None:
        noise((40, 40)).save(path)
        path.write_bytes(path.read_bytes()[:100])
    else:
        path.write_bytes(content)
    with pytest.raises(DataError) as e:
        image_folder.load_numpy(str(photos), 32, 3, cache)
    assert str(path) in str(e.value)
    assert not os.path.exists(cache) or os.listdir(cache) == []  # no cache from a failed build


@pytest.mark.parametrize("layout, message", [
    ({}, "holds no images"),
    ({".hidden.jpg": "x"}, "holds no images"),
    ({"bags/": None, "shoes/a.png": "img"}, "holds no images; add photos"),
    ({"bags/a.png": "img", "loose.png": "img"}, "lies directly in data.root"),
])
def test_folder_layout_errors(tmp_path, cache, layout, message):
    root = tmp_path / "p"
    root.mkdir()
    for rel, content in layout.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith("/"):
            (root / rel).mkdir(exist_ok=True)
        elif content == "img":
            noise((8, 8)).save(root / rel)
        else:
            (root / rel).write_text(content)
    with pytest.raises(DataError, match=message):
        image_folder.load_numpy(str(root), 32, 3, cache)


def test_dangling_link_is_named(tmp_path, cache):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    with pytest.raises(DataError, match="gone.jpg"):
        image_folder.load_numpy(str(tmp_path / "p"), 32, 3, cache)


def test_missing_root_and_bad_settings(tmp_path, photos, cache):
    with pytest.raises(ConfigError, match="data.root is not set"):
        data_lib.build(make_cfg(["data=image_folder"])["data"])
    with pytest.raises(DataError, match="does not exist"):
        image_folder.load_numpy(str(tmp_path / "nowhere"), 32, 3, cache)
    with pytest.raises(DataError, match="is a file"):
        image_folder.load_numpy(str(photos / "bags" / "a.jpg"), 32, 3, cache)
    for bad, problem in ((30, "must be a positive multiple of 4"), (0, "must be a positive multiple"),
                         (-4, "must be a positive multiple"), ("true", "must be an integer"),
                         ("'64'", "must be an integer"), (32.0, "must be an integer")):
        with pytest.raises(ConfigError, match=f"data.resolution=.* {problem}"):
            validate(make_cfg(["data=image_folder", f"data.root={photos}", f"data.resolution={bad}"]))
    for bad in (2, 4):
        with pytest.raises(ConfigError, match="data.channels=.* must be one of 1, 3"):
            validate(make_cfg(["data=image_folder", f"data.root={photos}", f"data.channels={bad}"]))
    with pytest.raises(ConfigError, match="data.root=null must be set: data=image_folder needs the folder"):
        validate(make_cfg(["data=image_folder"]))


def image_cfg(root, cache, *overrides):
    return make_cfg(["data=image_folder", f"data.root={root}", f"data.cache_dir={cache}",
                     *overrides])


@pytest.mark.parametrize("model", [TINY_DCGAN, ["model=resnet", "model.g_width=8", "model.d_width=8"]])
@pytest.mark.parametrize("resolution", [32, 64])
def test_models_build_at_32_and_64(photos, cache, model, resolution):
    s = setup_lib.build(image_cfg(photos, cache, *model, f"data.resolution={resolution}",
                                  "data.conditional=true"))
    z, y = jax.numpy.zeros((2, s.gan.latent_dim)), jax.numpy.arange(2)
    x = jax.eval_shape(lambda st: generate(s.gan, st, z, y), jax.eval_shape(s.init_state))
    assert x.shape == (2, resolution, resolution, 3) and s.gan.num_classes == 2


def test_conditional_on_unlabelled_folder_is_refused(tmp_path, cache):
    (tmp_path / "p").mkdir()
    noise((16, 16)).save(tmp_path / "p" / "a.png")
    with pytest.raises(ConfigError, match="data.conditional=true needs labelled data"):
        setup_lib.build(image_cfg(tmp_path / "p", cache, *TINY_DCGAN, "data.resolution=32",
                                  "data.conditional=true"))


EVERY_5 = ["trainer.steps=10", "trainer.log_every=5", "trainer.sample_every=5", "trainer.eval_every=5",
           "trainer.checkpoint_every=5", "trainer.eval_samples=16", "trainer.progress=false"]


def test_cli_trains_conditional_dcgan_at_32(photos, tmp_path):
    """The entry point end to end: about 20 s of CPU (a fresh interpreter compiling the step)."""
    from tests.test_train_cli import run_cli

    run_dir = tmp_path / "run"
    r = run_cli(*TINY_DCGAN, "data=image_folder", f"data.root={photos}", "data.resolution=32",
                f"data.cache_dir={tmp_path / 'cache'}", "data.conditional=true", *EVERY_5,
                f"hydra.run.dir={run_dir}")
    assert r.returncode == 0, r.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["step"] == 10
    assert summary["eval"] == {} and summary["latest_checkpoint"] == 10  # no metrics for photos
    grid = np.asarray(Image.open(run_dir / "samples.png"))
    assert grid.ndim == 3 and grid.std() > 1  # one named row per category


def test_cli_names_the_missing_root(tmp_path):
    from tests.test_train_cli import run_cli

    r = run_cli(*TINY_DCGAN, "data=image_folder", f"hydra.run.dir={tmp_path / 'run'}")
    assert r.returncode == 2
    assert "data.root=null must be set: data=image_folder needs the folder of your photos" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "run" / "checkpoints").exists()


@pytest.mark.slow  # compiling each step takes 15-45 s on 2 cores
@pytest.mark.parametrize("model", [TINY_DCGAN, ["model=resnet", "model.g_width=8", "model.d_width=8",
                                                "trainer.batch_size=8", "loss=hinge"]])
@pytest.mark.parametrize("resolution", [32, 64])
def test_models_train_a_step_at_32_and_64(photos, cache, model, resolution):
    # Catches a model that ignores data.resolution (draws at another size, or in grey), or
    # whose G or D ignores the category it is given: both must change with the label.
    s = setup_lib.build(image_cfg(photos, cache, *model, f"data.resolution={resolution}",
                                  "data.conditional=true"))
    state, metrics = jax.jit(s.step)(s.init_state(), s.data.arrays)
    assert all(np.isfinite(v) for v in jax.device_get(metrics).values())
    z = jnp.repeat(s.gan.sample_latent(jax.random.PRNGKey(0), 1), 2, axis=0)
    labels = jnp.array([0, 1])
    x = generate(s.gan, state, z, labels)
    assert x.shape == (2, resolution, resolution, 3) and not np.allclose(x[0], x[1])
    same = jnp.repeat(x[:1], 2, axis=0)
    logits = apply_model(s.gan.discriminator, state.d_params, state.d_state, same, labels,
                         train=False)[0].logits
    assert not np.allclose(logits[0], logits[1])
