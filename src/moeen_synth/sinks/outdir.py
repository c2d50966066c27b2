"""The output directory of a file export, made whole or not at all.

Files are written into a hidden sibling ``.NAME.partial-PID`` and the directory is renamed to
its name only when every file and the manifest are complete, so an interrupted run leaves
nothing that looks finished. A non-empty directory is refused unless ``force``, and even then
only if it is a previous moeen-synth output (it holds a manifest.json).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from moeen_synth.errors import UsageError

MANIFEST = "manifest.json"


def _is_output(path: Path) -> bool:
    return (path / MANIFEST).is_file() or any(
        (child / MANIFEST).is_file() for child in path.iterdir() if child.is_dir()
    )


def check(out: Path, *, force: bool) -> None:
    """Raise UsageError if writing to ``out`` would overwrite anything it should not."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a directory")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not force:
        raise UsageError(
            f"--out {out} is not empty; choose another directory or add --force to replace it"
        )
    if not _is_output(out):
        raise UsageError(
            f"--out {out} holds files but no {MANIFEST}, so it is not a moeen-synth output; "
            "--force replaces only earlier outputs. Choose another directory"
        )


@contextmanager
def staged(out: Path, *, force: bool) -> Iterator[Path]:
    """Yield an empty staging directory; on success it becomes ``out``, on failure it goes."""
    out = out.resolve()
    check(out, force=force)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)  # an empty or earlier output; renames keep the swap short
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)
