"""The Discord adapter driven through real discord.py objects against a local fake Discord.

Gateway payloads go through discord.py's own parsers (what the websocket would do with them),
so handlers receive real ``discord.Message``/``discord.Interaction`` objects; everything the
bot sends is recorded by the fake REST server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any
from unittest import mock

import discord
import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from bot.adapters.discord_bot import (
    MESSAGE_HANDLED_EVENT,
    CareerDiscordBot,
    DiscordConfig,
    DiscordSetupError,
    chain_key,
    dm_key,
    question_from_message,
    run_discord,
    strip_bot_mentions,
    thread_key,
    thread_name,
)
from bot.adapters.render_discord import ATTACHMENT_ONLY, MESSAGE_LIMIT
from bot.models import Question
from bot.service import CareerBot
from tests.discord_fake import (
    APP_ID,
    BOT_ID,
    BOT_USER,
    CHANNEL_ID,
    DM_CHANNEL_ID,
    EPHEMERAL,
    GUILD_ID,
    MANAGE_GUILD,
    ORGANISER_ROLE_ID,
    OTHER_BOT_ID,
    OTHER_CHANNEL_ID,
    OTHER_USER_ID,
    TOKEN,
    USER_ID,
    Call,
    FakeDiscord,
    dm_message,
    guild_message,
    interaction,
    load,
    reply_message,
    snowflake,
    user,
)
from tests.openai_fake import paused_stream, serve_fake

COVERED = "What research skills do I need for technical AI safety?"
LINKED = "What is a big lever for impact in AGI safety?"  # answered from a post with a URL
FIXTURE_KNOWLEDGE = Path(__file__).parent / "fixtures" / "knowledge"
ADMIN_USER_ID = 1300000000000000777


class Harness:
    """A logged-in bot plus the fake it talks to; feeds gateway events, awaits their handling."""

    def __init__(self, bot: CareerDiscordBot, fake: FakeDiscord, core: CareerBot) -> None:
        self.bot = bot
        self.fake = fake
        self.core = core
        self.handled: list[tuple[int, str]] = []
        self.completed: list[int] = []
        self._changed = asyncio.Condition()
        bot.add_listener(self._on_handled, f"on_{MESSAGE_HANDLED_EVENT}")
        bot.add_listener(self._on_completion, "on_app_command_completion")

    async def _on_handled(self, message: discord.Message, outcome: str) -> None:
        async with self._changed:
            self.handled.append((message.id, outcome))
            self._changed.notify_all()

    async def _on_completion(self, interaction: discord.Interaction, _command: Any) -> None:
        async with self._changed:
            self.completed.append(interaction.id)
            self._changed.notify_all()

    def feed(self, event: str, payload: dict[str, Any]) -> None:
        """Hand a gateway DISPATCH payload to discord.py's parser, as the websocket does."""
        self.bot._connection.parsers[event](payload)

    async def outcomes(self, message_id: int, count: int = 1) -> list[str]:
        """Wait until the message was handled `count` times; what happened each time."""
        async with asyncio.timeout(30), self._changed:
            while True:
                found = [o for m, o in self.handled if m == message_id]
                if len(found) >= count:
                    return found
                await self._changed.wait()

    async def send(self, payload: dict[str, Any]) -> str:
        """Deliver a MESSAGE_CREATE and wait for the bot to finish with it."""
        self.feed("MESSAGE_CREATE", payload)
        (outcome,) = await self.outcomes(int(payload["id"]))
        return outcome

    async def command(self, payload: dict[str, Any]) -> None:
        """Deliver an INTERACTION_CREATE and wait until the slash command completed."""
        self.feed("INTERACTION_CREATE", payload)
        async with asyncio.timeout(30), self._changed:
            while int(payload["id"]) not in self.completed:
                await self._changed.wait()

    async def turns(self, key: str) -> int:
        """How many turns the core has stored under a conversation key."""
        history = await asyncio.to_thread(self.core.store.history, key, 1000)
        return len(history)


