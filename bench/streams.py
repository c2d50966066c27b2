"""Benchmark: a load through 1, 2, 4 ... COPY streams (``--streams N``) into an empty
database, alternating, on the same server in the same run. Not a test; prints medians.

    python bench/streams.py --profile load-1m [--streams 1 2 4] [--runs 3] [--dsn URL]

For each N: wall seconds of the whole command, rows/s, the ratio to one stream, and the
phases the command reports (COPY, including the staged streams and their index builds;
the swap, the rest of the rebuild and the foreign keys; the checks). The server is the
embedded one in a temporary directory unless --dsn names another.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from load import admin_dsn, drop_database, fresh_database

_PHASES = re.compile(r"COPY ([\d.]+) s, rebuild ([\d.]+) s, checks ([\d.]+) s")
_ROWS = re.compile(r"loaded ([\d,]+) rows")


def one_load(profile: str, dsn: str, streams: int) -> tuple[float, int, tuple[float, ...]]:
    """Seconds, rows and (COPY, rebuild, checks) seconds of one load."""
    exe = Path(sys.executable).with_name("moeen-synth")
    command = [str(exe), "--profile", profile, "--dsn", dsn, "--streams", str(streams)]
    t0 = time.perf_counter()
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"--streams {streams} failed with status {done.returncode}")
    phases = _PHASES.search(done.stdout)
    rows = _ROWS.search(done.stdout)
    if not (phases and rows):
        raise SystemExit(f"no summary in the output:\n{done.stdout}")
    return seconds, int(rows.group(1).replace(",", "")), tuple(map(float, phases.groups()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="load-1m")
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dsn", help="administrative DSN of the server to use")
    args = parser.parse_args()

    results: dict[int, list[tuple[float, int, tuple[float, ...]]]] = {n: [] for n in args.streams}
    with (
        tempfile.TemporaryDirectory(prefix="moeen-bench-") as tmp,
        admin_dsn(args.dsn, Path(tmp)) as admin,
    ):
        for run in range(args.runs):
            for n in args.streams:  # alternating, so drift hits every N alike
                dsn = fresh_database(admin)
                try:
                    results[n].append(one_load(args.profile, dsn, n))
                finally:
                    drop_database(admin, dsn)
                seconds = results[n][-1][0]
                print(f"run {run + 1}, {n} streams: {seconds:.1f} s", file=sys.stderr)

    base = statistics.median(r[0] for r in results[args.streams[0]])
    print(f"profile {args.profile}, medians of {args.runs} runs")
    print("| streams | seconds | rows/s | vs first | COPY s | rebuild s | checks s |")
    print("|---|---|---|---|---|---|---|")
    for n, runs in results.items():
        seconds = statistics.median(r[0] for r in runs)
        rows = runs[0][1]
        phases = [statistics.median(r[2][i] for r in runs) for i in range(3)]
        print(
            f"| {n} | {seconds:.1f} | {rows / seconds:,.0f} | {base / seconds:.2f} | "
            + " | ".join(f"{p:.1f}" for p in phases)
            + " |"
        )


if __name__ == "__main__":
    main()
