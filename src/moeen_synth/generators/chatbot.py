"""Chatbot: the flows from the vocabulary, patients' conversations walking a flow, and their
messages, user and bot turns alternating in the user's language."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from moeen_synth.models.bilingual import Bilingual, in_language
from moeen_synth.models.care import own_doctors
from moeen_synth.models.columns import either, js, json_objects, ts
from moeen_synth.models.context import DAY, HOUR, MINUTE, Context
from moeen_synth.models.dates import date_texts, time_texts
from moeen_synth.models.doctors import doctor_facts
from moeen_synth.models.layout import I64, BlockPrefix
from moeen_synth.models.people import (
    People,
    insurer_of,
    layout,
    not_before,
    patients_with_one,
)


def flow_count(ctx: Context) -> int:
    return len(ctx.vocab.chatbot_flows)


def chatbot_flows(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    flows = ctx.vocab.chatbot_flows[start:stop]
    idx = np.arange(start, stop, dtype=np.int64)
    users = layout(ctx)
    admin = ctx.ids("users", np.array([users.offset("admin")]))[0] if users.counts[0] else None
    when = ctx.as_of - 380 * DAY + idx * DAY
    return pl.DataFrame(
        {
            "id": ctx.ids("chatbot_flows", idx),
            "name": [flow["name"] for flow in flows],
            "description": [flow["description_ar"] for flow in flows],
            "trigger_keywords": [
                list(flow["trigger_keywords_ar"]) + list(flow["trigger_keywords_en"])
                for flow in flows
            ],
            "is_active": [True] * len(flows),
            "flow_data": js(
                [
                    {"description_en": flow["description_en"], "steps": flow["steps"]}
                    for flow in flows
                ]
            ),
            "created_by": [admin] * len(flows),
            "created_at": ts(when),
            "updated_at": ts(when + 7 * DAY),
        },
        schema_overrides={"created_by": pl.String, "trigger_keywords": pl.List(pl.String)},
    )


class ConversationFacts:
    """Conversations ``conversation`` (kept as ``c``): their patient, flow, outcome, start
    and number of messages."""

    def __init__(self, ctx: Context, conversation: np.ndarray) -> None:
        activity = ctx.profile.tables.activity
        self.c = conversation = np.asarray(conversation, dtype=np.int64)
        self.patient = conversation_index(ctx).locate(conversation)[0]
        flows = ctx.vocab.chatbot_flows
        stream = ctx.stream
        doctors, seen_at = own_doctors(ctx)
        self.own_doctor, self.seen_at = doctors[self.patient], seen_at[self.patient]
        self.flow = _flows(ctx, conversation, self.own_doctor >= 0)
        steps = np.array([len(flow["steps"]) for flow in flows], dtype=np.int64)[self.flow]
        self.abandoned = ctx.share(
            "chatbot_conversations",
            "abandoned",
            conversation,
            conversation_count(ctx),
            activity.abandoned_share,
        )
        cut = stream("chatbot_conversations", "cut").integers(conversation, 1, np.maximum(steps, 2))
        self.steps = np.where(self.abandoned, np.minimum(cut, steps), steps)
        # Each step: the bot speaks, then the user answers; an abandoned chat ends on the bot.
        self.messages = np.where(self.abandoned, self.steps * 2 - 1, self.steps * 2)
        span = ctx.profile.history_days * DAY
        self.started = np.maximum(
            ctx.as_of
            - stream("chatbot_conversations", "start").integers(conversation, 2 * HOUR, span),
            not_before(ctx, self.patient) + HOUR,
        )
        # A chat about one's own care comes after the visit with that doctor.
        own_care = _own_care(ctx)[self.flow]
        after_visit = self.seen_at + np.minimum(HOUR, (ctx.as_of - self.seen_at) // 2)
        self.started = np.where(own_care, np.maximum(self.started, after_visit), self.started)
        self.gap = stream("chatbot_conversations", "gap").integers(conversation, 5, 40)
        self.ended = (
            self.started + self.messages * self.gap + np.where(self.abandoned, 30 * MINUTE, 0)
        )


def _own_care(ctx: Context) -> npt.NDArray[np.bool_]:
    """Per flow, whether it is about the patient's own care (chatbot_flows.yaml)."""
    flows = ctx.vocab.chatbot_flows
    return np.array([bool(f.get("about_own_care")) for f in flows], dtype=bool)


