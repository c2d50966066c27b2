"""The three allocators of one process, told how to keep memory flat.

A generating process allocates through three allocators: polars' jemalloc, Arrow's memory
pool (mimalloc by default) and glibc's malloc (Python, numpy). Each keeps freed memory for
reuse, so peak RSS is the sum of three high-water marks, not of what is live. Peak RSS of a
Parquet export of load-1m on two cores: 655-686 MiB as shipped before; Arrow on glibc's
malloc instead of its own pool 605-623; polars' jemalloc with one arena instead of four per
core 637-653; glibc with two arenas instead of eight per core 606-628; all of them and the
fixed threshold below 537-568 MiB, wall time within the runs' noise. load-10m: 753 MiB
before, 630 after (678 with glibc's sliding threshold left on).

glibc serves a block from mmap when it is at least the mmap threshold, which by default
slides up (to 32 MiB) as large blocks are freed, so most of them end up reused from the
heap and the heap fragments as a long run goes on. Setting any malloc parameter by
environment turns the sliding off: Dask's nanny starts its workers with
MALLOC_TRIM_THRESHOLD_=65536, which leaves the threshold at 128 KiB, and every numpy or
Arrow temporary above it costs fresh pages (a Parquet export of load-1m in a worker: 44 s
against 19 s). A fixed threshold of 4 MiB gives back the speed and returns blocks of 4 MiB
and more to the system when freed (1 MiB: 20 MiB less, 3 s more of page faults).
"""

from __future__ import annotations

import ctypes
import os
import sys

M_MMAP_THRESHOLD = -3  # mallopt's parameter numbers in glibc's malloc.h
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 4 << 20
GLIBC_ARENAS = 2  # the generating threads and the writing one share them
JEMALLOC_CONF = "narenas:1"  # polars' allocator; polars adds its own settings before these


def fixed_mmap_threshold(size: int = MMAP_THRESHOLD_BYTES) -> None:
    """Serve blocks of ``size`` bytes and more from mmap; elsewhere than glibc, nothing."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, size)


def configure_process() -> None:
    """Set all three allocators for this process and those it starts (Dask workers inherit
    the environment). The jemalloc and Arrow settings are read when polars and pyarrow are
    first imported, so this runs before them; theirs already in the environment win."""
    if "polars" not in sys.modules:
        given = os.environ.get("_RJEM_MALLOC_CONF")
        os.environ["_RJEM_MALLOC_CONF"] = f"{JEMALLOC_CONF},{given}" if given else JEMALLOC_CONF
    if "pyarrow" not in sys.modules:
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_ARENA_MAX, GLIBC_ARENAS)
    fixed_mmap_threshold()


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None
