"""Fair use: per-user and per-channel rate limits, counted in the shared database.

The strategy and the limit items come from the `limits` library (fixed windows: a window
starts at the first question and lasts its period); the counters live in the
`rate_counters` table through `SQLCounterStorage`, a `limits` storage whose increment is one
atomic upsert. Every replica (and the CLI) pointed at one database enforces one limit, on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import case, delete, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from bot.db import dialect_insert, retry_transient
from bot.models import RateLimited
from bot.schema import rate_counters

log = logging.getLogger(__name__)

Clock = Callable[[], float]
"""Seconds since the epoch; tests pass their own instead of sleeping."""

_KEY_LIMIT = 255


class SQLCounterStorage(Storage):
    """A `limits` storage over the `rate_counters` table (fixed-window counters).

    `incr` is INSERT … ON CONFLICT DO UPDATE that restarts an expired window or adds to the
    current one and returns the new count, in one statement: two replicas incrementing the
    same key at once both count. Transient database errors are retried with bounded backoff,
    then raise DatabaseUnavailable.
    """

    STORAGE_SCHEME = None  # built directly from an engine, never from a storage URI

    def __init__(self, engine: Engine, clock: Clock = time.time) -> None:
        super().__init__()
        self.engine = engine
        self.clock = clock

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """What the database driver raises (limits re-raises these as they are)."""
        return DBAPIError

    @retry_transient
    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add `amount` to `key`'s window (a new one of `expiry` seconds if it has ended)."""
        fitted = _fit(key)
        with self.engine.begin() as conn:
            return self._add(conn, [(fitted, expiry)], amount)[fitted]

    def _add(
        self, conn: Connection, windows: list[tuple[str, float]], amount: int
    ) -> dict[str, int]:
        """One INSERT … ON CONFLICT over `(key, expiry)` windows: restart each ended window
        or add `amount` to it; returns each key's new count."""
        now = self.clock()
        c = rate_counters.c
        ended = c.expires_at <= now
        stmt = dialect_insert(conn.dialect.name, rate_counters).values(
            [{"key": key, "hits": amount, "expires_at": now + expiry} for key, expiry in windows]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "hits": case((ended, stmt.excluded.hits), else_=c.hits + stmt.excluded.hits),
                "expires_at": case((ended, stmt.excluded.expires_at), else_=c.expires_at),
            },
        )
        return {key: int(hits) for key, hits in conn.execute(stmt.returning(c.key, c.hits))}

    @retry_transient
    def admit_all(self, windows: Sequence[tuple[str, float, int]]) -> tuple[bool, list[int]]:
        """Count one hit in each `(key, expiry seconds, limit)` window, or in none of them.

        One transaction: read the open windows' counts; when any is already at its limit,
        return `(False, those counts)` and count nothing, so a refused question uses up
        nothing. Otherwise increment every window with the same upsert as `incr` and return
        `(True, the new counts)`. Two replicas passing the read at once both increment, so
        the caller still compares the new counts with the limits. Two statements in all,
        where `limits`' own test-then-hit takes a transaction per window and step.
        """
        now = self.clock()
        c = rate_counters.c
        keys = [_fit(key) for key, _, _ in windows]
        with self.engine.begin() as conn:
            rows = conn.execute(select(c.key, c.hits).where(c.key.in_(keys), c.expires_at > now))
            open_counts = {key: int(hits) for key, hits in rows}
            counts = [open_counts.get(key, 0) for key in keys]
            if any(count >= limit for count, (_, _, limit) in zip(counts, windows, strict=True)):
                return False, counts
            fresh = [(key, expiry) for key, (_, expiry, _) in zip(keys, windows, strict=True)]
            added = self._add(conn, fresh, 1)
        return True, [added[key] for key in keys]

    @retry_transient
    def get(self, key: str) -> int:
        """The count in `key`'s current window (0 when none is open)."""
        with self.engine.connect() as conn:
            hits = conn.execute(
                select(rate_counters.c.hits).where(
                    rate_counters.c.key == _fit(key), rate_counters.c.expires_at > self.clock()
                )
            ).scalar_one_or_none()
        return int(hits or 0)

    @retry_transient
    def get_expiry(self, key: str) -> float:
        """When `key`'s current window ends (epoch seconds; now when none is open)."""
        now = self.clock()
        with self.engine.connect() as conn:
            ends = conn.execute(
                select(rate_counters.c.expires_at).where(rate_counters.c.key == _fit(key))
            ).scalar_one_or_none()
        return float(ends) if ends is not None and ends > now else now

    @retry_transient
    def check(self) -> bool:
        """Whether the database answers."""
        with self.engine.connect() as conn:
            conn.execute(select(func.count()).select_from(rate_counters))
        return True

    @retry_transient
    def reset(self) -> int | None:
        """Forget every counter; returns how many there were."""
        with self.engine.begin() as conn:
            return int(conn.execute(delete(rate_counters)).rowcount or 0)

    @retry_transient
    def clear(self, key: str) -> None:
        """Forget one counter."""
        with self.engine.begin() as conn:
            conn.execute(delete(rate_counters).where(rate_counters.c.key == _fit(key)))

    @retry_transient
    def prune(self) -> int:
        """Delete counters whose window has ended; returns how many."""
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(rate_counters).where(rate_counters.c.expires_at <= self.clock())
            )
        return int(result.rowcount or 0)


