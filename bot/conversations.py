"""Conversation history, answers and feedback in SQL (SQLite by default, any SQLAlchemy URL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Engine, make_url

from bot.models import Feedback, Turn

_meta = MetaData()

turns = Table(
    "turns",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_key", String(255), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("platform", String(32), nullable=False, default=""),
    Column("at", DateTime(timezone=True), nullable=False),
)

answers = Table(
    "answers",
    _meta,
    Column("answer_id", String(64), primary_key=True),
    Column("conversation_key", String(255), nullable=False),
    Column("asker", String(255), nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("covered", Boolean, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

feedback = Table(
    "feedback",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("answer_id", String(64), nullable=False, index=True),
    Column("user", String(255), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("helpful", Boolean, nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

meta_kv = Table(
    "meta",
    _meta,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


class ConversationStore:
    """Blocking store; the service calls it from a worker thread."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, object] = {}
        if parsed.drivername.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
        self.engine: Engine = create_engine(url, **kwargs)
        if parsed.drivername.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        _meta.create_all(self.engine)
        self._lock = threading.Lock()

    def history(self, key: str, limit: int) -> list[Turn]:
        """The last `limit` turns of a conversation, oldest first."""
        if limit <= 0:
            return []
        query = (
            select(turns.c.role, turns.c.text, turns.c.at)
            .where(turns.c.conversation_key == key)
            .order_by(turns.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [Turn(role=r.role, text=r.text, at=r.at) for r in reversed(rows)]

    def append_exchange(
        self,
        key: str,
        *,
        asker: str,
        platform: str,
        question: str,
        answer_text: str,
        answer_id: str,
        covered: bool,
        mode: str,
    ) -> None:
        """Store a question and its answer as two turns plus an answer record, atomically."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(
                insert(turns),
                [
                    {
                        "conversation_key": key,
                        "role": "user",
                        "text": question,
                        "platform": platform,
                        "at": now,
                    },
                    {
                        "conversation_key": key,
                        "role": "assistant",
                        "text": answer_text,
                        "platform": platform,
                        "at": now,
                    },
                ],
            )
            conn.execute(
                insert(answers).values(
                    answer_id=answer_id,
                    conversation_key=key,
                    asker=asker,
                    question=question,
                    answer=answer_text,
                    covered=covered,
                    mode=mode,
                    at=now,
                )
            )

    def has_conversation(self, key: str) -> bool:
        """Whether any turn exists under this key."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(turns.c.id).where(turns.c.conversation_key == key).limit(1)
            ).first()
        return found is not None

    def forget(self, key: str) -> int:
        """Delete a conversation's turns; returns how many were removed."""
        with self.engine.begin() as conn:
            result = conn.execute(delete(turns).where(turns.c.conversation_key == key))
        return int(result.rowcount or 0)

    def answer_record(self, answer_id: str) -> tuple[str, str] | None:
        """(question, answer) of a stored answer, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(answers.c.question, answers.c.answer).where(answers.c.answer_id == answer_id)
            ).first()
        return (row.question, row.answer) if row else None

    def record_feedback(self, item: Feedback) -> None:
        """Store a feedback click with the question and answer (looked up when not given)."""
        question, answer_text = item.question, item.answer
        if not question or not answer_text:
            stored = self.answer_record(item.answer_id)
            if stored:
                question = question or stored[0]
                answer_text = answer_text or stored[1]
        with self.engine.begin() as conn:
            conn.execute(
                insert(feedback).values(
                    answer_id=item.answer_id,
                    user=item.user,
                    platform=item.platform,
                    helpful=item.helpful,
                    question=question,
                    answer=answer_text,
                    at=datetime.now(UTC),
                )
            )

    def feedback_for(self, answer_id: str) -> list[Feedback]:
        """All feedback recorded for an answer."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(feedback).where(feedback.c.answer_id == answer_id).order_by(feedback.c.id)
            ).all()
        return [
            Feedback(
                answer_id=r.answer_id,
                user=r.user,
                platform=r.platform,
                helpful=r.helpful,
                question=r.question,
                answer=r.answer,
            )
            for r in rows
        ]

    def count(self, table: str) -> int:
        """Rows in one of this store's tables (for status and tests)."""
        target = {"turns": turns, "answers": answers, "feedback": feedback}[table]
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(target)).scalar_one())

    def set_meta(self, key: str, value: str) -> None:
        """Upsert a small key/value (e.g. the last reload time)."""
        with self._lock, self.engine.begin() as conn:
            conn.execute(delete(meta_kv).where(meta_kv.c.key == key))
            conn.execute(insert(meta_kv).values(key=key, value=value))

    def get_meta(self, key: str) -> str | None:
        """Read a key/value, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(meta_kv.c.value).where(meta_kv.c.key == key)).first()
        return str(row.value) if row else None

    def close(self) -> None:
        """Dispose of pooled connections."""
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets the bot read while a reload or another adapter writes.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
