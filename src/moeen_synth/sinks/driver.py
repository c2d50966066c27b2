"""The one loop that feeds sinks: blocks in, each table begun, written and ended in every
sink, rows and time counted per table and per sink.

Blocks are prepared (encoded by every sink) where they are made, on the generating threads
(``plan.generate_ahead``), then written here in order. A table ends in every sink when all its
rows of this run are written; tables of an interleaving stream may alternate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from moeen_synth.errors import MoeenSynthError
from moeen_synth.sinks import Sink
from moeen_synth.sinks.files import FileRecord

Progress = Callable[[str, int, int], None]  # table, rows done, rows total


@dataclass
class Prepared:
    """A block as each sink encoded it."""

    columns: list[str]
    rows: int
    encoded: dict[str, Any]  # sink format -> what its prepare returned


@dataclass
class Driven:
    """What a drive wrote."""

    rows: dict[str, int] = field(default_factory=dict)  # per table, in the order begun
    columns: dict[str, list[str]] = field(default_factory=dict)  # per table begun
    # per table: from the end of the previous write to the end of its own, waits included
    seconds: dict[str, float] = field(default_factory=dict)
    files: dict[str, dict[str, list[FileRecord]]] = field(default_factory=dict)  # sink, table
    finished: dict[str, list[FileRecord]] = field(default_factory=dict)  # sink: spanning files


class SinkClock:
    """Seconds spent in each sink, summed over the generating threads and the writing one."""

    def __init__(self, sinks: Iterable[str]) -> None:
        self.seconds = dict.fromkeys(sinks, 0.0)
        self._lock = threading.Lock()

    def add(self, sink: str, since: float) -> None:
        with self._lock:
            self.seconds[sink] += time.perf_counter() - since


def _shape(block: Any) -> tuple[list[str], int]:
    if isinstance(block, pl.DataFrame):
        return block.columns, block.height
    return list(block.columns), int(block.rows)


def preparer(sinks: Mapping[str, Sink], clock: SinkClock) -> Callable[[str, Any], Prepared]:
    """``prepare(table, block)`` for every sink, timed: what the generating threads run."""

    def prepare(table: str, block: Any) -> Prepared:
        encoded: dict[str, Any] = {}
        for name, sink in sinks.items():
            t0 = time.perf_counter()
            encoded[name] = sink.prepare(table, block)
            clock.add(name, t0)
        columns, rows = _shape(block)
        return Prepared(columns, rows, encoded)

    return prepare


def drive(
    stream: Iterable[tuple[str, Prepared]],
    sinks: Mapping[str, Sink],
    totals: Mapping[str, int],
    clock: SinkClock,
    *,
    progress: Progress | None = None,
) -> Driven:
    """Write every block of ``stream`` into every sink; ``totals`` are each table's rows in
    this run. Raises MoeenSynthError if the stream gives a table more or fewer rows."""
    out = Driven(files={name: {} for name in sinks})
    mark = time.perf_counter()
    for table, block in stream:
        if table not in out.rows:
            out.rows[table], out.seconds[table] = 0, 0.0
            out.columns[table] = block.columns
            for sink in sinks.values():
                sink.begin(table, block.columns, totals[table])
        for name, sink in sinks.items():
            t0 = time.perf_counter()
            sink.write(table, block.encoded[name], block.rows)
            clock.add(name, t0)
        out.rows[table] += block.rows
        if out.rows[table] > totals[table]:
            raise MoeenSynthError(
                f"{table}: the source gave {out.rows[table]:,} rows, more than the "
                f"{totals[table]:,} planned"
            )
        now = time.perf_counter()
        out.seconds[table] += now - mark
        mark = now
        if progress:
            progress(table, out.rows[table], totals[table])
        if out.rows[table] == totals[table]:
            for name, sink in sinks.items():
                t0 = time.perf_counter()
                out.files[name][table] = sink.end(table)
                clock.add(name, t0)
    short = [
        f"{table} ({out.rows.get(table, 0):,} of {total:,})"
        for table, total in totals.items()
        if out.rows.get(table, 0) < total
    ]
    if short:
        raise MoeenSynthError(f"the source ended before every row was written: {', '.join(short)}")
    for name, sink in sinks.items():
        t0 = time.perf_counter()
        out.finished[name] = sink.finish()
        clock.add(name, t0)
    return out
