"""Discord adapter: DMs, mentions and replies in servers, and slash commands over CareerBot.

Conversation keys (what the core remembers history by):

- DM: ``discord:dm:<user_id>``; every DM is a turn of the user's one conversation.
- Any message in a thread: ``discord:thread:<thread_id>``; the thread is the conversation.
- A mention in a channel starts a reply chain ``discord:chain:<channel_id>:<message_id>``;
  replying to any of the bot's answers continues that chain's conversation. The map from the
  bot's message ids to chains lives in the database (through CareerBot), so a reply after a
  restart, or handled by another shard or replica, continues its conversation.
- ``/ask`` in a server channel: ``discord:slash:<channel_id>:<user_id>``; in DMs and threads
  it shares the DM/thread conversation.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from bot.adapters.render_discord import (
    ATTACHMENT_ONLY,
    MENTOR_RELAY_FAILED,
    MENTOR_RELAYED,
    MENTOR_SENT,
    MENTORS_UNREACHABLE,
    render_answer,
    render_asked,
    render_dry_run,
    render_error,
    render_forget,
    render_help,
    render_mentor_post,
    render_my_data,
    render_partial,
    render_relay,
    render_reload,
    render_report,
    render_rollback,
    render_status,
    suggestion_labels,
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
    FEEDBACK_REASONS,
    MAX_REASON_CHARS,
    Answer,
    CareerbotError,
    Feedback,
    NotAuthorized,
    Question,
    RateLimited,
    Suggestion,
)
from bot.report import Report, parse_since
from bot.streaming import ThrottledEdits

if TYPE_CHECKING:
    from bot.service import CareerBot

log = logging.getLogger(__name__)

MESSAGE_HANDLED_EVENT = "message_handled"
"""Dispatched as ``(message, outcome)`` after every incoming message; ``bot.wait_for`` it."""

SUGGESTION_HANDLED_EVENT = "suggestion_handled"
"""Dispatched as ``(interaction, outcome)`` after a suggested-question click; ``wait_for`` it."""

_THREAD_NAME_LIMIT = 90
_ANSWERED_TYPES = (discord.MessageType.default, discord.MessageType.reply)


@dataclass(frozen=True)
class DiscordConfig:
    """Plain values the Discord adapter needs; wiring fills them from Settings."""

    admin_user_ids: frozenset[int] = frozenset()
    admin_role_ids: frozenset[int] = frozenset()
    test_guild_id: int | None = None
    thread_mode: bool = False
    sync_commands: bool = True
    api_base: str | None = None
    """Discord REST base including the version, e.g. ``http://127.0.0.1:8080/api/v10``."""
    gateway_url: str | None = None
    """Gateway websocket URL, e.g. ``ws://127.0.0.1:8080/gateway``; tests only."""
    shard_id: int | None = None
    """This process's shard (with shard_count); None lets discord.py run one session."""
    shard_count: int | None = None
    stream_interval: float = 1.0
    """Streamed LLM text edits the reply at most this often (seconds)."""
    auto_answer_channel_ids: frozenset[int] = frozenset()
    """Text channels (a thread per question) and forums (each new post) answered unasked."""
    mentors_channel_id: int | None = None
    """"Ask a mentor" posts here, one thread per question; None = no button."""
    mentor_user_ids: frozenset[int] = frozenset()
    mentor_role_ids: frozenset[int] = frozenset()


class DiscordSetupError(RuntimeError):
    """Discord refused to start the bot for a reason the operator must fix (one line)."""


def dm_key(user_id: int) -> str:
    """Conversation key of a user's DMs with the bot."""
    return f"discord:dm:{user_id}"


def thread_key(thread_id: int) -> str:
    """Conversation key of a thread."""
    return f"discord:thread:{thread_id}"


def chain_key(channel_id: int, root_message_id: int) -> str:
    """Conversation key of a reply chain started by a mention in a channel."""
    return f"discord:chain:{channel_id}:{root_message_id}"


def slash_key(channel_id: int, user_id: int) -> str:
    """Conversation key of one user's ``/ask`` questions in a server channel."""
    return f"discord:slash:{channel_id}:{user_id}"


def strip_bot_mentions(content: str, bot_id: int, role_ids: Sequence[int] = ()) -> str:
    """The question text: the message without mentions of the bot (or its managed role)."""
    text = re.sub(rf"<@!?{bot_id}>", " ", content)
    for role_id in role_ids:
        text = text.replace(f"<@&{role_id}>", " ")
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def thread_name(question: str) -> str:
    """A thread title from the question's first line, short enough for Discord's limit."""
    first = " ".join(question.strip().splitlines()[0].split()) if question.strip() else ""
    if not first:
        return "Career question"
    return first if len(first) <= _THREAD_NAME_LIMIT else first[: _THREAD_NAME_LIMIT - 1] + "…"


def question_from_message(
    message: discord.Message, *, bot_id: int, conversation_key: str
) -> Question:
    """Build the Question for a message addressed to the bot, from the message alone.

    The bot's own mention (and its managed role's) is stripped; where the reply goes is the
    caller's routing decision, passed in as the conversation key.
    """
    guild = message.guild
    role_ids = [role.id] if guild is not None and (role := guild.self_role) else []
    return Question(
        text=strip_bot_mentions(message.content, bot_id, role_ids),
        asker=str(message.author.id),
        conversation_key=conversation_key,
        platform="discord",
        channel=str(message.channel.id),
    )


def question_from_interaction(
    interaction: discord.Interaction, text: str, conversation_key: str | None = None
) -> Question:
    """Build the Question for `/ask`: one conversation per user per channel (or DM).

    A button click passes the conversation of the message it was clicked on.
    """
    return Question(
        text=text,
        asker=str(interaction.user.id),
        conversation_key=conversation_key or _interaction_key(interaction),
        platform="discord",
        channel=str(interaction.channel_id) if interaction.channel_id else None,
    )


@dataclass(frozen=True)
class _Route:
    """Where an addressed message's answer goes and which conversation it belongs to."""

    key: str
    reply: bool = True
    open_thread: bool = False
    only_if_known: bool = False
    auto: bool = False
    """Not addressed to the bot: an auto-answer channel's question or a new forum post."""
    title: str = ""
    """A forum post's title, read as part of its question."""


