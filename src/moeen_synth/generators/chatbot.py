"""Chatbot: the flows from the vocabulary, patients' conversations walking a flow, and their
messages, user and bot turns alternating in the user's language."""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from moeen_synth.models.bilingual import Bilingual, in_language
from moeen_synth.models.columns import either, js, json_objects, ts
from moeen_synth.models.context import DAY, HOUR, MINUTE, Context
from moeen_synth.models.dates import date_texts, time_texts
from moeen_synth.models.doctors import doctor_facts
from moeen_synth.models.layout import BlockPrefix
from moeen_synth.models.people import People, insurer_of, layout


def flow_count(ctx: Context) -> int:
    return len(ctx.vocab.chatbot_flows)


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
                list(f["trigger_keywords_ar"]) + list(f["trigger_keywords_en"]) for f in flows
            ],
            "is_active": [True] * len(flows),
            "flow_data": js(
                [{"description_en": f["description_en"], "steps": f["steps"]} for f in flows]
            ),
            "created_by": [admin] * len(flows),
            "created_at": ts(when),
            "updated_at": ts(when + 7 * DAY),
        },
        schema_overrides={"created_by": pl.String, "trigger_keywords": pl.List(pl.String)},
    )


class ConversationFacts:
    """Conversation ``c``: its patient, flow, outcome, start and number of messages."""

    def __init__(self, ctx: Context, c: np.ndarray) -> None:
        t = ctx.profile.tables.activity
        self.c = c = np.asarray(c, dtype=np.int64)
        self.patient = conversation_index(ctx).locate(c)[0]
        flows = ctx.vocab.chatbot_flows
        self.flow = ctx.stream("chatbot_conversations", "flow").integers(c, 0, len(flows))
        steps = np.array([len(f["steps"]) for f in flows], dtype=np.int64)[self.flow]
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
            "status": either(f.abandoned, "abandoned", "completed"),
            "started_at": ts(f.started),
            "ended_at": ts(np.minimum(f.ended, ctx.as_of)),
            "metadata": json_objects(
                language=people.language,
                channel=pl.repeat("web", len(c), eager=True),
                flow=pl.Series([flow["name"] for flow in flows], dtype=pl.String).gather(f.flow),
            ),
        }
    )


class Script:
    """Every step of every flow as flat columns, and every user reply, built once per run."""

    def __init__(self, ctx: Context) -> None:
        flows = ctx.vocab.chatbot_flows
        self.step_start = np.zeros(len(flows), dtype=np.int64)
        bot: dict[str, list[str]] = {"ar": [], "en": []}
        meta: dict[str, list[str]] = {"ar": [], "en": []}
        user_meta: list[str] = []
        kinds: list[str] = []
        reply_start: list[int] = []
        reply_count: list[int] = []
        replies: dict[str, list[str]] = {"ar": [], "en": []}
        for k, flow in enumerate(flows):
            self.step_start[k] = len(kinds)
            for step in flow["steps"]:
                options = {lg: list(step.get(f"options_{lg}") or []) for lg in ("ar", "en")}
                for lg in ("ar", "en"):
                    bot[lg].append(str(step[f"bot_{lg}"]))
                    body = (
                        {"step": step["id"], "options": options[lg]}
                        if options[lg]
                        else {"step": step["id"]}
                    )
                    meta[lg].append(json.dumps(body, ensure_ascii=False, sort_keys=True))
                user_meta.append(json.dumps({"step": step["id"]}))
                kinds.append(str(step.get("message_type", "text")) if options["en"] else "text")
                said = {lg: list(step.get(f"user_{lg}") or [""]) for lg in ("ar", "en")}
                if len(said["ar"]) != len(said["en"]):
                    raise ValueError(
                        f"chatbot flow {flow['name']}, step {step['id']}: user_ar "
                        "and user_en must have the same number of replies"
                    )
                reply_start.append(len(replies["ar"]))
                reply_count.append(len(said["en"]))
                for lg in ("ar", "en"):
                    replies[lg].extend(str(x) for x in said[lg])
        self.bot = Bilingual(bot)
        self.bot_meta = Bilingual(meta)
        self.user_meta = pl.Series(user_meta)
        self.kind = pl.Series(kinds)
        self.reply_start = np.array(reply_start, dtype=np.int64)
        self.reply_count = np.array(reply_count, dtype=np.int64)
        self.replies = Bilingual(replies)
        clinic = next(r for r in ctx.vocab.settings if r["key"] == "clinic_name")
        names = json.loads(clinic["value"])
        self.clinic = {lg: str(names[lg]) for lg in ("ar", "en")}
        self.insurer = Bilingual(
            {lg: [r[f"name_{lg}"] for r in ctx.vocab.insurers] for lg in ("ar", "en")}
        )


