"""Keyed randomness and identifiers: every value is a pure function of (seed, table, purpose,
row index), so any chunking, worker count or shard gives the same bytes.

There is no global random state and no wall clock. A *stream* is named by its table and
purpose; its values at row indices are computed with a counter-based hash (SplitMix64's
finaliser over a key mixed with the index), vectorised over numpy arrays.
"""

from __future__ import annotations

import functools
import hashlib
import math
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def stream_key(seed: int, *names: object) -> np.uint64:
    """A 64-bit key for a named stream: stable across runs, platforms and Python versions."""
    text = ":".join(str(n) for n in (seed, *names)).encode("utf-8")
    return np.uint64(int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little"))


def _mix(z: U64) -> U64:
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def hash64(key: np.uint64, idx: npt.ArrayLike) -> U64:
    """64 well-mixed bits for each index under ``key``."""
    i = np.asarray(idx, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        return _mix(key + (i + np.uint64(1)) * _GOLDEN)


class Stream:
    """Values of one named stream at given row indices."""

    def __init__(self, seed: int, *names: object) -> None:
        self.key = stream_key(seed, *names)

    def bits(self, idx: npt.ArrayLike) -> U64:
        return hash64(self.key, idx)

    def uniform(self, idx: npt.ArrayLike) -> F64:
        """Floats in [0, 1)."""
        return (self.bits(idx) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))

    def integers(self, idx: npt.ArrayLike, low: npt.ArrayLike, high: npt.ArrayLike) -> I64:
        """Integers in [low, high) (array bounds allowed, broadcast against idx)."""
        lo = np.asarray(low, dtype=np.int64)
        span = np.asarray(high, dtype=np.int64) - lo
        return lo + np.floor(self.uniform(idx) * span).astype(np.int64)

    def choice(self, idx: npt.ArrayLike, weights: npt.ArrayLike) -> I64:
        """Indices into ``weights``, drawn in proportion to them."""
        cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
        cdf /= cdf[-1]
        out = np.searchsorted(cdf, self.uniform(idx), side="right")
        return np.minimum(out, len(cdf) - 1).astype(np.int64)


def apportion(n: int, weights: npt.ArrayLike) -> I64:
    """Split ``n`` into whole counts in proportion to ``weights`` (largest remainders)."""
    w = np.asarray(weights, dtype=np.float64)
    exact = n * w / w.sum()
    counts = np.floor(exact).astype(np.int64)
    short = n - int(counts.sum())
    if short:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:short]] += 1
    result: I64 = counts
    return result


def quota(seed: int, *names: object, idx: npt.ArrayLike, n: int, weights: npt.ArrayLike) -> I64:
    """Categories for members ``idx`` of a population of ``n``, in exact shares (see
    ``quota_ranked``)."""
    return quota_ranked(seed, *names, idx=idx, n=n, weights=weights)[0]


def quota_ranked(
    seed: int, *names: object, idx: npt.ArrayLike, n: int, weights: npt.ArrayLike
) -> tuple[I64, I64]:
    """Categories for members ``idx`` of a population of ``n``, in exact shares.

    The population's positions are permuted by a keyed affine map (a bijection of 0..n-1) and
    cut into runs whose lengths are the weights apportioned to ``n``. So six appointments get
    exactly the mix a profile asks for, where independent draws would not, and the answer
    for a member never depends on which other members are generated alongside it.

    Returns each member's category and its rank within the category (0 .. count - 1): a
    bijection onto each category's members, for placing them without collisions.
    """
    i = np.asarray(idx, dtype=np.int64)
    if n <= 0:
        return np.zeros(i.shape, dtype=np.int64), np.zeros(i.shape, dtype=np.int64)
    pos = quota_position(seed, *names, idx=i, n=n)
    bounds = np.cumsum(apportion(n, weights))
    # The number of runs ending at or before each position; with the few categories a
    # quota has, a comparison per boundary is cheaper than a binary search.
    if len(bounds) > 8:
        category = np.searchsorted(bounds, pos, side="right").astype(np.int64)
    else:
        category = np.zeros(pos.shape, dtype=np.int64)
        for end in bounds[:-1]:
            category += pos >= end
    starts = np.concatenate([[0], bounds]).astype(np.int64)
    return category, pos - starts[category]


@functools.lru_cache(maxsize=1024)  # a few dozen quotas, asked for once per block
def _affine(seed: int, names: tuple[object, ...], n: int) -> tuple[int, int]:
    """The keyed bijection of 0..n-1 that quotas cut: i -> (i * mult + shift) % n."""
    key = int(stream_key(seed, *names))
    mult = max(1, int(n * 0.6180339887498949)) + key % max(1, n)
    while np.gcd(mult, n) != 1:
        mult += 1
    return mult % n, (key >> 20) % n


def quota_position(seed: int, *names: object, idx: npt.ArrayLike, n: int) -> I64:
    """Members' positions in the order a quota cuts into categories (category 0 first)."""
    mult, shift = _affine(seed, names, n)
    i = np.asarray(idx, dtype=np.int64)
    # idx * mult (< n * n) cannot overflow below 2**31 members, and is congruent to
    # idx % n * mult: one integer division per member instead of two (the slowest step).
    result: I64 = (i * mult + shift) % n if n < 1 << 31 else (i % n * mult + shift) % n
    return result


def quota_member(seed: int, *names: object, position: npt.ArrayLike, n: int) -> I64:
    """The members at ``position`` in a quota's order: the inverse of ``quota_position``."""
    mult, shift = _affine(seed, names, n)
    inverse = pow(mult, -1, n) if n > 1 else 0
    result: I64 = (np.asarray(position, dtype=np.int64) - shift) % n * inverse % n
    return result


