"""Suggested-question buttons on Slack: a click asks it in the same conversation, as the clicker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bot.adapters.render_slack import (
    ACTION_SUGGEST_PREFIX,
    ASSISTANT_GREETING,
    ASSISTANT_PROMPTS_TITLE,
    ASSISTANT_STATUS,
    BUTTON_TEXT_LIMIT,
    SUGGESTIONS_BLOCK_ID,
    THINKING_TEXT,
    suggestions_block,
)
from bot.adapters.slack_app import dm_key, thread_key
from bot.models import Suggestion
from bot.service import CareerBot
from tests import test_slack_app
from tests.openai_fake import Reply, serve_fake
from tests.slack_fake import BOT_USER_ID, TEAM_ID, Call, action_request, event_payload, load_fixture
from tests.test_slack_app import BOB, CHANNEL, MENTION_TS, MakeSlack, Slack

fake_slack = test_slack_app.fake_slack
make_slack = test_slack_app.make_slack

PHD = "Should I do a PhD?"


def suggestion_buttons(call: Call) -> list[dict[str, Any]]:
    block = next(b for b in call.blocks if b.get("block_id") == SUGGESTIONS_BLOCK_ID)
    return list(block["elements"])


async def click(
    slack: Slack,
    button: dict[str, Any],
    *,
    user: str,
    channel: str,
    message_ts: str,
    thread_ts: str | None,
) -> None:
    payload = load_fixture("block_actions_suggestion")
    payload["user"]["id"] = user
    payload["response_url"] = slack.fake.response_url("action")
    payload["channel"]["id"] = channel
    payload["container"].update(channel_id=channel, message_ts=message_ts)
    payload["message"]["ts"] = message_ts
    for part in (payload["container"], payload["message"]):
        part.pop("thread_ts", None)
        if thread_ts:
            part["thread_ts"] = thread_ts
    payload["actions"][0].update(
        action_id=button["action_id"], value=button["value"], text=button["text"]
    )
    response = await slack.deliver(*action_request(payload))
    assert response.status == 200, response.body


async def test_clicking_a_suggestion_asks_it_in_the_same_thread_as_the_clicker(
    make_slack: MakeSlack,
) -> None:
    slack = make_slack()
    await slack.event(event_payload("app_mention", text=f"<@{BOT_USER_ID}> {PHD}"))
    [first] = slack.answers()
    buttons = suggestion_buttons(first)
    assert [b["action_id"] for b in buttons] == [f"{ACTION_SUGGEST_PREFIX}{i}" for i in range(3)]
    assert [b["value"] for b in buttons] == [
        "Should I upskill?",
        "What level of AI/ML experience do I need?",
        "What level of general programming skills do I need?",
    ]
    assert all(len(b["text"]["text"]) <= BUTTON_TEXT_LIMIT for b in buttons)

    # Bob, not the first asker, clicks the first suggestion under the answer in the thread.
    await click(
        slack,
        buttons[0],
        user=BOB,
        channel=CHANNEL,
        message_ts=first.params["ts"],
        thread_ts=MENTION_TS,
    )

    echo, placeholder = slack.posted()[-2:]
    assert echo.params["thread_ts"] == MENTION_TS and echo.params["channel"] == CHANNEL
    assert echo.text == f"<@{BOB}> asked: Should I upskill?"
    assert placeholder.text == THINKING_TEXT and placeholder.params["thread_ts"] == MENTION_TS
    second = slack.answers()[-1]
    assert second.params["ts"] == placeholder.response["ts"]
    assert "Sources" in second.all_text()
    key = thread_key(TEAM_ID, CHANNEL, MENTION_TS)
    history = slack.bot.store.history(key, 10)
    assert [t.text for t in history if t.role == "user"] == [PHD, "Should I upskill?"]
    # The follow-up read the earlier turn: the question asked before is not offered again.
    offered = [b["value"] for b in suggestion_buttons(second)]
    assert offered and PHD not in offered and "Should I upskill?" not in offered


async def test_a_suggestion_clicked_in_a_dm_continues_the_dm_conversation(
    make_slack: MakeSlack,
) -> None:
    slack = make_slack()
    await slack.event(load_fixture("message_im"))
    [first] = slack.answers()
    button = suggestion_buttons(first)[0]

    await click(
        slack,
        button,
        user=BOB,
        channel="D0BOBDM0001",
        message_ts=first.params["ts"],
        thread_ts=None,
    )

    echo = slack.posted()[-2]
    assert echo.params["channel"] == "D0BOBDM0001" and echo.params.get("thread_ts") is None
    assert echo.text == f"<@{BOB}> asked: {button['value']}"
    history = slack.bot.store.history(dm_key(TEAM_ID, BOB), 10)
    assert [t.role for t in history] == ["user", "assistant", "user", "assistant"]
    assert history[2].text == button["value"]


async def test_a_click_without_question_text_gets_one_line_and_asks_nothing(
    make_slack: MakeSlack,
) -> None:
    slack = make_slack()
    button = {"action_id": f"{ACTION_SUGGEST_PREFIX}0", "value": "   ", "text": {}}
    await click(slack, button, user=BOB, channel=CHANNEL, message_ts=MENTION_TS, thread_ts=None)
    [reply] = slack.fake.calls_to("response_url")
    assert reply.params["response_type"] == "ephemeral"
    assert "Please ask again" in reply.text
    assert slack.posted() == [] and slack.answers() == []


# --- the AI-app surface (bolt's Assistant) -------------------------------------------------------

ASSISTANT_DM = "D0BOBDM0001"
ASSISTANT_THREAD = "1700000300.000100"


async def test_assistant_thread_start_sets_starter_prompts(make_slack: MakeSlack) -> None:
    slack = make_slack(assistant=True)
    await slack.event(load_fixture("assistant_thread_started"))

    [greeting] = slack.posted()
    assert greeting.params["channel"] == ASSISTANT_DM
    assert greeting.params["thread_ts"] == ASSISTANT_THREAD
    assert greeting.text == ASSISTANT_GREETING
    [prompts] = slack.fake.calls_to("assistant.threads.setSuggestedPrompts")
    assert prompts.params["channel_id"] == ASSISTANT_DM
    assert prompts.params["thread_ts"] == ASSISTANT_THREAD
    assert prompts.params["title"] == ASSISTANT_PROMPTS_TITLE
    offered = prompts.params["prompts"]
    assert [p["message"] for p in offered] == [
        "What do the posts say about general mindset?",
        "What do the posts say about soft skills?",
        "What kind of general research skills do I need?",
        "What do the posts say about tangible outcomes?",
    ]
    assert all(p["title"] == p["message"] for p in offered)


async def test_assistant_message_is_answered_in_its_thread_with_a_status(
    make_slack: MakeSlack,
) -> None:
    slack = make_slack(assistant=True)
    await slack.event(load_fixture("assistant_thread_started"))
    await slack.event(load_fixture("message_assistant_thread"))

    [status] = slack.fake.calls_to("assistant.threads.setStatus")
    assert status.params["status"] == ASSISTANT_STATUS
    assert status.params["channel_id"] == ASSISTANT_DM
    assert status.params["thread_ts"] == ASSISTANT_THREAD
    methods = [c.method for c in slack.fake.calls]
    # The status shows before the answer is posted.
    assert methods.index("assistant.threads.setStatus") < methods.index("chat.update")
    placeholder = slack.posted()[-1]
    assert placeholder.params["thread_ts"] == ASSISTANT_THREAD
    [answer] = slack.answers()
    assert answer.params["ts"] == placeholder.response["ts"]
    assert "Sources" in answer.all_text()
    key = thread_key(TEAM_ID, ASSISTANT_DM, ASSISTANT_THREAD)
    assert slack.bot.store.history(key, 10)[0].text == PHD

    # A suggestion under the answer continues the assistant thread, not the plain DM.
    button = suggestion_buttons(answer)[0]
    await click(
        slack,
        button,
        user=BOB,
        channel=ASSISTANT_DM,
        message_ts=answer.params["ts"],
        thread_ts=ASSISTANT_THREAD,
    )
    history = slack.bot.store.history(key, 10)
    assert [t.text for t in history if t.role == "user"] == [PHD, button["value"]]
    assert slack.bot.store.history(dm_key(TEAM_ID, BOB), 10) == []


async def test_without_the_setting_assistant_events_are_left_alone(make_slack: MakeSlack) -> None:
    slack = make_slack()
    await slack.event(load_fixture("assistant_thread_started"))  # acknowledged with 200
    assert slack.fake.calls_to("assistant.threads.setSuggestedPrompts") == []
    assert slack.posted() == []


async def test_assistant_llm_answer_streams_into_the_thread_then_the_answer_replaces_it(
    make_slack: MakeSlack, make_careerbot: Callable[..., CareerBot]
) -> None:
    async with serve_fake() as model:
        good = "George Wang suggests treating burnout like an overuse injury [1][2][3][4][5]."
        reply = Reply(f"{good} {good}", pause_after=11)
        model.queue(reply)
        bot = make_careerbot(
            llm={"model": "openai:m", "base_url": model.url, "api_key": "k", "max_retries": 0}
        )
        slack = make_slack(bot=bot, assistant=True, stream_interval=0.0)
        message = load_fixture("message_assistant_thread")
        message["event"]["text"] = "How do I deal with burnout?"
        answering = asyncio.create_task(slack.event(message))
        # The model pauses after its first sentence: the thread shows it before the end.
        await slack.fake.wait_for(lambda f: len(f.calls_to("chat.update")) >= 1)
        reply.resume.set()
        await answering

    assert slack.fake.calls_to("assistant.threads.setStatus")
    *partials, final = slack.answers()
    assert partials and partials[0].section_texts()[0].endswith("…")
    assert all(c.params["ts"] == final.params["ts"] for c in partials)
    assert final.params["channel"] == ASSISTANT_DM
    assert not final.section_texts()[0].endswith("…")
    assert model.requests[0]["body"]["stream"] is True


def test_long_suggestions_are_cut_on_the_button_but_asked_whole() -> None:
    long = "What do the posts say about " + "very " * 20 + "long headings?"
    block = suggestions_block([Suggestion(long, "0" * 16), Suggestion("Short?", "1" * 16)])
    assert block is not None and block["block_id"] == SUGGESTIONS_BLOCK_ID
    first, second = block["elements"]
    assert len(first["text"]["text"]) == BUTTON_TEXT_LIMIT and first["text"]["text"].endswith("…")
    assert first["value"] == long
    assert second["action_id"] == f"{ACTION_SUGGEST_PREFIX}1" and second["value"] == "Short?"
    assert suggestions_block([]) is None


async def test_a_huge_clicked_value_is_echoed_short_and_answered_with_a_notice(
    make_slack: MakeSlack,
) -> None:
    slack = make_slack()
    huge = "How do I get started in AI safety research? " * 60  # a forged 2,640-char value
    button = {"action_id": f"{ACTION_SUGGEST_PREFIX}0", "value": huge, "text": {}}
    await click(slack, button, user=BOB, channel=CHANNEL, message_ts=MENTION_TS, thread_ts=None)
    echo = slack.posted()[0]
    assert echo.params["thread_ts"] == MENTION_TS  # a top-level answer's thread is itself
    assert echo.text.startswith(f"<@{BOB}> asked: How do I") and len(echo.text) < 340
    [answer] = slack.answers()
    assert "first 2,000 characters" in answer.all_text()
