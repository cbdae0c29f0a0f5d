"""Ingest and index promises: incremental embedding, removals, failed and crashed builds, reload."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from langchain_core.embeddings import Embeddings

from bot.embeddings import ONNX_MODEL_NAME
from bot.index import KnowledgeIndex
from bot.knowledge import chunk_documents, embedding_text, load_knowledge
from bot.models import IngestError, IngestReport, Passage, Question, ReloadInProgress
from bot.service import CareerBot
from bot.settings import Settings
from bot.wiring import build_careerbot
from tests.conftest import FIXTURE_KNOWLEDGE, CachingEmbeddings

ON_TOPIC = "How should I find my personal fit for AI safety work?"
# One word swapped for another: the chunker sees the same sizes, so only one passage changes.
EDIT_FILE = "research-skills.md"
EDIT_OLD = "LeetCode mediums in under 30 minutes"
EDIT_NEW = "LeetCode mediums in under 40 minutes"

NEW_DOC = """---
title: "Notes on field-building work"
author: "A. Tester"
url: "https://example.org/field-building"
published: null
site: null
---

## Why field-building matters

Field-building is the work of bringing more capable people into AI safety and helping them
find good projects. Community organisers run reading groups, retreats and fellowships. They
spend their days matching newcomers with mentors, answering questions about which research
agendas are promising, and making sure that people who are curious about alignment have a
clear next step. This kind of work rewards patience, organisation and a genuine interest in
other people's growth, and it can be a good fit for people who enjoy teaching.

## How to start

Start a local reading group with three or four friends and meet every week for a term.
"""


class CountingEmbeddings(Embeddings):
    """The session model, recording every text the index asks to embed."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.texts: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


Built = tuple[CareerBot, CountingEmbeddings]


@pytest.fixture
def make_careerbot(
    make_careerbot: Callable[..., CareerBot], chroma_backend: dict[str, Any]
) -> Callable[..., CareerBot]:
    """The shared factory, on the embedded store and on a real Chroma server."""

    def make(**overrides: Any) -> CareerBot:
        overrides.setdefault("chroma", chroma_backend)
        return make_careerbot(**overrides)

    return make


@pytest.fixture
def make_counted(
    tmp_path: Path,
    embedder: CachingEmbeddings,
    monkeypatch: pytest.MonkeyPatch,
    chroma_backend: dict[str, Any],
) -> Iterator[Callable[[], Built]]:
    """A real CareerBot (index not built) whose index embeds through a CountingEmbeddings."""
    for name in list(os.environ):
        if name.startswith("CAREERBOT_"):
            monkeypatch.delenv(name)
    made: list[CareerBot] = []

    def make() -> Built:
        folder = tmp_path / "knowledge"
        shutil.copytree(FIXTURE_KNOWLEDGE, folder)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            knowledge_dir=folder,
            data_dir=tmp_path / "data",
            chroma=chroma_backend,
        )
        counter = CountingEmbeddings(embedder)
        bot = build_careerbot(settings, embeddings=(counter, ONNX_MODEL_NAME))
        made.append(bot)
        return bot, counter

    yield make
    for bot in made:
        bot.close()


def _expected(folder: Path) -> list[Passage]:
    return chunk_documents(load_knowledge(folder))


def _texts(passages: list[Passage]) -> list[str]:
    return [embedding_text(p.title, p.section, p.text) for p in passages]


def _generations(bot: CareerBot) -> list[str]:
    return bot.index.generation_names()


def _active_ids(bot: CareerBot) -> set[str]:
    active = bot.index.active()
    assert active is not None
    return set(active.get(include=[])["ids"])


def _ask(text: str = ON_TOPIC) -> Question:
    return Question(text=text, asker="tester", conversation_key="test:index")


def test_cold_ingest_reports_every_passage_added(make_counted: Callable[[], Built]) -> None:
    bot, counter = make_counted()
    expected = _expected(bot.knowledge_dir)

    report = bot.reload_sync()

    assert report.documents == 3
    assert report.passages == report.added == report.embedded == len(expected)
    assert (report.removed, report.unchanged) == (0, 0)
    assert report.changed
    assert set(report.changed_documents) == {p.title for p in expected}
    assert sorted(counter.texts) == sorted(_texts(expected))
    assert _active_ids(bot) == {p.id for p in expected}
    assert len(_generations(bot)) == 1
    assert report.summary().startswith("Reloaded: 3 documents")


def test_a_posts_date_is_served_with_its_passages_and_a_new_date_is_a_change(
    make_counted: Callable[[], Built],
) -> None:
    bot, _ = make_counted()
    bot.reload_sync()
    bot.retriever.refresh()
    dates = {p.title: p.published for p in bot.retriever.snapshot.passages if not p.is_comment}
    assert "2024-08-24" in dates.values() and "2023-05" in dates.values(), dates
    # Only the date changes: the reload writes it ("is that still true?" shows it).
    path = bot.knowledge_dir / EDIT_FILE
    path.write_text(
        path.read_text(encoding="utf-8").replace('published: "2024-08-24"', 'published: "2025-01"'),
        encoding="utf-8",
    )
    report = bot.reload_sync()
    assert report.changed
    bot.retriever.refresh()
    dates = {p.published for p in bot.retriever.snapshot.passages}
    assert "2025-01" in dates and "2024-08-24" not in dates


