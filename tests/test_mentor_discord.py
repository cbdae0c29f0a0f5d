"""'Ask a mentor' on Discord: real discord.py objects from gateway payloads, the fake REST."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord_bot import ADD_TO_KNOWLEDGE, MENTOR_BUTTON_PREFIX
from bot.adapters.render_discord import MENTOR_RELAYED, MENTOR_SENT, MENTORS_UNREACHABLE
from bot.knowledge import load_knowledge
from bot.service import CareerBot
from tests import test_discord_bot
from tests.discord_fake import (
    APP_ID,
    BOT_ID,
    CHANNEL_ID,
    EPHEMERAL,
    GUILD_ID,
    OTHER_CHANNEL_ID,
    OTHER_USER_ID,
    USER_ID,
    Call,
    guild_message,
    load,
    snowflake,
    user,
)
from tests.test_discord_bot import COVERED, Harness, StartBot

fake = test_discord_bot.fake
restore_endpoints = test_discord_bot.restore_endpoints
start_bot = test_discord_bot.start_bot

MENTORS = OTHER_CHANNEL_ID
MENTOR_ID = 1300000000000000555
MakeBot = Callable[..., CareerBot]


@pytest.fixture
def mentor_bot(make_careerbot: MakeBot, tmp_path: Path) -> MakeBot:
    """A CareerBot whose review folder is under tmp_path (never the working directory)."""

    def make(**overrides: Any) -> CareerBot:
        return make_careerbot(mentors={"review_dir": tmp_path / "review"}, **overrides)

    return make


async def _start(start_bot: StartBot, core: CareerBot) -> Harness:
    return await start_bot(core, mentors_channel_id=MENTORS, mentor_user_ids=frozenset({MENTOR_ID}))


def _interaction(kind: int, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An INTERACTION_CREATE payload in the fixture guild's channel, by the asker."""
    payload = load("interaction_create_guild_command")
    payload.update(id=str(snowflake()), token=f"interaction-token-{snowflake()}", type=kind)
    payload["data"] = data
    payload.update(extra)
    return payload


def _callbacks(h: Harness, payload: dict[str, Any]) -> list[Call]:
    return h.fake.callbacks(payload["id"])


async def _followup(h: Harness, payload: dict[str, Any]) -> Call:
    path = f"/webhooks/{APP_ID}/{payload['token']}"
    return await h.fake.wait_for(lambda c: c.method == "POST" and c.path == path)


async def _escalate(h: Harness, choice: str, note: str = "") -> tuple[Call, dict[str, Any]]:
    """Mention → answer → button → consent modal → submit; returns (mentors' post, answer)."""
    told, answer = await _consent(h, choice, note)
    assert told.content == MENTOR_SENT and told.flags & EPHEMERAL
    [post] = h.fake.channel_messages(MENTORS)
    return post, answer


async def _consent(h: Harness, choice: str, note: str = "") -> tuple[Call, dict[str, Any]]:
    """Up to the consent modal's submit; returns (what the asker was told, the answer)."""
    assert await h.send(guild_message(COVERED)) == "answered"
    [sent] = [c for c in h.fake.channel_messages(CHANNEL_ID) if c.body.get("components")]
    row, *_suggestions = sent.body["components"]  # suggested questions take a row of their own
    # The answer's row also carries the 👍/👎 feedback buttons.
    [button] = [b for b in row["components"] if b["custom_id"].startswith(MENTOR_BUTTON_PREFIX)]
    assert button["label"] == "Ask a mentor" and button["custom_id"].startswith(
        MENTOR_BUTTON_PREFIX
    )
    answer = next(m for m in h.fake.created.values() if m["content"] == sent.body["content"])
    answer = {**answer, "components": sent.body["components"]}

    click = _interaction(3, {"custom_id": button["custom_id"], "component_type": 2}, message=answer)
    h.feed("INTERACTION_CREATE", click)
    modal = await h.fake.wait_for(
        lambda c: c.path.startswith(f"/interactions/{click['id']}/") and c.body["type"] == 9
    )
    await _modal_registered(h, modal.body["data"]["custom_id"])
    labels = [c["label"] for c in modal.body["data"]["components"]]
    assert labels == ["Show the mentors your name?", "A note for the mentors (optional)"]
    options = modal.body["data"]["components"][0]["component"]["options"]
    assert [o["label"] for o in options] == ["Share with my name", "Share anonymously"]
    assert h.fake.channel_messages(MENTORS) == []  # nothing goes out before consent

    submit = _interaction(
        5,
        {
            "custom_id": modal.body["data"]["custom_id"],
            "components": [
                {
                    "type": 18,
                    "id": 1,
                    "component": {"type": 21, "custom_id": "share_as", "value": choice},
                },
                {"type": 18, "id": 2, "component": {"type": 4, "custom_id": "note", "value": note}},
            ],
        },
        message=answer,
    )
    h.feed("INTERACTION_CREATE", submit)
    return await _followup(h, submit), answer


