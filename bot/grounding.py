"""Checks an LLM reply against its passages: prompt leaks, per-sentence support, quotes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.models import Citation, Passage
from bot.text import ends_sentence, keyword_tokens, sentence_spans

MARKER = re.compile(r"\[(\d{1,3})\]")
# "…again. [1]" or "…again.[1][2]": markers after the full stop belong to that sentence.
_MARKERS_AFTER_STOP = re.compile(r"([.!?…]+)([\"'”’)]*)((?:[ \t]*\[\d{1,3}\])+)")
_LIST_PREFIX = re.compile(r"^\s*(?:>\s?)*(?:[-*+•]|\d+[.)])?\s*")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Things a model invents that are easy to check exactly: amounts, numbers, addresses, links.
_EXACT_FACT = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.]+|https?://\S+|www\.\S+|[$€£]\s?\d[\d,.]*\s?[kKmM]?\b|\b\d[\d,.]*\b"
)

LEAK_NGRAM = 6
# Shared word 6-grams with the system prompt that count as a leak. One chance overlap can
# happen in a real answer; the rules repeated in any form share dozens.
LEAK_MIN_SHARED = 3
# Support: a claim is backed by a cited passage when its best sentence is this similar
# (cosine, MiniLM), or somewhat similar and most of the claim's content words are there.
SUPPORT_COSINE = 0.55
SUPPORT_COSINE_WITH_OVERLAP = 0.35
SUPPORT_OVERLAP = 0.5
# Share of the reply's claim text that must survive the check for the reply to be used.
MIN_KEPT_SHARE = 0.5
MAX_QUOTE_CHARS = 400
MIN_QUOTE_CHARS = 20


def words(text: str) -> list[str]:
    """Lower-case word tokens (digits kept, so "[1] or [2][3]" becomes "1 or 2 3")."""
    return _WORD.findall(text.casefold())


def _ngrams(tokens: Sequence[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


class LeakCheck:
    """Word n-gram overlap with the rendered system prompt: survives reformatting."""

    def __init__(
        self, system_prompt: str, allowed: Sequence[str] = (), n: int = LEAK_NGRAM
    ) -> None:
        self.n = n
        grams = _ngrams(words(system_prompt), n)
        # Sentences the prompt tells the model to say (the not-covered line, the refusal)
        # are not leaks when said.
        for sentence in allowed:
            grams -= _ngrams(words(sentence), n)
        self.grams = grams

    def shared(self, reply: str) -> int:
        """How many of the prompt's n-grams the reply repeats."""
        return len(_ngrams(words(reply), self.n) & self.grams)

    def leaks(self, reply: str) -> bool:
        """Whether the reply repeats the system prompt (reworded layout, bullets or not)."""
        return self.shared(reply) >= LEAK_MIN_SHARED


def normalise_markers(text: str) -> str:
    """Move citation markers written after a full stop to before it: "x. [1]" → "x [1]."."""
    return _MARKERS_AFTER_STOP.sub(
        lambda m: " " + _join(m.group(3)) + m.group(1) + m.group(2),
        text,
    )


def _join(markers: str) -> str:
    return "".join(f"[{n}]" for n in MARKER.findall(markers))


def passage_sentences(passage: Passage) -> list[str]:
    """The passage's whole sentences, verbatim (list markers and quote marks left out).

    Text that does not end a sentence (a heading, a lead-in cut by the chunker) is left out
    unless the passage has nothing else.
    """
    found: list[str] = []
    for raw in passage.text.split("\n"):
        line = raw.rstrip()
        prefix = _LIST_PREFIX.match(line)
        for start, end in sentence_spans(line, prefix.end() if prefix else 0):
            sentence = line[start:end].strip()
            if len(sentence) >= MIN_QUOTE_CHARS:
                found.append(sentence)
    whole = [s for s in found if ends_sentence(s)]
    return whole or found


def _content(text: str) -> set[str]:
    return set(keyword_tokens(text))


