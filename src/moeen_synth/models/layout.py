"""Children laid out parent after parent, in constant memory: how many rows a table has,
and whose child each row is, from block totals alone.

A table whose rows hang from a parent (payments from appointments, messages from
conversations) finds a row's parent and its ordinal among the parent's children here,
without ever holding one number per parent.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]

PARENT_BLOCK = 1 << 16  # parents per block of a BlockPrefix: fixed, so results never vary


class ChildLayout(Protocol):
    """Children laid out parent after parent: how many, and whose child row j is."""

    @property
    def total(self) -> int: ...

    def locate(self, child: npt.ArrayLike) -> tuple[I64, I64]: ...


K = TypeVar("K")
V = TypeVar("V")


class BlockCache(Generic[K, V]):
    """The last ``size`` values computed for parent blocks, shared by the generating threads.
    A value is computed outside the lock: two threads may both compute it, to the same
    result (every value is a pure function of its key)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)

    def get(self, key: K, compute: Callable[[], V]) -> V:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        self.put(key, value)
        return value


class BlockPrefix:
    """Children of parents ``0..n_parents-1`` laid out parent after parent, in constant
    memory.

    ``counts(parents)`` gives each parent's number of children and must be a pure function
    of the parent index. Only each block's total is kept (n_parents / 65536 numbers); a block's own
    offsets are recomputed when asked for, and the last few are cached. Child rows therefore
    never depend on chunking, and memory does not grow with the number of parents.
    """

    def __init__(
        self,
        n_parents: int,
        counts: Callable[[I64], npt.ArrayLike],
        block: int = PARENT_BLOCK,
        totals: Sequence[int] | None = None,
    ) -> None:
        """``totals``, if given, are the blocks' sums already computed (by a shared pass)."""
        self.n, self.block, self._counts = n_parents, block, counts
        if totals is None:
            totals = [block_sum(counts, first, end) for first, end in blocks_of(n_parents, block)]
        self.starts = np.concatenate([[0], np.cumsum(totals, dtype=np.int64)]).astype(np.int64)
        self.total = int(self.starts[-1])
        self._local: BlockCache[int, npt.NDArray[np.int32] | I64] = BlockCache(8)

    def _offsets(self, block: int) -> npt.NDArray[np.int32] | I64:
        """Offsets of the parents of block ``block``, relative to the block's first child
        (one more than the parents)."""

        def compute() -> I64:
            first = block * self.block
            parents = np.arange(first, min(self.n, first + self.block), dtype=np.int64)
            counts = np.asarray(self._counts(parents), dtype=np.int64)
            local = np.concatenate([[0], np.cumsum(counts)])
            # Kept as int32 where the block's children fit (always, in the shipped
            # profiles): a dozen layouts keep eight blocks each, 26 MiB less at load-10m.
            return local.astype(np.int32 if local[-1] < 2**31 else np.int64)

        return self._local.get(block, compute)

    def rank(self, parent: npt.ArrayLike) -> I64:
        """Children of all parents before each given parent (its first child's row)."""
        parents = np.asarray(parent, dtype=np.int64)
        out = np.empty(parents.shape, dtype=np.int64)
        blocks = parents // self.block
        for block, sel in _by_block(blocks):
            out[sel] = self.starts[block] + self._offsets(block)[parents[sel] - block * self.block]
        return out

    def block_end(self, child: int) -> int:
        """The last parent of the parent block that holds child row ``child``: a bound on
        its parent known from the block totals alone, without counting the block's parents.
        """
        block = int(np.searchsorted(self.starts, child, side="right")) - 1
        return min(self.n, (block + 1) * self.block) - 1

    def locate(self, child: npt.ArrayLike) -> tuple[I64, I64]:
        rows = np.asarray(child, dtype=np.int64)
        parent = np.empty(rows.shape, dtype=np.int64)
        ordinal = np.empty(rows.shape, dtype=np.int64)
        blocks = np.searchsorted(self.starts, rows, side="right").astype(np.int64) - 1
        for block, sel in _by_block(blocks):
            local = self._offsets(block)
            rel = rows[sel] - self.starts[block]
            within = np.searchsorted(local, rel, side="right").astype(np.int64) - 1
            parent[sel] = block * self.block + within
            ordinal[sel] = rel - local[within]
        return parent, ordinal


