"""Quality evals: retrieval (hit@k, MRR) and whole answers (gold advice quoted, declines)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.models import Answer, Passage
from bot.text import ends_quote, normalise, opens_dangling

SearchFn = Callable[[str, int], Sequence[Passage]]


class EvalFileError(ValueError):
    """The questions file is malformed; str() names the file and line."""


@dataclass(frozen=True)
class EvalQuestion:
    """One evaluation question and the phrases that make a passage a hit."""

    q: str
    gold: tuple[str, ...]
    line: int = 0


@dataclass(frozen=True)
class QuestionResult:
    """Where (1-based rank) the first hit for one question was, if anywhere in the top k_max."""

    question: EvalQuestion
    rank: int | None
    ms: float


@dataclass(frozen=True)
class EvalReport:
    """Aggregate retrieval metrics over a question set."""

    hit_at_1: float
    hit_at_3: float
    hit_at_5: float
    # The answer composer reads the top ten: a change that moves hit@10 changes what can be
    # quoted, one that moves only hit@1..5 and MRR reorders what it already reads.
    hit_at_10: float
    mrr_at_10: float
    mean_passage_chars: float
    p50_ms: float
    p95_ms: float
    n: int
    results: tuple[QuestionResult, ...] = field(default=(), compare=False)

    def to_json(self) -> dict[str, float | int]:
        """The `careerbot eval --json` object."""
        return {
            "hit_at_1": round(self.hit_at_1, 4),
            "hit_at_3": round(self.hit_at_3, 4),
            "hit_at_5": round(self.hit_at_5, 4),
            "hit_at_10": round(self.hit_at_10, 4),
            "mrr_at_10": round(self.mrr_at_10, 4),
            "mean_passage_chars": round(self.mean_passage_chars, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p95_ms": round(self.p95_ms, 2),
            "n": self.n,
        }

    def format_text(self, show_misses: bool = True) -> str:
        """A short human-readable summary (and the questions with no hit in the top 10)."""
        lines = [
            f"questions      {self.n}",
            f"hit@1          {self.hit_at_1:.3f}",
            f"hit@3          {self.hit_at_3:.3f}",
            f"hit@5          {self.hit_at_5:.3f}",
            f"hit@10         {self.hit_at_10:.3f}",
            f"MRR@10         {self.mrr_at_10:.3f}",
            f"mean passage   {self.mean_passage_chars:.0f} chars",
            f"latency        p50 {self.p50_ms:.1f} ms, p95 {self.p95_ms:.1f} ms",
        ]
        if show_misses:
            late = [r for r in self.results if r.rank is None or r.rank > 5]
            for r in late:
                where = "not in top 10" if r.rank is None else f"rank {r.rank}"
                lines.append(f"  {where}: {r.question.q}")
        return "\n".join(lines)


def _jsonl_objects(path: Path, what: str, keys: str) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(line number, "file:line", object) for each non-blank JSONL line; one-line errors."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileError(f"{path}: cannot read {what}: {exc}") from None
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalFileError(f"{where}: invalid JSON ({exc.msg})") from None
        if not isinstance(item, dict):
            raise EvalFileError(f"{where}: expected an object with {keys}")
        yield number, where, item


def load_questions(path: Path | str) -> list[EvalQuestion]:
    """Read JSONL lines `{"q": str, "gold": [str, ...]}`; blank lines are skipped."""
    path = Path(path)
    questions: list[EvalQuestion] = []
    for number, where, item in _jsonl_objects(path, "questions", "'q' and 'gold'"):
        q = item.get("q")
        gold = item.get("gold")
        if not isinstance(q, str) or not q.strip():
            raise EvalFileError(f"{where}: 'q' must be a non-empty string")
        if (
            not isinstance(gold, list)
            or not gold
            or not all(isinstance(g, str) and normalise(g) for g in gold)
        ):
            raise EvalFileError(f"{where}: 'gold' must be a non-empty list of non-empty strings")
        questions.append(EvalQuestion(q=q.strip(), gold=tuple(gold), line=number))
    if not questions:
        raise EvalFileError(f"{path}: no questions found")
    return questions


def first_hit(passages: Iterable[Passage], gold: Sequence[str]) -> int | None:
    """1-based rank of the first passage containing any gold phrase (normalised), else None."""
    phrases = [normalise(g) for g in gold]
    for rank, passage in enumerate(passages, start=1):
        text = normalise(passage.text)
        if any(p in text for p in phrases):
            return rank
    return None


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (0 for an empty sequence)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = max(0, math.ceil(pct / 100 * len(ordered)) - 1)
    return ordered[min(index, len(ordered) - 1)]


def summarise(results: Sequence[QuestionResult], passage_chars: Sequence[int]) -> EvalReport:
    """Aggregate per-question results into an EvalReport."""
    n = len(results)

    def hit_rate(k: int) -> float:
        return sum(1 for r in results if r.rank is not None and r.rank <= k) / n if n else 0.0

    mrr = sum(1.0 / r.rank for r in results if r.rank is not None and r.rank <= 10)
    latencies = [r.ms for r in results]
    return EvalReport(
        hit_at_1=hit_rate(1),
        hit_at_3=hit_rate(3),
        hit_at_5=hit_rate(5),
        hit_at_10=hit_rate(10),
        mrr_at_10=mrr / n if n else 0.0,
        mean_passage_chars=sum(passage_chars) / len(passage_chars) if passage_chars else 0.0,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        n=n,
        results=tuple(results),
    )


def evaluate(
    retriever_search: SearchFn, questions: Sequence[EvalQuestion], k_max: int = 10
) -> EvalReport:
    """Run every question through `retriever_search(q, k_max)` and score the rankings."""
    results: list[QuestionResult] = []
    chars: list[int] = []
    for question in questions:
        started = time.perf_counter()
        passages = list(retriever_search(question.q, k_max))[:k_max]
        ms = (time.perf_counter() - started) * 1000
        chars.extend(len(p.text) for p in passages)
        results.append(QuestionResult(question, first_hit(passages, question.gold), ms))
    return summarise(results, chars)


# ---- Answer quality: do the quotes of a full answer carry the key advice? -------------------

AnswerKind = str
AskFn = Callable[[str, str], Awaitable[Answer]]  # (conversation key, message) -> Answer


@dataclass(frozen=True)
class AnswerRow:
    """One row of an answers file (see shared eval README-answers.md for the format)."""

    id: str
    q: str
    gold: tuple[str, ...]
    followup_of: str | None
    kind: AnswerKind
    line: int = 0


@dataclass(frozen=True)
class AnswerResult:
    """How the bot answered one row."""

    row: AnswerRow
    covered: bool
    hit: bool
    quotes: tuple[str, ...]
    odd_quotes: int
    chars: int
    ms: float
    text: str = ""


@dataclass(frozen=True)
class AnswerReport:
    """Aggregate answer metrics (the `careerbot eval --answers` numbers)."""

    gold_in_quotes: float
    followup_gold_in_quotes: float
    out_of_scope_declined: float
    covered_rate: float
    odd_quote_rate: float
    mean_quotes: float
    mean_answer_chars: float
    p50_ms: float
    p95_ms: float
    n: int
    results: tuple[AnswerResult, ...] = field(default=(), compare=False)

    def to_json(self) -> dict[str, float | int]:
        """The `careerbot eval --answers --json` object."""
        return {
            "gold_in_quotes": round(self.gold_in_quotes, 4),
            "followup_gold_in_quotes": round(self.followup_gold_in_quotes, 4),
            "out_of_scope_declined": round(self.out_of_scope_declined, 4),
            "covered_rate": round(self.covered_rate, 4),
            "odd_quote_rate": round(self.odd_quote_rate, 4),
            "mean_quotes": round(self.mean_quotes, 2),
            "mean_answer_chars": round(self.mean_answer_chars, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p95_ms": round(self.p95_ms, 2),
            "n": self.n,
        }

    def format_text(self, show_misses: bool = True) -> str:
        """A short human-readable summary, with the rows that missed."""
        lines = [f"{name:<24}{value}" for name, value in self.to_json().items()]
        if show_misses:
            for r in self.results:
                wanted_decline = not r.row.gold
                if wanted_decline == (not r.covered) and (wanted_decline or r.hit):
                    continue
                what = "answered, should decline" if wanted_decline else "missed"
                if r.row.gold and not r.covered:
                    what = "declined"
                lines.append(f"  {r.row.id} {what}: {r.row.q[:90]}")
        return "\n".join(lines)


def load_answer_rows(path: Path | str) -> list[AnswerRow]:
    """Read an answers JSONL file; follow-ups must name an earlier row."""
    path = Path(path)
    rows: list[AnswerRow] = []
    ids: set[str] = set()
    for number, where, item in _jsonl_objects(path, "answer rows", "'id', 'q' and 'gold'"):
        rid, q, gold = item.get("id"), item.get("q"), item.get("gold", [])
        follow = item.get("followup_of")
        if not isinstance(rid, str) or not rid or rid in ids:
            raise EvalFileError(f"{where}: 'id' must be a unique non-empty string")
        if not isinstance(q, str) or not q.strip():
            raise EvalFileError(f"{where}: 'q' must be a non-empty string")
        if not isinstance(gold, list) or not all(isinstance(g, str) and g.strip() for g in gold):
            raise EvalFileError(f"{where}: 'gold' must be a list of non-empty strings")
        if follow is not None and follow not in ids:
            raise EvalFileError(f"{where}: 'followup_of' names no earlier row: {follow!r}")
        ids.add(rid)
        kind = str(item.get("kind") or ("follow-up" if follow else "one-off"))
        rows.append(AnswerRow(rid, q.strip(), tuple(gold), follow, kind, number))
    if not rows:
        raise EvalFileError(f"{path}: no rows found")
    return rows


def quote_is_odd(quote: str) -> bool:
    """A quote that cannot stand alone: it opens on a reference back or stops mid-sentence
    (a quote ending on a whole list item is complete)."""
    return opens_dangling(quote) or not ends_quote(quote)


def _score(row: AnswerRow, answer: Answer, ms: float) -> AnswerResult:
    quotes = tuple(c.quote for c in answer.citations)
    phrases = [normalise(g) for g in row.gold]
    hit = any(p in normalise(q) for q in quotes for p in phrases)
    odd = sum(1 for q in quotes if quote_is_odd(q))
    return AnswerResult(row, answer.covered, hit, quotes, odd, len(answer.text), ms, answer.text)


async def evaluate_answers(ask: AskFn, rows: Sequence[AnswerRow]) -> AnswerReport:
    """Ask every row as a user would: each follow-up right after its first turn, same key."""
    followups: dict[str, list[AnswerRow]] = {}
    for row in rows:
        if row.followup_of:
            followups.setdefault(row.followup_of, []).append(row)
    results: list[AnswerResult] = []
    for row in rows:
        if row.followup_of:
            continue
        key = f"eval:{row.id}"
        for turn in (row, *followups.get(row.id, ())):
            started = time.perf_counter()
            answer = await ask(key, turn.q)
            results.append(_score(turn, answer, (time.perf_counter() - started) * 1000))
    return summarise_answers(results)


def summarise_answers(results: Sequence[AnswerResult]) -> AnswerReport:
    """Aggregate per-row answer results."""

    def rate(items: Sequence[AnswerResult], ok: Callable[[AnswerResult], bool]) -> float:
        return sum(1 for r in items if ok(r)) / len(items) if items else 0.0

    in_scope = [r for r in results if r.row.gold]
    first = [r for r in in_scope if not r.row.followup_of]
    follow = [r for r in in_scope if r.row.followup_of]
    declines = [r for r in results if not r.row.gold]
    covered = [r for r in results if r.covered]
    quotes = sum(len(r.quotes) for r in covered)
    latencies = [r.ms for r in results]
    return AnswerReport(
        gold_in_quotes=rate(first, lambda r: r.hit),
        followup_gold_in_quotes=rate(follow, lambda r: r.hit),
        out_of_scope_declined=rate(declines, lambda r: not r.covered),
        covered_rate=rate(in_scope, lambda r: r.covered),
        odd_quote_rate=sum(r.odd_quotes for r in covered) / quotes if quotes else 0.0,
        mean_quotes=quotes / len(covered) if covered else 0.0,
        mean_answer_chars=sum(r.chars for r in covered) / len(covered) if covered else 0.0,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        n=len(results),
        results=tuple(results),
    )