def _flows(ctx: Context, conversation: I64, has_doctor: npt.NDArray[np.bool_]) -> I64:
    """The flow each conversation walks; a patient with no doctor of their own yet walks
    one of the flows not about their own care instead of one that is."""
    flows = ctx.vocab.chatbot_flows
    stream = ctx.stream("chatbot_conversations", "flow")
    flow = stream.integers(conversation, 0, len(flows))
    own_care = _own_care(ctx)
    open_to_all = np.flatnonzero(~own_care)
    if len(open_to_all) == 0:
        return flow
    instead = open_to_all[
        ctx.stream("chatbot_conversations", "flow_instead").integers(
            conversation, 0, len(open_to_all)
        )
    ]
    result: I64 = np.where(own_care[flow] & ~has_doctor, instead, flow)
    return result


def conversation_index(ctx: Context) -> BlockPrefix:
    """The patients who talked to the chatbot (one conversation each), in patient order."""
    return patients_with_one(
        ctx, "chatbot_conversations", ctx.profile.tables.activity.conversations_per_patient
    )


def conversation_count(ctx: Context) -> int:
    return conversation_index(ctx).total


def message_index(ctx: Context) -> BlockPrefix:
    result: BlockPrefix = ctx.cached(
        "message_index",
        lambda: BlockPrefix(
            conversation_count(ctx),
            lambda conversation: ConversationFacts(ctx, conversation).messages,
        ),
    )
    return result


def message_count(ctx: Context) -> int:
    return message_index(ctx).total


