"""Fair-use limits over the shared SQL counters, on SQLite and PostgreSQL, across processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event

from bot.adapters.terminal import run_chat
from bot.conversations import ConversationStore
from bot.fair_use import FairUse, LimitsConfig, SQLCounterStorage
from bot.models import Question, RateLimited, wait_phrase
from bot.service import CareerBot
from tests.test_db import Worker, at_once

START = 1_800_000_000.0


class Clock:
    """A clock the test moves by hand (no sleeping)."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def racers() -> Iterator[list[Worker]]:
    """Three store processes (tests/db_worker.py), ready to race."""
    made = [Worker() for _ in range(3)]
    yield made
    for worker in made:
        worker.close()


@pytest.fixture
def store(db_url: str) -> Iterator[ConversationStore]:
    made = ConversationStore(db_url)
    yield made
    made.close()


def fair_use(store: ConversationStore, clock: Clock, **config: int) -> FairUse:
    return FairUse(SQLCounterStorage(store.engine, clock), LimitsConfig(**config))  # type: ignore[arg-type]


def refused(check: Callable[[], None]) -> RateLimited:
    with pytest.raises(RateLimited) as caught:
        check()
    return caught.value


def test_a_user_limit_is_hit_then_resets_when_its_window_ends(store: ConversationStore) -> None:
    clock = Clock()
    limits = fair_use(store, clock, per_user_per_minute=3, per_user_per_hour=0)
    for _ in range(3):
        limits.admit("slack", "U1", "C1")
        clock.advance(5)

    first = refused(lambda: limits.admit("slack", "U1", "C1"))
    assert first.retry_after == 45  # the window opened at the first question, 15 s ago
    assert first.scope == "user" and first.notify
    assert str(first) == "You've asked a lot in a short time — try again in about 45 seconds."
    later = refused(lambda: limits.admit("slack", "U1", "C1"))
    assert not later.notify, "the notice is sent once per window, not after every message"
    limits.admit("slack", "U2", "C1")  # someone else is not affected

    clock.advance(45)
    for _ in range(3):  # a new window, with the whole allowance
        limits.admit("slack", "U1", "C1")
    assert refused(lambda: limits.admit("slack", "U1", "C1")).notify  # a new window's notice


def test_the_hour_limit_holds_across_minute_windows(store: ConversationStore) -> None:
    clock = Clock()
    limits = fair_use(store, clock, per_user_per_minute=2, per_user_per_hour=3)
    limits.admit("discord", "42", None)
    limits.admit("discord", "42", None)
    clock.advance(61)
    limits.admit("discord", "42", None)
    clock.advance(61)
    hour = refused(lambda: limits.admit("discord", "42", None))
    assert hour.retry_after == 3600 - 122
    assert "about 58 minutes" in str(hour)
    clock.advance(3600 - 122)
    limits.admit("discord", "42", None)


def test_a_channel_limit_counts_everyone_and_a_refusal_uses_up_nothing(
    store: ConversationStore,
) -> None:
    clock = Clock()
    limits = fair_use(store, clock, per_user_per_minute=2, per_channel_per_minute=2)
    limits.admit("slack", "U1", "C1")
    limits.admit("slack", "U2", "C1")
    busy = refused(lambda: limits.admit("slack", "U1", "C1"))
    assert busy.scope == "channel"
    assert str(busy).startswith("This channel has asked me a lot in a short time")
    # U1's refused question did not count against U1: they can still ask once more.
    limits.admit("slack", "U1", "C2")
    assert refused(lambda: limits.admit("slack", "U1", None)).scope == "user"


def test_a_question_costs_one_read_and_one_upsert_in_one_transaction(
    store: ConversationStore,
) -> None:
    """Every answer pays for fair use: three windows are read and counted in two statements."""
    clock = Clock()
    limits = fair_use(store, clock, per_user_per_minute=5, per_channel_per_minute=5)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        limits.admit("slack", "U1", "C1")
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert statements == ["SELECT", "INSERT"]
    # The one upsert counted all three windows (user per minute and hour, channel per minute).
    assert sorted(
        limits.storage.get(limit.item.key_for("slack", who))
        for limit, who in [
            (limits._user[0], "U1"),
            (limits._user[1], "U1"),
            (limits._channel[0], "C1"),
        ]
    ) == [1, 1, 1]


def test_limits_can_be_off_and_never_apply_to_the_operators_tools(
    store: ConversationStore,
) -> None:
    clock = Clock()
    off = fair_use(store, clock, per_user_per_minute=1, enabled=False)  # type: ignore[arg-type]
    for _ in range(3):
        off.admit("slack", "U1", "C1")
    on = fair_use(store, clock, per_user_per_minute=1)
    for _ in range(3):
        on.admit("eval", "U1", None)
        on.admit("cli", "U1", None)
        on.admit("terminal", "U1", None)
    on.admit("discord", "U1", None)
    assert refused(lambda: on.admit("discord", "U1", None)).scope == "user"


