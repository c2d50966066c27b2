"""Benchmark: anonymised fixtures, against a floor measured in the same run. Not a test;
prints medians of several runs.

    python bench/fixtures.py [--profiles clinic,load-1m] [--runs 3] [--dsn URL]

For each profile, loaded once into a fresh database:
(1) the floor: a plain binary ``COPY table TO STDOUT`` of every table, rows/s;
(1b) the same rows read as the job reads them (ADBC record batches, the columns the policy
    writes) and written unchanged to Parquet with the sink's settings: the cost of moving
    the data, before any pseudonym;
(2) the whole database pseudonymised to Parquet (``moeen-synth fixtures --all``, every table,
    every row, a subprocess so its peak RSS is measured), rows/s, and the ratio (2)/(1);
(3) a 1,000-patient selection with its closure (``--patients 1000``, JSON and SQL, the leak
    check included), seconds and peak RSS;
and, over the profiles, how the peak RSS of (2) and (3) grows from the first to the last.
The server is the embedded one in a temporary directory unless --dsn names another (whose
role must be allowed to create databases).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from load import admin_dsn, drop_database, fresh_database, run_measured

from moeen_synth import catalogue
from moeen_synth.jobs.fixtures import policy, whole
from moeen_synth.sinks.parquet import writer_options


def floor(dsn: str) -> tuple[int, float]:
    """Rows and seconds of a binary COPY TO of every table."""
    rows = 0
    with psycopg.connect(dsn) as conn:
        t0 = time.perf_counter()
        for table in catalogue.NAMES:
            with conn.cursor().copy(f"COPY {table} TO STDOUT (FORMAT binary)") as copy:
                for _ in copy:
                    pass
        seconds = time.perf_counter() - t0
        for table in catalogue.NAMES:
            count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            rows += int(count[0]) if count else 0
    return rows, seconds


def unchanged(dsn: str, out: Path) -> float:
    """Seconds to read every table as ``fixtures --all`` does and write it unchanged to
    Parquet (one file per table, the export's writer settings)."""
    rules = policy.load()
    t0 = time.perf_counter()
    source = whole.connect(dsn)
    try:
        cursor = whole.reading(source)
        for table in catalogue.NAMES:
            writer = None
            for batch in whole.table_batches(cursor, table, rules.written(table)):
                if writer is None:
                    path = out / f"{table}.parquet"
                    writer = pq.ParquetWriter(path, batch.schema, **writer_options(batch.schema))
                writer.write_batch(batch)
            if writer is not None:
                writer.close()
    finally:
        source.close()
    return time.perf_counter() - t0


def measure(profile: str, admin: str, runs: int, tmp: Path) -> dict[str, float]:
    key = tmp / "bench.key"
    key.write_text("a benchmark key, not a secret at all\n")
    dsn = fresh_database(admin)
    try:
        run_measured(["--profile", profile, "--dsn", dsn, "--quiet"])
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")  # not autovacuum's work during the runs
        floors, moves, wholes, whole_rss, subsets, subset_rss = [], [], [], [], [], []
        rows = 0
        moved = tmp / "unchanged"
        for _ in range(runs):
            rows, seconds = floor(dsn)
            floors.append(seconds)
            moved.mkdir(exist_ok=True)
            moves.append(unchanged(dsn, moved))
            shutil.rmtree(moved)
            seconds, peak = run_measured(
                [
                    "fixtures",
                    "--from",
                    dsn,
                    "--all",
                    "--key-file",
                    str(key),
                    "--force",
                    "--out",
                    str(tmp / "whole"),
                ]
            )
            wholes.append(seconds)
            whole_rss.append(peak)
            seconds, peak = run_measured(
                [
                    "fixtures",
                    "--from",
                    dsn,
                    "--patients",
                    "1000",
                    "--key-file",
                    str(key),
                    "--force",
                    "--out",
                    str(tmp / "subset"),
                ]
            )
            subsets.append(seconds)
            subset_rss.append(peak)
    finally:
        drop_database(admin, dsn)
    f, w = statistics.median(floors), statistics.median(wholes)
    print(f"profile {profile}: {rows:,} rows, medians of {runs} runs")
    print(f"(1) floor: binary COPY TO  {rows / f:12,.0f} rows/s  ({f:.1f} s)")
    m = statistics.median(moves)
    print(f"(1b) unchanged to Parquet  {rows / m:12,.0f} rows/s  ({m:.1f} s)")
    print(f"    ratio (1b)/(1)         {f / m:12.2f}  (moving the data alone)")
    print(f"(2) fixtures --all parquet {rows / w:12,.0f} rows/s  ({w:.1f} s, whole command)")
    print(f"    ratio (2)/(1)          {f / w:12.2f}")
    print(f"    peak RSS               {statistics.median(whole_rss) / 1024:12,.0f} MiB")
    s = statistics.median(subsets)
    print(f"(3) 1,000 patients         {s:12.1f} s      (whole command, leak check included)")
    print(f"    peak RSS               {statistics.median(subset_rss) / 1024:12,.0f} MiB")
    return {"whole_rss": statistics.median(whole_rss), "subset_rss": statistics.median(subset_rss)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default="clinic,load-1m")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dsn", help="administrative DSN of the server to use")
    args = parser.parse_args()
    names = args.profiles.split(",")
    with (
        tempfile.TemporaryDirectory(prefix="moeen-bench-") as tmp,
        admin_dsn(args.dsn, Path(tmp)) as admin,
    ):
        results = [measure(name, admin, args.runs, Path(tmp)) for name in names]
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(f"peak RSS {names[-1]} / {names[0]}:")
        print(f"    fixtures --all         {last['whole_rss'] / first['whole_rss']:12.2f}")
        print(f"    1,000 patients         {last['subset_rss'] / first['subset_rss']:12.2f}")


if __name__ == "__main__":
    main()
