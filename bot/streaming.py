"""Throttled message edits for streamed answers; the adapters supply the edit call."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class ThrottledEdits:
    """Shows the latest partial text with at most one edit per `interval` seconds.

    `push` never blocks the answer: it records the text and, when an edit is due, starts
    it; a text pushed too soon is shown by a delayed edit (newer text replaces older).
    `close` stops pending edits and waits for one in flight, so the adapter's final edit
    (the checked, cited answer) is always the last one. Edit failures are logged, not
    raised: streaming is a courtesy, the final answer is what matters.
    """

    def __init__(
        self,
        edit: Callable[[str], Awaitable[None]],
        interval: float = 1.0,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        at_once: bool = False,
    ) -> None:
        self._edit = edit
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        # A placeholder was just posted (count it as an edit) unless the first text may
        # appear at once (no placeholder, e.g. Discord's typing indicator instead).
        self._last = clock() - (interval if at_once else 0.0)
        self._pending: str | None = None
        self._shown: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._editing = False
        self.edits = 0

    def push(self, text: str) -> None:
        """Offer newer partial text; it is shown now or at the next allowed moment."""
        if self._closed or text == self._shown:
            return
        self._pending = text
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def __call__(self, text: str) -> None:
        """So an instance can be passed as the core's `on_partial` callback."""
        self.push(text)

    async def _run(self) -> None:
        while self._pending is not None and not self._closed:
            wait = self._last + self.interval - self._clock()
            if wait > 0:
                await self._sleep(wait)
                continue
            text, self._pending = self._pending, None
            self._last = self._clock()
            self._editing = True
            try:
                await self._edit(text)
            except Exception as exc:  # a failed edit only loses one frame of the stream
                log.warning("streaming edit failed: %s", type(exc).__name__)
            else:
                self._shown = text
                self.edits += 1
            finally:
                self._editing = False

    async def close(self) -> None:
        """Stop streaming; returns once no edit is pending or in flight."""
        self._closed = True
        self._pending = None
        task = self._task
        if task is None or task.done():
            return
        if not self._editing:  # only waiting for the next slot: nothing worth finishing
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
