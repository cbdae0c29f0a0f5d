"""'Ask a mentor': hand a question, its answer and sources to people, relay their replies back.

Plain values in and out; the adapters translate payloads and render. State lives in the
shared database (tables `escalations` and `escalation_replies`), so any replica can relay a
reply and each mentor message is relayed exactly once: the replica whose insert of the
message id wins relays it, the others see the conflict and do nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.db import insert_ignore, retry_transient
from bot.models import Answer, Citation, EscalationError
from bot.review import ReviewItem, save_for_review
from bot.schema import escalation_replies, escalations

log = logging.getLogger(__name__)

Status = Literal["open", "answered"]
KeptAnswer = Callable[[str], "tuple[str, Answer] | None"]
"""Answer id -> (question, Answer) as kept for sharing, or None."""

RELAY_LIMIT = 3500
"""Longest mentor reply relayed in full; longer ones are cut (the platforms split at ~2-4k)."""


class AnswerExpired(EscalationError):
    """The answer is no longer kept (pruned, forgotten, or never kept)."""

    def __init__(self) -> None:
        super().__init__(
            "Sorry, I no longer have that answer, so I can't pass it to a mentor. "
            "Please ask again and use the button on the new answer."
        )


class AlreadyEscalated(EscalationError):
    """This asker already sent this answer to the mentors."""

    def __init__(self) -> None:
        super().__init__(
            "You already sent this question to the mentors; their reply will appear where "
            "you asked."
        )


class MentorsNotConfigured(EscalationError):
    """No mentors channel is configured for this platform."""

    def __init__(self) -> None:
        super().__init__(
            "Mentors aren't set up here yet, so I can't pass questions on; an admin can "
            "configure a mentors channel."
        )


class NotAMentor(EscalationError):
    """Someone who is not a configured mentor or admin tried a mentor action."""

    def __init__(self) -> None:
        super().__init__("Only careerbot mentors and admins can add replies to the knowledge base.")


class NotAMentorReply(EscalationError):
    """The message is not a mentor reply the bot relayed."""

    def __init__(self) -> None:
        super().__init__(
            "That message isn't a mentor reply I relayed to an asker, so I can't add it to "
            "the knowledge base. Use it on a mentor's reply in an escalation thread."
        )


@dataclass(frozen=True)
class EscalationRequest:
    """What the asker agreed to send: `shown_name` None means anonymous."""

    platform: str
    asker: str
    answer_id: str
    relay_channel: str
    relay_thread: str | None = None
    shown_name: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Escalation:
    """One question handed to the mentors, and where a reply goes back to."""

    id: int
    platform: str
    asker: str
    shown_name: str | None
    relay_channel: str
    relay_thread: str | None
    answer_id: str
    question: str
    answer: str
    sources: tuple[Citation, ...]
    note: str
    mentors_post: str | None
    status: Status

    @property
    def anonymous(self) -> bool:
        """The asker chose not to show their name to mentors."""
        return self.shown_name is None


@dataclass(frozen=True)
class MentorReply:
    """A mentor's reply in an escalation thread, as relayed to the asker."""

    platform: str
    message_id: str
    escalation_id: int
    mentor: str
    mentor_name: str
    text: str


def relay_text(mentor_name: str, text: str) -> str:
    """What the asker sees: "A mentor (Name) replied: …" (plain text; renderers escape)."""
    body = text.strip()
    if len(body) > RELAY_LIMIT:
        body = body[: RELAY_LIMIT - 1] + "…"
    who = f"A mentor ({mentor_name})" if mentor_name else "A mentor"
    return f"{who} replied: {body}"


NOTE_LIMIT = 1000
"""Longest note an asker may add for the mentors."""


