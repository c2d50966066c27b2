"""Exports at an fsspec URL (s3://, gs://, az://, file://, ...): written here, then uploaded;
read back by downloading them first.

An object store has no rename, so the all-or-nothing of a local export (a staging directory
renamed into place) becomes an order: every data file first, each manifest.json last. A
reader (``moeen-synth load URL``) takes only a dataset with its manifest, and checks every
file against the manifest's sha256. An upload that fails removes what it wrote.

The file system comes from fsspec; protocols beyond the local ones need their package (s3fs,
gcsfs, adlfs), which fsspec names when it is missing.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moeen_synth import paths
from moeen_synth.errors import UsageError
from moeen_synth.sinks.outdir import MANIFEST

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

SAY_EVERY = 5.0  # seconds between progress lines of an upload or a download


class _Progress:
    """Tells ``say`` how many files and MB are done, every SAY_EVERY seconds and at the end."""

    def __init__(self, say: Callable[[str], None] | None, verb: str, where: str = "") -> None:
        self.say, self.verb, self.where = say, verb, where
        self.last = time.monotonic()

    def __call__(self, done: int, files: int, sent: int, total: int) -> None:
        if self.say and (done == files or time.monotonic() - self.last >= SAY_EVERY):
            self.last = time.monotonic()
            self.say(
                f"{self.verb} {done}/{files} files, "
                f"{sent / 1e6:,.1f}/{total / 1e6:,.1f} MB{self.where}"
            )


def is_url(text: str | Path) -> bool:
    """True for ``protocol://...``; a plain path is a local directory."""
    return isinstance(text, str) and "://" in text


@dataclass(frozen=True)
class Remote:
    url: str
    fs: AbstractFileSystem
    root: str  # the URL's path inside ``fs``

    def path(self, relative: str) -> str:
        return f"{self.root.rstrip('/')}/{relative}"

    def display(self, relative: str = "") -> str:
        return f"{self.url.rstrip('/')}/{relative}" if relative else self.url


def open_url(url: str) -> Remote:
    """The file system and path of ``url``; UsageError for an unknown protocol or a
    protocol whose package is not installed."""
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(url)
    except ImportError as exc:
        extra = " (pip install 'moeen-synth[s3]')" if url.startswith(("s3://", "s3a://")) else ""
        raise UsageError(f"{url}: {exc}{extra}") from None
    except ValueError as exc:
        raise UsageError(f"{url}: {exc}") from None
    return Remote(url, fs, root)


def entries(remote: Remote) -> list[str]:
    try:
        return list(remote.fs.ls(remote.root, detail=False))
    except FileNotFoundError:
        return []


def check(remote: Remote, *, force: bool) -> None:
    """Raise UsageError if writing to ``remote`` would overwrite what it should not (the
    rules of a local --out)."""
    if remote.fs.isfile(remote.root):
        raise UsageError(f"--out {remote.url} is a file; give a directory (a prefix)")
    if not entries(remote):
        return
    if not force:
        raise UsageError(
            f"--out {remote.url} is not empty; choose another URL or add --force to replace it"
        )
    found = [e for e in remote.fs.find(remote.root) if e.rsplit("/", 1)[-1] == MANIFEST]
    if not found:
        raise UsageError(
            f"--out {remote.url} holds files but no {MANIFEST}, so it is not a moeen-synth "
            "output; --force replaces only earlier outputs. Choose another URL"
        )


def upload(
    local: Path, remote: Remote, *, force: bool, say: Callable[[str], None] | None = None
) -> None:
    """Copy the export in ``local`` to ``remote``: data files, then manifests. With
    ``force``, what was there goes first (an object store cannot swap a prefix). ``say``
    hears how far it got, every few seconds and at the end."""
    files = sorted(p for p in local.rglob("*") if p.is_file())
    ordered = [p for p in files if p.name != MANIFEST] + [p for p in files if p.name == MANIFEST]
    total = sum(p.stat().st_size for p in files)
    if force and entries(remote):
        remote.fs.rm(remote.root, recursive=True)
    written: list[str] = []
    sent, tell = 0, _Progress(say, "uploaded", f" to {remote.url}")
    try:
        for made in {p.parent for p in files} | {local}:
            remote.fs.makedirs(remote.path(made.relative_to(local).as_posix()), exist_ok=True)
        for file in ordered:
            target = remote.path(file.relative_to(local).as_posix())
            remote.fs.put_file(str(file), target)
            written.append(target)
            sent += file.stat().st_size
            tell(len(written), len(ordered), sent, total)
    except BaseException:
        for target in reversed(written):
            with suppress(Exception):
                remote.fs.rm_file(target)
        raise


@contextmanager
def uploading(url: str, *, force: bool, say: Callable[[str], None] | None = None) -> Iterator[Path]:
    """A fresh local directory to export into (under outputs/); on success its files go
    to ``url``, and in any case it goes."""
    remote = open_url(url)
    check(remote, force=force)
    scratch = paths.outputs_dir() / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="upload-", dir=scratch) as tmp:
        local = Path(tmp) / "export"
        yield local
        upload(local, remote, force=force, say=say)


@contextmanager
def downloaded(url: str, say: Callable[[str], None] | None = None) -> Iterator[Path]:
    """The export at ``url`` in a local directory (under outputs/), removed on leaving.
    Only the manifest and the files it lists are fetched; their sha256 are checked by the
    reader of the manifest."""
    remote = open_url(url)
    try:
        raw = remote.fs.cat_file(remote.path(MANIFEST))
        data: dict[str, Any] = json.loads(raw)
    except FileNotFoundError:
        raise UsageError(
            f"{url}: no {MANIFEST} there; give the URL of a moeen-synth export (a dataset is "
            "complete only once its manifest is written)"
        ) from None
    except ValueError as exc:
        raise UsageError(f"{url}/{MANIFEST}: not JSON ({exc})") from None
    scratch = paths.outputs_dir() / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    local = Path(tempfile.mkdtemp(prefix="download-", dir=scratch))
    try:
        listed: dict[str, Any] = data.get("files", {})
        total = sum(int(meta.get("bytes", 0)) for meta in listed.values())
        got, tell = 0, _Progress(say, "downloaded")
        for done, (name, meta) in enumerate(listed.items(), start=1):
            target = local / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                remote.fs.get_file(remote.path(name), str(target))
            except FileNotFoundError:
                raise UsageError(f"{url}: {name} is in the manifest but not there") from None
            got += int(meta.get("bytes", 0))
            tell(done, len(listed), got, total)
        for table in data.get("tables", {}):
            if data.get("format") == "parquet":
                (local / table).mkdir(exist_ok=True)
        (local / MANIFEST).write_bytes(raw)
        yield local
    finally:
        shutil.rmtree(local, ignore_errors=True)