class _StreamedReply:
    """The reply an LLM answer streams into; the final rendered answer replaces it."""

    def __init__(
        self,
        bot: CareerCog,
        channel: discord.abc.Messageable,
        reference: discord.Message | None,
        key: str,
    ) -> None:
        self.bot = bot
        self.channel = channel
        self.reference = reference
        self.key = key
        self.message: discord.Message | None = None
        self.edits = ThrottledEdits(self._show, bot.config.stream_interval, at_once=True)

    async def _show(self, text: str) -> None:
        content = render_partial(text)
        if self.message is not None:
            await self.message.edit(content=content)
            return
        sent = await self.bot._send(self.channel, [content], reference=self.reference, key=self.key)
        self.message = sent[0] if sent else None

    async def finish(
        self, chunks: Sequence[str], view: discord.ui.View | None = None
    ) -> list[discord.Message]:
        """Show the final chunks: the first replaces the streamed text, the rest follow.

        `view` (the answer's buttons) goes on the last message.
        """
        if self.message is None or not chunks:
            return await self.bot._send(
                self.channel, chunks, reference=self.reference, key=self.key, view=view
            )
        try:
            if view is not None and len(chunks) == 1:
                await self.message.edit(content=chunks[0], view=view)
            else:
                await self.message.edit(content=chunks[0])
        except discord.HTTPException as exc:  # deleted meanwhile: post the answer instead
            log.warning("could not edit the streamed reply (%s); sending it", exc)
            return await self.bot._send(
                self.channel, chunks, reference=self.reference, key=self.key, view=view
            )
        rest = await self.bot._send(
            self.channel, chunks[1:], reference=None, key=self.key, view=view
        )
        return [self.message, *rest]


@contextlib.asynccontextmanager
async def _typing(channel: discord.abc.Messageable) -> AsyncIterator[None]:
    """Show "typing…" while the body runs; a channel that forbids it only loses the indicator."""
    typing = channel.typing()
    try:
        await typing.__aenter__()
    except discord.HTTPException as exc:
        log.warning("cannot show typing in channel %s: %s", getattr(channel, "id", "?"), exc)
        yield
        return
    try:
        yield
    finally:
        await typing.__aexit__(None, None, None)


# Feedback -------------------------------------------------------------------------------------

