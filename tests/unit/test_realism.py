"""Bilingual realism over generated data at clinic scale (5,000 patients): vocabulary rules,
the script of every language-bound text, names that agree in gender, notifications without
placeholders and with Hijri dates that hijridate confirms, medicine that fits the doctor,
Luhn-valid national ids, reserved e-mail domains, Saudi phones, and NFC text everywhere."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import unicodedata
from collections import Counter

import polars as pl
import pytest
from hijridate import Gregorian

from moeen_synth import plan, vocab
from moeen_synth import profile as profiles
from moeen_synth.profile import RESERVED_DOMAINS

ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")
LATIN_LETTER = re.compile(r"[A-Za-z]")
ARABIC_NAME = re.compile(r"^[\u0621-\u0652\u0670 ]+$")  # letters, harakat, spaces
LATIN_NAME = re.compile(r"^[A-Za-z][A-Za-z' .-]*$")
PHONE = re.compile(r"^\+9665\d{8}$")
ICD10 = re.compile(r"^[A-Z]\d{2}(\.\d{1,2})?$")
V = vocab.load()


@pytest.fixture(scope="module")
def data() -> dict[str, pl.DataFrame]:
    ctx = plan.context(profiles.load("clinic"))
    frames = {}
    for spec, total in plan.plan(ctx):
        if spec.generate is not None and total:
            frames[spec.name] = pl.concat(list(plan.blocks(ctx, spec, total)))
    assert frames["patients"].height == 5000
    return frames


@pytest.fixture(scope="module")
def people(data: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Users with their profile and preferences unpacked."""
    users = data["users"]
    prof = users["profile"].str.json_decode(
        pl.Struct(
            {
                "fullName": pl.String,
                "fullNameAr": pl.String,
                "fullNameEn": pl.String,
                "gender": pl.String,
                "nationalId": pl.String,
                "nationality": pl.String,
                "phone": pl.String,
            }
        )
    )
    lang = users["preferences"].str.json_decode(pl.Struct({"language": pl.String}))
    return users.select("id", "email", "role").with_columns(
        prof.struct.unnest(), language=lang.struct.field("language")
    )


# -- vocabularies ---------------------------------------------------------------------------
def test_vocabulary_rules() -> None:
    genders = Counter(r["gender"] for r in V.first_names)
    assert genders["male"] >= 300 and genders["female"] >= 300
    assert len(V.family_names) >= 300
    assert sum(r["name_en"].startswith("Al-") for r in V.family_names) >= 150
    assert {r["origin"] for r in V.first_names} - {"arab"}, "some non-Arab residents' names"
    assert len(V.regions) == 13 and len(V.cities) >= 40 and len(V.districts) >= 200
    regions = {r["region_code"] for r in V.regions}
    cities = {r["city_code"] for r in V.cities}
    assert all(
        r["region_code"] in regions and re.fullmatch(r"\d{2}", r["postal_prefix"]) for r in V.cities
    )
    assert all(r["city_code"] in cities for r in V.districts)
    assert {"Bupa Arabia", "Tawuniya", "MedGulf"} <= {r["name_en"] for r in V.insurers}
    assert all(
        re.fullmatch(r"[A-Z]{2,4}", r["policy_prefix"]) and int(r["policy_digits"]) >= 6
        for r in V.insurers
    )
    codes = {r["code"] for r in V.specialities}
    assert all(0 < float(r["fee_min"]) < float(r["fee_max"]) for r in V.specialities)
    assert all(
        len(r["sub_specialities_en"].split(";")) == len(r["sub_specialities_ar"].split(";"))
        for r in V.specialities
    )
    assert len(V.diagnoses) >= 200
    icd = {r["icd10"] for r in V.diagnoses}
    for r in V.diagnoses:
        assert ICD10.match(r["icd10"]), r
        assert set(r["specialities"].split(";")) <= codes, r
    for r in V.medications:
        assert set(r["icd10"].split(";")) <= icd and r["strength"] and r["dosing_ar"], r
    for r in V.lab_tests:
        assert r["unit"] and float(r["ref_low"]) < float(r["ref_high"]), r
    flows = {f["name"] for f in V.chatbot_flows}
    assert {
        "booking",
        "rescheduling",
        "cancelling",
        "clinic_hours_location",
        "insurance_coverage",
        "symptom_triage",
    } <= flows
    triage = next(f for f in V.chatbot_flows if f["name"] == "symptom_triage")
    assert "997" in json.dumps(triage, ensure_ascii=False), "triage escalates to emergency"


