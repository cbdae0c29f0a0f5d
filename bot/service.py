"""The one object adapters talk to: answer, forget, feedback, reload, status."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import subprocess
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

from bot.answering import Answerer
from bot.conversations import ConversationStore
from bot.index import Generation, KnowledgeIndex, ProgressFactory, SourceInfo
from bot.knowledge import chunk_documents, load_knowledge
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
RELOAD_LEASE = "index-reload"

# (lease name, holder, seconds) -> a context manager holding that lease in the shared
# database; raises ReloadInProgress when another process holds it.
LeaseFactory = Callable[[str, str, float], AbstractContextManager[object]]


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def git_commit(folder: Path) -> str | None:
    """The git commit `folder` is checked out at ("+changes" if it has edits), or None."""
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+changes" if dirty else head or None


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
        reload_lease: LeaseFactory | None = None,
        lease_seconds: float = 1800.0,
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
        self._reload_lease = reload_lease
        self._lease_seconds = lease_seconds

    async def answer(self, question: Question) -> Answer:
        """Answer one user turn (raises EmptyQuestion for a blank message)."""
        return await self.answerer.answer(question)

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
        """The blocking reload used by the CLI and by `reload`.

        Only one process reloads at a time: the reload holds a lease in the shared database,
        and a second one fails fast with ReloadInProgress naming the holder.
        """
        with self._lease():
            documents = load_knowledge(self.knowledge_dir)
            passages = chunk_documents(documents)
            source = SourceInfo(files=len(documents), commit=git_commit(self.knowledge_dir))
            report = self.index.sync(passages, progress=progress or self._progress, source=source)
            self.retriever.refresh()
            self.store.set_meta(_LAST_RELOAD, datetime.now(UTC).isoformat())
        log.info("reload: %s", report.summary())
        return report

    def _lease(self) -> AbstractContextManager[object]:
        if self._reload_lease is None:
            return contextlib.nullcontext()
        return self._reload_lease(RELOAD_LEASE, _holder(), self._lease_seconds)

    def index_generation(self) -> Generation | None:
        """The generation this process serves (for `serve`'s start-up line), or None."""
        snap = self.retriever.snapshot
        if snap.handle is None:
            return None
        return self.index.generation(snap.handle, snap.version)

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
