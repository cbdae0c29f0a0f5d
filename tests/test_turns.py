"""One conversation, one turn at a time, across replicas sharing one database."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.models import ConversationBusy, Question
from tests.conftest import MakeCareerBot

KEY = "discord:dm:77"


def _question(text: str, key: str = KEY) -> Question:
    return Question(text=text, asker="77", conversation_key=key, platform="discord")


async def _until(condition: object, what: str, timeout: float = 30.0) -> None:
    """Poll a condition with a bounded deadline (the waiter is another task's progress)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def test_a_turn_waits_while_another_replica_answers_the_same_conversation(
    make_careerbot: MakeCareerBot, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    replica_a = make_careerbot(database_url=db_url)
    replica_b = make_careerbot(database_url=db_url, build=False)
    replica_b.reload_sync()
    caplog.set_level(logging.DEBUG, logger="bot.service")
    # Replica A is in the middle of a turn of KEY: it holds the conversation's lease.
    held = replica_a.store.try_lease(f"turn:{KEY}", "replica-a:turn-1", 600)
    assert held.acquired

    waiting = asyncio.create_task(replica_b.answer(_question("How do I find a mentor?")))
    await _until(
        lambda: any("held by replica-a:turn-1" in r.getMessage() for r in caplog.records),
        "replica B to wait for the lease",
    )
    assert not waiting.done()
    assert replica_b.store.history(KEY, 10) == []
    # A stores its exchange and finishes its turn; only now may B read the history.
    replica_a.store.append_exchange(
        KEY,
        asker="77",
        platform="discord",
        question="Should I do a PhD?",
        answer_text="It depends.",
        answer_id="turn-1",
        covered=True,
        mode="extractive",
    )
    assert replica_a.store.release_lease(f"turn:{KEY}", "replica-a:turn-1")
    answer = await asyncio.wait_for(waiting, 60)

    history = [t.text for t in replica_b.store.history(KEY, 10)]
    assert history == [
        "Should I do a PhD?",
        "It depends.",
        "How do I find a mentor?",
        answer.text,
    ]
    assert replica_b.store.lease_info(f"turn:{KEY}") is None  # released after the turn


async def test_turns_on_two_replicas_at_once_all_complete_and_release_the_lock(
    make_careerbot: MakeCareerBot, db_url: str
) -> None:
    replicas = [make_careerbot(database_url=db_url) for _ in range(2)]
    questions = [f"What about research skills, part {n}?" for n in range(6)]

    answers = await asyncio.gather(
        *(replicas[n % 2].answer(_question(q)) for n, q in enumerate(questions))
    )

    history = replicas[0].store.history(KEY, 100)
    assert sorted(t.text for t in history if t.role == "user") == sorted(questions)
    assert [t.role for t in history] == ["user", "assistant"] * len(questions)
    assert {t.text for t in history if t.role == "assistant"} == {a.text for a in answers}
    assert replicas[0].store.lease_info(f"turn:{KEY}") is None


async def test_a_turn_gives_up_after_the_wait_and_says_so(
    make_careerbot: MakeCareerBot, db_url: str
) -> None:
    bot = make_careerbot(database_url=db_url, store={"turn_wait_seconds": 0.2})
    bot.store.try_lease(f"turn:{KEY}", "stuck-replica", 600)

    with pytest.raises(ConversationBusy, match="still answering your previous message"):
        await bot.answer(_question("Anyone there?"))
    assert bot.store.history(KEY, 10) == []


async def test_a_crashed_replicas_expired_turn_lock_does_not_block(
    make_careerbot: MakeCareerBot, db_url: str
) -> None:
    bot = make_careerbot(database_url=db_url, store={"turn_wait_seconds": 0.2})
    bot.store.try_lease(f"turn:{KEY}", "crashed-replica", 0)  # expired at once

    answer = await bot.answer(_question("What is MATS?"))

    assert [t.text for t in bot.store.history(KEY, 10)][-1] == answer.text


async def test_a_very_long_conversation_key_still_gets_a_turn_lock(
    make_careerbot: MakeCareerBot, db_url: str
) -> None:
    bot = make_careerbot(database_url=db_url)
    key = "slack:T1:" + "x" * 244  # fits the key column; "turn:" + it would not fit a lease name

    answer = await bot.answer(_question("What is MATS?", key=key))

    assert [t.text for t in bot.store.history(key, 10)][-1] == answer.text
