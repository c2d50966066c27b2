"""Vocabularies: both languages on every row, in the right script, and consistent."""

from __future__ import annotations

import re
import unicodedata
from importlib import resources
from pathlib import Path

import pytest

from moeen_synth import paths, vocab

ARABIC = re.compile(r"[\u0600-\u06FF]")
LATIN = re.compile(r"[A-Za-z]")
FILES = sorted(
    p.name for p in resources.files("moeen_synth.vocab").iterdir() if p.name.endswith(".csv")
)


@pytest.mark.parametrize("name", FILES)
def test_file_cites_its_source_and_has_both_languages(name: str) -> None:
    text = resources.files("moeen_synth.vocab").joinpath(name).read_text(encoding="utf-8")
    rows = vocab.read_csv(name)

    assert text.startswith("#"), f"{name} must begin with comment lines citing its source"
    assert rows
    for i, row in enumerate(rows):
        for col, value in row.items():
            assert value == unicodedata.normalize("NFC", value), (name, i, col)
            if col.endswith("_ar") and value:
                assert ARABIC.search(value), (name, i, col, value)
            if col.endswith("_en") and value:
                assert not ARABIC.search(value) and LATIN.search(value), (name, i, col, value)


def test_cross_references_resolve() -> None:
    v = vocab.load()
    specialities = {r["code"] for r in v.specialities}
    icd = {r["icd10"] for r in v.diagnoses}
    cities = {r["city_code"] for r in v.cities}

    assert all(set(vocab.split_list(r["specialities"])) <= specialities for r in v.diagnoses)
    assert all(set(vocab.split_list(r["icd10"])) <= icd for r in v.medications)
    assert all(r["city_code"] in cities for r in v.districts)
    assert {"Internal Medicine", "Pediatrics", "Cardiology"} <= {
        r["name_en"] for r in v.specialities
    }


def test_template_placeholders_are_declared() -> None:
    for row in vocab.load().templates:
        used = set(re.findall(r"\{\{(\w+)\}\}", row["subject"] + row["body"]))
        assert used == set(vocab.split_list(row["variables"])), row["name"]


def test_platform_default_templates_match_the_migration() -> None:
    sql = (paths.schema_dir() / "0002_platform_defaults.up.sql").read_text(encoding="utf-8")
    for row in vocab.load().templates:
        if row["platform_default"] == "true":
            assert row["body"] in sql and row["subject"] in sql, row["name"]


def test_every_english_template_has_an_arabic_one() -> None:
    names = {r["name"] for r in vocab.load().templates}

    assert {n.removesuffix("_en") for n in names if n.endswith("_en")} <= names


def test_readme_lists_every_file() -> None:
    readme = (Path(str(resources.files("moeen_synth.vocab"))) / "README.md").read_text()

    assert all(name in readme for name in FILES), [n for n in FILES if n not in readme]
