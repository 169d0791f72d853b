"""Shared test helpers: composed configs and a tiny Fashion-MNIST-format dataset on disk."""

from __future__ import annotations

import gzip
import os
import pathlib
import struct

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

# The suite compiles hundreds of small programs and runs each for a few steps, where XLA's
# backend optimisation costs more than it saves (about a third of the fast suite's time). Set
# before JAX creates its backend; `run_cli(..., optimized=True)` drops it for long real runs.
FAST_COMPILE = "--xla_backend_optimization_level=0"
os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {FAST_COMPILE}".strip()

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
# Small networks so that a real training step runs in milliseconds on the CPU.
TINY_DCGAN = ["model=dcgan", "model.width=8", "model.fc_width=32", "trainer.batch_size=16"]
TINY_RING = ["model=mlp", "data=ring", "model.g_hidden=[32,32]", "model.d_hidden=[32,32]",
             "model.latent_dim=8", "data.num_points=2000", "trainer.batch_size=32"]
# TimeGAN on a few short sine sequences: 2 autoencoder steps, 2 supervised, then joint.
TINY_SERIES = ["data=sines", "model=timegan", "data.num_sequences=64", "data.heldout=16",
               "data.seq_len=6", "data.features=3", "model.hidden_dim=4", "model.num_layers=2",
               "model.autoencoder_steps=2", "model.supervised_steps=2", "trainer.batch_size=8"]
# RCGAN on the same sequences, with a few hidden units and noise values per step.
TINY_RCGAN = ["data=sines", "model=rcgan", "data.num_sequences=64", "data.heldout=16",
              "data.seq_len=6", "data.features=3", "model.hidden_dim=4", "model.z_dim=2",
              "trainer.batch_size=8"]
# The COCO captions of at most 8 tokens with a vocabulary of 60; RelGAN on them with tiny
# networks (2 maximum-likelihood steps, then adversarial), and its generator alone (model=lm).
TINY_TEXT_DATA = ["data=coco_captions", "data.max_length=8", "data.vocab_size=60",
                  "trainer.batch_size=8"]
TINY_TEXT = [*TINY_TEXT_DATA, "model=relgan", "model.embed_dim=8", "model.head_size=8",
             "model.num_heads=2", "model.d_embed_dim=4", "model.representations=2",
             "model.num_filters=4", "model.pretrain_steps=2", "loss=rsgan"]
TINY_LM = [*TINY_TEXT_DATA, "model=lm", "model.embed_dim=8", "model.head_size=8", "model.num_heads=2"]
# Log, sample, evaluate and checkpoint often enough that short runs exercise every path.
SCHEDULE = ["trainer.log_every=250", "trainer.sample_every=500", "trainer.eval_every=1000",
            "trainer.checkpoint_every=500", "trainer.eval_samples=200", "trainer.progress=false"]
EVERY_100 = ["trainer.log_every=100", "trainer.sample_every=100", "trainer.eval_every=100",
             "trainer.checkpoint_every=100", "trainer.eval_samples=100"]


def make_cfg(overrides: list[str] = ()) -> dict:
    """The composed config as the entry point sees it (plain dict, interpolations resolved)."""
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return OmegaConf.to_container(compose("config", overrides=list(overrides)), resolve=True)


def write_idx(path: pathlib.Path, magic: int, array: np.ndarray) -> None:
    header = struct.pack(f">I{array.ndim}I", magic, *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def write_fake_fashion_mnist(folder: pathlib.Path, n: int = 128, seed: int = 0) -> pathlib.Path:
    """Random images in the official file format: a stand-in for unit tests, not real data."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "t10k"):
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", 2051,
                  rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", 2049, rng.integers(0, 10, n, dtype=np.uint8))
    return folder


@pytest.fixture
def fake_fmnist(tmp_path) -> pathlib.Path:
    return write_fake_fashion_mnist(tmp_path / "fmnist")


# A tiny CFGAN on a synthetic ratings file in MovieLens' RecBole layout.
TINY_CFGAN = ["data=movielens_100k", "model=cfgan", "model.g_hidden=[16]", "model.d_hidden=[8]",
              "trainer.batch_size=8"]


def write_fake_movielens(folder: pathlib.Path, users: int = 30, items: int = 40, per_user: int = 8,
                         seed: int = 0) -> pathlib.Path:
    """Random ratings in RecBole's ml-100k.inter / ml-100k.item format (ids from 1, as MovieLens)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    for u in range(1, users + 1):
        for i in rng.choice(np.arange(1, items + 1), per_user, replace=False):
            lines.append(f"{u}\t{i}\t{rng.integers(1, 6)}\t{880000000 + u}")
    (folder / "ml-100k.inter").write_text("\n".join(lines) + "\n")
    titles = ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"]
    titles += [f"{i}\tMovie {i}\t1995\tDrama" for i in range(1, items + 1)]
    (folder / "ml-100k.item").write_text("\n".join(titles) + "\n")
    return folder


@pytest.fixture
def fake_movielens(tmp_path) -> pathlib.Path:
    return write_fake_movielens(tmp_path / "ml")


def write_fake_cdnow(folder: pathlib.Path, customers: int = 80, seed: int = 0) -> pathlib.Path:
    """Random transactions in CDNOW_master.txt's layout: each customer first buys in Q1 1997,
    some again later (calibration and holdout); a stand-in, not real data."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    days = np.arange(np.datetime64("1997-01-01"), np.datetime64("1998-06-30"))
    lines = [" customer_id  date number_of_cds  dollar_value"]
    for c in range(1, customers + 1):
        first = rng.integers(0, 90)
        for d in sorted({first, *rng.integers(first, len(days), rng.integers(0, 5))}):
            date = str(days[d]).replace("-", "")
            lines.append(f" {c:05d} {date}  {rng.integers(1, 6)}   {rng.uniform(5, 80):.2f}")
    (folder / "CDNOW_master.txt").write_text("\r\n".join(lines) + "\r\n")
    return folder


def write_fake_adult(folder: pathlib.Path, rows: int = 80, seed: int = 0) -> pathlib.Path:
    """Random people in adult.csv's layout (the wheel file's hyphenated header, UCI's leading
    spaces and '?' for missing); a stand-in, not real data."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)

    def pick(*values):
        return rng.choice(values, rows)

    columns = {
        "age": rng.integers(17, 91, rows), "workclass": pick(" Private", " State-gov", " ?"),
        "fnlwgt": rng.integers(12_000, 1_500_000, rows), "education": pick(" HS-grad", " Bachelors"),
        "educational-num": rng.integers(1, 17, rows), "marital-status": pick(" Divorced", " Never-married"),
        "occupation": pick(" Sales", " Tech-support", " ?"), "relationship": pick(" Husband", " Wife"),
        "race": pick(" White", " Black"), "gender": pick(" Male", " Female"),
        "capital-gain": rng.choice([0, 0, 0, 5178], rows), "capital-loss": rng.choice([0, 0, 0, 1902], rows),
        "hours-per-week": rng.integers(1, 100, rows), "native-country": pick(" United-States", " ?"),
        "income": np.where(np.arange(rows) % 4 == 0, " >50K", " <=50K"),
    }
    lines = [",".join(columns)] + [",".join(str(v[i]) for v in columns.values()) for i in range(rows)]
    (folder / "adult.csv").write_text("\n".join(lines) + "\n")
    return folder
