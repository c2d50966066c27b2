"""Profiles: every shipped one loads; broken ones report every problem with its path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from moeen_synth import paths
from moeen_synth import profile as profiles
from moeen_synth.errors import ProfileError, UsageError


def demo_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((paths.profiles_dir() / "demo.yaml").read_text())
    return data


@pytest.mark.parametrize("path", sorted(paths.profiles_dir().glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_profile_loads(path: Path) -> None:
    prof = profiles.load(str(path))

    assert prof.name == path.stem


def test_profile_by_name_and_unknown_name() -> None:
    assert profiles.load("demo").name == "demo"
    with pytest.raises(UsageError, match=r"shipped profiles: .*demo"):
        profiles.load("no-such-profile")


BROKEN: list[tuple[str, dict[str, Any], str]] = [
    ("version", {"profile_version": 2}, "profile_version"),
    (
        "unknown key",
        {"tables": {"users": {"admins": 1, "admns": 2}}},
        "tables.users.admns: unknown key",
    ),
    ("negative count", {"tables": {"appointments": {"count": -1}}}, "tables.appointments.count"),
    ("share above one", {"arabic_share": 1.5}, "arabic_share"),
    ("naive as_of", {"as_of": "2026-01-01T00:00:00"}, "as_of: needs a UTC offset"),
    ("as_of beyond the Hijri table", {"as_of": "2090-01-01T00:00:00+03:00"}, "Umm al-Qura"),
    ("bad age band", {"tables": {"patients": {"adult_ages": {"10-20": 1}}}}, "age band"),
    (
        "overlapping shifts",
        {
            "tables": {
                "doctors": {
                    "shifts": {
                        "a": {"start": "08:00", "end": "12:00"},
                        "b": {"start": "11:00", "end": "15:00"},
                    }
                }
            }
        },
        "overlap",
    ),
    (
        "bad shift time",
        {"tables": {"doctors": {"shifts": {"a": {"start": "8am", "end": "12:00"}}}}},
        "HH:MM",
    ),
    ("real email domain", {"email_domains": ["gmail.com"]}, "email_domains"),
    (
        "unknown status",
        {"tables": {"appointments": {"past_status": {"done": 1}}}},
        "tables.appointments.past_status",
    ),
    ("zero doctors", {"tables": {"doctors": {"count": 0}}}, "tables.doctors.count"),
]


@pytest.mark.parametrize(("label", "change", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_profile_names_the_path(label: str, change: dict[str, Any], expected: str) -> None:
    data = demo_data()
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            for sub, subval in value.items():
                data[key].setdefault(sub, {}).update(subval)
        else:
            data[key] = value

    with pytest.raises(ProfileError) as info:
        profiles.parse(data, "broken.yaml")

    assert any(expected in p for p in info.value.problems), info.value.problems


def test_all_problems_are_reported_at_once() -> None:
    data = demo_data()
    data["arabic_share"] = 2
    data["seed"] = -1
    data["tables"]["doctors"]["count"] = 0

    with pytest.raises(ProfileError) as info:
        profiles.parse(data, "broken.yaml")

    assert len(info.value.problems) == 3
    assert "broken.yaml" in str(info.value)


def test_seed_override_changes_only_the_seed() -> None:
    prof = profiles.load("demo")

    other = prof.with_overrides(seed=99)

    assert other.seed == 99 and other.tables == prof.tables
    assert other.sha256 != prof.sha256


def test_scale_drives_the_ratios() -> None:
    prof = profiles.load("clinic")

    bigger = prof.with_overrides(scale=prof.counts.patients * 2)

    assert bigger.counts.patients == 2 * prof.counts.patients
    assert bigger.counts.appointments == pytest.approx(2 * prof.counts.appointments, abs=1)
    assert bigger.counts.doctors == pytest.approx(2 * prof.counts.doctors, abs=1)


def test_count_and_ratio_together_is_an_error() -> None:
    data = demo_data()
    data["tables"]["appointments"]["per_patient"] = 2.0
    data["scale"] = 10

    with pytest.raises(ProfileError) as info:
        profiles.parse(data, "both.yaml")

    text = " ".join(info.value.problems)
    assert "tables.appointments: give a count or a per-patient ratio" in text
    assert "give either scale or tables.patients.count" in text
