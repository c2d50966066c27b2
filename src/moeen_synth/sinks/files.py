"""What the file sinks share: files written under a temporary name, hashed, then renamed."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

PARTIAL = ".partial"  # suffix of a file still being written


@dataclass(frozen=True)
class FileRecord:
    path: str  # relative to the format's directory, with forward slashes
    bytes: int
    sha256: str


def sha256_of(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def publish(root: Path, temp: Path, final: Path) -> FileRecord:
    """Flush ``temp`` to disk and rename it to ``final``: a reader sees all or nothing."""
    with temp.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(temp, final)
    return FileRecord(final.relative_to(root).as_posix(), final.stat().st_size, sha256_of(final))


class StreamFile:
    """A file written in pieces under ``name.partial``, published on ``close``."""

    def __init__(self, root: Path, relative: str) -> None:
        self.root = root
        self.final = root / relative
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.temp = self.final.with_name(self.final.name + PARTIAL)
        self.handle = self.temp.open("wb")

    def write(self, data: bytes) -> None:
        self.handle.write(data)

    def close(self) -> FileRecord:
        self.handle.close()
        return publish(self.root, self.temp, self.final)


class TableWriter(Protocol):
    """One table's files being written."""

    def write(self, prepared: Any, rows: int) -> None: ...

    def end(self) -> list[FileRecord]: ...


class TableFilesSink:
    """The shape of a sink that keeps one writer per table: blocks of several tables may
    alternate. Subclasses say how to ``open`` a table's writer and ``prepare`` a block."""

    format = ""
    interleaves = True

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tables: dict[str, TableWriter] = {}

    def open(self, table: str, columns: list[str]) -> TableWriter:
        raise NotImplementedError

    def begin(self, table: str, columns: list[str], total: int) -> None:
        self.tables[table] = self.open(table, columns)

    def write(self, table: str, prepared: Any, rows: int) -> None:
        self.tables[table].write(prepared, rows)

    def end(self, table: str) -> list[FileRecord]:
        return self.tables.pop(table).end()

    def finish(self) -> list[FileRecord]:
        return []
