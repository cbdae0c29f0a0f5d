"""The knowledge-gap report: what the bot declined, what people disliked and what is never cited.

Plain values in (answer and vote rows from the database, the passages now indexed), plain
values out (a Report, its JSON, text sections for chat, a self-contained HTML page). Admins
read it to learn which post to add next.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from bot.models import FEEDBACK_REASONS, WITHHELD_QUESTION, CareerbotError
from bot.text import keyword_tokens, word_forms

REPORT_SCHEMA = 1
"""Version of the `careerbot report --json` shape; bumped when a field changes meaning."""

_WINDOW = re.compile(r"^\s*(\d{1,5})\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# Two declined questions ask the same thing when their keyword sets overlap this much.
SAME_QUESTION_OVERLAP = 0.5
_SHOWN_QUESTION_CHARS = 300
# Words a question uses whatever it asks about: the community's field ("ai safety") and chat
# filler ("actually", "only", "start"). A topic count of them tells an admin nothing.
_NOT_TOPICS = frozenset(
    """ai agi safety actual actually really only even still also already maybe probably
    basically honestly literally anyway currently start started starting begin get getting
    got go going want wanted wants need needs know think thought like feel felt make making
    take good great best better bad way ways thing things stuff lot lots much many someone
    something anyone anything everyone people person one ones new sure kind sort bit ask
    asking question questions help advice tips thanks hi hello hey please""".split()
)


class BadReportWindow(CareerbotError, ValueError):
    """`--since` is neither a duration (30m, 24h, 7d, 2w) nor an ISO date; str() says so."""


@dataclass(frozen=True)
class AnswerRow:
    """One stored answer, as the report reads it."""

    question: str
    covered: bool
    mode: str
    platform: str
    sources: tuple[tuple[str, str], ...]
    """(post title, section) of each citation."""
    at: datetime


@dataclass(frozen=True)
class FeedbackRow:
    """One vote (the latest click of one user on one answer)."""

    answer_id: str
    platform: str
    helpful: bool
    question: str
    answer: str
    sources: tuple[tuple[str, str], ...]
    reason: str | None
    reason_text: str
    at: datetime


@dataclass(frozen=True)
class QuestionGroup:
    """Declined questions that ask the same thing: how many, and one of them."""

    count: int
    example: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Downvote:
    """A 👎 with its question, reason and the sources the answer cited."""

    question: str
    answer: str
    reason: str | None
    reason_text: str
    sources: tuple[tuple[str, str], ...]
    platform: str
    at: datetime


@dataclass(frozen=True)
class DayCount:
    """Answers, declines and 👎 on one UTC day."""

    day: date
    answers: int
    declined: int
    downvotes: int


@dataclass(frozen=True)
class Report:
    """Everything the report shows, for one window."""

    since: datetime
    until: datetime
    answers: int
    covered: int
    declined: int
    upvotes: int
    downvotes: int
    by_platform: dict[str, dict[str, dict[str, int]]]
    """platform -> mode -> {"covered": n, "declined": n}."""
    declined_groups: tuple[QuestionGroup, ...]
    downvoted: tuple[Downvote, ...]
    reasons: dict[str, int]
    top_topics: tuple[tuple[str, int], ...]
    """Most frequent question keywords: (keyword, questions using it)."""
    cited_posts: tuple[tuple[str, int], ...]
    cited_sections: tuple[tuple[str, str, int], ...]
    never_cited_posts: tuple[str, ...]
    never_cited_sections: tuple[tuple[str, str], ...]
    days: tuple[DayCount, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        """The `careerbot report --json` shape (see REPORT_SCHEMA)."""
        return {
            "schema": REPORT_SCHEMA,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "totals": {
                "answers": self.answers,
                "covered": self.covered,
                "declined": self.declined,
                "upvotes": self.upvotes,
                "downvotes": self.downvotes,
            },
            "by_platform": self.by_platform,
            "declined_questions": [
                {"count": g.count, "example": g.example, "keywords": list(g.keywords)}
                for g in self.declined_groups
            ],
            "downvoted_answers": [
                {
                    "question": d.question,
                    "answer": d.answer,
                    "reason": d.reason,
                    "reason_text": d.reason_text,
                    "sources": [{"title": t, "section": s} for t, s in d.sources],
                    "platform": d.platform,
                    "at": d.at.isoformat(),
                }
                for d in self.downvoted
            ],
            "downvote_reasons": self.reasons,
            "top_topics": [{"keyword": k, "questions": n} for k, n in self.top_topics],
            "cited_posts": [{"title": t, "citations": n} for t, n in self.cited_posts],
            "cited_sections": [
                {"title": t, "section": s, "citations": n} for t, s, n in self.cited_sections
            ],
            "never_cited_posts": list(self.never_cited_posts),
            "never_cited_sections": [
                {"title": t, "section": s} for t, s in self.never_cited_sections
            ],
            "days": [
                {
                    "day": d.day.isoformat(),
                    "answers": d.answers,
                    "declined": d.declined,
                    "downvotes": d.downvotes,
                }
                for d in self.days
            ],
        }


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """`30m`, `24h`, `7d`, `2w` (before `now`) or an ISO date/time (UTC unless it says).

    The one parser of `--since` for `report`, `audit` and the admin report commands.
    """
    now = now or datetime.now(UTC)
    match = _WINDOW.match(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        if amount <= 0:
            raise BadReportWindow(f"the window {value.strip()!r} must be more than zero")
        return now - timedelta(**{_UNITS[unit]: amount})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadReportWindow(
            f"{value.strip()[:40]!r} is not a window like 7d, 24h, 2w or 30m, nor an ISO "
            "date like 2026-11-01"
        ) from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if parsed >= now:
        raise BadReportWindow(f"{value.strip()[:40]!r} is not in the past")
    return parsed


def _shown(question: str) -> str:
    text = " ".join(question.split())
    return text if len(text) <= _SHOWN_QUESTION_CHARS else text[: _SHOWN_QUESTION_CHARS - 1] + "…"


def _withheld(question: str) -> bool:
    return question.strip() == WITHHELD_QUESTION


def topic_words(question: str) -> dict[str, str]:
    """The words a question is about, as typed, keyed by stem ("salaries" and "salary" count once).

    Stop words, numbers ("i'm 29"), the field's own name and chat filler are not topics.
    """
    out: dict[str, str] = {}
    for word in word_forms(question):
        word = re.sub(r"'s$", "", word).strip("'")
        if len(word) < 2 or word.isdigit() or word in _NOT_TOPICS:
            continue
        stems = keyword_tokens(word, query=True)
        if len(stems) == 1:
            out.setdefault(stems[0], word)
    return out


def group_questions(questions: Iterable[str]) -> list[QuestionGroup]:
    """Group questions that ask the same thing (same keywords, or a large keyword overlap).

    Each question joins the group whose keyword set it overlaps most (Jaccard at least
    SAME_QUESTION_OVERLAP), else starts a new one; the shortest question is the example.
    Largest groups first.
    """
    groups: list[tuple[set[str], list[str]]] = []
    for question in questions:
        if _withheld(question) or not question.strip():
            continue
        words = set(keyword_tokens(question, query=True))
        best, best_overlap = None, 0.0
        for i, (seen, _) in enumerate(groups):
            union = words | seen
            overlap = len(words & seen) / len(union) if union else 1.0
            if overlap > best_overlap:
                best, best_overlap = i, overlap
        if best is not None and best_overlap >= SAME_QUESTION_OVERLAP:
            groups[best][0].update(words)
            groups[best][1].append(question)
        else:
            groups.append((words, [question]))
    out = [
        QuestionGroup(
            count=len(members),
            example=_shown(min(members, key=len)),
            keywords=tuple(sorted(words))[:8],
        )
        for words, members in groups
    ]
    return sorted(out, key=lambda g: (-g.count, g.example.casefold()))


def build_report(
    answers: Sequence[AnswerRow],
    votes: Sequence[FeedbackRow],
    passages: Iterable[tuple[str, str]],
    *,
    since: datetime,
    until: datetime,
    top: int = 10,
) -> Report:
    """Summarise a window's answers and votes against the passages indexed now.

    `passages` are (post title, section) of every indexed passage: posts and sections that
    no answer in the window cited are listed as never cited.
    """
    by_platform: dict[str, dict[str, dict[str, int]]] = {}
    for row in answers:
        cell = by_platform.setdefault(row.platform, {}).setdefault(
            row.mode, {"covered": 0, "declined": 0}
        )
        cell["covered" if row.covered else "declined"] += 1
    declined = [a for a in answers if not a.covered]

    downvotes = [v for v in votes if not v.helpful]
    reasons = Counter(v.reason or "none given" for v in downvotes)

    post_counts: Counter[str] = Counter()
    section_counts: Counter[tuple[str, str]] = Counter()
    for row in answers:
        for title, section in dict.fromkeys(row.sources):  # a passage cited twice counts once
            section_counts[(title, section)] += 1
        for title in dict.fromkeys(t for t, _ in row.sources):
            post_counts[title] += 1

    spellings: dict[str, Counter[str]] = {}  # stem -> how it was typed, per question
    for row in answers:
        if not _withheld(row.question):
            for stem, word in topic_words(row.question).items():
                spellings.setdefault(stem, Counter())[word] += 1
    topic_counts = Counter({stem: sum(typed.values()) for stem, typed in spellings.items()})

    indexed = list(dict.fromkeys(passages))
    posts = list(dict.fromkeys(t for t, _ in indexed))

    days: dict[date, list[int]] = {}
    for row in answers:
        counts = days.setdefault(row.at.astimezone(UTC).date(), [0, 0, 0])
        counts[0] += 1
        counts[1] += 0 if row.covered else 1
    for vote in downvotes:
        days.setdefault(vote.at.astimezone(UTC).date(), [0, 0, 0])[2] += 1
    first, last = since.astimezone(UTC).date(), until.astimezone(UTC).date()
    span = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    if len(span) > 366:  # a window since 2001 charts only the days that had something
        span = sorted(days)

    return Report(
        since=since,
        until=until,
        answers=len(answers),
        covered=len(answers) - len(declined),
        declined=len(declined),
        upvotes=sum(1 for v in votes if v.helpful),
        downvotes=len(downvotes),
        by_platform=by_platform,
        declined_groups=tuple(group_questions(a.question for a in declined)),
        downvoted=tuple(
            Downvote(
                question="" if _withheld(v.question) else _shown(v.question),
                answer=v.answer,
                reason=v.reason,
                reason_text=v.reason_text,
                sources=v.sources,
                platform=v.platform,
                at=v.at,
            )
            for v in reversed(downvotes)
        ),
        reasons=dict(reasons.most_common()),
        top_topics=tuple(
            (spellings[stem].most_common(1)[0][0], n) for stem, n in topic_counts.most_common(top)
        ),
        cited_posts=tuple(post_counts.most_common(top)),
        cited_sections=tuple((t, s, n) for (t, s), n in section_counts.most_common(top)),
        never_cited_posts=tuple(p for p in posts if p not in post_counts),
        never_cited_sections=tuple(p for p in indexed if p not in section_counts),
        days=tuple(DayCount(d, *days.get(d, [0, 0, 0])) for d in span),
    )


# --- renderings ---------------------------------------------------------------------------


def _label(reason: str | None) -> str:
    return FEEDBACK_REASONS.get(reason or "", reason or "no reason given")


def _where(title: str, section: str) -> str:
    return f"{title} › {section}" if section else title


def report_sections(report: Report, *, limit: int = 5) -> list[tuple[str, list[str]]]:
    """The report as (heading, lines) in plain text; adapters escape and format the lines.

    `limit` caps each list (the compact chat rendering); the HTML and JSON show everything.
    """

    def capped(lines: list[str], total: int) -> list[str]:
        return lines[:limit] + ([f"… and {total - limit} more"] if total > limit else [])

    platforms = [
        f"{platform} / {mode}: {cell['covered']} answered, {cell['declined']} declined"
        for platform, modes in sorted(report.by_platform.items())
        for mode, cell in sorted(modes.items())
    ]
    declined = [f"{g.count}× “{g.example}”" for g in report.declined_groups]
    downvoted = []
    for d in report.downvoted:
        detail = d.reason_text if len(d.reason_text) <= 200 else d.reason_text[:199] + "…"
        why = _label(d.reason) + (f": {detail}" if detail else "")
        asked = f"“{d.question}”" if d.question else "(question withheld)"
        downvoted.append(f"{asked} ({why})")
    reasons = ", ".join(f"{_label(r)} {n}" for r, n in report.reasons.items())
    topics = ", ".join(f"{k} ({n})" for k, n in report.top_topics[:limit])
    never = [
        *capped(list(report.never_cited_posts), len(report.never_cited_posts)),
        f"{len(report.never_cited_sections)} sections were never cited",
    ]
    return [
        (
            f"Knowledge-gap report {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M}"
            " UTC",
            [
                f"{report.answers} answers: {report.covered} answered, {report.declined} "
                f"declined; 👍 {report.upvotes}, 👎 {report.downvotes}",
                *platforms,
            ],
        ),
        ("Declined questions", capped(declined, len(declined)) or ["none"]),
        (
            "👎 answers" + (f" ({reasons})" if reasons else ""),
            capped(downvoted, len(downvoted)) or ["none"],
        ),
        (
            "Most-asked topics",
            [topics or "none"],
        ),
        (
            "Most-cited posts",
            [f"{t} ({n})" for t, n in report.cited_posts[:limit]] or ["none"],
        ),
        (
            "Never cited",
            never
            if report.never_cited_posts or report.never_cited_sections
            else ["every post was cited"],
        ),
    ]


def render_text(report: Report, *, limit: int = 10) -> str:
    """Plain text for the terminal (`careerbot report`)."""
    out: list[str] = []
    for heading, lines in report_sections(report, limit=limit):
        out.append(heading)
        out.extend(f"  - {line}" for line in lines)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;
color:#1d2433}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #dde}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .5rem;
border-bottom:1px solid #eef;vertical-align:top}th{background:#f5f6fa}
.n{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#667}
.key span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem}
"""
_SERIES = (("answers", "#4c78a8"), ("declined", "#f58518"), ("downvotes", "#e45756"))


