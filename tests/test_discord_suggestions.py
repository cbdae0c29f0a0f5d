"""Suggested-question buttons on Discord: persistent, and a click continues the conversation."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.adapters.discord_bot import (
    STALE_SUGGESTION,
    SUGGESTION_HANDLED_EVENT,
    chain_key,
    dm_key,
)
from bot.adapters.render_discord import BUTTON_LABEL_LIMIT
from bot.service import CareerBot
from tests import test_discord_bot
from tests.discord_fake import (
    CHANNEL_ID,
    DM_CHANNEL_ID,
    EPHEMERAL,
    OTHER_USER_ID,
    USER_ID,
    component_interaction,
    dm_message,
    guild_message,
    interaction,
)
from tests.test_discord_bot import Harness, StartBot

fake = test_discord_bot.fake
restore_endpoints = test_discord_bot.restore_endpoints
start_bot = test_discord_bot.start_bot

PHD = "Should I do a PhD?"
CUSTOM_ID = re.compile(r"^careerbot:suggest:[0-9a-f]{16}$")


def buttons_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The suggested-question buttons (the answer also carries 👍/👎)."""
    return [
        c
        for row in message["components"]
        for c in row["components"]
        if c["custom_id"].startswith("careerbot:suggest:")
    ]


def last_with_buttons(h: Harness) -> dict[str, Any]:
    return next(m for m in reversed(list(h.fake.created.values())) if m["components"])


async def click(h: Harness, payload: dict[str, Any]) -> str:
    """Deliver a button click and wait until the bot has handled it; returns the outcome."""
    handled = h.bot.wait_for(
        SUGGESTION_HANDLED_EVENT, check=lambda i, _o: i.id == int(payload["id"]), timeout=30
    )
    h.feed("INTERACTION_CREATE", payload)
    _interaction, outcome = await handled
    return str(outcome)


async def test_answer_buttons_ask_a_suggestion_in_the_same_reply_chain(
    start_bot: StartBot,
) -> None:
    h = await start_bot()
    root = guild_message(PHD)
    assert await h.send(root) == "answered"
    answer = last_with_buttons(h)
    rows = answer["components"]
    assert len(rows) <= 5 and all(len(r["components"]) <= 5 for r in rows)
    buttons = buttons_of(answer)
    assert [b["label"] for b in buttons] == [
        "Should I upskill?",
        "What level of AI/ML experience do I need?",
        "What level of general programming skills do I need?",
    ]
    assert all(CUSTOM_ID.match(b["custom_id"]) for b in buttons)
    assert all(len(b["label"]) <= BUTTON_LABEL_LIMIT for b in buttons)

    payload = component_interaction(buttons[1]["custom_id"], answer, user_id=OTHER_USER_ID)
    assert await click(h, payload) == "answered"

    [callback] = h.fake.callbacks(payload["id"])
    assert callback.body["type"] == 6  # acknowledged without a message of its own
    shown = h.fake.channel_messages(CHANNEL_ID)
    echo = next(c for c in shown if "asked:" in c.content)
    assert echo.content == f"<@{OTHER_USER_ID}> asked: What level of AI/ML experience do I need?"
    assert echo.body["message_reference"]["message_id"] == int(answer["id"])
    key = chain_key(CHANNEL_ID, int(root["id"]))
    history = await asyncio.to_thread(h.core.store.history, key, 10)
    assert [t.text for t in history if t.role == "user"] == [
        PHD,
        "What level of AI/ML experience do I need?",
    ]
    assert "Sources" in shown[-1].content
    # The new answer offers its own suggestions, not the question asked before.
    again = [b["label"] for b in buttons_of(last_with_buttons(h))]
    assert again and PHD not in again


async def test_buttons_still_work_after_a_restart(
    start_bot: StartBot, make_careerbot: Callable[..., CareerBot], tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    first = await start_bot(core=make_careerbot(database_url=database))
    root = guild_message(PHD)
    assert await first.send(root) == "answered"
    answer = last_with_buttons(first)
    await first.bot.close()

    # A new process: a new core and a new bot on the same database, nothing in memory.
    second = await start_bot(core=make_careerbot(database_url=database))
    button = buttons_of(answer)[0]
    payload = component_interaction(button["custom_id"], answer)
    assert await click(second, payload) == "answered"
    key = chain_key(CHANNEL_ID, int(root["id"]))
    history = await asyncio.to_thread(second.core.store.history, key, 10)
    assert [t.text for t in history if t.role == "user"] == [PHD, "Should I upskill?"]


async def test_a_click_in_a_dm_continues_the_dm(start_bot: StartBot) -> None:
    h = await start_bot()
    assert await h.send(dm_message(PHD)) == "answered"
    answer = last_with_buttons(h)
    button = buttons_of(answer)[2]
    payload = component_interaction(button["custom_id"], answer, dm=True)
    assert await click(h, payload) == "answered"
    shown = h.fake.channel_messages(DM_CHANNEL_ID)
    assert any(c.content == f"<@{USER_ID}> asked: {button['label']}" for c in shown)
    assert await h.turns(dm_key(USER_ID)) == 4


async def test_an_unknown_key_gets_one_private_line_and_asks_nothing(start_bot: StartBot) -> None:
    h = await start_bot()
    assert await h.send(dm_message(PHD)) == "answered"
    answer = last_with_buttons(h)
    stale = "careerbot:suggest:" + "0" * 16
    answer["components"][0]["components"][0]["custom_id"] = stale
    before = len(h.fake.channel_messages(DM_CHANNEL_ID))
    payload = component_interaction(stale, answer, dm=True)
    assert await click(h, payload) == "stale"
    [callback] = h.fake.callbacks(payload["id"])
    assert callback.body["data"]["content"] == STALE_SUGGESTION
    assert callback.body["data"]["flags"] & EPHEMERAL
    assert len(h.fake.channel_messages(DM_CHANNEL_ID)) == before
    assert await h.turns(dm_key(USER_ID)) == 2


async def test_ask_command_answers_carry_the_buttons_on_the_last_message(
    start_bot: StartBot,
) -> None:
    h = await start_bot()
    payload = interaction("ask", {"question": PHD})
    await h.command(payload)
    *_, last = h.fake.followups(payload["token"])
    buttons = buttons_of(last.body)
    assert buttons[0]["label"] == "Should I upskill?"
    assert all(CUSTOM_ID.match(b["custom_id"]) for b in buttons)
