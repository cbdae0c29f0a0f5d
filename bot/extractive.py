"""The no-LLM answer mode: the most relevant sentences, quoted verbatim and attributed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.models import Citation, Passage

_LIST_MARKER = re.compile(r"^\s*(?:>\s?)*(?:[-*+]|\d+[.)])?\s*")
# Sentence boundaries inside one line: end punctuation, optional closing quote, then a space.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_WORD = re.compile(r"[a-z0-9]+")
MAX_QUOTE_CHARS = 320
MIN_SENTENCE_CHARS = 25


@dataclass(frozen=True)
class Span:
    """A verbatim sentence (or run of sentences) inside one passage."""

    passage: Passage
    text: str
    position: int


def sentence_spans(passage: Passage) -> list[Span]:
    """Every sentence of a passage, verbatim, in order (list markers and quote marks removed)."""
    spans: list[Span] = []
    for line in passage.text.split("\n"):
        marker = _LIST_MARKER.match(line)
        body = line[marker.end() if marker else 0 :].rstrip()
        start = 0
        for boundary in _BOUNDARY.finditer(body):
            spans.append(Span(passage, body[start : boundary.start()].strip(), len(spans)))
            start = boundary.end()
        tail = body[start:].strip()
        if tail:
            spans.append(Span(passage, tail, len(spans)))
    return [s for s in spans if len(s.text) >= MIN_SENTENCE_CHARS]


def _trim(text: str) -> str:
    """Cut an over-long sentence at a word boundary; the verbatim prefix is what is quoted."""
    if len(text) <= MAX_QUOTE_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_QUOTE_CHARS)
    return text[: cut if cut > 0 else MAX_QUOTE_CHARS].rstrip(" ,;:—–-")


def _overlap(query: str, text: str) -> float:
    q = set(_WORD.findall(query.lower()))
    t = set(_WORD.findall(text.lower()))
    return len(q & t) / (len(q) or 1)


def pick_quotes(
    query: str,
    passages: Sequence[Passage],
    embedder: Embeddings,
    max_quotes: int,
) -> list[Span]:
    """Choose the best sentence from each of the top passages, best passage first."""
    candidates: list[Span] = []
    for passage in passages:
        candidates.extend(sentence_spans(passage))
    if not candidates:
        return []
    vectors = np.asarray(embedder.embed_documents([c.text for c in candidates]))
    qvec = np.asarray(embedder.embed_query(query))
    sims = vectors @ qvec
    rank_of = {p.id: i for i, p in enumerate(passages)}
    scored: list[tuple[float, Span]] = []
    for span, sim in zip(candidates, sims, strict=True):
        # Passage rank carries the retriever's judgement; sentence similarity picks within it.
        score = float(sim) + 0.25 * _overlap(query, span.text) - 0.04 * rank_of[span.passage.id]
        scored.append((score, span))
    scored.sort(key=lambda item: item[0], reverse=True)
    chosen: list[Span] = []
    used_passages: set[str] = set()
    for _, span in scored:
        if span.passage.id in used_passages:
            continue
        chosen.append(span)
        used_passages.add(span.passage.id)
        if len(chosen) == max_quotes:
            break
    return chosen


def _link(passage: Passage) -> str:
    title = f"*{passage.title}*"
    return f"[{passage.title}]({passage.url})" if passage.url else title


def compose(query: str, spans: Sequence[Span]) -> tuple[str, tuple[Citation, ...]]:
    """A short chat reply: one attributed quote per bullet, each with its citation number."""
    citations: list[Citation] = []
    lines: list[str] = []
    for number, span in enumerate(spans, start=1):
        quote = _trim(span.text)
        ellipsis = "…" if len(quote) < len(span.text) else ""
        passage = span.passage
        citations.append(
            Citation(
                title=passage.title,
                author=passage.author,
                url=passage.url,
                quote=quote,
                passage_id=passage.id,
                section=passage.section,
                is_comment=passage.is_comment,
            )
        )
        lines.append(f"- “{quote}{ellipsis}” — {passage.attribution}, {_link(passage)} [{number}]")
    authors = {(s.passage.author, s.passage.is_comment) for s in spans}
    if len(authors) > 1:
        intro = (
            "Here's what the advice posts say — different authors, each quoted in their own words:"
        )
    else:
        intro = "Here's what the advice posts say:"
    outro = "_These are direct quotes; ask a follow-up to dig into any of them._"
    return "\n".join([intro, "", *lines, "", outro]), tuple(citations)
