"""Row text in the row's language: the one mechanism every table uses for it.

A ``Bilingual`` holds the English then the Arabic form of a list of texts in one column, so a
row's text in its language is a single gather, where choosing between two gathered columns
takes three passes over the rows. Fixed texts (a word, a unit) are lists of one; per-row
texts in both languages (a person's name) are lists as long as the rows.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth.models.columns import gather_or_null

LG = ("ar", "en")  # the platform's languages, Arabic first
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


class Bilingual:
    """Texts of a vocabulary in English then Arabic, in one column."""

    def __init__(self, texts: dict[str, list[str]]) -> None:
        self.size = len(texts["en"])
        self.series = pl.Series([*texts["en"], *texts["ar"]], dtype=pl.String)

    @classmethod
    def of(cls, en: pl.Series, ar: pl.Series) -> Bilingual:
        """From two columns of the same texts, one per language."""
        out = cls.__new__(cls)
        out.size, out.series = len(en), pl.concat([en, ar]).cast(pl.String)
        return out

    @classmethod
    def fixed(cls, ar: str, en: str) -> Bilingual:
        """One text in its two forms."""
        return cls({"en": [en], "ar": [ar]})

    def index(self, arabic: Mask, idx: I64) -> I64:
        """Positions in ``series`` of the texts ``idx`` (-1: none) in each row's language."""
        at: I64 = np.where(idx >= 0, idx + arabic * self.size, -1)
        return at

    def at(self, arabic: Mask, idx: I64) -> pl.Series:
        """Text ``idx`` in each row's language; NULL where ``idx`` is -1."""
        return gather_or_null(self.series, self.index(arabic, idx))

    def each(self, arabic: Mask) -> pl.Series:
        """For per-row texts (as many as rows): each row's own text in its language."""
        return self.at(arabic, np.arange(self.size, dtype=np.int64))

    def every(self, arabic: Mask) -> pl.Series:
        """For one fixed text: that text in each row's language."""
        return self.series.gather(np.asarray(arabic, dtype=np.int64))


def in_language(arabic: Mask, ar: str, en: str) -> pl.Series:
    """A fixed text in each row's language (``Bilingual.fixed(ar, en).every``)."""
    return Bilingual.fixed(ar, en).every(arabic)
