"""The Chroma index: immutable generations, a versioned pointer, bounded retries, grace drops."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from langchain_core.embeddings import Embeddings

from bot.index_pointer import IndexPointer, PointerMoved, PointerState
from bot.knowledge import embedding_text
from bot.models import (
    CareerbotError,
    IndexUnavailable,
    IngestReport,
    NothingToRollBack,
    Passage,
    ReloadInProgress,
)

log = logging.getLogger(__name__)

_BATCH = 256
T = TypeVar("T")


class Progress(Protocol):
    """The part of a tqdm bar the index uses."""

    def update(self, n: int = 1) -> Any: ...

    def close(self) -> None: ...


ProgressFactory = Callable[[int], Progress]


class StaleGeneration(CareerbotError):
    """The collection a reader holds was dropped (or never existed): re-read the pointer."""


@dataclass(frozen=True)
class ChromaRetry:
    """Bounded backoff for transient Chroma errors (server down, connection reset)."""

    attempts: int = 3
    initial_wait: float = 0.2
    max_wait: float = 2.0


@dataclass(frozen=True)
class SourceInfo:
    """Where a build's passages came from, stored on the generation for `serve`/`status`."""

    files: int
    commit: str | None = None


@dataclass(frozen=True)
class Generation:
    """One built index generation as `serve` and `status` report it."""

    name: str
    version: int
    passages: int
    embedding_model: str
    built_at: datetime | None = None
    source_files: int | None = None
    source_commit: str | None = None

    def describe(self, *, version: bool = True) -> str:
        """One line: which generation, how big, built when and from what.

        `version=False` leaves out the pointer version (it counts moves, so after a rollback
        it is not the generation's age) and names the generation by its collection only.
        """
        when = f"{self.built_at:%Y-%m-%d %H:%M UTC}" if self.built_at else "unknown time"
        files = f"{self.source_files} files" if self.source_files is not None else "unknown files"
        commit = ""
        if self.source_commit:
            head, _, dirty = self.source_commit.partition("+")
            commit = f" at commit {head[:12]}" + (" with uncommitted changes" if dirty else "")
        which = f"generation {self.version} ({self.name})" if version else self.name
        return f"{which}: {self.passages} passages, built {when} from {files}{commit}"


def is_transient(exc: BaseException) -> bool:
    """Errors worth retrying: the server is unreachable, reset the connection or rate-limits."""
    import httpx
    from chromadb.errors import RateLimitError

    return isinstance(exc, httpx.TransportError | ConnectionError | TimeoutError | RateLimitError)


def _is_missing(exc: BaseException) -> bool:
    from chromadb.errors import NotFoundError

    return isinstance(exc, NotFoundError)


