"""The one mapping from core errors to what people are told, shared by every adapter.

Adapters differ only in how a command is spelled and how user-supplied text is escaped; a
`Surface` carries those, so the wording of every message lives here once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.models import (
    CareerbotError,
    ConversationBusy,
    DatabaseUnavailable,
    EmptyQuestion,
    EscalationError,
    IndexNotReady,
    IndexUnavailable,
    IngestError,
    KnowledgeSyncError,
    NotAuthorized,
    NothingToRollBack,
    RateLimited,
    ReloadInProgress,
    UnknownAnswer,
)
from bot.report import BadReportWindow

GENERIC_ERROR = "Sorry, something went wrong on my side. Please try again in a minute."


def _as_is(text: str) -> str:
    return text


@dataclass(frozen=True)
class Surface:
    """How one platform spells the things error messages mention."""

    how_to_ask: str
    """Shown for an empty question: where and how to write one."""
    reload_command: str
    """The admin reload command, code-formatted, e.g. "`/careerbot reload`"."""
    admins: str = ""
    """Who counts as an admin, as a parenthesised aside, e.g. " (people with Manage Server)"."""
    escape: Callable[[str], str] = _as_is
    """Escapes text that came from outside (file names, holders) for the platform's markup."""
    operator: bool = False
    """The reader runs the bot (the terminal): other typed errors show their one-line text."""


def error_message(error: BaseException, surface: Surface) -> str:
    """One line (two for a failed reload) for any error raised while serving a request.

    Anything not listed is a bug or an outage we did not foresee: people get a generic
    apology, never the exception text, which may hold internals.
    """
    if isinstance(error, EmptyQuestion):
        return f"It looks like you didn't ask anything. {surface.how_to_ask}"
    if isinstance(error, IngestError):
        return (
            f"⚠️ Reload failed: {surface.escape(str(error))}\n"
            "Nothing was changed: I'm still answering from the previous knowledge base."
        )
    if isinstance(error, KnowledgeSyncError):
        return (
            f"⚠️ Reload failed: {surface.escape(str(error))}\n"
            "Nothing was changed: I'm still answering from the previous knowledge base."
        )
    if isinstance(error, NothingToRollBack):
        return f"ℹ️ {surface.escape(str(error))}"
    if isinstance(error, ReloadInProgress):
        return f"⏳ A reload is already running{surface.escape(error.who)}; try again in a minute."
    if isinstance(error, NotAuthorized):
        return f"Sorry, only the bot's admins{surface.admins} can do that. Nothing was changed."
    if isinstance(error, IndexUnavailable):
        return "⚠️ I can't reach my knowledge base right now; please try again in a minute."
    if isinstance(error, IndexNotReady):
        return (
            "I'm not ready yet: my knowledge base hasn't been built. An admin needs to run "
            f"`careerbot ingest` (or {surface.reload_command})."
        )
    if isinstance(error, ConversationBusy | RateLimited):
        return f"⏳ {error}"
    if isinstance(error, DatabaseUnavailable):
        return "⚠️ I can't reach my database right now; please try again in a minute."
    if isinstance(error, UnknownAnswer | BadReportWindow):  # their text is written for people
        return surface.escape(str(error))
    if isinstance(error, EscalationError):  # each carries its own line (bot/escalation.py)
        return str(error)
    if surface.operator and isinstance(error, CareerbotError):
        return str(error)
    return GENERIC_ERROR
