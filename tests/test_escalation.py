"""Escalation store (SQLite and PostgreSQL), privacy coverage, the review folder and its CLI."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.conversations import ConversationStore
from bot.escalation import (
    AlreadyEscalated,
    AnswerExpired,
    EscalationDesk,
    EscalationRequest,
    EscalationStore,
    MentorReply,
    NotAMentorReply,
    relay_text,
)
from bot.knowledge import load_knowledge
from bot.models import Answer, Citation
from bot.review import ReviewError, accept, list_review, reject, save_for_review
from bot.schema import escalation_replies, escalations
from tests.conftest import FIXTURE_KNOWLEDGE

REPO = Path(__file__).resolve().parents[1]
CITATION = Citation(
    title="AGI safety career advice",
    author="Richard Ngo",
    url="https://www.alignmentforum.org/posts/ho63vCb2MNFijinzY/agi-safety-career-advice",
    quote="find a big lever",
    passage_id="p1",
    section="General mindset",
)


def _keep(store: ConversationStore, answer_id: str, asker: str = "U1") -> None:
    answer = Answer(
        "Find fast feedback loops [1].", True, "extractive", (CITATION,), answer_id=answer_id
    )
    store.keep_answer("How do I start?", answer, asker=asker, platform="slack")


def _desk(store: ConversationStore, tmp_path: Path, *, credit: bool = False) -> EscalationDesk:
    return EscalationDesk(
        EscalationStore(store.engine),
        store.kept_answer,
        review_dir=tmp_path / "review",
        credit_mentors=credit,
    )


def _request(
    answer_id: str = "a1", asker: str = "U1", name: str | None = "ada"
) -> EscalationRequest:
    return EscalationRequest(
        platform="slack",
        asker=asker,
        answer_id=answer_id,
        relay_channel="C1",
        relay_thread="1700000000.000100",
        shown_name=name,
        note="switching from physics",
    )


def _reply(escalation_id: int, message_id: str = "C9:1", mentor: str = "UM") -> MentorReply:
    return MentorReply("slack", message_id, escalation_id, mentor, "Mara", "Do a project.")


async def test_store_opens_claims_once_and_marks_answered(db_url: str, tmp_path: Path) -> None:
    store = ConversationStore(db_url)
    try:
        desk = _desk(store, tmp_path)
        _keep(store, "a1")
        with pytest.raises(AnswerExpired):
            await desk.open(_request("never-kept"))

        escalation = await desk.open(_request())
        assert (escalation.question, escalation.status) == ("How do I start?", "open")
        assert escalation.sources == (CITATION,) and escalation.note == "switching from physics"
        with pytest.raises(AlreadyEscalated):  # a double submit is one escalation
            await desk.open(_request(name=None))
        await desk.posted(escalation, "C9:1700000001.000100")
        found = await desk.for_post("slack", "C9:1700000001.000100")
        assert found is not None and found.id == escalation.id
        assert await desk.for_post("discord", "C9:1700000001.000100") is None

        # Two replicas see the same mentor message: exactly one claim wins.
        claims = await asyncio.gather(*(desk.claim_reply(_reply(escalation.id)) for _ in range(4)))
        assert sorted(claims) == [False, False, False, True]
        assert await desk.claim_reply(_reply(escalation.id, "C9:2"))  # a later reply: relayed
        stored = desk.store.get(escalation.id)
        assert stored is not None and stored.status == "answered"
        assert desk.store.relayed_count(escalation.id) == 2
    finally:
        store.close()


async def test_a_failed_mentors_post_lets_the_asker_try_again(db_url: str, tmp_path: Path) -> None:
    store = ConversationStore(db_url)
    try:
        desk = _desk(store, tmp_path)
        _keep(store, "a1")
        await desk.abandon(await desk.open(_request()))
        again = await desk.open(_request())
        assert again.status == "open"
    finally:
        store.close()


async def test_forget_my_data_and_prune_cover_escalations(db_url: str, tmp_path: Path) -> None:
    store = ConversationStore(db_url)
    try:
        desk = _desk(store, tmp_path)
        _keep(store, "a1")
        _keep(store, "a2", asker="U2")
        mine = await desk.open(_request("a1", "U1"))
        theirs = await desk.open(_request("a2", "U2"))
        await desk.claim_reply(_reply(mine.id, "C9:1", mentor="U2"))  # U2 mentors U1
        await desk.claim_reply(_reply(theirs.id, "C9:2", mentor="UM"))

        kept = store.user_data("slack", "U1")
        assert kept.escalations == 1 and "1 question sent to mentors" in kept.describe()
        forgotten = store.forget_user("slack", "U2")
        assert forgotten.escalations == 1
        with store.engine.connect() as conn:
            left = conn.execute(sa.select(escalations.c.asker)).scalars().all()
            replies = conn.execute(sa.select(escalation_replies.c.message_id)).scalars().all()
        assert left == ["U1"]
        assert replies == []  # theirs went with their escalation, the one U2 wrote went too

        long_ago = datetime.now(UTC) - timedelta(days=100)
        with store.engine.begin() as conn:
            conn.execute(sa.update(escalations).values(at=long_ago))
        now = datetime.now(UTC)
        report = store.prune(now - timedelta(days=90), now - timedelta(hours=24))
        assert report.escalations == 1 and "1 mentor escalations" in report.summary()
        assert store.user_data("slack", "U1").escalations == 0
    finally:
        store.close()


async def test_add_to_knowledge_writes_a_file_the_loader_accepts(tmp_path: Path) -> None:
    store = ConversationStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        desk = _desk(store, tmp_path, credit=True)
        _keep(store, "a1")
        escalation = await desk.open(_request())
        with pytest.raises(NotAMentorReply):
            await desk.add_to_knowledge("slack", "C9:1")
        await desk.claim_reply(_reply(escalation.id))

        item = await desk.add_to_knowledge("slack", "C9:1", url="https://example.slack.com/p1")
        again = await desk.add_to_knowledge("slack", "C9:1")  # marked twice: one file

        assert again.name == item.name and len(list((tmp_path / "review").glob("*.md"))) == 1
        [doc] = load_knowledge(tmp_path / "review")
        assert (doc.title, doc.author) == ("Mentor answer: How do I start?", "Mara")
        assert doc.url is None  # the second save had no link
        assert doc.published == date.today().isoformat()
        assert "Do a project." in doc.body
    finally:
        store.close()


def test_review_files_survive_hostile_text_and_accept_checks_titles(tmp_path: Path) -> None:
    review, knowledge = tmp_path / "review", tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "post.md").write_text('---\ntitle: "Mentor answer: Old"\n---\n\nBody.\n')
    hostile = 'What about "quotes": colons, --- and\nnew lines? #tag'
    item = save_for_review(
        review,
        question=hostile,
        reply="---\nNot front matter.",
        author='O\'Brien: "the mentor"',
        url=None,
        published=date(2026, 11, 26),
        key="discord-123",
    )
    clash = save_for_review(
        review, question="Old", reply="x", author=None, url=None, published=date.today(), key="k"
    )
    assert [i.name for i in list_review(review)] == sorted([item.name, clash.name])
    assert item.author == 'O\'Brien: "the mentor"'

    with pytest.raises(ReviewError, match="title"):
        accept(review, knowledge, clash.name)
    with pytest.raises(ReviewError, match="not a file name"):
        accept(review, knowledge, "../knowledge/post.md")
    with pytest.raises(ReviewError, match="review list"):
        accept(review, knowledge, "nope.md")

    accepted = accept(review, knowledge, item.name)
    assert accepted.path == knowledge / item.name and not (review / item.name).exists()
    assert {d.title for d in load_knowledge(knowledge)} >= {item.title}
    assert reject(review, clash.name.removesuffix(".md")).name == clash.name
    assert list_review(review) == []
    assert relay_text("Mara", " ok ") == "A mentor (Mara) replied: ok"
    assert relay_text("", "ok") == "A mentor replied: ok"


def _careerbot(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CAREERBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=REPO / "tests",
        env={**base, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_review_command_lists_accepts_and_rejects(tmp_path: Path) -> None:
    import shutil

    review, knowledge = tmp_path / "review", tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, knowledge)
    one = save_for_review(
        review,
        question="Q one?",
        reply="A1",
        author=None,
        url=None,
        published=date.today(),
        key="1",
    )
    two = save_for_review(
        review,
        question="Q two?",
        reply="A2",
        author=None,
        url=None,
        published=date.today(),
        key="2",
    )
    env = {
        "CAREERBOT_MENTORS__REVIEW_DIR": str(review),
        "CAREERBOT_KNOWLEDGE_DIR": str(knowledge),
    }

    listed = _careerbot("review", "list", **env)
    assert listed.returncode == 0, listed.stderr
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == [one.name, two.name]

    accepted = _careerbot("review", "accept", one.name, **env)
    assert accepted.returncode == 0, accepted.stderr
    assert "careerbot reload" in accepted.stdout and (knowledge / one.name).is_file()
    rejected = _careerbot("review", "reject", two.name, **env)
    assert rejected.returncode == 0 and not (review / two.name).exists()

    missing = _careerbot("review", "accept", "nope", **env)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1
    assert "Traceback" not in missing.stderr and "no nope.md" in missing.stderr
    empty = _careerbot("review", "list", **env)
    assert "Nothing waiting for review" in empty.stdout
