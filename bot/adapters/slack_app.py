"""Slack adapter: a bolt AsyncApp answering mentions, thread follow-ups, DMs and /careerbot."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from aiohttp import web
from slack_bolt.app.async_server import AsyncSlackAppServer
from slack_bolt.async_app import (
    AsyncAck,
    AsyncApp,
    AsyncAssistant,
    AsyncBoltContext,
    AsyncRespond,
    AsyncSetStatus,
    AsyncSetSuggestedPrompts,
)
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.render_slack import (
    ACTION_ASK_MENTOR,
    ACTION_FEEDBACK_DOWN,
    ACTION_FEEDBACK_UP,
    ACTION_SHARE,
    ACTION_SUGGEST_PATTERN,
    ASSISTANT_PROMPTS_TITLE,
    ASSISTANT_STATUS,
    CONSENT_ACTION,
    CONSENT_BLOCK,
    EMPTY_MENTION_TEXT,
    EXPIRED_ANSWER_TEXT,
    FEEDBACK_FORM_CALLBACK,
    FEEDBACK_REASON_BLOCK,
    FEEDBACK_TEXT_BLOCK,
    FEEDBACK_THANKS_DOWN,
    FEEDBACK_THANKS_UP,
    HELP_TEXT,
    MENTOR_RELAYED_TEXT,
    MENTOR_SENT_TEXT,
    NOTE_ACTION,
    NOTE_BLOCK,
    SHARE_NAMED,
    SHORTCUT_ADD_TO_KNOWLEDGE,
    THINKING_TEXT,
    VIEW_MENTOR_CONSENT,
    SlackMessage,
    error_text,
    escape_mrkdwn,
    mentor_consent_view,
    render_answer,
    render_assistant_greeting,
    render_dry_run,
    render_error,
    render_feedback_form,
    render_forgotten,
    render_help,
    render_mentor_post,
    render_my_data,
    render_partial,
    render_relay,
    render_reload,
    render_reload_started,
    render_report,
    render_rollback,
    render_status,
    render_text,
)
from bot.admin import ACTION_DRY_RUN, ACTION_RELOAD, ACTION_ROLLBACK, Actor
from bot.channels import ADMINS_ONLY, ChannelMessage, switch_text
from bot.escalation import (
    EscalationRequest,
    MentorReply,
    MentorsNotConfigured,
    NotAMentor,
    relay_text,
)
from bot.models import (
    FEEDBACK_NOTED,
    Answer,
    CareerbotError,
    Feedback,
    NotAuthorized,
    Question,
    RateLimited,
    Suggestion,
)
from bot.report import BadReportWindow, Report, parse_since
from bot.service import CareerBot
from bot.streaming import ThrottledEdits

log = logging.getLogger(__name__)

SLACK_API_URL: Final = "https://slack.com/api/"
EVENTS_PATH: Final = "/slack/events"


@dataclass(frozen=True)
class SlackConfig:
    """Plain values the Slack adapter needs; wiring fills them from Settings."""

    bot_token: str
    signing_secret: str = ""
    api_url: str = SLACK_API_URL
    admin_user_ids: frozenset[str] = frozenset()
    thread_followups: bool = True
    max_message_chars: int = 12000
    command: str = "/careerbot"
    # Run listeners before answering Slack's HTTP request; only tests and FaaS want this.
    process_before_response: bool = False
    # Streamed LLM text replaces the placeholder at most this often (chat.update ~1/s).
    stream_interval: float = 1.0
    # Channels where top-level questions are answered in a thread without a mention.
    auto_answer_channels: frozenset[str] = frozenset()
    # "Ask a mentor": the mentors channel (None = no button) and who counts as a mentor.
    mentors_channel: str | None = None
    mentor_user_ids: frozenset[str] = frozenset()
    # Serve the AI-app surface (bolt's Assistant) when the workspace enables it.
    assistant: bool = False


# --- pure payload -> Question functions ------------------------------------------------------

_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_REF = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def clean_text(raw: str, bot_user_id: str | None) -> str:
    """Slack message text -> the plain question: drop the bot mention, unescape, unwrap links."""
    text = raw or ""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    text = _USER_MENTION.sub(lambda m: f"@{m.group(1)}", text)
    text = _CHANNEL_REF.sub(lambda m: f"#{m.group(1)}", text)
    text = _SPECIAL.sub(lambda m: f"@{m.group(1)}", text)
    text = _SUBTEAM.sub(lambda m: m.group(1) or "@group", text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]+", " ", text).strip()


def mentions_user(raw: str, user_id: str | None) -> bool:
    """Whether Slack text contains an @mention of `user_id`."""
    return (
        bool(user_id) and re.search(rf"<@{re.escape(user_id or '')}(?:\|[^>]*)?>", raw) is not None
    )


def thread_key(team_id: str, channel: str, thread_ts: str) -> str:
    """Conversation key of a channel thread (the thread is the conversation)."""
    return f"slack:{team_id}:{channel}:{thread_ts}"


def dm_key(team_id: str, user_id: str) -> str:
    """Conversation key of a user's direct messages with the bot (one ongoing conversation)."""
    return f"slack:{team_id}:dm:{user_id}"


def command_key(team_id: str, channel: str, user_id: str) -> str:
    """Conversation key of `/careerbot ask` questions by one user in one channel."""
    return f"slack:{team_id}:ask:{channel}:{user_id}"


