"""CRM: leads for the clinic's packages and the staff's activities on them."""

from __future__ import annotations

import numpy as np
import polars as pl

from moeen_synth.keys import as_list
from moeen_synth.models.bilingual import LG, Bilingual
from moeen_synth.models.columns import js, pick, ts
from moeen_synth.models.context import DAY, HOUR, Context
from moeen_synth.models.people import People, layout
from moeen_synth.models.pools import pools

SOURCES = ("website", "instagram", "snapchat", "google_ads", "referral", "walk_in", "whatsapp")
STATUSES = ("new", "contacted", "qualified", "proposal", "negotiation", "closed_won", "closed_lost")
PRIORITIES = ("low", "medium", "high")
ACTIVITY_TYPES = ("call", "email", "meeting", "note", "task")


def _owners(ctx: Context) -> np.ndarray:
    return layout(ctx).users_of("staff", "supervisor")


def lead_count(ctx: Context) -> int:
    return ctx.counts.crm_leads


class LeadFacts:
    def __init__(self, ctx: Context, lead: np.ndarray) -> None:
        self.lead = lead = np.asarray(lead, dtype=np.int64)
        owners = _owners(ctx)
        self.owner = owners[ctx.stream("crm_leads", "owner").integers(lead, 0, len(owners))]
        self.created = ctx.as_of - ctx.stream("crm_leads", "created").integers(
            lead, DAY, ctx.profile.history_days * DAY
        )
        self.arabic = ctx.share(
            "crm_leads", "language", lead, lead_count(ctx), ctx.profile.arabic_share
        )


def crm_leads(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    vocab = ctx.vocab
    lead = np.arange(start, stop, dtype=np.int64)
    facts = LeadFacts(ctx, lead)
    stream = ctx.stream
    names, emails = _names_and_emails(ctx, lead, facts)
    arabic = facts.arabic.tolist()
    status = np.array(STATUSES, dtype=object)[
        ctx.mix("crm_leads", "status", lead, lead_count(ctx), (3, 3, 2, 1, 1, 2, 2))
    ]
    interest = pick(
        vocab.specialities,
        stream("crm_leads", "interest").integers(lead, 0, len(vocab.specialities)),
        "name_en",
    )
    updated = np.minimum(
        facts.created + stream("crm_leads", "updated").integers(lead, HOUR, 20 * DAY), ctx.as_of
    )
    phone = as_list(stream("crm_leads", "phone").integers(lead, 0, 10**8))
    return pl.DataFrame(
        {
            "id": ctx.ids("crm_leads", lead),
            "name": names,
            "email": emails,
            "phone": [f"+9665{number:08d}" for number in phone],
            "source": np.array(SOURCES, dtype=object)[
                ctx.mix("crm_leads", "source", lead, lead_count(ctx), (4, 3, 2, 2, 2, 1, 3))
            ].tolist(),
            "status": status.tolist(),
            "priority": np.array(PRIORITIES, dtype=object)[
                ctx.mix("crm_leads", "priority", lead, lead_count(ctx), (1, 2, 1))
            ].tolist(),
            "assigned_to": ctx.ids("users", facts.owner),
            "notes": None,
            "metadata": js(
                [
                    {"interest": speciality, "language": "ar" if in_arabic else "en"}
                    for speciality, in_arabic in zip(interest, arabic, strict=True)
                ]
            ),
            "created_at": ts(facts.created),
            "updated_at": ts(np.maximum(updated, facts.created)),
        },
        schema_overrides={"notes": pl.String},
    )


def _names_and_emails(
    ctx: Context, lead: np.ndarray, facts: LeadFacts
) -> tuple[pl.Series, list[str]]:
    """Leads' Arab names in their language, and e-mails in a reserved domain made from the
    family name and the lead's number."""
    vocab, stream = ctx.vocab, ctx.stream
    arab_first = [i for i, row in enumerate(vocab.first_names) if row["origin"] == "arab"]
    arab_family = [i for i, row in enumerate(vocab.family_names) if row["origin"] == "arab"]
    first = np.array(arab_first)[stream("crm_leads", "first").integers(lead, 0, len(arab_first))]
    family = np.array(arab_family)[
        stream("crm_leads", "family").integers(lead, 0, len(arab_family))
    ]
    pool = pools(ctx)
    arabic_name = pool.first_ar.gather(first) + " " + pool.family_ar.gather(family)
    english_name = pool.first_en.gather(first) + " " + pool.family_en.gather(family)
    names = Bilingual.of(english_name, arabic_name).each(facts.arabic)
    family_en = pick(vocab.family_names, family, "name_en")
    domains = ctx.profile.email_domains
    namespace_suffix = f"n{ctx.namespace}" if ctx.namespace else ""
    emails = [
        f"lead{number + 1}{namespace_suffix}.{surname.lower().replace('-', '')}"
        f"@{domains[number % len(domains)]}"
        for number, surname in zip(lead.tolist(), family_en, strict=True)
    ]
    return names, emails


def activity_count(ctx: Context) -> int:
    activity = ctx.profile.tables.activity
    return ctx.counts.crm_leads * activity.activities_per_lead


def crm_activities(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    rows = np.arange(start, stop, dtype=np.int64)
    per = ctx.profile.tables.activity.activities_per_lead
    lead, ordinal = rows // per, rows % per
    facts = LeadFacts(ctx, lead)
    owner = People(ctx, facts.owner)
    which = ctx.mix("crm_activities", "type", rows, activity_count(ctx), (3, 2, 1, 2, 1))
    kind = np.array(ACTIVITY_TYPES, dtype=object)[which]
    subjects = Bilingual(
        {
            language: [ctx.vocab.text(f"crm.{activity}", language) for activity in ACTIVITY_TYPES]
            for language in LG
        }
    )
    scheduled = facts.created + (ordinal + 1) * ctx.stream("crm_activities", "when").integers(
        rows, HOUR, 5 * DAY
    )
    past = scheduled <= ctx.as_of
    status = np.where(
        past,
        np.where(
            ctx.stream("crm_activities", "cancel").uniform(rows) < 0.1, "cancelled", "completed"
        ),
        "pending",
    )
    completed = np.where(status == "completed", np.minimum(scheduled + HOUR, ctx.as_of), -1)
    subject = subjects.at(owner.arabic, which)
    return pl.DataFrame(
        {
            "id": ctx.ids("crm_activities", rows),
            "lead_id": ctx.ids("crm_leads", lead),
            "user_id": ctx.ids("users", facts.owner),
            "activity_type": kind.tolist(),
            "subject": subject,
            "description": None,
            "scheduled_at": ts(scheduled),
            "completed_at": ts(completed),
            "status": status.tolist(),
            "created_at": ts(np.minimum(facts.created + ordinal * HOUR, ctx.as_of)),
        },
        schema_overrides={"description": pl.String},
    )