def _fit(key: str) -> str:
    # Keys hold user and channel ids; a longer one (never seen in practice) keeps its tail.
    return key if len(key) <= _KEY_LIMIT else key[: _KEY_LIMIT - 40] + str(hash(key))[-40:]


@dataclass(frozen=True)
class LimitsConfig:
    """Plain values for fair use; wiring fills them from Settings. 0 turns a limit off."""

    enabled: bool = True
    per_user_per_minute: int = 6
    per_user_per_hour: int = 60
    per_channel_per_minute: int = 30
    platforms: frozenset[str] = frozenset({"slack", "discord"})
    """Where limits apply: the chat platforms. The terminal chat, `ask` and `eval` are run by
    the operator on the bot's own machine, so they are not limited by default."""


@dataclass(frozen=True)
class _Limit:
    item: RateLimitItem
    scope: str  # "user" or "channel"


class FairUse:
    """Checks (and counts) a question against the configured limits before it is answered."""

    def __init__(self, storage: SQLCounterStorage, config: LimitsConfig) -> None:
        self.storage = storage
        self.config = config
        self.limiter = FixedWindowRateLimiter(storage)
        user: list[RateLimitItem] = []
        if config.per_user_per_minute:
            user.append(RateLimitItemPerMinute(config.per_user_per_minute, namespace="user-min"))
        if config.per_user_per_hour:
            user.append(RateLimitItemPerHour(config.per_user_per_hour, namespace="user-hour"))
        self._user = tuple(_Limit(item, "user") for item in user)
        per_channel = config.per_channel_per_minute
        self._channel = (
            (_Limit(RateLimitItemPerMinute(per_channel, namespace="chan-min"), "channel"),)
            if per_channel
            else ()
        )

    def applies(self, platform: str) -> bool:
        """Whether questions from `platform` are limited at all."""
        return self.config.enabled and platform in self.config.platforms

    def admit(self, platform: str, user: str, channel: str | None) -> None:
        """Count one question, or raise RateLimited when a limit is used up (blocking).

        All limits are tested before any is counted, so a refused question uses up nothing.
        RateLimited.notify is True for the first refusal in a window only (shared across
        replicas), so the polite notice is sent once, not after every message.
        """
        if not self.applies(platform):
            return
        checks = [(limit, (platform, user)) for limit in self._user]
        if channel:
            checks += [(limit, (platform, channel)) for limit in self._channel]
        if not checks:
            return
        windows = [
            (limit.item.key_for(*ids), limit.item.get_expiry(), limit.item.amount)
            for limit, ids in checks
        ]
        admitted, counts = self.storage.admit_all(windows)
        # Refused before counting: the windows already full. Counted: the windows another
        # replica filled between the read and the increment.
        blocked = [
            (limit, ids)
            for (limit, ids), count in zip(checks, counts, strict=True)
            if (count > limit.item.amount if admitted else count >= limit.item.amount)
        ]
        if blocked:
            raise self._refusal(blocked)

    def _refusal(self, blocked: list[tuple[_Limit, tuple[str, str]]]) -> RateLimited:
        now = self.storage.clock()
        waits = [
            (self.limiter.get_window_stats(limit.item, *ids).reset_time - now, limit, ids)
            for limit, ids in blocked
        ]
        wait, limit, ids = max(waits, key=lambda w: w[0])
        retry_after = max(1, math.ceil(wait))
        # A counter of refusals in this window: only the first one is told.
        notices = self.storage.incr("notice/" + limit.item.key_for(*ids), retry_after)
        log.info(
            "rate limited %s %s on %s (%s); retry in %d s",
            limit.scope,
            ids[1],
            ids[0],
            limit.item,
            retry_after,
        )
        return RateLimited(retry_after, scope=limit.scope, notify=notices == 1)

    def prune(self) -> int:
        """Delete ended windows (the retention job calls this)."""
        return self.storage.prune()
