"""glibc's malloc, told where large blocks come from.

glibc serves a block from mmap when it is at least the mmap threshold, which by default
slides up (to 32 MiB) as large blocks are freed, so most of them end up reused from the
heap. Setting any malloc parameter by environment turns the sliding off: Dask's nanny starts
its workers with MALLOC_TRIM_THRESHOLD_=65536, which leaves the threshold at 128 KiB, and
every numpy or Arrow temporary above it costs fresh pages (a Parquet export of load-1m in a
worker: 44 s against 19 s). A fixed threshold of 4 MiB gives back the speed (22 s) and keeps
blocks of 4 MiB and more returned to the system when freed, so memory stays flat.
"""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h
MMAP_THRESHOLD_BYTES = 4 << 20


def fixed_mmap_threshold(size: int = MMAP_THRESHOLD_BYTES) -> None:
    """Serve blocks of ``size`` bytes and more from mmap; elsewhere than glibc, nothing."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(M_MMAP_THRESHOLD, size)
