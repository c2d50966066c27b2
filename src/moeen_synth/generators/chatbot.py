"""Chatbot: the flows from the vocabulary, patients' conversations walking a flow, and their
messages, user and bot turns alternating in the user's language."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import polars as pl

from moeen_synth.generators.base import DAY, HOUR, MINUTE, BlockPrefix, Context, js, ts
from moeen_synth.generators.people import People, layout


def flow_count(ctx: Context) -> int:
    return len(ctx.vocab.chatbot_flows)


def _pg_array(items: list[str]) -> str:
    """A text[] literal with every element quoted and escaped."""
    quoted = ('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in items)
    return "{" + ",".join(quoted) + "}"


def chatbot_flows(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    flows = ctx.vocab.chatbot_flows[start:stop]
    idx = np.arange(start, stop, dtype=np.int64)
    lay = layout(ctx)
    admin = ctx.ids("users", np.array([lay.offset("admin")]))[0] if lay.counts[0] else None
    when = ctx.as_of - 380 * DAY + idx * DAY
    return pl.DataFrame(
        {
            "id": ctx.ids("chatbot_flows", idx),
            "name": [f["name"] for f in flows],
            "description": [f["description_ar"] for f in flows],
            "trigger_keywords": [
                _pg_array(list(f["trigger_keywords_ar"]) + list(f["trigger_keywords_en"]))
                for f in flows
            ],
            "is_active": [True] * len(flows),
            "flow_data": js(
                [{"description_en": f["description_en"], "steps": f["steps"]} for f in flows]
            ),
            "created_by": [admin] * len(flows),
            "created_at": ts(when),
            "updated_at": ts(when + 7 * DAY),
        },
        schema_overrides={"created_by": pl.String},
    )


class ConversationFacts:
    """Conversation ``c``: its patient, flow, outcome, start and number of messages."""

    def __init__(self, ctx: Context, c: np.ndarray) -> None:
        t = ctx.profile.tables.activity
        self.c = c = np.asarray(c, dtype=np.int64)
        self.patient = conversation_index(ctx).locate(c)[0]
        flows = ctx.vocab.chatbot_flows
        self.flow = ctx.stream("chatbot_conversations", "flow").integers(c, 0, len(flows))
        steps = np.array([len(flows[i]["steps"]) for i in self.flow.tolist()], dtype=np.int64)
        self.abandoned = ctx.share(
            "chatbot_conversations", "abandoned", c, conversation_count(ctx), t.abandoned_share
        )
        cut = ctx.stream("chatbot_conversations", "cut").integers(c, 1, np.maximum(steps, 2))
        self.steps = np.where(self.abandoned, np.minimum(cut, steps), steps)
        # Each step: the bot speaks, then the user answers; an abandoned chat ends on the bot.
        self.messages = np.where(self.abandoned, self.steps * 2 - 1, self.steps * 2)
        span = ctx.profile.history_days * DAY
        self.started = ctx.as_of - ctx.stream("chatbot_conversations", "start").integers(
            c, 2 * HOUR, span
        )
        self.gap = ctx.stream("chatbot_conversations", "gap").integers(c, 5, 40)
        self.ended = (
            self.started + self.messages * self.gap + np.where(self.abandoned, 30 * MINUTE, 0)
        )


def conversation_index(ctx: Context) -> BlockPrefix:
    """The patients who talked to the chatbot (one conversation each), in patient order."""

    def build() -> BlockPrefix:
        t = ctx.profile.tables
        n = ctx.counts.patients
        share = t.activity.conversations_per_patient
        return BlockPrefix(n, lambda p: ctx.share("chatbot_conversations", "who", p, n, share))

    result: BlockPrefix = ctx.cached("conversation_index", build)
    return result


def conversation_count(ctx: Context) -> int:
    return conversation_index(ctx).total


def message_index(ctx: Context) -> BlockPrefix:
    result: BlockPrefix = ctx.cached(
        "message_index",
        lambda: BlockPrefix(conversation_count(ctx), lambda c: ConversationFacts(ctx, c).messages),
    )
    return result


def message_count(ctx: Context) -> int:
    return message_index(ctx).total


def chatbot_conversations(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    c = np.arange(start, stop, dtype=np.int64)
    f = ConversationFacts(ctx, c)
    lay = layout(ctx)
    u = f.patient + lay.offset("patient")
    people = People(ctx, u)
    flows = ctx.vocab.chatbot_flows
    session = ctx.stream("chatbot_conversations", "session").bits(c).tolist()
    return pl.DataFrame(
        {
            "id": ctx.ids("chatbot_conversations", c),
            "user_id": ctx.ids("users", u),
            "session_id": [f"sess_{s:016x}" for s in session],
            "flow_id": ctx.ids("chatbot_flows", f.flow),
            "status": np.where(f.abandoned, "abandoned", "completed").tolist(),
            "started_at": ts(f.started),
            "ended_at": ts(np.minimum(f.ended, ctx.as_of)),
            "metadata": js(
                [
                    {"language": lg, "channel": "web", "flow": flows[k]["name"]}
                    for lg, k in zip(people.language, f.flow.tolist(), strict=True)
                ]
            ),
        }
    )


def _fill(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)


def chatbot_messages(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    from moeen_synth.generators.messaging import date_text, time_text

    rows = np.arange(start, stop, dtype=np.int64)
    conv, ordinal = message_index(ctx).locate(rows)
    f = ConversationFacts(ctx, conv)
    lay = layout(ctx)
    people = People(ctx, f.patient + lay.offset("patient"))
    n_doctors = ctx.counts.doctors
    doc_i = ctx.stream("chatbot_conversations", "doctor").integers(conv, 0, n_doctors)
    doctors = People(ctx, doc_i + lay.offset("doctor"))
    reply = ctx.stream("chatbot_messages", "reply").integers(rows, 0, 1 << 20).tolist()
    flows = ctx.vocab.chatbot_flows
    clinic = ctx.vocab.settings[0]
    senders, texts, kinds, metas = [], [], [], []
    for i, (k, o) in enumerate(zip(f.flow.tolist(), ordinal.tolist(), strict=True)):
        lg = people.language[i]
        step: dict[str, Any] = flows[k]["steps"][o // 2]
        when = int(f.started[i]) + 2 * DAY
        values = {
            "doctor_name": doctors.name_ar[i] if lg == "ar" else doctors.name_en[i],
            "date": date_text(when, lg),
            "time": time_text(ctx, when, lg),
            "clinic_name": _clinic_name(clinic["value"], lg),
            "insurer": "",
        }
        if o % 2 == 0:
            senders.append("bot")
            texts.append(_fill(str(step[f"bot_{lg}"]), values))
            options = step.get(f"options_{lg}") or []
            kinds.append(step.get("message_type", "text") if options else "text")
            metas.append(
                {"step": step["id"], "options": options} if options else {"step": step["id"]}
            )
        else:
            senders.append("user")
            replies = step.get(f"user_{lg}") or [""]
            texts.append(_fill(str(replies[reply[i] % len(replies)]), values))
            kinds.append("text")
            metas.append({"step": step["id"]})
    created = f.started + ordinal * f.gap
    return pl.DataFrame(
        {
            "id": ctx.ids("chatbot_messages", rows),
            "conversation_id": ctx.ids("chatbot_conversations", conv),
            "sender_type": senders,
            "message": texts,
            "message_type": kinds,
            "metadata": js(metas),
            "created_at": ts(np.minimum(created, ctx.as_of)),
        },
        schema_overrides={
            "sender_type": pl.String,
            "message": pl.String,
            "message_type": pl.String,
        },
    )


def _clinic_name(value_json: str, lang: str) -> str:
    import json

    value = json.loads(value_json)
    return str(value.get(lang, "")) if isinstance(value, dict) else str(value)
