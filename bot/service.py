"""The one object adapters talk to: answer, forget, feedback, reload, status."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import os
import socket
import subprocess
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.admin import (
    ACTION_DRY_RUN,
    ACTION_RELOAD,
    ACTION_ROLLBACK,
    Actor,
    DryRunReport,
    RollbackReport,
    plan_reload,
)
from bot.audit import AdminAction, AuditLog, Result
from bot.conversations import ConversationStore
from bot.escalation import EscalationDesk, EscalationStore
from bot.index import Generation, KnowledgeIndex, ProgressFactory, SourceInfo
from bot.knowledge import (
    DEFAULT_MAX_FILE_BYTES,
    check_knowledge,
    chunk_documents,
    load_knowledge,
)
from bot.knowledge_git import GitKnowledge
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
    FEEDBACK_REASONS,
    Answer,
    AutoAnswerSwitch,
    ConversationBusy,
    EmptyQuestion,
    Feedback,
    IngestReport,
    LeaseTaken,
    PruneReport,
    Question,
    RateLimited,
    ReloadInProgress,
    Status,
    StoredData,
    Suggestion,
    UnknownAnswer,
)
from bot.report import Report, build_report
from bot.retrieval import Retriever
from bot.suggestions import question_for_key, starters, suggest

if TYPE_CHECKING:  # the answering core (and its chat-model stack) loads on first answer
    from bot.answering import Answerer
    from bot.channels import ChannelMessage, ChannelSwitches, Decision
    from bot.fair_use import FairUse
    from bot.llm import Partial

log = logging.getLogger(__name__)
T = TypeVar("T")

_LAST_RELOAD = "last_reload"
RELOAD_LEASE = "index-reload"


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


# Turns of a conversation read to avoid suggesting a question it already asked.
_SUGGEST_HISTORY = 20

_BUSY = "I'm still answering your previous message; send this one again in a moment."


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _turn_lease_name(conversation_key: str) -> str:
    name = f"turn:{conversation_key}"
    if len(name) <= 255:
        return name
    return "turn:sha256:" + hashlib.sha256(conversation_key.encode()).hexdigest()


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
        reload_lease_seconds: float = 1800.0,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        retention_days: int = 90,
        event_ttl_hours: int = 24,
        turn_lock_seconds: float = 180.0,
        turn_wait_seconds: float = 60.0,
        fair_use: FairUse | None = None,
        channels: ChannelSwitches | None = None,
        auto_answer_min_words: int = 8,
        git: GitKnowledge | None = None,
        audit_retention_days: int = 365,
        review_dir: Path = Path("knowledge-review"),
        credit_mentors: bool = False,
        suggestions: int = 3,
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
        self.reload_lease_seconds = reload_lease_seconds
        self.retention = timedelta(days=retention_days)
        self.event_ttl = timedelta(hours=event_ttl_hours)
        self.turn_lock_seconds = turn_lock_seconds
        self.turn_wait_seconds = turn_wait_seconds
        self.suggestions = suggestions
        self.instance = f"{socket.gethostname()}:{os.getpid()}"
        self._turns: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.fair_use = fair_use
        self.channels = channels
        self.auto_answer_min_words = auto_answer_min_words
        self.git = git
        self.audit = AuditLog(store.engine)
        self.audit_retention = timedelta(days=audit_retention_days)
        # "Ask a mentor": escalations in the shared database, replies saved for review.
        self.escalations = EscalationDesk(
            EscalationStore(store.engine),
            store.kept_answer,
            review_dir=review_dir,
            credit_mentors=credit_mentors,
        )

    @property
    def answerer(self) -> Answerer:
        """The answering core, built on first use (raises LLMConfigError for a bad model)."""
        if self._answerer is None:
            with self._answerer_lock:
                if self._answerer is None:
                    assert self._answerer_factory is not None
                    self._answerer = self._answerer_factory()
        return self._answerer

    async def answer(
        self, question: Question, on_partial: Partial | None = None, *, check_limits: bool = True
    ) -> Answer:
        """Answer one user turn (raises EmptyQuestion for a blank message).

        `on_partial`, if given, receives checked partial text while an LLM writes. The
        question is first counted against the fair-use limits (RateLimited when one is used
        up) unless `check_limits` is False: an adapter that called `admit` itself, or an
        admin's question.

        Each answer gets a request id that every log record made while answering carries;
        the outcome and latency are counted in the Prometheus metrics.
        """
        token = request_id.set(new_request_id())
        started = time.perf_counter()
        platform = question.platform
        try:
            if check_limits:
                await self.admit(question)
            answer = await self._answer_in_turn(question, on_partial)
            answer = await self._with_suggestions(question, answer)
        except RateLimited:
            DECLINES.labels(platform, "rate_limited").inc()
            raise
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

    # --- suggested next questions ---------------------------------------------------------

    async def _with_suggestions(self, question: Question, answer: Answer) -> Answer:
        """The answer with related questions from the sections next to the cited ones.

        Questions this conversation already asked are not offered again.
        """
        if not self.suggestions or not answer.covered or not answer.citations:
            return answer

        def find() -> tuple[Suggestion, ...]:
            history = self.store.history(question.conversation_key, _SUGGEST_HISTORY)
            asked = [question.text, *(t.text for t in history if t.role == "user")]
            passages = self.retriever.snapshot.passages
            return suggest(answer.citations, passages, asked, limit=self.suggestions)

        try:
            found = await asyncio.to_thread(find)
        except Exception as exc:  # the answer is ready and stored: suggestions are a bonus
            log.warning("no suggestions for this answer: %s", type(exc).__name__)
            log.debug("suggestions failed", exc_info=True)
            return answer
        return dataclasses.replace(answer, suggestions=found)

    async def suggestion(self, key: str) -> str | None:
        """The question a suggestion key names in the served index (None when unknown/stale)."""

        def find() -> str | None:
            self.retriever.ensure_current()
            return question_for_key(self.retriever.snapshot.passages, key)

        return await asyncio.to_thread(find)

    async def starter_questions(self) -> tuple[Suggestion, ...]:
        """Questions to offer when a conversation opens (one section of each post in turn)."""

        def find() -> tuple[Suggestion, ...]:
            self.retriever.ensure_current()
            return starters(self.retriever.snapshot.passages)

        return await asyncio.to_thread(find)

    async def _answer_in_turn(
        self, question: Question, on_partial: Partial | None = None
    ) -> Answer:
        """Answer once this conversation's turn is ours.

        Turns of one conversation run one at a time, across every replica: a lease row per
        conversation in the database (expiring after `turn_lock_seconds`, so a crashed
        replica cannot block it). A turn that waits longer than `turn_wait_seconds` raises
        ConversationBusy.
        """
        lock = self._turns.get(question.conversation_key)
        if lock is None:  # same-process turns queue here and do not poll the database
            lock = self._turns[question.conversation_key] = asyncio.Lock()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.turn_wait_seconds
        try:
            await asyncio.wait_for(lock.acquire(), self.turn_wait_seconds)
        except TimeoutError:
            raise ConversationBusy(_BUSY) from None
        try:
            name = _turn_lease_name(question.conversation_key)
            holder = f"{self.instance}:{uuid.uuid4().hex}"
            await self._take_turn(name, holder, deadline)
            try:
                return await self.answerer.answer(question, on_partial)
            finally:
                if not await asyncio.to_thread(self.store.release_lease, name, holder):
                    log.warning("turn lock of %s expired before the answer was stored", name)
        finally:
            lock.release()

    async def _take_turn(self, name: str, holder: str, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        delay = 0.05
        while True:
            info = await asyncio.to_thread(
                self.store.try_lease, name, holder, self.turn_lock_seconds
            )
            if info.acquired:
                return
            left = deadline - loop.time()
            if left <= 0:
                log.info("gave up waiting for %s (held by %s)", name, info.holder)
                raise ConversationBusy(_BUSY)
            log.debug("waiting for %s, held by %s", name, info.holder)
            # Polling the database, bounded by the deadline; the holder is another replica.
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, 0.5)

    # --- fair use and auto-answer channels -------------------------------------------------

    async def admit(self, question: Question, *, exempt: bool = False) -> None:
        """Count a question against the fair-use limits; RateLimited when one is used up.

        Admins are `exempt`. A blank question is not counted (it is not answered either).
        """
        if exempt or self.fair_use is None or not question.text.strip():
            return
        if not self.fair_use.applies(question.platform):
            return
        await asyncio.to_thread(
            self.fair_use.admit, question.platform, question.asker, question.channel
        )

    async def auto_answer_decision(
        self, platform: str, message: ChannelMessage, configured: Collection[str]
    ) -> Decision:
        """Whether to answer an unaddressed channel message (see bot.channels.decide).

        The database is asked for the channel's switch only when the message would
        otherwise be answered.
        """
        from bot.channels import decide

        min_words = self.auto_answer_min_words
        decision = decide(message, configured=configured, opted_out=False, min_words=min_words)
        if decision != "answer" or self.channels is None:
            return decision
        off = await asyncio.to_thread(self.channels.opted_out, platform, message.channel)
        return decide(message, configured=configured, opted_out=off, min_words=min_words)

    async def set_auto_answer(
        self, platform: str, channel: str, *, enabled: bool, by: str
    ) -> AutoAnswerSwitch:
        """An admin turns auto-answer on or off in a channel, for every replica."""
        if self.channels is None:
            raise RuntimeError("auto-answer switches need the database (channels=None)")
        switch = await asyncio.to_thread(
            self.channels.set, platform, channel, enabled=enabled, by=by
        )
        state = "on" if enabled else "off"
        await self.record_admin_action(
            Actor(by, platform),
            f"autoanswer-{state}",
            outcome=f"auto-answer {state} in channel {channel}",
            detail=channel,
        )
        return switch

    async def auto_answer_switch(self, platform: str, channel: str) -> AutoAnswerSwitch | None:
        """The channel's run-time switch, or None when no admin has set it."""
        if self.channels is None:
            return None
        return await asyncio.to_thread(self.channels.get, platform, channel)

    # --- shared state (dedupe, reply chains, shareable answers) ---------------------------

    async def claim_event(self, platform: str, event_id: str) -> bool:
        """True for the first replica to see this event id (handle it), False for repeats."""
        return await asyncio.to_thread(self.store.claim_event, platform, event_id)

    async def remember_message(self, platform: str, message_id: str, conversation_key: str) -> None:
        """Record that a bot message belongs to a conversation (replies continue it)."""
        await asyncio.to_thread(self.store.link_message, platform, message_id, conversation_key)

    async def conversation_for_message(self, platform: str, message_id: str) -> str | None:
        """The conversation a bot message belongs to, on any replica, after any restart."""
        return await asyncio.to_thread(self.store.conversation_for_message, platform, message_id)

    async def keep_answer(self, question: Question, answer: Answer) -> None:
        """Keep an answer so it can be shared from any replica (Slack "Share in channel")."""
        await asyncio.to_thread(
            self.store.keep_answer,
            question.text,
            answer,
            asker=question.asker,
            platform=question.platform,
        )

    async def kept_answer(self, answer_id: str) -> tuple[str, Answer] | None:
        """The (question, answer) kept under this id, or None once pruned or forgotten."""
        return await asyncio.to_thread(self.store.kept_answer, answer_id)

    # --- privacy --------------------------------------------------------------------------

    async def my_data(self, platform: str, user: str, keys: tuple[str, ...] = ()) -> StoredData:
        """What is kept about a user (their messages, answers, feedback, shared answers)."""
        return await asyncio.to_thread(self.store.user_data, platform, user, keys)

    async def forget_user(self, platform: str, user: str, keys: tuple[str, ...] = ()) -> StoredData:
        """Delete what is kept about a user (and the conversations under `keys`); returns it."""
        return await asyncio.to_thread(self.store.forget_user, platform, user, keys)

    async def warm_up(self) -> None:
        """Embed the serving index's sentences in a thread; a failure only costs speed."""
        started = time.perf_counter()
        stop = threading.Event()
        try:
            count = await asyncio.to_thread(self.answerer.warm_up, stop)
        except asyncio.CancelledError:
            stop.set()  # the thread ends after its current batch instead of delaying shutdown
            raise
        except Exception as exc:  # not ready or unreachable: the first questions embed instead
            log.warning("warm-up skipped (%s: %s)", type(exc).__name__, exc)
            return
        log.info("warm-up: %d sentences embedded in %.1f s", count, time.perf_counter() - started)

    def prune_sync(self) -> PruneReport:
        """Delete rows older than the retention period (event ids after `event_ttl`)."""
        now = datetime.now(UTC)
        report = self.store.prune(now - self.retention, now - self.event_ttl)
        if self.fair_use is not None:
            log.debug("retention: %d ended rate-limit windows", self.fair_use.prune())
        report = dataclasses.replace(
            report, admin_actions=self.audit.prune(now - self.audit_retention)
        )
        log.info("retention: %s", report.summary())
        return report

    async def prune(self) -> PruneReport:
        """Async :meth:`prune_sync`."""
        return await asyncio.to_thread(self.prune_sync)

    async def forget(self, conversation_key: str) -> int:
        """Delete a conversation's stored history; returns how many turns were removed."""
        return await asyncio.to_thread(self.store.forget, conversation_key)

    async def has_conversation(self, conversation_key: str) -> bool:
        """Whether the bot has already answered in this conversation (e.g. a Slack thread)."""
        return await asyncio.to_thread(self.store.has_conversation, conversation_key)

    async def record_feedback(self, feedback: Feedback) -> None:
        """Store a 👍/👎 click together with the question, answer and sources it was about.

        One vote per user per answer: a second click replaces the first. Raises
        UnknownAnswer when the answer is no longer stored (pruned or forgotten).
        """
        if await asyncio.to_thread(self.store.answer_record, feedback.answer_id) is None:
            raise UnknownAnswer()
        await asyncio.to_thread(self.store.record_feedback, feedback)
        FEEDBACK.labels(feedback.platform, str(feedback.helpful).lower()).inc()

    async def record_feedback_reason(
        self, answer_id: str, platform: str, user: str, reason: str, text: str = ""
    ) -> None:
        """Attach a 👎's reason (one of FEEDBACK_REASONS, else "other") and free text.

        The reason lands on that user's vote for the answer, making it a 👎 if it was not.
        """
        reason = reason if reason in FEEDBACK_REASONS else "other"
        item = Feedback(
            answer_id=answer_id,
            user=user,
            platform=platform,  # type: ignore[arg-type]
            helpful=False,
            reason=reason,
            reason_text=" ".join(text.split()),
        )
        if await asyncio.to_thread(self.store.answer_record, answer_id) is None:
            raise UnknownAnswer()
        await asyncio.to_thread(self.store.record_feedback, item)
        log.info("feedback reason on %s: %s", platform, reason)

    # --- the knowledge-gap report ---------------------------------------------------------

    def report_sync(self, since: datetime, until: datetime | None = None) -> Report:
        """The knowledge-gap report for [since, until) against the passages served now."""
        until = until or datetime.now(UTC)
        answers, votes = self.store.report_rows(since, until)
        passages = [(p.title, p.section) for p in self.retriever.snapshot.passages]
        return build_report(answers, votes, passages, since=since, until=until)

    async def report(self, since: datetime, until: datetime | None = None) -> Report:
        """Async :meth:`report_sync`."""
        return await asyncio.to_thread(self.report_sync, since, until)

    async def post_weekly_report(
        self, post: Callable[[Report], Awaitable[None]], now: datetime | None = None
    ) -> bool:
        """Post the last 7 days' report once per ISO week, across every replica.

        The week is claimed in the database first (a unique key): the replica whose claim
        wins posts, the others return False. A failed post is logged, not retried this week.
        """
        now = now or datetime.now(UTC)
        year, week, _ = now.isocalendar()
        period = f"weekly:{year}-W{week:02d}"
        if not await asyncio.to_thread(self.store.claim_report, period, self.instance):
            log.info("weekly report for %s: already claimed by a replica", period)
            return False
        report = await self.report(now - timedelta(days=7), now)
        await post(report)
        log.info("posted the weekly knowledge-gap report for %s", period)
        return True

    async def reload(self, by: Actor | None = None) -> IngestReport:
        """Re-index knowledge/; on any error the previous index keeps serving.

        Raises IngestError (a bad knowledge file, named in the message), KnowledgeSyncError
        (the git pull failed) or ReloadInProgress. With `by`, the action is audited.
        """
        if self._reload_lock.locked():
            RELOADS.labels("busy").inc()
            error = ReloadInProgress("A reload is already running; try again in a minute.")
            if by is not None:
                await asyncio.to_thread(
                    self._audit_quietly, by, ACTION_RELOAD, "failed", _line(error)
                )
            raise error
        async with self._reload_lock:
            return await asyncio.to_thread(self.reload_sync, None, by)

    def reload_sync(
        self, progress: ProgressFactory | None = None, by: Actor | None = None
    ) -> IngestReport:
        """The blocking reload used by the CLI and by `reload`.

        Only one process reloads at a time: the reload holds a lease in the shared database,
        and a second one fails fast with ReloadInProgress naming the holder. A git-backed
        knowledge folder is fast-forwarded first (under the lease); a failed pull switches
        nothing. With `by`, the action and its result are recorded in the audit log.
        """
        return self._audited(
            by, ACTION_RELOAD, lambda: self._reload_sync(progress), lambda r: r.summary()
        )

    def _reload_sync(self, progress: ProgressFactory | None) -> IngestReport:
        try:
            with self._reload_lease():
                pulled = self.git.pull() if self.git is not None else None
                documents = load_knowledge(self.knowledge_dir, max_file_bytes=self.max_file_bytes)
                passages = chunk_documents(documents)
                source = SourceInfo(files=len(documents), commit=git_commit(self.knowledge_dir))
                report = self.index.sync(
                    passages, progress=progress or self._progress, source=source
                )
                if pulled is not None:
                    report = dataclasses.replace(report, git=pulled.describe())
                self.retriever.refresh()
        except ReloadInProgress:
            RELOADS.labels("busy").inc()
            raise
        except Exception as exc:
            RELOADS.labels("failed").inc()
            ERRORS.labels("reload", type(exc).__name__).inc()
            raise
        RELOADS.labels("changed" if report.changed else "unchanged").inc()
        INDEX_PASSAGES.set(len(self.retriever.snapshot.passages))
        self.store.set_meta(_LAST_RELOAD, datetime.now(UTC).isoformat())
        log.info("reload: %s", report.summary())
        return report

    # --- admin: dry run, rollback, audit log ----------------------------------------------

    async def reload_dry_run(self, by: Actor | None = None) -> DryRunReport:
        """What `reload` would change now, without building, pulling or switching anything."""
        return await asyncio.to_thread(self.reload_dry_run_sync, by)

    def reload_dry_run_sync(self, by: Actor | None = None) -> DryRunReport:
        """Blocking :meth:`reload_dry_run` (the CLI's `reload --dry-run`)."""
        return self._audited(
            by,
            ACTION_DRY_RUN,
            self._dry_run,
            DryRunReport.audit_line,
            # A dry run that finds problems ran, but the reload it previews would fail.
            judge=lambda r: "failed" if r.problems else "ok",
        )

    def _dry_run(self) -> DryRunReport:
        # Read-only: the pointer and the serving generation are read, never written; a
        # git-backed folder is fetched (remote-tracking data only), never merged.
        self.retriever.ensure_current()
        snap = self.retriever.snapshot
        serving = self.index.generation(snap.handle, snap.version) if snap.handle else None
        extra: list[str] = []
        git_line = None
        plan = self.git.plan() if self.git is not None else None
        with tempfile.TemporaryDirectory(prefix="careerbot-dry-run-") as tmp:
            folder = self.knowledge_dir
            if plan is not None:
                if plan.problem:
                    extra.append(f"git: {plan.problem}")
                    git_line = f"{plan.source or 'the knowledge checkout'} cannot be pulled"
                elif plan.behind and plan.upstream and plan.current and self.git is not None:
                    self.git.export(plan.upstream, Path(tmp))
                    folder = Path(tmp)
                    git_line = (
                        f"would fast-forward {plan.current[:12]} → {plan.upstream[:12]} "
                        f"from {plan.source}"
                    )
                else:
                    git_line = f"up to date with {plan.source} at {(plan.current or '')[:12]}"
            documents, problems = check_knowledge(folder, max_file_bytes=self.max_file_bytes)
            passages = chunk_documents(documents)
        return plan_reload(
            snap.passages,
            passages,
            problems=[*extra, *problems],
            same_model=serving is None or serving.embedding_model == self.index.embedding_model,
            serving_name=serving.describe() if serving else None,
            git=git_line,
        )

    async def rollback(self, by: Actor | None = None) -> RollbackReport:
        """Serve the previous index generation again (every replica follows the pointer).

        Raises NothingToRollBack or ReloadInProgress (a reload or rollback holds the lease).
        """
        if self._reload_lock.locked():
            error = ReloadInProgress("A reload is running; try the rollback again in a minute.")
            if by is not None:
                await asyncio.to_thread(
                    self._audit_quietly, by, ACTION_ROLLBACK, "failed", _line(error)
                )
            raise error
        async with self._reload_lock:
            return await asyncio.to_thread(self.rollback_sync, by)

    def rollback_sync(self, by: Actor | None = None) -> RollbackReport:
        """Blocking :meth:`rollback`, under the same lease as reloads so they cannot race."""
        return self._audited(by, ACTION_ROLLBACK, self._rollback, lambda r: r.summary())

    def _rollback(self) -> RollbackReport:
        with self._reload_lease():
            serving, replaced = self.index.roll_back()
            self.retriever.refresh()
        INDEX_PASSAGES.set(len(self.retriever.snapshot.passages))
        report = RollbackReport(
            serving=serving.describe(version=False),
            replaced=(
                replaced.describe(version=False) if replaced else "a generation that is gone"
            ),
        )
        log.info("rollback: %s", report.summary())
        return report

    async def record_admin_action(
        self,
        by: Actor,
        action: str,
        result: Result = "ok",
        outcome: str = "",
        detail: str = "",
    ) -> bool:
        """Add an admin action to the audit log (for any feature's admin commands).

        `result` is "ok", "refused" (not an admin) or "failed"; `outcome` is the one line
        the admin was shown. False when `by.request_id` was recorded before.
        """
        return await asyncio.to_thread(self._audit, by, action, result, outcome, detail)

    async def admin_actions(self, since: timedelta | None = None) -> list[AdminAction]:
        """The audit log, oldest first (everything when `since` is None)."""
        start = datetime.now(UTC) - since if since is not None else None
        return await asyncio.to_thread(self.audit.since, start)

    def _audit(
        self, by: Actor, action: str, result: Result, outcome: str = "", detail: str = ""
    ) -> bool:
        return self.audit.record(
            AdminAction(
                actor=by.id,
                platform=by.platform,
                action=action,
                result=result,
                outcome=outcome,
                detail=detail,
                action_id=f"{by.platform}:{action}:{by.request_id}" if by.request_id else "",
            )
        )

    def _audited(
        self,
        by: Actor | None,
        action: str,
        run: Callable[[], T],
        describe: Callable[[T], str],
        judge: Callable[[T], Result] = lambda _: "ok",
    ) -> T:
        """Run an admin action; with `by`, record who ran it and how it ended."""
        try:
            result = run()
        except Exception as exc:
            if by is not None:
                self._audit_quietly(by, action, "failed", _line(exc))
            raise
        if by is not None:
            self._audit_quietly(by, action, judge(result), describe(result))
        return result

    def _audit_quietly(self, by: Actor, action: str, result: Result, outcome: str) -> None:
        # The action already happened: an audit write that fails must not report it failed.
        try:
            self._audit(by, action, result, outcome)
        except Exception as exc:
            ERRORS.labels("audit", type(exc).__name__).inc()
            log.warning("could not record admin action %s by %s: %s", action, by.id, exc)

    @contextmanager
    def _reload_lease(self) -> Iterator[None]:
        """Hold the shared reload lease; ReloadInProgress (naming the holder) when taken."""
        holder = f"{self.instance}:{uuid.uuid4().hex[:8]}"
        try:
            with self.store.lease(RELOAD_LEASE, holder, self.reload_lease_seconds):
                yield
        except LeaseTaken as exc:
            current = exc.current
            raise ReloadInProgress(
                f"A reload is already running, started by {current.holder} at "
                f"{current.acquired_at:%Y-%m-%d %H:%M:%S} UTC; try again when it has finished.",
                holder=current.holder,
                since=current.acquired_at,
            ) from None

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
        """Blocking variant of :meth:`status`.

        A reload done on another replica is picked up first, so status shows what serves now.
        """
        self.retriever.ensure_current()
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
