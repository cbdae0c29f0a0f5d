"""Slack: the 👎 reason modal (views.open, view_submission) and the admin-only report, through
the real bolt app against the fake Slack Web API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.render_slack import ACTION_FEEDBACK_DOWN
from bot.adapters.slack_app import report_poster
from bot.service import CareerBot
from bot.settings import Settings
from bot.wiring import serve
from tests import test_slack_app
from tests.slack_fake import APP_TOKEN, BOT_TOKEN, FakeSlack, action_request, load_fixture
from tests.test_slack_app import (
    ADMIN,
    ALICE,
    BOB,
    CHANNEL,
    QUESTION,
    MakeSlack,
    Slack,
    ack_text,
    answer_id_of,
)

# The Slack harness's fixtures, shared with this module.
NOT_ADMIN = "only the bot's admins"
fake_slack = test_slack_app.fake_slack
make_slack = test_slack_app.make_slack


async def _answered(slack: Slack) -> str:
    await slack.event(load_fixture("app_mention"))
    return answer_id_of(slack.answers()[0])


async def _submit(slack: Slack, view: dict[str, Any], *, user: str, **values: Any) -> Any:
    payload = load_fixture("view_submission_feedback")
    payload["user"]["id"] = user
    payload["view"]["private_metadata"] = view["private_metadata"]
    state = payload["view"]["state"]["values"]
    if "reason" in values:
        choice = state["careerbot_reason"]["choice"]
        choice["selected_option"] = (
            None
            if values["reason"] is None
            else {**choice["selected_option"], "value": values["reason"]}
        )
    if "text" in values:
        state["careerbot_reason_text"]["text"]["value"] = values["text"]
    return await slack.deliver(*action_request(payload))


async def test_a_thumbs_down_opens_the_reason_modal_and_its_submission_attaches_the_reason(
    make_slack: MakeSlack,
) -> None:
    slack = make_slack()
    answer_id = await _answered(slack)

    await slack.click("block_actions_feedback", answer_id, action_id=ACTION_FEEDBACK_DOWN, user=BOB)

    (opened,) = slack.fake.calls_to("views.open")
    assert opened.params["trigger_id"] == "1700000600.123.abcdef"
    (noted,) = slack.fake.calls_to("response_url")  # the click's own ephemeral thanks
    assert noted.params["response_type"] == "ephemeral" and "Thanks — noted" in noted.text
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "modal" and view["callback_id"] == "careerbot_feedback_reason"
    choices = [o["value"] for o in view["blocks"][0]["element"]["options"]]
    assert choices == ["wrong", "off-topic", "missing", "outdated", "other"]
    assert all(b.get("optional") for b in view["blocks"] if b["type"] == "input")
    (vote,) = slack.bot.store.feedback_for(answer_id)  # the 👎 is stored before any reason
    assert (vote.user, vote.helpful, vote.reason) == (BOB, False, None)

    response = await _submit(slack, view, user=BOB)
    assert response.status == 200 and response.body == ""  # ack closes the modal

    (vote,) = slack.bot.store.feedback_for(answer_id)
    assert (vote.reason, vote.reason_text) == ("outdated", "The deadline passed last year.")
    assert vote.question == QUESTION
    (thanks,) = slack.fake.calls_to("chat.postEphemeral")
    assert thanks.params["user"] == BOB and thanks.params["channel"] == CHANNEL
    assert "Thanks — noted" in thanks.text
    assert all(m.params.get("user") == BOB for m in slack.fake.calls_to("chat.postEphemeral"))


async def test_a_thumbs_up_opens_no_modal_and_a_later_change_of_mind_replaces_the_vote(
    make_slack: MakeSlack,
) -> None:
    slack = make_slack()
    answer_id = await _answered(slack)
    await slack.click("block_actions_feedback", answer_id, user=BOB)
    assert slack.fake.calls_to("views.open") == []
    await slack.click("block_actions_feedback", answer_id, action_id=ACTION_FEEDBACK_DOWN, user=BOB)
    (opened,) = slack.fake.calls_to("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    await _submit(slack, view, user=BOB, reason="missing", text="")
    (vote,) = slack.bot.store.feedback_for(answer_id)
    assert (vote.helpful, vote.reason, vote.reason_text) == (False, "missing", "")


async def test_a_submission_without_reason_or_text_changes_nothing(
    make_slack: MakeSlack,
) -> None:
    slack = make_slack()
    answer_id = await _answered(slack)
    await slack.click("block_actions_feedback", answer_id, action_id=ACTION_FEEDBACK_DOWN, user=BOB)
    (opened,) = slack.fake.calls_to("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    response = await _submit(slack, view, user=BOB, reason=None, text=None)
    assert response.status == 200
    (vote,) = slack.bot.store.feedback_for(answer_id)
    assert (vote.helpful, vote.reason) == (False, None)


async def test_a_forged_or_garbled_submission_is_acknowledged_and_stores_nothing(
    make_slack: MakeSlack,
) -> None:
    slack = make_slack()
    await _answered(slack)
    before = slack.bot.store.count("feedback")
    for metadata in ("not json", json.dumps({"answer_id": ""}), json.dumps([1, 2])):
        response = await _submit(slack, {"private_metadata": metadata}, user=BOB)
        assert response.status == 200
    assert slack.bot.store.count("feedback") == before


async def test_report_is_for_admins_only(make_slack: MakeSlack) -> None:
    slack = make_slack()
    answer_id = await _answered(slack)
    await slack.click("block_actions_feedback", answer_id, action_id=ACTION_FEEDBACK_DOWN, user=BOB)

    refused = await slack.command("report", user=ALICE)
    assert NOT_ADMIN in ack_text(refused)
    assert [c for c in slack.fake.calls_to("response_url") if c.params["_name"] == "cmd"] == []

    await slack.command("report 24h", user=ADMIN)
    (shown,) = [c for c in slack.fake.calls_to("response_url") if c.params["_name"] == "cmd"]
    assert shown.params["response_type"] == "ephemeral"
    text = shown.all_text()
    assert "Knowledge-gap report" in text and "Declined questions" in text
    assert "👎 1" in text and "Never cited" in text


async def test_a_bad_report_window_is_one_line(make_slack: MakeSlack) -> None:
    slack = make_slack()
    ack = await slack.command("report next week", user=ADMIN)
    text = ack_text(ack)
    assert "--since" not in text and "7d" in text
    assert slack.fake.calls_to("response_url") == []


async def test_the_weekly_report_is_posted_to_the_configured_channel(
    make_slack: MakeSlack,
) -> None:
    slack = make_slack()
    await _answered(slack)
    post = report_poster(slack.app.client, "C0ADMINS001")

    assert await slack.bot.post_weekly_report(post)
    assert not await slack.bot.post_weekly_report(post)  # same week: claimed already

    (posted,) = [m for m in slack.posted() if m.params["channel"] == "C0ADMINS001"]
    assert "Knowledge-gap report" in posted.all_text() and "Most-cited posts" in posted.all_text()


async def test_serve_posts_the_weekly_report_once_across_two_replicas(
    make_careerbot: Callable[..., CareerBot],
    fake_slack: FakeSlack,
    db_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.service")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "unused",
        slack={"bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "api_url": fake_slack.api_url},
        http={"port": 0},
        report={"channel": "C0ADMINS001"},
    )
    replicas = [make_careerbot(database_url=db_url) for _ in range(2)]
    tasks = [
        asyncio.create_task(serve(bot, settings, "slack", http=False, host="", port=0))
        for bot in replicas
    ]
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while True:  # poll with a deadline until both replicas have had their first check
            messages = [r.getMessage() for r in caplog.records if r.name == "bot.service"]
            posted = [m for m in messages if m.startswith("posted the weekly")]
            refused = [m for m in messages if m.endswith("already claimed by a replica")]
            if posted and refused:
                break
            assert not any(t.done() for t in tasks), [t.exception() for t in tasks if t.done()]
            assert loop.time() < deadline, messages
            await asyncio.sleep(0.05)
        assert (len(posted), len(refused)) == (1, 1)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    posts = [m for m in fake_slack.messages() if m.params.get("channel") == "C0ADMINS001"]
    assert len(posts) == 1 and "Knowledge-gap report" in posts[0].all_text()