def question_from_event(
    event: Mapping[str, Any], *, team_id: str, bot_user_id: str | None
) -> Question:
    """Build the Question for an app_mention or message event (DM or thread)."""
    channel = str(event.get("channel", ""))
    user = str(event.get("user", ""))
    if event.get("channel_type") == "im":
        key = dm_key(team_id, user)
    else:
        key = thread_key(team_id, channel, str(event.get("thread_ts") or event.get("ts", "")))
    return Question(
        text=clean_text(str(event.get("text") or ""), bot_user_id),
        asker=user,
        conversation_key=key,
        platform="slack",
        channel=channel,
    )


@dataclass(frozen=True)
class SuggestionClick:
    """Where a clicked suggestion is asked: the question, its channel and thread."""

    question: Question
    channel: str
    thread_ts: str | None


def question_from_suggestion(
    body: Mapping[str, Any], action: Mapping[str, Any], *, team_id: str, assistant: bool = False
) -> SuggestionClick | None:
    """The clicked suggestion as a turn of the conversation its answer belongs to.

    A channel answer's conversation is its thread; a DM's is the user's DM conversation
    (or, with the assistant surface, the assistant thread). None when the payload lacks
    the channel, the user or the question text.
    """
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
    user = str((body.get("user") or {}).get("id") or "")
    text = " ".join(str(action.get("value") or "").split())
    if not channel or not user or not text:
        return None
    thread_ts = container.get("thread_ts") or message.get("thread_ts")
    if channel.startswith("D") and not (assistant and thread_ts):
        key, reply_in = dm_key(team_id, user), thread_ts
    else:
        thread_ts = thread_ts or container.get("message_ts") or message.get("ts")
        if not thread_ts:
            return None
        key, reply_in = thread_key(team_id, channel, str(thread_ts)), thread_ts
    question = Question(
        text=text, asker=user, conversation_key=key, platform="slack", channel=channel
    )
    return SuggestionClick(question, channel, str(reply_in) if reply_in else None)


@dataclass(frozen=True)
class ReasonForm:
    """A submitted 👎 reason modal: which answer, where it was, and what the person said."""

    answer_id: str
    channel: str
    reason: str | None
    text: str


def reason_from_view(view: Mapping[str, Any]) -> ReasonForm | None:
    """Read a view_submission of the reason modal; None when it is garbled or names no answer."""
    try:
        meta = json.loads(str(view.get("private_metadata") or ""))
    except ValueError:
        return None
    if not isinstance(meta, dict) or not meta.get("answer_id"):
        return None
    values = (view.get("state") or {}).get("values") or {}
    picked = ((values.get(FEEDBACK_REASON_BLOCK) or {}).get("choice") or {}).get("selected_option")
    text = ((values.get(FEEDBACK_TEXT_BLOCK) or {}).get("text") or {}).get("value")
    return ReasonForm(
        answer_id=str(meta["answer_id"])[:64],
        channel=str(meta.get("channel") or ""),
        reason=str(picked["value"]) if isinstance(picked, dict) and picked.get("value") else None,
        text=str(text or "").strip(),
    )


def _message_kwargs(message: SlackMessage) -> dict[str, Any]:
    return {"text": message.text, "blocks": list(message.blocks)}


