"""``moeen-synth load DIR...``: put exported Parquet or CSV files into PostgreSQL through the
same COPY path as a generated load, after checking them against their manifests.

Several directories are the shards of one export (same profile, shards 1..N once each).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moeen_synth.errors import UsageError
from moeen_synth.generators import TABLES, TableSpec
from moeen_synth.models.context import Context
from moeen_synth.profile import Profile
from moeen_synth.sinks import manifest
from moeen_synth.sinks.driver import Prepared
from moeen_synth.sinks.parquet import read_batches
from moeen_synth.sinks.postgres import CopyData

READ_BYTES = 1 << 20
LOADABLE = ("parquet", "csv")  # export formats this job reads back


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(READ_BYTES):
            yield chunk


def _check_header(path: Path, columns: list[str]) -> None:
    with path.open("rb") as handle:
        header = handle.readline().decode("utf-8").rstrip("\r\n")
    if header.split(",") != columns:
        raise UsageError(f"{path}: the header does not list the manifest's columns")


@dataclass
class ExportedFiles:
    """A load source (``jobs.load.Source``) reading a checked set of export directories."""

    sets: list[manifest.FileSet]

    @classmethod
    def open(cls, directories: list[Path]) -> ExportedFiles:
        sets = [manifest.read(d) for d in directories]
        for s in sets:
            if s.format not in LOADABLE:
                hint = (
                    f"psql -v ON_ERROR_STOP=1 -f {s.directory / 'load.sql'}"
                    if (s.format == "sql")
                    else "export it again as parquet or csv"
                )
                raise UsageError(
                    f"{s.directory} holds {s.format} files; load reads parquet or csv. "
                    f"Load SQL files with: {hint}"
                )
        first = sets[0]
        for s in sets[1:]:
            if s.profile_sha256 != first.profile_sha256:
                raise UsageError(
                    f"{s.directory} and {first.directory} come from different profiles or "
                    "seeds; load the shards of one export together"
                )
        count = first.shard.count
        have = sorted(s.shard.index for s in sets)
        if any(s.shard.count != count for s in sets) or have != list(range(1, count + 1)):
            raise UsageError(
                f"got shards {', '.join(f'{s.shard}' for s in sets)}; a load needs every "
                f"shard 1..{count} of the export exactly once"
            )
        return cls(sorted(sets, key=lambda s: s.shard.index))

    @property
    def profile(self) -> Profile:
        return self.sets[0].profile

    @property
    def one_now(self) -> bool:
        return all(s.one_now for s in self.sets)

    def plan(self, ctx: Context) -> list[tuple[TableSpec, int]]:
        return [
            (spec, sum(s.tables[spec.name].rows for s in self.sets if spec.name in s.tables))
            for spec in TABLES
        ]

    def blocks(
        self,
        ctx: Context,
        work: list[tuple[TableSpec, int]],
        prepare: Callable[[str, Any], Prepared],
    ) -> Iterator[tuple[str, Prepared]]:
        for spec, _ in work:
            for s in self.sets:
                entry = s.tables.get(spec.name)
                if entry is None or not entry.rows:
                    continue
                for name in entry.files:
                    path = s.directory / name
                    if s.format == "csv":
                        _check_header(path, entry.columns)
                        rows = CopyData(entry.columns, _chunks(path), entry.rows)
                        yield spec.name, prepare(spec.name, rows)
                    else:
                        for frame in read_batches(path):
                            yield spec.name, prepare(spec.name, frame)
