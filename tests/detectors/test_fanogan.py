"""f-AnoGAN: its score on a toy case with a known answer, the detect/score commands, and that
test images never influence the detector."""

import shutil

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from gan_jax import detect as detect_cli
from gan_jax import score as score_cli
from gan_jax.data import fashion_mnist
from gan_jax.detectors import fanogan
from gan_jax.models import GAN, Critic
from gan_jax.training import loop
from gan_jax.training.state import GANState
from tests.conftest import EVERY_100, TINY_DCGAN, make_cfg, write_fake_fashion_mnist

W = jnp.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0]])  # G(z) = W z: a 2-d plane in 4-d


class LinearG(nn.Module):
    @nn.compact
    def __call__(self, z, y=None, train=True):
        return (z @ W.T).reshape(len(z), 2, 2, 1)


class Projector(nn.Module):  # the exact inverse of G on its range
    @nn.compact
    def __call__(self, x):
        return x.reshape(len(x), -1) @ jnp.linalg.pinv(W).T


class Flatten(nn.Module):  # D's features = the image itself
    @nn.compact
    def __call__(self, x, train=True):
        return x.reshape(len(x), -1)


def test_score_is_the_residual_off_the_generators_range():
    critic = Critic(Flatten())
    gan = GAN(LinearG(), critic, latent_dim=2)
    x = jnp.zeros((1, 2, 2, 1))
    d_params = critic.init(jax.random.PRNGKey(0), x)["params"]
    state = GANState(jnp.zeros((), jnp.int32), jax.random.PRNGKey(0), {}, {}, d_params, {}, None,
                     None, None)
    on_range = jnp.array([[3.0, -1.0, 0.0, 0.0]]).reshape(1, 2, 2, 1)
    off = jnp.array([[3.0, -1.0, 2.0, 0.0]]).reshape(1, 2, 2, 1)  # residual (0, 0, 2, 0)
    kappa = 0.5
    scores = fanogan.anomaly_score(gan, Projector(), state, {}, jnp.concatenate([on_range, off]), kappa)
    # pixel residual mean(e^2) = 4/4; the features (the image) residual is the same: 1 + kappa * 1
    assert np.allclose(scores, [0.0, 1.0 + kappa * 1.0], atol=1e-6)


def one_class_run(tmp_path, root, categories=(0, 7)):
    cfg = make_cfg([*TINY_DCGAN, *EVERY_100, f"data.root={root}", "loss=wgan_gp",
                    "trainer.steps=100", f"trainer.population={len(categories)}",
                    f"data.category=[{','.join(map(str, categories))}]", "eval.reference_samples=64"])
    loop.train(cfg, tmp_path)
    return tmp_path


def test_detect_trains_every_member_and_test_images_never_change_the_encoders(tmp_path, capsys):
    root = write_fake_fashion_mnist(tmp_path / "a", n=256)
    other = tmp_path / "b"
    shutil.copytree(root, other)
    write_fake_fashion_mnist(tmp_path / "c", n=256, seed=5)  # other test images, same training set
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(tmp_path / "c" / name, other / name)
    run = one_class_run(tmp_path / "run", root)
    assert detect_cli.main([f"run_dir={run}", "detector.steps=100", "detector.width=8",
                            "detector.fc_width=16"]) == 0
    first = (run / "detector" / "fanogan" / "encoder.msgpack").read_bytes()
    aurocs = [m["auroc"] for m in detect_cli.detect(detect_cli.DetectConfig(
        str(run), None, {"steps": 100, "width": 8, "fc_width": 16}))["members"]]
    # Catches normal/anomalous labels inverted, a member scored against another's category, or
    # detect scoring other pixels than `score` does: each member's AUROC is the Mann-Whitney
    # statistic of the `score` command's scores on the test images, category c the normal class.
    images, labels = fashion_mnist.load_numpy("test", str(root))
    np.save(tmp_path / "test.npy", images)
    for member, category in enumerate((0, 7)):
        out = tmp_path / f"test_scores{member}.csv"
        assert score_cli.main([f"run_dir={run}", f"images={tmp_path / 'test.npy'}",
                               f"member={member}", f"out={out}"]) == 0
        scores = np.array([float(r.split(",")[1]) for r in out.read_text().splitlines()[1:]])
        normal, anomalous = scores[labels == category], scores[labels != category]
        pairs = anomalous[:, None] - normal[None, :]
        above = (pairs > 0).mean() + 0.5 * (pairs == 0).mean()
        assert aurocs[member] == pytest.approx(above, abs=1e-6)
    assert len(set(aurocs)) == 2  # two different detectors, not one reported twice
    # The same run reading other test files: identical encoders (the test split is only scored).
    import json
    cfg_path = run / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["data"]["root"] = str(other)
    cfg_path.write_text(json.dumps(cfg))
    assert detect_cli.main([f"run_dir={run}", "detector.steps=100", "detector.width=8",
                            "detector.fc_width=16"]) == 0
    assert (run / "detector" / "fanogan" / "encoder.msgpack").read_bytes() == first
    capsys.readouterr()

    # Scoring: a .npy batch and a folder; bad inputs exit 2 with one message.
    np.save(tmp_path / "ok.npy", np.zeros((3, 28, 28), np.uint8))
    assert score_cli.main([f"run_dir={run}", f"images={tmp_path / 'ok.npy'}", "member=1"]) == 0
    lines = (run / "detector" / "fanogan" / "scores_member1.csv").read_text().splitlines()
    assert lines[0] == "input,score" and len(lines) == 4
    np.save(tmp_path / "big.npy", np.zeros((3, 32, 32), np.uint8))
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (28, 28)).save(folder / "colour.png")
    empty = tmp_path / "empty"
    empty.mkdir()
    for images, message in ((tmp_path / "big.npy", "has shape (3, 32, 32)"),
                            (folder, "has 3 channels"), (empty, "is an empty folder")):
        assert score_cli.main([f"run_dir={run}", f"images={images}"]) == 2
        assert message in capsys.readouterr().err
    (folder / "colour.png").unlink()
    (folder / "notes.txt").write_text("x")
    assert score_cli.main([f"run_dir={run}", f"images={folder}"]) == 2
    assert "is not an image" in capsys.readouterr().err
    assert score_cli.main([f"run_dir={run}", f"images={tmp_path / 'ok.npy'}", "member=4"]) == 2


def test_detect_refuses_a_run_not_trained_on_one_category(tmp_path, fake_fmnist, capsys):
    cfg = make_cfg([*TINY_DCGAN, *EVERY_100, f"data.root={fake_fmnist}", "trainer.steps=100",
                    "eval.reference_samples=64"])
    loop.train(cfg, tmp_path / "all")
    assert detect_cli.main([f"run_dir={tmp_path / 'all'}"]) == 2
    assert "not trained on one category" in capsys.readouterr().err
    assert score_cli.main([f"run_dir={tmp_path / 'all'}", "images=x.npy"]) == 2
    assert "has no fanogan detector" in capsys.readouterr().err
    with pytest.raises(Exception, match="detector.steps=0"):
        detect_cli.settings({"steps": 0})


def test_ganomaly_detector_needs_a_ganomaly_run(tmp_path, fake_fmnist, capsys):
    run = one_class_run(tmp_path / "run", fake_fmnist)
    assert detect_cli.main([f"run_dir={run}", "detector.name=ganomaly"]) == 2
    assert "detector=ganomaly scores a model=ganomaly run" in capsys.readouterr().err
    assert detect_cli.main([f"run_dir={run}", "detector.name=nope"]) == 2
    assert "detector.name=nope is unknown" in capsys.readouterr().err
