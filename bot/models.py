"""Plain typed values shared by the core and every adapter."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

AnswerMode = Literal["extractive", "llm"]
Platform = Literal["terminal", "slack", "discord", "cli", "eval"]


def attribution(author: str | None, title: str, is_comment: bool) -> str:
    """Display name for a source; a comment names its commenter (if known), never the author."""
    if is_comment:
        who = f"{author}, " if author else ""
        return f"{who}comment on “{title}”"
    return author or "author unknown"


@dataclass(frozen=True)
class Question:
    """One user turn: who asked, where, in which conversation, and what."""

    text: str
    asker: str
    conversation_key: str
    platform: Platform = "terminal"
    channel: str | None = None


@dataclass(frozen=True)
class Passage:
    """A chunk of a knowledge document, as indexed and retrieved."""

    id: str
    doc_id: str
    title: str
    author: str | None
    url: str | None
    section: str
    text: str
    is_comment: bool = False
    score: float = 0.0
    published: str | None = None  # as the post's front matter gives it ("2024-08-24", "2024")

    @property
    def attribution(self) -> str:
        """Who said this, as shown to users: comments are never given to the post author."""
        return attribution(self.author, self.title, self.is_comment)

    @property
    def headings(self) -> list[str]:
        """The section path as its headings, outermost first ("A > B" -> ["A", "B"])."""
        return [h for h in self.section.split(" > ") if h.strip()] if self.section else []

    def within(self, section: str) -> bool:
        """Whether the passage is in `section` or a section nested under it ("A > B" is in
        "A"; "A2" is not, nor is any heading's section in a post's preamble, "")."""
        nested = bool(section) and self.section.startswith(f"{section} > ")
        return self.section == section or nested

    @property
    def heading(self) -> str:
        """The deepest heading of the section path ("" when the passage has none)."""
        return self.section.rsplit(" > ", 1)[-1] if self.section else ""


def authors_by_post(passages: Sequence[Passage]) -> dict[str, str]:
    """Each post's author, by doc id, from the post's own passages (a comment's author is
    not the post's); posts with no author are left out."""
    authors: dict[str, str] = {}
    for p in passages:
        if p.author and not p.is_comment:
            authors.setdefault(p.doc_id, p.author)
    return authors


def comments_by_others(passages: Sequence[Passage]) -> set[str]:
    """Ids of the comments among `passages` not written by their post's author. A reply by
    the author ("Ann Author (post author)" under a post by Ann Author) is the author speaking;
    a comment whose post has no known author is somebody else's."""
    authors = authors_by_post(passages)
    return {
        p.id
        for p in passages
        if p.is_comment
        and not (p.doc_id in authors and (p.author or "").startswith(authors[p.doc_id]))
    }


@dataclass(frozen=True)
class Citation:
    """A source shown under an answer; `quote` appears verbatim in knowledge/."""

    title: str
    author: str | None
    url: str | None
    quote: str
    passage_id: str
    section: str = ""
    is_comment: bool = False

    @property
    def attribution(self) -> str:
        """Who said this, as shown to users: comments are never given to the post author."""
        return attribution(self.author, self.title, self.is_comment)


@dataclass(frozen=True)
class Suggestion:
    """A suggested next question; `key` names its section in 16 hex characters (for buttons)."""

    text: str
    key: str


@dataclass(frozen=True)
class TokenUsage:
    """Tokens a chat model spent on one answer (all its calls added up)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )

    def to_json(self) -> dict[str, int]:
        """{"prompt_tokens": …, "completion_tokens": …}."""
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


@dataclass(frozen=True)
class Answer:
    """What the core returns: the reply text plus structured citations.

    `text` is Markdown (bold, links, lists) that renderers convert per platform; citation
    markers like [1] refer to `citations[0]`.
    """

    text: str
    covered: bool
    mode: AnswerMode
    citations: tuple[Citation, ...] = ()
    notices: tuple[str, ...] = ()
    standalone_query: str = ""
    answer_id: str = ""
    usage: TokenUsage | None = None  # LLM mode only
    suggestions: tuple[Suggestion, ...] = ()  # related questions to offer next

    def to_json(self) -> dict[str, object]:
        """The `careerbot ask --json` shape."""
        return {
            "answer": self.text,
            "covered": self.covered,
            "mode": self.mode,
            "citations": [
                {
                    "title": c.title,
                    "author": c.author,
                    "url": c.url,
                    "section": c.section,
                    "quote": c.quote,
                }
                for c in self.citations
            ],
            "notices": list(self.notices),
            "usage": self.usage.to_json() if self.usage else None,
            "suggestions": [s.text for s in self.suggestions],
        }


@dataclass(frozen=True)
class Turn:
    """One stored exchange in a conversation."""

    role: Literal["user", "assistant"]
    text: str
    at: datetime | None = None


@dataclass(frozen=True)
class Feedback:
    """A 👍/👎 click on an answer."""

    answer_id: str
    user: str
    platform: Platform
    helpful: bool
    question: str = ""
    answer: str = ""
    reason: str | None = None
    """One of FEEDBACK_REASONS (a 👎's optional reason), or None."""
    reason_text: str = ""


@dataclass(frozen=True)
class IngestReport:
    """What an ingest/reload changed."""

    documents: int
    passages: int
    added: int
    removed: int
    unchanged: int
    embedded: int
    seconds: float
    changed_documents: tuple[str, ...] = ()
    git: str | None = None
    """What the git pull before the build did, e.g. "knowledge at commit abc1234 (…)"."""

    @property
    def changed(self) -> bool:
        """Whether the index content differs from before."""
        return bool(self.added or self.removed)

    def summary(self) -> str:
        """One human line, used by the CLI and the admin commands."""
        git = f" Built from {self.git}." if self.git else ""
        if not self.changed:
            return (
                f"Knowledge base unchanged: {self.documents} documents, {self.passages} passages "
                f"({self.seconds:.1f}s).{git}"
            )
        docs = ", ".join(self.changed_documents) if self.changed_documents else "-"
        return (
            f"Reloaded: {self.documents} documents, {self.passages} passages; "
            f"{self.added} passages added, {self.removed} removed, {self.unchanged} unchanged "
            f"({self.embedded} embedded, {self.seconds:.1f}s). Changed: {docs}.{git}"
        )


@dataclass(frozen=True)
class Status:
    """What `status` commands show."""

    documents: int
    passages: int
    embedding_model: str
    answer_mode: AnswerMode
    llm_model: str | None
    last_reload: datetime | None
    collection: str | None
    titles: tuple[str, ...] = field(default=())


class CareerbotError(Exception):
    """Base of the typed errors adapters map to friendly messages."""


class EmptyQuestion(CareerbotError):
    """The message had no question text (e.g. a bare mention)."""


class IngestError(CareerbotError):
    """A knowledge file is invalid; nothing was changed. str() is one line naming the file."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class ReloadInProgress(CareerbotError):
    """Another reload is already running; `holder`/`since` say whose, when known."""

    def __init__(
        self,
        message: str = "A reload is already running; try again in a minute.",
        *,
        holder: str | None = None,
        since: datetime | None = None,
    ) -> None:
        self.holder = holder
        self.since = since
        super().__init__(message)

    @property
    def who(self) -> str:
        """', started by HOLDER at YYYY-MM-DD HH:MM UTC' when known, else ''."""
        if not self.holder:
            return ""
        when = f" at {self.since:%Y-%m-%d %H:%M} UTC" if self.since else ""
        return f", started by {self.holder}{when}"


class IndexNotReady(CareerbotError):
    """No index has been built yet; run `careerbot ingest`."""


class IndexUnavailable(CareerbotError):
    """The index store (a Chroma server) stayed unreachable through bounded retries."""


class NotAuthorized(CareerbotError):
    """A non-admin asked for an admin action."""


class DatabaseError(CareerbotError):
    """The conversation database cannot be used; str() is one line and never shows the URL."""


class DatabaseUnavailable(DatabaseError):
    """The conversation database kept failing after bounded retries."""


class DatabaseMisconfigured(DatabaseError):
    """CAREERBOT_DATABASE_URL is malformed, names an unknown dialect, or its driver is missing."""


class KnowledgeSyncError(CareerbotError):
    """Pulling the knowledge checkout failed (network, diverged, uncommitted edits); one line.

    Nothing was built or switched: the previous index keeps serving.
    """


class NothingToRollBack(CareerbotError):
    """There is no previous index generation to return to (none yet, dropped, or unusable)."""


class EscalationError(CareerbotError):
    """A foreseeable "Ask a mentor" problem (bot/escalation.py); str() is the line users see."""


class ConversationBusy(CareerbotError):
    """An earlier message of the same conversation is still being answered."""


@dataclass(frozen=True)
class LeaseInfo:
    """A named lease row: who holds it, since when and until when (UTC)."""

    name: str
    holder: str
    acquired_at: datetime
    expires_at: datetime
    acquired: bool = False
    """True when this call took (or renewed) the lease for the caller."""


class LeaseTaken(CareerbotError):
    """A lease is held by someone else; `current` says by whom and since when."""

    def __init__(self, current: LeaseInfo) -> None:
        self.current = current
        super().__init__(
            f"{current.name} is held by {current.holder} since "
            f"{current.acquired_at:%Y-%m-%d %H:%M:%S} UTC"
        )


@dataclass(frozen=True)
class StoredData:
    """What the database keeps (or just deleted) for one person, for my-data and forget."""

    messages: int = 0
    answers: int = 0
    feedback: int = 0
    shared_answers: int = 0
    oldest: datetime | None = None
    newest: datetime | None = None
    escalations: int = 0
    """Questions sent to mentors ("Ask a mentor"), with the replies relayed for them."""

    @property
    def total(self) -> int:
        """All rows counted."""
        return self.messages + self.answers + self.feedback + self.shared_answers + self.escalations

    def describe(self) -> str:
        """Plain words, e.g. "4 messages, 2 answer records, … (from 2026-11-01 to 2026-11-26)"."""

        def n(count: int, one: str, many: str) -> str:
            return f"{count} {one if count == 1 else many}"

        parts = [
            n(self.messages, "message", "messages"),
            n(self.answers, "answer record", "answer records"),
            n(self.feedback, "feedback click", "feedback clicks"),
            n(self.shared_answers, "shareable answer", "shareable answers"),
        ]
        if self.escalations:
            parts.append(
                n(self.escalations, "question sent to mentors", "questions sent to mentors")
            )
        text = ", ".join(parts[:-1]) + " and " + parts[-1]
        if self.oldest and self.newest:
            text += f" (from {self.oldest:%Y-%m-%d} to {self.newest:%Y-%m-%d})"
        return text


@dataclass(frozen=True)
class PruneReport:
    """Rows the retention job deleted, per kind."""

    messages: int = 0
    answers: int = 0
    feedback: int = 0
    events: int = 0
    message_links: int = 0
    shared_answers: int = 0
    admin_actions: int = 0
    escalations: int = 0

    def summary(self) -> str:
        """One line for the CLI and the log."""
        return (
            f"Pruned {self.messages} messages, {self.answers} answers, {self.feedback} "
            f"feedback clicks, {self.shared_answers} shared answers, {self.message_links} "
            f"reply links, {self.escalations} mentor escalations and {self.events} event ids; "
            f"{self.admin_actions} admin actions past the audit retention."
        )


class LLMConfigError(ValueError):
    """The configured chat model cannot be built (bad name or missing extra)."""


# --- fair use and auto-answer channels (issue 10 §4-5) --------------------------------------


def wait_phrase(seconds: float) -> str:
    """'about 40 seconds', 'about a minute', 'about 12 minutes' for a retry-after."""
    if seconds < 55:
        return f"about {max(5, math.ceil(seconds / 5) * 5)} seconds"
    minutes = round(seconds / 60)
    return "about a minute" if minutes <= 1 else f"about {minutes} minutes"


class RateLimited(CareerbotError):
    """A user or channel used up a fair-use limit; `retry_after` seconds until it resets.

    `notify` is True for the first refusal in the window only: adapters send the notice then
    and stay quiet for later refusals in the same window.
    """

    def __init__(self, retry_after: float, *, scope: str = "user", notify: bool = True) -> None:
        self.retry_after = retry_after
        self.scope = scope
        self.notify = notify
        if scope == "channel":
            text = "This channel has asked me a lot in a short time"
        else:
            text = "You've asked a lot in a short time"
        super().__init__(f"{text} — try again in {wait_phrase(retry_after)}.")


@dataclass(frozen=True)
class AutoAnswerSwitch:
    """A channel's run-time auto-answer switch, as an admin last set it."""

    platform: str
    channel: str
    enabled: bool
    changed_by: str
    changed_at: datetime


# --- feedback reasons and the knowledge-gap report ---------------------------------------------

FEEDBACK_REASONS: dict[str, str] = {
    "wrong": "Wrong or misleading",
    "off-topic": "Off-topic",
    "missing": "Missing something important",
    "outdated": "Outdated",
    "other": "Other",
}
"""A 👎's reason choices: stored key -> label shown in the Slack and Discord forms."""

MAX_REASON_CHARS = 1000
"""Free text kept with a 👎 reason; longer text is cut (and the person told)."""

WITHHELD_QUESTION = "[message withheld: wellbeing]"
"""Stored instead of a question that read as distress; reports never show it."""

FEEDBACK_NOTED = "Thanks — noted."
"""The ephemeral acknowledgement of a vote or a 👎 reason, on every platform."""


class UnknownAnswer(CareerbotError):
    """Feedback on an answer the database no longer has (deleted by retention or forget).

    str() is the one line shown to the person who clicked.
    """

    def __init__(self) -> None:
        super().__init__(
            "I can't find that answer any more (old answers are deleted after a while), "
            "so I couldn't record your feedback."
        )
