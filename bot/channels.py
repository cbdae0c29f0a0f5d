"""Where the bot answers without a mention: auto-answer channels and their run-time switches.

`decide` is the one rule both adapters use ("should this message be auto-answered?"), on
plain values. `ChannelSwitches` keeps the per-channel opt-out in the shared database, so
every replica agrees: a configured channel an admin turned off stays off (across restarts)
until an admin turns it on again.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.db import retry_transient, upsert
from bot.models import AutoAnswerSwitch
from bot.schema import channel_switches

Decision = Literal[
    "answer",
    "not-configured",
    "opted-out",
    "not-top-level",
    "bot",
    "command",
    "for-someone-else",
    "not-a-question",
]

DEFAULT_MIN_WORDS = 8
"""A message without a question mark or question word needs this many words."""
QUESTION_MIN_WORDS = 3
"""A message that reads as a question needs at least this many words."""

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_QUESTION_WORDS = frozenset(
    """how what why when where which who whom whose should shall can could would will is are
    am do does did any anyone anybody tips advice recommend""".split()
)


@dataclass(frozen=True)
class ChannelMessage:
    """What the rule needs to know about one message in a channel (no platform types)."""

    text: str
    channel: str
    top_level: bool = True
    """Not inside a thread (a forum post's starter message counts as top level)."""
    from_bot: bool = False
    """Written by a bot, a webhook or an app (including this bot)."""
    mentions_bot: bool = False
    """The mention handlers answer it already."""
    mentions_others: bool = False
    """Addressed to other people (@someone, @here): a conversation between people."""


def words(text: str) -> list[str]:
    """The words of `text` (letters or digits; emoji, punctuation and markup are not words)."""
    return _WORD.findall(text)


def looks_like_question(text: str, min_words: int = DEFAULT_MIN_WORDS) -> bool:
    """Whether a message in an auto-answer channel is worth answering.

    It is when it has a question mark or starts with a question word and has at least
    QUESTION_MIN_WORDS words, or when it has at least `min_words` words. "thanks!", "lol",
    "ok?" and emoji are not; "Is a PhD worth it?" and a long description of one's situation
    are.
    """
    found = words(text)
    if len(found) >= min_words:
        return True
    if len(found) < QUESTION_MIN_WORDS:
        return False
    return "?" in text or found[0].lower() in _QUESTION_WORDS


def is_command(text: str) -> bool:
    """A message addressed to some bot's prefix command ("!rank", "/giphy cat", "?help")."""
    stripped = text.lstrip()
    return len(stripped) > 1 and stripped[0] in "!/?." and stripped[1].isalnum()


def decide(
    message: ChannelMessage,
    *,
    configured: Collection[str],
    opted_out: bool,
    min_words: int = DEFAULT_MIN_WORDS,
) -> Decision:
    """Whether to auto-answer `message`, or why not (one word, for logs and tests).

    Only top-level, human messages in a configured channel that has not been switched off,
    which are not commands, not mentions of the bot (those are answered anyway) nor of other
    people, and look like a question.
    """
    if message.channel not in configured:
        return "not-configured"
    if message.from_bot:
        return "bot"
    if not message.top_level or message.mentions_bot:
        return "not-top-level"
    if opted_out:
        return "opted-out"
    if is_command(message.text):
        return "command"
    if message.mentions_others:
        return "for-someone-else"
    if not looks_like_question(message.text, min_words):
        return "not-a-question"
    return "answer"


class ChannelSwitches:
    """Per-channel auto-answer switches in the shared database (blocking; call in a thread)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @retry_transient
    def set(self, platform: str, channel: str, *, enabled: bool, by: str) -> AutoAnswerSwitch:
        """Turn auto-answer on or off in a channel (an upsert: the last admin wins)."""
        switch = AutoAnswerSwitch(platform, channel, enabled, by, datetime.now(UTC))
        with self.engine.begin() as conn:
            upsert(
                conn,
                channel_switches,
                {
                    "platform": platform,
                    "channel_id": channel,
                    "auto_answer": enabled,
                    "changed_by": by,
                    "changed_at": switch.changed_at,
                },
                ["platform", "channel_id"],
            )
        return switch

    @retry_transient
    def get(self, platform: str, channel: str) -> AutoAnswerSwitch | None:
        """The channel's switch, or None when no admin has set it."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(channel_switches).where(
                    channel_switches.c.platform == platform,
                    channel_switches.c.channel_id == channel,
                )
            ).first()
        if row is None:
            return None
        at = row.changed_at if row.changed_at.tzinfo else row.changed_at.replace(tzinfo=UTC)
        return AutoAnswerSwitch(platform, channel, bool(row.auto_answer), row.changed_by, at)

    def opted_out(self, platform: str, channel: str) -> bool:
        """Whether an admin switched auto-answer off in this channel."""
        switch = self.get(platform, channel)
        return switch is not None and not switch.enabled


ADMINS_ONLY = "Sorry, only careerbot admins can switch auto-answer on or off. Nothing was changed."


def switch_text(
    *,
    configured: bool,
    switch: AutoAnswerSwitch | None,
    command: str,
    changed: bool = False,
) -> str:
    """What an admin is told about a channel's auto-answer state (plain Markdown-ish text).

    `command` is the platform's way to say it, e.g. "/careerbot autoanswer" or "/autoanswer".
    """
    on = switch is None or switch.enabled
    if not configured:
        noted = f" I've noted it as {'on' if on else 'off'} for when it is." if changed else ""
        return (
            "This channel is not an auto-answer channel (an operator lists those in the "
            f"bot's settings), so here I only answer when mentioned.{noted}"
        )
    who = ""
    if switch is not None and not changed:
        who = f" ({'on' if on else 'off'} since {switch.changed_at:%Y-%m-%d %H:%M} UTC)"
    if on:
        return (
            f"Auto-answer is on here{who}: I answer every top-level question in a thread, no "
            f"mention needed. `{command} off` stops that."
        )
    return (
        f"Auto-answer is off here{who}, on every instance of the bot, until an admin runs "
        f"`{command} on`. Mentions still work."
    )