async def _modal_registered(h: Harness, custom_id: str) -> None:
    """discord.py keeps a modal for its submit once Discord answered the callback; the fake
    records the callback a moment before that, so wait (bounded) for the modal to be kept."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while custom_id not in h.bot._connection._view_store._modals:
        assert loop.time() < deadline, "the consent modal was never registered"
        await asyncio.sleep(0.01)


def _thread_of(h: Harness, post: Call) -> int:
    [opened] = [c for c in h.fake.calls if c.path.endswith("/threads")]
    post_id = next(i for i, m in h.fake.created.items() if m["content"] == post.body["content"])
    assert opened.path == f"/channels/{MENTORS}/messages/{post_id}/threads"
    thread_id = post_id  # Discord gives the thread its starter message's id
    h.feed("THREAD_CREATE", _thread_payload(thread_id))
    return thread_id


def _thread_payload(thread_id: int) -> dict[str, Any]:
    """THREAD_CREATE as Discord sends it to the bot for the thread it opened on its post."""
    thread = load("guild_create")["threads"][0]
    thread.update(id=str(thread_id), parent_id=str(MENTORS), owner_id=str(BOT_ID))
    return {**thread, "newly_created": True}


def _in_thread(thread_id: int, text: str, author_id: int = MENTOR_ID) -> dict[str, Any]:
    return guild_message(
        text, mention_bot=False, channel_id=thread_id, author=user(author_id, "mara")
    )


def _relays(h: Harness) -> list[Call]:
    return [c for c in h.fake.channel_messages(CHANNEL_ID) if "A mentor" in c.body["content"]]


async def test_button_consent_post_thread_and_relay(
    start_bot: StartBot, mentor_bot: MakeBot
) -> None:
    h = await _start(start_bot, mentor_bot())

    post, answer = await _escalate(h, "named", note="I'm a physicist")

    assert f"<@{USER_ID}> asked for a mentor" in post.body["content"]
    assert COVERED in post.body["content"] and "I'm a physicist" in post.body["content"]
    thread_id = _thread_of(h, post)
    in_thread = "\n".join(c.body["content"] for c in h.fake.channel_messages(thread_id))
    assert "careerbot answered" in in_thread and "[1]" in in_thread  # answer and sources

    assert await h.send(_in_thread(thread_id, "Start with a small **project**.")) == "relayed"

    [relay] = _relays(h)
    assert relay.body["content"] == "A mentor (Mara) replied: Start with a small **project**."
    assert str(relay.body["message_reference"]["message_id"]) == answer["id"]  # under the answer
    assert h.fake.channel_messages(thread_id)[-1].body["content"] == MENTOR_RELAYED
    escalation = h.core.escalations.store.get(1)
    assert escalation is not None and escalation.status == "answered"


async def test_anonymous_hides_the_name(start_bot: StartBot, mentor_bot: MakeBot) -> None:
    h = await _start(start_bot, mentor_bot())

    post, _ = await _escalate(h, "anonymous")

    assert str(USER_ID) not in str(post.body) and "Ada" not in str(post.body)
    assert "Someone (anonymous) asked for a mentor" in post.body["content"]
    escalation = h.core.escalations.store.get(1)
    assert escalation is not None and escalation.shown_name is None


async def test_non_mentor_reply_is_not_relayed(start_bot: StartBot, mentor_bot: MakeBot) -> None:
    h = await _start(start_bot, mentor_bot())
    post, _ = await _escalate(h, "named")
    thread_id = _thread_of(h, post)

    outcome = await h.send(_in_thread(thread_id, "just give up", author_id=OTHER_USER_ID))

    assert outcome == "ignored:not-a-mentor"
    assert _relays(h) == []


async def test_two_instances_relay_a_reply_once(
    start_bot: StartBot, mentor_bot: MakeBot, db_url: str
) -> None:
    a = await _start(start_bot, mentor_bot(database_url=db_url))
    b = await _start(start_bot, mentor_bot(database_url=db_url))
    post, _ = await _escalate(a, "named")
    thread_id = _thread_of(a, post)
    b.feed("THREAD_CREATE", _thread_payload(thread_id))
    reply = _in_thread(thread_id, "Go to EAG.")

    a.feed("MESSAGE_CREATE", reply)
    b.feed("MESSAGE_CREATE", reply)
    outcomes = [*await a.outcomes(int(reply["id"])), *await b.outcomes(int(reply["id"]))]

    assert sorted(outcomes) == ["ignored:duplicate", "relayed"]
    assert len(_relays(a)) == 1


async def test_add_to_knowledge_context_menu(start_bot: StartBot, mentor_bot: MakeBot) -> None:
    h = await _start(start_bot, mentor_bot())
    post, _ = await _escalate(h, "named")
    thread_id = _thread_of(h, post)
    reply = _in_thread(thread_id, "Read the MATS alumni posts, then pick one project.")
    assert await h.send(reply) == "relayed"

    async def add(by: int, target: dict[str, Any]) -> Call:
        payload = _interaction(
            2,
            {
                "id": str(snowflake()),
                "name": ADD_TO_KNOWLEDGE,
                "type": 3,
                "guild_id": str(GUILD_ID),
                "target_id": target["id"],
                "resolved": {"messages": {target["id"]: target}},
            },
        )
        payload["member"]["user"] = user(by, "someone")
        await h.command(payload)
        calls = _callbacks(h, payload) + h.fake.followups(payload["token"])
        return calls[-1]

    refused = await add(OTHER_USER_ID, reply)
    assert "Only careerbot mentors and admins" in refused.content
    not_relayed = await add(MENTOR_ID, guild_message("hi", mention_bot=False, channel_id=thread_id))
    assert "isn't a mentor reply" in not_relayed.content
    saved = await add(MENTOR_ID, reply)
    assert "Saved for review as" in saved.content

    review_dir = h.core.escalations.review_dir
    [doc] = load_knowledge(review_dir)  # the loader that reads knowledge/
    assert doc.title == f"Mentor answer: {COVERED}"
    assert doc.url == f"https://discord.com/channels/{GUILD_ID}/{thread_id}/{reply['id']}"
    assert "pick one project" in doc.body


async def test_no_button_without_a_mentors_channel(
    start_bot: StartBot, mentor_bot: MakeBot
) -> None:
    h = await start_bot(mentor_bot())
    assert await h.send(guild_message(COVERED)) == "answered"
    [reply] = h.fake.channel_messages(CHANNEL_ID)
    buttons = [
        b["custom_id"] for row in reply.body.get("components", []) for b in row["components"]
    ]
    assert not [b for b in buttons if b.startswith(MENTOR_BUTTON_PREFIX)]
    # Only 👍/👎 and the suggested questions.
    assert all(b.startswith(("careerbot:fb:", "careerbot:suggest:")) for b in buttons)
    assert h.core.store.kept_answer("x") is None


async def test_an_unreachable_mentors_channel_is_one_line_and_keeps_nothing(
    start_bot: StartBot, mentor_bot: MakeBot
) -> None:
    h = await _start(start_bot, mentor_bot())
    h.fake.forbidden_channels.add(MENTORS)

    told, _ = await _consent(h, "named")

    assert told.content == MENTORS_UNREACHABLE and told.flags & EPHEMERAL
    assert h.core.escalations.store.get(1) is None  # the asker may try again later
