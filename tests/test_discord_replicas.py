"""Discord bot instances (real discord.py objects, one fake Discord) sharing one database."""

from __future__ import annotations

from collections.abc import Callable

from bot.adapters.discord_bot import CareerDiscordBot, DiscordConfig, chain_key, dm_key
from bot.service import CareerBot
from bot.settings import Settings
from tests import test_discord_bot
from tests.discord_fake import (
    CHANNEL_ID,
    USER_ID,
    dm_message,
    guild_message,
    interaction,
    reply_message,
)
from tests.test_discord_bot import COVERED, StartBot

# The Discord harness's fixtures, shared with this module.
fake = test_discord_bot.fake
restore_endpoints = test_discord_bot.restore_endpoints
start_bot = test_discord_bot.start_bot


async def test_the_same_message_to_two_instances_is_answered_once(
    start_bot: StartBot, make_careerbot: Callable[..., CareerBot], db_url: str
) -> None:
    # Two unsharded sessions (or replicas) both receive every message.
    a = await start_bot(make_careerbot(database_url=db_url))
    b = await start_bot(make_careerbot(database_url=db_url))
    payload = guild_message(COVERED)

    a.feed("MESSAGE_CREATE", payload)
    b.feed("MESSAGE_CREATE", payload)
    outcomes = [*await a.outcomes(int(payload["id"])), *await b.outcomes(int(payload["id"]))]

    assert sorted(outcomes) == ["answered", "ignored:duplicate"]
    replies = [c for c in a.fake.channel_messages(CHANNEL_ID) if "message_reference" in c.body]
    assert len(replies) == 1


async def test_a_reply_after_a_restart_continues_its_conversation(
    start_bot: StartBot, make_careerbot: Callable[..., CareerBot], db_url: str
) -> None:
    before = await start_bot(make_careerbot(database_url=db_url))
    root = guild_message(COVERED)
    assert await before.send(root) == "answered"
    bot_answer = before.fake.created[max(before.fake.created)]
    await before.bot.close()

    after = await start_bot(make_careerbot(database_url=db_url))  # a new process, same DB
    follow_up = reply_message("Which of those skills matter most?", to=bot_answer)
    assert await after.send(follow_up) == "answered"

    chain = chain_key(CHANNEL_ID, int(root["id"]))
    history = after.core.store.history(chain, 10)
    assert [t.text for t in history if t.role == "user"] == [
        COVERED,
        "Which of those skills matter most?",
    ]
    assert after.core.store.history(chain_key(CHANNEL_ID, int(bot_answer["id"])), 10) == []


async def test_my_data_and_forget(
    start_bot: StartBot, make_careerbot: Callable[..., CareerBot], db_url: str
) -> None:
    h = await start_bot(make_careerbot(database_url=db_url))
    assert await h.send(dm_message(COVERED)) == "answered"
    await h.command(interaction("ask", {"question": COVERED}))

    payload = interaction("my-data", dm=True)
    await h.command(payload)
    (kept,) = h.fake.followups(payload["token"])
    assert "I keep 4 messages, 2 answer records, 0 feedback clicks" in kept.content
    assert "(from " in kept.content

    forget = interaction("forget", dm=True)
    await h.command(forget)
    assert "deleted 4 messages, 2 answer records" in h.fake.followups(forget["token"])[0].content
    assert not await h.core.has_conversation(dm_key(USER_ID))
    again = interaction("my-data", dm=True)
    await h.command(again)
    assert h.fake.followups(again["token"])[0].content == "I keep nothing about you right now."


def test_sharding_settings_reach_discord_py(make_careerbot: Callable[..., CareerBot]) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord={"token": "t", "shard_id": 1, "shard_count": 2},
    )
    from bot.wiring import discord_config

    config, _ = discord_config(settings)
    bot = CareerDiscordBot(make_careerbot(build=False), config)
    assert (bot.shard_id, bot.shard_count) == (1, 2)
    assert CareerDiscordBot(make_careerbot(build=False), DiscordConfig()).shard_count is None


def test_a_shard_needs_both_numbers() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="together"):
        Settings(_env_file=None, discord={"shard_id": 0})  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="below"):
        Settings(_env_file=None, discord={"shard_id": 2, "shard_count": 2})  # type: ignore[call-arg]
