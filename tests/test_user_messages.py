"""One wording for every core error, spelled for each platform by its Surface."""

from __future__ import annotations

import pytest

from bot.adapters.render_discord import render_error
from bot.adapters.render_slack import error_text
from bot.adapters.terminal import friendly_error
from bot.index import StaleGeneration
from bot.models import (
    ConversationBusy,
    DatabaseMisconfigured,
    DatabaseUnavailable,
    EmptyQuestion,
    IndexNotReady,
    IndexUnavailable,
    IngestError,
    KnowledgeSyncError,
    NotAuthorized,
    NothingToRollBack,
    ReloadInProgress,
)
from bot.user_messages import GENERIC_ERROR


@pytest.mark.parametrize(
    "error",
    [
        IngestError("knowledge/post.md", "missing title", 3),
        ReloadInProgress(),
        IndexUnavailable("chroma down"),
        ConversationBusy("Still answering your last message; one moment."),
        DatabaseUnavailable("db down"),
        KnowledgeSyncError("cannot fetch the knowledge repository origin main: no network"),
        NothingToRollBack("There is no previous index generation to roll back to."),
    ],
)
def test_every_platform_says_the_same_thing(error: Exception) -> None:
    slack, discord, terminal = error_text(error), render_error(error), friendly_error(error)
    assert slack == discord == terminal
    assert GENERIC_ERROR not in slack


def test_commands_are_spelled_for_each_platform() -> None:
    assert "`/careerbot reload`" in error_text(IndexNotReady())
    assert "`/reload`" in render_error(IndexNotReady())
    assert "(or /reload)" in friendly_error(IndexNotReady())
    assert "/careerbot help" in error_text(EmptyQuestion())
    assert "`/ask`" in render_error(EmptyQuestion())
    assert (
        friendly_error(EmptyQuestion())
        == "It looks like you didn't ask anything. Type a question, or /help."
    )
    assert "Manage Server" in render_error(NotAuthorized())
    assert "Manage Server" not in error_text(NotAuthorized())


def test_outside_text_is_escaped_for_the_platforms_markup() -> None:
    error = IngestError("knowledge/my_post*.md", "<b>bad</b> front matter")
    assert "my\\_post\\*.md" in render_error(error)
    assert "&lt;b&gt;bad&lt;/b&gt;" in error_text(error)
    assert "knowledge/my_post*.md: <b>bad</b> front matter" in friendly_error(error)


def test_unforeseen_errors_never_show_their_text_in_chat() -> None:
    for error in (RuntimeError("password=hunter2"), StaleGeneration("careerbot-v7 is gone")):
        assert error_text(error) == render_error(error) == GENERIC_ERROR


def test_the_operator_at_the_terminal_sees_typed_errors_in_full() -> None:
    misconfigured = DatabaseMisconfigured("CAREERBOT_DATABASE_URL names an unknown dialect")
    assert friendly_error(misconfigured) == str(misconfigured)
    assert error_text(misconfigured) == GENERIC_ERROR
    assert friendly_error(RuntimeError("internals")) == GENERIC_ERROR
