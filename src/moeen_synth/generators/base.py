"""What every generator shares: the run context, column helpers, and child indexing.

A generator is a pure function ``(ctx, start, stop) -> DataFrame`` of one table's rows
``start..stop-1``. What a child needs of its parent it recomputes from the parent's index
with the parent's own functions; it never reads generated rows back.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth import keys
from moeen_synth.profile import Counts, Profile
from moeen_synth.vocab import Vocab

I64 = npt.NDArray[np.int64]
DAY = 86_400
HOUR = 3_600
MINUTE = 60


@dataclass(frozen=True)
class Context:
    """Everything a generator may depend on: the profile, vocabularies and id namespace."""

    profile: Profile
    vocab: Vocab
    namespace: int = 0  # > 0 for an --append load: new ids and unique keys
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def counts(self) -> Counts:
        """Row counts resolved from the profile's scale and ratios."""
        result: Counts = self.cached("counts", lambda: self.profile.counts)
        return result

    @property
    def seed(self) -> int:
        return self.profile.seed

    @property
    def as_of(self) -> int:
        """'Now' for the generated world, as epoch seconds (profile setting, never the clock)."""
        return int(self.profile.as_of.timestamp())

    def stream(self, table: str, purpose: str) -> keys.Stream:
        return keys.Stream(self.seed, self.namespace, table, purpose)

    def mix(
        self, table: str, purpose: str, idx: npt.ArrayLike, n: int, weights: Sequence[float]
    ) -> I64:
        """Categories in exact shares for members ``idx`` of a population of ``n``."""
        return keys.quota(self.seed, self.namespace, table, purpose, idx=idx, n=n, weights=weights)

    def share(
        self, table: str, purpose: str, idx: npt.ArrayLike, n: int, share: float
    ) -> npt.NDArray[np.bool_]:
        """True for exactly round(share * n) members of a population of ``n``."""
        chosen: npt.NDArray[np.bool_] = self.mix(table, purpose, idx, n, (1.0 - share, share)) == 1
        return chosen

    def ids(self, table: str, idx: npt.ArrayLike) -> pl.Series:
        """The ids of rows ``idx`` of ``table``. Ids asked for densely and in order (a block
        of children's parents, the few doctors) are gathered from ids made once per block
        of rows and kept for a while; scattered ones are made on the spot."""
        i = np.asarray(idx, dtype=np.int64)
        if len(i) < 1024 or int(i[-1]) - int(i[0]) > 2 * len(i) or np.any(i[1:] < i[:-1]):
            return keys.uuids(self.seed, table, i, self.namespace)
        cache: BlockCache[tuple[str, int], pl.Series] = self.cached(
            "id_blocks", lambda: BlockCache(16)
        )

        def block(b: int) -> pl.Series:
            lo = b * PARENT_BLOCK
            rows = np.arange(lo, lo + PARENT_BLOCK, dtype=np.int64)
            return cache.get((table, b), lambda: keys.uuids(self.seed, table, rows, self.namespace))

        first, last = int(i[0]) // PARENT_BLOCK, int(i[-1]) // PARENT_BLOCK
        if first == last:
            return block(first).gather(i - first * PARENT_BLOCK)
        cut = np.searchsorted(i, np.arange(first + 1, last + 1) * PARENT_BLOCK)
        return pl.concat(
            [
                block(b).gather(part - b * PARENT_BLOCK)
                for b, part in zip(range(first, last + 1), np.split(i, cut), strict=True)
            ]
        )

    def cached(self, name: str, build: Callable[[], Any]) -> Any:
        """Memoise a derived, deterministic structure (layouts, child offsets) per run.

        Generation threads share the cache; a re-entrant lock lets one structure's build use
        another's."""
        with _CACHE_LOCK:
            if name not in self._cache:
                self._cache[name] = build()
            return self._cache[name]


