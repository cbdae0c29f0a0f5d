"""Throttled edits on a hand-moved clock: no wall-clock waits, no timing assertions."""

from __future__ import annotations

import asyncio
import itertools

from bot.streaming import ThrottledEdits


class Clock:
    """Time moves only when the editor sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def test_edits_are_at_least_an_interval_apart_and_show_the_newest_text() -> None:
    clock = Clock()
    shown: list[tuple[float, str]] = []

    async def edit(text: str) -> None:
        shown.append((clock.now, text))

    edits = ThrottledEdits(edit, interval=1.0, clock=clock, sleep=clock.sleep)
    for text in ("A.", "A. B.", "A. B. C."):
        edits.push(text)
    await edits._task  # type: ignore[misc]
    # Pushed together within the first second: one edit, after the interval, newest text.
    assert shown == [(1.0, "A. B. C.")]
    clock.now += 0.3
    edits.push("A. B. C. D.")
    await edits._task  # type: ignore[misc]
    assert shown[-1] == (2.0, "A. B. C. D.")
    times = [t for t, _ in shown]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(times))
    await edits.close()


async def test_close_drops_a_waiting_edit_so_the_final_answer_is_last() -> None:
    shown: list[str] = []
    started = asyncio.Event()
    never = asyncio.Event()

    async def edit(text: str) -> None:
        shown.append(text)

    async def sleep(seconds: float) -> None:
        started.set()
        await never.wait()  # the next slot never comes before close()

    edits = ThrottledEdits(edit, interval=1.0, sleep=sleep)
    edits.push("partial")
    await started.wait()
    await edits.close()
    edits.push("too late")
    assert shown == [] and edits.edits == 0


async def test_a_failing_edit_does_not_stop_the_answer() -> None:
    clock = Clock()
    calls = 0

    async def edit(text: str) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("message deleted")

    edits = ThrottledEdits(edit, interval=0.0, clock=clock, sleep=clock.sleep)
    await edits("one")
    await edits._task  # type: ignore[misc]
    await edits.close()
    assert calls == 1 and edits.edits == 0