FEEDBACK_ID = re.compile(r"careerbot:fb:(?P<vote>up|down):(?P<answer_id>[0-9A-Za-z_-]{1,64})")


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=FEEDBACK_ID
):
    """👍/👎 under an answer; the custom_id carries the answer id, so any bot instance (after
    a restart, on another replica) handles a click on any answer ever sent."""

    def __init__(self, vote: str, answer_id: str) -> None:
        up = vote == "up"
        super().__init__(
            discord.ui.Button(
                label="Helpful" if up else "Not helpful",
                emoji="👍" if up else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"careerbot:fb:{vote}:{answer_id}",
            )
        )
        self.helpful = up
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> FeedbackButton:
        """Rebuild the button from a clicked custom_id."""
        return cls(match["vote"], match["answer_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        """Store the vote; a 👎 answers with the optional-reason modal, a 👍 with thanks."""
        client = interaction.client
        if not isinstance(client, CareerDiscordBot):
            return
        user = str(interaction.user.id)
        try:
            await client.careerbot.record_feedback(
                Feedback(self.answer_id, user, "discord", helpful=self.helpful)
            )
        except Exception as exc:
            await interaction.response.send_message(_friendly(exc, "feedback"), ephemeral=True)
            return
        if self.helpful:
            await interaction.response.send_message(FEEDBACK_NOTED, ephemeral=True)
        else:
            await interaction.response.send_modal(
                FeedbackReasonModal(self.answer_id, interaction.user.id)
            )


class FeedbackReasonModal(discord.ui.Modal):
    """The optional reason for a 👎: a choice and free text, both optional."""

    def __init__(self, answer_id: str, user_id: int) -> None:
        super().__init__(
            title="Thanks — noted. What was wrong?",
            custom_id=f"careerbot:fbr:{answer_id}:{user_id}",
            timeout=900,
        )
        self.answer_id = answer_id
        self.reason: discord.ui.Select[discord.ui.Modal] = discord.ui.Select(
            custom_id="reason",
            placeholder="Pick a reason (optional)",
            min_values=0,
            max_values=1,
            required=False,
            options=[discord.SelectOption(label=t, value=k) for k, t in FEEDBACK_REASONS.items()],
        )
        self.details: discord.ui.TextInput[discord.ui.Modal] = discord.ui.TextInput(
            custom_id="details",
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=MAX_REASON_CHARS,
        )
        self.add_item(discord.ui.Label(text="Reason", component=self.reason))
        self.add_item(discord.ui.Label(text="Anything else?", component=self.details))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Attach the reason to the person's vote, then thank them (only they see it)."""
        client = interaction.client
        if not isinstance(client, CareerDiscordBot):
            return
        reason = self.reason.values[0] if self.reason.values else None
        text = (self.details.value or "").strip()
        reply = FEEDBACK_NOTED
        if reason is not None or text:
            try:
                await client.careerbot.record_feedback_reason(
                    self.answer_id, "discord", str(interaction.user.id), reason or "other", text
                )
            except Exception as exc:
                reply = _friendly(exc, "feedback")
        await interaction.response.send_message(reply, ephemeral=True)


def feedback_view(answer_id: str, view: discord.ui.View | None = None) -> discord.ui.View | None:
    """`view` (the answer's other buttons, if any) plus 👍/👎; None when there is no answer to
    rate and no other button."""
    if not answer_id or not FEEDBACK_ID.fullmatch(f"careerbot:fb:up:{answer_id}"):
        return view
    view = view if view is not None else discord.ui.View(timeout=None)
    view.add_item(FeedbackButton("up", answer_id))
    view.add_item(FeedbackButton("down", answer_id))
    return view


def _friendly(exc: BaseException, doing: str) -> str:
    """Log an error at the right level and return the text users see (render_error).

    A foreseeable fault (a CareerbotError) is one INFO line; anything else is logged with
    its traceback for the operator, never shown to the user.
    """
    if isinstance(exc, CareerbotError):
        log.info("%s: %s: %s", doing, type(exc).__name__, exc)
    else:
        log.error("%s failed", doing, exc_info=exc)
    return render_error(exc)


class CareerCog(commands.Cog, name="Career advice"):
    """Answers DMs, mentions and replies, and provides the slash commands."""

    def __init__(self, bot: CareerDiscordBot) -> None:
        self.bot = bot
        self.core = bot.careerbot
        self.config = bot.config
        self.mentors = MentorDesk(self)

    # Messages ---------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer a message addressed to the bot; never raises."""
        outcome = "crashed"
        try:
            outcome = await self.handle_message(message)
        except Exception:
            log.exception("failed to handle message %s", message.id)
        finally:
            self.bot.dispatch(MESSAGE_HANDLED_EVENT, message, outcome)

    async def handle_message(self, message: discord.Message) -> str:
        """Answer one message if it is addressed to the bot; returns what happened (for logs)."""
        me = self.bot.user
        if me is None:
            return "ignored:not-ready"
        if message.author.id == me.id:
            return "ignored:self"
        if message.author.bot or message.webhook_id is not None:
            return "ignored:bot"
        if message.type not in _ANSWERED_TYPES:
            return "ignored:system"
        if self.mentors.in_mentors_thread(message):
            return await self.mentors.relay(message)
        route = await self._route(message, me.id)
        if route is None:
            return "ignored:not-addressed"
        # Claimed in the database: a replayed event, or the same message delivered to another
        # unsharded session or replica, is answered once.
        if not await self.core.claim_event("discord", str(message.id)):
            return "ignored:duplicate"
        if route.only_if_known and not await self.core.has_conversation(route.key):
            return "ignored:not-addressed"

        question = question_from_message(message, bot_id=me.id, conversation_key=route.key)
        if route.auto:
            if route.title:  # a forum post: its title is part of the question
                question = replace(question, text=f"{route.title}\n\n{question.text}".strip())
            decision = await self._auto_answer_decision(message, question.text)
            if decision != "answer":
                return f"ignored:{decision}"
        reference = message if route.reply else None
        if not question.text:
            reply = ATTACHMENT_ONLY if message.attachments else render_help(me.mention)
            await self._send(message.channel, [reply], reference=reference, key=route.key)
            return "attachment-only" if message.attachments else "help"

        admitted = await self._admit(message, question, reference)
        if admitted is not None:
            return admitted

        channel: discord.abc.Messageable = message.channel
        key = route.key
        if route.open_thread:
            thread = await self._open_thread(message, question.text)
            if thread is not None:
                channel, key, reference = thread, thread_key(thread.id), None
                question = replace(question, conversation_key=key, channel=str(thread.id))

        stream = _StreamedReply(self, channel, reference, key)
        async with _typing(channel):
            chunks, outcome, view = await self._answer(question, on_partial=stream.edits)
        await stream.edits.close()  # the final edit below must be the last one
        sent = await stream.finish(chunks, view)
        if not sent:
            return "send-failed"
        log.info("message %s: %s in %d message(s) (%s)", message.id, outcome, len(sent), key)
        return outcome

    async def _route(self, message: discord.Message, me_id: int) -> _Route | None:
        if message.guild is None:
            return _Route(dm_key(message.author.id), reply=False)
        self_role = message.guild.self_role
        mentioned = me_id in message.raw_mentions or (
            self_role is not None and self_role.id in message.raw_role_mentions
        )
        replied_to = await self._replied_bot_message(message, me_id)
        channel = message.channel
        if isinstance(channel, discord.Thread):
            if mentioned or replied_to is not None:
                return _Route(thread_key(channel.id))
            if self.config.thread_mode and channel.owner_id == me_id:
                return _Route(thread_key(channel.id), reply=False, only_if_known=True)
            return self._forum_post(channel, message)
        if replied_to is not None:
            message_id, known = replied_to
            return _Route(known or chain_key(channel.id, message_id))
        if mentioned:
            return _Route(chain_key(channel.id, message.id), open_thread=self.config.thread_mode)
        if channel.id in self.config.auto_answer_channel_ids and message.reference is None:
            return _Route(chain_key(channel.id, message.id), open_thread=True, auto=True)
        return None

    def _forum_post(self, channel: discord.Thread, message: discord.Message) -> _Route | None:
        """A new post in an auto-answer forum: its starter message shares the post's id."""
        if message.id != channel.id or channel.parent_id not in self.config.auto_answer_channel_ids:
            return None
        return _Route(thread_key(channel.id), reply=False, auto=True, title=channel.name)

    async def _auto_answer_decision(self, message: discord.Message, text: str) -> str:
        """Whether an unaddressed message in a listed channel or forum is answered (core rule)."""
        channel = message.channel
        where = channel.parent_id if isinstance(channel, discord.Thread) else channel.id
        configured = {str(i) for i in self.config.auto_answer_channel_ids}
        others = bool(message.raw_mentions or message.raw_role_mentions or message.mention_everyone)
        try:
            return await self.core.auto_answer_decision(
                "discord",
                ChannelMessage(text=text, channel=str(where), mentions_others=others),
                configured,
            )
        except Exception as exc:  # nobody asked us: a failure here is logged, not posted
            _friendly(exc, "deciding whether to auto-answer")
            return "error"

    async def _admit(
        self, message: discord.Message, question: Question, reference: discord.Message | None
    ) -> str | None:
        """Fair use before typing or a thread: None to go on, else the outcome of a refusal
        (the asker is told once per window)."""
        key = question.conversation_key
        # Threads count against their channel's limit; DMs have none.
        where = _limit_channel(message.channel) if message.guild is not None else None
        counted = replace(question, channel=where)
        try:
            await self.core.admit(counted, exempt=self.is_admin_author(message.author))
        except RateLimited as exc:
            if not exc.notify:
                return "rate-limited:quiet"
            await self._send(message.channel, [render_error(exc)], reference=reference, key=key)
            return "rate-limited"
        except Exception as exc:
            await self._send(
                message.channel, [_friendly(exc, "fair use")], reference=reference, key=key
            )
            return "error"
        return None

    async def _replied_bot_message(
        self, message: discord.Message, me_id: int
    ) -> tuple[int, str | None] | None:
        """(id, its conversation if remembered) of the bot message this one replies to."""
        ref = message.reference
        if ref is None or ref.message_id is None:
            return None
        known = await self.core.conversation_for_message("discord", str(ref.message_id))
        resolved = ref.resolved
        if known is not None or (
            isinstance(resolved, discord.Message) and resolved.author.id == me_id
        ):
            return ref.message_id, known
        return None

    async def _remember(self, message: discord.Message, key: str) -> None:
        try:
            await self.core.remember_message("discord", str(message.id), key)
        except Exception as exc:  # the reply was sent; only a later reply chain may break
            _friendly(exc, "remembering a reply chain")

    async def _open_thread(self, message: discord.Message, text: str) -> discord.Thread | None:
        try:
            return await message.create_thread(name=thread_name(text), auto_archive_duration=1440)
        except discord.HTTPException as exc:
            log.warning(
                "cannot open a thread in channel %s (%s); replying in the channel",
                message.channel.id,
                exc,
            )
            return None

    async def _answer(
        self,
        question: Question,
        *,
        echo: bool = False,
        on_partial: ThrottledEdits | None = None,
    ) -> tuple[list[str], str, discord.ui.View | None]:
        """Ask the core; returns the rendered messages (or the friendly error), an outcome and
        the buttons for the answer's last message (None: no buttons)."""
        try:
            answer = await self.core.answer(question, on_partial=on_partial, check_limits=False)
        except Exception as exc:
            return [_friendly(exc, "answering")], "error", None
        chunks = render_answer(answer, asked=question.text if echo else None)
        view = feedback_view(answer.answer_id, await self.mentors.answer_view(question, answer))
        view = with_suggestions(view, answer.suggestions)
        return chunks, "answered" if answer.covered else "not-covered", view

    async def _send(
        self,
        channel: discord.abc.Messageable,
        chunks: Sequence[str],
        *,
        reference: discord.Message | None,
        key: str,
        view: discord.ui.View | None = None,
    ) -> list[discord.Message]:
        """Send chunks in order (`view` on the last); a missing permission or HTTP error is
        logged, never raised."""
        sent: list[discord.Message] = []
        for i, chunk in enumerate(chunks):
            ref = reference.to_reference(fail_if_not_exists=False) if reference and i == 0 else None
            extra: dict[str, Any] = (
                {"view": view} if view is not None and i == len(chunks) - 1 else {}
            )
            try:
                if ref is None:
                    message = await channel.send(chunk, **extra)
                else:
                    message = await channel.send(
                        chunk, reference=ref, mention_author=False, **extra
                    )
            except discord.Forbidden as exc:
                log.warning(
                    "missing permission to reply in channel %s: %s",
                    getattr(channel, "id", "?"),
                    exc,
                )
                break
            except discord.HTTPException as exc:
                log.warning("could not send to channel %s: %s", getattr(channel, "id", "?"), exc)
                break
            await self._remember(message, key)
            sent.append(message)
        return sent

    # Slash commands ---------------------------------------------------------------------

    @app_commands.command(name="ask")
    @app_commands.describe(
        question="Your question, e.g. “How can I test my fit for AI safety research?”"
    )
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        """Ask a career question about AI safety; I answer from curated guides and cite them."""
        asked = question_from_interaction(interaction, question)
        key = asked.conversation_key
        try:  # fair use first: a refusal is private, and "thinking…" is never shown
            where = _limit_channel(interaction.channel) if interaction.guild_id else None
            counted = replace(asked, channel=where)
            await self.core.admit(counted, exempt=self.is_admin(interaction))
        except Exception as exc:
            await interaction.response.send_message(_friendly(exc, "/ask"), ephemeral=True)
            return
        await interaction.response.defer(thinking=True)

        async def show(text: str) -> None:  # the "thinking…" response shows the stream
            await interaction.edit_original_response(content=render_partial(text))

        stream = ThrottledEdits(show, self.config.stream_interval, at_once=True)
        chunks, outcome, view = await self._answer(asked, echo=True, on_partial=stream)
        await stream.close()
        if stream.edits and chunks:
            # The response already shows streamed text: the answer replaces it there.
            last = view if view is not None and len(chunks) == 1 else None
            try:
                if last is not None:
                    message = await interaction.edit_original_response(content=chunks[0], view=last)
                else:
                    message = await interaction.edit_original_response(content=chunks[0])
            except discord.HTTPException as exc:
                log.warning("could not edit the /ask response %s: %s", interaction.id, exc)
            else:
                await self._remember(message, key)
                chunks = chunks[1:]
        await self._followup(interaction, chunks, key=key, view=view)
        log.info("/ask %s: %s (%s)", interaction.id, outcome, key)

    @app_commands.command(name="reload")
    @app_commands.describe(dry_run="Only show what would change (files, passages, problems)")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def reload(self, interaction: discord.Interaction, dry_run: bool = False) -> None:
        """Admins: re-read the knowledge base so new or edited guides are used in answers."""
        by = _actor(interaction)
        if not await self._admin_only(
            interaction, by, ACTION_DRY_RUN if dry_run else ACTION_RELOAD
        ):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            if dry_run:
                text = render_dry_run(await self.core.reload_dry_run(by))
            else:
                text = render_reload(await self.core.reload(by))
        except Exception as exc:
            text = _friendly(exc, "/reload")
        await self._followup(interaction, [text], ephemeral=True)

    @app_commands.command(name="autoanswer")
    @app_commands.describe(
        mode="on: answer every question here without a mention; off: only mentions; status"
    )
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def autoanswer(
        self, interaction: discord.Interaction, mode: Literal["on", "off", "status"] = "status"
    ) -> None:
        """Admins: switch answering every question in this channel or forum without a mention."""
        channel = interaction.channel
        if interaction.guild_id is None or channel is None:
            await interaction.response.send_message(
                "Use `/autoanswer` in a server channel or forum.", ephemeral=True
            )
            return
        if mode != "status" and not self.is_admin(interaction):
            log.info("/autoanswer %s refused for user %s", mode, interaction.user.id)
            await interaction.response.send_message(ADMINS_ONLY, ephemeral=True)
            return
        # In a thread or forum post, the switch belongs to its channel or forum.
        where = channel.parent_id if isinstance(channel, discord.Thread) else channel.id
        try:
            if mode == "status":
                switch = await self.core.auto_answer_switch("discord", str(where))
            else:
                switch = await self.core.set_auto_answer(
                    "discord", str(where), enabled=mode == "on", by=str(interaction.user.id)
                )
            text = switch_text(
                configured=where in self.config.auto_answer_channel_ids,
                switch=switch,
                command="/autoanswer",
                changed=mode != "status",
            )
        except Exception as exc:
            text = _friendly(exc, "/autoanswer")
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="report")
    @app_commands.describe(since="Window: 24h, 7d (default), 30d, 2w or a date like 2026-11-01")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def report(self, interaction: discord.Interaction, since: str = "7d") -> None:
        """Admins: what I declined, which answers got 👎 and why, which guides are never cited."""
        if not self.is_admin(interaction):
            log.info("/report refused for user %s", interaction.user.id)
            await interaction.response.send_message(render_error(NotAuthorized()), ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            chunks = render_report(await self.core.report(parse_since(since)))
        except Exception as exc:  # BadReportWindow is one line naming the accepted forms
            chunks = [_friendly(exc, "/report")]
        await self._followup(interaction, chunks, ephemeral=True)

    @app_commands.command(name="rollback")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def rollback(self, interaction: discord.Interaction) -> None:
        """Admins: go back to the previous version of the knowledge base (undo a reload)."""
        by = _actor(interaction)
        if not await self._admin_only(interaction, by, ACTION_ROLLBACK):
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            text = render_rollback(await self.core.rollback(by))
        except Exception as exc:
            text = _friendly(exc, "/rollback")
        await self._followup(interaction, [text], ephemeral=True)

    async def _admin_only(self, interaction: discord.Interaction, by: Actor, action: str) -> bool:
        """True for an admin; anyone else gets one polite line and the refusal is audited."""
        if self.is_admin(interaction):
            return True
        log.info("/%s refused for user %s", action, by.id)
        await interaction.response.send_message(render_error(NotAuthorized()), ephemeral=True)
        try:
            await self.core.record_admin_action(by, action, "refused", "not an admin")
        except Exception as exc:
            _friendly(exc, "auditing a refusal")
        return False

    @app_commands.command(name="status")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def status(self, interaction: discord.Interaction) -> None:
        """Show what I know: how many guides, when they were last reloaded, how I answer."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            text = render_status(await self.core.status())
        except Exception as exc:
            text = _friendly(exc, "/status")
        await self._followup(interaction, [text], ephemeral=True)

    @app_commands.command(name="forget")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def forget(self, interaction: discord.Interaction) -> None:
        """Delete what I keep about you (and this thread's conversation, if used in one)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        keys = tuple(sorted({dm_key(interaction.user.id), _interaction_key(interaction)}))
        try:
            text = render_forget(
                await self.core.forget_user("discord", str(interaction.user.id), keys)
            )
        except Exception as exc:
            text = _friendly(exc, "/forget")
        await self._followup(interaction, [text], ephemeral=True)

    @app_commands.command(name="my-data")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def my_data(self, interaction: discord.Interaction) -> None:
        """See what I keep about you: messages, answers and feedback, and since when."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        keys = (dm_key(interaction.user.id),)
        try:
            text = render_my_data(
                await self.core.my_data("discord", str(interaction.user.id), keys)
            )
        except Exception as exc:
            text = _friendly(exc, "/my-data")
        await self._followup(interaction, [text], ephemeral=True)

    @app_commands.command(name="help")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def help(self, interaction: discord.Interaction) -> None:
        """How to ask me things: DMs, mentions, replies and the slash commands."""
        me = self.bot.user
        await interaction.response.send_message(
            render_help(me.mention if me else None), ephemeral=True
        )

    def is_admin(self, interaction: discord.Interaction) -> bool:
        """Configured admin user, a configured admin role, or Manage Server permission."""
        user = interaction.user
        if user.id in self.config.admin_user_ids:
            return True
        if not isinstance(user, discord.Member):
            return False
        if self.config.admin_role_ids & {role.id for role in user.roles}:
            return True
        permissions = interaction.permissions
        return permissions.manage_guild or permissions.administrator

    def is_admin_author(self, author: discord.User | discord.Member) -> bool:
        """is_admin for a message's author: configured user or role, or Manage Server."""
        if author.id in self.config.admin_user_ids:
            return True
        if not isinstance(author, discord.Member):
            return False
        if self.config.admin_role_ids & {role.id for role in author.roles}:
            return True
        permissions = author.guild_permissions
        return permissions.manage_guild or permissions.administrator

    async def _followup(
        self,
        interaction: discord.Interaction,
        chunks: Sequence[str],
        *,
        ephemeral: bool = False,
        key: str | None = None,
        view: discord.ui.View | None = None,
    ) -> None:
        for i, chunk in enumerate(chunks):
            extra: dict[str, Any] = (
                {"view": view} if view is not None and i == len(chunks) - 1 else {}
            )
            try:
                message = await interaction.followup.send(
                    chunk, ephemeral=ephemeral, wait=True, **extra
                )
            except discord.HTTPException as exc:
                log.warning("could not follow up interaction %s: %s", interaction.id, exc)
                return
            if key is not None:
                await self._remember(message, key)

    # Suggested questions ----------------------------------------------------------------

    async def on_suggestion(self, interaction: discord.Interaction, key: str) -> None:
        """A suggested question clicked: ask it in the same conversation, as the clicker."""
        outcome = "crashed"
        try:
            outcome = await self._ask_suggestion(interaction, key)
        except Exception:
            log.exception("failed to handle suggestion click %s", interaction.id)
        finally:
            self.bot.dispatch(SUGGESTION_HANDLED_EVENT, interaction, outcome)

    async def _ask_suggestion(self, interaction: discord.Interaction, key: str) -> str:
        text = await self.core.suggestion(key)
        if text is None:  # the post or section is gone since the buttons were made
            await interaction.response.send_message(STALE_SUGGESTION, ephemeral=True)
            return "stale"
        channel = interaction.channel
        message = interaction.message
        if channel is None or not isinstance(channel, discord.abc.Messageable):
            await interaction.response.send_message(STALE_SUGGESTION, ephemeral=True)
            return "no-channel"
        await interaction.response.defer()  # acknowledged; the answer is a new message
        conversation = await self._clicked_conversation(interaction)
        question = question_from_interaction(interaction, text, conversation)
        asked = render_asked(interaction.user.mention, text)
        in_channel = interaction.guild_id is not None and not isinstance(channel, discord.Thread)
        reference = message if in_channel else None  # a reply keeps the chain visible
        echoed = await self._send(channel, [asked], reference=reference, key=conversation)
        stream = _StreamedReply(self, channel, echoed[0] if echoed else reference, conversation)
        async with _typing(channel):
            chunks, outcome, view = await self._answer(question, on_partial=stream.edits)
        await stream.edits.close()
        sent = await stream.finish(chunks, view)
        return outcome if sent else "send-failed"

    async def _clicked_conversation(self, interaction: discord.Interaction) -> str:
        """The conversation the clicked answer belongs to (DM, thread or reply chain)."""
        if interaction.guild_id is None or interaction.channel_id is None:
            return dm_key(interaction.user.id)
        if isinstance(interaction.channel, discord.Thread):
            return thread_key(interaction.channel_id)
        message = interaction.message
        if message is None:
            return slash_key(interaction.channel_id, interaction.user.id)
        known = await self.core.conversation_for_message("discord", str(message.id))
        return known or chain_key(interaction.channel_id, message.id)


STALE_SUGGESTION = (
    "That suggestion is no longer available (the posts have changed); ask it in your own words."
)


class SuggestionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"careerbot:suggest:(?P<key>[0-9a-f]{16})",
):
    """A suggested-question button that works after restarts and on any replica.

    The custom_id carries only the section's key; the question is looked up from the index.
    """

    ROW = 2  # rows 0-1 are left to the answer's other buttons (feedback, mentor)

    def __init__(self, key: str, label: str = "Ask") -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"careerbot:suggest:{key}",
            ),
            row=self.ROW,
        )
        self.key = key

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[discord.Client],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> SuggestionButton:
        """Rebuild the button from a click (after a restart too)."""
        return cls(match["key"], getattr(item, "label", None) or "Ask")

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Ask the suggestion through the career cog."""
        cog = (
            interaction.client.get_cog(CareerCog.__cog_name__)
            if isinstance(interaction.client, commands.Bot)
            else None
        )
        if not isinstance(cog, CareerCog):
            log.error("suggestion clicked but the career cog is not loaded")
            return
        await cog.on_suggestion(interaction, self.key)


def suggestion_items(suggestions: Sequence[Suggestion]) -> list[SuggestionButton]:
    """One persistent button per suggested question (all in one row)."""
    return [SuggestionButton(key, label) for label, key in suggestion_labels(suggestions)]


def with_suggestions(
    view: discord.ui.View | None, suggestions: Sequence[Suggestion]
) -> discord.ui.View | None:
    """The answer's buttons plus one per suggested question (in a row of their own)."""
    items = suggestion_items(suggestions)
    if not items:
        return view
    view = view or discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view


