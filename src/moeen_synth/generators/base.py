"""What every generator shares: the run context, column helpers, and child indexing.

A generator is a pure function ``(ctx, start, stop) -> DataFrame`` of one table's rows
``start..stop-1``. What a child needs of its parent it recomputes from the parent's index
with the parent's own functions; it never reads generated rows back.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth import keys
from moeen_synth.profile import Profile
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

    def ids(self, table: str, idx: npt.ArrayLike) -> list[str]:
        return keys.uuids(self.seed, table, idx, self.namespace)

    def cached(self, name: str, build: Callable[[], Any]) -> Any:
        """Memoise a derived, deterministic structure (layouts, child offsets) per run."""
        if name not in self._cache:
            self._cache[name] = build()
        return self._cache[name]


class ChildIndex:
    """Children laid out parent after parent: child j's parent and its ordinal there.

    Built from every parent's child count (a pure function of the parent), so it does not
    depend on how the children are chunked.
    """

    def __init__(self, counts: npt.ArrayLike) -> None:
        c = np.asarray(counts, dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(c)]).astype(np.int64)
        self.total = int(self.offsets[-1])

    def locate(self, child: npt.ArrayLike) -> tuple[I64, I64]:
        j = np.asarray(child, dtype=np.int64)
        parent = np.searchsorted(self.offsets, j, side="right").astype(np.int64) - 1
        return parent, j - self.offsets[parent]


@dataclass(frozen=True)
class Sources:
    """A table whose rows come from several parent kinds, one block of rows per kind."""

    parts: tuple[tuple[str, ChildIndex], ...]

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


def money(halalas: npt.ArrayLike) -> list[str | None]:
    """Amounts in halalas (1/100 SAR) as numeric(10,2) text; negative means NULL."""
    h = np.asarray(halalas, dtype=np.int64)
    return [None if v < 0 else f"{v // 100}.{v % 100:02d}" for v in h.tolist()]


def pick(rows: Sequence[dict[str, str]], idx: npt.ArrayLike, column: str) -> list[str]:
    return [rows[i][column] for i in np.asarray(idx, dtype=np.int64).tolist()]


def local_time(epoch: int) -> dt.datetime:
    """A timestamp in the platform's time zone (Asia/Riyadh is UTC+3 all year)."""
    return dt.datetime.fromtimestamp(epoch, RIYADH)


RIYADH = dt.timezone(dt.timedelta(hours=3), "Asia/Riyadh")


@functools.cache
def empty_frame(columns: tuple[str, ...]) -> pl.DataFrame:
    return pl.DataFrame({c: [] for c in columns})