class KnowledgeIndex:
    """Passages in immutable Chroma collections ("generations") found through a SQL pointer.

    A build writes a brand-new collection and only then moves the pointer (a compare-and-set
    on a versioned row, see bot/index_pointer.py), so a reader never sees a half-built index
    and a failed build leaves the previous one serving. The serving and the previous
    generation are always kept; older ones are dropped by a later build once they have been
    out of use for `grace_seconds`, so a replica that has not yet noticed a move can finish
    the search it started.
    """

    def __init__(
        self,
        client: Any,
        embedder: Embeddings,
        embedding_model: str,
        prefix: str = "careerbot",
        *,
        pointer: IndexPointer | None = None,
        grace_seconds: float = 600.0,
        retry: ChromaRetry | None = None,
        location: str = "Chroma",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.client = client
        self.embedder = embedder
        self.embedding_model = embedding_model
        self.prefix = prefix
        # Without a shared database (a benchmark, a one-off script) the pointer is private
        # to this process; wiring always passes the shared one.
        self.pointer = pointer or IndexPointer.private()
        self._store_key: str | None = None
        self.grace_seconds = grace_seconds
        self.retry = retry or ChromaRetry()
        self.location = location
        self.clock = clock or (lambda: datetime.now(UTC))

    # -- Chroma calls -------------------------------------------------------------------
    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one Chroma call with bounded backoff on transient errors.

        A missing collection becomes StaleGeneration; an outage that outlasts the retries
        becomes IndexUnavailable (one line for a person; the cause is logged at DEBUG).
        """
        from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

        r = self.retry
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(r.attempts),
                wait=wait_exponential(multiplier=r.initial_wait, max=r.max_wait),
                retry=retry_if_exception(is_transient),
                reraise=True,
            ):
                with attempt:
                    return fn(*args, **kwargs)
        except Exception as exc:
            if _is_missing(exc):
                raise StaleGeneration(
                    "The knowledge index changed or was deleted; run `careerbot ingest`."
                ) from exc
            if not is_transient(exc):
                raise
            log.debug("Chroma call failed after %d tries", r.attempts, exc_info=exc)
            raise IndexUnavailable(
                f"The knowledge index ({self.location}) is unreachable "
                f"({type(exc).__name__} after {r.attempts} tries); try again in a minute."
            ) from None
        raise AssertionError("unreachable")  # Retrying either returns or raises

    # -- pointer ------------------------------------------------------------------------
    def store_key(self, create: bool = False) -> str | None:
        """This Chroma store's pointer key: the prefix plus an id kept in the store itself.

        Replicas may share a database while each keeps its own embedded Chroma; keying the
        pointer by the store keeps them from following each other. Only a build creates the
        id (`create`); a reader of a store without one sees "not built".
        """
        if self._store_key:
            return self._store_key
        marker = f"{self.prefix}-store"
        try:
            found = self._call(self.client.get_collection, marker, embedding_function=None)
        except StaleGeneration:
            if not create:
                return None
            try:
                found = self._call(
                    self.client.create_collection,
                    marker,
                    embedding_function=None,
                    metadata={"store_id": uuid.uuid4().hex[:16]},
                )
            except (IndexUnavailable, StaleGeneration):
                raise
            except Exception:  # created by another process just now: use theirs
                found = self._call(self.client.get_collection, marker, embedding_function=None)
        self._store_key = f"{self.prefix}:{(found.metadata or {})['store_id']}"
        return self._store_key

    def state(self) -> PointerState:
        """The pointer: which generation serves, and its version (a cheap SQL read)."""
        key = self.store_key()
        return self.pointer.read(key) if key else PointerState()

    def active_name(self) -> str | None:
        """Name of the collection currently serving, or None before the first ingest."""
        return self.state().active

    def open(self, name: str | None) -> Any | None:
        """A generation's collection, or None when it does not exist."""
        if not name:
            return None
        try:
            return self._call(self.client.get_collection, name, embedding_function=None)
        except StaleGeneration:
            log.warning("index pointer names a missing collection %s", name)
            self._store_key = None  # the store may have been wiped: look its id up again
            return None

    def _legacy_active(self) -> str | None:
        """The generation named by the pointer collection of versions before the SQL pointer.

        Only a build asks, so the first ingest after an upgrade reuses those vectors instead
        of embedding everything again; that generation is then retired like any other.
        """
        try:
            legacy = self._call(
                self.client.get_collection, f"{self.prefix}-pointer", embedding_function=None
            )
        except StaleGeneration:
            return None
        name = (legacy.metadata or {}).get("active")
        return str(name) if name else None

    def active(self) -> Any | None:
        """The serving collection, or None."""
        return self.open(self.active_name())

    def generation(self, handle: Any, version: int) -> Generation:
        """What a generation holds and where it came from (its immutable metadata)."""
        meta = handle.metadata or {}
        built = meta.get("built_at")
        files = meta.get("source_files")
        return Generation(
            name=handle.name,
            version=version,
            # Generations built before this metadata existed: count them.
            passages=int(meta["passages"]) if "passages" in meta else self._call(handle.count),
            embedding_model=str(meta.get("embedding_model", "")),
            built_at=datetime.fromisoformat(str(built)) if built else None,
            source_files=int(files) if isinstance(files, int) and files >= 0 else None,
            source_commit=str(meta.get("source_commit") or "") or None,
        )

    # -- build --------------------------------------------------------------------------
    def sync(
        self,
        passages: Sequence[Passage],
        progress: ProgressFactory | None = None,
        source: SourceInfo | None = None,
    ) -> IngestReport:
        """Make the index hold exactly `passages`, embedding only what it does not have yet.

        The caller holds the reload lease; should the pointer move anyway (a lease that
        expired mid-build), this build is discarded and ReloadInProgress raised.
        """
        started = time.perf_counter()
        key = self.store_key(create=True)
        assert key is not None
        state = self.pointer.read(key)
        current = self.open(state.active or self._legacy_active())
        same_model = (
            current is not None
            and (current.metadata or {}).get("embedding_model") == self.embedding_model
        )
        old_ids: set[str] = (
            set(self._call(current.get, include=[])["ids"]) if current and same_model else set()
        )
        new_ids = [p.id for p in passages]
        if len(set(new_ids)) != len(new_ids):
            raise ValueError("passage ids must be unique")
        new_set = set(new_ids)
        old_titles = self._titles_by_id(current) if current is not None else {}
        changed_docs = sorted(
            {p.title for p in passages if p.id not in old_ids}
            | {old_titles[i] for i in old_ids - new_set if i in old_titles}
        )
        if current is not None and same_model and old_ids == new_set:
            if state.active is None:  # an index from before the SQL pointer: adopt it as is
                try:
                    state = self.pointer.move(key, state, current.name, self.clock())
                except PointerMoved:
                    raise ReloadInProgress(
                        "Another reload replaced the index meanwhile; this one changed nothing."
                    ) from None
            self.collect_garbage(state)
            return IngestReport(
                documents=len({p.doc_id for p in passages}),
                passages=len(passages),
                added=0,
                removed=0,
                unchanged=len(passages),
                embedded=0,
                seconds=time.perf_counter() - started,
            )

        reused = self._vectors(current, [i for i in new_ids if i in old_ids]) if current else {}
        to_embed = [p for p in passages if p.id not in reused]
        now = self.clock()
        name = f"{self.prefix}-g{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
        collection = self._call(
            self.client.create_collection,
            name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={
                "embedding_model": self.embedding_model,
                "built_at": now.isoformat(),
                "passages": len(passages),
                "source_files": source.files if source else -1,
                "source_commit": (source.commit or "") if source else "",
            },
        )
        try:
            vectors = dict(reused)
            vectors.update(self._embed(to_embed, progress))
            for start in range(0, len(passages), _BATCH):
                batch = passages[start : start + _BATCH]
                self._call(
                    collection.add,
                    ids=[p.id for p in batch],
                    embeddings=[vectors[p.id] for p in batch],
                    documents=[p.text for p in batch],
                    metadatas=[_metadata(p, start + n) for n, p in enumerate(batch)],
                )
            moved = self.pointer.move(key, state, name, self.clock())
        except PointerMoved:
            self._drop(name)
            raise ReloadInProgress(
                "Another reload replaced the index while this one was building; "
                "this one changed nothing."
            ) from None
        except BaseException:
            self._drop(name)
            raise
        log.info("index pointer moved to %s (version %d)", name, moved.version)
        self.collect_garbage(moved)
        return IngestReport(
            documents=len({p.doc_id for p in passages}),
            passages=len(passages),
            added=len(new_set - old_ids),
            removed=len(old_ids - new_set),
            unchanged=len(new_set & old_ids),
            embedded=len(to_embed),
            seconds=time.perf_counter() - started,
            changed_documents=tuple(changed_docs),
        )

    # -- rollback -----------------------------------------------------------------------
    def roll_back(self) -> tuple[Generation, Generation | None]:
        """Point back at the previous generation; returns (now serving, the one replaced).

        The caller holds the reload lease, and the move is a compare-and-set, so a rollback
        cannot interleave with a reload. Active and previous swap: both stay out of the
        grace-period dropper's reach, and a second rollback returns to where this one
        started. NothingToRollBack (one line) when there is no usable previous generation.
        """
        key = self.store_key()
        state = self.pointer.read(key) if key else PointerState()
        if key is None or state.active is None:
            raise NothingToRollBack(
                "No index has been built yet, so there is nothing to roll back."
            )
        if not state.previous:
            raise NothingToRollBack(
                "There is no previous index generation to roll back to: only one has been "
                "built so far."
            )
        target = self.open(state.previous)
        if target is None:
            raise NothingToRollBack(
                f"The previous index generation ({state.previous}) no longer exists, so there "
                "is nothing to roll back to; fix knowledge/ and reload instead."
            )
        model = str((target.metadata or {}).get("embedding_model", ""))
        if model != self.embedding_model:
            raise NothingToRollBack(
                f"The previous index generation was built with the embedding model {model!r}, "
                f"but this bot embeds questions with {self.embedding_model!r}; reload instead."
            )
        replaced = self.open(state.active)
        try:
            moved = self.pointer.move(key, state, state.previous, self.clock())
        except PointerMoved:
            raise ReloadInProgress(
                "Another reload or rollback moved the index meanwhile; nothing was rolled back."
            ) from None
        log.info(
            "index pointer rolled back to %s (version %d), replacing %s",
            state.previous,
            moved.version,
            state.active,
        )
        return (
            self.generation(target, moved.version),
            self.generation(replaced, state.version) if replaced is not None else None,
        )

    def _embed(
        self, passages: Sequence[Passage], progress: ProgressFactory | None
    ) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        if not passages:
            return out
        bar = progress(len(passages)) if progress else None
        try:
            step = 32
            for start in range(0, len(passages), step):
                batch = passages[start : start + step]
                texts = [embedding_text(p.title, p.section, p.text) for p in batch]
                for passage, vector in zip(
                    batch, self.embedder.embed_documents(texts), strict=True
                ):
                    out[passage.id] = list(vector)
                if bar:
                    bar.update(len(batch))
        finally:
            if bar:
                bar.close()
        return out

    def _vectors(self, collection: Any, ids: list[str]) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for start in range(0, len(ids), _BATCH):
            got = self._call(
                collection.get, ids=ids[start : start + _BATCH], include=["embeddings"]
            )
            for pid, vector in zip(got["ids"], got["embeddings"], strict=True):
                out[pid] = [float(x) for x in vector]
        return out

    def _titles_by_id(self, collection: Any) -> dict[str, str]:
        got = self._call(collection.get, include=["metadatas"])
        return {
            pid: str((meta or {}).get("title", ""))
            for pid, meta in zip(got["ids"], got["metadatas"], strict=True)
        }

    def _drop(self, name: str) -> None:
        try:
            self.client.delete_collection(name)
        except Exception:
            log.warning("could not delete collection %s", name, exc_info=True)

    def generation_names(self) -> list[str]:
        """Every collection of ours that looks like a generation."""
        cols = self._call(self.client.list_collections)
        names = [c if isinstance(c, str) else c.name for c in cols]
        return sorted(n for n in names if n.startswith(f"{self.prefix}-g"))

    def collect_garbage(self, state: PointerState) -> list[str]:
        """Drop generations out of use for longer than the grace period; returns their names.

        The active and the previous generation are never dropped. Anything else of ours
        (older generations, leftovers of crashed builds) is first recorded as retired and
        only dropped by a later call, once `grace_seconds` have passed since then.
        """
        key = self.store_key(create=True)
        assert key is not None
        now = self.clock()
        keep = {state.active, state.previous}
        present = set(self.generation_names())
        retired = self.pointer.retired(key)
        unknown = sorted(present - keep - set(retired))
        if unknown:
            self.pointer.retire(key, unknown, now)
        dropped = []
        for name, since in sorted(retired.items()):
            if name in keep or name not in present:
                self.pointer.forget(name)
            elif (now - since).total_seconds() >= self.grace_seconds:
                self._drop(name)
                self.pointer.forget(name)
                dropped.append(name)
        if dropped:
            log.info("dropped %d old index generation(s): %s", len(dropped), ", ".join(dropped))
        return dropped

    # -- read ---------------------------------------------------------------------------
    def load_passages(self, collection: Any) -> list[Passage]:
        """All passages of a collection, in document order."""
        got = self._call(collection.get, include=["documents", "metadatas"])
        rows = []
        for pid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
            meta = meta or {}
            rows.append((int(meta.get("order", 0)), _passage(pid, text or "", meta)))
        rows.sort(key=lambda row: row[0])
        return [p for _, p in rows]

    def dense_search(
        self, collection: Any, vector: list[float], n: int, count: int | None = None
    ) -> list[tuple[str, float]]:
        """Nearest passages by cosine similarity: (id, similarity) best first.

        `count` is the collection's size when the caller knows it (a generation never changes
        once built), which saves a round trip per search.
        """
        if count is None:
            count = self._call(collection.count)
        if count == 0:
            return []
        got = self._call(
            collection.query,
            query_embeddings=[vector],
            n_results=min(n, count),
            include=["distances"],
        )
        return [
            (pid, 1.0 - float(dist))
            for pid, dist in zip(got["ids"][0], got["distances"][0], strict=True)
        ]


def _metadata(p: Passage, order: int) -> dict[str, str | int | bool]:
    return {
        "doc_id": p.doc_id,
        "title": p.title,
        "author": p.author or "",
        "url": p.url or "",
        "section": p.section,
        "is_comment": p.is_comment,
        "published": p.published or "",
        "order": order,
    }


def _passage(pid: str, text: str, meta: dict[str, Any]) -> Passage:
    return Passage(
        id=pid,
        doc_id=str(meta.get("doc_id", "")),
        title=str(meta.get("title", "")),
        author=str(meta["author"]) if meta.get("author") else None,
        url=str(meta["url"]) if meta.get("url") else None,
        section=str(meta.get("section", "")),
        text=text,
        is_comment=bool(meta.get("is_comment", False)),
        published=str(meta["published"]) if meta.get("published") else None,
    )