def _limit_channel(channel: object) -> str | None:
    """The server channel a question counts against for fair use: a thread's parent."""
    if channel is None:
        return None
    if isinstance(channel, discord.Thread):
        return str(channel.parent_id)
    return str(getattr(channel, "id", "")) or None


def _actor(interaction: discord.Interaction) -> Actor:
    # The interaction id names this one invocation: a replayed event is audited once.
    return Actor(id=str(interaction.user.id), platform="discord", request_id=str(interaction.id))


# "Ask a mentor" -------------------------------------------------------------------------------

MENTOR_BUTTON_PREFIX = "careerbot:mentor:"
ADD_TO_KNOWLEDGE = "Add to knowledge"
SHARE_NAMED = "named"
SHARE_ANONYMOUS = "anonymous"


class AskMentorButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"careerbot:mentor:(?P<answer_id>[0-9A-Za-z_-]{1,64})",
):
    """The "Ask a mentor" button; its custom_id carries the answer id, so it works after a
    restart and on any replica (the answer is kept in the database)."""

    def __init__(self, answer_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Ask a mentor",
                emoji="🙋",
                style=discord.ButtonStyle.secondary,
                custom_id=f"{MENTOR_BUTTON_PREFIX}{answer_id}",
            )
        )
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> AskMentorButton:
        """Rebuild the button from a click (discord.py calls this for persistent items)."""
        return cls(match["answer_id"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Ask for consent first (a modal); nothing is sent until the asker submits it."""
        cog = interaction.client.get_cog(CareerCog.__cog_name__)
        if isinstance(cog, CareerCog):
            await cog.mentors.consent(interaction, self.answer_id)


def mentor_items(answer_id: str) -> list[discord.ui.Item[Any]]:
    """The answer's "Ask a mentor" component (own function, so other buttons can join it)."""
    return [AskMentorButton(answer_id)]


class MentorConsentModal(discord.ui.Modal, title="Ask a mentor"):
    """Consent: show my name or share anonymously, plus an optional note; Cancel closes it."""

    def __init__(self, desk: MentorDesk, answer_id: str) -> None:
        super().__init__(timeout=900)
        self.desk = desk
        self.answer_id = answer_id
        self.share: discord.ui.RadioGroup[MentorConsentModal] = discord.ui.RadioGroup(
            custom_id="share_as",
            options=[
                discord.RadioGroupOption(label="Share with my name", value=SHARE_NAMED),
                discord.RadioGroupOption(label="Share anonymously", value=SHARE_ANONYMOUS),
            ],
        )
        self.note: discord.ui.TextInput[MentorConsentModal] = discord.ui.TextInput(
            custom_id="note", style=discord.TextStyle.paragraph, required=False, max_length=1000
        )
        self.add_item(
            discord.ui.Label(
                text="Show the mentors your name?",
                description="Your question, my answer and its sources go to the mentors.",
                component=self.share,
            )
        )
        self.add_item(
            discord.ui.Label(text="A note for the mentors (optional)", component=self.note)
        )

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        """Send the escalation with the choice made."""
        await self.desk.send(
            interaction,
            self.answer_id,
            named=self.share.value == SHARE_NAMED,
            note=self.note.value or "",
        )


class MentorDesk:
    """Discord side of "Ask a mentor": consent, the mentors' post and thread, relaying replies,
    and the "Add to knowledge" message command. The logic lives in bot.escalation."""

    def __init__(self, cog: CareerCog) -> None:
        self.cog = cog
        self.bot = cog.bot
        self.core = cog.core
        self.config = cog.config

    def install(self) -> None:
        """Register the persistent button, and the message context menu when mentors are set."""
        self.bot.add_dynamic_items(AskMentorButton)
        if not self.enabled:
            return

        async def add_to_knowledge(
            interaction: discord.Interaction[Any], message: discord.Message
        ) -> None:
            await self.add_to_knowledge(interaction, message)

        self.bot.tree.add_command(
            app_commands.ContextMenu(name=ADD_TO_KNOWLEDGE, callback=add_to_knowledge)
        )

    @property
    def enabled(self) -> bool:
        """Whether a mentors channel is configured (otherwise no button is shown)."""
        return self.config.mentors_channel_id is not None

    def is_mentor(self, user: discord.abc.User) -> bool:
        """A configured mentor (user or role) or admin (user or role)."""
        users = self.config.mentor_user_ids | self.config.admin_user_ids
        if user.id in users:
            return True
        roles = {role.id for role in getattr(user, "roles", ())}
        return bool(roles & (self.config.mentor_role_ids | self.config.admin_role_ids))

    def in_mentors_thread(self, message: discord.Message) -> bool:
        """Whether the message is in a thread of the mentors channel."""
        channel = message.channel
        return (
            self.enabled
            and isinstance(channel, discord.Thread)
            and channel.parent_id == self.config.mentors_channel_id
        )

    async def answer_view(self, question: Question, answer: Answer) -> discord.ui.View | None:
        """The answer's buttons: "Ask a mentor" once the answer is kept for any replica."""
        if not self.enabled or not answer.answer_id:
            return None
        try:
            await self.core.keep_answer(question, answer)
        except Exception as exc:  # the answer still goes out, without the button
            _friendly(exc, "keeping the answer for mentors")
            return None
        view = discord.ui.View(timeout=None)
        for item in mentor_items(answer.answer_id):
            view.add_item(item)
        return view

    async def consent(self, interaction: discord.Interaction[Any], answer_id: str) -> None:
        """The button was clicked: open the consent modal."""
        if not self.enabled:
            await interaction.response.send_message(str(MentorsNotConfigured()), ephemeral=True)
            return
        await interaction.response.send_modal(MentorConsentModal(self, answer_id))

    async def send(
        self, interaction: discord.Interaction[Any], answer_id: str, *, named: bool, note: str
    ) -> None:
        """Consent given: post to the mentors channel, open a thread there, tell the asker."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        user = interaction.user
        answer_message = interaction.message
        request = EscalationRequest(
            platform="discord",
            asker=str(user.id),
            answer_id=answer_id,
            relay_channel=str(interaction.channel_id),
            relay_thread=str(answer_message.id) if answer_message is not None else None,
            shown_name=user.display_name if named else None,
            note=note,
        )
        try:
            escalation = await self.core.escalations.open(request)
        except Exception as exc:
            await self._tell(interaction, _friendly(exc, "ask a mentor"))
            return
        chunks = render_mentor_post(
            question=escalation.question,
            answer=escalation.answer,
            citations=escalation.sources,
            asker_mention=None if escalation.anonymous else user.mention,
            note=escalation.note,
        )
        try:
            channel = self.bot.get_channel(self.config.mentors_channel_id or 0)
            if channel is None:
                channel = await self.bot.fetch_channel(self.config.mentors_channel_id or 0)
            if not isinstance(channel, discord.TextChannel):
                raise TypeError(f"mentors channel is a {type(channel).__name__}")
            post = await channel.send(chunks[0])
            thread = await post.create_thread(
                name=thread_name(escalation.question), auto_archive_duration=10080
            )
            await self.core.escalations.posted(escalation, str(thread.id))
        except (discord.HTTPException, TypeError) as exc:
            log.warning("escalation %d: cannot post to the mentors channel: %s", escalation.id, exc)
            await self.core.escalations.abandon(escalation)
            await self._tell(interaction, MENTORS_UNREACHABLE)
            return
        for chunk in chunks[1:]:
            try:
                await thread.send(chunk)
            except discord.HTTPException as exc:
                log.warning("escalation %d: thread post failed: %s", escalation.id, exc)
                break
        await self._tell(interaction, MENTOR_SENT)

    async def _tell(self, interaction: discord.Interaction[Any], text: str) -> None:
        try:
            await interaction.followup.send(text, ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("could not answer interaction %s: %s", interaction.id, exc)

    async def relay(self, message: discord.Message) -> str:
        """A message in a mentors thread: relay a mentor's reply to the asker, once.

        Replies from people who are not configured mentors or admins are not relayed (anyone
        may read the mentors channel). The reply is claimed by its message id in the database,
        so of several sessions or replicas that see it exactly one relays it.
        """
        escalation = await self.core.escalations.for_post("discord", str(message.channel.id))
        if escalation is None:
            return "ignored:mentors-thread"
        if not self.is_mentor(message.author):
            log.info(
                "escalation %d: reply by non-mentor %s not relayed",
                escalation.id,
                message.author.id,
            )
            return "ignored:not-a-mentor"
        text = message.content.strip()
        if not text:
            return "ignored:empty"
        name = message.author.display_name
        reply = MentorReply(
            platform="discord",
            message_id=str(message.id),
            escalation_id=escalation.id,
            mentor=str(message.author.id),
            mentor_name=name,
            text=text,
        )
        if not await self.core.escalations.claim_reply(reply):
            return "ignored:duplicate"
        target = self.bot.get_partial_messageable(int(escalation.relay_channel))
        reference = (
            discord.MessageReference(
                message_id=int(escalation.relay_thread),
                channel_id=target.id,
                fail_if_not_exists=False,
            )
            if escalation.relay_thread
            else None
        )
        outcome, confirmation = "relayed", MENTOR_RELAYED
        for i, chunk in enumerate(render_relay(relay_text(name, text))):
            try:
                if i == 0 and reference is not None:
                    await target.send(chunk, reference=reference, mention_author=False)
                else:
                    await target.send(chunk)
            except discord.HTTPException as exc:
                log.warning("escalation %d: relay failed: %s", escalation.id, exc)
                outcome, confirmation = "relay-failed", MENTOR_RELAY_FAILED
                break
        try:
            await message.channel.send(confirmation)
        except discord.HTTPException as exc:
            log.warning("could not confirm the relay in the mentors thread: %s", exc)
        return outcome

    async def add_to_knowledge(
        self, interaction: discord.Interaction[Any], message: discord.Message
    ) -> None:
        """Message command "Add to knowledge" on a relayed mentor reply: save it for review."""
        if not self.is_mentor(interaction.user):
            log.info("add to knowledge refused for non-mentor %s", interaction.user.id)
            await interaction.response.send_message(str(NotAMentor()), ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            item = await self.core.escalations.add_to_knowledge(
                "discord", str(message.id), url=message.jump_url
            )
        except Exception as exc:
            await self._tell(interaction, _friendly(exc, "add to knowledge"))
            return
        await self._tell(
            interaction,
            f"📥 Saved for review as `{item.name}`. An admin adds it with "
            f"`careerbot review accept {item.name}` and a reload.",
        )


def _interaction_key(interaction: discord.Interaction) -> str:
    if interaction.guild_id is None or interaction.channel_id is None:
        return dm_key(interaction.user.id)
    if isinstance(interaction.channel, discord.Thread):
        return thread_key(interaction.channel_id)
    return slash_key(interaction.channel_id, interaction.user.id)


class CareerDiscordBot(commands.Bot):
    """The careerbot Discord client: features live in CareerCog, wired in setup_hook."""

    def __init__(
        self, careerbot: CareerBot, config: DiscordConfig | None = None, **options: Any
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # channel, thread and role cache (admin roles, the bot's role)
        intents.guild_messages = True
        intents.dm_messages = True
        intents.message_content = True  # privileged: enable it in the Developer Portal
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        config = config or DiscordConfig()
        if config.shard_count is not None:  # one of several processes, each owning a shard
            options.setdefault("shard_id", config.shard_id)
            options.setdefault("shard_count", config.shard_count)
        super().__init__(
            command_prefix=commands.when_mentioned, intents=intents, help_command=None, **options
        )
        self.careerbot = careerbot
        self.config = config
        self.tree.error(self._on_app_command_error)

    async def login(self, token: str) -> None:
        """Point discord.py at the configured endpoints (if any), then log in."""
        if self.config.api_base:
            discord.http.Route.BASE = self.config.api_base.rstrip("/")
        if self.config.gateway_url:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.config.gateway_url)
        await super().login(token)

    async def setup_hook(self) -> None:
        """Add the cog, listen for feedback and mentor buttons on any answer ever sent
        (persistent, by custom_id) and sync slash commands (to the test guild when one is
        configured)."""
        cog = CareerCog(self)
        await self.add_cog(cog)
        cog.mentors.install()
        self.add_dynamic_items(SuggestionButton)
        self.add_dynamic_items(FeedbackButton)
        if self.config.sync_commands:
            await self.sync_commands()

    async def sync_commands(self) -> list[app_commands.AppCommand]:
        """Register the slash commands with Discord; a failure is logged, not fatal."""
        guild = discord.Object(id=self.config.test_guild_id) if self.config.test_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            log.error(
                "could not sync slash commands (%s); was the bot invited with the "
                "applications.commands scope?",
                exc,
            )
            return []
        where = f"guild {guild.id}" if guild else "all servers (global)"
        log.info("synced %d slash commands to %s", len(synced), where)
        return synced

    def report_poster(self, channel_id: str) -> Callable[[Report], Awaitable[None]]:
        """Posts the weekly knowledge-gap report to a channel (call once the bot is ready)."""

        async def post(report: Report) -> None:
            channel = self.get_channel(int(channel_id)) or await self.fetch_channel(int(channel_id))
            if not isinstance(channel, discord.abc.Messageable):
                raise DiscordSetupError(
                    f"CAREERBOT_REPORT__CHANNEL {channel_id} is not a text channel"
                )
            for chunk in render_report(report):
                await channel.send(chunk)

        return post

    async def on_message(self, message: discord.Message, /) -> None:
        """Deliberately empty: CareerCog answers messages; there are no prefix commands."""

    async def _on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        original = getattr(error, "original", error)
        name = interaction.command.name if interaction.command else "?"
        text = _friendly(original, f"slash command /{name}")
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("could not report the error to the user: %s", exc)


async def run_discord(bot: CareerDiscordBot, token: str) -> None:
    """Log in and serve until the bot is closed; setup mistakes raise DiscordSetupError."""
    async with bot:
        try:
            await bot.start(token)
        except discord.LoginFailure:
            raise DiscordSetupError(
                "Discord rejected the bot token: check CAREERBOT_DISCORD__TOKEN."
            ) from None
        except discord.PrivilegedIntentsRequired:
            raise DiscordSetupError(
                "Discord refused the Message Content intent: enable it under Bot → Privileged "
                "Gateway Intents in the Developer Portal (see deploy/discord-setup.md)."
            ) from None
