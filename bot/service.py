"""The one object adapters talk to: answer, forget, feedback, reload, status."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

from bot.answering import Answerer
from bot.conversations import ConversationStore
from bot.index import KnowledgeIndex, ProgressFactory
from bot.knowledge import chunk_documents, load_knowledge
from bot.llm import Partial
from bot.models import (
    Answer,
    Feedback,
    IngestReport,
    Question,
    ReloadInProgress,
    Status,
)
from bot.retrieval import Retriever

log = logging.getLogger(__name__)

_LAST_RELOAD = "last_reload"


class CareerBot:
    """Facade over the answering core and the knowledge index, shared by every adapter.

    Every method is async; blocking work (embedding, Chroma, SQL) runs in a worker thread so
    an adapter's event loop keeps serving other users.
    """

    def __init__(
        self,
        *,
        answerer: Answerer,
        index: KnowledgeIndex,
        retriever: Retriever,
        store: ConversationStore,
        knowledge_dir: Path,
        embedding_model: str,
        llm_model: str | None = None,
        progress: ProgressFactory | None = None,
    ) -> None:
        self.answerer = answerer
        self.index = index
        self.retriever = retriever
        self.store = store
        self.knowledge_dir = knowledge_dir
        self.embedding_model = embedding_model
        self.llm_model = llm_model
        self._progress = progress
        self._reload_lock = asyncio.Lock()

    async def answer(self, question: Question, on_partial: Partial | None = None) -> Answer:
        """Answer one user turn (raises EmptyQuestion for a blank message).

        `on_partial`, if given, receives checked partial text while an LLM writes.
        """
        return await self.answerer.answer(question, on_partial)

    async def forget(self, conversation_key: str) -> int:
        """Delete a conversation's stored history; returns how many turns were removed."""
        return await asyncio.to_thread(self.store.forget, conversation_key)

    async def has_conversation(self, conversation_key: str) -> bool:
        """Whether the bot has already answered in this conversation (e.g. a Slack thread)."""
        return await asyncio.to_thread(self.store.has_conversation, conversation_key)

    async def record_feedback(self, feedback: Feedback) -> None:
        """Store a 👍/👎 click together with the question and answer it was about."""
        await asyncio.to_thread(self.store.record_feedback, feedback)

    async def reload(self) -> IngestReport:
        """Re-index knowledge/; on any error the previous index keeps serving.

        Raises IngestError (a bad knowledge file, named in the message) or ReloadInProgress.
        """
        if self._reload_lock.locked():
            raise ReloadInProgress("A reload is already running; try again in a minute.")
        async with self._reload_lock:
            return await asyncio.to_thread(self.reload_sync)

    def reload_sync(self, progress: ProgressFactory | None = None) -> IngestReport:
        """The blocking reload used by the CLI and by `reload`."""
        documents = load_knowledge(self.knowledge_dir)
        passages = chunk_documents(documents)
        report = self.index.sync(passages, progress=progress or self._progress)
        self.retriever.refresh()
        self.store.set_meta(_LAST_RELOAD, datetime.now(UTC).isoformat())
        log.info("reload: %s", report.summary())
        return report

    async def status(self) -> Status:
        """Index size, documents, models and last reload, for `status` commands."""
        return await asyncio.to_thread(self.status_sync)

    def status_sync(self) -> Status:
        """Blocking variant of :meth:`status`."""
        snapshot = self.retriever.snapshot
        last = self.store.get_meta(_LAST_RELOAD)
        titles = tuple(sorted({p.title for p in snapshot.passages}))
        return Status(
            documents=len(titles),
            passages=len(snapshot.passages),
            embedding_model=self.embedding_model,
            answer_mode="llm" if self.llm_model else "extractive",
            llm_model=self.llm_model,
            last_reload=datetime.fromisoformat(last) if last else None,
            collection=snapshot.collection,
            titles=titles,
        )

    def close(self) -> None:
        """Release database connections."""
        self.store.close()