def chatbot_conversations(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    conversation = np.arange(start, stop, dtype=np.int64)
    facts = ConversationFacts(ctx, conversation)
    user = facts.patient + layout(ctx).offset("patient")
    people = People(ctx, user)
    flows = ctx.vocab.chatbot_flows
    session = ctx.stream("chatbot_conversations", "session").bits(conversation).tolist()
    flow_names = pl.Series([flow["name"] for flow in flows], dtype=pl.String)
    return pl.DataFrame(
        {
            "id": ctx.ids("chatbot_conversations", conversation),
            "user_id": ctx.ids("users", user),
            "session_id": [f"sess_{key:016x}" for key in session],
            "flow_id": ctx.ids("chatbot_flows", facts.flow),
            "status": either(facts.abandoned, "abandoned", "completed"),
            "started_at": ts(facts.started),
            "ended_at": ts(np.minimum(facts.ended, ctx.as_of)),
            "metadata": json_objects(
                language=people.language,
                channel=pl.repeat("web", len(conversation), eager=True),
                flow=flow_names.gather(facts.flow),
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
        for number, flow in enumerate(flows):
            self.step_start[number] = len(kinds)
            for step in flow["steps"]:
                options = {
                    language: list(step.get(f"options_{language}") or [])
                    for language in ("ar", "en")
                }
                for language in ("ar", "en"):
                    bot[language].append(str(step[f"bot_{language}"]))
                    meta[language].append(_bot_meta(step, options[language]))
                user_meta.append(json.dumps({"step": step["id"]}))
                kinds.append(str(step.get("message_type", "text")) if options["en"] else "text")
                said = _user_replies(flow, step)
                reply_start.append(len(replies["ar"]))
                reply_count.append(len(said["en"]))
                for language in ("ar", "en"):
                    replies[language].extend(said[language])
        self.bot = Bilingual(bot)
        self.bot_meta = Bilingual(meta)
        self.user_meta = pl.Series(user_meta)
        self.kind = pl.Series(kinds)
        self.reply_start = np.array(reply_start, dtype=np.int64)
        self.reply_count = np.array(reply_count, dtype=np.int64)
        self.replies = Bilingual(replies)
        clinic = next(row for row in ctx.vocab.settings if row["key"] == "clinic_name")
        names = json.loads(clinic["value"])
        self.clinic = {language: str(names[language]) for language in ("ar", "en")}
        self.insurer = Bilingual(
            {
                language: [row[f"name_{language}"] for row in ctx.vocab.insurers]
                for language in ("ar", "en")
            }
        )


def _bot_meta(step: dict[str, Any], options: list[Any]) -> str:
    """The metadata of the bot's line of ``step``: the step, and the options it offers."""
    body = {"step": step["id"], "options": options} if options else {"step": step["id"]}
    return json.dumps(body, ensure_ascii=False, sort_keys=True)


def _user_replies(flow: dict[str, Any], step: dict[str, Any]) -> dict[str, list[str]]:
    """The replies a user may give at ``step``, by language (one empty reply if none)."""
    said = {language: list(step.get(f"user_{language}") or [""]) for language in ("ar", "en")}
    if len(said["ar"]) != len(said["en"]):
        raise ValueError(
            f"chatbot flow {flow['name']}, step {step['id']}: user_ar "
            "and user_en must have the same number of replies"
        )
    return {language: [str(reply) for reply in said[language]] for language in ("ar", "en")}


def script(ctx: Context) -> Script:
    result: Script = ctx.cached("chatbot_script", lambda: Script(ctx))
    return result


PLACEHOLDERS = ("doctor_name", "date", "time", "clinic_name", "insurer", "national_id", "mobile")


def chatbot_messages(ctx: Context, start: int, stop: int) -> pl.DataFrame:
    rows = np.arange(start, stop, dtype=np.int64)
    conversation, ordinal = message_index(ctx).locate(rows)
    facts = ConversationFacts(ctx, conversation)
    out = _message_texts(ctx, rows, conversation, ordinal, facts)
    created = facts.started + ordinal * facts.gap
    return pl.DataFrame(
        {
            "id": ctx.ids("chatbot_messages", rows),
            "conversation_id": ctx.ids("chatbot_conversations", conversation),
            "sender_type": out["sender_type"],
            "message": out["message"],
            "message_type": out["message_type"],
            "metadata": out["metadata"],
            "created_at": ts(np.minimum(created, ctx.as_of)),
        }
    )


def _message_texts(
    ctx: Context, rows: I64, conversation: I64, ordinal: I64, facts: ConversationFacts
) -> pl.DataFrame:
    """message, sender_type, message_type and metadata of each message: the bot's line of
    the conversation's step or the user's reply to it, in the user's language, with the
    placeholders filled."""
    chat = script(ctx)
    people = People(ctx, facts.patient + layout(ctx).offset("patient"))
    arabic = people.arabic
    step = chat.step_start[facts.flow] + ordinal // 2
    draw = ctx.stream("chatbot_messages", "reply").integers(rows, 0, 1 << 20)
    reply = chat.reply_start[step] + draw % chat.reply_count[step]
    frame = pl.DataFrame(
        {
            "m": arabic,
            "bot": ordinal % 2 == 0,
            "bot_text": chat.bot.at(arabic, step),
            "user_text": chat.replies.at(arabic, reply),
            "bot_meta": chat.bot_meta.at(arabic, step),
            "user_meta": chat.user_meta.gather(step),
            "kind": chat.kind.gather(step),
            **_placeholder_values(ctx, conversation, facts, people),
        }
    )
    text = pl.when("bot").then("bot_text").otherwise("user_text")
    for key in PLACEHOLDERS:
        text = text.str.replace_all("{" + key + "}", pl.col(key), literal=True)
    return frame.select(
        text.alias("message"),
        pl.when("bot").then(pl.lit("bot")).otherwise(pl.lit("user")).alias("sender_type"),
        pl.when("bot").then("kind").otherwise(pl.lit("text")).alias("message_type"),
        pl.when("bot").then("bot_meta").otherwise("user_meta").alias("metadata"),
    )


def _placeholder_values(
    ctx: Context, conversation: I64, facts: ConversationFacts, people: People
) -> dict[str, pl.Series]:
    """The value of each of PLACEHOLDERS per message, in the user's language."""
    chat = script(ctx)
    arabic = people.arabic
    stream = ctx.stream
    # Their own doctor, or, for a patient who has none yet, the doctor they ask for.
    asked_for = stream("chatbot_conversations", "doctor").integers(
        conversation, 0, ctx.counts.doctors
    )
    doctor = np.where(facts.own_doctor >= 0, facts.own_doctor, asked_for)
    # The patient's insurer; one they are asking about if they have none.
    insurer = insurer_of(ctx, facts.patient)
    asked = stream("chatbot_conversations", "insurer").integers(conversation, 0, chat.insurer.size)
    insurer = np.where(insurer >= 0, insurer, asked)
    when = facts.started + 2 * DAY
    return {
        "doctor_name": doctor_facts(ctx).names.at(arabic, doctor),
        "date": date_texts(when, arabic),
        "time": time_texts(ctx, when, arabic),
        "clinic_name": in_language(arabic, chat.clinic["ar"], chat.clinic["en"]),
        "insurer": chat.insurer.at(arabic, insurer),
        # What the user types: their own id, their mobile in the local 05... form.
        "national_id": people.national_id,
        "mobile": "0" + people.phone.str.slice(4),
    }
