"""data=text_file: the user's sentences, and every bad file refused in one line naming the setting."""

import pytest

from gan_jax.data import build
from gan_jax.errors import DataError


def text_file(path, test_path=None, max_length=None, vocab_size=5000):
    return build({"name": "text_file", "path": str(path), "test_path": test_path and str(test_path),
                  "max_length": max_length, "vocab_size": vocab_size, "text_encoder": "coco"})


def test_blank_lines_are_skipped_and_the_test_file_is_read(tmp_path):
    (tmp_path / "train.txt").write_text("\ufeffA cat sat.\r\n\n   \r\nA dog ran.\n")
    (tmp_path / "test.txt").write_text("A cat ran.")
    data = text_file(tmp_path / "train.txt", tmp_path / "test.txt")
    words = [data.text.decode(ids) for ids in data.text.train]
    assert words == [["a", "cat", "sat", "."], ["a", "dog", "ran", "."]]
    assert data.text.test_sentences == (("a", "cat", "ran", "."),)


# (file bytes, or None for no file; overrides; what the message must say)
BAD = [
    (None, {}, r"data.path=\S*train.txt does not exist"),
    (b"", {}, r"data.path=\S*train.txt holds no training sentences \(it is empty or blank\)"),
    (b"\n  \n\t\n", {}, "holds no training sentences"),
    (b"a cat\x00\x01\x02 sat\n", {}, r"data.path=\S*train.txt is a binary file \(it holds NUL bytes\)"),
    ("un café\n".encode("latin-1") * 3, {}, r"data.path=\S*train.txt is not UTF-8 text \(byte 0xe9"),
    (b"a long sentence here\nanother long one\n", {"max_length": 2},
     r"no sentence has at most data.max_length=2 tokens \(the shortest has 3\)"),
    (b"a cat sat\n\n", {}, r"data.path=\S*train.txt holds 1 sentence; a text GAN needs at least 2"),
    (b"a cat sat\nthe dog ran far away\n", {"max_length": 3},
     "holds 1 sentence of at most data.max_length=3 tokens; raise data.max_length"),
    (b"a cat\na dog\n", {"test": b""}, r"data.test_path=\S*test.txt holds no held-out sentences"),
    (b"a cat\na dog\n", {"test": b"\xff\xfe"}, r"data.test_path=\S*test.txt is not UTF-8 text"),
    (b"a cat\na dog\n", {"test": b"a very long one"}, r"data.test_path=\S*test.txt: no sentence has at most "
                                                       r"data.max_length=2"),
]


@pytest.mark.parametrize("content, overrides, message", BAD)
def test_a_bad_file_is_refused_naming_the_setting(tmp_path, content, overrides, message):
    train = tmp_path / "train.txt"
    if content is not None:
        train.write_bytes(content)
    test = None
    if "test" in overrides:
        test = tmp_path / "test.txt"
        test.write_bytes(overrides["test"])
    before = sorted(tmp_path.iterdir())
    with pytest.raises(DataError, match=message) as e:
        text_file(train, test, overrides.get("max_length"))
    assert "\n" not in str(e.value)
    assert sorted(tmp_path.iterdir()) == before  # nothing written


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(DataError, match=r"data.path=\S+ is a folder"):
        text_file(tmp_path)