_CACHE_LOCK = threading.RLock()
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
    """Children of parents ``0..n-1`` laid out parent after parent, in constant memory.

    ``counts(parents)`` gives each parent's number of children and must be a pure function
    of the parent index. Only each block's total is kept (n / 65536 numbers); a block's own
    offsets are recomputed when asked for, and the last few are cached. Child rows therefore
    never depend on chunking, and memory does not grow with the number of parents.
    """

    def __init__(
        self,
        n: int,
        counts: Callable[[I64], npt.ArrayLike],
        block: int = PARENT_BLOCK,
        totals: Sequence[int] | None = None,
    ) -> None:
        """``totals``, if given, are the blocks' sums already computed (by a shared pass)."""
        self.n, self.block, self._counts = n, block, counts
        if totals is None:
            totals = [block_sum(counts, s, min(n, s + block)) for s in range(0, n, block)]
        self.starts = np.concatenate([[0], np.cumsum(totals, dtype=np.int64)]).astype(np.int64)
        self.total = int(self.starts[-1])
        self._local: BlockCache[int, I64] = BlockCache(8)

    def _offsets(self, b: int) -> I64:
        """Offsets of block b's parents, relative to the block's first child (len + 1)."""

        def compute() -> I64:
            lo = b * self.block
            c = np.asarray(
                self._counts(np.arange(lo, min(self.n, lo + self.block), dtype=np.int64)),
                dtype=np.int64,
            )
            local: I64 = np.concatenate([[0], np.cumsum(c)]).astype(np.int64)
            return local

        return self._local.get(b, compute)

    def rank(self, parent: npt.ArrayLike) -> I64:
        """Children of all parents before each given parent (its first child's row)."""
        a = np.asarray(parent, dtype=np.int64)
        out = np.empty(a.shape, dtype=np.int64)
        blocks = a // self.block
        for b, sel in _by_block(blocks):
            out[sel] = self.starts[b] + self._offsets(b)[a[sel] - b * self.block]
        return out

    def block_end(self, child: int) -> int:
        """The last parent of the parent block that holds child row ``child``: a bound on
        its parent known from the block totals alone, without counting the block's parents.
        """
        b = int(np.searchsorted(self.starts, child, side="right")) - 1
        return min(self.n, (b + 1) * self.block) - 1

    def locate(self, child: npt.ArrayLike) -> tuple[I64, I64]:
        j = np.asarray(child, dtype=np.int64)
        parent = np.empty(j.shape, dtype=np.int64)
        ordinal = np.empty(j.shape, dtype=np.int64)
        blocks = np.searchsorted(self.starts, j, side="right").astype(np.int64) - 1
        for b, sel in _by_block(blocks):
            local = self._offsets(b)
            rel = j[sel] - self.starts[b]
            p = np.searchsorted(local, rel, side="right").astype(np.int64) - 1
            parent[sel] = b * self.block + p
            ordinal[sel] = rel - local[p]
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
        found = [(b, blocks == b) for b in range(first, last + 1)]
        return [(b, sel) for b, sel in found if sel.any()]
    return [(b, blocks == b) for b in np.unique(blocks).tolist()]


def block_sum(counts: Callable[[I64], npt.ArrayLike], lo: int, hi: int) -> int:
    return int(np.asarray(counts(np.arange(lo, hi, dtype=np.int64)), dtype=np.int64).sum())


def blocks_of(n: int, block: int = PARENT_BLOCK) -> list[tuple[int, int]]:
    """The parent blocks of a BlockPrefix over ``n`` parents."""
    return [(lo, min(n, lo + block)) for lo in range(0, n, block)]


