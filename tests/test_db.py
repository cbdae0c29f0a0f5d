"""Migrations, upserts, leases and retries on SQLite and a real PostgreSQL, across processes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.conversations import ConversationStore
from bot.db import current_revision, head_revision, make_engine
from bot.models import DatabaseUnavailable, LeaseTaken
from bot.schema import metadata
from tests.pg_server import PostgresServer

ROOT = Path(__file__).resolve().parents[1]


# --- processes ----------------------------------------------------------------------------


class Worker:
    """A `tests.db_worker` process; `send` runs one command and returns its JSON result."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.db_worker"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.read() == "ready"

    def read(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def write(self, **command: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def result(self) -> Any:
        reply = json.loads(self.read())
        assert "error" not in reply, reply["error"]
        return reply["ok"]

    def send(self, **command: Any) -> Any:
        self.write(**command)
        return self.result()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    """Three ready worker processes (imports done, waiting for commands)."""
    made = [Worker() for _ in range(3)]
    yield made
    for worker in made:
        worker.close()


def at_once(workers: list[Worker], **command: Any) -> list[Any]:
    """Send one command to every worker before reading any answer, so they race."""
    for worker in workers:
        worker.write(**command)
    return [worker.result() for worker in workers]


# --- migrations ---------------------------------------------------------------------------


def _columns(engine: sa.Engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def test_a_fresh_database_is_migrated_to_head_and_matches_the_code(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    store = ConversationStore(db_url)
    try:
        assert current_revision(store.engine) == head_revision()
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == [], "bot/schema.py and bot/migrations disagree; add a revision"
    finally:
        store.close()


# The schema exactly as `create_all` made it before migrations existed.
_old = sa.MetaData()
_old_turns = sa.Table(
    "turns",
    _old,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_key", sa.String(255), nullable=False, index=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("platform", sa.String(32), nullable=False, default=""),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
_old_answers = sa.Table(
    "answers",
    _old,
    sa.Column("answer_id", sa.String(64), primary_key=True),
    sa.Column("conversation_key", sa.String(255), nullable=False),
    sa.Column("asker", sa.String(255), nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("covered", sa.Boolean, nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
sa.Table(
    "feedback",
    _old,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("answer_id", sa.String(64), nullable=False, index=True),
    sa.Column("user", sa.String(255), nullable=False),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("helpful", sa.Boolean, nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
_old_meta = sa.Table(
    "meta",
    _old,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


def test_a_database_made_by_create_all_is_adopted_without_losing_rows(db_url: str) -> None:
    engine = make_engine(db_url)
    _old.create_all(engine)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            _old_turns.insert(),
            [
                {"conversation_key": "k", "role": r, "text": t, "platform": "slack", "at": now}
                for r, t in (("user", "old question"), ("assistant", "old answer"))
            ],
        )
        conn.execute(
            _old_answers.insert().values(
                answer_id="a1",
                conversation_key="k",
                asker="U1",
                question="old question",
                answer="old answer",
                covered=True,
                mode="extractive",
                at=now,
            )
        )
        conn.execute(_old_meta.insert().values(key="last_reload", value="then"))
    assert current_revision(engine) is None
    engine.dispose()

    store = ConversationStore(db_url)
    try:
        assert current_revision(store.engine) == head_revision()
        assert [t.text for t in store.history("k", 10)] == ["old question", "old answer"]
        assert store.answer_record("a1") == ("old question", "old answer")
        assert store.get_meta("last_reload") == "then"
        assert {"asker"} <= _columns(store.engine, "turns")
        assert {"prompt_tokens", "completion_tokens"} <= _columns(store.engine, "answers")
    finally:
        store.close()


def test_two_processes_starting_on_one_fresh_database_both_succeed(
    db_url: str, workers: list[Worker]
) -> None:
    assert at_once(workers, op="open", url=db_url) == ["opened"] * len(workers)

    engine = make_engine(db_url)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        assert [v[0] for v in versions] == [head_revision()]
    finally:
        engine.dispose()


def test_reopening_a_current_database_changes_nothing(db_url: str) -> None:
    first = ConversationStore(db_url)
    first.set_meta("k", "v")
    first.close()
    second = ConversationStore(db_url)
    try:
        assert second.get_meta("k") == "v"
        assert current_revision(second.engine) == head_revision()
    finally:
        second.close()


# --- set_meta -------------------------------------------------------------------------------


def test_set_meta_under_contention_from_processes_and_threads(
    db_url: str, workers: list[Worker]
) -> None:
    store = ConversationStore(db_url)
    try:
        at_once(workers, op="open", url=db_url)
        for n, worker in enumerate(workers):
            worker.write(op="set_meta", key="last_reload", value=f"p{n}", times=60)
        errors: list[BaseException] = []

        def hammer() -> None:
            try:
                for n in range(60):
                    store.set_meta("last_reload", f"t-{n}")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=hammer) for _ in range(2)]
        for thread in threads:
            thread.start()
        finals = [worker.result() for worker in workers]
        for thread in threads:
            thread.join()

        assert errors == []
        assert all(final is not None for final in finals)
        with store.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT count(*) FROM meta")).scalar_one()
        assert rows == 1
    finally:
        store.close()


# --- leases ---------------------------------------------------------------------------------


def test_one_of_several_processes_gets_a_lease_and_the_others_see_who(
    db_url: str, workers: list[Worker]
) -> None:
    at_once(workers, op="open", url=db_url)
    for n, worker in enumerate(workers):
        worker.write(op="try_lease", name="reload", holder=f"proc-{n}", ttl=3600)
    results = [worker.result() for worker in workers]

    winners = [r for r in results if r["acquired"]]
    assert len(winners) == 1
    assert {r["holder"] for r in results} == {winners[0]["holder"]}


def test_lease_expiry_takeover_renew_and_release_across_processes(
    db_url: str, workers: list[Worker]
) -> None:
    a, b, _ = workers
    at_once(workers, op="open", url=db_url)

    assert a.send(op="try_lease", name="job", holder="A", ttl=3600)["acquired"]
    assert b.send(op="try_lease", name="job", holder="B", ttl=3600) == {
        "acquired": False,
        "holder": "A",
    }
    # Re-taking one's own lease renews it.
    assert a.send(op="try_lease", name="job", holder="A", ttl=0)["acquired"]
    # A lease whose time is up (ttl 0) is taken over.
    assert b.send(op="try_lease", name="job", holder="B", ttl=3600)["acquired"]
    assert a.send(op="release", name="job", holder="A") is False  # not A's any more
    assert b.send(op="release", name="job", holder="B") is True
    assert a.send(op="try_lease", name="job", holder="A", ttl=3600)["acquired"]


def test_lease_context_manager_reports_the_holder(db_url: str) -> None:
    store = ConversationStore(db_url)
    try:
        assert store.lease_info("reload") is None
        with store.lease("reload", "host-1:42", 600) as held:
            assert held.acquired and held.holder == "host-1:42"
            assert store.renew_lease("reload", "host-1:42", 600)
            with pytest.raises(LeaseTaken) as taken, store.lease("reload", "host-2:7", 600):
                pass
            assert taken.value.current.holder == "host-1:42"
            assert "reload is held by host-1:42 since" in str(taken.value)
            assert taken.value.current.acquired_at.tzinfo is not None
        assert store.lease_info("reload") is None
        assert not store.renew_lease("reload", "host-1:42", 600)
    finally:
        store.close()


# --- a real server restart ------------------------------------------------------------------


def test_the_store_survives_a_postgres_restart(postgres_server: PostgresServer) -> None:
    store = ConversationStore(postgres_server.create_database())
    try:
        store.set_meta("k", "before")
        assert store.get_meta("k") == "before"  # a pooled connection now exists

        postgres_server.restart()

        assert store.get_meta("k") == "before"  # pre-ping replaced the dead connection
        store.set_meta("k", "after")
        assert store.get_meta("k") == "after"
    finally:
        store.close()


def test_a_postgres_that_stays_down_is_one_clear_error(postgres_server: PostgresServer) -> None:
    store = ConversationStore(postgres_server.create_database())
    try:
        postgres_server.stop()
        try:
            with pytest.raises(DatabaseUnavailable) as down:
                store.get_meta("k")
        finally:
            postgres_server.start()
        message = str(down.value)
        assert "\n" not in message and "unreachable" in message
        assert "127.0.0.1" not in message  # the URL (and any password) stays out
        assert store.get_meta("k") is None  # and it recovers once the server is back
    finally:
        store.close()


# --- bounded retries ------------------------------------------------------------------------


def _serialization_failure() -> sa.exc.OperationalError:
    import psycopg

    return sa.exc.OperationalError(
        "UPDATE meta ...", {}, psycopg.errors.SerializationFailure("could not serialize")
    )


def test_transient_errors_are_retried_then_succeed() -> None:
    from bot.db import retry_transient

    calls: list[int] = []

    @retry_transient
    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _serialization_failure()
        return "done"

    assert flaky() == "done"
    assert len(calls) == 3


def test_retries_are_bounded_and_end_in_one_typed_error() -> None:
    from bot.db import RETRY_ATTEMPTS, retry_transient

    calls: list[int] = []

    @retry_transient
    def always_failing() -> None:
        calls.append(1)
        raise _serialization_failure()

    with pytest.raises(DatabaseUnavailable, match=r"unreachable \(SerializationFailure after 4"):
        always_failing()
    assert len(calls) == RETRY_ATTEMPTS


def test_errors_that_are_not_transient_are_not_retried(db_url: str) -> None:
    store = ConversationStore(db_url)
    try:
        store.append_exchange(
            "k", asker="a", platform="slack", question="q", answer_text="a",
            answer_id="same", covered=True, mode="extractive",
        )  # fmt: skip
        with pytest.raises(sa.exc.IntegrityError):
            store.append_exchange(
                "k", asker="a", platform="slack", question="q", answer_text="a",
                answer_id="same", covered=True, mode="extractive",
            )  # fmt: skip
        assert len(store.history("k", 10)) == 2  # the failed exchange left nothing behind
    finally:
        store.close()


def test_a_postgres_that_cannot_start_skips_locally_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.pg_server import _unavailable

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run in CI: no binary"):
        _unavailable("no binary")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL tests skipped: no binary"):
        _unavailable("no binary")


def test_a_sqlite_store_writes_ahead_and_flushes_at_checkpoints_not_every_commit(
    tmp_path: Path,
) -> None:
    # Every answer commits three times (turn lease, exchange, release): a disk flush each
    # cost 3-12 ms on a busy disk. WAL with synchronous=NORMAL stays consistent after a crash.
    engine = make_engine(f"sqlite:///{tmp_path / 'careerbot.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    engine.dispose()
