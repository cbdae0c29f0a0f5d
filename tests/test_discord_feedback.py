"""Discord: persistent 👍/👎 buttons (also after a restart), the 👎 reason modal and `/report`,
with real discord.py objects built from gateway payloads against the fake REST API."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from bot.adapters.discord_bot import CareerDiscordBot
from tests import test_discord_bot
from tests.discord_fake import (
    CHANNEL_ID,
    EPHEMERAL,
    OTHER_CHANNEL_ID,
    OTHER_USER_ID,
    USER_ID,
    Call,
    guild_message,
    interaction,
    load,
    snowflake,
    user,
)
from tests.test_discord_bot import ADMIN_USER_ID, COVERED, Harness, StartBot

# The Discord harness's fixtures, shared with this module.
NOT_ADMIN = "only the bot's admins"
fake = test_discord_bot.fake
restore_endpoints = test_discord_bot.restore_endpoints
start_bot = test_discord_bot.start_bot

OFF_TOPIC = "What is a good recipe for sourdough bread with rye flour?"


def _component_payload(
    message: dict[str, Any], custom_id: str, *, user_id: int = USER_ID
) -> dict[str, Any]:
    """An INTERACTION_CREATE for a button click on `message` (type 3, component type 2)."""
    data = load("interaction_create_guild_command")
    data.update(id=str(snowflake()), token=f"interaction-token-{snowflake()}", type=3)
    data["member"]["user"] = user(user_id, "ada" if user_id == USER_ID else f"user{user_id}")
    data["message"] = message
    data["data"] = {"custom_id": custom_id, "component_type": 2}
    return data


def _modal_submit(
    custom_id: str, *, reason: str | None, text: str, user_id: int = USER_ID
) -> dict[str, Any]:
    """An INTERACTION_CREATE for a submitted modal (type 5): a select and a text input."""
    data = load("interaction_create_guild_command")
    data.update(id=str(snowflake()), token=f"interaction-token-{snowflake()}", type=5)
    data["member"]["user"] = user(user_id, "ada" if user_id == USER_ID else f"user{user_id}")
    data["data"] = {
        "custom_id": custom_id,
        "components": [
            {
                "type": 18,
                "id": 1,
                "component": {
                    "type": 3,
                    "id": 2,
                    "custom_id": "reason",
                    "values": [reason] if reason else [],
                },
            },
            {
                "type": 18,
                "id": 3,
                "component": {"type": 4, "id": 4, "custom_id": "details", "value": text},
            },
        ],
    }
    return data


async def _answer(h: Harness, question: str = COVERED) -> tuple[dict[str, Any], list[str]]:
    """Ask in the channel; the bot message carrying the buttons and its custom_ids."""
    assert await h.send(guild_message(question)) in ("answered", "not-covered")
    with_buttons = [c for c in h.fake.channel_messages(CHANNEL_ID) if c.body.get("components")]
    assert len(with_buttons) == 1, "only the answer's last message carries the buttons"
    call: Call = with_buttons[0]
    sent = next(
        m for m in reversed(h.fake.created.values()) if m["content"] == call.body["content"]
    )
    message = copy.deepcopy(sent)
    message["components"] = call.body["components"]
    ids = [b["custom_id"] for row in call.body["components"] for b in row["components"]]
    return message, [i for i in ids if i.startswith("careerbot:fb:")]  # not the suggestions


async def _click(h: Harness, payload: dict[str, Any]) -> Call:
    h.feed("INTERACTION_CREATE", payload)
    return await h.fake.wait_for(lambda c: c.path.startswith(f"/interactions/{payload['id']}/"))


async def _modal_shown(h: Harness, custom_id: str) -> None:
    """Wait until discord.py has registered the modal it sent (it does so after Discord's
    reply to the callback, as a person can only submit a modal they have been shown)."""
    store = h.bot._connection._view_store
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while custom_id not in store._modals:
        assert loop.time() < deadline, f"modal {custom_id} was never registered"
        await asyncio.sleep(0.01)


async def test_answers_carry_persistent_buttons_and_a_click_is_stored_with_the_question(
    start_bot: StartBot,
) -> None:
    h = await start_bot()
    message, (up, down) = await _answer(h)
    answer_id = up.rsplit(":", 1)[1]
    assert up == f"careerbot:fb:up:{answer_id}" and down == f"careerbot:fb:down:{answer_id}"

    response = await _click(h, _component_payload(message, up))
    assert response.body["type"] == 4 and response.flags & EPHEMERAL
    assert "Thanks — noted" in response.content
    (vote,) = h.core.store.feedback_for(answer_id)
    assert (vote.user, vote.platform, vote.helpful) == (str(USER_ID), "discord", True)
    assert vote.question == COVERED and vote.answer
    assert not [c for c in h.fake.calls if c.path.endswith("/messages") and "Thanks" in c.content]


async def test_a_new_bot_instance_handles_a_click_on_an_old_answer(start_bot: StartBot) -> None:
    first = await start_bot()
    message, (up, down) = await _answer(first)
    answer_id = up.rsplit(":", 1)[1]
    await _click(first, _component_payload(message, up))

    restarted = await start_bot(core=first.core)  # empty view store: only setup_hook's items
    assert isinstance(restarted.bot, CareerDiscordBot) and restarted.bot is not first.bot
    response = await _click(restarted, _component_payload(message, down))
    assert response.body["type"] == 9  # the reason form, as the response to the 👎 click
    (vote,) = first.core.store.feedback_for(answer_id)  # replaced, not added
    assert vote.helpful is False


async def test_a_thumbs_down_opens_the_reason_modal_and_its_submission_is_stored(
    start_bot: StartBot,
) -> None:
    h = await start_bot()
    message, (_up, down) = await _answer(h)
    answer_id = down.rsplit(":", 1)[1]

    opened = await _click(h, _component_payload(message, down, user_id=OTHER_USER_ID))
    assert opened.body["type"] == 9
    modal = opened.body["data"]
    labels = [row["component"] for row in modal["components"]]
    select, details = labels
    assert [o["value"] for o in select["options"]] == [
        "wrong",
        "off-topic",
        "missing",
        "outdated",
        "other",
    ]
    assert select["required"] is False and details["required"] is False
    (vote,) = h.core.store.feedback_for(answer_id)
    assert (vote.user, vote.helpful, vote.reason) == (str(OTHER_USER_ID), False, None)

    await _modal_shown(h, modal["custom_id"])
    submitted = await _click(
        h,
        _modal_submit(
            modal["custom_id"], reason="wrong", text="Cites the wrong post", user_id=OTHER_USER_ID
        ),
    )
    assert submitted.body["type"] == 4 and submitted.flags & EPHEMERAL
    assert "Thanks — noted" in submitted.content
    (vote,) = h.core.store.feedback_for(answer_id)
    assert (vote.reason, vote.reason_text) == ("wrong", "Cites the wrong post")


async def test_a_click_on_a_forgotten_answer_is_one_line_and_stores_nothing(
    start_bot: StartBot,
) -> None:
    h = await start_bot()
    message, (up, _down) = await _answer(h)
    answer_id = up.rsplit(":", 1)[1]
    await h.core.forget_user("discord", str(USER_ID))  # the asker deleted their data

    response = await _click(h, _component_payload(message, up, user_id=OTHER_USER_ID))
    assert response.flags & EPHEMERAL and "\n" not in response.content.strip()
    assert "can't find that answer" in response.content
    assert h.core.store.feedback_for(answer_id) == []


async def test_report_is_refused_to_members_and_shown_to_admins(start_bot: StartBot) -> None:
    h = await start_bot()
    await _answer(h, OFF_TOPIC)

    refused = interaction("report")
    await h.command(refused)
    (callback,) = h.fake.callbacks(refused["id"])
    assert callback.flags & EPHEMERAL and NOT_ADMIN in callback.content

    shown = interaction("report", {"since": "24h"}, user_id=ADMIN_USER_ID)
    await h.command(shown)
    followups = h.fake.followups(shown["token"])
    assert followups and all(f.flags & EPHEMERAL for f in followups)
    text = "".join(f.content for f in followups)
    assert "Knowledge-gap report" in text and "Declined questions" in text
    assert "sourdough" in text

    bad = interaction("report", {"since": "someday"}, user_id=ADMIN_USER_ID)
    await h.command(bad)
    (line,) = h.fake.followups(bad["token"])
    assert "7d" in line.content and "\n" not in line.content.strip()


async def test_the_weekly_report_is_posted_to_the_configured_channel(
    start_bot: StartBot,
) -> None:
    h = await start_bot()
    await _answer(h, OFF_TOPIC)
    before = len(h.fake.channel_messages(OTHER_CHANNEL_ID))
    post = h.bot.report_poster(str(OTHER_CHANNEL_ID))

    assert await h.core.post_weekly_report(post)
    assert not await h.core.post_weekly_report(post)  # same week: claimed already

    posted = h.fake.channel_messages(OTHER_CHANNEL_ID)[before:]
    assert posted and "Knowledge-gap report" in posted[0].content
    assert "sourdough" in "".join(p.content for p in posted)
