"""What the file sinks share: files written under a temporary name, hashed, then renamed."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

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
