"""'Ask a mentor' on Slack: real bolt apps over real CareerBots against the fake Slack Web API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.render_slack import (
    ACTION_ASK_MENTOR,
    CONSENT_ACTION,
    CONSENT_BLOCK,
    MENTOR_BLOCK_ID,
    MENTOR_RELAYED_TEXT,
    NOTE_ACTION,
    NOTE_BLOCK,
    SHARE_ANONYMOUS,
    SHARE_NAMED,
    SHORTCUT_ADD_TO_KNOWLEDGE,
    VIEW_MENTOR_CONSENT,
)
from bot.knowledge import load_knowledge
from bot.review import accept
from bot.service import CareerBot
from tests import test_slack_app
from tests.slack_fake import TEAM_ID, Call, action_request, event_payload, load_fixture
from tests.test_slack_app import ADMIN, ALICE, BOB, CHANNEL, MENTION_TS, QUESTION, MakeSlack, Slack

fake_slack = test_slack_app.fake_slack
make_slack = test_slack_app.make_slack

MakeBot = Callable[..., CareerBot]
MENTORS = "C0MENTORS01"
MENTOR = "U0MENTOR001"


@pytest.fixture
def mentor_bot(
    make_careerbot: Callable[..., CareerBot], tmp_path: Path
) -> Callable[..., CareerBot]:
    """A CareerBot whose review folder is under tmp_path (never the working directory)."""

    def make(**overrides: Any) -> CareerBot:
        return make_careerbot(mentors={"review_dir": tmp_path / "review"}, **overrides)

    return make


def _mentor_slack(make_slack: MakeSlack, bot: CareerBot) -> Slack:
    return make_slack(bot=bot, mentors_channel=MENTORS, mentor_user_ids=frozenset({MENTOR}))


def _mentor_button(call: Call) -> dict[str, Any]:
    block = next(b for b in call.blocks if b.get("block_id") == MENTOR_BLOCK_ID)
    [button] = block["elements"]
    assert button["action_id"] == ACTION_ASK_MENTOR
    return dict(button)


async def _submit(
    slack: Slack, view: dict[str, Any], choice: str, note: str = "", user: str = ALICE
) -> None:
    """What Slack sends when the asker presses "Send to mentors" in the consent modal."""
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "careerbot-test"},
        "user": {"id": user, "username": "alice", "name": "alice", "team_id": TEAM_ID},
        "api_app_id": "A0CAREERAPP",
        "token": "verification-token-unused",
        "trigger_id": "1700000800.123.abcdef",
        "view": {
            "id": "V0CONSENT01",
            "team_id": TEAM_ID,
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "blocks": view["blocks"],
            "state": {
                "values": {
                    CONSENT_BLOCK: {
                        CONSENT_ACTION: {
                            "type": "radio_buttons",
                            "selected_option": {"value": choice},
                        }
                    },
                    NOTE_BLOCK: {NOTE_ACTION: {"type": "plain_text_input", "value": note}},
                }
            },
        },
    }
    response = await slack.deliver(*action_request(payload))
    assert response.status == 200, response.body


def _view(opened: Call) -> dict[str, Any]:
    view = opened.params["view"]
    return dict(json.loads(view) if isinstance(view, str) else view)


async def _escalate(slack: Slack, choice: str, note: str = "") -> Call:
    """Mention → answer → "Ask a mentor" → consent modal → submit; returns the mentors' post."""
    await slack.event(load_fixture("app_mention"))
    [answer] = slack.answers()
    button = _mentor_button(answer)
    await slack.click("block_actions_feedback", button["value"], action_id=ACTION_ASK_MENTOR)
    [opened] = slack.fake.calls_to("views.open")
    view = _view(opened)
    assert view["callback_id"] == VIEW_MENTOR_CONSENT
    assert opened.params["trigger_id"] == "1700000600.123.abcdef"
    options = view["blocks"][1]["element"]["options"]
    assert [o["text"]["text"] for o in options] == ["Share with my name", "Share anonymously"]
    assert view["close"]["text"] == "Cancel"
    assert not [c for c in slack.posted() if c.params["channel"] == MENTORS]  # nothing yet
    await _submit(slack, view, choice, note)
    [post] = [c for c in slack.posted() if c.params["channel"] == MENTORS]
    return post


def _mentor_says(text: str, *, post: Call, ts: str, user: str = MENTOR) -> dict[str, Any]:
    return event_payload(
        "message_thread_reply",
        event_id=f"Ev{ts.replace('.', '')}",
        channel=MENTORS,
        thread_ts=post.response["ts"],
        ts=ts,
        event_ts=ts,
        user=user,
        text=text,
        user_profile={"display_name": "Dr Mentor", "real_name": "Mara Mentor"},
    )


def _relays(slack: Slack) -> list[Call]:
    return [c for c in slack.posted() if c.params["channel"] == CHANNEL and "mentor" in c.text]


