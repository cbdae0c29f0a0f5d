"""The real bolt AsyncApp over a real CareerBot, against a fake Slack Web API on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from unittest import mock

import aiohttp
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.adapters.render_slack import (
    ACTION_FEEDBACK_DOWN,
    ACTION_SHARE,
    BLOCKS_PER_MESSAGE,
    EMPTY_MENTION_TEXT,
    SECTION_TEXT_LIMIT,
    THINKING_TEXT,
)
from bot.adapters.slack_app import (
    SlackConfig,
    command_key,
    create_app,
    dm_key,
    run_socket_mode,
    start_http,
    thread_key,
)
from bot.service import CareerBot
from tests.conftest import FIXTURE_KNOWLEDGE
from tests.openai_fake import paused_stream, serve_fake
from tests.slack_fake import (
    APP_TOKEN,
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    SIGNING_SECRET,
    TEAM_ID,
    Call,
    FakeSlack,
    action_request,
    event_payload,
    form_request,
    json_request,
    load_fixture,
    sign,
)

ALICE = "U0ALICE0001"
BOB = "U0BOB000001"
ADMIN = "U0ADMIN0001"
CHANNEL = "C0GENERAL01"
MENTION_TS = "1700000000.000100"
QUESTION = "How do I get started in AI safety research?"


@dataclass
class Slack:
    """A bolt app wired to a CareerBot and the fake Slack, plus helpers to deliver payloads."""

    app: AsyncApp
    bot: CareerBot
    fake: FakeSlack

    async def deliver(self, body: str, headers: dict[str, str]) -> BoltResponse:
        return await self.app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))

    async def event(self, payload: dict[str, Any], **headers: str) -> BoltResponse:
        body, signed = json_request(payload, **headers)
        response = await self.deliver(body, signed)
        assert response.status == 200, response.body
        return response

    async def command(self, text: str, user: str = ALICE) -> BoltResponse:
        fields = load_fixture("slash_command")
        fields.update(text=text, user_id=user, response_url=self.fake.response_url("cmd"))
        response = await self.deliver(*form_request(fields))
        assert response.status == 200, response.body
        return response

    async def click(
        self, fixture: str, value: str, *, action_id: str | None = None, user: str = ALICE
    ) -> BoltResponse:
        payload = load_fixture(fixture)
        payload["response_url"] = self.fake.response_url("action")
        payload["user"]["id"] = user
        payload["actions"][0]["value"] = value
        if action_id:
            payload["actions"][0]["action_id"] = action_id
        response = await self.deliver(*action_request(payload))
        assert response.status == 200, response.body
        return response

    def answers(self) -> list[Call]:
        """Messages that replaced a "thinking…" placeholder (one per answered question)."""
        return self.fake.calls_to("chat.update")

    def posted(self) -> list[Call]:
        return self.fake.calls_to("chat.postMessage")


def ack_text(response: BoltResponse) -> str:
    body = json.loads(response.body) if response.body.startswith("{") else {"text": response.body}
    blocks = " ".join(b["text"]["text"] for b in body.get("blocks", []) if "text" in b)
    return f"{body.get('text', '')} {blocks}"


def answer_id_of(call: Call) -> str:
    actions = next(b for b in call.blocks if b["type"] == "actions")
    return str(actions["elements"][0]["value"])


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


MakeSlack = Callable[..., Slack]


@pytest.fixture
def make_slack(make_careerbot: Callable[..., CareerBot], fake_slack: FakeSlack) -> MakeSlack:
    def make(bot: CareerBot | None = None, **config: Any) -> Slack:
        bot = bot or make_careerbot()
        settings = SlackConfig(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            api_url=fake_slack.api_url,
            admin_user_ids=frozenset({ADMIN}),
            process_before_response=True,  # the dispatch returns once the listener is done
        )
        return Slack(create_app(bot, replace(settings, **config)), bot, fake_slack)

    return make


async def test_mention_is_answered_in_its_thread_with_sources(make_slack: MakeSlack) -> None:
    slack = make_slack()
    await slack.event(load_fixture("app_mention"))
    await slack.event(
        event_payload(
            "app_mention",
            event_id="Ev0MENTION02",
            text=f"<@{BOT_USER_ID}> What soft skills did James Chua learn during MATS?",
            ts="1700000900.000100",
        )
    )

    placeholder, _ = slack.posted()
    assert placeholder.params["channel"] == CHANNEL
    assert placeholder.params["thread_ts"] == MENTION_TS
    assert placeholder.text == THINKING_TEXT
    assert placeholder.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    answer, mats = slack.answers()  # each placeholder, replaced in place
    assert answer.params["ts"] == placeholder.response["ts"]
    assert answer.params["channel"] == CHANNEL
    kinds = [b["type"] for b in answer.blocks]
    # answer, sources, 👍/👎, suggested questions
    assert kinds[0] == "section" and kinds[-3:] == ["context", "actions", "actions"]
    sources = " ".join(e["text"] for e in answer.blocks[-3]["elements"])
    assert sources.startswith("*Sources*  [1] ")
    assert answer.text  # fallback text for notifications
    mats_blocks = [b for b in mats.blocks if b["type"] == "context"]
    mats_sources = " ".join(e["text"] for e in mats_blocks[-1]["elements"])
    mats_url = "https://www.lesswrong.com/posts/DQDLPyPXyYiD8XSMu/my-mats-summer-2023-experience"
    assert f"<{mats_url}|My MATS Summer 2023 experience>" in mats_sources  # linked title
    assert "James Chua" in mats_sources
    key = thread_key(TEAM_ID, CHANNEL, MENTION_TS)
    assert await slack.bot.has_conversation(key)
    assert slack.bot.store.history(key, 10)[0].text == QUESTION


async def test_dm_turns_are_one_conversation(make_slack: MakeSlack) -> None:
    slack = make_slack()
    await slack.event(load_fixture("message_im"))
    follow_up = event_payload(
        "message_im",
        event_id="Ev0DM0000002",
        text="And what about MATS?",
        ts="1700000160.000100",
        event_ts="1700000160.000100",
    )
    await slack.event(follow_up)

    placeholders = slack.posted()
    assert [p.params["channel"] for p in placeholders] == ["D0BOBDM0001"] * 2
    assert all(p.params.get("thread_ts") is None for p in placeholders)  # DMs reply in place
    assert len(slack.answers()) == 2
    history = slack.bot.store.history(dm_key(TEAM_ID, BOB), 10)
    assert [t.role for t in history] == ["user", "assistant", "user", "assistant"]
    assert history[2].text == "And what about MATS?"


async def test_thread_follow_up_without_mention(make_slack: MakeSlack) -> None:
    slack = make_slack()
    await slack.event(load_fixture("app_mention"))
    await slack.event(load_fixture("message_thread_reply"))

    assert len(slack.answers()) == 2
    assert [p.params["thread_ts"] for p in slack.posted()] == [MENTION_TS, MENTION_TS]
    history = slack.bot.store.history(thread_key(TEAM_ID, CHANNEL, MENTION_TS), 10)
    assert history[2].text == "What about if I don't have a PhD?"


async def test_thread_follow_ups_can_be_turned_off(make_slack: MakeSlack) -> None:
    slack = make_slack(thread_followups=False)
    await slack.event(load_fixture("app_mention"))
    await slack.event(load_fixture("message_thread_reply"))
    assert len(slack.answers()) == 1


async def test_threads_the_bot_never_answered_in_are_left_alone(make_slack: MakeSlack) -> None:
    slack = make_slack()
    await slack.event(load_fixture("message_thread_reply"))
    await slack.event(event_payload("message_channel", event_id="Ev0PLAIN0001", text="lunch?"))
    assert slack.fake.messages() == []


@pytest.mark.parametrize(
    "fixture", ["message_bot", "message_app_bot", "message_changed", "message_channel_join"]
)
async def test_bots_and_subtypes_are_ignored(make_slack: MakeSlack, fixture: str) -> None:
    slack = make_slack()
    await slack.event(load_fixture(fixture))
    assert slack.fake.messages() == []


async def test_own_messages_are_ignored(make_slack: MakeSlack) -> None:
    slack = make_slack()
    own = event_payload("message_im", user=BOT_USER_ID, bot_id=BOT_ID, text="Should I do a PhD?")
    await slack.event(own)
    mention_by_self = event_payload("app_mention", user=BOT_USER_ID, bot_id=BOT_ID)
    await slack.event(mention_by_self)
    assert slack.fake.messages() == []


async def test_redelivered_event_is_answered_once(make_slack: MakeSlack) -> None:
    slack = make_slack()
    payload = load_fixture("app_mention")
    await slack.event(payload)
    await slack.event(payload, **{"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"})
    await slack.event(payload, **{"x-slack-retry-num": "2", "x-slack-retry-reason": "http_timeout"})
    assert len(slack.posted()) == 1 and len(slack.answers()) == 1


async def test_mention_and_message_double_delivery_is_answered_once(make_slack: MakeSlack) -> None:
    slack = make_slack()
    await slack.event(load_fixture("app_mention"))
    # A mention inside the answered thread arrives as app_mention AND as message.channels.
    fields = {
        "text": f"<@{BOT_USER_ID}> and what about the MATS program?",
        "ts": "1700000070.000100",
        "event_ts": "1700000070.000100",
        "thread_ts": MENTION_TS,
    }
    await slack.event(event_payload("message_channel", event_id="Ev0DOUBLE001", **fields))
    await slack.event(event_payload("app_mention", event_id="Ev0DOUBLE002", **fields))
    # And a DM that mentions the bot, delivered both ways with the same ts.
    dm = {"text": f"<@{BOT_USER_ID}> thanks, and MATS?", "channel": "D0BOBDM0001"}
    await slack.event(event_payload("message_im", event_id="Ev0DOUBLE003", **dm))
    await slack.event(
        event_payload(
            "app_mention",
            event_id="Ev0DOUBLE004",
            user=BOB,
            ts="1700000100.000100",
            event_ts="1700000100.000100",
            **dm,
        )
    )
    assert len(slack.answers()) == 3


async def test_empty_mention_gets_a_help_line(make_slack: MakeSlack) -> None:
    slack = make_slack()
    await slack.event(event_payload("app_mention", text=f"<@{BOT_USER_ID}>  "))
    [reply] = slack.posted()
    assert reply.params["thread_ts"] == MENTION_TS
    assert reply.text == EMPTY_MENTION_TEXT
    assert slack.answers() == []
    assert not await slack.bot.has_conversation(thread_key(TEAM_ID, CHANNEL, MENTION_TS))


async def test_huge_message_is_capped_and_says_so(make_slack: MakeSlack) -> None:
    slack = make_slack()
    huge = "How do I get started in AI safety research? " * 2000
    await slack.event(event_payload("message_im", text=huge))
    [answer] = slack.answers()
    notices = [e["text"] for b in answer.blocks if b["type"] == "context" for e in b["elements"]]
    assert any("first 2,000 characters" in n for n in notices)


async def test_over_long_answer_is_split_under_limits(
    make_slack: MakeSlack, make_careerbot: Callable[..., CareerBot]
) -> None:
    # Sentences the retrieved passages support (LLM replies are checked against them).
    paragraph = (
        "**Think of burnout as a mental overuse injury** whose recovery looks like a "
        "physical one [1][2][3][4][5]. Ease into active recovery rather than taking a few "
        "days off and then firing on all cylinders again [1][2][3][4][5]. "
    ) * 12
    long_reply = "\n\n".join(f"- {paragraph}" for _ in range(40))
    bot = make_careerbot(chat_model=FakeListChatModel(responses=[long_reply]))
    slack = make_slack(bot=bot, max_message_chars=12_000)
    # Asked about burnout, so the retrieved passages are the ones the reply's sentences cite.
    await slack.event(
        event_payload("app_mention", text=f"<@{BOT_USER_ID}> How do I deal with burnout?")
    )

    first = slack.answers()[-1]  # earlier updates streamed the checked text so far
    rest = slack.posted()[1:]  # [0] is the placeholder
    assert rest, "a 40k-character answer must span several messages"
    messages = [first, *rest]
    for message in messages:
        assert len(message.blocks) <= BLOCKS_PER_MESSAGE
        sections = message.section_texts()
        assert all(0 < len(s) <= SECTION_TEXT_LIMIT for s in sections)
        assert sum(map(len, sections)) <= 12_000
    assert all(m.params["thread_ts"] == MENTION_TS for m in rest)
    shown = "\n".join(s for m in messages for s in m.section_texts())
    assert shown.count("*Think of burnout as a mental overuse injury*") == 40 * 12
    assert [b["type"] for b in messages[-1].blocks][-1] == "actions"


async def test_feedback_button_is_stored(make_slack: MakeSlack) -> None:
    slack = make_slack()
    await slack.event(load_fixture("app_mention"))
    answer_id = answer_id_of(slack.answers()[0])

    await slack.click("block_actions_feedback", answer_id)
    await slack.click("block_actions_feedback", answer_id, action_id=ACTION_FEEDBACK_DOWN, user=BOB)

    stored = slack.bot.store.feedback_for(answer_id)
    assert [(f.user, f.helpful, f.platform) for f in stored] == [
        (ALICE, True, "slack"),
        (BOB, False, "slack"),
    ]
    assert stored[0].question == QUESTION
    assert stored[0].answer and stored[0].answer == stored[1].answer
    thanks = slack.fake.calls_to("response_url")
    assert len(thanks) == 2 and all(t.params["response_type"] == "ephemeral" for t in thanks)
    assert all(t.params["replace_original"] is False for t in thanks)


async def test_feedback_after_restart_is_completed_from_the_store(make_slack: MakeSlack) -> None:
    slack = make_slack()
    await slack.event(load_fixture("app_mention"))
    answer_id = answer_id_of(slack.answers()[0])
    restarted = make_slack(bot=slack.bot)  # a new app: its in-memory answer cache is empty
    await restarted.click("block_actions_feedback", answer_id)
    [stored] = slack.bot.store.feedback_for(answer_id)
    assert stored.question == QUESTION and stored.answer


async def test_slash_help_and_status(make_slack: MakeSlack) -> None:
    slack = make_slack()
    assert "/careerbot ask" in ack_text(await slack.command("help"))
    assert "/careerbot ask" in ack_text(await slack.command(""))
    assert "don't know `frobnicate`" in ack_text(await slack.command("frobnicate"))
    await slack.command("status")
    [status] = slack.fake.calls_to("response_url")
    assert status.params["response_type"] == "ephemeral"
    assert "*Documents*\n3" in status.all_text()
    assert "extractive" in status.all_text()


async def test_slash_ask_is_ephemeral_and_can_be_shared(make_slack: MakeSlack) -> None:
    slack = make_slack()
    ack = await slack.command(f"ask {QUESTION}")
    assert "Looking that up" in ack_text(ack)
    [private] = slack.fake.calls_to("response_url")
    assert private.params["response_type"] == "ephemeral"
    buttons = next(b for b in private.blocks if b["type"] == "actions")["elements"]
    assert buttons[0]["action_id"] == ACTION_SHARE
    assert await slack.bot.has_conversation(command_key(TEAM_ID, CHANNEL, ALICE))
    assert slack.posted() == []  # nothing visible to the channel yet

    await slack.click("block_actions_share", buttons[0]["value"])
    shared, deleted = slack.fake.calls_to("response_url")[1:]
    assert shared.params["response_type"] == "in_channel"
    assert shared.params["replace_original"] is False
    assert f"<@{ALICE}> asked: {QUESTION}" in shared.all_text()
    assert shared.section_texts() == private.section_texts()
    assert all(b["action_id"] != ACTION_SHARE for b in shared.blocks[-1]["elements"])
    assert deleted.params["delete_original"] is True and not deleted.blocks


async def test_share_of_a_forgotten_answer_says_so(make_slack: MakeSlack) -> None:
    slack = make_slack()
    await slack.click("block_actions_share", "no-such-answer")
    [reply] = slack.fake.calls_to("response_url")
    assert "ask again" in reply.all_text()


async def test_reload_by_admin_reports_changes(make_slack: MakeSlack) -> None:
    slack = make_slack()
    new_doc = slack.bot.knowledge_dir / "new-post.md"
    source = next(FIXTURE_KNOWLEDGE.glob("mats-*.md")).read_text(encoding="utf-8")
    new_doc.write_text(source.replace("My MATS Summer 2023", "Another MATS"), encoding="utf-8")

    ack = await slack.command("reload", user=ADMIN)
    assert "Reloading" in ack_text(ack)
    [result] = slack.fake.calls_to("response_url")
    assert "Reloaded: 4 documents" in result.all_text()
    assert (await slack.bot.status()).documents == 4


async def test_reload_by_non_admin_is_refused(make_slack: MakeSlack) -> None:
    slack = make_slack()
    (slack.bot.knowledge_dir / "new-post.md").write_text(
        next(FIXTURE_KNOWLEDGE.glob("mats-*.md"))
        .read_text(encoding="utf-8")
        .replace("My MATS Summer 2023", "Another MATS"),
        encoding="utf-8",
    )
    before = slack.bot.store.get_meta("last_reload")
    ack = await slack.command("reload", user=ALICE)
    assert "only the bot's admins can do that" in ack_text(ack)
    assert slack.fake.messages() == []  # the refusal is the ack itself
    assert slack.bot.store.get_meta("last_reload") == before
    assert (await slack.bot.status()).documents == 3


async def test_failed_reload_reports_error_and_old_index_keeps_answering(
    make_slack: MakeSlack, make_careerbot: Callable[..., CareerBot], tmp_path: Path
) -> None:
    bot = make_careerbot()
    broken = bot.knowledge_dir / "broken.md"
    broken.write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    slack = make_slack(bot=bot)

    await slack.command("reload", user=ADMIN)
    [result] = slack.fake.calls_to("response_url")
    assert "Reload failed" in result.all_text() and "broken.md" in result.all_text()
    assert "still answering" in result.all_text()

    await slack.event(load_fixture("app_mention"))
    [answer] = slack.answers()
    assert any(
        "*Sources*" in e["text"]
        for b in answer.blocks
        if b["type"] == "context"
        for e in b["elements"]
    )
    assert (await bot.status()).documents == 3


async def test_core_failure_becomes_a_friendly_reply(make_slack: MakeSlack) -> None:
    slack = make_slack()
    with mock.patch.object(slack.bot, "answer", side_effect=RuntimeError("chroma exploded")):
        await slack.event(load_fixture("app_mention"))
    [update] = slack.answers()
    assert "something went wrong" in update.text
    assert "chroma" not in update.all_text()


async def test_failed_placeholder_update_posts_the_answer_instead(make_slack: MakeSlack) -> None:
    slack = make_slack()
    slack.fake.fail_next("chat.update", "message_not_found")
    await slack.event(load_fixture("app_mention"))
    placeholder, answer = slack.posted()
    assert placeholder.text == THINKING_TEXT
    assert answer.params["thread_ts"] == MENTION_TS
    assert any(b["type"] == "actions" for b in answer.blocks)


async def test_rate_limited_calls_are_retried(make_slack: MakeSlack) -> None:
    slack = make_slack()
    slack.fake.fail_next("chat.update", "ratelimited", status=429)
    await slack.event(load_fixture("app_mention"))
    failed, answer = slack.answers()
    assert failed.response["error"] == "ratelimited" and answer.response["ok"]
    assert answer.params == failed.params


async def test_failed_placeholder_still_gets_an_answer(make_slack: MakeSlack) -> None:
    slack = make_slack()
    slack.fake.fail_next("chat.postMessage", "fatal_error")
    await slack.event(load_fixture("app_mention"))
    _failed, answer = slack.posted()
    assert any(b["type"] == "actions" for b in answer.blocks)
    assert slack.answers() == []


async def test_thread_chatter_addressed_to_someone_else_is_ignored(make_slack: MakeSlack) -> None:
    slack = make_slack()
    await slack.event(load_fixture("app_mention"))
    await slack.event(event_payload("message_thread_reply", text=f"<@{BOB}> what do you think?"))
    assert len(slack.answers()) == 1


# --- Socket Mode (the default transport) ----------------------------------------------------


async def test_socket_mode_acks_then_answers_once(make_slack: MakeSlack) -> None:
    slack = make_slack(process_before_response=False)
    serving = asyncio.create_task(run_socket_mode(slack.app, APP_TOKEN))
    try:
        await slack.fake.wait_for(lambda fake: bool(fake.calls_to("socket.connected")))
        [opened] = slack.fake.calls_to("apps.connections.open")
        assert opened.response["ok"]  # the fake only accepts the app-level token here
        first = await slack.fake.push_event(load_fixture("app_mention"))
        await slack.fake.wait_for(
            lambda fake: fake.acked(first) and bool(fake.calls_to("chat.update"))
        )
        retry = await slack.fake.push_event(load_fixture("app_mention"), retry_attempt=1)
        await slack.fake.wait_for(lambda fake: fake.acked(retry))
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
    assert len(slack.answers()) == 1 and len(slack.posted()) == 1


# --- HTTP mode -------------------------------------------------------------------------------


@pytest.fixture
async def http_slack(make_slack: MakeSlack) -> AsyncIterator[tuple[Slack, str]]:
    # The production setting: Slack gets its 200 before the answer is computed.
    slack = make_slack(process_before_response=False)
    runner, addresses = await start_http(slack.app, "127.0.0.1", 0)
    host, port = addresses[0][:2]
    yield slack, f"http://{host}:{port}/slack/events"
    await runner.cleanup()


async def _post(url: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body.encode(), headers=headers) as response,
    ):
        return response.status, await response.text()


async def test_http_signed_event_is_acknowledged_then_answered(
    http_slack: tuple[Slack, str],
) -> None:
    slack, url = http_slack
    status, _ = await _post(url, *json_request(load_fixture("app_mention")))
    assert status == 200
    await slack.fake.wait_for(lambda fake: bool(fake.calls_to("chat.update")))
    [answer] = slack.answers()
    assert any(b["type"] == "actions" for b in answer.blocks)


async def test_http_url_verification_challenge(http_slack: tuple[Slack, str]) -> None:
    _, url = http_slack
    payload = load_fixture("url_verification")
    status, text = await _post(url, *json_request(payload))
    assert status == 200 and payload["challenge"] in text


async def test_http_bad_signature_is_rejected(http_slack: tuple[Slack, str]) -> None:
    slack, url = http_slack
    body, headers = json_request(load_fixture("app_mention"))
    forged = {**headers, **sign(body, secret="not-the-secret")}
    assert (await _post(url, body, forged))[0] == 401
    stale = {**headers, **sign(body, timestamp=1_600_000_000)}
    assert (await _post(url, body, stale))[0] == 401
    assert (await _post(url, body, {"content-type": "application/json"}))[0] == 401
    assert slack.fake.calls == []
    # The forged deliveries did not mark the event as seen: the genuine one is answered.
    assert (await _post(url, body, headers))[0] == 200
    await slack.fake.wait_for(lambda fake: bool(fake.calls_to("chat.update")))


async def test_http_without_signing_secret_rejects_everything(make_slack: MakeSlack) -> None:
    slack = make_slack(signing_secret="")
    runner, addresses = await start_http(slack.app, "127.0.0.1", 0)
    try:
        host, port = addresses[0][:2]
        body = json.dumps(load_fixture("app_mention"))
        headers = {"content-type": "application/json", **sign(body, secret="")}
        status, _ = await _post(f"http://{host}:{port}/slack/events", body, headers)
        assert status == 401
        assert slack.fake.messages() == []
    finally:
        await runner.cleanup()


async def test_llm_answer_streams_into_the_placeholder_then_the_checked_answer_replaces_it(
    make_slack: MakeSlack, make_careerbot: Callable[..., CareerBot]
) -> None:
    async with serve_fake() as model:
        reply, llm = paused_stream(model)
        bot = make_careerbot(llm=llm)
        slack = make_slack(bot=bot, stream_interval=0.0)
        mention = event_payload("app_mention", text=f"<@{BOT_USER_ID}> How do I deal with burnout?")
        answering = asyncio.create_task(slack.event(mention))
        # The model is paused after the first sentence and the made-up one: wait until the
        # placeholder shows the first, then let the model finish.
        await slack.fake.wait_for(lambda f: len(f.calls_to("chat.update")) >= 1)
        reply.resume.set()
        await answering

    *partials, final = slack.answers()
    assert partials, "the checked first sentence should have been shown while streaming"
    first_shown = partials[0].section_texts()[0]
    assert "overuse injury" in first_shown and first_shown.endswith("…")
    assert all("$500k" not in s for call in slack.answers() for s in call.section_texts())
    assert final.params["ts"] == partials[0].params["ts"]
    texts = final.section_texts()
    assert not texts[0].endswith("…")
    assert any(b["type"] == "actions" for b in final.blocks)  # the final, complete render
    assert len(model.requests) == 1 and model.requests[0]["body"]["stream"] is True


# --- auto-answer channels, the per-channel switch and fair use (issue 10 §4-5) ---------------

AUTO_CHANNEL = "C0AUTOANS01"


def channel_message(text: str, ts: str, *, channel: str = AUTO_CHANNEL, **event: Any) -> Any:
    """A top-level message.channels event (no mention) in `channel`."""
    return event_payload(
        "message_channel",
        event_id=f"Ev{ts.replace('.', '')}",
        text=text,
        ts=ts,
        event_ts=ts,
        channel=channel,
        **event,
    )


async def test_auto_answer_channel_answers_top_level_questions_in_a_thread(
    make_slack: MakeSlack,
) -> None:
    slack = make_slack(auto_answer_channels=frozenset({AUTO_CHANNEL}))
    await slack.event(channel_message(QUESTION, "1700001000.000100"))

    [placeholder] = slack.posted()
    assert placeholder.params["channel"] == AUTO_CHANNEL
    assert placeholder.params["thread_ts"] == "1700001000.000100"  # in the question's thread
    [answer] = slack.answers()
    assert answer.params["ts"] == placeholder.response["ts"]
    assert "*Sources*" in answer.all_text()
    key = thread_key(TEAM_ID, AUTO_CHANNEL, "1700001000.000100")
    assert slack.bot.store.history(key, 10)[0].text == QUESTION
    # The thread is now a conversation: a follow-up there is answered like any other.
    await slack.event(
        channel_message("And what about a PhD?", "1700001001.000100", thread_ts="1700001000.000100")
    )
    assert len(slack.answers()) == 2
    assert len(slack.bot.store.history(key, 10)) == 4


async def test_auto_answer_skips_chatter_bots_and_unconfigured_channels(
    make_slack: MakeSlack,
) -> None:
    slack = make_slack(auto_answer_channels=frozenset({AUTO_CHANNEL}))
    await slack.event(channel_message("thanks!", "1700001100.000100"))
    await slack.event(channel_message("lol :joy:", "1700001101.000100"))
    await slack.event(channel_message("!standup is this working?", "1700001102.000100"))
    await slack.event(channel_message(f"<@{BOB}> is the PhD worth it?", "1700001106.000100"))
    await slack.event(
        channel_message(QUESTION, "1700001103.000100", user="U0OTHERBOT1", bot_id="B0OTHER")
    )
    await slack.event(channel_message(QUESTION, "1700001104.000100", channel=CHANNEL))
    assert slack.fake.messages() == []
    # The same question, redelivered, is answered once.
    payload = channel_message(QUESTION, "1700001105.000100")
    await slack.event(payload)
    await slack.event(payload, **{"x-slack-retry-num": "1", "x-slack-retry-reason": "timeout"})
    assert len(slack.answers()) == 1


async def test_autoanswer_switch_is_admin_only_and_shared_by_two_instances(
    make_slack: MakeSlack, make_careerbot: Callable[..., CareerBot], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'shared' / 'careerbot.db'}"
    auto = frozenset({AUTO_CHANNEL})
    first = make_slack(bot=make_careerbot(database_url=url), auto_answer_channels=auto)
    second = make_slack(bot=make_careerbot(database_url=url), auto_answer_channels=auto)

    async def command(slack: Slack, text: str, user: str) -> str:
        fields = load_fixture("slash_command")
        fields.update(
            text=text, user_id=user, channel_id=AUTO_CHANNEL, response_url=slack.fake.response_url()
        )
        response = await slack.deliver(*form_request(fields))
        assert response.status == 200, response.body
        return ack_text(response)

    refused = await command(first, "autoanswer off", ALICE)
    assert "only careerbot admins" in refused and "Nothing was changed" in refused
    assert "Auto-answer is on here" in await command(second, "autoanswer status", ALICE)

    assert "Auto-answer is off here" in await command(first, "autoanswer off", ADMIN)
    await second.event(channel_message(QUESTION, "1700001200.000100"))  # the other instance
    assert second.fake.messages() == []
    status = await command(first, "autoanswer status", BOB)
    assert "off since" in status
    assert "only careerbot admins" in await command(second, "autoanswer on", BOB)
    await first.event(channel_message(QUESTION, "1700001201.000100"))
    assert first.fake.messages() == [], "a non-admin's `on` changed nothing"

    # Mentions still work in a switched-off channel.
    await first.event(
        event_payload(
            "app_mention", event_id="Ev0AUTOMENT1", channel=AUTO_CHANNEL, ts="1700001202.000100"
        )
    )
    assert len(first.answers()) == 1

    assert "Auto-answer is on here" in await command(second, "autoanswer on", ADMIN)
    await first.event(channel_message(QUESTION, "1700001203.000100"))
    assert len(first.answers()) == 2
    usage = await command(first, "autoanswer sideways", ADMIN)
    assert "/careerbot autoanswer on|off|status" in usage
    elsewhere = await command(first, "autoanswer status", ADMIN)
    assert "Auto-answer is on here" in elsewhere
    fields = load_fixture("slash_command")  # a channel not in the list
    fields.update(text="autoanswer on", user_id=ADMIN, response_url=first.fake.response_url())
    not_listed = ack_text(await first.deliver(*form_request(fields)))
    assert "not an auto-answer channel" in not_listed


async def test_rate_limit_notice_is_ephemeral_once_per_window_and_admins_are_exempt(
    make_slack: MakeSlack, make_careerbot: Callable[..., CareerBot]
) -> None:
    from bot.fair_use import FairUse, LimitsConfig, SQLCounterStorage

    now = [1_800_000_000.0]
    bot = make_careerbot()
    bot.fair_use = FairUse(
        SQLCounterStorage(bot.store.engine, lambda: now[0]),
        LimitsConfig(per_user_per_minute=1, per_user_per_hour=0),
    )
    slack = make_slack(bot=bot)

    def mention(ts: str, user: str = ALICE) -> dict[str, Any]:
        return event_payload(
            "app_mention", event_id=f"Ev{ts.replace('.', '')}", ts=ts, event_ts=ts, user=user
        )

    await slack.event(mention("1700001300.000100"))
    now[0] += 20
    await slack.event(mention("1700001301.000100"))
    [notice] = slack.fake.calls_to("chat.postEphemeral")
    assert notice.params["user"] == ALICE and notice.params["channel"] == CHANNEL
    assert notice.params["thread_ts"] == "1700001301.000100"
    assert "try again in about 40 seconds" in notice.all_text()
    assert len(slack.posted()) == 1, "no placeholder for a refused question"
    await slack.event(mention("1700001302.000100"))
    assert len(slack.fake.calls_to("chat.postEphemeral")) == 1, "one notice per window"
    for n in range(3):  # admins are exempt
        await slack.event(mention(f"1700001303.00010{n}", user=ADMIN))
    assert len(slack.answers()) == 4
    now[0] += 40
    await slack.event(mention("1700001304.000100"))
    assert len(slack.answers()) == 5

    # In a DM the notice is an ordinary message (only the asker sees a DM anyway).
    await slack.event(load_fixture("message_im"))
    dm_again = event_payload(
        "message_im", event_id="Ev0DMLIMIT02", ts="1700001400.000100", event_ts="1700001400.0001"
    )
    await slack.event(dm_again)
    assert "try again in about" in slack.posted()[-1].all_text()
    assert slack.posted()[-1].params["channel"] == "D0BOBDM0001"


# --- admins manage knowledge: dry run, rollback, audit ---------------------------------------


def _add_another_mats(bot: CareerBot) -> None:
    source = next(FIXTURE_KNOWLEDGE.glob("mats-*.md")).read_text(encoding="utf-8")
    (bot.knowledge_dir / "another-mats.md").write_text(
        source.replace("My MATS Summer 2023", "Another MATS"), encoding="utf-8"
    )


async def test_reload_dry_run_by_admin_shows_changes_and_switches_nothing(
    make_slack: MakeSlack,
) -> None:
    slack = make_slack()
    _add_another_mats(slack.bot)
    state = slack.bot.index.state()

    ack = await slack.command("reload dry-run", user=ADMIN)

    assert "Checking what a reload would change" in ack_text(ack)
    [result] = slack.fake.calls_to("response_url")
    text = result.all_text()
    assert "Dry run: reload would switch to a new index generation." in text
    assert "Added: another-mats.md (0 → " in text
    assert slack.bot.index.state() == state
    assert (await slack.bot.status()).documents == 3
    [action] = await slack.bot.admin_actions()
    assert (action.platform, action.actor, action.action, action.result) == (
        "slack",
        ADMIN,
        "reload-dry-run",
        "ok",
    )


async def test_rollback_by_admin_returns_to_the_previous_generation(
    make_slack: MakeSlack,
) -> None:
    slack = make_slack()
    await slack.command("rollback", user=ADMIN)
    [nothing] = slack.fake.calls_to("response_url")
    assert "no previous index generation" in nothing.all_text()

    _add_another_mats(slack.bot)
    await slack.bot.reload()
    assert (await slack.bot.status()).documents == 4

    ack = await slack.command("rollback", user=ADMIN)

    assert "Rolling back" in ack_text(ack)
    result = slack.fake.calls_to("response_url")[-1]
    assert "Rolled back: now serving careerbot-g" in result.all_text()
    assert "from 3 files" in result.all_text().split("replaced")[0]
    assert (await slack.bot.status()).documents == 3
    # One fixture trigger id: the second rollback is the same request, audited once.
    assert [(a.action, a.result) for a in await slack.bot.admin_actions()] == [
        ("rollback", "failed")
    ]


@pytest.mark.parametrize("text", ["reload dry-run", "rollback"])
async def test_admin_knowledge_commands_refuse_non_admins_politely(
    make_slack: MakeSlack, text: str
) -> None:
    slack = make_slack()
    _add_another_mats(slack.bot)
    await slack.bot.reload()
    state = slack.bot.index.state()

    ack = await slack.command(text, user=ALICE)

    assert "only the bot's admins" in ack_text(ack)
    assert slack.fake.messages() == [] and slack.fake.calls_to("response_url") == []
    assert slack.bot.index.state() == state
    [refused] = await slack.bot.admin_actions()
    assert (refused.actor, refused.result, refused.outcome) == (ALICE, "refused", "not an admin")
    assert refused.action == ("rollback" if text == "rollback" else "reload-dry-run")