def _by_block(blocks: I64) -> list[tuple[int, npt.NDArray[np.bool_] | slice]]:
    """(block, the positions in it) for each block present. Rows usually fall in one or two
    blocks: a whole slice then, with no sort; np.unique only for rows spread wide."""
    if len(blocks) == 0:
        return []
    first, last = int(blocks.min()), int(blocks.max())
    if first == last:
        return [(first, slice(None))]
    if last - first <= 8:
        found = [(block, blocks == block) for block in range(first, last + 1)]
        return [(block, sel) for block, sel in found if sel.any()]
    return [(block, blocks == block) for block in np.unique(blocks).tolist()]


def block_sum(counts: Callable[[I64], npt.ArrayLike], first: int, end: int) -> int:
    """The children of parents ``first..end-1``."""
    return int(np.asarray(counts(np.arange(first, end, dtype=np.int64)), dtype=np.int64).sum())


def blocks_of(n_parents: int, block: int = PARENT_BLOCK) -> list[tuple[int, int]]:
    """The parent blocks of a BlockPrefix over ``n_parents`` parents: (first, end), end
    excluded."""
    return [(first, min(n_parents, first + block)) for first in range(0, n_parents, block)]


class Interleaved:
    """Children of several kinds per parent, laid out parent after parent and, within a
    parent, in the order of the kinds: one pass over the parents makes all kinds.

    ``flags(parents)`` says which kinds each parent has: a boolean matrix with one column per
    kind, a pure function of the parent index. ``totals`` are the blocks' child counts if a
    shared pass already made them."""

    def __init__(
        self,
        n_parents: int,
        flags: Callable[[I64], npt.NDArray[np.bool_]],
        totals: Sequence[int] | None = None,
    ) -> None:
        self.flags = flags
        # A block's flags are made once, for its child counts, and gathered by by_kind.
        self._blocks: BlockCache[int, npt.NDArray[np.bool_]] = BlockCache(4)
        self.prefix = BlockPrefix(
            n_parents, lambda parents: self._block(parents).sum(axis=1), totals=totals
        )
        self.total = self.prefix.total

    def _block(self, parents: I64) -> npt.NDArray[np.bool_]:
        """The flags of a whole parent block (as BlockPrefix asks for them)."""
        return self._blocks.get(
            int(parents[0]) if len(parents) else -1, lambda: self.flags(parents)
        )

    def flags_at(self, parent: I64) -> npt.NDArray[np.bool_]:
        """The flags of any ``parent``s, gathered from their blocks' flags."""
        size, n_parents = self.prefix.block, self.prefix.n
        blocks = parent // size
        out: npt.NDArray[np.bool_] | None = None
        for block, sel in _by_block(blocks):
            first = block * size
            flags = self._block(np.arange(first, min(n_parents, first + size), dtype=np.int64))
            if out is None:
                out = np.empty((len(parent), flags.shape[1]), dtype=bool)
            out[sel] = flags[parent[sel] - first]
        return out if out is not None else self.flags(parent)

    def locate(self, child: npt.ArrayLike) -> tuple[I64, I64]:
        return self.prefix.locate(child)

    def block_end(self, child: int) -> int:
        return self.prefix.block_end(child)

    def by_kind(self, rows: I64, parent: I64, ordinal: I64) -> list[tuple[int, I64, I64]]:
        """Child ``rows`` (the ``ordinal``-th children of ``parent``) grouped by kind:
        (kind, its rows, their parents), for kinds present, in kind order."""
        seen = np.cumsum(self.flags_at(parent), axis=1)
        kind = np.argmax(seen > ordinal[:, None], axis=1)
        groups = []
        for number in range(seen.shape[1]):
            sel = np.flatnonzero(kind == number)
            if len(sel):
                groups.append((number, rows[sel], parent[sel]))
        return groups


@dataclass(frozen=True)
class Sources:
    """A table whose rows come from several parent kinds, one block of rows per kind."""

    parts: tuple[tuple[str, ChildLayout], ...]

    @property
    def total(self) -> int:
        return sum(children.total for _, children in self.parts)

    def split(self, start: int, stop: int) -> list[tuple[str, I64, I64, I64]]:
        """For rows start..stop-1: (kind, row numbers, parent indices, ordinals) per kind."""
        out = []
        base = 0
        for kind, children in self.parts:
            first, end = max(start, base), min(stop, base + children.total)
            if first < end:
                rows = np.arange(first, end, dtype=np.int64)
                parent, ordinal = children.locate(rows - base)
                out.append((kind, rows, parent, ordinal))
            base += children.total
        return out
