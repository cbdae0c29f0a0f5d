"""A separate process talking to the store: `python -m tests.db_worker`, JSON lines on stdin.

It prints "ready" once imported, then answers each command with one JSON line, so a test
can line several processes up and release them at the same moment (no sleeps).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from bot.conversations import ConversationStore


def main() -> None:
    """Serve commands until stdin closes."""
    store: ConversationStore | None = None
    print("ready", flush=True)
    for line in sys.stdin:
        command: dict[str, Any] = json.loads(line)
        op = command["op"]
        try:
            if op == "open":
                store = ConversationStore(command["url"])
                result: Any = "opened"
            elif op == "set_meta":
                assert store is not None
                for n in range(command["times"]):
                    store.set_meta(command["key"], f"{command['value']}-{n}")
                result = store.get_meta(command["key"])
            elif op == "try_lease":
                assert store is not None
                info = store.try_lease(command["name"], command["holder"], command["ttl"])
                result = {"acquired": info.acquired, "holder": info.holder}
            elif op == "admit":
                assert store is not None
                result = _admit(store, command)
            elif op == "release":
                assert store is not None
                result = store.release_lease(command["name"], command["holder"])
            else:
                raise ValueError(op)
            print(json.dumps({"ok": result}), flush=True)
        except Exception as exc:
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)


def _admit(store: ConversationStore, command: dict[str, Any]) -> int:
    """Ask `times` questions as one user at a fixed clock; how many the limits let through."""
    from bot.fair_use import FairUse, LimitsConfig, SQLCounterStorage
    from bot.models import RateLimited

    fair_use = FairUse(
        SQLCounterStorage(store.engine, clock=lambda: float(command["now"])),
        LimitsConfig(per_user_per_minute=command["per_minute"], per_channel_per_minute=0),
    )
    admitted = 0
    for _ in range(command["times"]):
        try:
            fair_use.admit("slack", command["user"], None)
        except RateLimited:
            continue
        admitted += 1
    return admitted


if __name__ == "__main__":
    main()