def _chart(days: Sequence[DayCount]) -> str:
    """An inline SVG bar chart: answers, declines and 👎 per day."""
    if not days:
        return '<p class="muted">No days in this window.</p>'
    peak = max([max(d.answers, d.declined, d.downvotes) for d in days] + [1])
    group, bar, height, pad = 30, 8, 160, 24
    width = pad + group * len(days)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" '
        f'role="img" aria-label="Answers, declines and downvotes per day">'
    ]
    for i, d in enumerate(days):
        x0 = pad + i * group
        for j, (name, colour) in enumerate(_SERIES):
            value = getattr(d, name)
            h = round(height * value / peak)
            parts.append(
                f'<rect x="{x0 + j * bar}" y="{height - h}" width="{bar - 1}" height="{h}" '
                f'fill="{colour}"><title>{d.day.isoformat()}: {value} {name}</title></rect>'
            )
        if len(days) <= 31 or i % 7 == 0:
            parts.append(f'<text x="{x0}" y="{height + 14}" font-size="9">{d.day:%m-%d}</text>')
    parts.append(f'<text x="0" y="10" font-size="9">{peak}</text></svg>')
    key = "".join(f'<span style="background:{colour}"></span>{name}' for name, colour in _SERIES)
    return "".join(parts) + f'<p class="key muted">{key}</p>'


