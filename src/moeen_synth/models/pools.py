"""Name and place pools: vocabulary lookups built once per run, to draw people's names
(by gender and origin) and addresses (districts grouped by city) as whole columns."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth.errors import UsageError
from moeen_synth.keys import F64
from moeen_synth.models.columns import text_column
from moeen_synth.models.context import Context
from moeen_synth.vocab import Vocab, split_list

I64 = npt.NDArray[np.int64]

GENDERS = ("male", "female")
ORIGINS = ("saudi", "arab", "south_asian", "filipino")
ORIGIN_WEIGHTS = (0.76, 0.10, 0.10, 0.04)
NATIONALITIES = {
    "saudi": ("SA",),
    "arab": ("EG", "JO", "SY", "YE", "SD"),
    "south_asian": ("IN", "PK", "BD"),
    "filipino": ("PH",),
}


class Pools:
    """Vocabulary lookups built once per run: name pools by gender and origin, name and place
    columns as polars Series to gather from, districts grouped by city."""

    def __init__(self, ctx: Context) -> None:
        vocab = ctx.vocab
        self._names(vocab)
        self._places(vocab)

    def _names(self, vocab: Vocab) -> None:
        """Name pools by gender and origin (Saudis draw from the Arab names), and the names'
        text columns."""

        def group(origin: str) -> str:
            return "arab" if origin in ("saudi", "arab") else origin

        self.first = {
            (gender, origin): np.array(
                [
                    index
                    for index, row in enumerate(vocab.first_names)
                    if row["gender"] == gender and row["origin"] == group(origin)
                ],
                dtype=np.int64,
            )
            for gender in GENDERS
            for origin in ORIGINS
        }
        self.family = {
            origin: np.array(
                [
                    index
                    for index, row in enumerate(vocab.family_names)
                    if row["origin"] == group(origin)
                ],
                dtype=np.int64,
            )
            for origin in ORIGINS
        }
        for name, pool in [*self.first.items(), *self.family.items()]:
            if len(pool) == 0:
                raise UsageError(f"vocabulary has no names for {name}")
        self.first_ar = text_column(vocab.first_names, "name_ar")
        self.first_en = text_column(vocab.first_names, "name_en")
        self.first_ascii = pl.Series([_ascii(row["name_en"]) for row in vocab.first_names])
        self.family_ar = text_column(vocab.family_names, "name_ar")
        self.family_en = text_column(vocab.family_names, "name_en")
        self.family_ascii = pl.Series([_ascii(row["name_en"]) for row in vocab.family_names])

    def _places(self, vocab: Vocab) -> None:
        """Cities with their population weights, districts grouped by city, streets."""
        weights = np.array([float(city["population_weight"]) for city in vocab.cities])
        self.city_weights = weights / weights.sum()
        codes = [city["city_code"] for city in vocab.cities]
        by_city = sorted(
            range(len(vocab.districts)),
            key=lambda district: codes.index(vocab.districts[district]["city_code"]),
        )
        counts = np.array(
            [
                sum(1 for district in vocab.districts if district["city_code"] == code)
                for code in codes
            ]
        )
        if (counts == 0).any():
            raise UsageError("vocabulary: every city in cities.csv needs a district")
        self.district_flat = np.array(by_city, dtype=np.int64)
        self.district_start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self.district_count = counts.astype(np.int64)
        self.city_ar, self.city_en = (
            text_column(vocab.cities, "name_ar"),
            text_column(vocab.cities, "name_en"),
        )
        self.postal_prefix = text_column(vocab.cities, "postal_prefix")
        self.district_ar = text_column(vocab.districts, "name_ar")
        self.district_en = text_column(vocab.districts, "name_en")
        self.street_ar, self.street_en = (
            text_column(vocab.streets, "name_ar"),
            text_column(vocab.streets, "name_en"),
        )
        # Streets grouped by city: a city's own streets and those found in every city.
        streets_of = [
            [
                number
                for number, street in enumerate(vocab.streets)
                if street["city_codes"].strip() == "*" or code in split_list(street["city_codes"])
            ]
            for code in codes
        ]
        unknown = {
            code
            for street in vocab.streets
            if street["city_codes"].strip() != "*"
            for code in split_list(street["city_codes"])
        } - set(codes)
        if unknown:
            raise UsageError(f"vocabulary: streets.csv names unknown city codes {sorted(unknown)}")
        if not all(streets_of):
            raise UsageError("vocabulary: every city in cities.csv needs a street")
        self.street_flat = np.array([n for group in streets_of for n in group], dtype=np.int64)
        self.street_count = np.array([len(group) for group in streets_of], dtype=np.int64)
        self.street_start = np.concatenate([[0], np.cumsum(self.street_count)[:-1]]).astype(
            np.int64
        )


def pools(ctx: Context) -> Pools:
    result: Pools = ctx.cached("pools", lambda: Pools(ctx))
    return result


def pool_pick(pool_of: Mapping[Any, I64], keys: Sequence[Any], code: I64, draw: F64) -> I64:
    """For each row, an element of the pool ``keys[code]`` chosen by ``draw`` in [0, 1)."""
    out = np.empty(len(code), dtype=np.int64)
    for value in np.unique(code).tolist():
        sel = code == value
        pool = pool_of[keys[value]]
        out[sel] = pool[(draw[sel] * len(pool)).astype(np.int64)]
    return out


def _ascii(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())
