"""Every command on every model family: each pair does its job or exits 2 with one readable line.

`EXPECTED` holds one row per (family, command), and `test_the_table_covers_every_family_and_command`
checks that its rows are exactly FAMILIES x COMMANDS, that every model option belongs to a family
and that every `gan_jax.*` entry point is a command: a new family (text, series) or a new command
fails until its row is written. Each family trains one tiny run, once, through
`python -m gan_jax.train` (the train row), and `MORE_RUNS` a few more of its models, held to the
same rows; the other commands run in this process on each run.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import json
import os
import pathlib
import shutil
import subprocess
import sys
from typing import Callable

import numpy as np
import pytest

from gan_jax import data as data_lib
from gan_jax import models
from tests.conftest import (ROOT, TINY_CFGAN, TINY_DCGAN, TINY_RCGAN, TINY_SERIES, TINY_LM, TINY_TEXT,
                            write_fake_cdnow, write_fake_fashion_mnist, write_fake_movielens)

COMMANDS = ("train", "sample", "evaluate", "recommend", "detect", "score", "score_reviews", "stockout")
# Ten steps, every output (sample grid, evaluation, checkpoint) written once at the end.
SHORT = ["trainer.steps=10", "trainer.log_every=10", "trainer.sample_every=10",
         "trainer.eval_every=10", "trainer.checkpoint_every=10", "trainer.eval_samples=20",
         "trainer.progress=false", "eval.reference_samples=64"]


@dataclasses.dataclass(frozen=True)
class Family:
    models: tuple[str, ...]  # the model options of this family
    train: Callable[[pathlib.Path], list[str]]  # tiny training overrides, data written in a folder


FAMILIES = {
    # One category, so that the f-AnoGAN detector applies to it as well.
    "image": Family(("dcgan", "mlp", "resnet"), lambda d: [
        *TINY_DCGAN, f"data.root={write_fake_fashion_mnist(d / 'fmnist')}", "data.category=0"]),
    "table": Family(("tabular",), lambda d: [
        "data=cdnow", f"data.root={write_fake_cdnow(d / 'cdnow')}", "model=tabular",
        "model.g_hidden=[16]", "model.d_hidden=[16]", "model.latent_dim=8", "trainer.batch_size=10"]),
    "recommender": Family(("cfgan",), lambda d: [
        *TINY_CFGAN, f"data.root={write_fake_movielens(d / 'ml')}"]),
    "anomaly": Family(("ganomaly",), lambda d: [
        "model=ganomaly", "model.width=4", "model.fc_width=16", "model.latent_dim=8",
        "trainer.batch_size=8", f"data.root={write_fake_fashion_mnist(d / 'fmnist')}",
        "data.category=3"]),
    # Ten steps cross both phase boundaries (autoencoder 2, supervised 2, joint 6).
    "series": Family(("timegan", "rcgan"), lambda d: TINY_SERIES),
    # Ten steps cross the phase boundary (maximum likelihood 2, adversarial 8).
    "text": Family(("relgan", "lm"), lambda d: TINY_TEXT),
}
# Further runs, each held to its family's rows: name -> (family, training overrides). RCGAN
# continuing the first 2 of 6 steps: the plain step, and sampling and evaluation that ask G to
# continue held-out windows.
MORE_RUNS = {"series_rcgan": ("series", lambda d: [*TINY_RCGAN, "model.prefix_steps=2"]),
             "text_lm": ("text", lambda d: TINY_LM)}
RUNS = {**{name: (name, family.train) for name, family in FAMILIES.items()}, **MORE_RUNS}


@dataclasses.dataclass(frozen=True)
class Does:
    """Exit 0, and `check(run_dir, stdout)` finds the job done. `{images}` in argv: a .npy of
    three uint8 28x28 images; `first`: (command, argv, file) run before unless the run has
    that file, e.g. the detector that score needs."""
    argv: tuple[str, ...] = ()
    check: Callable[[pathlib.Path, str], None] = lambda run, out: None
    first: tuple[str, tuple[str, ...], str] | None = None


@dataclasses.dataclass(frozen=True)
class Refuses:
    """Exit 2 and one line on stderr, holding `says`."""
    argv: tuple[str, ...]
    says: str


def trained(run: pathlib.Path, out: str) -> None:
    assert json.loads((run / "summary.json").read_text())["status"] == "completed"


def wrote(pattern: str, test: Callable = lambda path: None) -> Callable:
    def check(run: pathlib.Path, out: str) -> None:
        found = sorted(run.glob(pattern))
        assert found, f"{pattern} not written in {run}"
        test(found[-1])
    return check


def evaluated_on(n: int, metric: str) -> Callable:
    def check(run: pathlib.Path, out: str) -> None:
        result = json.loads((run / "eval" / f"step10_n{n}.json").read_text())
        assert result["samples"] == n and metric in result["metrics"]
    return check


def series_samples(path: pathlib.Path) -> None:
    """4 sequences of 6 steps and 3 features; a prefix model's begin with the first 4 held-out
    sequences' prefixes (in the data's units, after the model's scaling and back)."""
    x = np.load(path)
    assert x.shape == (4, 6, 3)
    cfg = json.loads((path.parents[1] / "config.json").read_text())
    w = cfg["model"].get("prefix_steps", 0)
    if w:
        heldout = data_lib.build(cfg["data"]).series.heldout
        np.testing.assert_allclose(x[:, :w], heldout[:4, :w], rtol=1e-5, atol=1e-6)