class SlackHandlers:
    """Bolt listeners: each converts the payload, calls the core, renders and sends."""

    def __init__(self, bot: CareerBot, config: SlackConfig) -> None:
        self.bot = bot
        self.config = config

    # --- middleware ---------------------------------------------------------------------

    async def drop_redeliveries(
        self,
        body: dict[str, Any],
        request: AsyncBoltRequest,
        next: Callable[[], Any],  # bolt injects middleware args by name
    ) -> BoltResponse | None:
        """Acknowledge but skip events already received (Slack retries, double deliveries).

        The event id is claimed in the shared database, so of several replicas given the
        same event (or its retries, `X-Slack-Retry-Num`) exactly one handles it.
        """
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not await self.bot.claim_event("slack", str(event_id)):
            retry = (request.headers.get("x-slack-retry-num") or ["0"])[0]
            log.info("dropping redelivered event %s (retry %s)", event_id, retry)
            return BoltResponse(status=200, body="")
        await next()
        return None

    # --- events -------------------------------------------------------------------------

    async def on_mention(
        self, event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        """`@careerbot question` in a channel: answer in that message's thread."""
        if event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return
        channel, ts = str(event["channel"]), str(event["ts"])
        thread = event.get("thread_ts")
        if channel == self.config.mentors_channel and thread and thread != ts:
            return  # a mentors' thread: a mentor's reply is relayed (on_message), not answered
        if not await self._first_delivery(context, channel, ts):
            return
        question = question_from_event(
            event, team_id=context.team_id or "", bot_user_id=context.bot_user_id
        )
        thread_ts = str(event.get("thread_ts") or ts)
        await self._answer(client, question, channel=channel, thread_ts=thread_ts)

    async def on_message(
        self, event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        """DMs (every message is a turn) and follow-ups in threads the bot has answered in."""
        user = event.get("user")
        if event.get("subtype") or event.get("bot_id") or not user or user == context.bot_user_id:
            return
        if self.config.mentors_channel and event.get("channel") == self.config.mentors_channel:
            await self._mentor_reply(event, context, client)
            return
        channel, ts = str(event.get("channel", "")), str(event.get("ts", ""))
        raw = str(event.get("text") or "")
        team = context.team_id or ""
        thread_ts: str | None = event.get("thread_ts")
        if event.get("channel_type") != "im":
            if not thread_ts and not mentions_user(raw, context.bot_user_id):
                await self._auto_answer(event, context, client)
                return
            if not thread_ts or thread_ts == ts or mentions_user(raw, context.bot_user_id):
                return  # a thread's parent, or a mention (the app_mention event handles it)
            if not self.config.thread_followups or _USER_MENTION.search(raw):
                return  # follow-ups are off, or the message is addressed to someone else
            if not await self.bot.has_conversation(thread_key(team, channel, thread_ts)):
                return
        if not await self._first_delivery(context, channel, ts):
            return
        question = question_from_event(event, team_id=team, bot_user_id=context.bot_user_id)
        if not question.text and event.get("channel_type") != "im":
            return  # nothing to answer in a thread reply (the help line is for mentions/DMs)
        await self._answer(client, question, channel=channel, thread_ts=thread_ts)

    async def _auto_answer(
        self, event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        """A top-level message in an auto-answer channel: answered in its thread, unasked."""
        channel, ts = str(event.get("channel", "")), str(event.get("ts", ""))
        raw = str(event.get("text") or "")
        configured = self.config.auto_answer_channels
        if channel not in configured:
            return  # top-level chatter in any other channel the bot is in
        question = question_from_event(
            event, team_id=context.team_id or "", bot_user_id=context.bot_user_id
        )
        try:
            decision = await self.bot.auto_answer_decision(
                "slack",
                ChannelMessage(
                    text=question.text,
                    channel=channel,
                    mentions_others=bool(_USER_MENTION.search(raw) or _SPECIAL.search(raw)),
                ),
                configured,
            )
        except Exception as exc:  # nobody asked us: a failure here is logged, not posted
            _log_failure("auto-answer decision", exc)
            return
        if decision != "answer":
            log.debug("not auto-answering %s in %s: %s", ts, channel, decision)
            return
        if await self._first_delivery(context, channel, ts):
            await self._answer(client, question, channel=channel, thread_ts=ts)

    async def _first_delivery(self, context: AsyncBoltContext, channel: str, ts: str) -> bool:
        # A mention arrives both as app_mention and as message (two event ids): one message.
        return await self.bot.claim_event("slack-message", f"{context.team_id}:{channel}:{ts}")

    async def _answer(
        self,
        client: AsyncWebClient,
        question: Question,
        *,
        channel: str,
        thread_ts: str | None,
    ) -> None:
        if not question.text:
            await client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                **_message_kwargs(render_text(EMPTY_MENTION_TEXT)),
            )
            return
        log.info(
            "slack question from %s in %s (%d chars)", question.asker, channel, len(question.text)
        )
        if not await self._admitted(client, question, channel=channel, thread_ts=thread_ts):
            return
        # The core runs one turn per conversation at a time, across replicas.
        placeholder_ts: str | None = None
        try:
            placeholder = await client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=THINKING_TEXT
            )
            placeholder_ts = str(placeholder["ts"])
        except SlackApiError as exc:  # still answer; the answer is then a new message
            log.warning("could not post the placeholder: %s", exc.response.get("error"))
        stream = self._stream(client, channel, placeholder_ts)
        try:
            answer = await self.bot.answer(question, on_partial=stream, check_limits=False)
        except Exception as exc:  # every failure becomes a friendly reply, never silence
            _log_failure("answer", exc)
            if stream is not None:
                await stream.close()
            await self._replace(client, channel, placeholder_ts, thread_ts, render_error(exc))
            return
        if stream is not None:
            await stream.close()  # the final edit below must be the last one
        mentor_button = await self._keep_for_mentors(question, answer)
        messages = render_answer(
            answer, max_message_chars=self.config.max_message_chars, mentor_button=mentor_button
        )
        await self._replace(client, channel, placeholder_ts, thread_ts, messages[0])
        for message in messages[1:]:
            await client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                **_message_kwargs(message),
            )

    async def _admitted(
        self, client: AsyncWebClient, question: Question, *, channel: str, thread_ts: str | None
    ) -> bool:
        """Fair use, before any placeholder: False when over a limit (the asker is told once
        per window, in a message only they see)."""
        dm = channel.startswith("D")  # DMs have no channel limit, only the person's
        counted = replace(question, channel=None) if dm else question
        try:
            await self.bot.admit(counted, exempt=question.asker in self.config.admin_user_ids)
        except RateLimited as exc:
            if exc.notify:
                await self._tell_privately(client, question.asker, channel, thread_ts, exc)
            return False
        except Exception as exc:
            _log_failure("fair-use check", exc)
            await self._tell_privately(client, question.asker, channel, thread_ts, exc)
            return False
        return True

    async def _tell_privately(
        self,
        client: AsyncWebClient,
        user: str,
        channel: str,
        thread_ts: str | None,
        error: BaseException,
    ) -> None:
        message = _message_kwargs(render_error(error))
        try:
            if channel.startswith("D"):  # a DM is private already
                await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
            else:
                await client.chat_postEphemeral(
                    channel=channel, user=user, thread_ts=thread_ts, **message
                )
        except SlackApiError as exc:
            log.warning("could not tell %s in %s: %s", user, channel, exc.response.get("error"))

    def _stream(
        self, client: AsyncWebClient, channel: str, ts: str | None
    ) -> ThrottledEdits | None:
        """Edits of the placeholder that show an LLM answer as it is written (and checked)."""
        if ts is None:
            return None

        async def edit(text: str) -> None:
            await client.chat_update(
                channel=channel, ts=ts, **_message_kwargs(render_partial(text))
            )

        return ThrottledEdits(edit, self.config.stream_interval)

    async def _replace(
        self,
        client: AsyncWebClient,
        channel: str,
        ts: str | None,
        thread_ts: str | None,
        message: SlackMessage,
    ) -> None:
        if ts is not None:
            try:
                await client.chat_update(channel=channel, ts=ts, **_message_kwargs(message))
                return
            except SlackApiError as exc:
                # The placeholder may have been deleted; post the answer as a new message.
                log.warning("chat.update failed (%s); posting instead", exc.response.get("error"))
        await client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            **_message_kwargs(message),
        )

    # --- slash command ------------------------------------------------------------------

    async def on_command(
        self,
        ack: AsyncAck,
        command: dict[str, Any],
        respond: AsyncRespond,
        context: AsyncBoltContext,
    ) -> None:
        """`/careerbot ask|reload [dry-run]|rollback|status|forget|my-data|help`."""
        sub, _, rest = str(command.get("text") or "").strip().partition(" ")
        sub = sub.lower()
        user = str(command.get("user_id", ""))
        if sub in ("", "help"):
            await ack(**_message_kwargs(render_help()))
        elif sub == "status":
            await ack()
            try:
                message = render_status(await self.bot.status())
            except Exception as exc:
                _log_failure("status", exc)
                message = render_error(exc)
            await respond(response_type="ephemeral", **_message_kwargs(message))
        elif sub == "reload":
            dry_run = rest.strip().lower().lstrip("-") in ("dry-run", "dry_run", "dryrun")
            await self._reload(ack, respond, command, dry_run=dry_run)
        elif sub == "rollback":
            await self._rollback(ack, respond, command)
        elif sub == "report":
            await self._report(ack, respond, user, rest)
        elif sub == "ask":
            await self._ask(ack, respond, command, context, rest)
        elif sub == "autoanswer":
            await self._autoanswer(ack, command, rest)
        elif sub in ("forget", "my-data"):
            await ack()
            keys = (dm_key(context.team_id or "", user),)
            try:
                if sub == "forget":
                    message = render_forgotten(await self.bot.forget_user("slack", user, keys))
                else:
                    message = render_my_data(await self.bot.my_data("slack", user, keys))
            except Exception as exc:
                _log_failure(sub, exc)
                message = render_error(exc)
            await respond(response_type="ephemeral", **_message_kwargs(message))
        else:
            unknown = f"I don't know `{escape_mrkdwn(sub[:40])}`. " + HELP_TEXT
            await ack(**_message_kwargs(render_text(unknown)))

    async def _reload(
        self, ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any], *, dry_run: bool
    ) -> None:
        by = _actor(command)
        if not await self._admin_only(ack, by, ACTION_DRY_RUN if dry_run else ACTION_RELOAD):
            return
        if dry_run:
            await ack(**_message_kwargs(render_text(":mag: Checking what a reload would change…")))
        else:
            await ack(**_message_kwargs(render_reload_started()))
        log.info("%s requested from Slack by %s", "dry run" if dry_run else "reload", by.id)
        try:
            if dry_run:
                message = render_dry_run(await self.bot.reload_dry_run(by))
            else:
                message = render_reload(await self.bot.reload(by))
        except Exception as exc:  # IngestError etc.: the old index keeps answering
            _log_failure("reload", exc)
            message = render_error(exc)
        await respond(response_type="ephemeral", **_message_kwargs(message))

    async def _autoanswer(self, ack: AsyncAck, command: dict[str, Any], arg: str) -> None:
        """`/careerbot autoanswer on|off|status` switches the channel it is typed in."""
        mode = arg.strip().lower()
        user, channel = str(command.get("user_id", "")), str(command.get("channel_id", ""))
        usage = f"Usage: `{self.config.command} autoanswer on|off|status` in the channel to switch."
        if mode not in ("on", "off", "status"):
            await ack(**_message_kwargs(render_text(usage)))
            return
        if mode != "status" and user not in self.config.admin_user_ids:
            log.info("refused autoanswer %s in %s by non-admin %s", mode, channel, user)
            await ack(**_message_kwargs(render_text(ADMINS_ONLY)))
            return
        try:
            if mode == "status":
                switch = await self.bot.auto_answer_switch("slack", channel)
            else:
                switch = await self.bot.set_auto_answer(
                    "slack", channel, enabled=mode == "on", by=user
                )
            message = render_text(
                switch_text(
                    configured=channel in self.config.auto_answer_channels,
                    switch=switch,
                    command=f"{self.config.command} autoanswer",
                    changed=mode != "status",
                )
            )
        except Exception as exc:
            _log_failure("autoanswer", exc)
            message = render_error(exc)
        await ack(**_message_kwargs(message))

    async def _rollback(
        self, ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any]
    ) -> None:
        by = _actor(command)
        if not await self._admin_only(ack, by, ACTION_ROLLBACK):
            return
        await ack(**_message_kwargs(render_text(":rewind: Rolling back the knowledge base…")))
        try:
            message = render_rollback(await self.bot.rollback(by))
        except Exception as exc:  # NothingToRollBack, a reload holding the lease
            _log_failure("rollback", exc)
            message = render_error(exc)
        await respond(response_type="ephemeral", **_message_kwargs(message))

    async def _admin_only(self, ack: AsyncAck, by: Actor, action: str) -> bool:
        """True for an admin; anyone else gets one polite line and the refusal is audited."""
        if by.id in self.config.admin_user_ids:
            return True
        log.info("refused %s by non-admin %s", action, by.id)
        await ack(**_message_kwargs(render_error(NotAuthorized())))
        try:
            await self.bot.record_admin_action(by, action, "refused", "not an admin")
        except Exception as exc:
            _log_failure("auditing a refusal", exc)
        return False

    async def _ask(
        self,
        ack: AsyncAck,
        respond: AsyncRespond,
        command: dict[str, Any],
        context: AsyncBoltContext,
        text: str,
    ) -> None:
        text = clean_text(text, context.bot_user_id)
        if not text:
            await ack(**_message_kwargs(render_text("Usage: `/careerbot ask <your question>`")))
            return
        await ack(response_type="ephemeral", text=":mag: Looking that up…")
        user, channel = str(command.get("user_id", "")), str(command.get("channel_id", ""))
        question = Question(
            text=text,
            asker=user,
            conversation_key=command_key(context.team_id or "", channel, user),
            platform="slack",
            channel=channel,
        )
        try:
            admin = user in self.config.admin_user_ids
            answer = await self.bot.answer(question, check_limits=not admin)
        except Exception as exc:
            _log_failure("answer", exc)
            await respond(response_type="ephemeral", **_message_kwargs(render_error(exc)))
            return
        try:  # kept in the database, so "Share in channel" works on any replica
            await self.bot.keep_answer(question, answer)
        except Exception as exc:
            _log_failure("keeping the answer for sharing", exc)
        messages = render_answer(
            answer,
            max_message_chars=self.config.max_message_chars,
            share_button=True,
            mentor_button=bool(self.config.mentors_channel and answer.answer_id),
        )
        for message in messages:
            await respond(response_type="ephemeral", **_message_kwargs(message))

    # --- buttons ------------------------------------------------------------------------

    async def on_feedback(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        """👍/👎: store the vote with the question, answer, sources and user; a 👎 also opens
        the optional-reason modal."""
        await ack()
        answer_id = str(action.get("value") or "")
        helpful = action.get("action_id") == ACTION_FEEDBACK_UP
        user = str((body.get("user") or {}).get("id", ""))
        try:  # the store fills in the question and answer from the answer record
            await self.bot.record_feedback(
                Feedback(answer_id=answer_id, user=user, platform="slack", helpful=helpful)
            )
        except Exception as exc:
            _log_failure("feedback", exc)
            await _respond_quietly(respond, render_error(exc))
            return
        if not helpful and body.get("trigger_id"):
            channel = str((body.get("channel") or {}).get("id", ""))
            try:  # the trigger expires after 3 s: open the modal before anything else
                await client.views_open(
                    trigger_id=str(body["trigger_id"]),
                    view=render_feedback_form(answer_id, channel),
                )
            except SlackApiError as exc:  # the vote is stored; only the reason form is lost
                log.warning("views.open failed: %s", exc.response.get("error"))
        thanks = FEEDBACK_THANKS_UP if helpful else FEEDBACK_THANKS_DOWN
        await _respond_quietly(respond, render_text(thanks))

    async def on_feedback_reason(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The 👎 reason modal was submitted: attach the reason to that user's vote."""
        await ack()  # closes the modal
        form = reason_from_view(view)
        user = str((body.get("user") or {}).get("id", ""))
        if form is None or not user:
            log.info("ignored a garbled feedback reason submission")
            return
        if form.reason is None and not form.text:
            return  # nothing chosen, nothing typed: the 👎 stands on its own
        try:
            await self.bot.record_feedback_reason(
                form.answer_id, "slack", user, form.reason or "other", form.text
            )
            message = render_text(FEEDBACK_NOTED)
        except Exception as exc:
            _log_failure("feedback reason", exc)
            message = render_error(exc)
        if not form.channel:
            return
        try:
            await client.chat_postEphemeral(
                channel=form.channel, user=user, **_message_kwargs(message)
            )
        except SlackApiError as exc:  # e.g. the bot left the channel; the reason is stored
            log.info("could not acknowledge a feedback reason: %s", exc.response.get("error"))

    async def _report(self, ack: AsyncAck, respond: AsyncRespond, user: str, since: str) -> None:
        if user not in self.config.admin_user_ids:
            log.info("refused report for non-admin %s", user)
            await ack(**_message_kwargs(render_error(NotAuthorized())))
            return
        try:
            start = parse_since(since.strip() or "7d")
        except BadReportWindow as exc:
            await ack(**_message_kwargs(render_error(exc)))
            return
        await ack()
        try:
            message = render_report(await self.bot.report(start))
        except Exception as exc:
            _log_failure("report", exc)
            message = render_error(exc)
        await respond(response_type="ephemeral", **_message_kwargs(message))

    async def on_share(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """ "Share in channel" under an ephemeral `/careerbot ask` answer."""
        await ack()
        try:
            cached = await self.bot.kept_answer(str(action.get("value") or ""))
        except Exception as exc:
            _log_failure("share", exc)
            await _respond_quietly(respond, render_error(exc))
            return
        if cached is None:
            await _respond_quietly(respond, render_text(EXPIRED_ANSWER_TEXT))
            return
        question, answer = cached
        user = str((body.get("user") or {}).get("id", ""))
        who = f"<@{user}>" if _USER_ID.match(user) else "Someone"
        shown = question if len(question) <= 300 else question[:299] + "…"
        header = f"{who} asked: {escape_mrkdwn(shown)}"
        for message in render_answer(
            answer, max_message_chars=self.config.max_message_chars, header=header
        ):
            await respond(
                response_type="in_channel", replace_original=False, **_message_kwargs(message)
            )
        await respond(delete_original=True)

    # --- "Ask a mentor" -----------------------------------------------------------------

    def _is_mentor(self, user: str) -> bool:
        return user in self.config.mentor_user_ids or user in self.config.admin_user_ids

    async def _keep_for_mentors(self, question: Question, answer: Answer) -> bool:
        """Keep the answer (any replica can escalate it later); True when the button shows."""
        if not self.config.mentors_channel or not answer.answer_id:
            return False
        try:
            await self.bot.keep_answer(question, answer)
        except Exception as exc:  # the answer still goes out, without the button
            _log_failure("keeping the answer for mentors", exc)
            return False
        return True

    async def on_ask_mentor(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        """ "Ask a mentor": open the consent modal (name or anonymous, optional note)."""
        await ack()
        if not self.config.mentors_channel:
            await _respond_quietly(respond, render_text(str(MentorsNotConfigured())))
            return
        user = str((body.get("user") or {}).get("id", ""))
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id", ""))
        if container.get("is_ephemeral"):  # a private `/careerbot ask`: reply in their DMs
            relay_channel, relay_thread = user, None
        else:
            relay_channel = channel
            relay_thread = container.get("thread_ts") or (
                None if channel.startswith("D") else container.get("message_ts")
            )
        metadata = json.dumps(
            {
                "a": str(action.get("value") or ""),
                "c": relay_channel,
                "t": relay_thread,
                "n": channel,
            }
        )
        try:
            await client.views_open(
                trigger_id=str(body.get("trigger_id", "")), view=mentor_consent_view(metadata)
            )
        except SlackApiError as exc:
            log.warning("could not open the mentor consent modal: %s", exc.response.get("error"))
            await _respond_quietly(respond, render_error(exc))

    async def on_mentor_consent(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The consent modal was submitted: post to the mentors channel, tell the asker."""
        await ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        values = (view.get("state") or {}).get("values") or {}
        choice = ((values.get(CONSENT_BLOCK) or {}).get(CONSENT_ACTION) or {}).get(
            "selected_option"
        ) or {}
        note = ((values.get(NOTE_BLOCK) or {}).get(NOTE_ACTION) or {}).get("value") or ""
        who = body.get("user") or {}
        user = str(who.get("id", ""))
        named = choice.get("value") == SHARE_NAMED
        request = EscalationRequest(
            platform="slack",
            asker=user,
            answer_id=str(meta.get("a") or ""),
            relay_channel=str(meta.get("c") or user),
            relay_thread=meta.get("t"),
            shown_name=str(who.get("name") or who.get("username") or user) if named else None,
            note=str(note),
        )
        notify = str(meta.get("n") or user)
        try:
            escalation = await self.bot.escalations.open(request)
        except Exception as exc:
            _log_failure("ask a mentor", exc)
            await self._tell(client, notify, user, request.relay_thread, error_text(exc))
            return
        post = render_mentor_post(
            question=escalation.question,
            answer=escalation.answer,
            citations=escalation.sources,
            asker_id=None if escalation.anonymous else user,
            note=escalation.note,
        )
        mentors = str(self.config.mentors_channel)
        try:
            posted = await client.chat_postMessage(
                channel=mentors, unfurl_links=False, unfurl_media=False, **_message_kwargs(post)
            )
            await self.bot.escalations.posted(escalation, f"{mentors}:{posted['ts']}")
        except Exception as exc:
            _log_failure("posting to the mentors channel", exc)
            await self.bot.escalations.abandon(escalation)
            text = "Sorry, I couldn't reach the mentors' channel; please try again later."
            await self._tell(client, notify, user, request.relay_thread, text)
            return
        await self._tell(client, notify, user, request.relay_thread, MENTOR_SENT_TEXT)

    async def _tell(
        self, client: AsyncWebClient, channel: str, user: str, thread_ts: str | None, text: str
    ) -> None:
        """An ephemeral line for one user; a failure is logged, never raised."""
        try:
            await client.chat_postEphemeral(
                channel=channel,
                user=user,
                thread_ts=thread_ts,
                **_message_kwargs(render_text(text)),
            )
        except SlackApiError as exc:
            log.warning("could not tell %s: %s", user, exc.response.get("error"))

    async def _mentor_reply(
        self, event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        """A message in the mentors channel: relay a mentor's reply in an escalation thread.

        Replies from people who are not configured mentors (or admins) are not relayed:
        anyone may be a member of the mentors channel. Each reply is relayed once across
        replicas (claimed by its message id in the database).
        """
        channel, ts = str(event.get("channel", "")), str(event.get("ts", ""))
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == ts:
            return  # top-level chatter in the mentors channel
        escalation = await self.bot.escalations.for_post("slack", f"{channel}:{thread_ts}")
        if escalation is None:
            return
        user = str(event.get("user", ""))
        if not self._is_mentor(user):
            log.info("escalation %d: reply by non-mentor %s not relayed", escalation.id, user)
            return
        text = clean_text(str(event.get("text") or ""), context.bot_user_id)
        if not text:
            return
        name = await _display_name(client, event)
        reply = MentorReply(
            platform="slack",
            message_id=f"{channel}:{ts}",
            escalation_id=escalation.id,
            mentor=user,
            mentor_name=name,
            text=text,
        )
        if not await self.bot.escalations.claim_reply(reply):
            return  # another replica (or a redelivery) relayed it
        try:
            await client.chat_postMessage(
                channel=escalation.relay_channel,
                thread_ts=escalation.relay_thread,
                unfurl_links=False,
                unfurl_media=False,
                **_message_kwargs(render_relay(relay_text(name, text))),
            )
        except SlackApiError as exc:
            log.warning("escalation %d: relay failed: %s", escalation.id, exc.response.get("error"))
            confirmation = "Sorry, I couldn't deliver this reply to the asker."
        else:
            confirmation = MENTOR_RELAYED_TEXT
        with contextlib.suppress(SlackApiError):
            await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=confirmation)

    async def on_add_to_knowledge(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        """Message shortcut "Add to knowledge" on a relayed mentor reply: save it for review."""
        await ack()
        user = str((body.get("user") or {}).get("id", ""))
        if not self._is_mentor(user):
            log.info("add to knowledge refused for non-mentor %s", user)
            await _respond_quietly(respond, render_text(str(NotAMentor())))
            return
        channel = str((body.get("channel") or {}).get("id", ""))
        ts = str((body.get("message") or {}).get("ts") or body.get("message_ts") or "")
        url: str | None = None
        try:
            url = str((await client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"])
        except SlackApiError as exc:  # the file is still useful without a link
            log.info("no permalink for %s:%s (%s)", channel, ts, exc.response.get("error"))
        try:
            item = await self.bot.escalations.add_to_knowledge("slack", f"{channel}:{ts}", url=url)
        except Exception as exc:
            _log_failure("add to knowledge", exc)
            await _respond_quietly(respond, render_text(error_text(exc)))
            return
        text = (
            f":inbox_tray: Saved for review as `{escape_mrkdwn(item.name)}`. An admin adds it "
            f"with `careerbot review accept {escape_mrkdwn(item.name)}` and a reload."
        )
        await _respond_quietly(respond, render_text(text))

    async def on_suggestion(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        """A suggested question clicked: ask it in the same conversation, as the clicker."""
        await ack()
        click = question_from_suggestion(
            body, action, team_id=context.team_id or "", assistant=self.config.assistant
        )
        if click is None or (body.get("container") or {}).get("is_ephemeral"):
            await _respond_quietly(respond, render_text(EXPIRED_ANSWER_TEXT))
            return
        question = click.question
        who = f"<@{question.asker}>" if _USER_ID.match(question.asker) else "Someone"
        # The value comes back from Slack as sent, but cap the echo like a shared question.
        shown = question.text if len(question.text) <= 300 else question.text[:299] + "…"
        try:
            await client.chat_postMessage(
                channel=click.channel,
                thread_ts=click.thread_ts,
                **_message_kwargs(render_text(f"{who} asked: {escape_mrkdwn(shown)}")),
            )
        except SlackApiError as exc:  # still answer; only the echo of the question is lost
            log.warning("could not post the clicked question: %s", exc.response.get("error"))
        await self._answer(client, question, channel=click.channel, thread_ts=click.thread_ts)

    # --- AI-app surface (bolt's Assistant) ------------------------------------------------

    async def on_assistant_thread_started(
        self,
        event: dict[str, Any],
        client: AsyncWebClient,
        set_suggested_prompts: AsyncSetSuggestedPrompts,
    ) -> None:
        """An assistant thread opened: a greeting, and starter questions from the posts."""
        thread = event.get("assistant_thread") or {}
        channel, thread_ts = str(thread.get("channel_id", "")), thread.get("thread_ts")
        try:
            await client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, **_message_kwargs(render_assistant_greeting())
            )
            starters = await self.bot.starter_questions()
            if starters:
                await set_suggested_prompts(
                    prompts=assistant_prompts(starters), title=ASSISTANT_PROMPTS_TITLE
                )
        except Exception as exc:  # no prompts is not worth an error message to the user
            _log_failure("opening an assistant thread", exc)

    async def on_assistant_context_changed(self) -> None:
        """The user switched channels beside the thread (answers do not depend on it), or the
        assistant surface is off: nothing to do but acknowledge."""

    async def on_assistant_message(
        self,
        event: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        set_status: AsyncSetStatus,
    ) -> None:
        """A message in an assistant thread: a status while answering, then the answer."""
        if event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return
        channel, ts = str(event.get("channel", "")), str(event.get("ts", ""))
        if not await self._first_delivery(context, channel, ts):
            return
        team = context.team_id or ""
        thread_ts = str(event.get("thread_ts") or ts)
        question = Question(
            text=clean_text(str(event.get("text") or ""), context.bot_user_id),
            asker=str(event["user"]),
            conversation_key=thread_key(team, channel, thread_ts),
            platform="slack",
            channel=channel,
        )
        if question.text:
            try:
                await set_status(ASSISTANT_STATUS)  # Slack clears it when the reply is posted
            except SlackApiError as exc:
                log.warning("assistant.threads.setStatus failed: %s", exc.response.get("error"))
        await self._answer(client, question, channel=channel, thread_ts=thread_ts)


async def _display_name(client: AsyncWebClient, event: Mapping[str, Any]) -> str:
    """The author's display name from the event's profile, else users.info, else ''."""
    profile = event.get("user_profile") or {}
    name = profile.get("display_name") or profile.get("real_name")
    if name:
        return str(name)
    try:
        info = await client.users_info(user=str(event.get("user", "")))
    except SlackApiError:
        return ""
    profile = (info.get("user") or {}).get("profile") or {}
    return str(profile.get("display_name") or profile.get("real_name") or "")


def _actor(command: dict[str, Any]) -> Actor:
    # The trigger id names this one invocation: a redelivered command is audited once.
    return Actor(
        id=str(command.get("user_id", "")),
        platform="slack",
        request_id=str(command.get("trigger_id") or ""),
    )


def assistant_prompts(starters: Sequence[Suggestion]) -> list[dict[str, str]]:
    """Slack suggested prompts: a short title on the chip, the whole question as the message."""
    return [
        {"title": s.text if len(s.text) <= 75 else s.text[:74].rstrip() + "…", "message": s.text}
        for s in starters
    ]


async def _respond_quietly(respond: AsyncRespond, message: SlackMessage) -> None:
    await respond(response_type="ephemeral", replace_original=False, **_message_kwargs(message))


def report_poster(client: AsyncWebClient, channel: str) -> Callable[[Report], Awaitable[None]]:
    """Posts the weekly knowledge-gap report to a Slack channel (chat.postMessage)."""

    async def post(report: Report) -> None:
        await client.chat_postMessage(channel=channel, **_message_kwargs(render_report(report)))

    return post


def _log_failure(what: str, exc: BaseException) -> None:
    if isinstance(exc, CareerbotError):
        log.info("%s failed: %s: %s", what, type(exc).__name__, exc)
    else:
        log.exception("%s failed unexpectedly", what, exc_info=exc)


def create_app(bot: CareerBot, config: SlackConfig) -> AsyncApp:
    """Build the bolt AsyncApp with every careerbot listener registered."""
    client = AsyncWebClient(token=config.bot_token, base_url=_with_slash(config.api_url))
    # Honour Slack's 429 Retry-After instead of dropping an answer under rate limiting.
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    app = AsyncApp(
        client=client,
        # Passed explicitly (even when empty) so bolt never falls back to SLACK_* env vars.
        signing_secret=config.signing_secret,
        # Without a secret, `_socket_mode_only` below refuses every HTTP request instead.
        request_verification_enabled=bool(config.signing_secret),
        process_before_response=config.process_before_response,
        name="careerbot",
    )
    if not config.signing_secret:
        app.middleware(_socket_mode_only)
    handlers = SlackHandlers(bot, config)
    app.middleware(handlers.drop_redeliveries)
    app.event("app_mention")(handlers.on_mention)
    app.event("message")(handlers.on_message)
    app.command(config.command)(handlers.on_command)
    app.action(ACTION_FEEDBACK_UP)(handlers.on_feedback)
    app.action(ACTION_FEEDBACK_DOWN)(handlers.on_feedback)
    app.action(ACTION_SHARE)(handlers.on_share)
    app.view_submission(FEEDBACK_FORM_CALLBACK)(handlers.on_feedback_reason)
    app.action(ACTION_ASK_MENTOR)(handlers.on_ask_mentor)
    app.view(VIEW_MENTOR_CONSENT)(handlers.on_mentor_consent)
    app.shortcut(SHORTCUT_ADD_TO_KNOWLEDGE)(handlers.on_add_to_knowledge)
    app.action(ACTION_SUGGEST_PATTERN)(handlers.on_suggestion)
    if config.assistant:
        app.assistant(_assistant(handlers))
    else:  # a manifest with the assistant events, but the surface off: acknowledge, ignore
        app.event("assistant_thread_started")(handlers.on_assistant_context_changed)
        app.event("assistant_thread_context_changed")(handlers.on_assistant_context_changed)
    return app


def _assistant(handlers: SlackHandlers) -> AsyncAssistant:
    """Bolt's Assistant middleware routed to the handlers (assistant threads only)."""
    assistant = AsyncAssistant()
    assistant.thread_started(handlers.on_assistant_thread_started)
    assistant.thread_context_changed(handlers.on_assistant_context_changed)
    assistant.user_message(handlers.on_assistant_message)
    return assistant


async def _socket_mode_only(
    request: AsyncBoltRequest,
    next: Callable[[], Any],
) -> BoltResponse | None:
    # Without a signing secret nothing arriving over HTTP can be verified: refuse it all.
    if request.mode != "socket_mode":
        log.warning("rejected an HTTP request: no signing secret configured")
        return BoltResponse(status=401, body='{"error": "signing secret not configured"}')
    await next()
    return None


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


async def run_socket_mode(app: AsyncApp, app_token: str) -> None:
    """Serve over Socket Mode (outbound WebSocket; nothing public) until cancelled."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(app, app_token)
    await handler.connect_async()
    log.info("careerbot connected to Slack over Socket Mode")
    try:
        await asyncio.Event().wait()
    finally:
        await handler.close_async()


async def start_http(
    app: AsyncApp, host: str, port: int, path: str = EVENTS_PATH
) -> tuple[web.AppRunner, Sequence[Any]]:
    """Start serving `path` over HTTP; returns the runner and the bound addresses."""
    server = AsyncSlackAppServer(port=port, path=path, app=app, host=host)
    runner = web.AppRunner(server.web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner, runner.addresses


async def run_http(app: AsyncApp, host: str, port: int) -> None:
    """Serve `/slack/events` over HTTP with request signature verification until cancelled."""
    runner, addresses = await start_http(app, host, port)
    log.info("careerbot serving Slack events on %s%s", addresses, EVENTS_PATH)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
