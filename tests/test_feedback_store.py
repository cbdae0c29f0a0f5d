"""Votes in the store: one per user per answer, replaced on a change, reasons attach to it.

Every test runs on SQLite and on the real PostgreSQL (`-k postgres`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.conversations import ConversationStore
from bot.models import MAX_REASON_CHARS, Citation, Feedback
from bot.schema import feedback

CITES = (
    Citation("Fit guide", "Ann", "https://x/fit", "Try things.", "p1", section="Testing fit"),
    Citation("Fit guide", "Ann", "https://x/fit", "Talk to people.", "p2", section="Advice"),
)


@pytest.fixture
def store(db_url: str) -> Iterator[ConversationStore]:
    s = ConversationStore(db_url)
    yield s
    s.close()


def _answer(store: ConversationStore, answer_id: str, *, asker: str = "U1") -> None:
    store.append_exchange(
        f"slack:T:C:{answer_id}",
        asker=asker,
        platform="slack",
        question="How do I test my fit?",
        answer_text="Try things [1].",
        answer_id=answer_id,
        covered=True,
        mode="extractive",
        citations=CITES,
    )


def _vote(store: ConversationStore, user: str, helpful: bool, answer_id: str = "a1") -> None:
    store.record_feedback(
        Feedback(answer_id=answer_id, user=user, platform="slack", helpful=helpful)
    )


def test_a_changed_vote_replaces_the_first_and_keeps_question_answer_and_sources(
    store: ConversationStore,
) -> None:
    _answer(store, "a1")
    _vote(store, "U2", True)
    _vote(store, "U2", False)

    (vote,) = store.feedback_for("a1")
    assert (vote.user, vote.helpful) == ("U2", False)
    assert (vote.question, vote.answer) == ("How do I test my fit?", "Try things [1].")
    with store.engine.connect() as conn:
        sources = conn.execute(sa.select(feedback.c.sources)).scalar_one()
    assert "Testing fit" in sources and "Advice" in sources
    assert store.count("feedback") == 1


def test_each_user_has_their_own_vote(store: ConversationStore) -> None:
    _answer(store, "a1")
    _vote(store, "U2", True)
    _vote(store, "U3", False)
    votes = {v.user: v.helpful for v in store.feedback_for("a1")}
    assert votes == {"U2": True, "U3": False}


def test_a_reason_given_later_attaches_to_the_vote_and_a_thumbs_up_clears_it(
    store: ConversationStore,
) -> None:
    _answer(store, "a1")
    _vote(store, "U2", False)
    store.record_feedback(
        Feedback(
            answer_id="a1",
            user="U2",
            platform="slack",
            helpful=False,
            reason="outdated",
            reason_text="x" * (MAX_REASON_CHARS + 50),
        )
    )
    (vote,) = store.feedback_for("a1")
    assert vote.reason == "outdated" and len(vote.reason_text) == MAX_REASON_CHARS

    _vote(store, "U2", False)  # clicking 👎 again keeps the reason
    assert store.feedback_for("a1")[0].reason == "outdated"

    _vote(store, "U2", True)
    (vote,) = store.feedback_for("a1")
    assert vote.helpful and vote.reason is None and vote.reason_text == ""


def test_concurrent_clicks_of_one_user_leave_one_vote(store: ConversationStore) -> None:
    _answer(store, "a1")
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def click(i: int) -> None:
        try:
            start.wait(timeout=10)
            _vote(store, "U2", i % 2 == 0)
        except BaseException as exc:  # collected: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert store.count("feedback") == 1


def test_forget_user_deletes_their_votes_and_prune_deletes_old_reasons(
    store: ConversationStore,
) -> None:
    _answer(store, "a1")
    _answer(store, "a2")
    store.record_feedback(
        Feedback("a1", "U2", "slack", helpful=False, reason="wrong", reason_text="bad")
    )
    _vote(store, "U3", False, answer_id="a2")
    assert store.user_data("slack", "U2").feedback == 1

    store.forget_user("slack", "U2")
    assert [v.user for v in store.feedback_for("a1")] == []

    future = datetime.now(UTC) + timedelta(days=1)
    report = store.prune(future, future)
    assert report.feedback == 1
    assert store.count("feedback") == 0


def test_report_rows_carry_sources_platform_and_reasons(store: ConversationStore) -> None:
    _answer(store, "a1")
    store.record_feedback(
        Feedback("a1", "U2", "slack", helpful=False, reason="missing", reason_text="salaries?")
    )
    since = datetime.now(UTC) - timedelta(hours=1)
    answers, votes = store.report_rows(since)
    (row,) = answers
    assert row.platform == "slack" and row.covered and row.mode == "extractive"
    assert row.sources == (("Fit guide", "Testing fit"), ("Fit guide", "Advice"))
    (vote,) = votes
    assert (vote.reason, vote.reason_text, vote.helpful) == ("missing", "salaries?", False)
    assert store.report_rows(since, since + timedelta(minutes=1)) == ([], [])


def test_a_weekly_report_period_is_claimed_once(store: ConversationStore) -> None:
    assert store.claim_report("weekly:2026-W48", "replica-a")
    assert not store.claim_report("weekly:2026-W48", "replica-b")
    assert store.claim_report("weekly:2026-W49", "replica-b")


def test_upgrading_keeps_each_users_latest_click_as_their_vote(db_url: str) -> None:
    from alembic import command

    from bot.db import _alembic_config, make_engine

    engine = make_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0004")
    old = sa.table(
        "feedback",
        *(sa.column(c) for c in ("answer_id", "user", "platform", "helpful", "question")),
        sa.column("answer"),
        sa.column("at"),
    )
    now = datetime.now(UTC)

    def click(user: str, helpful: bool) -> dict[str, object]:
        return {
            "answer_id": "a1",
            "user": user,
            "platform": "slack",
            "helpful": helpful,
            "question": "q",
            "answer": "a",
            "at": now,
        }

    with engine.begin() as conn:
        clicks = [click("U2", True), click("U2", True), click("U2", False), click("U3", True)]
        conn.execute(old.insert(), clicks)
    engine.dispose()

    store = ConversationStore(db_url)  # upgrades to head
    try:
        votes = {v.user: v.helpful for v in store.feedback_for("a1")}
        assert votes == {"U2": False, "U3": True}
    finally:
        store.close()


def test_forgetting_an_asker_deletes_others_votes_that_copy_their_question(
    store: ConversationStore,
) -> None:
    _answer(store, "a1", asker="U1")
    _answer(store, "a2", asker="U5")
    store.record_feedback(
        Feedback("a1", "U2", "slack", helpful=False, reason="wrong", reason_text="meh")
    )
    _vote(store, "U2", True, answer_id="a2")

    store.forget_user("slack", "U1")

    assert store.feedback_for("a1") == []
    assert [v.user for v in store.feedback_for("a2")] == ["U2"]
    since = datetime.now(UTC) - timedelta(hours=1)
    _, votes = store.report_rows(since)
    assert [v.answer_id for v in votes] == ["a2"]