def sentences(n: int, begin: str = "") -> Callable[[pathlib.Path], None]:
    def check(path: pathlib.Path) -> None:
        lines = path.read_text().splitlines()
        assert len(lines) == n and all(line.startswith(begin) for line in lines), lines
    return check


def rows(n: int) -> Callable[[pathlib.Path], None]:
    return lambda path: len(path.read_text().splitlines()) == n + 1 or pytest.fail(path.read_text())


NOT_A_RECOMMENDER = Refuses(("user=1",), "not a recommender; train one with experiment=cfgan_ml100k")
NOT_ONE_CATEGORY = Refuses((), "was not trained on one category")
NO_DETECTOR = Refuses(("images={images}",), "has no fanogan detector")
NOT_M5 = Refuses(("series=FOODS_1_001_CA_1", "stock=5"),
                 "demand paths need a data=m5 (or sales_table) model=rcgan run")
NOT_TEXT = Refuses(("reviews={reviews}",), "run, not a text run; its discriminator reads no reviews")
TINY_FANOGAN = ("detector.steps=1", "detector.width=4", "detector.fc_width=8")

# (family, command) -> what the command does on that family's run (a tuple: several cases).
EXPECTED = {
    ("image", "train"): Does(check=trained),
    ("image", "sample"): Does(("n=4", "npy=true"), wrote(
        "samples/step10_n4.npy", lambda p: np.load(p).shape == (4, 28, 28, 1) or pytest.fail())),
    ("image", "evaluate"): Does(("samples=12",), evaluated_on(12, "fd")),
    ("image", "recommend"): NOT_A_RECOMMENDER,
    ("image", "detect"): (Does(TINY_FANOGAN, wrote("detector/fanogan/results.json")),
                          Refuses(("detector.name=ganomaly",),
                                  "detector=ganomaly scores a model=ganomaly run")),
    ("image", "score"): Does(("images={images}",), wrote("detector/fanogan/scores_member0.csv", rows(3)),
                             first=("detect", TINY_FANOGAN, "detector/fanogan/results.json")),
    ("image", "score_reviews"): NOT_TEXT,
    ("image", "stockout"): NOT_M5,
    ("table", "train"): Does(check=trained),
    ("table", "sample"): Does(("n=5",), wrote("samples/step10_n5.csv", rows(5))),
    # Bug: samples=N was ignored (the table was as large as the training rows).
    ("table", "evaluate"): Does(("samples=30",), evaluated_on(30, "quality")),
    ("table", "recommend"): NOT_A_RECOMMENDER,
    ("table", "detect"): NOT_ONE_CATEGORY,
    ("table", "score"): NO_DETECTOR,
    ("table", "score_reviews"): NOT_TEXT,
    ("table", "stockout"): NOT_M5,
    ("recommender", "train"): Does(check=trained),
    # Bug: a TypeError.
    ("recommender", "sample"): Refuses((), "is a recommender (model=cfgan)"),
    # Bug: samples=N was ignored (every training row is ranked, whatever N).
    ("recommender", "evaluate"): (Does((), wrote("eval/step10_n*.json")),
                                  Refuses(("samples=30",), "samples=30 does not apply")),
    ("recommender", "recommend"): Does(("user=1", "n=3"),
                                       lambda run, out: "top 3 unseen items" in out or pytest.fail(out)),
    ("recommender", "detect"): NOT_ONE_CATEGORY,
    ("recommender", "score"): NO_DETECTOR,
    ("recommender", "score_reviews"): NOT_TEXT,
    ("recommender", "stockout"): NOT_M5,
    ("anomaly", "train"): Does(check=trained),
    # Bug: an AttributeError.
    ("anomaly", "sample"): Refuses((), "is an anomaly detector (model=ganomaly)"),
    # Bug: an AttributeError (the evaluator has no conditions).
    ("anomaly", "evaluate"): Does(("samples=12",), evaluated_on(12, "fd")),
    ("anomaly", "recommend"): NOT_A_RECOMMENDER,
    # Bug: the default detector (fanogan) crashed on a GANomaly run.
    ("anomaly", "detect"): (Does((), wrote("detector/ganomaly/results.json")),
                            Refuses(("detector.name=fanogan",), "use detector.name=ganomaly")),
    ("anomaly", "score"): Does(("images={images}",), wrote("detector/ganomaly/scores_member0.csv", rows(3)),
                               first=("detect", (), "detector/ganomaly/results.json")),
    ("anomaly", "score_reviews"): NOT_TEXT,
    ("anomaly", "stockout"): NOT_M5,
    ("series", "train"): Does(check=trained),
    ("series", "sample"): Does(("n=4",), wrote("samples/step10_n4.npy", series_samples)),
    ("series", "evaluate"): (Does(("samples=12",), evaluated_on(12, "discriminative_heldout")),
                             Refuses(("samples=4",), "ask for at least 10")),
    ("series", "recommend"): NOT_A_RECOMMENDER,
    ("series", "detect"): NOT_ONE_CATEGORY,
    ("series", "score"): NO_DETECTOR,
    ("series", "score_reviews"): NOT_TEXT,
    ("series", "stockout"): NOT_M5,
    ("text", "train"): Does(check=trained),
    ("text", "sample"): (Does(("n=4", "temperature=0.5"), wrote("samples/step10_n4_t0.5.txt", sentences(4))),
                         Does(("n=3", "prompt=a man"), wrote("samples/step10_n3_t1.txt",
                                                             sentences(3, "a man"))),
                         Refuses(("temperature=0",), "temperature=0.0 must be positive"),
                         Refuses(("prompt=a zyzzyva",), "'zyzzyva' is not in the run's vocabulary")),
    ("text", "evaluate"): Does(("samples=12",), evaluated_on(12, "nll_gen")),
    ("text", "recommend"): NOT_A_RECOMMENDER,
    ("text", "detect"): NOT_ONE_CATEGORY,
    ("text", "score"): NO_DETECTOR,
    ("text", "score_reviews"): Does(("reviews={reviews}",), wrote("review_scores/three.csv", rows(3))),
    ("text", "stockout"): NOT_M5,
}
# Where one run of a family answers otherwise than its family's row.
EXPECTED_OF_RUN = {
    ("text_lm", "score_reviews"): Refuses(("reviews={reviews}",), "is a model=lm run: it trains no "
                                          "discriminator"),
}


