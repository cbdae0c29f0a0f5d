"""The Chroma index: build into a fresh collection, reuse unchanged vectors, swap atomically."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from langchain_core.embeddings import Embeddings

from bot.knowledge import embedding_text
from bot.models import IngestReport, Passage

log = logging.getLogger(__name__)

_BATCH = 256


class Progress(Protocol):
    """The part of a tqdm bar the index uses."""

    def update(self, n: int = 1) -> Any: ...

    def close(self) -> None: ...


ProgressFactory = Callable[[int], Progress]


class KnowledgeIndex:
    """Passages in a Chroma collection, found through a pointer so swaps are atomic.

    Each build writes a brand-new collection and only then moves the pointer (the metadata of
    a small `<prefix>-pointer` collection) to it, so a reader never sees a half-built index
    and a failed build leaves the previous one serving.
    """

    def __init__(
        self, client: Any, embedder: Embeddings, embedding_model: str, prefix: str = "careerbot"
    ) -> None:
        self.client = client
        self.embedder = embedder
        self.embedding_model = embedding_model
        self.prefix = prefix

    # -- pointer ------------------------------------------------------------------------
    def _pointer(self) -> Any:
        return self.client.get_or_create_collection(
            f"{self.prefix}-pointer", embedding_function=None
        )

    def active_name(self) -> str | None:
        """Name of the collection currently serving, or None before the first ingest."""
        metadata = self._pointer().metadata or {}
        name = metadata.get("active")
        return str(name) if name else None

    def active(self) -> Any | None:
        """The serving collection, or None."""
        name = self.active_name()
        if not name:
            return None
        try:
            return self.client.get_collection(name, embedding_function=None)
        except Exception:  # a pointer to a vanished collection means "no index"
            log.warning("index pointer names a missing collection %s", name)
            return None

    def _set_active(self, name: str) -> None:
        self._pointer().modify(metadata={"active": name, "updated": datetime.now(UTC).isoformat()})

    # -- build --------------------------------------------------------------------------
    def sync(
        self, passages: Sequence[Passage], progress: ProgressFactory | None = None
    ) -> IngestReport:
        """Make the index hold exactly `passages`, embedding only what it does not have yet."""
        started = time.perf_counter()
        current = self.active()
        same_model = (
            current is not None
            and (current.metadata or {}).get("embedding_model") == self.embedding_model
        )
        old_ids: set[str] = set(current.get(include=[])["ids"]) if current and same_model else set()
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
        name = f"{self.prefix}-g{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
        collection = self.client.create_collection(
            name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedding_model": self.embedding_model},
        )
        try:
            vectors = dict(reused)
            vectors.update(self._embed(to_embed, progress))
            for start in range(0, len(passages), _BATCH):
                batch = passages[start : start + _BATCH]
                collection.add(
                    ids=[p.id for p in batch],
                    embeddings=[vectors[p.id] for p in batch],
                    documents=[p.text for p in batch],
                    metadatas=[_metadata(p, start + n) for n, p in enumerate(batch)],
                )
            self._set_active(name)
        except BaseException:
            self._drop(name)
            raise
        self._drop_stale(keep=name)
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

    @staticmethod
    def _vectors(collection: Any, ids: list[str]) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for start in range(0, len(ids), _BATCH):
            got = collection.get(ids=ids[start : start + _BATCH], include=["embeddings"])
            for pid, vector in zip(got["ids"], got["embeddings"], strict=True):
                out[pid] = [float(x) for x in vector]
        return out

    @staticmethod
    def _titles_by_id(collection: Any) -> dict[str, str]:
        got = collection.get(include=["metadatas"])
        return {
            pid: str((meta or {}).get("title", ""))
            for pid, meta in zip(got["ids"], got["metadatas"], strict=True)
        }

    def _drop(self, name: str) -> None:
        try:
            self.client.delete_collection(name)
        except Exception:
            log.warning("could not delete collection %s", name, exc_info=True)

    def _drop_stale(self, keep: str) -> None:
        """Delete our old generations (the previous index, leftovers of crashed builds)."""
        for col in self.client.list_collections():
            col_name = col if isinstance(col, str) else col.name
            if col_name.startswith(f"{self.prefix}-g") and col_name != keep:
                self._drop(col_name)

    # -- read ---------------------------------------------------------------------------
    def load_passages(self, collection: Any) -> list[Passage]:
        """All passages of a collection, in document order."""
        got = collection.get(include=["documents", "metadatas"])
        rows = []
        for pid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
            meta = meta or {}
            rows.append((int(meta.get("order", 0)), _passage(pid, text or "", meta)))
        rows.sort(key=lambda row: row[0])
        return [p for _, p in rows]

    def dense_search(self, collection: Any, vector: list[float], n: int) -> list[tuple[str, float]]:
        """Nearest passages by cosine similarity: (id, similarity) best first."""
        count = collection.count()
        if count == 0:
            return []
        got = collection.query(
            query_embeddings=[vector], n_results=min(n, count), include=["distances"]
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
    )
