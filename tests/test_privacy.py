"""Retention: old conversations, feedback and dedupe rows are pruned; `careerbot prune`."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bot.conversations import ConversationStore
from bot.models import Answer, Feedback, PruneReport
from bot.schema import answers, feedback, message_links, seen_events, shared_answers, turns
from tests.conftest import MakeCareerBot

REPO = Path(__file__).resolve().parents[1]


def _fill(store: ConversationStore, key: str, n: int) -> None:
    store.append_exchange(
        key,
        asker="U1",
        platform="slack",
        question=f"q{n}",
        answer_text=f"a{n}",
        answer_id=f"{key}-{n}",
        covered=True,
        mode="llm",
        usage={"prompt_tokens": 120, "completion_tokens": 30},
    )
    click = Feedback(answer_id=f"{key}-{n}", user="U1", platform="slack", helpful=True)
    store.record_feedback(click)
    store.claim_event("slack", f"Ev-{key}-{n}")
    store.link_message("discord", f"{key}-{n}", key)
    store.keep_answer(
        "q", Answer("a", True, "llm", answer_id=f"{key}-{n}"), asker="U1", platform="slack"
    )


def test_prune_deletes_only_what_is_older_than_retention(db_url: str) -> None:
    store = ConversationStore(db_url)
    try:
        _fill(store, "old", 1)
        _fill(store, "new", 1)
        long_ago = datetime.now(UTC) - timedelta(days=100)
        with store.engine.begin() as conn:  # age the "old" rows as 100 days of time would
            conn.execute(
                sa.update(turns).where(turns.c.conversation_key == "old").values(at=long_ago)
            )
            conn.execute(
                sa.update(answers).where(answers.c.conversation_key == "old").values(at=long_ago)
            )
            for table, column in (
                (feedback, feedback.c.answer_id),
                (shared_answers, shared_answers.c.answer_id),
                (message_links, message_links.c.message_id),
            ):
                conn.execute(sa.update(table).where(column == "old-1").values(at=long_ago))
            conn.execute(
                sa.update(seen_events)
                .where(seen_events.c.event_id == "Ev-old-1")
                .values(at=long_ago)
            )

        now = datetime.now(UTC)
        report = store.prune(now - timedelta(days=90), now - timedelta(hours=24))

        assert report == PruneReport(
            messages=2, answers=1, feedback=1, events=1, message_links=1, shared_answers=1
        )
        assert store.history("old", 10) == []
        assert [t.text for t in store.history("new", 10)] == ["q1", "a1"]
        assert store.conversation_for_message("discord", "new-1") == "new"
        assert store.kept_answer("old-1") is None and store.kept_answer("new-1") is not None
        assert not store.claim_event("slack", "Ev-new-1")  # still deduped
        assert store.claim_event("slack", "Ev-old-1")  # forgotten with its row
        with store.engine.connect() as conn:
            usage = conn.execute(
                sa.select(answers.c.prompt_tokens, answers.c.completion_tokens)
            ).one()
        assert tuple(usage) == (120, 30)
    finally:
        store.close()


def _careerbot(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CAREERBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=REPO / "tests",
        env={**base, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_prune_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'careerbot.db'}"
    store = ConversationStore(url)
    _fill(store, "k", 1)
    store.close()

    done = _careerbot("prune", CAREERBOT_DATABASE_URL=url, CAREERBOT_STORE__RETENTION_DAYS="30")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == PruneReport().summary()  # nothing is 30 days old yet


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://careerbot:s3cret-pw@127.0.0.1:9/careerbot"  # port 9: refused

    done = _careerbot("prune", CAREERBOT_DATABASE_URL=url)

    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "database is unreachable" in done.stderr
    assert "s3cret-pw" not in done.stderr + done.stdout


async def test_serve_runs_the_retention_job(make_careerbot: MakeCareerBot) -> None:
    import asyncio

    from bot.wiring import prune_periodically

    bot = make_careerbot(build=False, store={"retention_days": 1})
    _fill(bot.store, "old", 1)
    with bot.store.engine.begin() as conn:
        long_ago = datetime.now(UTC) - timedelta(days=2)
        conn.execute(sa.update(turns).values(at=long_ago))

    job = asyncio.create_task(prune_periodically(bot))
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while bot.store.history("old", 10):  # the job's first run happens at start
            assert loop.time() < deadline, "the retention job did not run"
            await asyncio.sleep(0.01)
    finally:
        job.cancel()
    assert bot.store.count("answers") == 1  # a day old at most: kept


def test_a_bad_database_url_is_one_line(tmp_path: Path) -> None:
    for url, expected in (
        ("not a url", "not a valid SQLAlchemy URL"),
        ("nosuchdb://x/y", "unknown database dialect 'nosuchdb'"),
        ("mysql+nosuchdriver://u:pw@h/db", "unknown database dialect"),
        ("postgresql+psycopg2://u:s3cret-pw@h/db", "needs the psycopg2 driver"),
    ):
        done = _careerbot("prune", CAREERBOT_DATABASE_URL=url)
        assert done.returncode == 1, url
        assert done.stderr.count("\n") == 1 and expected in done.stderr, done.stderr
        assert "s3cret-pw" not in done.stderr
