"""Two Slack app replicas (real bolt AsyncApps, one fake Slack) sharing one database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.adapters.render_slack import ACTION_SHARE
from bot.service import CareerBot
from tests import test_slack_app
from tests.slack_fake import BOT_USER_ID, event_payload, load_fixture
from tests.test_slack_app import ALICE, BOB, QUESTION, MakeSlack, Slack, answer_id_of

# The Slack harness's fixtures, shared with this module.
fake_slack = test_slack_app.fake_slack
make_slack = test_slack_app.make_slack


def _replicas(
    make_slack: MakeSlack, make_careerbot: Callable[..., CareerBot], db_url: str
) -> tuple[Slack, Slack]:
    return (
        make_slack(bot=make_careerbot(database_url=db_url)),
        make_slack(bot=make_careerbot(database_url=db_url)),
    )


async def test_the_same_signed_event_to_two_replicas_is_answered_once(
    make_slack: MakeSlack, make_careerbot: Callable[..., CareerBot], db_url: str
) -> None:
    a, b = _replicas(make_slack, make_careerbot, db_url)
    payload = load_fixture("app_mention")

    await asyncio.gather(a.event(payload), b.event(payload))
    # Slack's retry of it reaches either replica later.
    await b.event(payload, **{"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"})

    assert len(a.posted()) == 1  # one fake Slack: every replica's calls are recorded there
    assert len(a.answers()) == 1


async def test_a_mention_delivered_as_two_events_to_two_replicas_is_answered_once(
    make_slack: MakeSlack, make_careerbot: Callable[..., CareerBot], db_url: str
) -> None:
    a, b = _replicas(make_slack, make_careerbot, db_url)
    dm = {"text": f"<@{BOT_USER_ID}> thanks, and MATS?", "channel": "D0BOBDM0001"}
    as_message = event_payload("message_im", event_id="Ev0TWICE0001", **dm)
    as_mention = event_payload(
        "app_mention",
        event_id="Ev0TWICE0002",
        user=BOB,
        ts=as_message["event"]["ts"],
        event_ts=as_message["event"]["ts"],
        **dm,
    )

    await asyncio.gather(a.event(as_message), b.event(as_mention))

    assert len(a.answers()) == 1


async def test_share_works_on_the_other_replica(
    make_slack: MakeSlack, make_careerbot: Callable[..., CareerBot], db_url: str
) -> None:
    a, b = _replicas(make_slack, make_careerbot, db_url)
    await a.command(f"ask {QUESTION}")
    [private] = a.fake.calls_to("response_url")
    share = next(b for b in private.blocks if b["type"] == "actions")["elements"][0]
    assert share["action_id"] == ACTION_SHARE

    await b.click("block_actions_share", share["value"])

    shared = b.fake.calls_to("response_url")[1]
    assert shared.params["response_type"] == "in_channel"
    assert f"<@{ALICE}> asked: {QUESTION}" in shared.all_text()
    assert shared.section_texts() == private.section_texts()


async def test_my_data_and_forget(make_slack: MakeSlack) -> None:
    slack = make_slack()
    await slack.event(load_fixture("message_im"))  # Bob's DM
    await slack.command(f"ask {QUESTION}", user=BOB)
    await slack.click("block_actions_feedback", answer_id_of(slack.answers()[0]), user=BOB)
    await slack.command(f"ask {QUESTION}", user=ALICE)

    await slack.command("my-data", user=BOB)
    kept = slack.fake.calls_to("response_url")[-1]
    assert kept.params["response_type"] == "ephemeral"
    assert "I keep 4 messages, 2 answer records, 1 feedback click and 1 shareable answer" in (
        kept.all_text()
    )

    await slack.command("forget", user=BOB)
    deleted = slack.fake.calls_to("response_url")[-1]
    assert "deleted 4 messages, 2 answer records, 1 feedback click and 1 shareable" in (
        deleted.all_text()
    )
    await slack.command("my-data", user=BOB)
    assert "I keep nothing about you" in slack.fake.calls_to("response_url")[-1].all_text()
    # Alice's data is untouched.
    await slack.command("my-data", user=ALICE)
    assert (
        "I keep 2 messages, 1 answer record" in slack.fake.calls_to("response_url")[-1].all_text()
    )