def script(ctx: Context) -> Script:
    result: Script = ctx.cached("chatbot_script", lambda: Script(ctx))
    return result


PLACEHOLDERS = ("doctor_name", "date", "time", "clinic_name", "insurer", "national_id", "mobile")


def chatbot_messages(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    sc = script(ctx)
    rows = np.arange(start, stop, dtype=np.int64)
    conv, ordinal = message_index(ctx).locate(rows)
    f = ConversationFacts(ctx, conv)
    lay = layout(ctx)
    people = People(ctx, f.patient + lay.offset("patient"))
    arabic = people.arabic
    doc_i = ctx.stream("chatbot_conversations", "doctor").integers(conv, 0, ctx.counts.doctors)
    step = sc.step_start[f.flow] + ordinal // 2
    reply = (
        sc.reply_start[step]
        + ctx.stream("chatbot_messages", "reply").integers(rows, 0, 1 << 20) % sc.reply_count[step]
    )
    # The patient's insurer; one they are asking about if they have none.
    insurer = insurer_of(ctx, f.patient)
    asked = ctx.stream("chatbot_conversations", "insurer").integers(conv, 0, sc.insurer.size)
    insurer = np.where(insurer >= 0, insurer, asked)
    when = f.started + 2 * DAY
    frame = pl.DataFrame(
        {
            "m": arabic,
            "bot": ordinal % 2 == 0,
            "bot_text": sc.bot.at(arabic, step),
            "user_text": sc.replies.at(arabic, reply),
            "bot_meta": sc.bot_meta.at(arabic, step),
            "user_meta": sc.user_meta.gather(step),
            "kind": sc.kind.gather(step),
            "doctor_name": doctor_facts(ctx).names.at(arabic, doc_i),
            "date": date_texts(when, arabic),
            "time": time_texts(ctx, when, arabic),
            "clinic_name": in_language(arabic, sc.clinic["ar"], sc.clinic["en"]),
            "insurer": sc.insurer.at(arabic, insurer),
            # What the user types: their own id, their mobile in the local 05... form.
            "national_id": people.national_id,
            "mobile": "0" + people.phone.str.slice(4),
        }
    )
    text = pl.when("bot").then("bot_text").otherwise("user_text")
    for key in PLACEHOLDERS:
        text = text.str.replace_all("{" + key + "}", pl.col(key), literal=True)
    out = frame.select(
        text.alias("message"),
        pl.when("bot").then(pl.lit("bot")).otherwise(pl.lit("user")).alias("sender_type"),
        pl.when("bot").then("kind").otherwise(pl.lit("text")).alias("message_type"),
        pl.when("bot").then("bot_meta").otherwise("user_meta").alias("metadata"),
    )
    created = f.started + ordinal * f.gap
    return pl.DataFrame(
        {
            "id": ctx.ids("chatbot_messages", rows),
            "conversation_id": ctx.ids("chatbot_conversations", conv),
            "sender_type": out["sender_type"],
            "message": out["message"],
            "message_type": out["message_type"],
            "metadata": out["metadata"],
            "created_at": ts(np.minimum(created, ctx.as_of)),
        }
    )