# -- people ---------------------------------------------------------------------------------
def test_names_are_in_their_script_and_full_name_is_the_preferred_one(
    people: pl.DataFrame, data: dict[str, pl.DataFrame]
) -> None:
    assert people["fullNameAr"].str.contains(ARABIC_NAME.pattern).all()
    assert people["fullNameEn"].str.contains(LATIN_NAME.pattern).all()
    preferred = pl.when(pl.col("language") == "ar").then("fullNameAr").otherwise("fullNameEn")
    assert people.select((pl.col("fullName") == preferred).all()).item()
    share = (people["language"] == "ar").mean()
    assert 0.75 <= share <= 0.85, share  # clinic.yaml: arabic_share 0.8
    for table, title in (("patients", ("", "")), ("doctors", ("د. ", "Dr. "))):
        joined = data[table].join(people, left_on="user_id", right_on="id")
        expected = (
            pl.when(pl.col("language") == "ar")
            .then(pl.lit(title[0]) + pl.col("fullNameAr"))
            .otherwise(pl.lit(title[1]) + pl.col("fullNameEn"))
        )
        assert joined.select((pl.col("full_name") == expected).all()).item(), table


def test_names_agree_in_gender_and_the_middle_name_is_male(
    people: pl.DataFrame, data: dict[str, pl.DataFrame]
) -> None:
    genders: dict[str, set[str]] = {}
    for r in V.first_names:  # a few names (Alaa, ...) are given to both sexes
        genders.setdefault(r["name_en"], set()).add(r["gender"])
    for row in people.iter_rows(named=True):
        first, middle, *_ = row["fullNameEn"].split(" ")
        assert row["gender"] in genders[first], row
        assert "male" in genders[middle], row
    patients = data["patients"].join(people, left_on="user_id", right_on="id")
    assert (patients["gender"] == patients["gender_right"]).all()


