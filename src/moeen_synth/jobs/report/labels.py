"""The report's labels in English and Arabic (labels.csv beside this module)."""

from __future__ import annotations

import functools

from moeen_synth.vocab import read_csv

LANGUAGES = ("ar", "en")  # Arabic first: the platform's first language


@functools.cache
def _table() -> dict[str, dict[str, str]]:
    return {row["key"]: row for row in read_csv("labels.csv", __package__)}


class Labels:
    """Labels in one language: ``labels("title")``, ``labels.item("no_show")``."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, key: str) -> str:
        return _table()[key][self.language]

    def item(self, name: str) -> str:
        """A category's label (a status, a method, a weekday...), or the name itself."""
        row = _table().get(f"item.{name}")
        return row[self.language] if row else name
