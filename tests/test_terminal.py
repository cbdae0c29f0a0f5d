"""The terminal chat driven by a scripted reader, on a real CareerBot."""

from __future__ import annotations

import io
import re
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import select

from bot.adapters.terminal import HELP, render_answer, run_chat
from bot.conversations import turns
from bot.models import Answer, Citation
from bot.service import CareerBot

REPLY = "\ncareerbot> "


def script(lines: Sequence[str]) -> tuple[Callable[[str], Awaitable[str]], list[str]]:
    """An async `read` that returns `lines` in turn, then raises EOFError; records prompts."""
    remaining = list(lines)
    prompts: list[str] = []

    async def read(prompt: str) -> str:
        prompts.append(prompt)
        if not remaining:
            raise EOFError
        return remaining.pop(0)

    return read, prompts


async def chat(bot: CareerBot, lines: Sequence[str]) -> tuple[list[str], list[str]]:
    """Run the chat over `lines`; returns (each reply, every prompt shown)."""
    read, prompts = script(lines)
    out = io.StringIO()
    await run_chat(bot, read=read, out=out, user="tester")
    text = out.getvalue()
    assert text.startswith("careerbot — career advice")
    return [part.rstrip("\n") for part in text.split(REPLY)[1:]], prompts


def _conversation_keys(bot: CareerBot) -> list[str]:
    with bot.store.engine.connect() as conn:
        rows = conn.execute(select(turns.c.conversation_key).order_by(turns.c.id)).all()
    return list(dict.fromkeys(r.conversation_key for r in rows))


async def test_a_question_gets_an_answer_with_sources(
    make_careerbot: Callable[..., CareerBot],
) -> None:
    bot = make_careerbot()

    replies, _ = await chat(bot, ["How should I find my personal fit for AI safety work?"])

    (reply,) = replies
    assert "[1]" in reply
    sources = reply.split("\n\nSources:\n", 1)
    assert len(sources) == 2, reply
    first = sources[1].splitlines()[0]
    assert re.match(r"  \[1\](\[\d\])* ", first) and " — " in first
    assert "**" not in reply  # Markdown bold is not shown raw in a terminal


async def test_follow_up_stays_in_the_conversation_and_new_starts_another(
    make_careerbot: Callable[..., CareerBot],
) -> None:
    bot = make_careerbot()

    replies, _ = await chat(
        bot,
        [
            "Should I do a PhD before working on AI safety?",
            "and what about MATS?",
            "/new",
            "How do I avoid burnout?",
        ],
    )

    assert len(replies) == 4
    assert replies[2] == "Started a new conversation."
    first, second = _conversation_keys(bot)
    assert first.startswith("terminal:tester:") and second.startswith("terminal:tester:")
    history = [t.text for t in bot.store.history(first, 10)]
    assert history[0::2] == [
        "Should I do a PhD before working on AI safety?",
        "and what about MATS?",
    ]
    assert bot.store.history(second, 10)[0].text == "How do I avoid burnout?"


async def test_status_and_help(make_careerbot: Callable[..., CareerBot]) -> None:
    bot = make_careerbot()

    replies, _ = await chat(bot, ["/status", "/HELP"])

    status, help_text = replies
    assert status.startswith("Index: 3 documents, ")
    assert "Answer mode: extractive (no LLM)" in status
    assert "Last reload: never" not in status
    assert help_text == HELP


async def test_eof_ends_cleanly_and_empty_lines_are_ignored(
    make_careerbot: Callable[..., CareerBot],
) -> None:
    bot = make_careerbot()

    replies, prompts = await chat(bot, ["", "   ", "/help"])

    assert replies == [HELP]
    assert len(prompts) == 4  # three lines, then the read that hit EOF
    assert _conversation_keys(bot) == []


async def test_quit_stops_before_reading_more(make_careerbot: Callable[..., CareerBot]) -> None:
    bot = make_careerbot()

    replies, prompts = await chat(bot, ["/quit", "/help"])

    assert replies == []
    assert len(prompts) == 1


async def test_reload_reports_and_a_broken_file_keeps_the_old_index(
    make_careerbot: Callable[..., CareerBot],
) -> None:
    bot = make_careerbot()
    collection = bot.index.active_name()

    replies, _ = await chat(bot, ["/reload"])
    (bot.knowledge_dir / "broken.md").write_text("oops\n", encoding="utf-8")
    broken, _ = await chat(bot, ["/reload", "How should I find my personal fit?"])

    assert replies[0].startswith("Knowledge base unchanged: 3 documents")
    assert broken[0].startswith("⚠️ Reload failed: ")
    assert "still answering from the previous knowledge base" in broken[0]
    assert "broken.md" in broken[0]
    assert "Sources:" in broken[1]
    assert bot.index.active_name() == collection
    audited = [(a.actor, a.platform, a.action, a.result) for a in bot.audit.since()]
    assert sorted(audited) == [
        ("tester", "terminal", "reload", "failed"),
        ("tester", "terminal", "reload", "ok"),
    ]


async def test_typing_a_number_asks_that_suggestion_in_the_same_conversation(
    make_careerbot: Callable[..., CareerBot],
) -> None:
    bot = make_careerbot()

    replies, _ = await chat(bot, ["Should I do a PhD?", "2", "7"])

    first, second, third = replies
    offer, echo = first.rsplit("\n\n", 1)[1].split("\n")
    assert offer == (
        "You could also ask: 1) Should I upskill? 2) What level of AI/ML experience do I need? "
        "3) What level of general programming skills do I need?"
    )
    # "2" asked suggestion 2, in the same conversation, and says so.
    assert echo == "(asking: What level of AI/ML experience do I need?)"
    assert "Should I do a PhD?" not in second.rsplit("\n\n", 1)[1]
    with bot.store.engine.connect() as conn:
        rows = conn.execute(
            select(turns.c.conversation_key, turns.c.text)
            .where(turns.c.role == "user")
            .order_by(turns.c.id)
        ).all()
    assert [r.text for r in rows] == [
        "Should I do a PhD?",
        "What level of AI/ML experience do I need?",
        "7",  # no seventh suggestion: asked as typed
    ]
    assert len({r.conversation_key for r in rows}) == 1
    assert third


def test_a_source_with_no_known_author_is_listed_by_its_title() -> None:
    answer = Answer(
        text="“Quote.” [1]",
        covered=True,
        mode="extractive",
        citations=(Citation("Notes From A Blog", None, None, "Quote.", "p"),),
    )
    lines = render_answer(answer).splitlines()
    assert "  [1] Notes From A Blog" in lines
    assert "author unknown" not in render_answer(answer)


def test_a_link_keeps_its_address_when_no_sources_are_listed() -> None:
    text = "- [A post](https://example.org/a) by Ann"
    about = Answer(text=text, covered=True, mode="extractive")
    assert "A post <https://example.org/a> by Ann" in render_answer(about)
    cited = Answer(
        text=f"{text} [1]",
        covered=True,
        mode="extractive",
        citations=(Citation("A post", "Ann", "https://example.org/a", "Quote.", "p"),),
    )
    # With the sources below, the title alone reads better: the address is listed there.
    assert "- A post by Ann" in render_answer(cited)
