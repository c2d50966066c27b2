"""Bilingual vocabularies: data files beside this module, loaded once per process.

Each file cites its source in its leading ``#`` lines; see README.md in this folder.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, fields
from importlib import resources
from typing import Any

import yaml

Row = dict[str, str]


def read_csv(name: str, package: str | None = None) -> list[Row]:
    """Rows of a CSV shipped in ``package`` (the vocabularies' by default), skipping its
    leading comment lines."""
    text = resources.files(package or __package__).joinpath(name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [dict(row) for row in csv.DictReader(lines)]


def read_yaml(name: str) -> Any:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def split_list(value: str) -> list[str]:
    """A semicolon-separated cell as a list (empty cell: empty list)."""
    return [part.strip() for part in value.split(";") if part.strip()]


# Fields read from a file not named after them (the rest: ``<field>.csv``).
_FILES = {
    "chatbot_flows": "chatbot_flows.yaml",
    "templates": "notification_templates.csv",
    "settings": "system_settings.csv",
}


@dataclass(frozen=True)
class Vocab:
    """Every vocabulary, as lists of rows in file order (indices are stable per version).
    Each field is read from ``<field>.csv`` unless ``_FILES`` names another file."""

    first_names: list[Row]
    family_names: list[Row]
    regions: list[Row]
    cities: list[Row]
    districts: list[Row]
    streets: list[Row]
    insurers: list[Row]
    specialities: list[Row]
    diagnoses: list[Row]
    medications: list[Row]
    lab_tests: list[Row]
    chatbot_flows: list[dict[str, Any]]
    templates: list[Row]
    translations: list[Row]
    settings: list[Row]
    texts: list[Row]
    universities: list[Row]
    user_agents: list[Row]

    def speciality(self, name_en: str) -> Row:
        for row in self.specialities:
            if row["name_en"] == name_en:
                return row
        known = ", ".join(r["name_en"] for r in self.specialities)
        raise KeyError(f"unknown speciality {name_en!r}; known: {known}")

    def text(self, key: str, language: str) -> str:
        """A fixed phrase (labels, reasons, titles) in ``language`` ('ar' or 'en')."""
        return self._texts[key][f"text_{language}"]

    @functools.cached_property
    def _texts(self) -> dict[str, Row]:
        return {row["key"]: row for row in self.texts}


def _read(name: str) -> list[Any]:
    if name.endswith(".yaml"):
        return list(read_yaml(name)["flows"])
    return read_csv(name)


@functools.cache
def load() -> Vocab:
    return Vocab(**{f.name: _read(_FILES.get(f.name, f"{f.name}.csv")) for f in fields(Vocab)})
