"""A separate careerbot process for the multi-process index tests, driven over stdin/stdout.

`python -m tests.index_worker reload`: one reload per "go" line, one JSON result line each.
`python -m tests.index_worker read`: answers questions until a "stop" line, then prints a
JSON summary. Settings come from CAREERBOT_* variables, as for the real command.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from typing import Any

from bot.models import CareerbotError, Question, ReloadInProgress
from bot.settings import Settings
from bot.wiring import build_careerbot

QUESTION = "How should I find my personal fit for AI safety work?"


def _emit(value: dict[str, Any]) -> None:
    print(json.dumps(value), flush=True)


def reload_loop() -> None:
    """One reload per "go"; reports ok / refused (another reload holds it) / error."""
    bot = build_careerbot(Settings(_env_file=None))  # type: ignore[call-arg]
    _emit({"ready": True})
    for line in sys.stdin:
        if line.strip() != "go":
            break
        try:
            report = bot.reload_sync()
        except ReloadInProgress as exc:
            _emit({"refused": str(exc)})
        except Exception as exc:  # reported to the test, which fails on any
            _emit({"error": f"{type(exc).__name__}: {exc}"})
        else:
            _emit({"ok": True, "changed": report.changed, "collection": bot.index.active_name()})
    bot.close()


def read_loop() -> None:
    """Answer the same question until told to stop; count answers and failures."""
    bot = build_careerbot(Settings(_env_file=None))  # type: ignore[call-arg]
    stop = threading.Event()

    def watch_stdin() -> None:
        for line in sys.stdin:
            if line.strip() == "stop":
                break
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    answered, failures, collections = 0, [], set()

    async def run() -> None:
        nonlocal answered
        _emit({"ready": True})
        while True:
            # The question asked after "stop" starts after the test's last reload finished.
            last = stop.is_set()
            question = Question(text=QUESTION, asker="reader", conversation_key="reader")
            try:
                answer = await bot.answer(question)
            except CareerbotError as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
            else:
                if answer.covered and answer.citations:
                    answered += 1
                    collections.add(bot.retriever.snapshot.collection)
                else:
                    failures.append(f"uncovered answer: {answer.text[:80]}")
            bot.store.forget("reader")  # keep each question a first question
            if last:
                break

    asyncio.run(run())
    _emit({"answered": answered, "failures": failures, "collections": sorted(collections)})
    bot.close()


if __name__ == "__main__":
    {"reload": reload_loop, "read": read_loop}[sys.argv[1]]()
