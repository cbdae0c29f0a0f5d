"""LLM answer mode: the chat-model factory and a responder whose replies are checked."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage, BaseMessageChunk, HumanMessage, SystemMessage

from bot.grounding import GroundedReply, Grounder, LeakCheck, cut_at_last_sentence
from bot.models import Citation, LLMConfigError, Passage, TokenUsage, Turn
from bot.prompts import NOT_COVERED, REFUSAL, Prompts
from bot.resilience import (
    OUTAGES,
    CircuitBreaker,
    Clock,
    Deadline,
    Failure,
    ModelFailed,
    call_within,
    describe,
)
from bot.text import sentence_spans

log = logging.getLogger(__name__)

# What the user is told when the answer falls back to quotes: what actually happened.
FALLBACK_NOTICES: dict[Failure, str] = {
    Failure.UNREACHABLE: "The language model isn't reachable right now, so here are the most "
    "relevant quotes instead.",
    Failure.TIMED_OUT: "The language model took too long to answer, so here are the most "
    "relevant quotes instead.",
    Failure.RATE_LIMITED: "The language model is rate-limited right now, so here are the most "
    "relevant quotes instead.",
    Failure.ERROR: "The language model returned an error, so here are the most relevant quotes "
    "instead.",
    Failure.CIRCUIT_OPEN: "The language model has been failing, so I'm not asking it for a few "
    "minutes; here are the most relevant quotes instead.",
    Failure.UNGROUNDED: "The language model's reply didn't stick to what the posts say, so here "
    "are the most relevant quotes instead.",
}
TRUNCATED_NOTICE = (
    "The model's answer hit its length limit, so it is shortened to its last full sentence."
)
BACKUP_NOTICE = "The main language model was unavailable, so a backup model answered."
# With a fallback model configured, the main model may use this share of what is left of the
# deadline, so the backup still has time to answer.
PRIMARY_SHARE = 0.6
STREAM_CHECK_GAP = 0.3
_SENTENCE_END = re.compile(r"[.!?…]")


def make_chat_model(
    model: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    temperature: float = 0.2,
    timeout: float = 30.0,
    max_retries: int = 2,
    max_tokens: int = 600,
) -> BaseChatModel:
    """Build a chat model from 'provider:model' (openai, anthropic, ollama, OpenAI-compatible).

    With a base_url and no provider prefix, the model is treated as OpenAI-compatible.
    """
    from langchain.chat_models import init_chat_model

    provider, _, name = model.partition(":")
    if not name:
        provider, name = ("openai" if base_url else ""), model
    kwargs: dict[str, Any] = {"temperature": temperature, "max_retries": max_retries}
    if provider == "ollama":
        if base_url:
            kwargs["base_url"] = base_url
    else:
        kwargs["timeout"] = timeout
        kwargs["max_tokens"] = max_tokens
        if base_url:
            kwargs["base_url"] = base_url
        if api_key:
            kwargs["api_key"] = api_key
    if provider in ("openai", ""):
        # Token usage in streamed replies (off by default for non-OpenAI base URLs).
        kwargs["stream_usage"] = True
    try:
        return init_chat_model(name, model_provider=provider or None, **kwargs)
    except ImportError as exc:
        missing = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise LLMConfigError(
            f"chat model {model!r} needs its langchain integration: "
            f"pip install -e '.[{provider or 'openai'}]' ({missing})"
        ) from exc
    except ValueError as exc:
        reason = (str(exc).strip().splitlines() or ["invalid"])[0].rstrip(".")
        raise LLMConfigError(
            f"cannot use chat model {model!r}: {reason} (set CAREERBOT_LLM__MODEL to "
            "'provider:model', e.g. 'openai:gpt-4o-mini')"
        ) from exc


def format_history(history: Sequence[Turn], max_chars: int = 600) -> str:
    """Prior turns as plain lines; long assistant turns are shortened."""
    if not history:
        return "(none)"
    lines = []
    for turn in history:
        text = turn.text if len(turn.text) <= max_chars else turn.text[:max_chars] + " …"
        lines.append(f"{turn.role}: {text}")
    return "\n".join(lines)


def format_passages(passages: Sequence[Passage]) -> str:
    """Numbered passages with their source, as the model sees them."""
    blocks = []
    for number, p in enumerate(passages, start=1):
        kind = "comment on the post" if p.is_comment else "post"
        where = f" / {p.section}" if p.section else ""
        blocks.append(f"[{number}] ({kind}) “{p.title}”{where} — by {p.attribution}\n{p.text}")
    return "\n\n".join(blocks)


@dataclass(frozen=True)
class LLMConfig:
    """Plain LLM-mode parameters (see LLMSettings)."""

    timeout: float = 30.0
    max_retries: int = 2
    breaker_failures: int = 3
    breaker_cooldown: float = 60.0


@dataclass
class ModelSlot:
    """One chat model with its own circuit breaker."""

    name: str
    model: BaseChatModel
    breaker: CircuitBreaker


@dataclass(frozen=True)
class LLMReply:
    """A checked model answer (or the model's own "not covered")."""

    text: str
    covered: bool
    citations: tuple[Citation, ...]
    query: str
    notices: tuple[str, ...] = ()
    usage: TokenUsage | None = None


class LLMFailed(ModelFailed):
    """No model produced a usable answer; carries the tokens spent trying."""

    def __init__(self, reason: Failure, detail: str, usage: TokenUsage | None) -> None:
        super().__init__(reason, detail)
        self.usage = usage


Search = Callable[[str], Awaitable[tuple[bool, Sequence[Passage]]]]
Partial = Callable[[str], Awaitable[None]]


@dataclass
class _Tally:
    usage: TokenUsage | None = None

    def add(self, message: BaseMessage) -> None:
        meta = getattr(message, "usage_metadata", None)
        if not meta:
            return
        spent = TokenUsage(
            prompt_tokens=int(meta.get("input_tokens", 0) or 0),
            completion_tokens=int(meta.get("output_tokens", 0) or 0),
        )
        self.usage = spent if self.usage is None else self.usage + spent


@dataclass
class _StreamGate:
    """Turns the growing raw reply into text that is safe to show before the final check.

    Only complete sentences pass, each checked like the final answer, so what streams is a
    prefix of what the checks keep; a reply that starts repeating the prompt stops streaming.
    """

    grounder: Grounder
    leak: LeakCheck
    on_partial: Partial
    clock: Clock = time.monotonic
    shown: str = ""
    stopped: bool = False
    _complete: str = field(default="")
    _last_check: float = float("-inf")
    _boundary: bool = False

    def due(self, piece: str) -> bool:
        """Whether the text so far is worth checking after this piece arrived.

        Only after a sentence may have ended, and, since a check re-reads the whole text so
        far, a few times a second at most (the adapters show at most one edit a second
        anyway); the final answer is checked whole regardless.
        """
        if _SENTENCE_END.search(piece):
            self._boundary = True
        return (
            self._boundary
            and not self.stopped
            and self.clock() - self._last_check >= STREAM_CHECK_GAP
        )

    async def feed(self, raw: str) -> None:
        """Check the text so far and pass on its checked complete sentences, if they grew."""
        spans = sentence_spans(raw)
        if len(spans) < 2:
            return  # the next sentence has not started: the last one may not be over
        self._boundary = False
        complete = raw[: spans[-2][1]]
        if complete == self._complete:
            return
        self._complete = complete
        self._last_check = self.clock()
        if self.leak.leaks(raw) or NOT_COVERED.casefold()[:30] in raw.casefold():
            self.stopped = True
            return
        grounded: GroundedReply = await asyncio.to_thread(self.grounder.ground, complete)
        if grounded.text and grounded.text != self.shown:
            self.shown = grounded.text
            await self.on_partial(grounded.text)


class LLMResponder:
    """Answers from retrieved passages with a chat model, and checks what the model says.

    One deadline covers the whole answer (condensing a follow-up and answering); a model
    that keeps failing is skipped for a while; an optional backup model is tried next.
    Raises LLMFailed when no model gives a usable, grounded answer.
    """

    def __init__(
        self,
        models: Sequence[tuple[str, BaseChatModel]],
        prompts: Prompts,
        embedder: Embeddings,
        config: LLMConfig | None = None,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        self.config = config or LLMConfig()
        self.prompts = prompts
        self.embedder = embedder
        self.clock = clock
        self.slots = [
            ModelSlot(
                name,
                model,
                CircuitBreaker(self.config.breaker_failures, self.config.breaker_cooldown, clock),
            )
            for name, model in models
        ]
        system = prompts.render_system()
        self.leak = LeakCheck(system, allowed=(NOT_COVERED, REFUSAL))

    async def respond(
        self,
        text: str,
        history: Sequence[Turn],
        search: Search,
        on_partial: Partial | None = None,
    ) -> LLMReply:
        """Condense, retrieve, answer and check; within one deadline."""
        deadline = Deadline(self.config.timeout, self.clock)
        tally = _Tally()
        history_text = format_history(history)
        query = text
        if history:
            query = await self._condense(text, history_text, deadline, tally)
        covered, passages = await search(query)
        if not covered or not passages:
            return LLMReply(NOT_COVERED, False, (), query, usage=tally.usage)
        messages: list[BaseMessage] = [
            SystemMessage(content=self.prompts.render_system()),
            HumanMessage(
                content=self.prompts.answer.format(
                    history=history_text, passages=format_passages(passages), question=text
                )
            ),
        ]
        grounder = Grounder(passages, self.embedder, question=text)
        failures: list[ModelFailed] = []
        for i, slot in enumerate(self.slots):
            if not slot.breaker.allow():
                failures.append(ModelFailed(Failure.CIRCUIT_OPEN, slot.name))
                continue
            budget = deadline
            if any(not later.breaker.is_open for later in self.slots[i + 1 :]):
                budget = Deadline(deadline.remaining() * PRIMARY_SHARE, self.clock)
            try:
                reply = await self._answer_with(
                    slot, messages, grounder, budget, tally, query, on_partial
                )
            except ModelFailed as exc:
                failures.append(exc)
                if exc.reason in OUTAGES:
                    slot.breaker.record_failure()
                else:
                    slot.breaker.record_success()
                continue
            slot.breaker.record_success()
            if i > 0:
                reply = dataclasses.replace(reply, notices=(BACKUP_NOTICE, *reply.notices))
            return reply
        first = failures[0]
        raise LLMFailed(first.reason, first.detail, tally.usage)

    async def _condense(
        self, text: str, history_text: str, deadline: Deadline, tally: _Tally
    ) -> str:
        prompt = self.prompts.condense.format(history=history_text, question=text)
        failures: list[ModelFailed] = []
        for slot in self.slots:
            if not slot.breaker.allow():
                failures.append(ModelFailed(Failure.CIRCUIT_OPEN, slot.name))
                continue
            model = slot.model

            async def call(model: BaseChatModel = model) -> BaseMessage:
                return await model.ainvoke([HumanMessage(content=prompt)])

            try:
                reply = await call_within(call, deadline, max_retries=self.config.max_retries)
            except ModelFailed as exc:
                failures.append(exc)
                if exc.reason in OUTAGES:
                    slot.breaker.record_failure()
                continue
            slot.breaker.record_success()
            tally.add(reply)
            rewritten = text_of(reply.content).strip().strip('"').strip()
            return rewritten if rewritten and len(rewritten) < 400 else text
        # Without a rewrite a follow-up cannot be searched well, and the model is down anyway.
        first = failures[0]
        raise LLMFailed(first.reason, first.detail, tally.usage)

    async def _answer_with(
        self,
        slot: ModelSlot,
        messages: list[BaseMessage],
        grounder: Grounder,
        deadline: Deadline,
        tally: _Tally,
        query: str,
        on_partial: Partial | None,
    ) -> LLMReply:
        async def call() -> BaseMessageChunk:
            gate = _StreamGate(grounder, self.leak, on_partial, self.clock) if on_partial else None
            chunks: list[BaseMessageChunk] = []
            texts: list[str] = []
            async for chunk in slot.model.astream(messages):
                chunks.append(chunk)
                if gate is not None:
                    texts.append(text_of(chunk.content))
                    if gate.due(texts[-1]):
                        await gate.feed("".join(texts))
            if not chunks:
                raise ModelFailed(Failure.ERROR, "empty reply")
            # Added up once at the end: adding chunk by chunk copies the text each time.
            return chunks[0] + chunks[1:] if len(chunks) > 1 else chunks[0]

        message = await call_within(call, deadline, max_retries=self.config.max_retries)
        tally.add(message)
        raw = text_of(message.content).strip()
        if not raw:
            raise ModelFailed(Failure.ERROR, "empty reply")
        if self.leak.leaks(raw):
            log.warning("%s reply repeated the system prompt; not shown", slot.name)
            raise ModelFailed(Failure.UNGROUNDED, "reply repeated the system prompt")
        if NOT_COVERED.casefold()[:30] in raw.casefold():
            return LLMReply(NOT_COVERED, False, (), query, usage=tally.usage)
        notices: list[str] = []
        finish = str(
            message.response_metadata.get("finish_reason")
            or message.response_metadata.get("stop_reason")
            or ""
        )
        if "length" in finish or "max_tokens" in finish:
            raw = cut_at_last_sentence(raw)
            notices.append(TRUNCATED_NOTICE)
        grounded = await asyncio.to_thread(grounder.ground, raw)
        if grounded.dropped:
            log.info(
                "%s reply: %d unsupported or uncited sentence(s) dropped",
                slot.name,
                len(grounded.dropped),
            )
        if not grounded.usable:
            raise ModelFailed(
                Failure.UNGROUNDED, f"{grounded.kept_share:.0%} of the reply was supported"
            )
        return LLMReply(grounded.text, True, grounded.citations, query, tuple(notices), tally.usage)


async def check_model(model: BaseChatModel, name: str, timeout: float) -> tuple[bool, str]:
    """Doctor: one cheap call to the configured model; one line, never the key."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            reply = await model.ainvoke([HumanMessage(content="Reply with the word OK.")])
    except Exception as exc:
        from bot.resilience import classify

        reason = classify(exc)
        what = {
            Failure.UNREACHABLE: "unreachable",
            Failure.TIMED_OUT: f"no reply within {timeout:g}s",
            Failure.RATE_LIMITED: "rate-limited",
        }.get(reason, "error")
        hint = " — check CAREERBOT_LLM__API_KEY" if "401" in describe(exc) else ""
        return False, f"llm: {name} {what} ({describe(exc)}){hint}"
    seconds = time.monotonic() - started
    if not text_of(reply.content).strip():
        return False, f"llm: {name} answered with an empty reply"
    return True, f"llm: {name} answered in {seconds:.1f}s"


def text_of(content: object) -> str:
    """A chat message's text, whether the provider returned a string or content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
        return "".join(parts)
    return str(content)
