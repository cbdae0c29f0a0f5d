"""The SQL tables the bot uses; bot/migrations creates and changes them (never create_all)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
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
