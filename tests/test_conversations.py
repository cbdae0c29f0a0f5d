"""The conversation store: history, forgetting, feedback with its answer, SQL URLs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.conversations import ConversationStore
from bot.models import Feedback, Question
from bot.service import CareerBot


@pytest.fixture
def store(db_url: str) -> Iterator[ConversationStore]:
    """A fresh store on SQLite (a file in a folder that does not exist yet) and on Postgres."""
    made = ConversationStore(db_url)
    yield made
    made.close()


def _exchange(store: ConversationStore, key: str, n: int, answer_id: str | None = None) -> None:
    store.append_exchange(
        key,
        asker="alice",
        platform="slack",
        question=f"question {n}",
        answer_text=f"answer {n}",
        answer_id=answer_id or f"{key}-{n}",
        covered=True,
        mode="extractive",
    )


def test_history_is_oldest_first_and_limited_to_the_latest_turns(
    store: ConversationStore,
) -> None:
    for n in range(1, 4):
        _exchange(store, "c1", n)
    _exchange(store, "c2", 99)

    everything = store.history("c1", 50)
    last_three = store.history("c1", 3)

    assert [(t.role, t.text) for t in everything] == [
        ("user", "question 1"),
        ("assistant", "answer 1"),
        ("user", "question 2"),
        ("assistant", "answer 2"),
        ("user", "question 3"),
        ("assistant", "answer 3"),
    ]
    assert [t.text for t in last_three] == ["answer 2", "question 3", "answer 3"]
    assert all(t.at is not None for t in everything)
    assert store.history("c1", 0) == []
    assert store.history("unknown", 10) == []


def test_forget_removes_only_that_conversation(store: ConversationStore) -> None:
    _exchange(store, "c1", 1)
    _exchange(store, "c1", 2)
    _exchange(store, "c2", 1)

    assert store.forget("c1") == 4
    assert store.forget("c1") == 0
    assert store.history("c1", 10) == []
    assert len(store.history("c2", 10)) == 2


def test_has_conversation(store: ConversationStore) -> None:
    assert not store.has_conversation("slack:C1:1700000000.000100")

    _exchange(store, "slack:C1:1700000000.000100", 1)

    assert store.has_conversation("slack:C1:1700000000.000100")
    assert not store.has_conversation("slack:C1:1700000000.000200")
    store.forget("slack:C1:1700000000.000100")
    assert not store.has_conversation("slack:C1:1700000000.000100")


def test_feedback_looks_up_question_and_answer_from_the_answer_record(
    store: ConversationStore,
) -> None:
    _exchange(store, "c1", 1, answer_id="a1")

    store.record_feedback(Feedback(answer_id="a1", user="bob", platform="slack", helpful=False))

    assert store.feedback_for("a1") == [
        Feedback(
            answer_id="a1",
            user="bob",
            platform="slack",
            helpful=False,
            question="question 1",
            answer="answer 1",
        )
    ]


def test_feedback_keeps_given_text_and_survives_forgetting(store: ConversationStore) -> None:
    _exchange(store, "c1", 1, answer_id="a1")
    store.forget("c1")  # history goes; the answer record used for feedback stays

    store.record_feedback(
        Feedback(answer_id="a1", user="bob", platform="discord", helpful=True, question="mine")
    )
    store.record_feedback(Feedback(answer_id="a1", user="carol", platform="slack", helpful=False))
    store.record_feedback(Feedback(answer_id="zz", user="dan", platform="slack", helpful=True))

    first, second = store.feedback_for("a1")
    assert (first.user, first.helpful, first.question, first.answer) == (
        "bob",
        True,
        "mine",
        "answer 1",
    )
    assert (second.user, second.question) == ("carol", "question 1")
    assert store.feedback_for("zz")[0].question == ""
    assert store.count("feedback") == 3


def test_meta_is_an_upsert(store: ConversationStore) -> None:
    assert store.get_meta("last_reload") is None

    store.set_meta("last_reload", "one")
    store.set_meta("last_reload", "two")

    assert store.get_meta("last_reload") == "two"


def test_a_sqlite_file_url_persists_across_stores(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db' / 'talks.db'}"
    first = ConversationStore(url)
    _exchange(first, "c1", 1, answer_id="a1")
    first.close()

    second = ConversationStore(url)
    try:
        assert (tmp_path / "db" / "talks.db").is_file()
        assert [t.text for t in second.history("c1", 10)] == ["question 1", "answer 1"]
        assert second.answer_record("a1") == ("question 1", "answer 1")
        assert second.count("answers") == 1
    finally:
        second.close()


def test_in_memory_url_works() -> None:
    memory = ConversationStore("sqlite://")
    try:
        _exchange(memory, "c1", 1)
        assert memory.has_conversation("c1")
    finally:
        memory.close()


async def test_the_service_stores_history_and_feedback_per_conversation(
    make_careerbot: Callable[..., CareerBot],
) -> None:
    bot = make_careerbot()
    key = "discord:dm:42"
    assert not await bot.has_conversation(key)

    answer = await bot.answer(
        Question(text="Should I do a PhD?", asker="u42", conversation_key=key, platform="discord")
    )
    await bot.record_feedback(
        Feedback(answer_id=answer.answer_id, user="u42", platform="discord", helpful=True)
    )

    assert await bot.has_conversation(key)
    assert [t.text for t in bot.store.history(key, 10)] == ["Should I do a PhD?", answer.text]
    (stored,) = bot.store.feedback_for(answer.answer_id)
    assert (stored.question, stored.answer, stored.helpful) == (
        "Should I do a PhD?",
        answer.text,
        True,
    )
    assert await bot.forget(key) == 2
    assert not await bot.has_conversation(key)