def _permute32(key: np.uint64, x: U64) -> U64:
    """A keyed bijection of 32-bit integers (four rounds of invertible mixing)."""
    mask = np.uint64(0xFFFFFFFF)
    k = int(key)
    with np.errstate(over="ignore"):
        for r in range(4):
            rk = np.uint64((k >> (16 * r)) & 0xFFFF | 1)
            x = (x * np.uint64(0x2C1B3C6D) + rk) & mask  # odd multiplier: bijective mod 2^32
            x = x ^ (x >> np.uint64(15))  # xorshift: bijective
    return x & mask


_LOW32 = np.uint64(0xFFFFFFFF)
_DASH = np.uint64(ord("-"))


def _hex8(v: U64) -> U64:
    """The low 32 bits of each value as 8 lower-case hex digits: a uint64 whose bytes, in
    memory (little-endian) order, are the ASCII digits in reading order."""
    x = v & _LOW32
    # Spread the 8 nibbles over the 8 bytes (nibble i to byte i), then reverse the bytes so
    # the most significant digit comes first.
    x = (x | (x << np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    x = (x | (x << np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    x = (x | (x << np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    x = x.byteswap()
    # '0' + nibble, and 'a' - '0' - 10 = 39 more for the nibbles above 9.
    letters = ((x + np.uint64(0x0606060606060606)) >> np.uint64(4)) & np.uint64(0x0101010101010101)
    result: U64 = x + np.uint64(0x3030303030303030) + letters * np.uint64(39)
    return result


def uuid_text(head: U64, mid: U64, tail: U64) -> pl.Series:
    """Format the low 32 bits of ``head``, the high 32 of ``mid`` and all 64 of ``tail`` as
    UUID strings, eight digits per integer operation (no per-row Python, no per-byte work).

    Each UUID's 36 characters are written as five 64-bit words (40 bytes, the last 4 unused)
    and handed to polars as an arrow string-view array over them, which it takes without a
    copy, where cutting the words into a packed 36-byte layout would copy every byte again.
    """
    n = len(head)
    h = _hex8(head)  # digits 0-7
    m = _hex8(mid >> np.uint64(32))  # digits 8-15
    t = _hex8(tail >> np.uint64(32))  # digits 16-23
    u = _hex8(tail)  # digits 24-31
    s8, s16, s24, s32 = (np.uint64(k) for k in (8, 16, 24, 32))
    words = np.empty((n, 5), dtype="<u8")  # hhhhhhhh -mmmm-mm mm-tttt- tttttttt tttt....
    words[:, 0] = h
    words[:, 1] = (
        _DASH
        | (m & _LOW32) << s8
        | _DASH << np.uint64(40)
        | (m >> s32 & np.uint64(0xFFFF)) << np.uint64(48)
    )
    words[:, 2] = m >> np.uint64(48) | _DASH << s16 | (t & _LOW32) << s24 | _DASH << np.uint64(56)
    words[:, 3] = t >> s32 | u << s32
    words[:, 4] = u >> s32
    # Arrow's view of a string longer than 12 bytes: length and first 4 bytes, then the
    # buffer's index (0) and the string's offset in it.
    views = np.empty((n, 2), dtype="<u8")
    views[:, 0] = np.uint64(36) | (h & _LOW32) << s32
    views[:, 1] = np.arange(0, n * 40, 40, dtype=np.uint64) << s32
    buffers = [None, pa.py_buffer(views), pa.py_buffer(words)]
    return pl.Series(pa.Array.from_buffers(pa.string_view(), n, buffers))


def hex_text(words: list[U64]) -> pl.Series:
    """Each row's 64-bit ``words`` as 16 lower-case hex digits each, concatenated."""
    n = len(words[0]) if words else 0
    digits = np.empty((n, 2 * len(words)), dtype="<u8")  # 8 digits per uint64
    for k, word in enumerate(words):
        digits[:, 2 * k] = _hex8(word >> np.uint64(32))
        digits[:, 2 * k + 1] = _hex8(word)
    width = 16 * len(words)
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(digits)]
    return pl.Series(pa.Array.from_buffers(pa.large_string(), n, buffers))


def uuids(seed: int, table: str, idx: npt.ArrayLike, namespace: int = 0) -> pl.Series:
    """Version-4-shaped UUIDs for rows of ``table``.

    The first 32 bits are a keyed permutation of the row index, so the first 8 hex digits,
    which the schema's UNIQUE ``public_id`` columns are made of, never repeat within a table
    (up to 2**32 rows). Random UUIDs would collide there from about 10^5 rows on.
    """
    i = np.asarray(idx, dtype=np.int64)
    key = stream_key(seed, namespace, table, "id")
    head = _permute32(key, i.astype(np.uint64))
    mid = hash64(key ^ np.uint64(0x5555), i)
    tail = hash64(key ^ np.uint64(0xAAAA), i)
    # Version nibble 4 and RFC 4122 variant bits.
    mid = (mid & np.uint64(0xFFFF0FFF_FFFFFFFF)) | np.uint64(0x00004000_00000000)
    tail = (tail & np.uint64(0x3FFFFFFF_FFFFFFFF)) | np.uint64(0x80000000_00000000)
    return uuid_text(head, mid, tail)


def as_list(values: Any) -> list[Any]:
    """numpy array or list to a plain list (for building frames)."""
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def coprime_step(places: int) -> int:
    """A step near places / golden ratio with no factor in common with ``places``: stepping
    by it visits every one of ``places`` places once, spread out."""
    step = max(1, int(places * 0.6180339887)) | 1
    while math.gcd(step, places) != 1:
        step += 2
    return step