def test_reingest_without_changes_embeds_nothing_and_keeps_the_collection(
    make_counted: Callable[[], Built],
) -> None:
    bot, counter = make_counted()
    first = bot.reload_sync()
    collection = bot.index.active_name()
    counter.texts.clear()

    report = bot.reload_sync()

    assert counter.texts == []
    assert report.embedded == report.added == report.removed == 0
    assert report.unchanged == report.passages == first.passages
    assert not report.changed
    assert bot.index.active_name() == collection
    assert _generations(bot) == [collection]
    assert report.summary().startswith("Knowledge base unchanged: 3 documents")


def test_editing_one_paragraph_reembeds_only_the_changed_passage(
    make_counted: Callable[[], Built],
) -> None:
    bot, counter = make_counted()
    bot.reload_sync()
    before = _expected(bot.knowledge_dir)
    old_collection = bot.index.active_name()
    path = bot.knowledge_dir / EDIT_FILE
    text = path.read_text(encoding="utf-8")
    assert text.count(EDIT_OLD) == 1
    path.write_text(text.replace(EDIT_OLD, EDIT_NEW), encoding="utf-8")
    after = _expected(bot.knowledge_dir)
    new = [p for p in after if p.id not in {q.id for q in before}]
    assert len(new) == 1 and EDIT_NEW in new[0].text
    counter.texts.clear()

    report = bot.reload_sync()

    assert counter.texts == _texts(new)
    assert (report.added, report.removed, report.embedded) == (1, 1, 1)
    assert report.unchanged == len(after) - 1
    assert report.changed_documents == (new[0].title,)
    assert bot.index.active_name() != old_collection
    # The previous generation stays: a replica may still be searching it.
    assert _generations(bot) == sorted([old_collection, bot.index.active_name()])
    assert _active_ids(bot) == {p.id for p in after}
    served = {p.id: p.text for p in bot.retriever.snapshot.passages}
    assert served[new[0].id] == new[0].text


def test_removing_a_file_removes_its_passages(make_counted: Callable[[], Built]) -> None:
    bot, counter = make_counted()
    bot.reload_sync()
    before = _expected(bot.knowledge_dir)
    gone = [p for p in before if p.doc_id == "mats-experience"]
    assert gone
    (bot.knowledge_dir / "mats-experience.md").unlink()
    counter.texts.clear()

    report = bot.reload_sync()

    assert counter.texts == []
    assert report.documents == 2
    assert (report.added, report.removed, report.embedded) == (0, len(gone), 0)
    assert report.unchanged == report.passages == len(before) - len(gone)
    assert report.changed_documents == (gone[0].title,)
    assert not {p.id for p in gone} & _active_ids(bot)
    assert all(p.doc_id != "mats-experience" for p in bot.retriever.snapshot.passages)


async def test_adding_a_file_adds_only_its_passages(make_counted: Callable[[], Built]) -> None:
    bot, counter = make_counted()
    bot.reload_sync()
    before = _expected(bot.knowledge_dir)
    (bot.knowledge_dir / "field-building.md").write_text(NEW_DOC, encoding="utf-8")
    added = [p for p in _expected(bot.knowledge_dir) if p.doc_id == "field-building"]
    counter.texts.clear()

    report = await bot.reload()

    assert sorted(counter.texts) == sorted(_texts(added))
    assert report.documents == 4
    assert (report.added, report.removed, report.embedded) == (len(added), 0, len(added))
    assert report.unchanged == len(before)
    assert report.changed_documents == ("Notes on field-building work",)
    answer = await bot.answer(_ask("How do I start a local AI safety reading group?"))
    assert answer.covered
    assert "Notes on field-building work" in {c.title for c in answer.citations}


async def test_failed_ingest_keeps_the_previous_index_serving(
    make_careerbot: Callable[..., CareerBot],
) -> None:
    bot = make_careerbot()
    collection = bot.index.active_name()
    count = bot.index.active().count()  # type: ignore[union-attr]
    broken = bot.knowledge_dir / "broken.md"
    broken.write_text("no front matter here\n", encoding="utf-8")

    with pytest.raises(IngestError) as caught:
        await bot.reload()

    assert "broken.md" in str(caught.value) and "\n" not in str(caught.value)
    assert bot.index.active_name() == collection
    assert bot.index.active().count() == count  # type: ignore[union-attr]
    assert _generations(bot) == [collection]
    assert bot.retriever.snapshot.collection == collection
    answer = await bot.answer(_ask())
    assert answer.covered and answer.citations


