"""The embedding cache: each text embedded once while it stays cached, and bounded in size."""

from __future__ import annotations

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from pydantic import Field

from bot.embeddings import CachedEmbeddings


class Counting(DeterministicFakeEmbedding):
    """langchain's deterministic fake embedding, counting the texts it was asked to embed."""

    seen: list[str] = Field(default_factory=list)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.seen.extend(texts)
        return super().embed_documents(texts)


def test_repeated_texts_are_embedded_once_and_vectors_are_unchanged() -> None:
    inner = Counting(size=8)
    cached = CachedEmbeddings(inner, max_items=10)

    first = cached.embed_documents(["a", "b", "a"])
    again = cached.embed_documents(["b", "a"])

    assert inner.seen == ["a", "b"]
    expected = DeterministicFakeEmbedding(size=8).embed_query("a")
    assert first[0] == again[1] == pytest.approx(expected, rel=1e-6)  # stored as float32
    assert cached.embed_query("b") == first[1]
    assert inner.seen == ["a", "b"]


def test_the_cache_keeps_the_most_recently_used_texts_within_its_bound() -> None:
    inner = Counting(size=4)
    cached = CachedEmbeddings(inner, max_items=3)

    cached.embed_documents(["a", "b", "c"])
    cached.embed_query("a")  # a is now the most recently used
    cached.embed_query("d")  # evicts b, the least recently used

    assert len(cached.cache) == 3
    assert set(cached.cache) == {"a", "c", "d"}
    cached.embed_query("b")
    assert inner.seen == ["a", "b", "c", "d", "b"]


def test_a_batch_larger_than_the_cache_still_gets_every_vector() -> None:
    inner = Counting(size=4)
    cached = CachedEmbeddings(inner, max_items=2)

    vectors = cached.embed_documents(["a", "b", "c", "d"])

    expected = DeterministicFakeEmbedding(size=4).embed_documents(["a", "b", "c", "d"])
    assert [v == pytest.approx(e, rel=1e-6) for v, e in zip(vectors, expected, strict=True)] == [
        True
    ] * 4
    assert len(cached.cache) <= 2


def test_the_matrix_of_cached_vectors_matches_the_lists_and_reuses_the_cache() -> None:
    import numpy as np

    from bot.embeddings import embedding_matrix

    inner = Counting(size=8)
    cached = CachedEmbeddings(inner, max_items=10)
    lists = cached.embed_documents(["a", "b"])
    matrix = embedding_matrix(cached, ["b", "a", "b"])
    assert inner.seen == ["a", "b"]  # no new embedding
    assert matrix.shape == (3, 8)
    assert np.allclose(matrix, [lists[1], lists[0], lists[1]])
    # Any other langchain embedder works too, through its own embed_documents.
    assert np.allclose(embedding_matrix(inner, ["a"]), [lists[0]], atol=1e-6)
    assert embedding_matrix(cached, []).size == 0