def _exact_facts(text: str) -> set[str]:
    return {m.group(0).rstrip(".,").casefold().replace(" ", "") for m in _EXACT_FACT.finditer(text)}


@dataclass
class _Source:
    """A passage prepared for support checks."""

    passage: Passage
    sentences: list[str]
    vectors: np.ndarray
    content: set[str]
    facts_text: str


@dataclass(frozen=True)
class Verdict:
    """Whether one claim is supported by one passage, and by which of its sentences."""

    supported: bool
    score: float
    sentence: str


@dataclass
class GroundedReply:
    """A reply after the check: kept text with renumbered markers, citations, what was cut."""

    text: str
    citations: tuple[Citation, ...]
    kept_share: float
    dropped: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """Enough of the reply survived to show it as an answer."""
        return bool(self.citations) and self.kept_share >= MIN_KEPT_SHARE


class Grounder:
    """Checks each sentence of a reply against the passage(s) it cites, offline."""

    def __init__(
        self, passages: Sequence[Passage], embedder: Embeddings, question: str = ""
    ) -> None:
        self.passages = list(passages)
        self.embedder = embedder
        self.question = question
        self._sources: dict[int, _Source] = {}
        self._verdicts: dict[tuple[str, int], Verdict] = {}

    def _prefetch(self, text: str) -> None:
        """Embed every claim and cited passage sentence of a reply in one batch.

        One model run for the whole reply instead of one per claim and per passage; the
        cached embedder then answers the per-claim lookups.
        """
        texts: list[str] = []
        for line in text.split("\n"):
            prefix = _LIST_PREFIX.match(line)
            body = line[prefix.end() if prefix else 0 :]
            for start, end in sentence_spans(body):
                sentence = body[start:end]
                numbers = {int(n) for n in MARKER.findall(sentence)}
                if not numbers or any(not 1 <= n <= len(self.passages) for n in numbers):
                    continue
                texts.append(_claim(sentence))
                for n in numbers - self._sources.keys():
                    texts.extend(self._sentences(n))
        if len(texts) > 1:
            self.embedder.embed_documents(list(dict.fromkeys(texts)))

    def _sentences(self, number: int) -> list[str]:
        p = self.passages[number - 1]
        return passage_sentences(p) or [p.text.strip()]

    def _source(self, number: int) -> _Source:
        if number not in self._sources:
            p = self.passages[number - 1]
            sentences = self._sentences(number)
            vectors = _unit(np.asarray(self.embedder.embed_documents(sentences), dtype=float))
            about = f"{p.title} {p.author or ''} {p.section}"
            self._sources[number] = _Source(
                passage=p,
                sentences=sentences,
                vectors=vectors,
                content=_content(p.text) | _content(about) | _content(self.question),
                facts_text=(p.text + " " + about).casefold().replace(" ", ""),
            )
        return self._sources[number]

    def verdict(self, claim: str, number: int) -> Verdict:
        """Support of `claim` (marker-free) by passage `number` (1-based)."""
        key = (claim, number)
        if key in self._verdicts:
            return self._verdicts[key]
        source = self._source(number)
        vector = _unit(np.asarray([self.embedder.embed_query(claim)], dtype=float))[0]
        sims = source.vectors @ vector
        best = int(np.argmax(sims))
        cosine = float(sims[best])
        content = _content(claim)
        overlap = len(content & source.content) / len(content) if content else 0.0
        invented = any(fact not in source.facts_text for fact in _exact_facts(claim))
        supported = not invented and (
            cosine >= SUPPORT_COSINE
            or (cosine >= SUPPORT_COSINE_WITH_OVERLAP and overlap >= SUPPORT_OVERLAP)
        )
        result = Verdict(supported, cosine + 0.25 * overlap, source.sentences[best])
        self._verdicts[key] = result
        return result

    def check_sentence(self, sentence: str) -> tuple[str, list[int]] | None:
        """(claim, supporting passage numbers) for a kept sentence, None for a dropped one.

        A sentence with no marker, with a marker naming no passage, or with no cited passage
        that supports it is dropped whole: removing only the bad marker would leave it
        looking cited by its neighbours.
        """
        numbers = [int(n) for n in MARKER.findall(sentence)]
        claim = _claim(sentence)
        if not numbers or not words(claim):
            return None
        if any(not 1 <= n <= len(self.passages) for n in numbers):
            return None
        good = [n for n in dict.fromkeys(numbers) if self.verdict(claim, n).supported]
        return (claim, good) if good else None

    def ground(self, reply: str) -> GroundedReply:
        """Keep the supported sentences, renumber markers 1..m, quote the supporting sentences."""
        text = normalise_markers(reply)
        self._prefetch(text)
        kept_lines: list[str] = []
        order: list[int] = []
        best: dict[int, Verdict] = {}
        total = kept = 0
        dropped: list[str] = []
        for raw_line in text.split("\n"):
            prefix_match = _LIST_PREFIX.match(raw_line)
            prefix = prefix_match.group(0) if prefix_match else ""
            body = raw_line[len(prefix) :]
            if not body.strip():
                kept_lines.append("")
                continue
            pieces: list[str] = []
            for start, end in sentence_spans(body):
                sentence = body[start:end].strip()
                size = len(MARKER.sub("", sentence).strip())
                total += size
                checked = self.check_sentence(sentence)
                if checked is None:
                    dropped.append(sentence)
                    continue
                claim, numbers = checked
                kept += size
                for n in numbers:
                    if n not in order:
                        order.append(n)
                    verdict = self.verdict(claim, n)
                    if n not in best or verdict.score > best[n].score:
                        best[n] = verdict
                pieces.append(_with_markers(sentence, numbers))
            if pieces:
                kept_lines.append(prefix + " ".join(pieces))
        renumber = {old: new for new, old in enumerate(order, start=1)}
        joined = "\n".join(kept_lines)
        joined = MARKER.sub(lambda m: f"[{renumber.get(int(m.group(1)), 0)}]", joined)
        joined = re.sub(r"\n{3,}", "\n\n", joined).strip()
        citations = tuple(self._citation(n, best[n]) for n in order)
        share = kept / total if total else 0.0
        return GroundedReply(joined, citations, share, dropped)

    def _citation(self, number: int, verdict: Verdict) -> Citation:
        source = self._source(number)
        p = source.passage
        return Citation(
            title=p.title,
            author=p.author,
            url=p.url,
            quote=self._quote(source, verdict),
            passage_id=p.id,
            section=p.section,
            is_comment=p.is_comment,
        )

    @staticmethod
    def _quote(source: _Source, verdict: Verdict) -> str:
        """The supporting sentence, verbatim; if too long to show, the best one that fits."""
        if len(verdict.sentence) <= MAX_QUOTE_CHARS:
            return verdict.sentence
        fitting = [s for s in source.sentences if len(s) <= MAX_QUOTE_CHARS]
        return fitting[0] if fitting else verdict.sentence


def _claim(sentence: str) -> str:
    """A sentence's claim: its text without citation markers."""
    return re.sub(r"\s+([.,;:!?])", r"\1", " ".join(MARKER.sub(" ", sentence).split()))


def _with_markers(sentence: str, numbers: Sequence[int]) -> str:
    """The sentence with only its supporting markers, placed where the first one was."""
    first = MARKER.search(sentence)
    assert first is not None
    markers = "".join(f"[{n}]" for n in numbers)
    head = sentence[: first.start()] + markers
    tail = MARKER.sub("", sentence[first.end() :])
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", head + tail).strip()


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def cut_at_last_sentence(text: str) -> str:
    """A reply cut by the token limit, shortened to its last complete sentence."""
    text = normalise_markers(text.rstrip())
    spans = sentence_spans(text)
    if not spans:
        return ""
    end = spans[-1][1]
    last = text[spans[-1][0] : end].rstrip()
    if not re.search(r"[.!?…][\"'”’)\]]*$", MARKER.sub("", last).rstrip()):
        end = spans[-2][1] if len(spans) > 1 else 0
    return text[:end].rstrip()
