"""The SQL tables the bot uses; bot/migrations creates and changes them (never create_all)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

turns = Table(
    "turns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_key", String(255), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("platform", String(32), nullable=False, default=""),
    Column("at", DateTime(timezone=True), nullable=False),
    # Who asked (both turns of an exchange); NULL on rows stored before revision 0002.
    Column("asker", String(255), nullable=True),
    Index("ix_turns_asker", "platform", "asker"),
    Index("ix_turns_at", "at"),
)

answers = Table(
    "answers",
    metadata,
    Column("answer_id", String(64), primary_key=True),
    Column("conversation_key", String(255), nullable=False),
    Column("asker", String(255), nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("covered", Boolean, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    # Token usage of an LLM answer, when the provider reports it.
    Column("prompt_tokens", Integer, nullable=True),
    Column("completion_tokens", Integer, nullable=True),
    Index("ix_answers_at", "at"),
    # Where it was asked and what it cited (JSON list of {passage_id, title, section, url});
    # NULL on rows stored before revision 0005.
    Column("platform", String(32), nullable=True),
    Column("sources", Text, nullable=True),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("answer_id", String(64), nullable=False, index=True),
    Column("user", String(255), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("helpful", Boolean, nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_feedback_at", "at"),
    # The cited sources (as answers.sources) and the optional 👎 reason (revision 0005).
    Column("sources", Text, nullable=True),
    Column("reason", String(32), nullable=True),
    Column("reason_text", Text, nullable=True),
    # One vote per user per answer: a second click replaces the first (upsert).
    Index("uq_feedback_vote", "answer_id", "platform", "user", unique=True),
)

meta_kv = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("holder", String(255), nullable=False),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# First writer wins: a replica handles an event only if its INSERT here did not conflict.
seen_events = Table(
    "seen_events",
    metadata,
    Column("platform", String(32), nullable=False),
    Column("event_id", String(255), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("platform", "event_id", name="pk_seen_events"),
    Index("ix_seen_events_at", "at"),
)

# A bot message id -> the conversation it belongs to (Discord reply chains).
message_links = Table(
    "message_links",
    metadata,
    Column("platform", String(32), nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("conversation_key", String(255), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("platform", "message_id", name="pk_message_links"),
    Index("ix_message_links_at", "at"),
    Index("ix_message_links_conversation_key", "conversation_key"),
)

# Answers a user may still share in a channel (Slack "Share in channel"), from any replica.
shared_answers = Table(
    "shared_answers",
    metadata,
    Column("answer_id", String(64), primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("asker", String(255), nullable=False),
    Column("question", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_shared_answers_at", "at"),
    Index("ix_shared_answers_asker", "platform", "asker"),
)

# The serving index generation per Chroma store and collection prefix
# (bot/index_pointer.py), moved by a compare-and-set on `version`.
index_pointer = Table(
    "index_pointer",
    metadata,
    Column("store_key", String(255), nullable=False),
    Column("active", String(255), nullable=False),
    Column("previous", String(255), nullable=True),
    Column("version", Integer, nullable=False),
    Column("moved_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("store_key", name="pk_index_pointer"),
)

# Generations neither active nor previous, and since when: dropped after a grace period.
index_retired = Table(
    "index_retired",
    metadata,
    Column("name", String(255), nullable=False),
    Column("store_key", String(255), nullable=False),
    Column("retired_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("name", name="pk_index_retired"),
)

# Run-time auto-answer switch per channel (`/careerbot autoanswer off|on`, Discord
# `/autoanswer`); a configured channel without a row auto-answers.
channel_switches = Table(
    "channel_switches",
    metadata,
    Column("platform", String(32), nullable=False),
    Column("channel_id", String(64), nullable=False),
    Column("auto_answer", Boolean, nullable=False),
    Column("changed_by", String(255), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("platform", "channel_id", name="pk_channel_switches"),
)

# Fixed-window rate-limit counters shared by replicas (bot/fair_use.py): one row per limit
# and user or channel, incremented by one atomic upsert; `expires_at` is epoch seconds.
rate_counters = Table(
    "rate_counters",
    metadata,
    Column("key", String(255), nullable=False),
    Column("hits", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),
    PrimaryKeyConstraint("key", name="pk_rate_counters"),
    Index("ix_rate_counters_expires_at", "expires_at"),
)

# A period (e.g. the ISO week "2026-W48") whose knowledge-gap report was posted: the replica
# whose INSERT wins posts it; the others see the conflict and stay quiet.
report_posts = Table(
    "report_posts",
    metadata,
    Column("period", String(64), nullable=False),
    Column("holder", String(255), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("period", name="pk_report_posts"),
)

# Every admin action (reload, dry run, rollback, …): who, from where, when, and the result.
# `action_id` is the platform's id for the request when it has one (a redelivered command is
# recorded once), else a random id.
admin_actions = Table(
    "admin_actions",
    metadata,
    Column("action_id", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("result", String(16), nullable=False),
    Column("outcome", Text, nullable=False),
    PrimaryKeyConstraint("action_id", name="pk_admin_actions"),
    Index("ix_admin_actions_at", "at"),
)

# "Ask a mentor" hand-offs (bot/escalation.py): one per asker and answer; the mentors' post
# (Slack "channel:ts", Discord thread id) is unique, so a reply finds its escalation.
escalations = Table(
    "escalations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("asker", String(255), nullable=False),
    # The name mentors see; NULL when the asker chose to share anonymously.
    Column("shown_name", String(255), nullable=True),
    Column("relay_channel", String(64), nullable=False),
    # Slack: the thread's ts; Discord: the answer message to reply to. NULL: a plain message.
    Column("relay_thread", String(64), nullable=True),
    Column("answer_id", String(64), nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("sources", Text, nullable=False),
    Column("note", Text, nullable=True),
    Column("mentors_post", String(128), nullable=True),
    Column("status", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("platform", "asker", "answer_id", name="uq_escalations_asker_answer"),
    UniqueConstraint("platform", "mentors_post", name="uq_escalations_mentors_post"),
    Index("ix_escalations_at", "at"),
)

# Mentor replies relayed to the asker: the first replica to insert a message id relays it.
escalation_replies = Table(
    "escalation_replies",
    metadata,
    Column("platform", String(32), nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("escalation_id", Integer, nullable=False, index=True),
    Column("mentor", String(255), nullable=False),
    Column("mentor_name", String(255), nullable=False),
    Column("text", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("platform", "message_id", name="pk_escalation_replies"),
    Index("ix_escalation_replies_at", "at"),
)
