"""Benchmark: writing each file format for a profile, against generation alone measured in
the same run; optionally loading the files back. Not a test; prints medians.

    python bench/files.py --profile load-1m [--runs 3] [--load] [--dsn URL]

For every format: ``moeen-synth --profile P --format F`` in a subprocess, wall time, rows/s,
MB/s of output, peak RSS, and the ratio of its rows/s to generation only (the share of the
time the writing costs); generation and the formats alternate run by run. With --load,
``moeen-synth load DIR`` of the Parquet and CSV files into an empty database, rows/s.
Ends with the Parquet size of every table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import admin_dsn, drop_database, fresh_database, generation, run_measured

FORMATS = ("parquet", "csv", "sql")


def timed(command: list[str]) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of a moeen-synth subprocess."""
    return run_measured([*command, "--quiet"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="load-1m")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--load", action="store_true", help="also time `moeen-synth load`")
    parser.add_argument("--dsn", help="administrative DSN for --load (default: embedded)")
    parser.add_argument("--tmp", help="directory for the files (default: system temp)")
    args = parser.parse_args()

    # Generation and the formats alternate, run by run, so a noisy minute on a shared
    # machine falls on all of them alike rather than on one side of the ratios.
    gen: list[float] = []
    runs: dict[str, list[tuple[float, int]]] = {fmt: [] for fmt in FORMATS}
    rows = 0
    with tempfile.TemporaryDirectory(prefix="moeen-bench-files-", dir=args.tmp) as tmp:
        for _ in range(args.runs):
            rows, seconds, _cpu = generation(args.profile)
            gen.append(seconds)
            for fmt in FORMATS:
                out = Path(tmp) / fmt
                shutil.rmtree(out, ignore_errors=True)
                runs[fmt].append(
                    timed(["--profile", args.profile, "--format", fmt, "--out", str(out)])
                )
        g = statistics.median(gen)
        print(f"profile {args.profile}: {rows:,} rows, medians of {args.runs} runs, alternating")
        print(f"generation only  {rows / g:12,.0f} rows/s  ({g:.1f} s, one process)")
        sizes: dict[str, int] = {}
        for fmt in FORMATS:
            out = Path(tmp) / fmt
            seconds = statistics.median(s for s, _ in runs[fmt])
            peak = statistics.median(r for _, r in runs[fmt]) / 1024
            manifest = json.loads((out / "manifest.json").read_text("utf-8"))
            size = sum(f["bytes"] for f in manifest["files"].values())
            print(
                f"{fmt:<8} write   {rows / seconds:12,.0f} rows/s  {size / seconds / 1e6:7.1f} MB/s"
                f"  ({seconds:.1f} s, {size / 1e6:,.0f} MB, peak RSS {peak:,.0f} MiB,"
                f" {g / seconds:.2f} of generation's rate)"
            )
            if fmt == "parquet":
                for table, entry in manifest["tables"].items():
                    sizes[table] = sum(manifest["files"][f]["bytes"] for f in entry["files"])
        if args.load:
            with admin_dsn(args.dsn, Path(tmp)) as admin:
                for fmt in ("parquet", "csv"):
                    times = []
                    for _ in range(args.runs):
                        dsn = fresh_database(admin)
                        times.append(timed(["load", str(Path(tmp) / fmt), "--dsn", dsn])[0])
                        drop_database(admin, dsn)
                    s = statistics.median(times)
                    print(
                        f"{fmt:<8} load    {rows / s:12,.0f} rows/s  ({s:.1f} s, into PostgreSQL)"
                    )
        print("parquet size per table:")
        for table, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
            print(f"  {table:<24} {size / 1e6:10,.1f} MB")


if __name__ == "__main__":
    main()
