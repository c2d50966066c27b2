"""Benchmark: generation and loading speed for a profile, against a floor measured in the
same run. Not a test; prints medians of several runs.

    python bench/load.py --profile load-1m [--runs 3] [--dsn URL]

(1) generation only: rows/s of every table's generator, no database;
(2) end to end: ``moeen-synth --profile P`` into an empty database (a subprocess, so its peak
    RSS is measured), rows/s;
(3) the floor: the same rows already encoded as binary COPY files (the form the tool sends),
    COPYed (FREEZE) into the bare tables (foreign keys and secondary indexes dropped) plus
    rebuilding them, in one transaction (the definition issue 16's goals were set against);
(3b) the same with the primary keys and UNIQUE constraints off during the COPY too, as the
    tool itself loads: the tighter floor;
and the ratios (2)/(3) and (2)/(3b). The server is the embedded one in a temporary directory
unless --dsn names another (whose role must be allowed to create databases).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from moeen_synth import catalogue, plan
from moeen_synth import profile as profiles
from moeen_synth.catalogue import sql_types
from moeen_synth.db import bulk, migrate
from moeen_synth.db.embedded import EmbeddedServer
from moeen_synth.sinks.binary_copy import HEADER, TRAILER, copy_binary_parts


def generation(name: str) -> tuple[int, float, float]:
    """Rows, wall seconds and CPU seconds (all threads: polars uses a few) of generating."""
    ctx = plan.context(profiles.load(name))
    t0, c0 = time.perf_counter(), time.process_time()
    rows = 0
    work = [(spec, range(total)) for spec, total in plan.plan(ctx)]
    # In the order a load makes them: the tables along the appointments interleaved.
    for spec, _, start, stop in plan.jobs(ctx, work, block_rows=plan.BLOCK_ROWS, interleave=True):
        assert spec.generate is not None
        rows += spec.generate(ctx, start, stop).height
    return rows, time.perf_counter() - t0, time.process_time() - c0


@contextmanager
def admin_dsn(given: str | None, folder: Path) -> Iterator[str]:
    """``given``, else a private embedded server under ``folder``, stopped on leaving."""
    if given is not None:
        yield given
        return
    server = EmbeddedServer(folder / "pg")
    try:
        yield server.ensure_running().dsn
    finally:
        server.stop()


def fresh_database(admin: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_conninfo(admin, dbname=name)


def drop_database(admin: str, dsn: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(str(name))))


# Runs a command as a child of this small process and prints the child's peak RSS (KiB). On
# Linux a child's ru_maxrss includes the RSS of the process it was spawned from (counted
# when it execs), so spawning the tool straight from this benchmark, which has generated
# millions of rows in-process, would report the benchmark's own size.
_PEAK_RSS = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def user_env() -> dict[str, str]:
    """The environment as a user runs the tool: with Python's bytecode cache (a shell that
    turns it off makes every run compile the package again, about 0.15 s)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_measured(command: list[str]) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of ``command`` (moeen-synth's arguments) in a subprocess."""
    exe = Path(sys.executable).with_name("moeen-synth")
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, str(exe), *command],
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        env=user_env(),
    )
    seconds = time.perf_counter() - t0
    *output, peak = done.stderr.strip().splitlines() or ["0"]
    if done.returncode != 0:
        sys.stderr.write("\n".join(output) + "\n")
        raise SystemExit(f"moeen-synth {' '.join(command)} failed with status {done.returncode}")
    return seconds, int(peak)


def end_to_end(name: str, dsn: str) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of the command in a subprocess."""
    return run_measured(["--profile", name, "--dsn", dsn, "--quiet"])


def encode_all(name: str, folder: Path) -> list[tuple[str, list[str], Path, int]]:
    ctx = plan.context(profiles.load(name))
    files = []
    for spec, total in plan.plan(ctx):
        if not total:
            continue
        path = folder / f"{spec.name}.copy"
        columns: list[str] = []
        with open(path, "wb") as out:
            out.write(HEADER)
            for frame in plan.blocks(ctx, spec, total):
                columns = frame.columns
                _, body, _ = copy_binary_parts(frame, sql_types()[spec.name])
                out.write(body)
            out.write(TRAILER)
        files.append((spec.name, columns, path, total))
    return files


def floor(files: list[tuple[str, list[str], Path, int]], dsn: str, *, keys: bool) -> float:
    """Seconds for the pre-encoded files; ``keys``: keys kept during the COPY."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        migrate.migrate(conn)
    with psycopg.connect(dsn) as conn:
        t0 = time.perf_counter()
        # As the tool does: the generated tables emptied in the transaction, COPY FREEZE.
        frozen = [f[0] for f in files if f[0] in catalogue.GENERATED]
        deferred = bulk.defer(conn, [f[0] for f in files], keys=[] if keys else frozen)
        conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, frozen))))
        with conn.cursor() as cur:
            for table, columns, path, _ in files:
                options = "FORMAT binary, FREEZE true" if table in frozen else "FORMAT binary"
                stmt = sql.SQL("COPY {} ({}) FROM STDIN ({})").format(
                    sql.Identifier(table),
                    sql.SQL(", ").join(map(sql.Identifier, columns)),
                    sql.SQL(options),
                )
                with cur.copy(stmt) as copy, open(path, "rb") as data:
                    while chunk := data.read(1 << 20):
                        copy.write(chunk)
        bulk.restore(conn, deferred)
        conn.commit()
        return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="load-1m")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dsn", help="administrative DSN of the server to use")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="moeen-bench-") as tmp,
        admin_dsn(args.dsn, Path(tmp)) as admin,
    ):
        gen = [generation(args.profile) for _ in range(args.runs)]
        rows = gen[0][0]
        e2e, floors, bare, rss = [], [], [], []
        files = encode_all(args.profile, Path(tmp))
        for _ in range(args.runs):
            dsn = fresh_database(admin)
            seconds, peak = end_to_end(args.profile, dsn)
            e2e.append(seconds)
            rss.append(peak)
            drop_database(admin, dsn)
            dsn = fresh_database(admin)
            floors.append(floor(files, dsn, keys=True))
            drop_database(admin, dsn)
            dsn = fresh_database(admin)
            bare.append(floor(files, dsn, keys=False))
            drop_database(admin, dsn)

    g = statistics.median(s for _, s, _ in gen)
    cpu = statistics.median(c for _, _, c in gen)
    e = statistics.median(e2e)
    f = statistics.median(floors)
    b = statistics.median(bare)
    print(f"profile {args.profile}: {rows:,} rows, medians of {args.runs} runs")
    print(f"(1) generation only   {rows / g:12,.0f} rows/s  ({g:.1f} s, one process)")
    print(f"    per CPU second    {rows / cpu:12,.0f} rows    ({cpu:.1f} s of CPU)")
    print(f"(2) end to end        {rows / e:12,.0f} rows/s  ({e:.1f} s, incl. migrate, validate)")
    print(
        f"(3) floor             {rows / f:12,.0f} rows/s  ({f:.1f} s, pre-encoded COPY into "
        "bare tables + rebuild)"
    )
    print(
        f"(3b) floor, keys off  {rows / b:12,.0f} rows/s  ({b:.1f} s, keys too built after "
        "the COPY)"
    )
    print(f"ratio (2)/(3)         {f / e:12.2f}")
    print(f"ratio (2)/(3b)        {b / e:12.2f}")
    print(f"peak RSS (2)          {statistics.median(rss) / 1024:12,.0f} MiB")


if __name__ == "__main__":
    main()