async def test_button_consent_post_and_relay_back_to_the_thread(
    make_slack: MakeSlack, mentor_bot: MakeBot
) -> None:
    slack = _mentor_slack(make_slack, mentor_bot())

    post = await _escalate(slack, SHARE_NAMED, note="I'm switching from biology")

    shown = post.all_text()
    assert f"<@{ALICE}> asked for a mentor" in shown
    assert QUESTION in shown and "I'm switching from biology" in shown
    assert "*Sources*  [1] " in shown  # the bot's sources travel with the question
    [sent] = slack.fake.calls_to("chat.postEphemeral")
    assert sent.params["user"] == ALICE and sent.params["channel"] == CHANNEL
    assert "Sent to the mentors" in sent.text
    [escalation] = [slack.bot.escalations.store.get(1)]
    assert escalation is not None and escalation.status == "open"
    assert escalation.shown_name == "alice"

    await slack.event(_mentor_says("Apply to *MATS* and write up a project.", post=post, ts="1"))

    [relay] = _relays(slack)
    assert relay.params["thread_ts"] == MENTION_TS  # back in the asker's thread
    assert relay.text.startswith("A mentor (Dr Mentor) replied: Apply to *MATS*")
    assert "*MATS*" in relay.section_texts()[0]
    confirm = [c for c in slack.posted() if c.params["channel"] == MENTORS][-1]
    assert (
        confirm.params["thread_ts"] == post.response["ts"] and confirm.text == MENTOR_RELAYED_TEXT
    )
    assert slack.bot.escalations.store.get(1).status == "answered"  # type: ignore[union-attr]

    await slack.event(_mentor_says("Also: talk to people at EAG.", post=post, ts="2"))
    assert len(_relays(slack)) == 2  # later replies are relayed too


async def test_anonymous_hides_the_name_from_mentors(
    make_slack: MakeSlack, mentor_bot: MakeBot
) -> None:
    slack = _mentor_slack(make_slack, mentor_bot())

    post = await _escalate(slack, SHARE_ANONYMOUS)

    shown = json.dumps(post.params)
    assert ALICE not in shown and "alice" not in shown
    assert "Someone (anonymous) asked for a mentor" in post.all_text()
    escalation = slack.bot.escalations.store.get(1)
    assert escalation is not None and escalation.shown_name is None


async def test_non_mentor_reply_and_chatter_are_not_relayed(
    make_slack: MakeSlack, mentor_bot: MakeBot
) -> None:
    slack = _mentor_slack(make_slack, mentor_bot())
    post = await _escalate(slack, SHARE_NAMED)

    await slack.event(_mentor_says("I think you should give up.", post=post, ts="3", user=BOB))
    top_level = event_payload(
        "message_channel", event_id="Ev0TOPLEVEL1", channel=MENTORS, user=MENTOR, text="hello"
    )
    await slack.event(top_level)

    assert _relays(slack) == []
    assert slack.bot.escalations.store.get(1).status == "open"  # type: ignore[union-attr]


async def test_two_replicas_relay_a_mentor_reply_once(
    make_slack: MakeSlack, mentor_bot: MakeBot, db_url: str
) -> None:
    a = _mentor_slack(make_slack, mentor_bot(database_url=db_url))
    b = _mentor_slack(make_slack, mentor_bot(database_url=db_url))
    post = await _escalate(a, SHARE_NAMED)
    reply = _mentor_says("Talk to your local AI safety group.", post=post, ts="4")
    as_redelivery = {**reply, "event_id": "Ev0OTHERID01"}  # the claim is the message, not event

    await asyncio.gather(a.event(reply), b.event(as_redelivery))

    assert len(_relays(a)) == 1


async def test_a_second_escalation_of_the_same_answer_is_refused(
    make_slack: MakeSlack, mentor_bot: MakeBot
) -> None:
    slack = _mentor_slack(make_slack, mentor_bot())
    post = await _escalate(slack, SHARE_NAMED)
    [opened] = slack.fake.calls_to("views.open")

    await _submit(slack, _view(opened), SHARE_ANONYMOUS)

    assert [c for c in slack.posted() if c.params["channel"] == MENTORS] == [post]
    assert "already sent" in slack.fake.calls_to("chat.postEphemeral")[-1].text


