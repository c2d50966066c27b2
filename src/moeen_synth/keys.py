"""Keyed randomness and identifiers: every value is a pure function of (seed, table, purpose,
row index), so any chunking, worker count or shard gives the same bytes.

There is no global random state and no wall clock. A *stream* is named by its table and
purpose; its values at row indices are computed with a counter-based hash (SplitMix64's
finaliser over a key mixed with the index), vectorised over numpy arrays.
"""

from __future__ import annotations

import functools
import hashlib
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

    def normal(self, idx: npt.ArrayLike) -> F64:
        """Standard normal values (Box-Muller over two sub-streams)."""
        i = np.asarray(idx, dtype=np.int64)
        u1 = 1.0 - self.uniform(i * 2)
        u2 = self.uniform(i * 2 + 1)
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


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
    category = np.searchsorted(bounds, pos, side="right").astype(np.int64)
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
    result: I64 = (np.asarray(idx, dtype=np.int64) % n * mult + shift) % n
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


# Two hex digits per byte value, as one little-endian uint16 whose bytes are the digits.
_HEX_PAIRS = np.array(
    [ord(f"{b:02x}"[0]) | ord(f"{b:02x}"[1]) << 8 for b in range(256)], dtype="<u2"
)
_GROUPS = ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))  # hex digits of each dash group


def uuid_text(head: U64, mid: U64, tail: U64) -> pl.Series:
    """Format 32 + 32 + 64 bits as UUID strings, vectorised (no per-row Python formatting)."""
    n = len(head)
    words = np.empty((n, 3), dtype=">u8")  # big-endian: byte order is digit order
    words[:, 0] = head << np.uint64(32)
    words[:, 1] = mid
    words[:, 2] = tail
    raw = words.view(np.uint8).reshape(n, 24)[:, np.r_[0:4, 8:12, 16:24]]  # the 16 used bytes
    digits = np.ascontiguousarray(_HEX_PAIRS[raw]).view(np.uint8).reshape(n, 32)
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    for k, (lo, hi) in enumerate(_GROUPS):
        text[:, lo + k : hi + k] = digits[:, lo:hi]
    # Through an arrow binary array: ten times faster into polars than a numpy S36 array.
    offsets = np.arange(0, (n + 1) * 36, 36, dtype=np.int64)
    data = pa.py_buffer(np.ascontiguousarray(text).reshape(-1))
    arrow = pa.Array.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(offsets), data])
    return pl.Series(arrow).cast(pl.String)


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
