"""The command sets its allocators before polars and pyarrow are imported; a user's own
settings in the environment win."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = (
    "import moeen_synth.cli, os, pyarrow; "
    "print(pyarrow.default_memory_pool().backend_name); print(os.environ['_RJEM_MALLOC_CONF'])"
)


def _probe(**env: str) -> list[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("ARROW_DEFAULT_MEMORY_POOL", "_RJEM_MALLOC_CONF")
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def test_the_command_sets_the_allocators() -> None:
    pool, jemalloc = _probe()
    assert pool == "system"
    assert "narenas:1" in jemalloc.split(",")


def test_settings_in_the_environment_win() -> None:
    pool, jemalloc = _probe(ARROW_DEFAULT_MEMORY_POOL="mimalloc", _RJEM_MALLOC_CONF="narenas:3")
    assert pool == "mimalloc"
    options = jemalloc.split(",")
    assert options.index("narenas:3") > options.index("narenas:1")  # jemalloc: the last wins
