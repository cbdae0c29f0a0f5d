"""Which index generation serves: a versioned pointer row in the shared SQL database.

Why SQL and not a Chroma record: Chroma has no transactions and no conditional update, so
two writers cannot compare-and-set a pointer there, and `get_or_create_collection` on a
pointer collection races on first use. The database already is the one place every replica
and CLI shares (leases, conversations); a row with a version gives an atomic
compare-and-set on SQLite and PostgreSQL alike, and readers check it with one primary-key
SELECT per question.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Engine

from bot.db import insert_ignore, retry_transient
from bot.schema import index_pointer, index_retired


class PointerMoved(Exception):
    """The pointer changed since it was read: another reload finished first."""


@dataclass(frozen=True)
class PointerState:
    """The pointer as read: version 0 means no index was ever built."""

    active: str | None = None
    previous: str | None = None
    version: int = 0
    moved_at: datetime | None = None


class IndexPointer:
    """Read and compare-and-set the serving generation of an index store.

    `key` names one Chroma store and collection prefix (see KnowledgeIndex.store_key), so
    replicas that share a database but each keep their own embedded Chroma never follow
    each other's pointer.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def private(cls) -> IndexPointer:
        """A pointer in an in-memory database, visible to this process only."""
        from sqlalchemy import create_engine
        from sqlalchemy.pool import StaticPool

        engine = create_engine(
            "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
        )
        index_pointer.metadata.create_all(engine, tables=[index_pointer, index_retired])
        return cls(engine)

    @retry_transient
    def read(self, key: str) -> PointerState:
        """The current pointer (one primary-key lookup)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    index_pointer.c.active,
                    index_pointer.c.previous,
                    index_pointer.c.version,
                    index_pointer.c.moved_at,
                ).where(index_pointer.c.store_key == key)
            ).first()
        if row is None:
            return PointerState()
        return PointerState(row.active, row.previous, int(row.version), _utc(row.moved_at))

    def move(
        self, key: str, expected: PointerState, new_active: str, now: datetime
    ) -> PointerState:
        """Point at `new_active` if the pointer is still `expected`; else raise PointerMoved.

        The generation that stops being "previous" is recorded as retired in the same
        transaction, so the grace period before dropping it starts exactly at the move.
        """
        moved = PointerState(new_active, expected.active, expected.version + 1, now)
        with self.engine.begin() as conn:
            if expected.version == 0:
                first = {
                    "store_key": key,
                    "active": new_active,
                    "previous": None,
                    "version": 1,
                    "moved_at": now,
                }
                if not insert_ignore(conn, index_pointer, first):
                    raise PointerMoved(key)
            else:
                changed = conn.execute(
                    update(index_pointer)
                    .where(
                        index_pointer.c.store_key == key,
                        index_pointer.c.version == expected.version,
                    )
                    .values(
                        active=new_active,
                        previous=expected.active,
                        version=expected.version + 1,
                        moved_at=now,
                    )
                ).rowcount
                if changed != 1:
                    raise PointerMoved(key)
            if expected.previous and expected.previous not in (new_active, expected.active):
                self._retire(conn, key, [expected.previous], now)
            conn.execute(delete(index_retired).where(index_retired.c.name == new_active))
        return moved

    def retired(self, key: str) -> dict[str, datetime]:
        """Retired generations of this store and when they were retired."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(index_retired.c.name, index_retired.c.retired_at).where(
                    index_retired.c.store_key == key
                )
            ).all()
        return {r.name: _utc(r.retired_at) for r in rows}

    def retire(self, key: str, names: Iterable[str], now: datetime) -> None:
        """Record generations found unreferenced (e.g. left by a crashed build) as retired now."""
        with self.engine.begin() as conn:
            self._retire(conn, key, list(names), now)

    def forget(self, name: str) -> None:
        """Forget a retired generation once it has been dropped."""
        with self.engine.begin() as conn:
            conn.execute(delete(index_retired).where(index_retired.c.name == name))

    def _retire(self, conn: Connection, key: str, names: list[str], now: datetime) -> None:
        for name in names:  # another process may have recorded it first: keep its time
            insert_ignore(conn, index_retired, {"name": name, "store_key": key, "retired_at": now})


def _utc(value: datetime) -> datetime:
    # SQLite returns naive datetimes even for timezone=True columns.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
