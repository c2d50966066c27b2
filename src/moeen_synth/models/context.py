"""The run context every generator and model reads: profile, vocabularies, id namespace,
keyed random streams, ids, and a per-run memo of derived structures."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth import keys
from moeen_synth.models.layout import PARENT_BLOCK, BlockCache
from moeen_synth.profile import Counts, Profile
from moeen_synth.vocab import Vocab

I64 = npt.NDArray[np.int64]
DAY = 86_400
HOUR = 3_600
MINUTE = 60
RIYADH_OFFSET = 3 * HOUR  # Asia/Riyadh is UTC+3 all year (no daylight saving)


@dataclass(frozen=True)
class Context:
    """Everything a generator may depend on: the profile, vocabularies and id namespace.

    ``census`` holds, per child table or kind of child of the appointments, the function
    that counts an appointment's children (``models.visits``): the child tables declare
    them and the registry (``generators``) collects them, so the visit model imports none.
    """

    profile: Profile
    vocab: Vocab
    namespace: int = 0  # > 0 for an --append load: new ids and unique keys
    census: Mapping[str, Callable[[Any], npt.ArrayLike]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _locks: dict[str, threading.RLock] = field(default_factory=dict, compare=False, repr=False)

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
        self,
        table: str,
        purpose: str,
        idx: npt.ArrayLike,
        population: int,
        weights: Sequence[float],
    ) -> I64:
        """Categories in exact shares for members ``idx`` of a population of ``population``."""
        return keys.quota(
            self.seed, self.namespace, table, purpose, idx=idx, n=population, weights=weights
        )

    def share(
        self, table: str, purpose: str, idx: npt.ArrayLike, population: int, share: float
    ) -> npt.NDArray[np.bool_]:
        """True for exactly round(share * population) members of a population of
        ``population``."""
        weights = (1.0 - share, share)
        chosen: npt.NDArray[np.bool_] = self.mix(table, purpose, idx, population, weights) == 1
        return chosen

    def ids(self, table: str, idx: npt.ArrayLike) -> pl.Series:
        """The ids of rows ``idx`` of ``table``. Ids asked for densely and in order (a block
        of children's parents, the few doctors) are gathered from ids made once per block
        of rows and kept for a while; scattered ones are made on the spot."""
        rows = np.asarray(idx, dtype=np.int64)
        spread = len(rows) < 1024 or int(rows[-1]) - int(rows[0]) > 2 * len(rows)
        if spread or np.any(rows[1:] < rows[:-1]):
            return keys.uuids(self.seed, table, rows, self.namespace)
        cache: BlockCache[tuple[str, int], pl.Series] = self.cached(
            "id_blocks", lambda: BlockCache(16)
        )

        def block(number: int) -> pl.Series:
            first_row = number * PARENT_BLOCK
            block_rows = np.arange(first_row, first_row + PARENT_BLOCK, dtype=np.int64)
            return cache.get(
                (table, number), lambda: keys.uuids(self.seed, table, block_rows, self.namespace)
            )

        first, last = int(rows[0]) // PARENT_BLOCK, int(rows[-1]) // PARENT_BLOCK
        if first == last:
            return block(first).gather(rows - first * PARENT_BLOCK)
        cut = np.searchsorted(rows, np.arange(first + 1, last + 1) * PARENT_BLOCK)
        return pl.concat(
            [
                block(number).gather(part - number * PARENT_BLOCK)
                for number, part in zip(range(first, last + 1), np.split(rows, cut), strict=True)
            ]
        )

    def cached(self, name: str, build: Callable[[], Any]) -> Any:
        """Memoise a derived, deterministic structure (layouts, child offsets) per run.

        Generation threads share the cache. Each structure has a lock of its own, so a
        thread building one (the census takes a second at load-1m) does not stall threads
        reading or building others. A build may use other structures: they depend on each
        other without cycles, so no two builds can wait on each other."""
        value = self._cache.get(name, _MISSING)
        if value is not _MISSING:
            return value
        with _LOCKS_LOCK:
            lock = self._locks.setdefault(name, threading.RLock())
        with lock:
            if name not in self._cache:
                self._cache[name] = build()
            return self._cache[name]


_MISSING = object()
_LOCKS_LOCK = threading.Lock()
