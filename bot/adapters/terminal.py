"""Local multi-turn chat in the terminal, on the same core as Slack and Discord (no tokens)."""

from __future__ import annotations

import asyncio
import getpass
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TextIO

from bot.admin import Actor
from bot.models import Answer, Question, Status, Suggestion
from bot.service import CareerBot
from bot.user_messages import Surface, error_message

HELP = """Ask anything about starting a career in AI safety, e.g. "Should I do a PhD?".
Follow-up questions use the conversation so far; type 1, 2 or 3 to ask a suggested question.
Commands: /new (start a new conversation), /status, /reload, /help, /quit"""

_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)]+)\)")
_EMPHASIS = re.compile(r"(?<![\w*_])[*_]([^*_\n]+)[*_](?![\w*_])")


def render_answer(answer: Answer) -> str:
    """An Answer as plain terminal text: reply, notices, then numbered sources."""
    # With sources listed below, a link's title is enough; without ("which posts do you
    # use?"), the address is the only place the reader finds it.
    text = _LINK.sub(r"\1" if answer.citations else r"\1 <\2>", answer.text).replace("**", "")
    text = _EMPHASIS.sub(r"\1", text)
    parts = [*(f"note: {n}" for n in answer.notices), text]
    if answer.citations:
        # One line per source; several quotes from one post share it.
        grouped: dict[tuple[str, str, str | None], list[int]] = {}
        for number, c in enumerate(answer.citations, start=1):
            who = c.attribution if c.author or c.is_comment else ""
            grouped.setdefault((c.title, who, c.url), []).append(number)
        lines = ["Sources:"]
        for (title, who, url), numbers in grouped.items():
            marks = "".join(f"[{n}]" for n in numbers)
            where = f" <{url}>" if url else ""
            by = f" — {who}" if who else ""  # no "author unknown": the title names the post
            lines.append(f"  {marks} {title}{by}{where}")
        parts.append("\n".join(lines))
    if answer.suggestions:
        parts.append(render_suggestions(answer.suggestions))
    return "\n\n".join(parts)


def render_suggestions(suggestions: Sequence[Suggestion]) -> str:
    """'You could also ask: 1) … 2) …' (the user types the number to ask one)."""
    numbered = " ".join(f"{n}) {s.text}" for n, s in enumerate(suggestions, start=1))
    return f"You could also ask: {numbered}"


def picked_suggestion(line: str, suggestions: Sequence[Suggestion]) -> str | None:
    """The suggestion a bare number ("2") picks from the last answer, else None."""
    if line.isdigit() and 1 <= int(line) <= len(suggestions):
        return suggestions[int(line) - 1].text
    return None


def render_status(status: Status) -> str:
    """Status as a few lines."""
    last = status.last_reload.strftime("%Y-%m-%d %H:%M UTC") if status.last_reload else "never"
    mode = f"llm ({status.llm_model})" if status.answer_mode == "llm" else "extractive (no LLM)"
    return (
        f"Index: {status.documents} documents, {status.passages} passages\n"
        f"Embedding model: {status.embedding_model}\n"
        f"Answer mode: {mode}\n"
        f"Last reload: {last}"
    )


TERMINAL_SURFACE = Surface(
    how_to_ask="Type a question, or /help.", reload_command="/reload", operator=True
)


def friendly_error(exc: Exception) -> str:
    """What the terminal user is told (the wording lives in bot.user_messages)."""
    return error_message(exc, TERMINAL_SURFACE).replace("`", "")


async def run_chat(
    bot: CareerBot,
    *,
    read: Callable[[str], Awaitable[str]] | None = None,
    out: TextIO | None = None,
    user: str | None = None,
) -> None:
    """Read questions until EOF or /quit, answering each on the shared core."""
    import sys

    stream = out or sys.stdout

    async def default_read(prompt: str) -> str:
        return await asyncio.to_thread(input, prompt)

    reader = read or default_read
    asker = user or getpass.getuser()
    key = f"terminal:{asker}:{uuid.uuid4().hex[:8]}"
    offered: tuple[Suggestion, ...] = ()  # the last answer's suggestions, picked by number
    print(
        "careerbot — career advice for people entering AI safety. /help for commands.", file=stream
    )
    while True:
        try:
            line = (await reader("\nyou> ")).strip()
        except (EOFError, KeyboardInterrupt):
            print("", file=stream)
            return
        if not line:
            continue
        picked = picked_suggestion(line, offered)
        if picked is not None:
            print(f"(asking: {picked})", file=stream)
            line = picked
        command = line.lower()
        if command in ("/quit", "/exit", "quit", "exit"):
            return
        try:
            if command == "/help":
                reply = HELP
            elif command == "/new":
                key = f"terminal:{asker}:{uuid.uuid4().hex[:8]}"
                offered = ()
                reply = "Started a new conversation."
            elif command == "/status":
                reply = render_status(await bot.status())
            elif command == "/reload":
                reply = (await bot.reload(by=Actor(asker, "terminal"))).summary()
            else:
                answer = await bot.answer(
                    Question(text=line, asker=asker, conversation_key=key, platform="terminal")
                )
                reply = render_answer(answer)
                offered = answer.suggestions
        except Exception as exc:
            reply = friendly_error(exc)
        print(f"\ncareerbot> {reply}", file=stream, flush=True)
