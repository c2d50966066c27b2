"""What the command line offers before it imports a job: the output formats and the default
block size. The jobs take them from here; the command line imports a job only to run it
(importing every job took most of a second of each command, `--help` included)."""

from __future__ import annotations

from typing import Literal

ExportFormat = Literal["parquet", "sql", "csv", "supabase"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("parquet", "sql", "csv", "supabase")
FIXTURE_FORMATS = ("json", "sql", "parquet", "csv", "supabase")
BLOCK_ROWS = 50_000  # default rows per generated block (--chunk-size); rows never depend on it
