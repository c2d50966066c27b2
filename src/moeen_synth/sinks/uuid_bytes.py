"""UUIDs from their text form to their 16 bytes, for a whole column at once with numpy.

Generated frames carry uuids as text (PostgreSQL's input form); the binary COPY and Parquet
sinks need the bytes. Polars' string functions (strip the dashes, decode hex) cost more
than generating the rows; a fixed-width view of the text and a lookup table cost little.
"""

from __future__ import annotations

import binascii

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

_UUID_HEX = np.r_[0:8, 9:13, 14:18, 19:23, 24:36]  # the 32 digit positions of a UUID's text
_DASHES = [8, 13, 18, 23]
_ZERO = "00000000-0000-0000-0000-000000000000"
_NIBBLE = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _NIBBLE[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _NIBBLE[_c] = 10 + _i


class NotUuid(ValueError):
    """A value of the column is not a UUID's text."""


def _buffers(s: pl.Series) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]:
    """The row offsets and bytes of a text column."""
    arrow = s.cast(pl.String).rechunk().to_arrow().cast(pa.large_binary())
    _, offsets, data = arrow.buffers()
    starts = np.frombuffer(offsets, dtype=np.int64, count=len(s) + 1, offset=arrow.offset * 8)
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return starts, raw


def _exact(
    starts: npt.NDArray[np.int64], raw: npt.NDArray[np.uint8], width: int
) -> npt.NDArray[np.uint8] | None:
    """The rows as an (n, width) matrix if every row is exactly ``width`` bytes: a reshape."""
    if not (np.diff(starts) == width).all():
        return None
    whole: npt.NDArray[np.uint8] = raw[starts[0] : starts[-1]].reshape(len(starts) - 1, width)
    return whole


def text_matrix(s: pl.Series, width: int) -> npt.NDArray[np.uint8]:
    """Each row's first ``width`` bytes of text as an (n, width) matrix; shorter rows and
    NULLs read past their end (their bytes are checked or masked by the caller)."""
    starts, raw = _buffers(s)
    whole = _exact(starts, raw, width)
    if whole is not None:
        return whole
    raw = np.concatenate([raw, np.zeros(width, np.uint8)])
    index = np.minimum(starts[:-1, None] + np.arange(width), len(raw) - 1)
    out: npt.NDArray[np.uint8] = raw[index]
    return out


def uuid_bytes(s: pl.Series, null: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint8]:
    """The (n, 16) bytes of a column of UUID texts; rows where ``null`` is set are
    arbitrary. Raises NotUuid naming the first value that is not a UUID."""
    # The usual case, every row 36 bytes with its dashes in place: the hex digits gathered
    # and decoded by binascii straight from the array (a third of the time of a lookup
    # table; bytes.fromhex took a copy and a decoded str more).
    text = _exact(*_buffers(s.fill_null(_ZERO) if null.any() else s), 36)
    if text is not None and (text[:, _DASHES] == ord("-")).all():
        try:
            decoded = binascii.unhexlify(text[:, _UUID_HEX].reshape(-1).data)
        except binascii.Error:
            pass  # a character that is no hex digit: found and named below
        else:
            return np.frombuffer(decoded, dtype=np.uint8).reshape(len(s), 16)
    text = text_matrix(s, 36)
    lengths = s.str.len_bytes().fill_null(36).to_numpy()
    nibbles = _NIBBLE[text[:, _UUID_HEX]]
    dashes = text[:, _DASHES] == ord("-")
    bad = ~null & ((lengths != 36) | (nibbles == 255).any(axis=1) | ~dashes.all(axis=1))
    if bad.any():
        raise NotUuid(f"not a UUID: {s.filter(pl.Series(bad))[0]!r}")
    return ((nibbles[:, 0::2] << 4) | nibbles[:, 1::2]).astype(np.uint8)


def uuid_array(s: pl.Series) -> pa.ExtensionArray:
    """A column of UUID texts as Arrow's UUID extension array (NULLs kept)."""
    null = s.is_null().to_numpy() if s.null_count() else np.zeros(len(s), dtype=np.bool_)
    data = pa.py_buffer(np.ascontiguousarray(uuid_bytes(s, null)))
    validity = pa.array(~null).buffers()[1] if null.any() else None
    storage = pa.Array.from_buffers(pa.binary(16), len(s), [validity, data])
    return pa.ExtensionArray.from_storage(pa.uuid(), storage)