class Interleaved:
    """Children of several kinds per parent, laid out parent after parent and, within a
    parent, in the order of the kinds: one pass over the parents makes all kinds.

    ``flags(parents)`` says which kinds each parent has: a boolean matrix with one column per
    kind, a pure function of the parent index. ``totals`` are the blocks' child counts if a
    shared pass already made them."""

    def __init__(
        self,
        n: int,
        flags: Callable[[I64], npt.NDArray[np.bool_]],
        totals: Sequence[int] | None = None,
    ) -> None:
        self.flags = flags
        # A block's flags are made once, for its child counts, and gathered by by_kind.
        self._blocks: BlockCache[int, npt.NDArray[np.bool_]] = BlockCache(4)
        self.prefix = BlockPrefix(n, lambda a: self._block(a).sum(axis=1), totals=totals)
        self.total = self.prefix.total

    def _block(self, parents: I64) -> npt.NDArray[np.bool_]:
        """The flags of a whole parent block (as BlockPrefix asks for them)."""
        return self._blocks.get(
            int(parents[0]) if len(parents) else -1, lambda: self.flags(parents)
        )

    def flags_at(self, parent: I64) -> npt.NDArray[np.bool_]:
        """The flags of any ``parent``s, gathered from their blocks' flags."""
        size, n = self.prefix.block, self.prefix.n
        blocks = parent // size
        out: npt.NDArray[np.bool_] | None = None
        for b, sel in _by_block(blocks):
            lo = b * size
            flags = self._block(np.arange(lo, min(n, lo + size), dtype=np.int64))
            if out is None:
                out = np.empty((len(parent), flags.shape[1]), dtype=bool)
            out[sel] = flags[parent[sel] - lo]
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
        for k in range(seen.shape[1]):
            sel = np.flatnonzero(kind == k)
            if len(sel):
                groups.append((k, rows[sel], parent[sel]))
        return groups


@dataclass(frozen=True)
class Sources:
    """A table whose rows come from several parent kinds, one block of rows per kind."""

    parts: tuple[tuple[str, ChildLayout], ...]

    @property
    def total(self) -> int:
        return sum(ci.total for _, ci in self.parts)

    def split(self, start: int, stop: int) -> list[tuple[str, I64, I64, I64]]:
        """For rows start..stop-1: (kind, row numbers, parent indices, ordinals) per kind."""
        out = []
        base = 0
        for kind, ci in self.parts:
            lo, hi = max(start, base), min(stop, base + ci.total)
            if lo < hi:
                rows = np.arange(lo, hi, dtype=np.int64)
                parent, ordinal = ci.locate(rows - base)
                out.append((kind, rows, parent, ordinal))
            base += ci.total
        return out


