"""Bilingual vocabularies: data files beside this module, loaded once per process.

Each file cites its source in its leading ``#`` lines; see README.md in this folder.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

Row = dict[str, str]


def read_csv(name: str) -> list[Row]:
    """Rows of a vocabulary CSV, skipping its leading comment lines."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [dict(row) for row in csv.DictReader(lines)]


def read_yaml(name: str) -> Any:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def split_list(value: str) -> list[str]:
    """A semicolon-separated cell as a list (empty cell: empty list)."""
    return [part.strip() for part in value.split(";") if part.strip()]


@dataclass(frozen=True)
class Vocab:
    """Every vocabulary, as lists of rows in file order (indices are stable per version)."""

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


@functools.cache
def load() -> Vocab:
    return Vocab(
        first_names=read_csv("first_names.csv"),
        family_names=read_csv("family_names.csv"),
        regions=read_csv("regions.csv"),
        cities=read_csv("cities.csv"),
        districts=read_csv("districts.csv"),
        streets=read_csv("streets.csv"),
        insurers=read_csv("insurers.csv"),
        specialities=read_csv("specialities.csv"),
        diagnoses=read_csv("diagnoses.csv"),
        medications=read_csv("medications.csv"),
        lab_tests=read_csv("lab_tests.csv"),
        chatbot_flows=list(read_yaml("chatbot_flows.yaml")["flows"]),
        templates=read_csv("notification_templates.csv"),
        translations=read_csv("translations.csv"),
        settings=read_csv("system_settings.csv"),
        texts=read_csv("texts.csv"),
        universities=read_csv("universities.csv"),
        user_agents=read_csv("user_agents.csv"),
    )