def test_national_ids_phones_and_emails(
    people: pl.DataFrame, data: dict[str, pl.DataFrame]
) -> None:
    def luhn_ok(number: str) -> bool:
        total = 0
        for i, ch in enumerate(reversed(number)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        return total % 10 == 0

    for row in people.select("nationalId", "nationality", "phone").iter_rows():
        nid, nationality, phone = row
        assert re.fullmatch(r"[12]\d{9}", nid) and luhn_ok(nid), nid
        assert nid[0] == ("1" if nationality == "SA" else "2"), row
        assert PHONE.match(phone), phone
    for table in ("patients", "doctors", "crm_leads"):
        assert data[table]["phone"].drop_nulls().str.contains(PHONE.pattern).all(), table
    emails = pl.concat(
        [data[t]["email"].drop_nulls() for t in ("users", "patients", "doctors", "crm_leads")]
    )
    domains = emails.str.split("@").list.last()
    ok = domains.is_in(list(RESERVED_DOMAINS)) | domains.str.ends_with(".test")
    assert ok.all(), emails.filter(~ok).head(3).to_list()


def test_addresses_are_saudi_national_addresses_in_the_persons_language(
    people: pl.DataFrame, data: dict[str, pl.DataFrame]
) -> None:
    patients = data["patients"].join(people, left_on="user_id", right_on="id")
    arabic = patients.filter(pl.col("language") == "ar")["address"]
    english = patients.filter(pl.col("language") == "en")["address"]
    # building number, street, district, city and 5-digit postal code
    assert arabic.str.contains(r"^\d{4} [^،]+، حي [^،]+، [^،]+ \d{5}$").all(), arabic.head(2)
    assert english.str.contains(r"^\d{4} [^,]+, [^,]+ District, [^,]+ \d{5}$").all()
    assert not english.str.contains(ARABIC_LETTER.pattern).any()


def test_a_street_is_one_of_its_citys(data: dict[str, pl.DataFrame]) -> None:
    codes = {city["name_en"]: city["city_code"] for city in V.cities}
    city_ar = {city["name_ar"]: city["city_code"] for city in V.cities}
    allowed: dict[str, set[str]] = {code: set() for code in codes.values()}
    for street in V.streets:
        where = street["city_codes"].strip()
        for code in codes.values() if where == "*" else vocab.split_list(where):
            allowed[code] |= {street["name_en"], street["name_ar"]}
    wrong, seen_local = [], 0
    for address in data["patients"]["address"].to_list():
        english = re.match(r"^\d{4} (.+?), .+ District, (.+) \d{5}$", address)
        arabic = re.match(r"^\d{4} (.+?)، حي .+، (.+) \d{5}$", address)
        found = english or arabic
        assert found, address
        street, city = found.groups()
        code = codes.get(city) or city_ar[city]
        if street not in allowed[code]:
            wrong.append(address)
        seen_local += not any(
            street in (row["name_en"], row["name_ar"]) and row["city_codes"] == "*"
            for row in V.streets
        )
    assert not wrong, wrong[:3]
    assert seen_local > 100, "precondition: city-specific streets are drawn"


# -- medicine -------------------------------------------------------------------------------
def test_diagnoses_fit_the_doctors_speciality_and_pediatricians_see_children(
    data: dict[str, pl.DataFrame],
) -> None:
    code_of = {r["name_en"]: r["code"] for r in V.specialities}
    fits = {r["icd10"]: set(r["specialities"].split(";")) for r in V.diagnoses}
    visits = (
        data["appointments"]
        .join(data["doctors"].select(pl.col("id").alias("doctor_id"), "speciality"), on="doctor_id")
        .join(
            data["patients"].select(pl.col("id").alias("patient_id"), "date_of_birth"),
            on="patient_id",
        )
    )
    diagnosed = visits.filter(pl.col("diagnosis").is_not_null())
    assert diagnosed.height > 1000
    for speciality, diagnosis in diagnosed.select("speciality", "diagnosis").iter_rows():
        icd = re.search(r"\(([A-Z]\d{2}(?:\.\d{1,2})?)\)$", diagnosis)
        assert icd and code_of[speciality] in fits[icd[1]], (speciality, diagnosis)
    women_only = {r["name_en"] for r in V.specialities if r["patient_sex"] == "female"}
    seen_by = data["patients"].select(pl.col("id").alias("patient_id"), "gender")
    women = visits.filter(pl.col("speciality").is_in(women_only)).join(seen_by, on="patient_id")
    assert women.height and (women["gender"] == "female").all()
    children = visits.filter(pl.col("speciality") == "Pediatrics").with_columns(
        age=(pl.col("scheduled_at").dt.date() - pl.col("date_of_birth")).dt.total_days() / 365.25
    )
    assert children.height and (children["age"] < 18).all()


def test_prescriptions_name_medications_for_the_diagnosis_and_labs_are_complete(
    data: dict[str, pl.DataFrame],
) -> None:
    meds_for: dict[str, set[str]] = {}
    for r in V.medications:
        for code in r["icd10"].split(";"):
            meds_for.setdefault(code, set()).update({r["generic_en"], r["generic_ar"]})
    done = data["appointments"].filter(pl.col("prescription").is_not_null())
    assert done.height > 500
    for diagnosis, prescription in done.select("diagnosis", "prescription").iter_rows():
        code = diagnosis.rsplit("(", 1)[1].rstrip(")")
        assert any(prescription.startswith(m) for m in meds_for[code]), (diagnosis, prescription)
    labs = data["medical_records"].filter(pl.col("record_type") == "lab_result")["description"]
    # "<test>: <value> <unit> (<low>-<high>)"
    assert labs.str.contains(r"^.+: -?\d+(\.\d+)? \S+.* \(-?[\d.]+-[\d.]+\)$").all(), labs.head(3)


# -- messages -------------------------------------------------------------------------------
def test_notifications_are_in_the_readers_language_without_placeholders(
    people: pl.DataFrame, data: dict[str, pl.DataFrame]
) -> None:
    notes = data["notifications"].join(
        people.select("id", "language"), left_on="user_id", right_on="id"
    )
    text = pl.col("title") + " " + pl.col("message")
    assert not notes.select(text.str.contains(r"\{\{|\}\}").any()).item()
    arabic = notes.filter(pl.col("language") == "ar")
    english = notes.filter(pl.col("language") == "en")
    assert arabic.select(pl.col("title").str.contains(ARABIC_LETTER.pattern).all()).item()
    assert arabic.select(pl.col("message").str.contains(ARABIC_LETTER.pattern).all()).item()
    assert not english.select(text.str.contains(ARABIC_LETTER.pattern).any()).item()
    sar = arabic.filter(pl.col("type") == "payment")["message"]
    assert sar.str.contains("ر.س", literal=True).any()
    times = arabic["message"].str.extract(r"\d{1,2}:\d{2} (\S+)$").drop_nulls()
    assert times.len() and times.is_in(["صباحاً", "مساءً"]).all()


def test_arabic_dates_carry_the_hijri_date_that_hijridate_gives(
    data: dict[str, pl.DataFrame],
) -> None:
    months_ar = {Gregorian(2024, m, 1).month_name("ar"): m for m in range(1, 13)}
    pattern = re.compile(r"(\d{1,2}) (\S+) (\d{4})م الموافق (\d{1,2}) (\S+) (\d{4})هـ")
    notes = data["notifications"].filter(pl.col("type") == "appointment")
    visits = dict(data["appointments"].select("id", "scheduled_at").iter_rows())
    checked = 0
    for message, metadata in notes.select("message", "metadata").iter_rows():
        m = pattern.search(message)
        if not m:
            continue
        g = dt.date(int(m[3]), months_ar[m[2]], int(m[1]))
        h = Gregorian(g.year, g.month, g.day).to_hijri()
        assert (int(m[4]), m[5], int(m[6])) == (h.day, h.month_name("ar"), h.year), message
        visit = visits[json.loads(metadata)["appointment_id"]]
        assert g == (visit + dt.timedelta(hours=3)).date(), (message, visit)
        checked += 1
    assert checked > 500


def test_chatbot_conversations_are_in_the_users_language_and_alternate(
    people: pl.DataFrame, data: dict[str, pl.DataFrame]
) -> None:
    conversations = data["chatbot_conversations"].join(
        people.select("id", "language"), left_on="user_id", right_on="id"
    )
    messages = data["chatbot_messages"].join(
        conversations.select(pl.col("id").alias("conversation_id"), "language", "status"),
        on="conversation_id",
    )
    english = messages.filter(pl.col("language") == "en")["message"]
    arabic = messages.filter(pl.col("language") == "ar")["message"]
    assert not english.str.contains(ARABIC_LETTER.pattern).any()
    # Arabic turns are in Arabic, or only digits (a user typing an id or a mobile number).
    assert (
        arabic.str.contains(ARABIC_LETTER.pattern) | ~arabic.str.contains(LATIN_LETTER.pattern)
    ).all()
    typed = messages.join(
        conversations.select(pl.col("id").alias("conversation_id"), "user_id"), on="conversation_id"
    ).join(people.select("id", "nationalId", "phone"), left_on="user_id", right_on="id")
    ids = typed.filter(pl.col("message").str.contains(r"^[12]\d{9}$"))
    phones = typed.filter(pl.col("message").str.contains(r"^05\d{8}$"))
    assert ids.height and (ids["message"] == ids["nationalId"]).all(), "users type their own id"
    assert phones.height and (("+966" + phones["message"].str.slice(1)) == phones["phone"]).all()
    for _, turns in messages.sort("created_at").group_by("conversation_id", maintain_order=True):
        senders = turns["sender_type"].to_list()
        assert senders[0] == "bot" and all(a != b for a, b in itertools.pairwise(senders))
    assert (conversations["status"] == "abandoned").any()
    offered = messages.filter(pl.col("message_type").is_in(["button", "quick_reply"]))
    assert offered.height and offered["metadata"].str.contains('"options"').all()


def test_every_text_is_nfc(data: dict[str, pl.DataFrame]) -> None:
    for table, frame in data.items():
        for name, dtype in frame.schema.items():
            if dtype == pl.String:
                values = frame[name].drop_nulls().unique().to_list()
                bad = [v for v in values if not unicodedata.is_normalized("NFC", v)]
                assert not bad, (table, name, bad[:2])


def test_age_and_sex_follow_the_profile(data: dict[str, pl.DataFrame]) -> None:
    prof = profiles.load("clinic").tables.patients
    as_of = profiles.load("clinic").as_of.date()
    ages = data["patients"].select(
        age=(pl.lit(as_of) - pl.col("date_of_birth")).dt.total_days() / 365.25,
        female=pl.col("gender") == "female",
    )
    assert abs(ages["female"].mean() - prof.female_share) < 0.02  # type: ignore[operator]
    assert abs((ages["age"] < 18).mean() - prof.child_share) < 0.02  # type: ignore[operator]
    adults = ages.filter(pl.col("age") >= 18)["age"]
    weights = sum(prof.adult_ages.values())
    for label, weight in prof.adult_ages.items():
        lo, hi = profiles.age_band(label)
        share = ((adults >= lo) & (adults < hi)).mean()
        assert abs(share - weight / weights) < 0.03, (label, share)  # type: ignore[operator]


def test_visits_per_patient_are_skewed_and_inside_each_doctors_shift(
    data: dict[str, pl.DataFrame],
) -> None:
    appointments = profiles.load("clinic").tables.appointments
    visits = data["appointments"].group_by("patient_id").len()["len"].sort(descending=True)
    top = visits.head(int(data["patients"].height * appointments.frequent_patients_share))
    share = top.sum() / visits.sum()
    assert share >= appointments.frequent_visits_share - 0.02, share
    assert visits.max() <= 40  # type: ignore[operator]
    schedules = data["doctors"].select(
        pl.col("id").alias("doctor_id"),
        hours=pl.col("schedule").str.json_path_match("$.days.sunday.start")
        + "-"
        + pl.col("schedule").str.json_path_match("$.days.sunday.end"),
    )
    local = (
        data["appointments"]
        .join(schedules, on="doctor_id")
        .with_columns(t=pl.col("scheduled_at").dt.convert_time_zone("Asia/Riyadh"))
    )
    assert local["hours"].n_unique() == 2  # morning and evening shifts
    assert (local["t"].dt.weekday().is_in([7, 1, 2, 3, 4])).all()  # Sunday to Thursday
    start = local["hours"].str.slice(0, 5).str.to_time("%H:%M")
    end = local["hours"].str.slice(6, 5).str.to_time("%H:%M")
    clock = local["t"].dt.time()
    assert ((clock >= start) & (clock < end)).all()


def test_arabic_notices_address_a_woman_doctor_as_such(
    people: pl.DataFrame, data: dict[str, pl.DataFrame]
) -> None:
    doctors = data["doctors"].join(people.select("id", "gender"), left_on="user_id", right_on="id")
    sex_of_visit = data["appointments"].join(
        doctors.select(pl.col("id").alias("doctor_id"), "gender"), on="doctor_id"
    )
    sex = dict(sex_of_visit.select("id", "gender").iter_rows())
    checked = 0
    for message, metadata in (
        data["notifications"]
        .filter(pl.col("type").is_in(["appointment", "reminder"]))
        .select("message", "metadata")
        .iter_rows()
    ):
        if "الدكتور" not in message:
            continue
        woman = sex[json.loads(metadata)["appointment_id"]] == "female"
        assert ("الدكتورة " in message) == woman, message
        checked += 1
    assert checked > 1000
