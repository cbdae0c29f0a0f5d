"""Hybrid retrieval: dense (Chroma) + BM25 (bm25s), reciprocal rank fusion, diversity, gate."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field, replace
from typing import Any

import bm25s
import numpy as np
from langchain_core.embeddings import Embeddings

from bot.index import KnowledgeIndex
from bot.knowledge import embedding_text
from bot.models import Passage

log = logging.getLogger(__name__)

# bm25s ships only a 33-word English list; questions need the usual function words dropped too.
_STOPWORDS = frozenset(
    """a about after all also am an and any are as at be been before being but by can could
    did do does doing for from get got had has have having he her here him his how i if in
    into is it its just me might more most my no not of on or our out own she should so some
    such than that the their them then there these they this those to too very was we were
    what when where which while who whom why will with would you your yours""".split()
)
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "ed", "es", "s", "ly")


def _stem(token: str) -> str:
    """A light suffix stripper: enough to match 'mentors'/'mentor', 'researching'/'research'."""
    for suffix in _SUFFIXES:
        if len(token) > len(suffix) + 3 and token.endswith(suffix):
            stem = token[: -len(suffix)]
            return stem + "y" if suffix in ("ies", "ied") else stem
    return token


def keyword_tokens(text: str) -> list[str]:
    """Lower-cased, stop-word-free, lightly stemmed tokens for BM25."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    return [_stem(t) for t in _TOKEN.findall(text) if t not in _STOPWORDS]


@dataclass(frozen=True)
class RetrievalConfig:
    """Plain retrieval parameters (see RetrievalSettings for meanings)."""

    k: int = 5
    candidates: int = 30
    rrf_k: int = 60
    max_per_document: int = 3
    min_similarity: float = 0.25


@dataclass(frozen=True)
class RetrievalResult:
    """Ranked passages (best first) and whether the corpus plausibly covers the query."""

    passages: tuple[Passage, ...]
    covered: bool
    best_similarity: float


@dataclass
class Snapshot:
    """Everything one index generation needs for searching; swapped whole on reload."""

    collection: str | None
    handle: Any = None
    passages: list[Passage] = field(default_factory=list)
    by_id: dict[str, int] = field(default_factory=dict)
    bm25: Any = None


class Retriever:
    """Searches the current index generation; `refresh()` swaps to a new one atomically."""

    def __init__(
        self, index: KnowledgeIndex, embedder: Embeddings, config: RetrievalConfig
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.config = config
        self.snapshot = Snapshot(collection=None)
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Load the active collection's passages and rebuild the keyword index."""
        handle = self.index.active()
        if handle is None:
            snapshot = Snapshot(collection=None)
        else:
            passages = self.index.load_passages(handle)
            bm25 = None
            if passages:
                bm25 = bm25s.BM25()
                corpus = [
                    keyword_tokens(embedding_text(p.title, p.section, p.text)) or ["_"]
                    for p in passages
                ]
                bm25.index(corpus, show_progress=False)
            snapshot = Snapshot(
                collection=handle.name,
                handle=handle,
                passages=passages,
                by_id={p.id: i for i, p in enumerate(passages)},
                bm25=bm25,
            )
        with self._lock:
            self.snapshot = snapshot
        log.info("retriever serving %s (%d passages)", snapshot.collection, len(snapshot.passages))

    @property
    def ready(self) -> bool:
        """Whether an index is loaded."""
        return bool(self.snapshot.passages)

    def search(self, query: str, k: int | None = None) -> RetrievalResult:
        """Top-k passages for `query` with fused scores, diversified across documents."""
        k = k or self.config.k
        snap = self.snapshot
        if not snap.passages or not query.strip():
            return RetrievalResult((), False, 0.0)
        vector = self.embedder.embed_query(query)
        try:
            dense = self.index.dense_search(snap.handle, vector, self.config.candidates)
        except Exception:
            # The generation we hold was swapped out and dropped mid-query: use the new one.
            log.info("index changed during search; retrying on the current generation")
            self.refresh()
            return self.search(query, k)
        similarity = dict(dense)
        best = max(similarity.values(), default=0.0)
        keyword = self._keyword(snap, query)
        fused: dict[str, float] = {}
        for ranking in ([pid for pid, _ in dense], [pid for pid, _ in keyword]):
            for rank, pid in enumerate(ranking):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (self.config.rrf_k + rank + 1)
        ordered = sorted(fused, key=lambda pid: fused[pid], reverse=True)
        picked = self._diversify(snap, ordered, k)
        passages = tuple(replace(snap.passages[snap.by_id[pid]], score=fused[pid]) for pid in picked)
        covered = best >= self.config.min_similarity
        return RetrievalResult(passages, covered, best)

    def _keyword(self, snap: Snapshot, query: str) -> list[tuple[str, float]]:
        tokens = keyword_tokens(query)
        if not tokens or snap.bm25 is None:
            return []
        scores = np.asarray(snap.bm25.get_scores(tokens))
        top = np.argsort(-scores)[: self.config.candidates]
        return [(snap.passages[i].id, float(scores[i])) for i in top if scores[i] > 0]

    def _diversify(self, snap: Snapshot, ordered: list[str], k: int) -> list[str]:
        per_doc: dict[str, int] = {}
        picked: list[str] = []
        for pid in ordered:
            doc = snap.passages[snap.by_id[pid]].doc_id
            if per_doc.get(doc, 0) >= self.config.max_per_document:
                continue
            per_doc[doc] = per_doc.get(doc, 0) + 1
            picked.append(pid)
            if len(picked) == k:
                break
        return picked
