"""data=coco_captions: Texygen's files found, checksummed and read as the RelGAN authors read them."""

import pathlib
import re

import pytest

from gan_jax.data import build, coco_captions
from gan_jax.data.text import tokenize
from gan_jax.errors import DataError

SHARED = coco_captions.SHARED_DIR
needs_files = pytest.mark.skipif(not (SHARED / "train.txt").is_file(), reason=f"no {SHARED}")


@pytest.fixture(scope="module")
def coco():
    return build({"name": "coco_captions", "root": str(SHARED), "download": False, "max_length": None,
                  "vocab_size": 5000, "text_encoder": "coco"})


@needs_files
def test_every_caption_is_read_and_decodes_to_its_words(coco):
    # Both files hold 10,000 lines; `wc -l` says 9,999 because neither ends with a newline.
    assert coco.num_examples == 10_000 and coco.text.test.shape[0] == 10_000
    assert coco.text.max_length == 37  # the longest training caption, as in the RelGAN paper
    assert coco.shape == (37, len(coco.text.vocabulary))
    assert coco.text.vocabulary[:4] == ("<eos>", "<unk>", "a", ".")
    t = coco.text
    # Hand-read: the first and last lines of train.txt, the first of test.txt.
    assert t.decode(t.train[0]) == "a bicycle replica with a clock as the front wheel .".split()
    assert t.decode(t.train[-1]) == "a bicycle sits next to an empty park bench .".split()
    assert t.test_sentences[0] == tuple("a brown and white dog lays on a bed".split())
    assert t.decode(t.test[0]) == list(t.test_sentences[0])


@needs_files
def test_matches_nltk_word_tokenize_on_the_real_captions():
    """Every caption splits as nltk's Treebank tokenizer splits it, except where a line holds a
    second sentence (nltk.word_tokenize splits those first; the bare tokenizer does not) and one
    doubled comma."""
    nltk = pytest.importorskip("nltk")
    treebank = nltk.tokenize.NLTKWordTokenizer()
    differ = []
    for name in coco_captions.FILES:
        for line in (SHARED / name).read_text().splitlines():
            if treebank.tokenize(line.lower()) != tokenize(line):
                differ.append(line)
    assert all(re.search(r"[^\s.]\.+\s+\S|,,", line) for line in differ), differ
    assert len(differ) <= 12


def test_a_corrupt_copy_is_refused_by_its_checksum(tmp_path):
    for name in coco_captions.FILES:
        (tmp_path / name).write_text("a cat sat on the mat .\n" * 3)
    with pytest.raises(DataError, match=r"train.txt has SHA-256 \w{12}\.\.\., not Texygen's 2c0fd1f0f43a"):
        coco_captions.find(str(tmp_path), download=False)


def test_root_is_the_only_folder_searched(tmp_path):
    (tmp_path / "train.txt").write_text("x")
    with pytest.raises(DataError, match=r"data.root=\S+ lacks test.txt"):
        coco_captions.find(str(tmp_path), download=False)
    with pytest.raises(DataError, match=r"data.root=\S+nowhere does not exist"):
        coco_captions.find(str(tmp_path / "nowhere"), download=False)


def test_not_found_names_the_folders_and_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_JAX_DATA", str(tmp_path / "env"))
    with pytest.raises(DataError, match="COCO captions not found .*env/texygen_coco.*data.download=true"):
        coco_captions.find(None, False, tmp_path / "shared", tmp_path / "cache")


@needs_files
def test_the_lookup_order_prefers_gan_jax_data_and_checks_it(tmp_path, monkeypatch):
    copy = tmp_path / "env" / "texygen_coco"
    copy.mkdir(parents=True)
    for name in coco_captions.FILES:
        (copy / name).write_bytes((SHARED / name).read_bytes())
    monkeypatch.setenv("GAN_JAX_DATA", str(tmp_path / "env"))
    assert coco_captions.find(None, False, tmp_path / "shared", tmp_path / "cache") == copy
    monkeypatch.delenv("GAN_JAX_DATA")
    assert coco_captions.find(None, False, SHARED, tmp_path / "cache") == SHARED


class FakeResponse:
    def __init__(self, body: bytes):
        self.body = body

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self):
        return self.body


def test_a_corrupt_download_leaves_nothing_in_the_cache(tmp_path):
    """The network is never touched: the opener hands back wrong bytes."""
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="does not have Texygen's SHA-256 2c0fd1f0f43a.*nothing was saved"):
        coco_captions.fetch(cache, opener=lambda url, timeout: FakeResponse(b"not the captions\n"))
    assert list(cache.iterdir()) == []


@needs_files
def test_a_good_download_is_renamed_into_place(tmp_path):
    served = {coco_captions.RAW + remote: (SHARED / name).read_bytes()
              for name, (remote, _) in coco_captions.FILES.items()}
    cache = coco_captions.fetch(tmp_path / "cache", opener=lambda url, timeout: FakeResponse(served[url]))
    assert sorted(p.name for p in pathlib.Path(cache).iterdir()) == ["test.txt", "train.txt"]
    assert coco_captions.find(None, False, tmp_path / "shared", cache) == cache
