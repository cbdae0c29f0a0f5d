"""The one object adapters talk to: answer, forget, feedback, reload, status."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.conversations import ConversationStore
from bot.index import KnowledgeIndex, ProgressFactory
from bot.knowledge import DEFAULT_MAX_FILE_BYTES, chunk_documents, load_knowledge
from bot.logcontext import new_request_id, request_id
from bot.metrics import (
    ANSWER_SECONDS,
    ANSWERS,
    DECLINES,
    ERRORS,
    FEEDBACK,
    INDEX_PASSAGES,
    RELOADS,
)
from bot.models import (
    Answer,
    EmptyQuestion,
    Feedback,
    IngestReport,
    Question,
    ReloadInProgress,
    Status,
)
from bot.retrieval import Retriever

if TYPE_CHECKING:  # the answering core (and its chat-model stack) loads on first answer
    from bot.answering import Answerer

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
        answerer: Answerer | Callable[[], Answerer],
        index: KnowledgeIndex,
        retriever: Retriever,
        store: ConversationStore,
        knowledge_dir: Path,
        embedding_model: str,
        llm_model: str | None = None,
        progress: ProgressFactory | None = None,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> None:
        # A factory defers importing the answering core (langchain's chat-model stack,
        # ~1.5 s) until something answers: `ingest` and `doctor` never need it.
        self._answerer: Answerer | None = None
        self._answerer_factory: Callable[[], Answerer] | None = None
        if callable(answerer) and not hasattr(answerer, "answer"):
            self._answerer_factory = answerer
        else:
            self._answerer = answerer  # type: ignore[assignment]
        self._answerer_lock = threading.Lock()
        self.index = index
        self.retriever = retriever
        self.store = store
        self.knowledge_dir = knowledge_dir
        self.embedding_model = embedding_model
        self.llm_model = llm_model
        self._progress = progress
        self.max_file_bytes = max_file_bytes
        self._reload_lock = asyncio.Lock()

    @property
    def answerer(self) -> Answerer:
        """The answering core, built on first use (raises LLMConfigError for a bad model)."""
        if self._answerer is None:
            with self._answerer_lock:
                if self._answerer is None:
                    assert self._answerer_factory is not None
                    self._answerer = self._answerer_factory()
        return self._answerer

    async def answer(self, question: Question) -> Answer:
        """Answer one user turn (raises EmptyQuestion for a blank message).

        Each answer gets a request id that every log record made while answering carries;
        the outcome and latency are counted in the Prometheus metrics.
        """
        token = request_id.set(new_request_id())
        started = time.perf_counter()
        platform = question.platform
        try:
            answer = await self.answerer.answer(question)
        except EmptyQuestion:
            DECLINES.labels(platform, "empty").inc()
            raise
        except Exception as exc:
            ERRORS.labels("answer", type(exc).__name__).inc()
            log.warning("answer failed on %s: %s", platform, type(exc).__name__)
            raise
        else:
            seconds = time.perf_counter() - started
            ANSWER_SECONDS.labels(platform).observe(seconds)
            ANSWERS.labels(platform, answer.mode, str(answer.covered).lower()).inc()
            if not answer.covered:
                DECLINES.labels(platform, "not_covered").inc()
            log.info(
                "answered on %s: mode=%s covered=%s citations=%d in %.0f ms",
                platform,
                answer.mode,
                answer.covered,
                len(answer.citations),
                seconds * 1000,
            )
            return answer
        finally:
            request_id.reset(token)

    async def forget(self, conversation_key: str) -> int:
        """Delete a conversation's stored history; returns how many turns were removed."""
        return await asyncio.to_thread(self.store.forget, conversation_key)

    async def has_conversation(self, conversation_key: str) -> bool:
        """Whether the bot has already answered in this conversation (e.g. a Slack thread)."""
        return await asyncio.to_thread(self.store.has_conversation, conversation_key)

    async def record_feedback(self, feedback: Feedback) -> None:
        """Store a 👍/👎 click together with the question and answer it was about."""
        await asyncio.to_thread(self.store.record_feedback, feedback)
        FEEDBACK.labels(feedback.platform, str(feedback.helpful).lower()).inc()

    async def reload(self) -> IngestReport:
        """Re-index knowledge/; on any error the previous index keeps serving.

        Raises IngestError (a bad knowledge file, named in the message) or ReloadInProgress.
        """
        if self._reload_lock.locked():
            RELOADS.labels("busy").inc()
            raise ReloadInProgress("A reload is already running; try again in a minute.")
        async with self._reload_lock:
            return await asyncio.to_thread(self.reload_sync)

    def reload_sync(self, progress: ProgressFactory | None = None) -> IngestReport:
        """The blocking reload used by the CLI and by `reload`."""
        try:
            documents = load_knowledge(self.knowledge_dir, max_file_bytes=self.max_file_bytes)
            passages = chunk_documents(documents)
            report = self.index.sync(passages, progress=progress or self._progress)
            self.retriever.refresh()
        except Exception as exc:
            RELOADS.labels("failed").inc()
            ERRORS.labels("reload", type(exc).__name__).inc()
            raise
        RELOADS.labels("changed" if report.changed else "unchanged").inc()
        INDEX_PASSAGES.set(len(self.retriever.snapshot.passages))
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

    async def readiness(self) -> tuple[bool, str]:
        """Whether this process can answer: an index is loaded and the database answers."""
        if not self.retriever.ready:
            return False, "no index loaded (run `careerbot ingest`)"
        try:
            await asyncio.to_thread(self._ping_database)
        except Exception as exc:
            log.debug("readiness: database ping failed", exc_info=True)
            return False, f"database unreachable ({type(exc).__name__})"
        passages = len(self.retriever.snapshot.passages)
        INDEX_PASSAGES.set(passages)
        return True, f"ready: {passages} passages in {self.retriever.snapshot.collection}"

    def _ping_database(self) -> None:
        from sqlalchemy import text

        with self.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def close(self) -> None:
        """Release database connections."""
        self.store.close()