def _table(header: Sequence[str], rows: Iterable[Sequence[object]], numeric: int = 0) -> str:
    """An HTML table; every cell is escaped. The last `numeric` columns align right."""
    cols = len(header)

    def cell(i: int, value: object, tag: str = "td") -> str:
        cls = ' class="n"' if i >= cols - numeric else ""
        return f"<{tag}{cls}>{html.escape(str(value))}</{tag}>"

    body = "".join(
        "<tr>" + "".join(cell(i, v) for i, v in enumerate(row)) + "</tr>" for row in rows
    )
    if not body:
        return '<p class="muted">None.</p>'
    head = "".join(cell(i, h, "th") for i, h in enumerate(header))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: Report) -> str:
    """One self-contained page (inline CSS and SVG; no script, nothing fetched)."""
    e = html.escape
    title = f"careerbot knowledge-gap report, {report.since:%Y-%m-%d} to {report.until:%Y-%m-%d}"
    platforms = _table(
        ("Platform", "Mode", "Answered", "Declined"),
        (
            (p, m, c["covered"], c["declined"])
            for p, modes in sorted(report.by_platform.items())
            for m, c in sorted(modes.items())
        ),
        numeric=2,
    )
    sections = [
        ("Answers, declines and 👎 per day", _chart(report.days)),
        ("Answers per platform and mode", platforms),
        (
            "Declined questions (grouped when they ask the same thing)",
            _table(("Times", "Example"), ((g.count, g.example) for g in report.declined_groups)),
        ),
        (
            "👎 answers",
            _table(
                ("Question", "Reason", "Details", "Sources", "Platform", "When"),
                (
                    (
                        d.question or "(withheld)",
                        _label(d.reason),
                        d.reason_text,
                        "; ".join(_where(t, s) for t, s in d.sources),
                        d.platform,
                        f"{d.at:%Y-%m-%d %H:%M}",
                    )
                    for d in report.downvoted
                ),
            ),
        ),
        (
            "Most-asked topics",
            _table(("Keyword", "Questions"), report.top_topics, numeric=1),
        ),
        ("Most-cited posts", _table(("Post", "Answers citing it"), report.cited_posts, 1)),
        (
            "Most-cited sections",
            _table(("Post", "Section", "Answers citing it"), report.cited_sections, 1),
        ),
        ("Posts never cited", _table(("Post",), ((p,) for p in report.never_cited_posts))),
        (
            "Sections never cited",
            _table(("Post", "Section"), report.never_cited_sections),
        ),
    ]
    summary = (
        f"{report.answers} answers: {report.covered} answered, {report.declined} declined; "
        f"👍 {report.upvotes}, 👎 {report.downvotes}."
    )
    body = "".join(f"<h2>{e(h)}</h2>{content}" for h, content in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(title)}</title><style>{_CSS}</style></head>"
        f"<body><h1>{e(title)}</h1><p>{e(summary)}</p>{body}</body></html>\n"
    )
