"""The no-LLM answer mode: the most relevant sentences, quoted verbatim and attributed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.knowledge import sentence_spans as line_sentences
from bot.models import Citation, Passage

_LIST_MARKER = re.compile(r"^\s*(?:>\s?)*(?:[-*+]|\d+[.)])?\s*")
_WORD = re.compile(r"[a-z0-9]+")
_LEAD_IN = re.compile(r"(?::|\b(?:such as|like|including|e\.g\.|for example))\s*$", re.IGNORECASE)
MAX_QUOTE_CHARS = 320
MIN_SENTENCE_CHARS = 40
# Quotes scoring this far below the best one are left out rather than padding the answer.
RELATIVE_CUTOFF = 0.3
SHORT_QUOTE_CHARS = 110


@dataclass(frozen=True)
class Span:
    """A verbatim sentence inside one passage line: `line[start:end]`."""

    passage: Passage
    line: str
    start: int
    end: int
    next_end: int | None = None  # end of the following sentence on the same line, if any

    @property
    def text(self) -> str:
        """The sentence, verbatim."""
        return self.line[self.start : self.end]

    def extended(self) -> str:
        """The sentence plus the next one (verbatim) when the sentence alone is short."""
        if self.next_end is not None and self.end - self.start < SHORT_QUOTE_CHARS:
            longer = self.line[self.start : self.next_end]
            if len(longer) <= MAX_QUOTE_CHARS:
                return longer
        return self.text


def sentence_spans(passage: Passage) -> list[Span]:
    """Every sentence of a passage, verbatim, in order (list markers and quote marks removed)."""
    spans: list[Span] = []
    for raw in passage.text.split("\n"):
        line = raw.rstrip()
        marker = _LIST_MARKER.match(line)
        offset = marker.end() if marker else 0
        bounds = line_sentences(line, offset)
        for i, (b_start, b_end) in enumerate(bounds):
            following = bounds[i + 1][1] if i + 1 < len(bounds) else None
            spans.append(Span(passage, line, b_start, b_end, following))
    return [s for s in spans if len(s.text) >= MIN_SENTENCE_CHARS]


def trim_quote(text: str) -> str:
    """Cut an over-long sentence at a word boundary; the verbatim prefix is what is quoted."""
    if len(text) <= MAX_QUOTE_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_QUOTE_CHARS)
    return text[: cut if cut > 0 else MAX_QUOTE_CHARS].rstrip(" ,;:—–-")


def word_overlap(query: str, text: str) -> float:
    """Share of the query's words that also occur in `text`."""
    q = set(_WORD.findall(query.lower()))
    t = set(_WORD.findall(text.lower()))
    return len(q & t) / (len(q) or 1)


def pick_quotes(
    query: str,
    passages: Sequence[Passage],
    embedder: Embeddings,
    max_quotes: int,
    already_shown: str = "",
) -> list[Span]:
    """Choose the best sentence from each of the top passages, best passage first.

    Sentences contained in `already_shown` (the previous reply) are skipped when others are
    available, so "tell me more" brings new material instead of repeating itself.
    """
    candidates: list[Span] = []
    for passage in passages:
        candidates.extend(sentence_spans(passage))
    fresh = [c for c in candidates if c.text not in already_shown]
    if fresh:
        candidates = fresh
    if not candidates:
        return []
    vectors = np.asarray(embedder.embed_documents([c.text for c in candidates]))
    qvec = np.asarray(embedder.embed_query(query))
    sims = vectors @ qvec
    rank_of = {p.id: i for i, p in enumerate(passages)}
    scored: list[tuple[float, Span]] = []
    for span, sim in zip(candidates, sims, strict=True):
        # Passage rank carries the retriever's judgement; sentence similarity picks within it.
        score = float(sim) + 0.25 * word_overlap(query, span.text) - 0.04 * rank_of[span.passage.id]
        if span.text.rstrip("”’\"')").endswith("?"):
            score -= 0.15  # a question in the post is rarely the advice itself
        if _LEAD_IN.search(span.text):
            score -= 0.3  # "…topics such as" promises a list the quote would not show
        if span.passage.is_comment:
            score -= 0.05  # the posts are the curated advice; comments add colour
        scored.append((score, span))
    scored.sort(key=lambda item: item[0], reverse=True)
    chosen: list[Span] = []
    used_passages: set[str] = set()
    best = scored[0][0]
    for score, span in scored:
        if span.passage.id in used_passages:
            continue
        if chosen and score < best - RELATIVE_CUTOFF:
            break
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
        full = span.extended()
        quote = trim_quote(full)
        ellipsis = "…" if len(quote) < len(full) else ""
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
        intro = "Here's what people in the field have written about this, in their own words:"
    else:
        intro = "Here's what one of the advice posts says about this, in the author's words:"
    outro = "_Ask a follow-up to go deeper, or open a source to read the whole post._"
    return "\n".join([intro, "", *lines, "", outro]), tuple(citations)
