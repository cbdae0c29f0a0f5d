"""Database plumbing: the engine, race-safe migration to head, upserts and bounded retries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Table, create_engine, event, inspect, text, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool
from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from bot.models import DatabaseMisconfigured, DatabaseUnavailable

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BASELINE_REVISION = "0001"
"""The schema `create_all` made before migrations existed; such databases are stamped."""

# Any constant bigint shared by every replica: pg_advisory_lock serializes schema upgrades.
_PG_MIGRATION_LOCK = 0x63617265657262  # "careerb"
# Postgres SQLSTATEs worth retrying: serialization failure, deadlock, shutdown, connection.
_TRANSIENT_SQLSTATES = frozenset(
    {"40001", "40P01", "57P01", "57P02", "57P03", "08000", "08001", "08003", "08004", "08006"}
)
RETRY_ATTEMPTS = 4

P = ParamSpec("P")
R = TypeVar("R")


def make_engine(url: str) -> Engine:
    """An engine with pre-ping (survives a database restart) and SQLite's WAL + busy timeout.

    A malformed URL, an unknown dialect or a missing driver raises DatabaseMisconfigured.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseMisconfigured(
            "CAREERBOT_DATABASE_URL is not a valid SQLAlchemy URL "
            "(e.g. postgresql+psycopg://user:password@host:5432/careerbot)"
        ) from None
    sqlite = parsed.drivername.startswith("sqlite")
    if sqlite and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if sqlite:
        kwargs["connect_args"] = {"check_same_thread": False}
        if parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool  # one shared connection, or each thread sees none
    try:
        engine = create_engine(parsed, **kwargs)
    except ImportError as exc:
        hint = (
            " (pip install 'careerbot[postgres]')"
            if parsed.get_backend_name() == "postgresql"
            else ""
        )
        raise DatabaseMisconfigured(
            f"CAREERBOT_DATABASE_URL needs the {exc.name or 'database'} driver, which is not "
            f"installed{hint}"
        ) from None
    except ArgumentError:
        raise DatabaseMisconfigured(
            f"CAREERBOT_DATABASE_URL names an unknown database dialect '{parsed.drivername}'"
        ) from None
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    # The timeout first: switching to WAL needs a lock another process may hold right now.
    cursor.execute("PRAGMA busy_timeout=10000")
    # WAL lets the bot read while a reload or another replica writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL syncs the log at checkpoints, not at every commit: an answer's
    # three small commits (turn lease, exchange, release) cost no disk flush each (measured
    # 3-12 ms apiece on a busy disk). The database stays consistent after any crash; a
    # power cut may lose the last turns, which a chat history can afford.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of the bot."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: empty, or made by create_all before 0001)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_to_head(engine: Engine) -> str | None:
    """Bring the schema to head; returns the revision it started from.

    Safe when several replicas start at once: the upgrade runs under a Postgres advisory lock
    (SQLite: the database's write lock, BEGIN IMMEDIATE), and whoever gets the lock second
    finds the schema current and does nothing. A database made by `create_all` before
    migrations existed (tables, no alembic_version) is stamped at the baseline first, so its
    rows are kept.
    """
    head = head_revision()
    start = current_revision(engine)
    if start == head:
        return start
    dialect = engine.dialect.name
    with engine.connect() as conn:
        if dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            conn.commit()
        elif dialect == "sqlite":
            conn.exec_driver_sql("PRAGMA busy_timeout=60000")
            # SQLAlchemy has now autobegun; alembic sees an outer transaction and leaves the
            # commit to us, so the whole upgrade holds the write lock.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            start = _upgrade_locked(conn, head)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                conn.commit()
            elif dialect == "sqlite":
                conn.exec_driver_sql("PRAGMA busy_timeout=10000")
    return start


def _upgrade_locked(conn: Connection, head: str) -> str | None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    start = MigrationContext.configure(conn).get_current_revision()
    if start == head:
        return start
    config = _alembic_config(conn)
    if start is None and inspect(conn).has_table("turns"):
        log.info("adopting a database created before migrations: stamping %s", BASELINE_REVISION)
        command.stamp(config, BASELINE_REVISION)
    command.upgrade(config, "head")
    log.info("database schema upgraded from %s to %s", start or "empty", head)
    return start


# --- statements that must be one atomic step on every dialect -------------------------------


def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when this call inserted (first writer wins)."""
    dialect = conn.dialect.name
    if dialect in ("postgresql", "sqlite"):
        stmt = _dialect_insert(dialect, table).values(**values).on_conflict_do_nothing()
        # RETURNING, not rowcount: psycopg reports -1 for these statements.
        return conn.execute(stmt.returning(*table.primary_key.columns)).first() is not None
    try:  # other dialects: the unique constraint still decides, inside a savepoint
        with conn.begin_nested():
            conn.execute(table.insert().values(**values))
    except IntegrityError:
        return False
    return True


def upsert(
    conn: Connection,
    table: Table,
    values: Mapping[str, Any],
    keys: Sequence[str],
    *,
    where: Any = None,
) -> bool:
    """INSERT … ON CONFLICT (keys) DO UPDATE [WHERE …]; True when a row was written."""
    dialect = conn.dialect.name
    changes = {k: v for k, v in values.items() if k not in keys}
    if dialect in ("postgresql", "sqlite"):
        stmt = _dialect_insert(dialect, table).values(**values)
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=changes, where=where)
        return conn.execute(stmt.returning(*table.primary_key.columns)).first() is not None
    match = [table.c[k] == values[k] for k in keys] + ([where] if where is not None else [])
    updated = conn.execute(update(table).where(*match).values(**changes)).rowcount
    return bool(updated) or insert_ignore(conn, table, values)


def _dialect_insert(dialect: str, table: Table) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


# --- bounded retries --------------------------------------------------------------------------


def is_transient(exc: BaseException) -> bool:
    """A dropped connection, a restarting server, a serialization failure or a busy SQLite."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    if isinstance(exc, OperationalError):
        message = str(orig).lower()
        if "database is locked" in message or "database is busy" in message:
            return True
        # Other OperationalErrors from a server (not SQLite's "no such table") are connection
        # trouble: refused, reset, closed.
        return not type(orig).__module__.startswith("sqlite3")
    return False


def retry_transient(fn: Callable[P, R]) -> Callable[P, R]:
    """Retry `fn` on transient database errors with bounded backoff, then DatabaseUnavailable."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(RETRY_ATTEMPTS),
                wait=wait_exponential(multiplier=0.1, max=2.0),
                retry=retry_if_exception(is_transient),
                before_sleep=before_sleep_log(log, logging.DEBUG),
                reraise=True,
            ):
                with attempt:
                    return fn(*args, **kwargs)
        except DBAPIError as exc:
            if not is_transient(exc):
                raise
            log.debug("database call %s failed after retries", fn.__name__, exc_info=exc)
            raise DatabaseUnavailable(
                f"the conversation database is unreachable ({type(exc.orig).__name__} after "
                f"{RETRY_ATTEMPTS} tries); check CAREERBOT_DATABASE_URL and that the server is up"
            ) from None
        raise AssertionError("unreachable")  # Retrying either returns or raises

    return wrapper


def dialect_insert(dialect: str, table: Table) -> Any:
    """INSERT with ON CONFLICT support for `dialect` ("postgresql" or "sqlite")."""
    return _dialect_insert(dialect, table)
