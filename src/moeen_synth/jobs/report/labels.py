"""The report's labels in English and Arabic (labels.csv beside this module)."""

from __future__ import annotations

import functools

from moeen_synth.vocab import load as load_vocab
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
        """A category's label (a status, a method, an insurer, a speciality...), or the
        name itself (a table's name, an age band)."""
        row = _table().get(f"item.{name}")
        if row:
            return row[self.language]
        return _vocabulary_names(self.language).get(name, name)


@functools.cache
def _vocabulary_names(language: str) -> dict[str, str]:
    """Insurers and specialities by their English name, in ``language``."""
    vocab = load_vocab()
    return {
        row["name_en"]: row[f"name_{language}"] for row in (*vocab.insurers, *vocab.specialities)
    }
