"""What the report measures: small aggregates, each written once as SQL for a database and
once as a polars query over an export's Parquet files, with the same columns. Nothing reads
a whole table into Python: the database or polars' engine does the grouping.

The two forms must agree: a test reports the same data from both and compares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

Scan = Callable[[str], pl.LazyFrame]  # a table of the export, lazily
RIYADH = "Asia/Riyadh"
ICD10 = r"\(([A-Z][0-9]{2}(?:\.[0-9]{1,2})?)\)$"  # the code a diagnosis text ends with


@dataclass(frozen=True)
class Measure:
    name: str
    sql: str  # PostgreSQL; parameters %(as_of)s (timestamptz) and %(as_of_day)s (date)
    files: Callable[[Scan, pl.Expr, pl.Expr], pl.LazyFrame]  # (scan, as_of, as_of_day)
    schema: dict[str, type[pl.DataType]]  # both forms give these columns, typed so

    def frame(self, rows: list[tuple[object, ...]]) -> pl.DataFrame:
        """Rows from the database as a frame of this measure's schema (empty included)."""
        return pl.DataFrame(rows, schema=self.schema, orient="row", infer_schema_length=None)

    def typed(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select([pl.col(c).cast(t) for c, t in self.schema.items()])


def _json(column: str, key: str) -> pl.Expr:
    """A key of a JSON column: polars reads the Parquet JSON extension type as such, and
    ``ext.storage`` gives its text (polars before the ext namespace read plain text)."""
    column_expr = pl.col(column)
    text = column_expr.ext.storage() if hasattr(column_expr, "ext") else column_expr
    return text.str.json_path_match(f"$.{key}")


def _ages(scan: Scan, as_of: pl.Expr, as_of_day: pl.Expr) -> pl.LazyFrame:
    born = pl.col("date_of_birth")
    before_birthday = (as_of_day.dt.month() < born.dt.month()) | (
        (as_of_day.dt.month() == born.dt.month()) & (as_of_day.dt.day() < born.dt.day())
    )
    age = as_of_day.dt.year() - born.dt.year() - before_birthday.cast(pl.Int32)
    return (
        scan("patients").group_by(pl.col("gender"), age.cast(pl.Int64).alias("age")).agg(n=pl.len())
    )


def _visit_times(scan: Scan, as_of: pl.Expr, as_of_day: pl.Expr) -> pl.LazyFrame:
    local = pl.col("scheduled_at").dt.convert_time_zone(RIYADH)
    return (
        scan("appointments")
        .group_by(
            (local.dt.weekday() % 7).cast(pl.Int64).alias("dow"),
            (local.dt.hour().cast(pl.Int64) * 60 + local.dt.minute()).alias("minute"),
        )
        .agg(n=pl.len())
    )


def _statuses(scan: Scan, as_of: pl.Expr, as_of_day: pl.Expr) -> pl.LazyFrame:
    when = pl.when(pl.col("scheduled_at") < as_of).then(pl.lit("past")).otherwise(pl.lit("future"))
    return scan("appointments").group_by(when.alias("time"), "status", "type").agg(n=pl.len())


def _payments(scan: Scan, as_of: pl.Expr, as_of_day: pl.Expr) -> pl.LazyFrame:
    visits = scan("appointments").select(
        pl.col("id").alias("appointment_id"), pl.col("status").alias("visit_status")
    )
    return (
        scan("payments")
        .join(visits, on="appointment_id")
        .group_by(pl.col("payment_method").alias("method"), "status", "visit_status")
        .agg(n=pl.len())
    )


def _claims(scan: Scan, as_of: pl.Expr, as_of_day: pl.Expr) -> pl.LazyFrame:
    return (
        scan("insurance_claims")
        .group_by("provider", "status")
        .agg(
            n=pl.len(),
            claimed=pl.col("amount").cast(pl.Float64).sum(),
            approved=pl.col("approved_amount").cast(pl.Float64).fill_null(0).sum(),
        )
    )


def _notices(scan: Scan, as_of: pl.Expr, as_of_day: pl.Expr) -> pl.LazyFrame:
    return (
        scan("notifications")
        .group_by(_json("metadata", "template").alias("template"))
        .agg(n=pl.len())
    )


def _people(scan: Scan, as_of: pl.Expr, as_of_day: pl.Expr) -> pl.LazyFrame:
    return (
        scan("users")
        .group_by(
            "role",
            _json("preferences", "language").alias("language"),
            _json("profile", "nationality").alias("nationality"),
        )
        .agg(n=pl.len())
    )


def _visits_per_patient(scan: Scan, as_of: pl.Expr, as_of_day: pl.Expr) -> pl.LazyFrame:
    per_patient = scan("appointments").group_by("patient_id").agg(visits=pl.len())
    return (
        scan("patients")
        .select(pl.col("id").alias("patient_id"))
        .join(per_patient, on="patient_id", how="left")
        .group_by(pl.col("visits").fill_null(0).cast(pl.Int64))
        .agg(patients=pl.len())
    )


def _diagnoses(scan: Scan, as_of: pl.Expr, as_of_day: pl.Expr) -> pl.LazyFrame:
    doctors = scan("doctors").select(pl.col("id").alias("doctor_id"), "speciality")
    return (
        scan("appointments")
        .filter(pl.col("diagnosis").is_not_null())
        .join(doctors, on="doctor_id")
        .group_by("speciality", pl.col("diagnosis").str.extract(ICD10).alias("code"))
        .agg(n=pl.len())
    )


MEASURES: tuple[Measure, ...] = (
    Measure(
        "ages",
        # Whole years as the polars form counts them (age() rounds toward zero before birth).
        "SELECT gender, (extract(year FROM %(as_of_day)s::date) - extract(year FROM date_of_birth)"
        " - (to_char(%(as_of_day)s::date, 'MMDD') < to_char(date_of_birth, 'MMDD'))::int)::bigint"
        " AS age, count(*) AS n FROM patients GROUP BY 1, 2",
        _ages,
        {"gender": pl.String, "age": pl.Int64, "n": pl.Int64},
    ),
    Measure(
        "visit_times",
        f"""SELECT extract(dow FROM t)::bigint AS dow,
                   (extract(hour FROM t) * 60 + extract(minute FROM t))::bigint AS minute,
                   count(*) AS n
            FROM (SELECT scheduled_at AT TIME ZONE '{RIYADH}' AS t FROM appointments) s
            GROUP BY 1, 2""",
        _visit_times,
        {"dow": pl.Int64, "minute": pl.Int64, "n": pl.Int64},
    ),
    Measure(
        "statuses",
        "SELECT CASE WHEN scheduled_at < %(as_of)s THEN 'past' ELSE 'future' END AS time, "
        "status, type, count(*) AS n FROM appointments GROUP BY 1, 2, 3",
        _statuses,
        {"time": pl.String, "status": pl.String, "type": pl.String, "n": pl.Int64},
    ),
    Measure(
        "payments",
        "SELECT p.payment_method AS method, p.status, a.status AS visit_status, count(*) AS n "
        "FROM payments p JOIN appointments a ON a.id = p.appointment_id GROUP BY 1, 2, 3",
        _payments,
        {"method": pl.String, "status": pl.String, "visit_status": pl.String, "n": pl.Int64},
    ),
    Measure(
        "claims",
        "SELECT provider, status, count(*) AS n, coalesce(sum(amount), 0)::float8 AS claimed, "
        "coalesce(sum(approved_amount), 0)::float8 AS approved FROM insurance_claims "
        "GROUP BY 1, 2",
        _claims,
        {
            "provider": pl.String,
            "status": pl.String,
            "n": pl.Int64,
            "claimed": pl.Float64,
            "approved": pl.Float64,
        },
    ),
    Measure(
        "notices",
        "SELECT metadata->>'template' AS template, count(*) AS n FROM notifications GROUP BY 1",
        _notices,
        {"template": pl.String, "n": pl.Int64},
    ),
    Measure(
        "people",
        "SELECT role, preferences->>'language' AS language, profile->>'nationality' AS "
        "nationality, count(*) AS n FROM users GROUP BY 1, 2, 3",
        _people,
        {"role": pl.String, "language": pl.String, "nationality": pl.String, "n": pl.Int64},
    ),
    Measure(
        "visits_per_patient",
        """SELECT coalesce(v.visits, 0)::bigint AS visits, count(*) AS patients
           FROM patients p
           LEFT JOIN (SELECT patient_id, count(*) AS visits FROM appointments
                      GROUP BY patient_id) v ON v.patient_id = p.id
           GROUP BY 1""",
        _visits_per_patient,
        {"visits": pl.Int64, "patients": pl.Int64},
    ),
    Measure(
        "diagnoses",
        f"""SELECT d.speciality, substring(a.diagnosis FROM '{ICD10}') AS code, count(*) AS n
            FROM appointments a JOIN doctors d ON d.id = a.doctor_id
            WHERE a.diagnosis IS NOT NULL GROUP BY 1, 2""",
        _diagnoses,
        {"speciality": pl.String, "code": pl.String, "n": pl.Int64},
    ),
)
