"""``moeen-synth report``: what a database or an exported directory holds, beside the
profile's targets, as one self-contained HTML page and as JSON verdicts.

measures (SQL | polars) -> sources.Measured -> targets (verdicts) -> charts -> page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moeen_synth.jobs.report.page import as_json, html_page
from moeen_synth.jobs.report.sources import Measured, from_database, from_files
from moeen_synth.jobs.report.targets import Target, all_targets

__all__ = ["Report", "Target", "build", "from_database", "from_files", "write"]


@dataclass(frozen=True)
class Report:
    measured: Measured
    targets: list[Target]

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.targets)

    @property
    def failed(self) -> list[Target]:
        return [t for t in self.targets if not t.ok]

    def json(self) -> dict[str, Any]:
        return as_json(self.measured, self.targets)


def build(measured: Measured) -> Report:
    return Report(measured, all_targets(measured))


def write(report: Report, path: Path, language: str = "ar") -> Path:
    """Write the page whole or not at all (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = html_page(report.measured, report.targets, language)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
