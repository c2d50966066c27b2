"""Benchmark: the Parquet (or CSV) export on a local Dask cluster of N workers against the
single-process export of the same profile in the same run. Not a test; prints medians.

    python bench/dask.py --profile load-1m [--workers 1 2] [--runs 3] [--format parquet]

For the single-process export and for ``--dask local:N`` at each N: wall seconds, rows/s,
the ratio to the single process, and memory sampled over the whole process tree (client,
nanny and worker processes): the peak of their sum and the peak of the largest one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import user_env


def run_sampled(command: list[str]) -> tuple[float, float, float]:
    """Seconds, peak RSS of the process tree (MiB, summed) and of its largest process."""
    exe = Path(sys.executable).with_name("moeen-synth")
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(exe), *command, "--quiet"], stderr=subprocess.PIPE, env=user_env())
    root = psutil.Process(proc.pid)
    peak_sum = peak_one = 0.0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            sizes = []
            for p in tree:
                with contextlib.suppress(psutil.Error):  # a process that just ended
                    sizes.append(p.memory_info().rss / 2**20)
            peak_sum, peak_one = max(peak_sum, sum(sizes)), max(peak_one, max(sizes, default=0))
        except psutil.Error:
            pass
        time.sleep(0.2)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.read().decode() if proc.stderr else "")
        raise SystemExit(f"moeen-synth {' '.join(command)} failed")
    return seconds, peak_sum, peak_one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="load-1m")
    parser.add_argument("--format", default="parquet", choices=("parquet", "csv"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tmp", help="directory for the files (default: system temp)")
    args = parser.parse_args()
    setups: list[tuple[str, list[str]]] = [("one process", [])] + [
        (f"dask local:{n}", ["--dask", f"local:{n}"]) for n in args.workers
    ]
    results: dict[str, list[tuple[float, float, float]]] = {}
    rows = 0
    with tempfile.TemporaryDirectory(prefix="moeen-bench-dask-", dir=args.tmp) as tmp:
        out = Path(tmp) / "out"
        for _ in range(args.runs):  # alternating, so drift in the machine hits every setup
            for name, extra in setups:
                shutil.rmtree(out, ignore_errors=True)
                base = ["--profile", args.profile, "--format", args.format, "--out", str(out)]
                results.setdefault(name, []).append(run_sampled(base + extra))
                manifest = json.loads((out / "manifest.json").read_text("utf-8"))
                rows = sum(t["rows"] for t in manifest["tables"].values())
    print(f"profile {args.profile}, {args.format}: {rows:,} rows, medians of {args.runs} runs")
    base_s = statistics.median(s for s, _, _ in results["one process"])
    for name, runs in results.items():
        seconds = statistics.median(s for s, _, _ in runs)
        total = statistics.median(m for _, m, _ in runs)
        largest = statistics.median(m for _, _, m in runs)
        print(
            f"{name:<14} {seconds:7.1f} s {rows / seconds:12,.0f} rows/s  "
            f"x{base_s / seconds:4.2f}  peak RSS: all processes {total:7,.0f} MiB, "
            f"largest {largest:6,.0f} MiB"
        )


if __name__ == "__main__":
    main()
