"""Conversation history, answers and feedback in SQL (SQLite by default, any SQLAlchemy URL)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from bot.db import insert_ignore, make_engine, retry_transient, upgrade_to_head, upsert
from bot.models import (
    MAX_REASON_CHARS,
    Answer,
    Citation,
    Feedback,
    LeaseInfo,
    LeaseTaken,
    PruneReport,
    StoredData,
    Suggestion,
    Turn,
)
from bot.report import AnswerRow, FeedbackRow
from bot.schema import (
    answers,
    escalation_replies,
    escalations,
    feedback,
    leases,
    message_links,
    meta_kv,
    report_posts,
    seen_events,
    shared_answers,
    turns,
)


class ConversationStore:
    """Blocking store; the service calls it from a worker thread.

    Opening it upgrades the schema to the newest migration (race-safe across replicas).
    Every method retries transient database errors with bounded backoff and then raises
    DatabaseUnavailable.
    """

    def __init__(self, url: str) -> None:
        self.engine: Engine = make_engine(url)
        retry_transient(upgrade_to_head)(self.engine)

    @retry_transient
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

    @retry_transient
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
        usage: Mapping[str, int] | None = None,
        citations: Sequence[Citation] = (),
    ) -> None:
        """Store a question and its answer as two turns plus an answer record, atomically.

        `usage` may carry the LLM's `prompt_tokens` and `completion_tokens`; `citations` are
        kept as the answer's sources (for feedback and the knowledge-gap report).
        """
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
                        "asker": asker,
                    },
                    {
                        "conversation_key": key,
                        "role": "assistant",
                        "text": answer_text,
                        "platform": platform,
                        "at": now,
                        "asker": asker,
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
                    prompt_tokens=(usage or {}).get("prompt_tokens"),
                    completion_tokens=(usage or {}).get("completion_tokens"),
                    platform=platform,
                    sources=sources_json(citations),
                )
            )

    @retry_transient
    def has_conversation(self, key: str) -> bool:
        """Whether any turn exists under this key."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(turns.c.id).where(turns.c.conversation_key == key).limit(1)
            ).first()
        return found is not None

    @retry_transient
    def forget(self, key: str) -> int:
        """Delete a conversation's turns; returns how many were removed."""
        with self.engine.begin() as conn:
            result = conn.execute(delete(turns).where(turns.c.conversation_key == key))
        return int(result.rowcount or 0)

    @retry_transient
    def answer_record(self, answer_id: str) -> tuple[str, str] | None:
        """(question, answer) of a stored answer, or None."""
        found = self._answer_record(answer_id)
        return (found[0], found[1]) if found else None

    def _answer_record(self, answer_id: str) -> tuple[str, str, str | None] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(answers.c.question, answers.c.answer, answers.c.sources).where(
                    answers.c.answer_id == answer_id
                )
            ).first()
        return (row.question, row.answer, row.sources) if row else None

    @retry_transient
    def record_feedback(self, item: Feedback) -> None:
        """Store a vote with the question, answer and sources (looked up when not given).

        One vote per user per answer (a unique key): a second click replaces the first. A 👍
        clears any 👎 reason; a 👎 keeps a reason given earlier unless `item` brings one.
        """
        question, answer_text, sources = item.question, item.answer, None
        stored = self._answer_record(item.answer_id)
        if stored:
            question = question or stored[0]
            answer_text = answer_text or stored[1]
            sources = stored[2]
        values: dict[str, object] = {
            "answer_id": item.answer_id,
            "user": item.user,
            "platform": item.platform,
            "helpful": item.helpful,
            "question": question,
            "answer": answer_text,
            "sources": sources,
            "at": datetime.now(UTC),
        }
        if item.helpful or item.reason:
            values["reason"] = item.reason if not item.helpful else None
            values["reason_text"] = (
                item.reason_text[:MAX_REASON_CHARS] or None if not item.helpful else None
            )
        with self.engine.begin() as conn:
            upsert(conn, feedback, values, ["answer_id", "platform", "user"])

    @retry_transient
    def feedback_for(self, answer_id: str) -> list[Feedback]:
        """All votes recorded for an answer (one per user)."""
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
                reason=r.reason,
                reason_text=r.reason_text or "",
            )
            for r in rows
        ]

    # --- the knowledge-gap report --------------------------------------------------------

    @retry_transient
    def report_rows(
        self, since: datetime, until: datetime | None = None
    ) -> tuple[list[AnswerRow], list[FeedbackRow]]:
        """Answers and votes stored in [since, until) for bot.report to summarise."""
        until = until or datetime.now(UTC)
        with self.engine.connect() as conn:
            answer_rows = conn.execute(
                select(
                    answers.c.question,
                    answers.c.covered,
                    answers.c.mode,
                    answers.c.platform,
                    answers.c.conversation_key,
                    answers.c.sources,
                    answers.c.at,
                )
                .where(answers.c.at >= since, answers.c.at < until)
                .order_by(answers.c.at)
            ).all()
            feedback_rows = conn.execute(
                select(feedback)
                .where(feedback.c.at >= since, feedback.c.at < until)
                .order_by(feedback.c.at)
            ).all()
        return (
            [
                AnswerRow(
                    question=r.question,
                    covered=bool(r.covered),
                    mode=r.mode,
                    platform=r.platform or r.conversation_key.partition(":")[0],
                    sources=parse_sources(r.sources),
                    at=_utc(r.at),
                )
                for r in answer_rows
            ],
            [
                FeedbackRow(
                    answer_id=r.answer_id,
                    platform=r.platform,
                    helpful=bool(r.helpful),
                    question=r.question,
                    answer=r.answer,
                    sources=parse_sources(r.sources),
                    reason=r.reason,
                    reason_text=r.reason_text or "",
                    at=_utc(r.at),
                )
                for r in feedback_rows
            ],
        )

    @retry_transient
    def claim_report(self, period: str, holder: str) -> bool:
        """Claim posting the report of `period` (e.g. "2026-W48"); True for the first caller
        on any replica, False for everyone after (the report was or is being posted)."""
        with self.engine.begin() as conn:
            return insert_ignore(
                conn,
                report_posts,
                {"period": period[:64], "holder": holder[:255], "at": datetime.now(UTC)},
            )

    @retry_transient
    def count(self, table: str) -> int:
        """Rows in one of this store's tables (for status and tests)."""
        target = {"turns": turns, "answers": answers, "feedback": feedback}[table]
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(target)).scalar_one())

    @retry_transient
    def set_meta(self, key: str, value: str) -> None:
        """Upsert a small key/value (e.g. the last reload time); the last writer wins."""
        with self.engine.begin() as conn:
            upsert(conn, meta_kv, {"key": key, "value": value}, ["key"])

    @retry_transient
    def get_meta(self, key: str) -> str | None:
        """Read a key/value, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(meta_kv.c.value).where(meta_kv.c.key == key)).first()
        return str(row.value) if row else None

    # --- leases ---------------------------------------------------------------------------

    @retry_transient
    def try_lease(self, name: str, holder: str, ttl_seconds: float) -> LeaseInfo:
        """Take the lease `name` for `ttl_seconds` unless someone else holds an unexpired one.

        One atomic statement (INSERT … ON CONFLICT DO UPDATE … WHERE expired or ours), so two
        processes can never both get it. Returns the lease as it now stands: `acquired` is
        True when the caller holds it (taken, taken over after expiry, or renewed because
        `holder` already held it); otherwise `holder`/`acquired_at` name who has it. Use a
        holder unique per attempt (e.g. host:pid:uuid); clocks of replicas must agree (NTP).
        """
        now = datetime.now(UTC)
        values = {
            "name": name,
            "holder": holder,
            "acquired_at": now,
            "expires_at": now + timedelta(seconds=ttl_seconds),
        }
        free = (leases.c.expires_at <= now) | (leases.c.holder == holder)
        with self.engine.begin() as conn:
            acquired = upsert(conn, leases, values, ["name"], where=free)
            row = conn.execute(select(leases).where(leases.c.name == name)).one()
        return _lease(row, acquired=acquired and row.holder == holder)

    @retry_transient
    def renew_lease(self, name: str, holder: str, ttl_seconds: float) -> bool:
        """Extend a lease the caller holds; False when it expired and someone else took it."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            result = conn.execute(
                update(leases)
                .where(leases.c.name == name, leases.c.holder == holder)
                .values(expires_at=now + timedelta(seconds=ttl_seconds))
            )
        return bool(result.rowcount)

    @retry_transient
    def release_lease(self, name: str, holder: str) -> bool:
        """Give a lease back (only its holder can); False when the caller no longer held it."""
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(leases).where(leases.c.name == name, leases.c.holder == holder)
            )
        return bool(result.rowcount)

    @retry_transient
    def lease_info(self, name: str) -> LeaseInfo | None:
        """The lease row (even if expired), or None when nobody has taken it."""
        with self.engine.connect() as conn:
            row = conn.execute(select(leases).where(leases.c.name == name)).first()
        return _lease(row) if row else None

    @contextlib.contextmanager
    def lease(self, name: str, holder: str, ttl_seconds: float) -> Iterator[LeaseInfo]:
        """Hold `name` for the block, released afterwards; raises LeaseTaken when held.

        ``with store.lease("reload", holder, 600): ...`` — LeaseTaken.current says who holds
        it and since when ("a reload is already running, started by …").
        """
        info = self.try_lease(name, holder, ttl_seconds)
        if not info.acquired:
            raise LeaseTaken(info)
        try:
            yield info
        finally:
            self.release_lease(name, holder)

    # --- state shared by replicas ----------------------------------------------------------

    @retry_transient
    def claim_event(self, platform: str, event_id: str) -> bool:
        """Record an incoming event id; True only for the first caller (handle it), on any
        replica. A redelivery, a retry or a second replica gets False (drop it)."""
        with self.engine.begin() as conn:
            return insert_ignore(
                conn,
                seen_events,
                {"platform": platform, "event_id": event_id[:255], "at": datetime.now(UTC)},
            )

    @retry_transient
    def link_message(self, platform: str, message_id: str, conversation_key: str) -> None:
        """Remember which conversation a bot message belongs to (the first link wins)."""
        with self.engine.begin() as conn:
            insert_ignore(
                conn,
                message_links,
                {
                    "platform": platform,
                    "message_id": message_id,
                    "conversation_key": conversation_key,
                    "at": datetime.now(UTC),
                },
            )

    @retry_transient
    def conversation_for_message(self, platform: str, message_id: str) -> str | None:
        """The conversation a bot message belongs to, if it is still remembered."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(message_links.c.conversation_key).where(
                    message_links.c.platform == platform,
                    message_links.c.message_id == message_id,
                )
            ).scalar_one_or_none()

    @retry_transient
    def keep_answer(self, question: str, answer: Answer, *, asker: str, platform: str) -> None:
        """Keep an answer so any replica can share it later (by its answer_id)."""
        if not answer.answer_id:
            return
        payload = json.dumps(asdict(answer), ensure_ascii=False)
        with self.engine.begin() as conn:
            insert_ignore(
                conn,
                shared_answers,
                {
                    "answer_id": answer.answer_id,
                    "platform": platform,
                    "asker": asker,
                    "question": question,
                    "payload": payload,
                    "at": datetime.now(UTC),
                },
            )

    @retry_transient
    def kept_answer(self, answer_id: str) -> tuple[str, Answer] | None:
        """The (question, answer) kept under an id, or None (never kept, forgotten, pruned)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(shared_answers.c.question, shared_answers.c.payload).where(
                    shared_answers.c.answer_id == answer_id
                )
            ).first()
        if row is None:
            return None
        data = json.loads(row.payload)
        data["citations"] = tuple(Citation(**c) for c in data.get("citations", ()))
        data["notices"] = tuple(data.get("notices", ()))
        data["suggestions"] = tuple(Suggestion(**s) for s in data.get("suggestions", ()))
        return row.question, Answer(**data)

    # --- privacy --------------------------------------------------------------------------

    @retry_transient
    def prune(self, older_than: datetime, events_older_than: datetime) -> PruneReport:
        """Delete what is older than the retention cut-offs; returns what went."""
        with self.engine.begin() as conn:

            def gone(table: Table, cutoff: datetime) -> int:
                return int(conn.execute(delete(table).where(table.c.at < cutoff)).rowcount or 0)

            old_escalations = select(escalations.c.id).where(escalations.c.at < older_than)
            conn.execute(
                delete(escalation_replies).where(
                    (escalation_replies.c.at < older_than)
                    | escalation_replies.c.escalation_id.in_(old_escalations)
                )
            )
            return PruneReport(
                escalations=gone(escalations, older_than),
                messages=gone(turns, older_than),
                answers=gone(answers, older_than),
                feedback=gone(feedback, older_than),
                shared_answers=gone(shared_answers, older_than),
                message_links=gone(message_links, older_than),
                events=gone(seen_events, events_older_than),
            )

    @retry_transient
    def user_data(self, platform: str, user: str, keys: Iterable[str] = ()) -> StoredData:
        """What is kept about `user` on `platform` (plus whole conversations under `keys`)."""
        with self.engine.connect() as conn:
            return self._user_data(conn, platform, user, list(keys))

    @retry_transient
    def forget_user(self, platform: str, user: str, keys: Iterable[str] = ()) -> StoredData:
        """Delete everything kept about `user`; returns what was deleted.

        That is their messages and the answers to them (in any conversation), every turn of
        the conversations under `keys` (their DMs), their answer records, their votes and
        everyone's votes on their answers (which copy the question), shareable answers,
        questions sent to mentors (with the replies relayed for them, and replies they wrote
        as a mentor), and the reply links into conversations that are now empty.
        """
        keys = list(keys)
        with self.engine.begin() as conn:
            found = self._user_data(conn, platform, user, keys)
            turn_rows = _user_turns(platform, user, keys)
            emptied = {
                key
                for (key,) in conn.execute(
                    select(turns.c.conversation_key).where(turn_rows).distinct()
                )
            }
            conn.execute(delete(turns).where(turn_rows))
            # Others' votes on their answers carry copies of their question and answer text.
            answered = select(answers.c.answer_id).where(_user_answers(platform, user))
            conn.execute(delete(feedback).where(feedback.c.answer_id.in_(answered)))
            conn.execute(delete(answers).where(_user_answers(platform, user)))
            conn.execute(
                delete(feedback).where(feedback.c.platform == platform, feedback.c.user == user)
            )
            conn.execute(delete(shared_answers).where(_user_shared(platform, user)))
            # Questions they sent to mentors (with the replies relayed for them), and replies
            # they wrote as a mentor.
            theirs = select(escalations.c.id).where(_user_escalations(platform, user))
            conn.execute(
                delete(escalation_replies).where(
                    escalation_replies.c.escalation_id.in_(theirs)
                    | (
                        (escalation_replies.c.platform == platform)
                        & (escalation_replies.c.mentor == user)
                    )
                )
            )
            conn.execute(delete(escalations).where(_user_escalations(platform, user)))
            still_used = {
                key
                for (key,) in conn.execute(
                    select(turns.c.conversation_key)
                    .where(turns.c.conversation_key.in_(emptied))
                    .distinct()
                )
            }
            if emptied - still_used:
                conn.execute(
                    delete(message_links).where(
                        message_links.c.conversation_key.in_(emptied - still_used)
                    )
                )
        return found

    def _user_data(self, conn: Connection, platform: str, user: str, keys: list[str]) -> StoredData:
        dates: list[datetime] = []

        def count(table: Table, where: ColumnElement[bool]) -> int:
            row = conn.execute(
                select(func.count(), func.min(table.c.at), func.max(table.c.at)).where(where)
            ).one()
            dates.extend(_utc(d) for d in row[1:] if d is not None)
            return int(row[0])

        return StoredData(
            messages=count(turns, _user_turns(platform, user, keys)),
            answers=count(answers, _user_answers(platform, user)),
            feedback=count(feedback, (feedback.c.platform == platform) & (feedback.c.user == user)),
            shared_answers=count(shared_answers, _user_shared(platform, user)),
            escalations=count(escalations, _user_escalations(platform, user)),
            oldest=min(dates) if dates else None,
            newest=max(dates) if dates else None,
        )

    def close(self) -> None:
        """Dispose of pooled connections."""
        self.engine.dispose()