class EscalationStore:
    """Blocking SQL for escalations; every method retries transient errors (then
    DatabaseUnavailable), like ConversationStore, whose engine it shares."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @retry_transient
    def open(
        self, request: EscalationRequest, question: str, answer: str, sources: tuple[Citation, ...]
    ) -> Escalation:
        """Insert an open escalation; AlreadyEscalated when this asker sent this answer before."""
        values = {
            "platform": request.platform,
            "asker": request.asker,
            "shown_name": request.shown_name,
            "relay_channel": request.relay_channel,
            "relay_thread": request.relay_thread,
            "answer_id": request.answer_id,
            "question": question,
            "answer": answer,
            "sources": json.dumps([asdict(c) for c in sources], ensure_ascii=False),
            "note": request.note[:NOTE_LIMIT] or None,
            "mentors_post": None,
            "status": "open",
            "at": datetime.now(UTC),
        }
        try:
            with self.engine.begin() as conn:
                new_id = conn.execute(
                    escalations.insert().values(**values).returning(escalations.c.id)
                ).scalar_one()
        except IntegrityError:
            raise AlreadyEscalated() from None
        return self.get(int(new_id))  # type: ignore[return-value]

    @retry_transient
    def get(self, escalation_id: int) -> Escalation | None:
        """One escalation by id."""
        with self.engine.connect() as conn:
            row = conn.execute(select(escalations).where(escalations.c.id == escalation_id)).first()
        return _escalation(row) if row else None

    @retry_transient
    def attach_post(self, escalation_id: int, mentors_post: str) -> None:
        """Record the mentors' post (its thread is where replies come)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(escalations)
                .where(escalations.c.id == escalation_id)
                .values(mentors_post=mentors_post)
            )

    @retry_transient
    def drop(self, escalation_id: int) -> None:
        """Delete an escalation whose mentors' post failed, so the asker may try again."""
        with self.engine.begin() as conn:
            conn.execute(delete(escalations).where(escalations.c.id == escalation_id))

    @retry_transient
    def for_post(self, platform: str, mentors_post: str) -> Escalation | None:
        """The escalation whose mentors' post (thread) this is, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(escalations).where(
                    escalations.c.platform == platform,
                    escalations.c.mentors_post == mentors_post,
                )
            ).first()
        return _escalation(row) if row else None

    @retry_transient
    def claim_reply(self, reply: MentorReply) -> bool:
        """Record a mentor reply; True only for the first caller on any replica (relay it).

        The first reply marks the escalation answered; later replies are relayed too.
        """
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            won = insert_ignore(
                conn,
                escalation_replies,
                {
                    "platform": reply.platform,
                    "message_id": reply.message_id,
                    "escalation_id": reply.escalation_id,
                    "mentor": reply.mentor,
                    "mentor_name": reply.mentor_name,
                    "text": reply.text,
                    "at": now,
                },
            )
            if won:
                conn.execute(
                    update(escalations)
                    .where(escalations.c.id == reply.escalation_id, escalations.c.status == "open")
                    .values(status="answered", answered_at=now)
                )
        return won

    @retry_transient
    def reply(self, platform: str, message_id: str) -> MentorReply | None:
        """A relayed mentor reply by its message id, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(escalation_replies).where(
                    escalation_replies.c.platform == platform,
                    escalation_replies.c.message_id == message_id,
                )
            ).first()
        if row is None:
            return None
        return MentorReply(
            platform=row.platform,
            message_id=row.message_id,
            escalation_id=row.escalation_id,
            mentor=row.mentor,
            mentor_name=row.mentor_name,
            text=row.text,
        )

    @retry_transient
    def relayed_count(self, escalation_id: int) -> int:
        """How many mentor replies were relayed for an escalation."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(escalation_replies.c.message_id).where(
                    escalation_replies.c.escalation_id == escalation_id
                )
            ).all()
        return len(rows)


def _escalation(row: object) -> Escalation:
    r = row
    sources = tuple(Citation(**c) for c in json.loads(r.sources))  # type: ignore[attr-defined]
    return Escalation(
        id=int(r.id),  # type: ignore[attr-defined]
        platform=r.platform,  # type: ignore[attr-defined]
        asker=r.asker,  # type: ignore[attr-defined]
        shown_name=r.shown_name,  # type: ignore[attr-defined]
        relay_channel=r.relay_channel,  # type: ignore[attr-defined]
        relay_thread=r.relay_thread,  # type: ignore[attr-defined]
        answer_id=r.answer_id,  # type: ignore[attr-defined]
        question=r.question,  # type: ignore[attr-defined]
        answer=r.answer,  # type: ignore[attr-defined]
        sources=sources,
        note=r.note or "",  # type: ignore[attr-defined]
        mentors_post=r.mentors_post,  # type: ignore[attr-defined]
        status=r.status,  # type: ignore[attr-defined]
    )


class EscalationDesk:
    """The async face adapters call; blocking SQL and file work runs in a worker thread."""

    def __init__(
        self,
        store: EscalationStore,
        kept_answer: KeptAnswer,
        *,
        review_dir: Path,
        credit_mentors: bool = False,
    ) -> None:
        self.store = store
        self._kept_answer = kept_answer
        self.review_dir = review_dir
        self.credit_mentors = credit_mentors

    async def open(self, request: EscalationRequest) -> Escalation:
        """Start an escalation for a kept answer (AnswerExpired, AlreadyEscalated)."""

        def run() -> Escalation:
            kept = self._kept_answer(request.answer_id) if request.answer_id else None
            if kept is None:
                raise AnswerExpired()
            question, answer = kept
            return self.store.open(request, question, answer.text, answer.citations)

        escalation = await asyncio.to_thread(run)
        log.info(
            "escalation %d opened on %s (%s)",
            escalation.id,
            escalation.platform,
            "anonymous" if escalation.anonymous else "named",
        )
        return escalation

    async def posted(self, escalation: Escalation, mentors_post: str) -> None:
        """The mentors' post exists; replies in its thread belong to this escalation."""
        await asyncio.to_thread(self.store.attach_post, escalation.id, mentors_post)

    async def abandon(self, escalation: Escalation) -> None:
        """The mentors' post failed: forget the escalation so the asker can try again."""
        await asyncio.to_thread(self.store.drop, escalation.id)

    async def for_post(self, platform: str, mentors_post: str) -> Escalation | None:
        """The escalation a mentors' thread belongs to, or None (some other thread)."""
        return await asyncio.to_thread(self.store.for_post, platform, mentors_post)

    async def claim_reply(self, reply: MentorReply) -> bool:
        """True when this process should relay `reply` (the first to claim its message id)."""
        won = await asyncio.to_thread(self.store.claim_reply, reply)
        if won:
            log.info(
                "escalation %d: relaying mentor reply %s", reply.escalation_id, reply.message_id
            )
        return won

    async def add_to_knowledge(
        self, platform: str, message_id: str, *, url: str | None = None
    ) -> ReviewItem:
        """Save a relayed mentor reply as a knowledge file in the review folder.

        NotAMentorReply when the message is not one; the file is checked by the same parser
        that reads knowledge/ before it is kept.
        """

        def run() -> ReviewItem:
            reply = self.store.reply(platform, message_id)
            escalation = self.store.get(reply.escalation_id) if reply else None
            if reply is None or escalation is None:
                raise NotAMentorReply()
            return save_for_review(
                self.review_dir,
                question=escalation.question,
                reply=reply.text,
                author=reply.mentor_name if self.credit_mentors else None,
                url=url,
                published=date.today(),
                key=f"{platform}-{message_id}",
            )

        item = await asyncio.to_thread(run)
        log.info("mentor reply %s saved for review as %s", message_id, item.name)
        return item