@pytest.mark.parametrize("fault", [RuntimeError("model crashed"), KeyboardInterrupt()])
def test_crash_mid_build_leaves_the_old_index_and_no_orphan(
    make_counted: Callable[[], Built], fault: BaseException
) -> None:
    bot, counter = make_counted()
    bot.reload_sync()
    collection = bot.index.active_name()
    ids = _active_ids(bot)
    path = bot.knowledge_dir / EDIT_FILE
    path.write_text(path.read_text(encoding="utf-8").replace(EDIT_OLD, EDIT_NEW), "utf-8")

    with (
        mock.patch.object(counter, "embed_documents", side_effect=fault),
        pytest.raises(type(fault)),
    ):
        bot.reload_sync()

    assert bot.index.active_name() == collection
    assert _active_ids(bot) == ids
    assert _generations(bot) == [collection]
    # The next ingest, with the model back, completes the change.
    report = bot.reload_sync()
    assert (report.added, report.removed) == (1, 1)
    assert _generations(bot) == sorted([collection, bot.index.active_name()])


async def test_crash_during_async_reload_keeps_answering(
    make_counted: Callable[[], Built],
) -> None:
    bot, counter = make_counted()
    bot.reload_sync()
    collection = bot.index.active_name()
    (bot.knowledge_dir / "field-building.md").write_text(NEW_DOC, encoding="utf-8")

    with (
        mock.patch.object(counter, "embed_documents", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        await bot.reload()

    assert bot.index.active_name() == collection
    assert _generations(bot) == [collection]
    answer = await bot.answer(_ask())
    assert answer.covered and answer.citations


def test_a_leftover_generation_from_a_killed_build_is_dropped_after_the_grace_period(
    make_counted: Callable[[], Built],
) -> None:
    bot, _ = make_counted()
    now = datetime(2030, 1, 1, tzinfo=UTC)
    bot.index.clock = lambda: now
    bot.reload_sync()
    first = bot.index.active_name()
    leftover = f"{bot.index.prefix}-g19990101000000-dead00"
    bot.index.client.create_collection(leftover, embedding_function=None)
    (bot.knowledge_dir / "field-building.md").write_text(NEW_DOC, encoding="utf-8")

    bot.reload_sync()
    second = bot.index.active_name()
    # Found unreferenced now: recorded as retired, not dropped (it might be someone's build).
    assert _generations(bot) == sorted([leftover, first, second])

    now += timedelta(seconds=bot.index.grace_seconds)
    bot.reload_sync()  # unchanged knowledge: no new generation, but old ones are collected

    assert _generations(bot) == sorted([first, second])


async def test_concurrent_reloads_one_raises_reload_in_progress(
    make_careerbot: Callable[..., CareerBot],
) -> None:
    bot = make_careerbot()

    results: list[Any] = await asyncio.gather(bot.reload(), bot.reload(), return_exceptions=True)

    reports = [r for r in results if isinstance(r, IngestReport)]
    refused = [r for r in results if isinstance(r, ReloadInProgress)]
    assert len(reports) == 1 and len(refused) == 1
    assert not reports[0].changed
    # The lock is released afterwards.
    assert not (await bot.reload()).changed


def test_a_different_embedding_model_reembeds_everything(
    make_counted: Callable[[], Built], embedder: CachingEmbeddings
) -> None:
    bot, _ = make_counted()
    bot.reload_sync()
    passages = _expected(bot.knowledge_dir)
    counter = CountingEmbeddings(embedder)
    old = bot.index.active_name()
    other = KnowledgeIndex(
        bot.index.client,
        counter,
        "another-model",
        prefix=bot.index.prefix,
        pointer=bot.index.pointer,
    )

    report = other.sync(passages)

    assert report.embedded == report.added == len(passages)
    assert len(counter.texts) == len(passages)
    active = other.active()
    assert active is not None and active.metadata["embedding_model"] == "another-model"
    assert _generations(bot) == sorted([old, other.active_name()])


def test_the_first_ingest_after_upgrading_reuses_the_old_pointers_vectors(
    make_counted: Callable[[], Built],
) -> None:
    bot, counter = make_counted()
    passages = _expected(bot.knowledge_dir)
    # What an older version left: a generation and a `<prefix>-pointer` collection naming it.
    old = KnowledgeIndex(bot.index.client, counter, ONNX_MODEL_NAME, prefix=bot.index.prefix)
    old.sync(passages)
    legacy = old.active_name()
    assert legacy is not None and bot.index.state().version == 0
    bot.index.client.create_collection(
        f"{bot.index.prefix}-pointer", embedding_function=None, metadata={"active": legacy}
    )
    counter.texts.clear()

    report = bot.reload_sync()  # same knowledge: the old generation is adopted as it is

    assert counter.texts == [] and not report.changed
    assert bot.index.state().version == 1 and bot.index.active_name() == legacy
    (bot.knowledge_dir / "field-building.md").write_text(NEW_DOC, encoding="utf-8")

    report = bot.reload_sync()  # a change: only the new post is embedded

    assert report.embedded == report.added == len(counter.texts) > 0
    assert report.unchanged == len(passages)
    assert bot.index.state().previous == legacy
