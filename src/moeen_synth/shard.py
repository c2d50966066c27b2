"""``--shard K/N``: the K-th of N disjoint, contiguous row ranges of every table.

Rows are a pure function of (seed, table, row index), so a shard is just a range of indexes
and the N shards together are exactly the whole run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from moeen_synth.errors import UsageError


@dataclass(frozen=True)
class Shard:
    index: int = 1  # 1-based
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match:
            raise UsageError(f"--shard {text!r}: expected K/N, e.g. 2/4 for the second of four")
        index, count = int(match[1]), int(match[2])
        if not 1 <= index <= count:
            raise UsageError(f"--shard {text!r}: K must be between 1 and N (got {index}/{count})")
        return cls(index, count)

    @property
    def whole(self) -> bool:
        return self.count == 1

    def rows(self, total: int) -> range:
        """This shard's row indexes of a table with ``total`` rows."""
        return range(total * (self.index - 1) // self.count, total * self.index // self.count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
