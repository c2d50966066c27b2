"""``manifest.json``: what a file export holds and how to check it is intact.

Written last, with no clock or machine in it, so the same export gives the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moeen_synth import __version__
from moeen_synth.errors import UsageError
from moeen_synth.plan import Shard
from moeen_synth.profile import Profile, parse, settings_sha256
from moeen_synth.sinks.files import FileRecord, sha256_of

NAME = "manifest.json"
VERSION = 1


@dataclass
class TableEntry:
    rows: int
    first_row: int  # index of this shard's first row in the whole table
    total_rows: int  # rows of the whole table, over all shards
    columns: list[str]
    files: list[str] = field(default_factory=list)


def build(
    *,
    fmt: str,
    profile: Profile,
    shard: Shard,
    tables: dict[str, TableEntry],
    files: list[FileRecord],
    options: dict[str, Any],
) -> dict[str, Any]:
    return {
        "manifest_version": VERSION,
        "tool": {"name": "moeen-synth", "version": __version__},
        "format": fmt,
        "options": options,
        "profile": {
            "name": profile.name,
            "sha256": profile.sha256,
            "resolved": profile.model_dump(mode="json"),
        },
        "seed": profile.seed,
        "as_of": profile.as_of.isoformat(),
        "shard": {"index": shard.index, "count": shard.count},
        "tables": {name: vars(entry) for name, entry in tables.items()},
        "files": {r.path: {"bytes": r.bytes, "sha256": r.sha256} for r in files},
    }


def write_whole(
    root: Path,
    fmt: str,
    profile: Profile,
    rows: dict[str, int],
    columns: dict[str, list[str]],
    files: dict[str, list[FileRecord]],
    options: dict[str, Any],
    records: list[FileRecord] | None = None,
) -> list[FileRecord]:
    """Write the manifest of a whole data set (not a shard): each table's rows, columns and
    files, in ``rows``' order; ``records`` lists the files (default: by table). Returns them."""
    if records is None:
        records = [r for table in rows for r in files.get(table, [])]
    tables = {
        table: TableEntry(
            rows=count,
            first_row=0,
            total_rows=count,
            columns=columns[table],
            files=[r.path for r in files.get(table, [])],
        )
        for table, count in rows.items()
    }
    write(
        root,
        build(
            fmt=fmt, profile=profile, shard=Shard(), tables=tables, files=records, options=options
        ),
    )
    return records


def write(directory: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    temp = directory / (NAME + ".partial")
    temp.write_text(text, encoding="utf-8")
    temp.rename(directory / NAME)


@dataclass
class FileSet:
    """One checked export directory."""

    directory: Path
    format: str
    profile: Profile
    profile_sha256: str  # as recorded at export
    shard: Shard
    tables: dict[str, TableEntry]
    # False for fixtures whose dates moved per patient: each patient has a "now" of their
    # own, so the checks against one as_of do not apply (``jobs.fixtures``).
    one_now: bool = True


def read(directory: Path) -> FileSet:
    """Read ``directory``'s manifest and check every file it lists against its sha256."""
    path = directory / NAME
    if not path.is_file():
        raise UsageError(
            f"{directory} has no {NAME}: it is not a finished moeen-synth export "
            "(an interrupted export leaves none); export again"
        )
    try:
        data = json.loads(path.read_text("utf-8"))
        if data.get("manifest_version") != VERSION:
            raise UsageError(
                f"{path}: manifest_version {data.get('manifest_version')!r} is not {VERSION}; "
                "export again with this version of moeen-synth"
            )
        profile = parse(data["profile"]["resolved"], f"{path} (profile)")
        tables = {name: TableEntry(**entry) for name, entry in data["tables"].items()}
        shard = Shard(int(data["shard"]["index"]), int(data["shard"]["count"]))
        fmt = str(data["format"])
        files = dict(data["files"])
        one_now = bool(data.get("options", {}).get("fixtures", {}).get("one_now", True))
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path} is not a valid manifest ({exc}); export again") from None
    # The recorded settings, not the profile re-read from them: a later version of the tool
    # may add settings with defaults, which changes Profile.sha256 but not the files.
    if settings_sha256(data["profile"]["resolved"]) != data["profile"]["sha256"]:
        raise UsageError(f"{path}: the profile settings do not match their recorded sha256")
    problems = []
    for name, meta in files.items():
        file = directory / name
        if not file.is_file():
            problems.append(f"{name}: missing")
        elif file.stat().st_size != meta["bytes"] or sha256_of(file) != meta["sha256"]:
            problems.append(f"{name}: changed since it was written (sha256 differs)")
    if problems:
        raise UsageError(
            f"{directory} does not match its manifest; nothing was loaded:\n  "
            + "\n  ".join(problems)
            + "\nexport the files again rather than editing them"
        )
    return FileSet(directory, fmt, profile, data["profile"]["sha256"], shard, tables, one_now)
