"""Provider calls under one deadline per answer: bounded retries, Retry-After, circuit breaker."""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

log = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], float]


class Failure(enum.StrEnum):
    """Why the model gave no usable answer; each has its own notice for the user."""

    UNREACHABLE = "unreachable"
    TIMED_OUT = "timed_out"
    RATE_LIMITED = "rate_limited"
    ERROR = "error"
    CIRCUIT_OPEN = "circuit_open"
    UNGROUNDED = "ungrounded"


# Failures that say the provider is unwell (they open the circuit); an ungrounded reply is a
# bad answer from a working provider.
OUTAGES = frozenset({Failure.UNREACHABLE, Failure.TIMED_OUT, Failure.RATE_LIMITED, Failure.ERROR})


class ModelFailed(Exception):
    """The model gave no usable answer; `reason` says why, str() is safe to show."""

    def __init__(self, reason: Failure, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)


class Deadline:
    """One time budget shared by every call made for one answer."""

    def __init__(self, seconds: float, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.at = clock() + seconds

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.at - self.clock())


class CircuitBreaker:
    """Skips a failing provider for `cooldown` seconds after `threshold` failures in a row.

    After the cool-down one trial call is let through (half-open): success closes the
    circuit, failure opens it again. Kept per process; replicas each learn on their own,
    which only costs each of them `threshold` slow answers.
    """

    def __init__(self, threshold: int = 3, cooldown: float = 60.0, clock: Clock = time.monotonic):
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._trial = False

    @property
    def is_open(self) -> bool:
        """Whether calls are being skipped right now."""
        if self.opened_at is None:
            return False
        return self.clock() - self.opened_at < self.cooldown or self._trial

    def allow(self) -> bool:
        """Whether a call may go ahead now (takes the half-open trial slot if it is free)."""
        if self.opened_at is None:
            return True
        if self.clock() - self.opened_at < self.cooldown or self._trial:
            return False
        self._trial = True
        return True

    def record_success(self) -> None:
        """A call worked: close the circuit."""
        self.failures = 0
        self.opened_at = None
        self._trial = False

    def record_failure(self) -> None:
        """A call failed with an outage: count it, open the circuit at the threshold."""
        self.failures += 1
        if self._trial or self.failures >= self.threshold:
            if self.opened_at is None or self._trial:
                log.warning("chat model failed %d times in a row; skipping it", self.failures)
            self.opened_at = self.clock()
        self._trial = False


def status_code(exc: BaseException) -> int | None:
    """The HTTP status of a provider error (openai, anthropic and httpx all expose one)."""
    code = getattr(exc, "status_code", None)
    if code is None:
        response = getattr(exc, "response", None)
        code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def retry_after(exc: BaseException) -> float | None:
    """Seconds the provider asked us to wait (Retry-After / retry-after-ms), if it said."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is None:
        return None
    try:
        if headers.get("retry-after-ms") is not None:
            return float(headers["retry-after-ms"]) / 1000
        if headers.get("retry-after") is not None:
            return float(headers["retry-after"])
    except (TypeError, ValueError):  # an HTTP date: treat as "too long to wait"
        return float("inf")
    return None


def classify(exc: BaseException) -> Failure:
    """What kind of failure a provider exception is, by duck typing (no provider imports)."""
    if isinstance(exc, ModelFailed):
        return exc.reason
    names = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, TimeoutError) or any("Timeout" in n for n in names):
        return Failure.TIMED_OUT
    code = status_code(exc)
    if code == 429 or "RateLimitError" in names:
        return Failure.RATE_LIMITED
    if code is not None:
        return Failure.ERROR
    if isinstance(exc, OSError) or any("Connection" in n for n in names):
        return Failure.UNREACHABLE
    return Failure.ERROR


def describe(exc: BaseException) -> str:
    """A short, key-free description for logs: the type and HTTP status only."""
    code = status_code(exc)
    return f"{type(exc).__name__}" + (f" (HTTP {code})" if code else "")


def _retryable(exc: BaseException) -> bool:
    kind = classify(exc)
    code = status_code(exc)
    if kind == Failure.ERROR:
        return code is not None and code >= 500
    return kind in (Failure.UNREACHABLE, Failure.RATE_LIMITED)


async def call_within(
    call: Callable[[], Awaitable[T]],
    deadline: Deadline,
    *,
    max_retries: int,
    backoff: float = 0.5,
) -> T:
    """Run `call` until it succeeds, within the deadline, retrying transient errors.

    A 429's Retry-After is honoured only when the wait fits in what is left of the
    deadline; otherwise we give up at once instead of waiting to fail. Raises ModelFailed.
    """

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after(exc) if exc is not None else None
        if asked is not None:
            return asked
        return backoff * 2 ** (state.attempt_number - 1)

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number > max_retries:
            return True
        # Leave time for the retried call itself, not only for the wait before it.
        return state.upcoming_sleep >= deadline.remaining() * 0.8

    try:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(_retryable), wait=wait, stop=stop, reraise=True
        ):
            with attempt:
                remaining = deadline.remaining()
                if remaining <= 0:
                    raise TimeoutError("answer deadline passed")
                async with asyncio.timeout(remaining):
                    return await call()
    except ModelFailed:
        raise
    except Exception as exc:
        reason = classify(exc)
        log.warning("chat model call failed: %s", describe(exc))
        raise ModelFailed(reason, describe(exc)) from exc
    raise AssertionError("unreachable: tenacity either returns or raises")
