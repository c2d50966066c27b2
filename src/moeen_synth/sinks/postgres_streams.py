"""PostgreSQL through several COPY streams: the load's own transaction takes some tables,
and each further stream, a connection and a thread of its own, takes others into a staging
schema (made by ``db.stage``), runs the statements that build their keys and indexes as each
table is complete, and commits when every block is in. The load's transaction then swaps the
staged tables in; nothing a stream committed is visible in ``public`` before that.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql

from moeen_synth.errors import LoadError
from moeen_synth.sinks.files import FileRecord
from moeen_synth.sinks.postgres import CopyData, PostgresSink, Types

QUEUED_BLOCKS = 4  # per stream: enough to keep its COPY busy, few enough to bound memory


class Stream(threading.Thread):
    """One connection COPYing its tables into their staged look-alikes, in one transaction
    that the owner commits after ``close``."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        search_path: str,
        tables: Sequence[str],
        builds: Mapping[str, Sequence[str]],
        types: Types,
    ) -> None:
        """``search_path``: the staging schema first; ``builds``: per table, the statements
        to run once its rows are in."""
        super().__init__(name=f"copy-stream-{'-'.join(tables[:1])}", daemon=True)
        self.conn = conn
        self.search_path = search_path
        self.tables = list(tables)
        self.builds = builds
        self.sink = PostgresSink(conn, {}, frozenset(tables), types)
        self.inbox: queue.Queue[tuple[str, str, CopyData | None] | None] = queue.Queue(
            QUEUED_BLOCKS
        )
        self.error: BaseException | None = None
        self.stopping = threading.Event()  # the load failed elsewhere: do nothing more

    def run(self) -> None:
        try:
            # Unqualified names are the staged tables; emptying them in this transaction
            # lets COPY load them frozen (and, under wal_level = minimal, without WAL).
            self.conn.execute("SELECT set_config('search_path', %s, false)", (self.search_path,))
            self.conn.execute("SET maintenance_work_mem = '256MB'")
            self.conn.execute(
                sql.SQL("TRUNCATE {}").format(
                    sql.SQL(", ").join(sql.Identifier(t) for t in self.tables)
                )
            )
        except BaseException as exc:  # reported by the owner
            self.error = exc
        while (item := self.inbox.get()) is not None:
            if self.error is not None or self.stopping.is_set():
                continue  # keep taking blocks so the producer never waits on a dead stream
            kind, table, block = item
            try:
                if kind == "copy":
                    assert block is not None
                    self.sink.write(table, block, block.rows)
                else:
                    self._build(table)
            except BaseException as exc:  # reported by the owner
                self.error = exc

    def _build(self, table: str) -> None:
        for statement in self.builds[table]:
            try:
                self.conn.execute(statement.encode())
            except psycopg.Error as exc:
                reason = str(exc).strip().splitlines()[0]
                raise LoadError(
                    f"building the keys and indexes of {table} failed: {reason}"
                ) from exc

    def put(self, item: tuple[str, str, CopyData | None] | None) -> None:
        if self.error is not None and item is not None:
            raise self.error
        self.inbox.put(item)

    def close(self) -> None:
        """Send the end and wait for the stream to take everything before it."""
        self.inbox.put(None)
        self.join()


class StreamsSink:
    """A ``Sink`` over the load's own ``PostgresSink`` and further streams, each table going
    where ``owner`` says (tables not in it stay in the load's transaction)."""

    format = "postgres"
    interleaves = True

    def __init__(self, main: PostgresSink, streams: Sequence[Stream]) -> None:
        self.main = main
        self.streams: list[Stream] = []
        self.owner: dict[str, Stream] = {}
        for s in streams:
            self.add(s)

    def add(self, stream: Stream) -> None:
        """Start ``stream`` and send its tables to it."""
        self.streams.append(stream)
        self.owner.update(dict.fromkeys(stream.tables, stream))
        stream.start()

    def begin(self, table: str, columns: list[str], total: int) -> None:
        pass

    def prepare(self, table: str, block: Any) -> CopyData:
        return self.main.prepare(table, block)

    def write(self, table: str, prepared: CopyData, rows: int) -> None:
        owner = self.owner.get(table)
        if owner is None:
            self.main.write(table, prepared, rows)
        else:
            owner.put(("copy", table, prepared))

    def end(self, table: str) -> list[FileRecord]:
        owner = self.owner.get(table)
        if owner is not None:
            owner.put(("build", table, None))
        return []

    def finish(self) -> list[FileRecord]:
        """Wait for every stream; commit their staged tables if all of them held."""
        for s in self.streams:
            s.close()
        failed = [s.error for s in self.streams if s.error is not None]
        if failed:
            raise failed[0]
        for s in self.streams:
            s.conn.commit()
        return []

    def abandon(self) -> None:
        """After a failure elsewhere: stop the streams (the statement each runs cancelled, what
        is queued skipped) and roll their work back."""
        for s in self.streams:
            s.stopping.set()
            if s.is_alive():
                with contextlib.suppress(psycopg.Error):
                    s.conn.cancel()
        for s in self.streams:
            if s.is_alive():
                s.inbox.put(None)
                s.join()
            with contextlib.suppress(psycopg.Error):  # a broken one has nothing to keep
                s.conn.rollback()
