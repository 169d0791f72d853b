"""A user's own sentences as text data: `data=text_file data.path=... data.test_path=...`.

One sentence per line, UTF-8; blank lines are skipped. The held-out file (`data.test_path`,
optional) is what the text metrics score against (BLEU references, NLL of held-out sentences);
its words outside the training vocabulary become UNK. Tokens, vocabulary and padding as
`gan_jax.data.text` makes them. A missing, empty or binary file, or one with fewer than two
sentences that fit `data.max_length`, is refused with one line naming the setting.
"""

from __future__ import annotations

import pathlib

from gan_jax.data import text
from gan_jax.data.spec import Dataset
from gan_jax.errors import DataError

FORMAT = "write one sentence per line in a UTF-8 text file"


def read_lines(path, setting: str | None = None) -> list[str]:
    """The lines of a UTF-8 text file; `setting` (e.g. "data.path") names it in messages."""
    file = pathlib.Path(path).expanduser()
    where = f"{setting}={path}" if setting else str(path)
    if not file.exists():
        raise DataError(f"{where} does not exist; give the path of a text file ({FORMAT}).")
    if file.is_dir():
        raise DataError(f"{where} is a folder; give the path of a text file ({FORMAT}).")
    try:
        raw = file.read_bytes()
    except OSError as e:
        raise DataError(f"{where} cannot be read ({e.strerror}).") from e
    if b"\0" in raw:
        raise DataError(f"{where} is a binary file (it holds NUL bytes), not text; {FORMAT}.")
    try:
        decoded = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{where} is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); "
                        f"save it as UTF-8, or {FORMAT}.") from None
    return decoded.splitlines()


def build(path, test_path, max_length: int | None, vocab_size: int | None) -> Dataset:
    train = read_lines(path, "data.path")
    test = None if test_path is None else read_lines(test_path, "data.test_path")
    corpus = text.build_text(train, test, max_length, vocab_size, f"data.path={path}",
                             f"data.test_path={test_path}")
    return text.build("text_file", corpus)
