"""The auto-answer rule (pure) and the per-channel switches in the shared database."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.channels import (
    ChannelMessage,
    ChannelSwitches,
    decide,
    looks_like_question,
    switch_text,
)
from bot.conversations import ConversationStore
from bot.service import CareerBot

AUTO = frozenset({"C-AUTO"})


@pytest.mark.parametrize(
    "text",
    [
        "thanks!",
        "Thanks so much everyone",
        "lol",
        "ok?",
        "any tips?",
        "🎉🎉🎉",
        ":tada: :tada:",
        "+1",
        "",
        "   ",
        "see you all at the meetup",
    ],
)
def test_short_non_questions_are_not_answered(text: str) -> None:
    assert not looks_like_question(text)
    assert decide(ChannelMessage(text, "C-AUTO"), configured=AUTO, opted_out=False) == (
        "not-a-question"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Is a PhD worth it?",
        "How do I get into AI governance",
        "should I do MATS or a PhD",
        "PhD worth it?",
        "I'm a software engineer with five years of experience and want to move into safety",
    ],
)
def test_questions_and_long_messages_are_answered(text: str) -> None:
    assert looks_like_question(text)
    assert decide(ChannelMessage(text, "C-AUTO"), configured=AUTO, opted_out=False) == "answer"


def test_the_word_count_for_statements_is_configurable() -> None:
    text = "I want to switch careers into alignment"
    assert not looks_like_question(text)
    assert looks_like_question(text, min_words=5)


@pytest.mark.parametrize(
    ("message", "opted_out", "decision"),
    [
        (ChannelMessage("Is a PhD worth it?", "C-OTHER"), False, "not-configured"),
        (ChannelMessage("Is a PhD worth it?", "C-AUTO", from_bot=True), False, "bot"),
        (ChannelMessage("Is a PhD worth it?", "C-AUTO", top_level=False), False, "not-top-level"),
        (ChannelMessage("Is a PhD worth it?", "C-AUTO", mentions_bot=True), False, "not-top-level"),
        (ChannelMessage("Is a PhD worth it?", "C-AUTO"), True, "opted-out"),
        (ChannelMessage("!rank how am I doing?", "C-AUTO"), False, "command"),
        (ChannelMessage("/giphy is this thing on?", "C-AUTO"), False, "command"),
        (ChannelMessage("... is anyone here?", "C-AUTO"), False, "answer"),
        (
            ChannelMessage("what do you think about MATS?", "C-AUTO", mentions_others=True),
            False,
            "for-someone-else",
        ),
    ],
)
def test_only_top_level_human_questions_in_switched_on_configured_channels(
    message: ChannelMessage, opted_out: bool, decision: str
) -> None:
    assert decide(message, configured=AUTO, opted_out=opted_out) == decision


def test_switches_are_shared_by_two_instances_on_one_database(db_url: str) -> None:
    first, second = ConversationStore(db_url), ConversationStore(db_url)
    try:
        a, b = ChannelSwitches(first.engine), ChannelSwitches(second.engine)
        assert b.get("slack", "C1") is None and not b.opted_out("slack", "C1")
        off = a.set("slack", "C1", enabled=False, by="U-ADMIN")
        assert off.changed_at.tzinfo is not None
        seen = b.get("slack", "C1")
        assert seen is not None
        assert (seen.enabled, seen.changed_by) == (False, "U-ADMIN")
        assert b.opted_out("slack", "C1")
        assert not b.opted_out("discord", "C1")  # platforms never share a switch
        b.set("slack", "C1", enabled=True, by="U-OTHER-ADMIN")
        assert not a.opted_out("slack", "C1")
        switch = a.get("slack", "C1")
        assert switch is not None and switch.changed_by == "U-OTHER-ADMIN"
    finally:
        first.close()
        second.close()


async def test_the_core_asks_the_database_only_for_would_be_answers(
    make_careerbot: Callable[..., CareerBot],
) -> None:
    bot = make_careerbot(build=False)
    question = ChannelMessage("Is a PhD worth it?", "C-AUTO")
    assert await bot.auto_answer_decision("slack", question, AUTO) == "answer"
    await bot.set_auto_answer("slack", "C-AUTO", enabled=False, by="U-ADMIN")
    assert await bot.auto_answer_decision("slack", question, AUTO) == "opted-out"
    thanks = ChannelMessage("thanks!", "C-AUTO")
    assert await bot.auto_answer_decision("slack", thanks, AUTO) == "not-a-question"
    await bot.set_auto_answer("slack", "C-AUTO", enabled=True, by="U-ADMIN")
    assert await bot.auto_answer_decision("slack", question, AUTO) == "answer"
    switch = await bot.auto_answer_switch("slack", "C-AUTO")
    assert switch is not None and switch.enabled
    audited = sorted((a.actor, a.action, a.detail) for a in bot.audit.since())
    assert audited == [
        ("U-ADMIN", "autoanswer-off", "C-AUTO"),
        ("U-ADMIN", "autoanswer-on", "C-AUTO"),
    ]


def test_switch_texts_say_what_happens_and_how_to_undo_it() -> None:
    from datetime import UTC, datetime

    from bot.models import AutoAnswerSwitch

    when = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    off = AutoAnswerSwitch("slack", "C1", False, "U-ADMIN", when)
    on = AutoAnswerSwitch("slack", "C1", True, "U-ADMIN", when)
    command = "/careerbot autoanswer"
    assert switch_text(configured=True, switch=None, command=command) == (
        "Auto-answer is on here: I answer every top-level question in a thread, no mention "
        "needed. `/careerbot autoanswer off` stops that."
    )
    assert switch_text(configured=True, switch=off, command=command, changed=True) == (
        "Auto-answer is off here, on every instance of the bot, until an admin runs "
        "`/careerbot autoanswer on`. Mentions still work."
    )
    status = switch_text(configured=True, switch=off, command=command)
    assert "off here (off since 2026-11-26 04:00 UTC)" in status
    assert "(on since 2026-11-26 04:00 UTC)" in switch_text(
        configured=True, switch=on, command="/autoanswer"
    )
    not_listed = switch_text(configured=False, switch=on, command=command, changed=True)
    assert not_listed.startswith("This channel is not an auto-answer channel")
    assert not_listed.endswith("I've noted it as on for when it is.")
