"""deploy/slack-manifest.yml asks for exactly what the Slack adapter uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.adapters.slack_app import SlackConfig

MANIFEST = Path(__file__).resolve().parents[1] / "deploy" / "slack-manifest.yml"


def _manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return data


def test_events_and_scopes_are_exactly_those_used() -> None:
    manifest = _manifest()
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert events == {"app_mention", "message.im", "message.channels", "message.groups"}
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # Each event needs its read scope; answering needs chat:write; the command needs commands.
    assert scopes == {
        "app_mentions:read",
        "chat:write",
        "commands",
        "im:history",
        "channels:history",
        "groups:history",
        "users:read",  # a mentor's display name for relayed replies
    }
    assert "user" not in manifest["oauth_config"]["scopes"]


def test_socket_mode_slash_command_and_interactivity() -> None:
    manifest = _manifest()
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == SlackConfig(bot_token="x").command
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False
    assert manifest["display_information"]["name"] == "careerbot"


def test_add_to_knowledge_shortcut_matches_the_handler() -> None:
    from bot.adapters.render_slack import SHORTCUT_ADD_TO_KNOWLEDGE

    [shortcut] = _manifest()["features"]["shortcuts"]
    assert shortcut["type"] == "message"
    assert shortcut["callback_id"] == SHORTCUT_ADD_TO_KNOWLEDGE