def entry_points() -> set[str]:
    return {p.stem for p in (ROOT / "gan_jax").glob("*.py") if "__main__" in p.read_text()}


def test_the_table_covers_every_family_and_command():
    # Catches: a command or model family that nobody tried (the crashes this file was written for).
    assert set(COMMANDS) == entry_points()
    assert sorted(m for f in FAMILIES.values() for m in f.models) == sorted(models.NAMES)
    assert set(EXPECTED) == set(itertools.product(FAMILIES, COMMANDS))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[pathlib.Path, subprocess.CompletedProcess]]:
    """Each run of `RUNS`, trained by `python -m gan_jax.train`, all side by side."""
    root = tmp_path_factory.mktemp("every_command")
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    started = {}
    for name, (_, train) in RUNS.items():
        overrides = [*train(root / "data" / name), *SHORT, f"hydra.run.dir={root / name}"]
        started[name] = subprocess.Popen([sys.executable, "-m", "gan_jax.train", *overrides],
                                         cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)
    done = {}
    for name, proc in started.items():
        out, err = proc.communicate(timeout=600)
        done[name] = (root / name, subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    images = root / "three.npy"
    np.save(images, np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8))
    reviews = root / "three.csv"
    reviews.write_text("text\na man rides a bike .\nthe the the\nnew word zyzzyva\n")
    return {**done, "images": images, "reviews": reviews}


def one_line_error(err: str, says: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], err