def test_two_instances_on_one_database_enforce_one_limit(store: ConversationStore) -> None:
    clock = Clock()
    other = ConversationStore(str(store.engine.url.render_as_string(hide_password=False)))
    try:
        a = fair_use(store, clock, per_user_per_minute=3)
        b = fair_use(other, clock, per_user_per_minute=3)
        a.admit("slack", "U1", None)
        b.admit("slack", "U1", None)
        a.admit("slack", "U1", None)
        assert refused(lambda: b.admit("slack", "U1", None)).notify
        assert not refused(lambda: a.admit("slack", "U1", None)).notify  # told once, by b
        clock.advance(60)
        b.admit("slack", "U1", None)
    finally:
        other.close()


def test_processes_racing_on_one_database_let_exactly_the_limit_through(
    db_url: str, racers: list[Worker]
) -> None:
    ConversationStore(db_url).close()  # migrated once, before the race
    at_once(racers, op="open", url=db_url)
    admitted = at_once(racers, op="admit", user="U1", per_minute=7, times=10, now=START)
    assert sum(admitted) == 7


def test_ended_windows_are_pruned(store: ConversationStore) -> None:
    clock = Clock()
    limits = fair_use(store, clock, per_user_per_minute=1, per_user_per_hour=0)
    limits.admit("slack", "U1", None)
    limits.admit("slack", "U2", None)
    clock.advance(30)
    limits.admit("slack", "U3", None)
    clock.advance(31)
    assert limits.prune() == 2
    assert refused(lambda: limits.admit("slack", "U3", None)).retry_after == 29  # kept


@pytest.mark.parametrize(
    ("seconds", "phrase"),
    [
        (1, "about 5 seconds"),
        (38, "about 40 seconds"),
        (54.5, "about 55 seconds"),
        (59, "about a minute"),
        (90, "about 2 minutes"),
        (3478, "about 58 minutes"),
    ],
)
def test_wait_phrase(seconds: float, phrase: str) -> None:
    assert wait_phrase(seconds) == phrase


# --- the core: every platform goes through CareerBot ------------------------------------------


def limited(bot: CareerBot, clock: Clock, **config: Any) -> CareerBot:
    bot.fair_use = FairUse(SQLCounterStorage(bot.store.engine, clock), LimitsConfig(**config))
    return bot


def ask(text: str, user: str = "U1", platform: str = "slack") -> Question:
    return Question(
        text=text,
        asker=user,
        conversation_key=f"{platform}:T:dm:{user}",
        platform=platform,  # type: ignore[arg-type]
        channel=None,
    )


async def test_the_core_refuses_before_answering_and_admins_are_exempt(
    make_careerbot: Callable[..., CareerBot],
) -> None:
    clock = Clock()
    bot = limited(make_careerbot(), clock, per_user_per_minute=1)
    await bot.answer(ask("What research skills do I need?"))
    with pytest.raises(RateLimited):
        await bot.answer(ask("What about MATS?"))
    assert len(bot.store.history("slack:T:dm:U1", 10)) == 2, "the refused question is not kept"
    # An admin's questions are never counted or refused.
    for _ in range(3):
        await bot.admit(ask("What about MATS?", user="ADMIN"), exempt=True)
    await bot.answer(ask("What about MATS?", user="ADMIN"), check_limits=False)
    # A blank message is not a question: it is not counted (EmptyQuestion handles it).
    await bot.admit(ask("   ", user="U9"))
    await bot.admit(ask("What about MATS?", user="U9"))


async def test_the_limits_are_on_by_default_from_settings(
    make_careerbot: Callable[..., CareerBot],
) -> None:
    bot = make_careerbot(limits={"per_user_per_minute": 1})
    assert bot.fair_use is not None and bot.fair_use.applies("discord")
    await bot.admit(ask("What about MATS?", platform="discord"))
    with pytest.raises(RateLimited):
        await bot.admit(ask("What about MATS?", platform="discord"))


async def test_the_terminal_says_when_to_try_again(
    make_careerbot: Callable[..., CareerBot],
) -> None:
    import io

    clock = Clock()
    # The terminal is not limited by default; limited, it shows the same notice.
    bot = limited(make_careerbot(), clock, per_user_per_minute=1, platforms=frozenset({"terminal"}))
    lines = iter(["What research skills do I need?", "And MATS?"])

    async def read(_prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    out = io.StringIO()
    await run_chat(bot, read=read, out=out, user="ada")
    assert "You've asked a lot in a short time — try again in about a minute." in out.getvalue()
