"""The knowledge-gap report computed from a seeded database (SQLite and `-k postgres`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import ClassVar

import pytest
import sqlalchemy as sa

from bot.models import WITHHELD_QUESTION, Citation, Feedback
from bot.report import (
    REPORT_SCHEMA,
    BadReportWindow,
    Report,
    group_questions,
    parse_since,
    render_html,
    render_text,
    report_sections,
    topic_words,
)
from bot.schema import answers, feedback
from bot.service import CareerBot
from tests.conftest import MakeCareerBot

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_windows_parse_as_durations_or_iso_dates() -> None:
    assert parse_since("7d", NOW) == NOW - timedelta(days=7)
    assert parse_since("24h", NOW) == NOW - timedelta(hours=24)
    assert parse_since(" 2W ", NOW) == NOW - timedelta(weeks=2)
    assert parse_since("30m", NOW) == NOW - timedelta(minutes=30)
    assert parse_since("2026-11-01", NOW) == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("2026-11-01T08:00+01:00", NOW) == datetime(2026, 11, 1, 7, tzinfo=UTC)
    for bad in ("soon", "", "7", "0d", "7y", "2027-01-01", "7 days", "-3d"):
        with pytest.raises(BadReportWindow) as err:
            parse_since(bad, NOW)
        assert "\n" not in str(err.value)


def test_questions_asking_the_same_thing_are_grouped() -> None:
    groups = group_questions(
        [
            "What salary does an AI safety researcher earn?",
            "what's the salary of AI safety researchers",
            "Which visa do I need to work in the UK?",
            "AI safety researcher salary?",
            WITHHELD_QUESTION,
        ]
    )
    assert [g.count for g in groups] == [3, 1]
    assert groups[0].example == "AI safety researcher salary?"
    assert groups[1].example == "Which visa do I need to work in the UK?"


def _seed(bot: CareerBot) -> None:
    """Answers over three days on two platforms; votes with reasons; a withheld question."""
    store = bot.store
    post = bot.retriever.snapshot.passages[0]
    cite = Citation(post.title, post.author, post.url, "q", post.id, section=post.section)

    def ask(
        n: int, platform: str, question: str, *, covered: bool, days_ago: int, mode: str
    ) -> None:
        answer_id = f"{platform}-{n}"
        store.append_exchange(
            f"{platform}:k{n}",
            asker=f"u{n}",
            platform=platform,
            question=question,
            answer_text="An answer." if covered else "The posts don't cover that.",
            answer_id=answer_id,
            covered=covered,
            mode=mode,
            citations=(cite,) if covered else (),
        )
        with store.engine.begin() as conn:
            conn.execute(
                sa.update(answers)
                .where(answers.c.answer_id == answer_id)
                .values(at=NOW - timedelta(days=days_ago, hours=1))
            )

    ask(1, "slack", "How do I test my fit for research?", covered=True, days_ago=0, mode="llm")
    ask(2, "slack", "What salary does a safety researcher earn?", covered=False, days_ago=1,
        mode="extractive")  # fmt: skip
    ask(3, "discord", "safety researcher salary?", covered=False, days_ago=2, mode="extractive")
    ask(4, "discord", "<script>alert(1)</script> visa for the UK?", covered=False, days_ago=2,
        mode="extractive")  # fmt: skip
    ask(5, "discord", WITHHELD_QUESTION, covered=False, days_ago=1, mode="extractive")
    ask(6, "slack", "old question", covered=True, days_ago=30, mode="extractive")
    store.record_feedback(
        Feedback("slack-1", "u9", "slack", helpful=False, reason="outdated", reason_text="<b>")
    )
    store.record_feedback(Feedback("slack-1", "u8", "slack", helpful=True))
    with store.engine.begin() as conn:
        conn.execute(sa.update(feedback).values(at=NOW - timedelta(minutes=30)))


def _report(bot: CareerBot) -> Report:
    return bot.report_sync(NOW - timedelta(days=7), NOW + timedelta(minutes=1))


def test_the_report_summarises_a_seeded_database(
    make_careerbot: MakeCareerBot, db_url: str
) -> None:
    bot = make_careerbot(database_url=db_url)
    _seed(bot)
    report = _report(bot)

    assert (report.answers, report.covered, report.declined) == (5, 1, 4)
    assert (report.upvotes, report.downvotes) == (1, 1)
    assert report.by_platform == {
        "slack": {
            "llm": {"covered": 1, "declined": 0},
            "extractive": {"covered": 0, "declined": 1},
        },
        "discord": {"extractive": {"covered": 0, "declined": 3}},
    }
    groups = [(g.count, g.example) for g in report.declined_groups]
    assert groups[0] == (2, "safety researcher salary?")
    assert (1, "<script>alert(1)</script> visa for the UK?") in groups
    assert all(WITHHELD_QUESTION not in example for _, example in groups)
    (down,) = report.downvoted
    assert (down.question, down.reason, down.reason_text) == (
        "How do I test my fit for research?",
        "outdated",
        "<b>",
    )
    assert report.reasons == {"outdated": 1}

    cited = bot.retriever.snapshot.passages[0]
    assert report.cited_posts == ((cited.title, 1),)
    titles = {p.title for p in bot.retriever.snapshot.passages}
    assert set(report.never_cited_posts) == titles - {cited.title}
    assert (cited.title, cited.section) not in report.never_cited_sections
    # Topics as typed, counted once per stem; the field's name is not a topic.
    topics = dict(report.top_topics)
    assert topics["salary"] == 2 and topics["researcher"] == 3  # and "research"
    assert "safety" not in topics and "salari" not in topics
    per_day = {d.day.isoformat(): (d.answers, d.declined, d.downvotes) for d in report.days}
    assert per_day["2026-11-24"] == (2, 2, 0)
    assert per_day["2026-11-25"] == (2, 2, 0)
    assert per_day["2026-11-26"] == (1, 0, 1)
    assert per_day["2026-11-19"] == (0, 0, 0)
    assert len(per_day) == 8


def test_topic_words_are_what_questions_are_about() -> None:
    words = topic_words(
        "im 29 and honestly just want to start in AI safety. does my master's in stats count?"
    )
    assert set(words.values()) == {"master", "stats", "count"}
    assert topic_words("Salaries? salary!") == {"salari": "salaries"}


def test_json_has_the_documented_shape(make_careerbot: MakeCareerBot) -> None:
    bot = make_careerbot()
    _seed(bot)
    data = json.loads(json.dumps(_report(bot).to_json()))
    assert data["schema"] == REPORT_SCHEMA
    assert set(data) == {
        "schema",
        "since",
        "until",
        "totals",
        "by_platform",
        "declined_questions",
        "downvoted_answers",
        "downvote_reasons",
        "top_topics",
        "cited_posts",
        "cited_sections",
        "never_cited_posts",
        "never_cited_sections",
        "days",
    }
    assert set(data["totals"]) == {"answers", "covered", "declined", "upvotes", "downvotes"}
    assert set(data["declined_questions"][0]) == {"count", "example", "keywords"}
    assert set(data["downvoted_answers"][0]) == {
        "question",
        "answer",
        "reason",
        "reason_text",
        "sources",
        "platform",
        "at",
    }
    assert set(data["days"][0]) == {"day", "answers", "declined", "downvotes"}


class _Checker(HTMLParser):
    """Checks tags nest and close properly; collects text and any script or remote URL."""

    VOID: ClassVar[frozenset[str]] = frozenset({"meta", "br", "hr", "img", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href")]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_one_well_formed_page_with_a_chart_and_escaped_user_text(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot()
    _seed(bot)
    page = render_html(_report(bot))

    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == []
    assert "script" not in checker.tags  # the asker's <script> is text, not a tag
    assert checker.urls == []  # nothing fetched: no src/href at all
    text = "".join(checker.text)
    assert "<script>alert(1)</script> visa for the UK?" in text
    assert "&lt;script&gt;" in page
    assert checker.tags.count("svg") == 1 and checker.tags.count("rect") == 8 * 3
    assert "Outdated" in text and "safety researcher salary?" in text
    assert WITHHELD_QUESTION not in page


def test_the_compact_rendering_caps_each_list(make_careerbot: MakeCareerBot) -> None:
    bot = make_careerbot()
    _seed(bot)
    report = _report(bot)
    sections = dict(report_sections(report, limit=1))
    assert sections["Declined questions"] == ["2× “safety researcher salary?”", "… and 1 more"]
    text = render_text(report)
    assert "Declined questions" in text and "Outdated: <b>" in text


async def test_the_weekly_report_is_posted_once_across_two_replicas(
    make_careerbot: MakeCareerBot, db_url: str
) -> None:
    first = make_careerbot(database_url=db_url)
    second = make_careerbot(database_url=db_url)
    _seed(first)
    posted: list[tuple[str, Report]] = []

    def poster(name: str) -> Callable[[Report], Awaitable[None]]:
        async def post(report: Report) -> None:
            posted.append((name, report))

        return post

    results = await asyncio.gather(
        first.post_weekly_report(poster("first"), NOW),
        second.post_weekly_report(poster("second"), NOW),
        first.post_weekly_report(poster("first"), NOW + timedelta(hours=6)),
    )
    assert sorted(results) == [False, False, True]
    ((_, report),) = posted
    assert report.declined == 4 and report.until == NOW
    assert report.since == NOW - timedelta(days=7)

    next_week = NOW + timedelta(days=7)
    assert await second.post_weekly_report(poster("second"), next_week)
    assert not await first.post_weekly_report(poster("first"), next_week)
    assert [name for name, _ in posted][1:] == ["second"]


def test_the_weekly_post_goes_to_the_one_platform_that_can_post_it() -> None:
    from bot.settings import Settings
    from bot.wiring import StartupError, report_platform

    def settings(**report: object) -> Settings:
        return Settings(_env_file=None, report=report)  # type: ignore[call-arg]

    assert report_platform(settings(), ["slack", "discord"]) is None
    assert report_platform(settings(channel="C1"), ["discord"]) == "discord"
    assert (
        report_platform(settings(channel="C1", platform="slack"), ["slack", "discord"]) == "slack"
    )
    for report, running in (
        ({"channel": "C1"}, ["slack", "discord"]),
        ({"channel": "C1", "platform": "slack"}, ["discord"]),
        ({"channel": "C1"}, []),
    ):
        with pytest.raises(StartupError) as err:
            report_platform(settings(**report), running)
        assert "CAREERBOT_REPORT__" in str(err.value) and "\n" not in str(err.value)


def test_a_long_reason_is_shortened_in_chat_but_kept_whole_in_json(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot()
    _seed(bot)
    bot.store.record_feedback(
        Feedback("slack-1", "u9", "slack", helpful=False, reason="other", reason_text="y" * 900)
    )
    now = datetime.now(UTC)  # the vote was just replaced, so it is stored at the real now
    report = bot.report_sync(now - timedelta(hours=1), now + timedelta(minutes=1))
    (line,) = dict(report_sections(report))["👎 answers (Other 1)"]
    assert line.endswith("y…)") and len(line) < 300
    (down,) = report.downvoted
    assert down.reason_text == "y" * 900


def test_doctor_says_where_the_weekly_report_goes_or_why_it_cannot() -> None:
    from bot.doctor import check_report
    from bot.settings import Settings

    def doctor(**fields: object) -> list[tuple[bool, str]]:
        return check_report(Settings(_env_file=None, **fields))  # type: ignore[arg-type]

    assert doctor() == [(True, "report: no weekly post (CAREERBOT_REPORT__CHANNEL is not set)")]
    assert doctor(report={"channel": "123"}, discord={"token": "t"}) == [
        (True, "report: weekly post to discord channel 123")
    ]
    ((ok, line),) = doctor(
        report={"channel": "C1"}, discord={"token": "t"}, slack={"bot_token": "x"}
    )
    assert not ok and "CAREERBOT_REPORT__PLATFORM" in line
