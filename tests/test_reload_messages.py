"""A refused reload tells the admin, on every platform, who is reloading and since when."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.adapters.render_discord import render_error
from bot.adapters.render_slack import error_text
from bot.adapters.terminal import friendly_error
from bot.models import ReloadInProgress

SINCE = datetime(2026, 11, 26, 1, 30, 5, tzinfo=UTC)


def test_a_refused_reload_names_the_holder_everywhere() -> None:
    refused = ReloadInProgress(
        "A reload is already running, started by web-2:17 at 2026-11-26 01:30:05 UTC; "
        "try again when it has finished.",
        holder="web-2:17",
        since=SINCE,
    )

    for text in (error_text(refused), render_error(refused), friendly_error(refused)):
        assert "already running, started by web-2:17 at 2026-11-26 01:30" in text
        assert "\n" not in text


def test_an_in_process_refusal_without_a_holder_still_reads_well() -> None:
    refused = ReloadInProgress()

    expected = "⏳ A reload is already running; try again in a minute."
    assert error_text(refused) == render_error(refused) == friendly_error(refused) == expected