class Labels:
    """A fixed vocabulary of labels whose values are held as int8 codes, -1 for NULL.

    Comparing and masking codes are integer operations, some fifty times faster than the same
    on arrays of Python strings; the text is made once, for output. ``Labels(...).name`` is
    the code of ``name``."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self._codes = {name: i for i, name in enumerate(names)}
        self._text = pl.Series(names, dtype=pl.String)

    def __getattr__(self, name: str) -> int:
        try:
            return self.__dict__["_codes"][name]  # type: ignore[no-any-return]
        except KeyError:
            raise AttributeError(name) from None

    def codes(self, names: Sequence[str]) -> npt.NDArray[np.int8]:
        """The codes of ``names``, in their order (to index with a draw over them)."""
        return np.array([self._codes[n] for n in names], dtype=np.int8)

    def isin(self, codes: npt.NDArray[np.int8], *names: str) -> npt.NDArray[np.bool_]:
        return np.isin(codes, self.codes(names))

    def text(self, codes: npt.ArrayLike) -> pl.Series:
        """The labels as a string column; code -1 gives NULL."""
        c = np.asarray(codes, dtype=np.int64)
        out = self._text.gather(np.maximum(c, 0))
        return out.set(pl.Series(c < 0), None) if (c < 0).any() else out


# -- column helpers -------------------------------------------------------------------------
def ts(epoch_seconds: npt.ArrayLike) -> pl.Series:
    """Epoch seconds (UTC) as a timestamptz column; negative values mean NULL."""
    s = np.asarray(epoch_seconds, dtype=np.int64)
    series = pl.Series(s * 1_000_000).cast(pl.Datetime("us", "UTC"))
    return series.set(pl.Series(s < 0), None) if (s < 0).any() else series


def date(days: npt.ArrayLike) -> pl.Series:
    return pl.Series(np.asarray(days, dtype=np.int32)).cast(pl.Date)


def js(values: Sequence[Any]) -> list[str | None]:
    """JSON text, compact, key-sorted and with Arabic as is: stable bytes for jsonb."""
    return [
        None
        if v is None
        else json.dumps(v, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
        for v in values
    ]


class Bilingual:
    """Texts of a vocabulary in English then Arabic, in one column: a row's text in its
    language is a single gather, where picking between two gathered columns takes three
    passes over the rows."""

    def __init__(self, texts: dict[str, list[str]]) -> None:
        self.size = len(texts["en"])
        self.series = pl.Series([*texts["en"], *texts["ar"]], dtype=pl.String)

    @classmethod
    def of(cls, en: pl.Series, ar: pl.Series) -> Bilingual:
        """From two columns of the same texts, one per language."""
        out = cls.__new__(cls)
        out.size, out.series = len(en), pl.concat([en, ar]).cast(pl.String)
        return out

    def index(self, arabic: npt.NDArray[np.bool_], idx: I64) -> I64:
        """Positions in ``series`` of the texts ``idx`` (-1: none) in each row's language."""
        at: I64 = np.where(idx >= 0, idx + arabic * self.size, -1)
        return at

    def at(self, arabic: npt.NDArray[np.bool_], idx: I64) -> pl.Series:
        """Text ``idx`` in each row's language; NULL where ``idx`` is -1."""
        return gather_or_null(self.series, self.index(arabic, idx))


def gather_or_null(series: pl.Series, at: I64) -> pl.Series:
    """``series`` at positions ``at``, NULL where a position is -1."""
    missing = at < 0
    out = series.gather(np.maximum(at, 0))
    return out.set(pl.Series(missing), None) if missing.any() else out


def pick_language(arabic: npt.NDArray[np.bool_], ar: pl.Series, en: pl.Series) -> pl.Series:
    """Row by row, the Arabic value where the person prefers Arabic, else the English one."""
    frame = pl.DataFrame({"m": arabic, "ar": ar, "en": en})
    return frame.select(pl.when("m").then("ar").otherwise("en")).to_series()


def either(mask: npt.NDArray[np.bool_], yes: str, no: str) -> pl.Series:
    """One of two fixed texts per row, gathered: no per-row strings are made in Python."""
    return pl.Series([no, yes], dtype=pl.String).gather(np.asarray(mask, dtype=np.int64))


def by_language(arabic: npt.NDArray[np.bool_], ar: str, en: str) -> pl.Series:
    """One of two fixed texts per row: ``ar`` where the person prefers Arabic."""
    return either(arabic, ar, en)


def digits(values: npt.ArrayLike, width: int) -> pl.Series:
    """Zero-padded decimal text."""
    return pl.Series(np.asarray(values, dtype=np.int64)).cast(pl.String).str.zfill(width)


def json_objects(**fields: pl.Series) -> pl.Series:
    """One JSON object per row, keys sorted, built by polars (no per-row Python)."""
    frame = pl.DataFrame({k: fields[k] for k in sorted(fields)})
    return frame.select(pl.struct(pl.all()).struct.json_encode()).to_series()


def money(halalas: npt.ArrayLike) -> pl.Series:
    """Amounts in halalas (1/100 SAR) as numeric(10,2) text; negative means NULL."""
    h = np.asarray(halalas, dtype=np.int64)
    text = pl.Series(h // 100).cast(pl.String) + "." + digits(h % 100, 2)
    return text.set(pl.Series(h < 0), None)


def pick(rows: Sequence[dict[str, str]], idx: npt.ArrayLike, column: str) -> list[str]:
    return [rows[i][column] for i in np.asarray(idx, dtype=np.int64).tolist()]