def run_command(command: str, argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = importlib.import_module(f"gan_jax.{command}").main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("run, command", list(itertools.product(RUNS, COMMANDS)))
def test_every_command_on_every_family(runs, run, command, capsys):
    # Catches: a command that crashes with a traceback, or silently ignores a setting, on a model
    # family it was not written for (each bug is named at its row of EXPECTED).
    run_dir, trained_by = runs[run]
    assert trained_by.returncode == 0, trained_by.stderr[-3000:]
    assert "Traceback" not in trained_by.stderr
    expected = EXPECTED_OF_RUN.get((run, command), EXPECTED[RUNS[run][0], command])
    for case in expected if isinstance(expected, tuple) else (expected,):
        argv = [a.format(images=runs["images"], reviews=runs["reviews"]) for a in case.argv]
        if command == "train":
            case.check(run_dir, trained_by.stdout)
            continue
        if isinstance(case, Does) and case.first and not (run_dir / case.first[2]).is_file():
            code, _, err = run_command(case.first[0], [f"run_dir={run_dir}", *case.first[1]], capsys)
            assert code == 0, err
        code, out, err = run_command(command, [f"run_dir={run_dir}", *argv], capsys)
        if isinstance(case, Refuses):
            assert code == 2, (out, err)
            one_line_error(err, case.says)
        else:
            assert code == 0, err
            case.check(run_dir, out)


def detector_copy(runs, tmp_path, capsys) -> pathlib.Path:
    """A copy of the anomaly run with its GANomaly detector, free to be edited."""
    run_dir = tmp_path / "anomaly"
    shutil.copytree(runs["anomaly"][0], run_dir)
    if not (run_dir / "detector" / "ganomaly" / "results.json").is_file():
        assert run_command("detect", [f"run_dir={run_dir}", "detector.name=ganomaly"], capsys)[0] == 0
    return run_dir


def edit_data_config(run_dir: pathlib.Path, **changes) -> None:
    path = run_dir / "config.json"
    cfg = json.loads(path.read_text())
    cfg["data"].update(changes)
    path.write_text(json.dumps(cfg))


def test_a_detector_is_never_scored_on_the_images_its_gan_trained_on(runs, tmp_path, capsys):
    # Catches: detect and score accepting a one-class run trained with data.split=test, or on
    # training files that are the test files, and reporting an AUROC on the images it learnt.
    run_dir = detector_copy(runs, tmp_path, capsys)
    edit_data_config(run_dir, split="test")
    for command, argv in (("detect", ["detector.name=ganomaly"]),
                          ("score", ["detector=ganomaly", f"images={runs['images']}"])):
        code, _, err = run_command(command, [f"run_dir={run_dir}", *argv], capsys)
        assert code == 2
        one_line_error(err, "was trained with data.split=test, the images its detector is scored on")
    # The training folder's files copied over its test files: the same images on both sides.
    root = pathlib.Path(json.loads((run_dir / "config.json").read_text())["data"]["root"])
    leaked = tmp_path / "leaked"
    shutil.copytree(root, leaked)
    for kind in ("images-idx3", "labels-idx1"):
        shutil.copy(leaked / f"train-{kind}-ubyte.gz", leaked / f"t10k-{kind}-ubyte.gz")
    edit_data_config(run_dir, split="train", root=str(leaked))
    code, _, err = run_command("detect", [f"run_dir={run_dir}", "detector.name=ganomaly"], capsys)
    assert code == 2
    one_line_error(err, "128 of the 128 test images the detector is scored on are training images")


def test_score_reads_pixels_by_their_type_and_refuses_other_ranges(runs, tmp_path, capsys):
    # Catches: int64 or float pixels 0-255 in a .npy scored as if they were in [0, 1].
    run_dir = detector_copy(runs, tmp_path, capsys)
    pixels = np.load(runs["images"])
    scores = {}
    for name, array in (("uint8", pixels), ("int64", pixels.astype(np.int64)),
                        ("unit_float", pixels.astype(np.float32) / 255)):
        np.save(tmp_path / f"{name}.npy", array)
        out = tmp_path / f"{name}.csv"
        code, _, err = run_command("score", [f"run_dir={run_dir}", "detector=ganomaly",
                                             f"images={tmp_path / name}.npy", f"out={out}"], capsys)
        assert code == 0, err
        scores[name] = np.loadtxt(out, delimiter=",", skiprows=1, usecols=1)
    np.testing.assert_allclose(scores["int64"], scores["uint8"], rtol=1e-6)
    np.testing.assert_allclose(scores["unit_float"], scores["uint8"], rtol=1e-5)
    for name, array, says in (("float255", pixels.astype(np.float64), "outside [0, 1] (divide by 255)"),
                              ("int16", pixels.astype(np.int16) - 300, "outside 0-255")):
        np.save(tmp_path / f"{name}.npy", array)
        code, _, err = run_command("score", [f"run_dir={run_dir}", "detector=ganomaly",
                                             f"images={tmp_path / name}.npy"], capsys)
        assert code == 2
        one_line_error(err, says)