async def test_add_to_knowledge_shortcut_saves_a_valid_file_and_accept_moves_it(
    make_slack: MakeSlack, mentor_bot: MakeBot
) -> None:
    slack = _mentor_slack(make_slack, mentor_bot())
    post = await _escalate(slack, SHARE_NAMED)
    await slack.event(_mentor_says("Do a small project first.", post=post, ts="5"))

    async def shortcut(user: str, ts: str = "5") -> Call:
        payload = {
            "type": "message_action",
            "callback_id": SHORTCUT_ADD_TO_KNOWLEDGE,
            "trigger_id": "1700000900.123.abcdef",
            "team": {"id": TEAM_ID, "domain": "careerbot-test"},
            "user": {"id": user, "name": "someone"},
            "channel": {"id": MENTORS, "name": "mentors"},
            "message_ts": ts,
            "message": {"type": "message", "user": MENTOR, "text": "x", "ts": ts},
            "response_url": slack.fake.response_url("shortcut"),
        }
        response = await slack.deliver(*action_request(payload))
        assert response.status == 200, response.body
        return slack.fake.calls_to("response_url")[-1]

    refused = await shortcut(BOB)
    assert "Only careerbot mentors and admins" in refused.text
    not_a_reply = await shortcut(ADMIN, ts="99")
    assert "isn't a mentor reply" in not_a_reply.text
    saved = await shortcut(MENTOR)
    assert "Saved for review as" in saved.text

    review_dir = slack.bot.escalations.review_dir
    [path] = list(review_dir.glob("*.md"))
    [doc] = load_knowledge(review_dir)  # the same loader that reads knowledge/
    assert doc.title == f"Mentor answer: {QUESTION}"
    assert doc.author == "careerbot mentor"  # mentors are not named unless configured
    assert doc.url is None  # the fake has no chat.getPermalink; the file is still valid
    assert "Do a small project first." in doc.body and QUESTION in doc.body

    knowledge = slack.bot.knowledge_dir
    accept(review_dir, knowledge, path.name)
    assert not path.exists() and (knowledge / path.name).is_file()
    report = await slack.bot.reload()
    assert report.changed and doc.title in report.changed_documents


async def test_unknown_answer_and_unreachable_mentors_channel_are_one_line(
    make_slack: MakeSlack, mentor_bot: MakeBot
) -> None:
    slack = _mentor_slack(make_slack, mentor_bot())
    await slack.event(load_fixture("app_mention"))
    button = _mentor_button(slack.answers()[0])
    await slack.click("block_actions_feedback", button["value"], action_id=ACTION_ASK_MENTOR)
    view = _view(slack.fake.calls_to("views.open")[0])

    expired = dict(view, private_metadata=json.dumps({"a": "gone", "c": CHANNEL, "n": CHANNEL}))
    await _submit(slack, expired, SHARE_NAMED)
    assert "no longer have that answer" in slack.fake.calls_to("chat.postEphemeral")[-1].text

    slack.fake.fail_next("chat.postMessage", "channel_not_found")
    await _submit(slack, view, SHARE_NAMED)
    assert (
        "couldn't reach the mentors' channel" in slack.fake.calls_to("chat.postEphemeral")[-1].text
    )
    assert slack.bot.escalations.store.get(1) is None  # nothing kept: the asker may try again

    await _submit(slack, view, SHARE_NAMED)
    assert [c.params["channel"] for c in slack.posted()][-1] == MENTORS
    assert "Sent to the mentors" in slack.fake.calls_to("chat.postEphemeral")[-1].text


async def test_private_ask_answer_is_relayed_to_the_askers_dm(
    make_slack: MakeSlack, mentor_bot: MakeBot
) -> None:
    slack = _mentor_slack(make_slack, mentor_bot())
    await slack.command(f"ask {QUESTION}")
    [private] = slack.fake.calls_to("response_url")
    button = _mentor_button(private)

    await slack.click("block_actions_share", button["value"], action_id=ACTION_ASK_MENTOR)
    view = _view(slack.fake.calls_to("views.open")[0])
    await _submit(slack, view, SHARE_ANONYMOUS)
    [post] = [c for c in slack.posted() if c.params["channel"] == MENTORS]
    await slack.event(_mentor_says("Happy to chat.", post=post, ts="6"))

    [relay] = [c for c in slack.posted() if c.text.startswith("A mentor")]
    assert relay.params["channel"] == ALICE  # their DM with the bot, not the channel
    assert relay.params.get("thread_ts") is None


async def test_without_a_mentors_channel_there_is_no_button(make_slack: MakeSlack) -> None:
    slack = make_slack()
    await slack.event(load_fixture("app_mention"))
    [answer] = slack.answers()
    assert all(b.get("block_id") != MENTOR_BLOCK_ID for b in answer.blocks)
    await slack.click("block_actions_feedback", "any", action_id=ACTION_ASK_MENTOR)
    assert "Mentors aren't set up here" in slack.fake.calls_to("response_url")[-1].all_text()
    assert slack.fake.calls_to("views.open") == []


async def test_a_mentor_mentioning_the_bot_in_the_thread_is_relayed_not_answered(
    make_slack: MakeSlack, mentor_bot: MakeBot
) -> None:
    slack = _mentor_slack(make_slack, mentor_bot())
    post = await _escalate(slack, SHARE_NAMED)
    before = len(slack.posted())
    text = "<@U0CAREERBOT> please tell them: MATS applications open in March."
    as_message = _mentor_says(text, post=post, ts="7")
    as_mention = event_payload(
        "app_mention",
        event_id="Ev0MENTORMENTION",
        channel=MENTORS,
        thread_ts=post.response["ts"],
        ts="7",
        event_ts="7",
        user=MENTOR,
        text=text,
    )

    await slack.event(as_mention)
    await slack.event(as_message)

    [relay] = _relays(slack)
    assert (
        relay.text
        == "A mentor (Dr Mentor) replied: please tell them: MATS applications open in March."
    )
    assert len(slack.posted()) == before + 2  # the relay and the ✅ line; no "Thinking…" answer
