"""The plan every job follows: the tables in foreign-key order with their row counts, cut
into blocks; the order to make the blocks in; shards; and the scheduler that generates blocks
ahead on threads.

Rows are a pure function of (seed, table, row index): the blocks, their order, the number of
threads and the shard never change a row, only when and where it is made.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import polars as pl

from moeen_synth import vocab
from moeen_synth.errors import UsageError
from moeen_synth.formats import BLOCK_ROWS as BLOCK_ROWS  # the jobs read plan.BLOCK_ROWS
from moeen_synth.generators import CENSUS, TABLES, TableSpec
from moeen_synth.models.context import Context
from moeen_synth.profile import Profile

T = TypeVar("T")


def context(profile: Profile, namespace: int = 0) -> Context:
    """The run context of ``profile``, with the census counts the child tables declare."""
    return Context(profile=profile, vocab=vocab.load(), namespace=namespace, census=CENSUS)


def plan(ctx: Context) -> list[tuple[TableSpec, int]]:
    """Tables in foreign-key order with their row counts, counted on two threads: a few
    counts walk every appointment or patient first (the census, the patients' own doctors),
    and every run waits for them before its first row."""
    with ThreadPoolExecutor(2, thread_name_prefix="plan") as pool:
        counts = list(pool.map(lambda spec: spec.count(ctx), TABLES))
    return list(zip(TABLES, counts, strict=True))


def blocks(
    ctx: Context, spec: TableSpec, total: int, block_rows: int = BLOCK_ROWS
) -> Iterator[pl.DataFrame]:
    """The table's rows, ``block_rows`` at a time; the rows never depend on the cut."""
    if spec.generate is None:
        return
    for start in range(0, total, block_rows):
        yield spec.generate(ctx, start, min(total, start + block_rows))


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


Work = list[tuple[TableSpec, range]]  # each table with the row indexes to produce
Job = tuple[TableSpec, range, int, int]  # table, its rows in this run, block start and stop
WALKED = "appointments"  # the parent table the anchored tables are laid out along


def jobs(ctx: Context, work: Work, *, block_rows: int, interleave: bool = False) -> list[Job]:
    """Every block of every table, in the order to produce them: table after table, or, with
    ``interleave``, the tables laid out along the appointments (``TableSpec.anchor``) merged
    into one walk over the appointments, so each block of appointments' facts is made once
    for all of them instead of once per table. The rows are the same either way; a sink
    that takes interleaved blocks must keep one state per table.

    An interleaved child block comes after the appointments of its last row, so the blocks
    can be loaded in this order with the foreign keys in place."""
    out: list[Job] = []
    walk: list[tuple[int, int, Job]] = []  # (appointment, table's place, job)
    at = 0  # where the walk goes: at the first anchored table's place
    for place, (spec, rows) in enumerate(work):
        if spec.generate is None:
            continue
        for start in range(rows.start, rows.stop, block_rows):
            job = (spec, rows, start, min(rows.stop, start + block_rows))
            if not (interleave and spec.anchor):
                out.append(job)
                continue
            if not walk:
                at = len(out)
            # An appointments block sorts by its first appointment, a child block by the
            # anchor of its last row, at or after that row's appointment: the parents of a
            # child block come before it.
            row = start if spec.name == WALKED else job[3] - 1
            walk.append((spec.anchor(ctx, row), place, job))
    walk.sort(key=lambda w: (w[0], w[1], w[2][2]))
    return out[:at] + [job for _, _, job in walk] + out[at:]


def generate_ahead(
    ctx: Context,
    work: Work,
    then: Callable[[TableSpec, pl.DataFrame], T],
    *,
    block_rows: int,
    workers: int,
    interleave: bool = False,
) -> Iterator[tuple[TableSpec, range, T]]:
    """Every block of every table, in ``jobs`` order, generated and passed through ``then``
    (the sinks' encoding) up to ``2 * workers`` blocks ahead on threads (numpy, polars and
    pyarrow release the GIL) while the caller writes the previous ones."""

    def job(spec: TableSpec, start: int, stop: int) -> T:
        assert spec.generate is not None
        return then(spec, spec.generate(ctx, start, stop))

    ahead = 2 * max(1, workers)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="generate") as pool:
        pending: deque[tuple[TableSpec, range, Future[T]]] = deque()
        for spec, rows, start, stop in jobs(
            ctx, work, block_rows=block_rows, interleave=interleave
        ):
            pending.append((spec, rows, pool.submit(job, spec, start, stop)))
            if len(pending) > ahead:
                spec0, rows0, future = pending.popleft()
                yield spec0, rows0, future.result()
        while pending:
            spec0, rows0, future = pending.popleft()
            yield spec0, rows0, future.result()