StartBot = Callable[..., Coroutine[Any, Any, Harness]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def restore_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot points discord.py's class-level endpoints at the fake; undo that afterwards."""
    monkeypatch.setattr(Route, "BASE", Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)


@pytest.fixture
async def start_bot(
    fake: FakeDiscord, make_careerbot: Callable[..., CareerBot], restore_endpoints: None
) -> AsyncIterator[StartBot]:
    harnesses: list[Harness] = []

    async def start(core: CareerBot | None = None, **config: Any) -> Harness:
        config.setdefault("test_guild_id", GUILD_ID)
        config.setdefault("admin_user_ids", frozenset({ADMIN_USER_ID}))
        config.setdefault("admin_role_ids", frozenset({ORGANISER_ROLE_ID}))
        core = core or make_careerbot()
        bot = CareerDiscordBot(core, DiscordConfig(api_base=fake.api_base, **config))
        harness = Harness(bot, fake, core)
        harnesses.append(harness)
        await bot.login(TOKEN)  # GET /users/@me, application info, setup_hook (sync)
        harness.feed("GUILD_CREATE", load("guild_create"))
        return harness

    yield start
    for harness in harnesses:
        await harness.bot.close()


def _is_message_to(channel_id: int) -> Callable[[Call], bool]:
    return lambda c: c.method == "POST" and c.path == f"/channels/{channel_id}/messages"


# Start-up -----------------------------------------------------------------------------------


async def test_login_syncs_commands_to_the_test_guild(start_bot: StartBot) -> None:
    h = await start_bot()
    assert h.bot.user is not None and h.bot.user.id == BOT_ID
    (sync,) = [c for c in h.fake.calls if c.method == "PUT"]
    assert sync.path == f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"
    commands = {c["name"]: c for c in sync.body}
    assert set(commands) == {
        "ask",
        "reload",
        "rollback",
        "status",
        "forget",
        "my-data",
        "help",
        "autoanswer",
        "report",
    }
    [dry_run] = commands["reload"]["options"]
    assert (dry_run["name"], dry_run["type"], dry_run["required"]) == ("dry_run", 5, False)
    for command in commands.values():
        assert 20 < len(command["description"]) <= 100
        assert set(command["contexts"]) == {0, 1}  # servers and DMs with the bot
    (option,) = commands["ask"]["options"]
    assert option["name"] == "question" and option["required"] is True
    assert option["description"].startswith("Your question")
    assert sync.headers["Authorization"] == f"Bot {TOKEN}"


async def test_without_test_guild_commands_sync_globally(start_bot: StartBot) -> None:
    h = await start_bot(test_guild_id=None)
    (sync,) = [c for c in h.fake.calls if c.method == "PUT"]
    assert sync.path == f"/applications/{APP_ID}/commands"


async def test_failed_command_sync_is_logged_not_fatal(
    start_bot: StartBot, fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    fake.forbid_command_sync = True
    h = await start_bot()
    assert "could not sync slash commands" in caplog.text
    assert "applications.commands" in caplog.text
    assert await h.send(dm_message(COVERED)) == "answered"


async def test_bad_token_fails_with_one_clear_line(
    fake: FakeDiscord, make_careerbot: Callable[..., CareerBot], restore_endpoints: None
) -> None:
    bot = CareerDiscordBot(make_careerbot(build=False), DiscordConfig(api_base=fake.api_base))
    with pytest.raises(DiscordSetupError, match="CAREERBOT_DISCORD__TOKEN"):
        await run_discord(bot, "not-the-token")
    assert bot.is_closed()


def test_intents_are_the_ones_documented() -> None:
    bot = CareerDiscordBot(object(), DiscordConfig())  # type: ignore[arg-type]
    intents = bot.intents
    assert intents.message_content and intents.dm_messages and intents.guild_messages
    assert intents.guilds
    assert not intents.members and not intents.presences


# Messages -----------------------------------------------------------------------------------


async def test_dm_multi_turn_is_one_conversation(start_bot: StartBot) -> None:
    h = await start_bot()
    first = dm_message("How do I get started in AI safety research?")
    assert await h.send(first) in {"answered", "not-covered"}
    assert h.fake.typing(DM_CHANNEL_ID), "typing… is shown while answering"
    replies = h.fake.channel_messages(DM_CHANNEL_ID)
    assert replies and all(len(c.content) <= MESSAGE_LIMIT for c in replies)
    assert "message_reference" not in replies[0].body  # no reply quote needed in a DM
    assert replies[0].body["allowed_mentions"] == {"parse": []}  # never pings anyone

    second = dm_message("What research skills should I build first?")
    assert await h.send(second) == "answered"
    assert await h.turns(dm_key(USER_ID)) == 4
    assert "Sources" in h.fake.channel_messages(DM_CHANNEL_ID)[-1].content


async def test_mention_in_guild_replies_to_the_message(start_bot: StartBot) -> None:
    h = await start_bot()
    payload = guild_message(LINKED)
    assert await h.send(payload) == "answered"
    (reply, *_rest) = h.fake.channel_messages(CHANNEL_ID)
    assert int(reply.body["message_reference"]["message_id"]) == int(payload["id"])
    assert reply.body["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert reply.body["message_reference"]["fail_if_not_exists"] is False
    assert "**Sources**" in "".join(c.content for c in h.fake.channel_messages(CHANNEL_ID))
    assert "](<https://" in "".join(c.content for c in h.fake.channel_messages(CHANNEL_ID))
    assert await h.turns(chain_key(CHANNEL_ID, int(payload["id"]))) == 2


async def test_mention_of_the_bots_role_also_counts(start_bot: StartBot) -> None:
    h = await start_bot()
    payload = guild_message(COVERED, mention_bot=False)
    payload["content"] = f"<@&1300000000000000110> {COVERED}"
    assert await h.send(payload) == "answered"


async def test_reply_to_bot_continues_the_chain(start_bot: StartBot) -> None:
    h = await start_bot()
    root = guild_message(COVERED)
    await h.send(root)
    bot_reply = h.fake.created[max(h.fake.created)]
    follow_up = reply_message("Which of those skills matter most?", to=bot_reply)
    assert await h.send(follow_up) == "answered"
    assert await h.turns(chain_key(CHANNEL_ID, int(root["id"]))) == 4
    last = h.fake.channel_messages(CHANNEL_ID)[-1]
    first_of_answer = [
        c for c in h.fake.channel_messages(CHANNEL_ID) if "message_reference" in c.body
    ]
    assert first_of_answer[-1].body["message_reference"]["message_id"] == int(follow_up["id"])
    assert len(last.content) <= MESSAGE_LIMIT


async def test_reply_to_unknown_bot_message_after_restart_starts_a_chain(
    start_bot: StartBot,
) -> None:
    h = await start_bot()
    old_answer = load("message_create_reply_to_bot")["referenced_message"]
    old_answer["guild_id"] = str(GUILD_ID)
    payload = reply_message(COVERED, to=old_answer)
    assert await h.send(payload) == "answered"
    assert await h.turns(chain_key(CHANNEL_ID, int(old_answer["id"]))) == 2


async def test_unaddressed_guild_messages_are_ignored(start_bot: StartBot) -> None:
    h = await start_bot()
    plain = guild_message("Anyone around for lunch?", mention_bot=False)
    assert await h.send(plain) == "ignored:not-addressed"
    human = guild_message("hello", mention_bot=False, author=user(OTHER_USER_ID, "bob"))
    reply_to_human = reply_message("Agreed!", to=human)
    assert await h.send(reply_to_human) == "ignored:not-addressed"
    everyone = guild_message("@everyone standup", mention_bot=False, mention_everyone=True)
    assert await h.send(everyone) == "ignored:not-addressed"
    assert h.fake.channel_messages(CHANNEL_ID) == []


async def test_bot_authors_are_ignored(start_bot: StartBot) -> None:
    h = await start_bot()
    other_bot = guild_message(COVERED, author=user(OTHER_BOT_ID, "otherbot", bot=True))
    assert await h.send(other_bot) == "ignored:bot"
    own = guild_message(COVERED, author=BOT_USER)
    assert await h.send(own) == "ignored:self"
    own_dm = dm_message(COVERED, author_id=BOT_ID)
    own_dm["author"] = BOT_USER
    assert await h.send(own_dm) == "ignored:self"
    assert h.fake.channel_messages(CHANNEL_ID) == []
    assert h.fake.channel_messages(DM_CHANNEL_ID) == []


async def test_same_message_twice_is_answered_once(start_bot: StartBot) -> None:
    h = await start_bot()
    payload = dm_message(COVERED)
    h.feed("MESSAGE_CREATE", payload)
    h.feed("MESSAGE_CREATE", payload)  # e.g. replayed after a gateway RESUME
    outcomes = await h.outcomes(int(payload["id"]), 2)
    assert sorted(outcomes) == ["answered", "ignored:duplicate"]
    assert await h.turns(dm_key(USER_ID)) == 2
    contents = [c.content for c in h.fake.channel_messages(DM_CHANNEL_ID)]
    assert len(contents) == len(set(contents))


async def test_long_answer_is_split_under_2000_characters(
    start_bot: StartBot, make_careerbot: Callable[..., CareerBot]
) -> None:
    # A sentence the retrieved passages support (LLM replies are checked against them).
    paragraph = (
        "Being stuck is a very common steady state to be in when replicating a paper, so be "
        "ok with being stuck [1][2][3][4][5]. "
    )
    long_reply = "\n\n".join(paragraph * 2 for _ in range(20))
    core = make_careerbot(chat_model=FakeListChatModel(responses=[long_reply]))
    h = await start_bot(core)
    assert await h.send(dm_message(COVERED)) == "answered"
    shown = h.fake.shown(DM_CHANNEL_ID)  # the first message streamed, then was edited
    assert len(shown) >= 3
    assert all(len(m) <= MESSAGE_LIMIT for m in shown)
    assert sum(m.count("replicating a paper") for m in shown) == 40
    assert shown[-1].rstrip().splitlines()[-1].startswith("1. ")


async def test_long_question_is_answered_with_a_notice(start_bot: StartBot) -> None:
    h = await start_bot()
    question = COVERED + " " + "Please consider my background in detail. " * 80
    assert len(question) > 2000
    assert await h.send(dm_message(question)) in {"answered", "not-covered"}
    first = h.fake.channel_messages(DM_CHANNEL_ID)[0].content
    assert first.startswith("ℹ️ *Your message was long")


async def test_empty_mention_gets_help(start_bot: StartBot) -> None:
    h = await start_bot()
    payload = guild_message("")
    assert await h.send(payload) == "help"
    (reply,) = h.fake.channel_messages(CHANNEL_ID)
    assert f"<@{BOT_ID}> How do I" in reply.content
    assert await h.turns(chain_key(CHANNEL_ID, int(payload["id"]))) == 0


async def test_attachment_only_message_gets_a_friendly_note(start_bot: StartBot) -> None:
    h = await start_bot()
    attachment = {
        "id": "1300000000000007001",
        "filename": "cv.pdf",
        "size": 52011,
        "url": "https://cdn.discordapp.com/attachments/1/2/cv.pdf",
        "proxy_url": "https://media.discordapp.net/attachments/1/2/cv.pdf",
        "content_type": "application/pdf",
    }
    assert await h.send(dm_message("", attachments=[attachment])) == "attachment-only"
    (reply,) = h.fake.channel_messages(DM_CHANNEL_ID)
    assert reply.content == ATTACHMENT_ONLY


async def test_missing_channel_permissions_are_logged_and_survived(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    h = await start_bot()
    h.fake.forbidden_channels.add(OTHER_CHANNEL_ID)
    blocked = guild_message(COVERED, channel_id=OTHER_CHANNEL_ID)
    assert await h.send(blocked) == "send-failed"
    assert "missing permission to reply in channel" in caplog.text
    assert "cannot show typing" in caplog.text
    assert await h.send(guild_message(COVERED)) == "answered"


async def test_core_failure_gets_a_friendly_message(
    start_bot: StartBot, make_careerbot: Callable[..., CareerBot]
) -> None:
    core = make_careerbot(build=False)  # never indexed
    h = await start_bot(core)
    assert await h.send(dm_message(COVERED)) == "error"
    (reply,) = h.fake.channel_messages(DM_CHANNEL_ID)
    assert "knowledge base hasn't been built" in reply.content


async def test_unexpected_core_crash_is_reported_kindly_and_survived(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    h = await start_bot()
    with mock.patch.object(h.core, "answer", side_effect=RuntimeError("database is locked")):
        assert await h.send(dm_message(COVERED)) == "error"
    (reply,) = h.fake.channel_messages(DM_CHANNEL_ID)
    assert reply.content.startswith("Sorry, something went wrong on my side")
    assert "database is locked" not in reply.content
    assert "database is locked" in caplog.text  # the operator sees the cause
    assert await h.send(dm_message(COVERED)) == "answered"


async def test_thread_mode_opens_a_thread_and_keeps_talking_there(start_bot: StartBot) -> None:
    h = await start_bot(thread_mode=True)
    root = guild_message(COVERED)
    assert await h.send(root) == "answered"
    (opened,) = [c for c in h.fake.calls if c.path.endswith("/threads")]
    assert opened.path == f"/channels/{CHANNEL_ID}/messages/{root['id']}/threads"
    assert opened.body["name"] == thread_name(COVERED)
    thread_id = int(root["id"])  # Discord gives the thread its starter message's id
    assert h.fake.channel_messages(thread_id)
    assert h.fake.channel_messages(CHANNEL_ID) == []
    assert await h.turns(thread_key(thread_id)) == 2

    thread = {**load("guild_create")["threads"][0], "id": str(thread_id), "owner_id": str(BOT_ID)}
    h.feed("THREAD_CREATE", {**thread, "newly_created": True})
    in_thread = guild_message(
        "Which skill should I start with?", mention_bot=False, channel_id=thread_id
    )
    assert await h.send(in_thread) == "answered"
    assert await h.turns(thread_key(thread_id)) == 4


async def test_mention_in_an_existing_thread_uses_the_thread(start_bot: StartBot) -> None:
    h = await start_bot()
    thread_id = int(load("guild_create")["threads"][0]["id"])
    assert await h.send(guild_message(COVERED, channel_id=thread_id)) == "answered"
    assert await h.turns(thread_key(thread_id)) == 2
    chatter = guild_message("thanks all", mention_bot=False, channel_id=thread_id)
    assert await h.send(chatter) == "ignored:not-addressed"


async def test_a_question_is_built_from_the_message_payload_alone(start_bot: StartBot) -> None:
    h = await start_bot()
    channel = h.bot.get_channel(CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    payload = guild_message("  What should I read first? ")
    payload["content"] += " <@&1300000000000000110>"  # the bot's managed role, also stripped
    message = h.bot._connection.create_message(channel=channel, data=payload)

    question = question_from_message(message, bot_id=BOT_ID, conversation_key="chain")

    assert question == Question(
        text="What should I read first?",
        asker=str(USER_ID),
        conversation_key="chain",
        platform="discord",
        channel=str(CHANNEL_ID),
    )


def test_strip_bot_mentions() -> None:
    assert strip_bot_mentions(f"<@{BOT_ID}>  hi <@!{BOT_ID}>there", BOT_ID) == "hi there"
    assert strip_bot_mentions("<@&5> <@9> hey", BOT_ID, [5]) == "<@9> hey"
    assert strip_bot_mentions(f"<@{BOT_ID}>", BOT_ID) == ""


# Slash commands -----------------------------------------------------------------------------


async def test_ask_defers_then_follows_up(start_bot: StartBot) -> None:
    h = await start_bot()
    payload = interaction("ask", {"question": COVERED})
    await h.command(payload)
    (callback,) = h.fake.callbacks(payload["id"])
    assert callback.body["type"] == 5  # deferred: "careerbot is thinking…"
    assert callback.flags & EPHEMERAL == 0
    followups = h.fake.followups(payload["token"])
    assert followups and h.fake.calls.index(callback) < h.fake.calls.index(followups[0])
    assert followups[0].content.startswith(f"> {COVERED}")
    assert "**Sources**" in "".join(f.content for f in followups)
    assert all(len(f.content) <= MESSAGE_LIMIT for f in followups)
    assert await h.turns(f"discord:slash:{CHANNEL_ID}:{USER_ID}") == 2


async def test_ask_in_a_dm_shares_the_dm_conversation(start_bot: StartBot) -> None:
    h = await start_bot()
    await h.send(dm_message(COVERED))
    await h.command(interaction("ask", {"question": "Which skills first?"}, dm=True))
    assert await h.turns(dm_key(USER_ID)) == 4


async def test_reload_refused_for_non_admin(start_bot: StartBot) -> None:
    h = await start_bot()
    before = (await h.core.status()).last_reload
    payload = interaction("reload")
    await h.command(payload)
    (callback,) = h.fake.callbacks(payload["id"])
    assert callback.body["type"] == 4 and callback.flags & EPHEMERAL
    assert "only the bot's admins" in callback.content
    assert h.fake.followups(payload["token"]) == []
    assert (await h.core.status()).last_reload == before  # nothing was reloaded


@pytest.mark.parametrize(
    "kwargs",
    [
        {"roles": (ORGANISER_ROLE_ID,)},  # configured admin role
        {"user_id": ADMIN_USER_ID},  # configured admin user
        {"permissions": str(MANAGE_GUILD)},  # Manage Server
        {"dm": True, "user_id": ADMIN_USER_ID},  # configured admin user, in a DM
    ],
    ids=["admin-role", "admin-user", "manage-server", "admin-dm"],
)
async def test_reload_by_admin(start_bot: StartBot, kwargs: dict[str, Any]) -> None:
    h = await start_bot()
    before = (await h.core.status()).last_reload
    payload = interaction("reload", **kwargs)
    await h.command(payload)
    (callback,) = h.fake.callbacks(payload["id"])
    assert callback.body["type"] == 5 and callback.flags & EPHEMERAL
    (followup,) = h.fake.followups(payload["token"])
    assert followup.flags & EPHEMERAL
    assert followup.content.startswith("✅ Knowledge base unchanged: 3 documents")
    assert (await h.core.status()).last_reload != before


async def test_failed_reload_reports_and_old_index_keeps_answering(
    start_bot: StartBot, make_careerbot: Callable[..., CareerBot], tmp_path: Path
) -> None:
    core = make_careerbot()
    broken = core.knowledge_dir / "career-mindset.md"
    broken.write_text("no front matter here\n", encoding="utf-8")
    h = await start_bot(core)
    payload = interaction("reload", roles=(ORGANISER_ROLE_ID,))
    await h.command(payload)
    (followup,) = h.fake.followups(payload["token"])
    assert followup.content.startswith("⚠️ Reload failed:")
    assert "career-mindset.md" in followup.content
    assert "still answering from the previous knowledge base" in followup.content
    assert await h.send(dm_message(LINKED)) == "answered"
    assert "AGI safety career advice" in h.fake.channel_messages(DM_CHANNEL_ID)[-1].content


async def test_forget_clears_dm_history(start_bot: StartBot) -> None:
    h = await start_bot()
    await h.send(dm_message(COVERED))
    assert await h.core.has_conversation(dm_key(USER_ID))
    payload = interaction("forget", dm=True)
    await h.command(payload)
    (followup,) = h.fake.followups(payload["token"])
    assert followup.flags & EPHEMERAL
    assert "deleted 2 messages, 1 answer record, 0 feedback clicks" in followup.content
    assert not await h.core.has_conversation(dm_key(USER_ID))

    again = interaction("forget", dm=True)
    await h.command(again)
    assert h.fake.followups(again["token"])[0].content.startswith("There was nothing to forget")


async def test_forget_in_a_guild_also_clears_the_users_dm(start_bot: StartBot) -> None:
    h = await start_bot()
    await h.send(dm_message(COVERED))
    await h.command(interaction("ask", {"question": COVERED}))
    payload = interaction("forget")
    await h.command(payload)
    assert "deleted 4 messages, 2 answer records" in h.fake.followups(payload["token"])[0].content
    assert not await h.core.has_conversation(dm_key(USER_ID))


async def test_forget_in_a_thread_clears_the_thread(start_bot: StartBot) -> None:
    h = await start_bot()
    thread = load("guild_create")["threads"][0]
    await h.send(guild_message(COVERED, channel_id=int(thread["id"])))
    assert await h.core.has_conversation(thread_key(int(thread["id"])))
    payload = interaction("forget", channel=thread)
    await h.command(payload)
    assert "deleted 2 messages" in h.fake.followups(payload["token"])[0].content
    assert not await h.core.has_conversation(thread_key(int(thread["id"])))


async def test_status_and_help_are_ephemeral(start_bot: StartBot) -> None:
    h = await start_bot()
    status = interaction("status")
    await h.command(status)
    (followup,) = h.fake.followups(status["token"])
    assert followup.flags & EPHEMERAL
    assert "Knowledge base: 3 documents" in followup.content
    assert "AGI safety career advice" in followup.content

    help_ = interaction("help", dm=True)
    await h.command(help_)
    (callback,) = h.fake.callbacks(help_["id"])
    assert callback.body["type"] == 4 and callback.flags & EPHEMERAL
    assert f"<@{BOT_ID}>" in callback.content


async def test_status_failure_is_reported_kindly(start_bot: StartBot) -> None:
    h = await start_bot()
    payload = interaction("status")
    with mock.patch.object(h.core, "status", side_effect=RuntimeError("disk full")):
        await h.command(payload)
    (followup,) = h.fake.followups(payload["token"])
    assert followup.flags & EPHEMERAL
    assert followup.content.startswith("Sorry, something went wrong")


# End to end over a fake gateway -------------------------------------------------------------


async def test_end_to_end_dm_over_the_gateway(
    fake: FakeDiscord, make_careerbot: Callable[..., CareerBot], restore_endpoints: None
) -> None:
    config = DiscordConfig(api_base=fake.api_base, gateway_url=fake.gateway_url)
    bot = CareerDiscordBot(make_careerbot(), config)
    handled: asyncio.Queue[tuple[int, str]] = asyncio.Queue()

    async def on_handled(message: discord.Message, outcome: str) -> None:
        await handled.put((message.id, outcome))

    bot.add_listener(on_handled, f"on_{MESSAGE_HANDLED_EVENT}")

    runner = asyncio.create_task(run_discord(bot, TOKEN))
    try:
        async with asyncio.timeout(30):
            await fake.ready.wait()
        assert fake.identify is not None
        assert fake.identify["token"] == TOKEN
        assert fake.identify["intents"] == bot.intents.value
        question = dm_message(COVERED)
        await fake.dispatch("MESSAGE_CREATE", question)
        reply = await fake.wait_for(_is_message_to(DM_CHANNEL_ID))
        assert "**Sources**" in "".join(c.content for c in fake.channel_messages(DM_CHANNEL_ID))
        assert len(reply.content) <= MESSAGE_LIMIT
        # The question was answered; the bot's own message, echoed back, was ignored.
        seen: list[tuple[int, str]] = []
        async with asyncio.timeout(30):
            while (int(question["id"]), "answered") not in seen or not any(
                outcome == "ignored:self" for _, outcome in seen
            ):
                seen.append(await handled.get())
    finally:
        await bot.close()
        await runner


async def test_llm_answer_streams_into_one_reply_then_the_checked_answer_replaces_it(
    start_bot: StartBot, make_careerbot: Callable[..., CareerBot]
) -> None:
    async with serve_fake() as model:
        reply, llm = paused_stream(model)
        core = make_careerbot(llm=llm)
        h = await start_bot(core, stream_interval=0.0)
        answering = asyncio.create_task(h.send(dm_message("How do I deal with burnout?")))
        path = f"/channels/{DM_CHANNEL_ID}/messages"
        # The model pauses after the made-up sentence: the checked first one is shown.
        await h.fake.wait_for(lambda c: c.method == "POST" and c.path == path)
        reply.resume.set()
        assert await answering == "answered"

    [streamed] = h.fake.channel_messages(DM_CHANNEL_ID)
    assert "overuse injury" in streamed.content and streamed.content.endswith("…")
    edits = h.fake.edits(DM_CHANNEL_ID)
    assert edits, "the final answer replaces the streamed text"
    final = edits[-1].content
    assert not final.endswith("…")
    assert final.rstrip().splitlines()[-1].startswith("1. ")  # sources
    shown = [streamed.content, *(e.content for e in edits)]
    assert all("$500k" not in text for text in shown)


async def test_ask_streams_into_the_thinking_response_then_the_answer_replaces_it(
    start_bot: StartBot, make_careerbot: Callable[..., CareerBot]
) -> None:
    async with serve_fake() as model:
        reply, llm = paused_stream(model)
        core = make_careerbot(llm=llm)
        h = await start_bot(core, stream_interval=0.0)
        payload = interaction("ask", {"question": "How do I deal with burnout?"})
        answering = asyncio.create_task(h.command(payload))
        await h.fake.wait_for(lambda c: c.method == "PATCH" and "@original" in c.path)
        reply.resume.set()
        await answering

    edits = [c for c in h.fake.calls if c.method == "PATCH" and "@original" in c.path]
    assert edits[0].content.endswith("…") and "overuse injury" in edits[0].content
    final = edits[-1].content
    assert final.startswith("> How do I deal with burnout?") and not final.endswith("…")
    followups = h.fake.followups(payload["token"])
    shown = [*(e.content for e in edits), *(f.content for f in followups)]
    assert "**Sources**" in "".join(shown[len(edits) - 1 :])
    assert all("$500k" not in text for text in shown)


# Auto-answer channels, forum posts, the per-channel switch and fair use (issue 10 §4-5) ------

FORUM_ID = 1300000000000000130


def forum_channel() -> dict[str, Any]:
    """A CHANNEL_CREATE payload for a forum channel in the fixture guild."""
    return {
        "id": str(FORUM_ID),
        "type": 15,
        "guild_id": str(GUILD_ID),
        "name": "ask-careers",
        "position": 2,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": "One post per question",
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
        "available_tags": [],
        "default_reaction_emoji": None,
        "default_sort_order": None,
        "default_forum_layout": 0,
        "default_thread_rate_limit_per_user": 0,
    }


def forum_post(h: Harness, title: str, body: str, *, author_id: int = USER_ID) -> dict[str, Any]:
    """Create a post in the forum (THREAD_CREATE) and return its starter MESSAGE_CREATE."""
    post_id = snowflake()
    thread = {
        **load("guild_create")["threads"][0],
        "id": str(post_id),
        "parent_id": str(FORUM_ID),
        "owner_id": str(author_id),
        "name": title,
        "newly_created": True,
    }
    h.feed("THREAD_CREATE", thread)
    author = user(author_id, "ada" if author_id == USER_ID else f"user{author_id}")
    return guild_message(
        body, mention_bot=False, channel_id=post_id, id=str(post_id), author=author
    )


async def test_auto_answer_channel_opens_a_thread_on_each_question(start_bot: StartBot) -> None:
    h = await start_bot(auto_answer_channel_ids=frozenset({CHANNEL_ID}))
    question = guild_message(COVERED, mention_bot=False)
    assert await h.send(question) == "answered"
    (opened,) = [c for c in h.fake.calls if c.path.endswith("/threads")]
    assert opened.path == f"/channels/{CHANNEL_ID}/messages/{question['id']}/threads"
    assert opened.body["name"] == thread_name(COVERED)
    thread_id = int(question["id"])
    answer = "".join(c.content for c in h.fake.channel_messages(thread_id))
    assert "Sources" in answer
    assert h.fake.channel_messages(CHANNEL_ID) == [], "the answer goes in the thread"
    assert await h.turns(thread_key(thread_id)) == 2


async def test_auto_answer_leaves_chatter_bots_and_other_channels_alone(
    start_bot: StartBot,
) -> None:
    h = await start_bot(auto_answer_channel_ids=frozenset({CHANNEL_ID}))
    assert await h.send(guild_message("thanks!", mention_bot=False)) == "ignored:not-a-question"
    assert await h.send(guild_message("lol 😂", mention_bot=False)) == "ignored:not-a-question"
    assert await h.send(guild_message("!rank how am I doing?", mention_bot=False)) == (
        "ignored:command"
    )
    to_someone = guild_message(f"<@{OTHER_USER_ID}> {COVERED}", mention_bot=False)
    to_someone["mentions"] = [user(OTHER_USER_ID, "bob")]
    assert await h.send(to_someone) == "ignored:for-someone-else"
    other_bot = guild_message(COVERED, mention_bot=False, author=user(OTHER_BOT_ID, "x", bot=True))
    assert await h.send(other_bot) == "ignored:bot"
    elsewhere = guild_message(COVERED, mention_bot=False, channel_id=OTHER_CHANNEL_ID)
    assert await h.send(elsewhere) == "ignored:not-addressed"
    in_thread = guild_message(
        COVERED, mention_bot=False, channel_id=int(load("guild_create")["threads"][0]["id"])
    )
    assert await h.send(in_thread) == "ignored:not-addressed"
    assert [c for c in h.fake.calls if c.method == "POST" and "/messages" in c.path] == []


async def test_each_new_forum_post_is_answered_in_its_thread(start_bot: StartBot) -> None:
    h = await start_bot(auto_answer_channel_ids=frozenset({FORUM_ID}))
    h.feed("CHANNEL_CREATE", forum_channel())
    assert isinstance(h.bot.get_channel(FORUM_ID), discord.ForumChannel)
    post = forum_post(h, "Research skills?", "What research skills do I need for technical work?")
    assert await h.send(post) == "answered"
    post_id = int(post["id"])
    assert "Sources" in "".join(c.content for c in h.fake.channel_messages(post_id))
    assert not [c for c in h.fake.calls if c.path.endswith("/threads")], "the post is the thread"
    history = await asyncio.to_thread(h.core.store.history, thread_key(post_id), 10)
    assert history[0].text.startswith("Research skills? What research skills")  # title + body
    # Replies inside the post are not new posts; the same post delivered twice is answered once.
    reply = guild_message("thanks, that helps!", mention_bot=False, channel_id=post_id)
    assert await h.send(reply) == "ignored:not-addressed"
    h.feed("MESSAGE_CREATE", post)
    assert await h.outcomes(post_id, 2) == ["answered", "ignored:duplicate"]


async def test_a_forum_not_listed_is_left_alone(start_bot: StartBot) -> None:
    h = await start_bot(auto_answer_channel_ids=frozenset({CHANNEL_ID}))
    h.feed("CHANNEL_CREATE", forum_channel())
    post = forum_post(h, "PhD?", "Should I do a PhD before working on alignment?")
    assert await h.send(post) == "ignored:not-addressed"


async def test_autoanswer_switch_is_admin_only_and_shared_by_two_bots(
    start_bot: StartBot, make_careerbot: Callable[..., CareerBot], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'shared' / 'careerbot.db'}"
    auto = frozenset({CHANNEL_ID})
    first = await start_bot(make_careerbot(database_url=url), auto_answer_channel_ids=auto)
    second = await start_bot(make_careerbot(database_url=url), auto_answer_channel_ids=auto)

    async def switch(h: Harness, mode: str, user_id: int) -> str:
        payload = interaction("autoanswer", {"mode": mode}, user_id=user_id)
        await h.command(payload)
        (reply,) = h.fake.callbacks(payload["id"])
        assert reply.flags & EPHEMERAL
        return reply.content

    refused = await switch(first, "off", USER_ID)
    assert "only careerbot admins" in refused and "Nothing was changed" in refused
    assert "Auto-answer is off here" in await switch(first, "off", ADMIN_USER_ID)
    assert await second.send(guild_message(COVERED, mention_bot=False)) == "ignored:opted-out"
    assert "off since" in await switch(second, "status", USER_ID)
    assert "only careerbot admins" in await switch(second, "on", USER_ID)
    assert await first.send(guild_message(COVERED, mention_bot=False)) == "ignored:opted-out"
    assert await first.send(guild_message(COVERED)) == "answered", "mentions still work"

    assert "Auto-answer is on here" in await switch(second, "on", ADMIN_USER_ID)
    assert await first.send(guild_message(COVERED, mention_bot=False)) == "answered"


async def test_rate_limit_replies_once_per_window_and_admins_are_exempt(
    start_bot: StartBot, make_careerbot: Callable[..., CareerBot]
) -> None:
    from bot.fair_use import FairUse, LimitsConfig, SQLCounterStorage

    now = [1_800_000_000.0]
    core = make_careerbot()
    core.fair_use = FairUse(
        SQLCounterStorage(core.store.engine, lambda: now[0]),
        LimitsConfig(per_user_per_minute=1, per_user_per_hour=0),
    )
    h = await start_bot(core)
    assert await h.send(dm_message(COVERED)) == "answered"
    now[0] += 15
    assert await h.send(dm_message("And MATS?")) == "rate-limited"
    notice = h.fake.channel_messages(DM_CHANNEL_ID)[-1].content
    assert notice == "⏳ You've asked a lot in a short time — try again in about 45 seconds."
    sent = len(h.fake.channel_messages(DM_CHANNEL_ID))
    assert await h.send(dm_message("Hello??? anyone?")) == "rate-limited:quiet"
    assert len(h.fake.channel_messages(DM_CHANNEL_ID)) == sent, "one notice per window"

    # /ask is refused privately, before "thinking…" is shown.
    ask = interaction("ask", {"question": COVERED})
    await h.command(ask)
    (callback,) = h.fake.callbacks(ask["id"])
    assert callback.flags & EPHEMERAL and "try again in about" in callback.content

    # Admins (here by role) are never limited.
    for text in (COVERED, "And MATS?", "And burnout?"):
        by_admin = guild_message(text, author=user(OTHER_USER_ID, "org"))
        by_admin["member"]["roles"] = [str(ORGANISER_ROLE_ID)]
        assert await h.send(by_admin) in {"answered", "not-covered"}

    now[0] += 45
    assert await h.send(dm_message("And MATS?")) in {"answered", "not-covered"}


async def test_autoanswer_in_a_forum_post_switches_the_whole_forum(start_bot: StartBot) -> None:
    h = await start_bot(auto_answer_channel_ids=frozenset({FORUM_ID}))
    h.feed("CHANNEL_CREATE", forum_channel())
    first = forum_post(h, "PhD?", "Should I do a PhD before working on alignment?")
    assert await h.send(first) == "answered"
    post = h.bot.get_channel(int(first["id"]))
    assert isinstance(post, discord.Thread)
    in_post = {
        "id": str(post.id),
        "type": 11,
        "guild_id": str(GUILD_ID),
        "parent_id": str(FORUM_ID),
        "name": post.name,
    }
    payload = interaction("autoanswer", {"mode": "off"}, user_id=ADMIN_USER_ID, channel=in_post)
    await h.command(payload)
    (reply,) = h.fake.callbacks(payload["id"])
    assert "Auto-answer is off here" in reply.content
    switch = await h.core.auto_answer_switch("discord", str(FORUM_ID))
    assert switch is not None and not switch.enabled and switch.changed_by == str(ADMIN_USER_ID)
    second = forum_post(h, "MATS?", "What is MATS like for someone new to research?")
    assert await h.send(second) == "ignored:opted-out"


# Admins manage knowledge: dry run, rollback, audit ---------------------------------------------


def _dry_run(**kwargs: Any) -> dict[str, Any]:
    payload = interaction("reload", **kwargs)
    payload["data"]["options"] = [{"name": "dry_run", "type": 5, "value": True}]
    return payload


def _add_another_mats(core: CareerBot) -> None:
    source = (core.knowledge_dir / "mats-experience.md").read_text(encoding="utf-8")
    (core.knowledge_dir / "another-mats.md").write_text(
        source.replace("My MATS Summer 2023", "Another MATS"), encoding="utf-8"
    )


async def test_reload_dry_run_by_admin_shows_changes_and_switches_nothing(
    start_bot: StartBot,
) -> None:
    h = await start_bot()
    _add_another_mats(h.core)
    state = h.core.index.state()
    payload = _dry_run(roles=(ORGANISER_ROLE_ID,))

    await h.command(payload)

    (followup,) = h.fake.followups(payload["token"])
    assert followup.flags & EPHEMERAL
    assert "Dry run: reload would switch to a new index generation." in followup.content
    assert "Added: another-mats.md (0 → " in followup.content
    assert h.core.index.state() == state
    assert (await h.core.status()).documents == 3
    [action] = await h.core.admin_actions()
    assert (action.platform, action.actor, action.action, action.result) == (
        "discord",
        str(USER_ID),
        "reload-dry-run",
        "ok",
    )


async def test_rollback_by_admin_returns_to_the_previous_generation(start_bot: StartBot) -> None:
    h = await start_bot()
    first = interaction("rollback", user_id=ADMIN_USER_ID)
    await h.command(first)
    (nothing,) = h.fake.followups(first["token"])
    assert "no previous index generation" in nothing.content
    _add_another_mats(h.core)
    await h.core.reload()
    assert (await h.core.status()).documents == 4

    second = interaction("rollback", user_id=ADMIN_USER_ID)
    await h.command(second)

    (done,) = h.fake.followups(second["token"])
    assert done.flags & EPHEMERAL and done.content.startswith("⏪ Rolled back: now serving")
    assert (await h.core.status()).documents == 3
    assert await h.send(dm_message(LINKED)) == "answered"  # the old generation answers
    assert [(a.action, a.result) for a in await h.core.admin_actions()] == [
        ("rollback", "failed"),
        ("rollback", "ok"),
    ]


@pytest.mark.parametrize("command", ["dry-run", "rollback"])
async def test_admin_knowledge_commands_refuse_non_admins_politely(
    start_bot: StartBot, command: str
) -> None:
    h = await start_bot()
    _add_another_mats(h.core)
    await h.core.reload()
    state = h.core.index.state()
    payload = _dry_run() if command == "dry-run" else interaction("rollback")

    await h.command(payload)

    (callback,) = h.fake.callbacks(payload["id"])
    assert callback.body["type"] == 4 and callback.flags & EPHEMERAL
    assert "only the bot's admins" in callback.content
    assert h.fake.followups(payload["token"]) == []
    assert h.core.index.state() == state
    [refused] = await h.core.admin_actions()
    assert (refused.actor, refused.result) == (str(USER_ID), "refused")
    assert refused.action == ("rollback" if command == "rollback" else "reload-dry-run")
