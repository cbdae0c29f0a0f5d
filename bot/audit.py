"""The admin audit log: who did which admin action, from where, when, and how it ended."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from bot.db import insert_ignore, retry_transient
from bot.schema import admin_actions

log = logging.getLogger(__name__)

Result = Literal["ok", "refused", "failed"]

_MAX_TEXT = 2000


@dataclass(frozen=True)
class AdminAction:
    """One admin action as recorded: `result` is ok, refused (not an admin) or failed."""

    actor: str
    platform: str
    action: str
    result: Result
    outcome: str = ""
    detail: str = ""
    at: datetime | None = None
    action_id: str = ""

    def line(self) -> str:
        """One line for `careerbot audit` and the log."""
        when = f"{self.at:%Y-%m-%d %H:%M:%S} UTC" if self.at else "-"
        detail = f" ({self.detail})" if self.detail else ""
        outcome = f": {self.outcome}" if self.outcome else ""
        return (
            f"{when}  {self.platform}:{self.actor}  {self.action}{detail}  {self.result}{outcome}"
        )

    def to_json(self) -> dict[str, str | None]:
        """The `careerbot audit --json` shape."""
        return {
            "at": self.at.isoformat() if self.at else None,
            "platform": self.platform,
            "actor": self.actor,
            "action": self.action,
            "detail": self.detail,
            "result": self.result,
            "outcome": self.outcome,
        }


def _one_line(text: str) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= _MAX_TEXT else flat[: _MAX_TEXT - 1] + "…"


class AuditLog:
    """Admin actions in the shared database, so every replica and the CLI write one log."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @retry_transient
    def record(self, action: AdminAction) -> bool:
        """Store an action (and log it at INFO); False if its `action_id` was recorded before.

        A platform may deliver one command twice (a retry, two replicas); with its request
        id as `action_id`, the first writer wins and the log holds it once.
        """
        at = action.at or datetime.now(UTC)
        row = {
            "action_id": (action.action_id or uuid.uuid4().hex)[:64],
            "at": at,
            "platform": action.platform[:32],
            "actor": action.actor[:255],
            "action": action.action[:64],
            "detail": _one_line(action.detail),
            "result": action.result,
            "outcome": _one_line(action.outcome),
        }
        with self.engine.begin() as conn:
            stored = insert_ignore(conn, admin_actions, row)
        if stored:
            log.info(
                "admin action %s by %s:%s: %s%s",
                row["action"],
                row["platform"],
                row["actor"],
                row["result"],
                f" ({row['outcome']})" if row["outcome"] else "",
            )
        return stored

    @retry_transient
    def since(self, start: datetime | None = None, limit: int = 1000) -> list[AdminAction]:
        """Actions at or after `start` (all when None), oldest first, at most `limit`."""
        query = select(admin_actions).order_by(admin_actions.c.at.desc()).limit(limit)
        if start is not None:
            query = query.where(admin_actions.c.at >= start)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            AdminAction(
                actor=r.actor,
                platform=r.platform,
                action=r.action,
                result=r.result,
                outcome=r.outcome,
                detail=r.detail,
                at=r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC),
                action_id=r.action_id,
            )
            for r in reversed(rows)
        ]

    @retry_transient
    def prune(self, older_than: datetime) -> int:
        """Delete actions older than the cut-off; returns how many went."""
        with self.engine.begin() as conn:
            gone = conn.execute(delete(admin_actions).where(admin_actions.c.at < older_than))
        return int(gone.rowcount or 0)