def sources_json(citations: Sequence[Citation]) -> str | None:
    """An answer's citations as stored in answers.sources (None when it cited nothing)."""
    if not citations:
        return None
    return json.dumps(
        [
            {"passage_id": c.passage_id, "title": c.title, "section": c.section, "url": c.url}
            for c in citations
        ],
        ensure_ascii=False,
    )


def parse_sources(raw: str | None) -> tuple[tuple[str, str], ...]:
    """(title, section) of each stored source; malformed or missing JSON reads as none."""
    if not raw:
        return ()
    try:
        items = json.loads(raw)
    except ValueError:
        return ()
    if not isinstance(items, list):
        return ()
    return tuple(
        (str(i.get("title") or ""), str(i.get("section") or ""))
        for i in items
        if isinstance(i, dict) and i.get("title")
    )


def _user_turns(platform: str, user: str, keys: list[str]) -> ColumnElement[bool]:
    mine = (turns.c.platform == platform) & (turns.c.asker == user)
    return or_(mine, turns.c.conversation_key.in_(keys)) if keys else mine


def _user_answers(platform: str, user: str) -> ColumnElement[bool]:
    # Answer rows carry the platform only as their conversation key's prefix.
    return (answers.c.asker == user) & answers.c.conversation_key.startswith(f"{platform}:")


def _user_shared(platform: str, user: str) -> ColumnElement[bool]:
    return (shared_answers.c.platform == platform) & (shared_answers.c.asker == user)


def _user_escalations(platform: str, user: str) -> ColumnElement[bool]:
    return (escalations.c.platform == platform) & (escalations.c.asker == user)


def _utc(at: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _lease(row: object, *, acquired: bool = False) -> LeaseInfo:
    return LeaseInfo(
        name=row.name,  # type: ignore[attr-defined]
        holder=row.holder,  # type: ignore[attr-defined]
        acquired_at=_utc(row.acquired_at),  # type: ignore[attr-defined]
        expires_at=_utc(row.expires_at),  # type: ignore[attr-defined]
        acquired=acquired,
    )
