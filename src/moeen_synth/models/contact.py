"""A person's contact data: e-mail in a reserved domain, mobile number, nationality,
national id (citizen or resident, Luhn check digit) and Saudi national address.

Each is a function of the person's user index and the draws ``People`` already made (names,
origin, language), so a child table gets the same values its parent row has.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth.models.bilingual import Bilingual
from moeen_synth.models.columns import digits
from moeen_synth.models.context import Context
from moeen_synth.models.pools import NATIONALITIES, ORIGINS, Pools

I64 = npt.NDArray[np.int64]


def luhn_check_digits(body: I64, width: int) -> I64:
    """Luhn check digits for numbers of ``width`` digits (Saudi ids and iqamas use Luhn)."""
    total = np.zeros(len(body), dtype=np.int64)
    rest = body.copy()
    for place in range(width):  # place 0 is the rightmost digit, which is doubled
        digit = rest % 10
        rest //= 10
        if place % 2 == 0:
            digit = digit * 2
            digit = np.where(digit > 9, digit - 9, digit)
        total += digit
    check: I64 = (10 - total % 10) % 10
    return check


def email(ctx: Context, user: I64, first: I64, family: I64, pools: Pools) -> pl.Series:
    """first.family<user+1>@<reserved domain>: unique because the user index is."""
    domains = pl.Series(ctx.profile.email_domains, dtype=pl.String)
    domain = ctx.stream("users", "domain").integers(user, 0, len(domains))
    namespace = f"n{ctx.namespace}" if ctx.namespace else ""
    parts = pl.DataFrame(
        {
            "f": pools.first_ascii.gather(first),
            "l": pools.family_ascii.gather(family),
            "k": pl.Series(user + 1).cast(pl.String),
            "d": domains.gather(domain),
        }
    )
    return parts.select(
        pl.concat_str(["f", pl.lit("."), "l", "k", pl.lit(namespace + "@"), "d"])
    ).to_series()


def phone(number: I64) -> pl.Series:
    """A Saudi mobile number, +9665 and eight digits."""
    return "+9665" + digits(number, 8)


def nationality(origin: I64, draw: I64) -> pl.Series:
    """ISO country codes: one of the origin's nationalities."""
    codes = pl.Series([code for group in ORIGINS for code in NATIONALITIES[group]], dtype=pl.String)
    sizes = np.array([len(NATIONALITIES[group]) for group in ORIGINS], dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return codes.gather(first[origin] + draw % sizes[origin])


def national_id(ctx: Context, user: I64, nationality: pl.Series) -> pl.Series:
    """Ten digits: 1 for citizens, 2 for residents (iqama), a Luhn check digit last."""
    citizen = (nationality == "SA").to_numpy()
    body = np.where(citizen, 100_000_000, 200_000_000) + ctx.stream(
        "users", "national_id"
    ).integers(user, 0, 100_000_000)
    return digits(body * 10 + luhn_check_digits(body, 9), 10)


def address(ctx: Context, user: I64, arabic: npt.NDArray[np.bool_], pools: Pools) -> pl.Series:
    """Saudi national address form (building, street, district, city, postal code), in the
    person's language."""
    stream = ctx.stream
    city = stream("users", "city").choice(user, pools.city_weights)
    nth = (stream("users", "district").uniform(user) * pools.district_count[city]).astype(np.int64)
    district = pools.district_flat[pools.district_start[city] + nth]
    nth_street = stream("users", "street").integers(user, 0, 1 << 30) % pools.street_count[city]
    street = pools.street_flat[pools.street_start[city] + nth_street]
    parts = pl.DataFrame(
        {
            "b": digits(stream("users", "building").integers(user, 1000, 10000), 4),
            "sa": pools.street_ar.gather(street),
            "se": pools.street_en.gather(street),
            "da": pools.district_ar.gather(district),
            "de": pools.district_en.gather(district),
            "ca": pools.city_ar.gather(city),
            "ce": pools.city_en.gather(city),
            "pc": pools.postal_prefix.gather(city)
            + digits(stream("users", "postal").integers(user, 0, 1000), 3),
        }
    )
    forms = parts.select(
        pl.concat_str(
            ["b", pl.lit(" "), "sa", pl.lit("، حي "), "da", pl.lit("، "), "ca", pl.lit(" "), "pc"]
        ).alias("ar"),
        pl.concat_str(
            [
                "b",
                pl.lit(" "),
                "se",
                pl.lit(", "),
                "de",
                pl.lit(" District, "),
                "ce",
                pl.lit(" "),
                "pc",
            ]
        ).alias("en"),
    )
    return Bilingual.of(forms["en"], forms["ar"]).each(arabic)
