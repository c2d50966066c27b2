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
        v = ctx.vocab

        def group(o: str) -> str:
            return "arab" if o in ("saudi", "arab") else o

        self.first = {
            (g, o): np.array(
                [
                    i
                    for i, r in enumerate(v.first_names)
                    if r["gender"] == g and r["origin"] == group(o)
                ],
                dtype=np.int64,
            )
            for g in GENDERS
            for o in ORIGINS
        }
        self.family = {
            o: np.array(
                [i for i, r in enumerate(v.family_names) if r["origin"] == group(o)], dtype=np.int64
            )
            for o in ORIGINS
        }
        for name, pool in [*self.first.items(), *self.family.items()]:
            if len(pool) == 0:
                raise UsageError(f"vocabulary has no names for {name}")
        self.first_ar = text_column(v.first_names, "name_ar")
        self.first_en = text_column(v.first_names, "name_en")
        self.first_ascii = pl.Series([_ascii(r["name_en"]) for r in v.first_names])
        self.family_ar = text_column(v.family_names, "name_ar")
        self.family_en = text_column(v.family_names, "name_en")
        self.family_ascii = pl.Series([_ascii(r["name_en"]) for r in v.family_names])
        weights = np.array([float(c["population_weight"]) for c in v.cities])
        self.city_weights = weights / weights.sum()
        codes = [c["city_code"] for c in v.cities]
        by_city = sorted(
            range(len(v.districts)), key=lambda i: codes.index(v.districts[i]["city_code"])
        )
        counts = np.array([sum(1 for d in v.districts if d["city_code"] == c) for c in codes])
        if (counts == 0).any():
            raise UsageError("vocabulary: every city in cities.csv needs a district")
        self.district_flat = np.array(by_city, dtype=np.int64)
        self.district_start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self.district_count = counts.astype(np.int64)
        self.city_ar, self.city_en = (
            text_column(v.cities, "name_ar"),
            text_column(v.cities, "name_en"),
        )
        self.postal_prefix = text_column(v.cities, "postal_prefix")
        self.district_ar = text_column(v.districts, "name_ar")
        self.district_en = text_column(v.districts, "name_en")
        self.street_ar, self.street_en = (
            text_column(v.streets, "name_ar"),
            text_column(v.streets, "name_en"),
        )


def pools(ctx: Context) -> Pools:
    result: Pools = ctx.cached("pools", lambda: Pools(ctx))
    return result


def pool_pick(pool_of: Mapping[Any, I64], keys: Sequence[Any], code: I64, u: F64) -> I64:
    """For each row, an element of the pool ``keys[code]`` chosen by ``u`` in [0, 1)."""
    out = np.empty(len(code), dtype=np.int64)
    for c in np.unique(code).tolist():
        sel = code == c
        pool = pool_of[keys[c]]
        out[sel] = pool[(u[sel] * len(pool)).astype(np.int64)]
    return out


def _ascii(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())
