"""Deadline, bounded retries and the circuit breaker, on a controllable clock."""

from __future__ import annotations

import httpx
import pytest

from bot.resilience import (
    CircuitBreaker,
    Deadline,
    Failure,
    ModelFailed,
    call_within,
    classify,
    retry_after,
)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class StatusError(Exception):
    """Shaped like openai/anthropic API errors: a status code and the HTTP response."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status_code = status
        self.response = httpx.Response(status, headers=headers or {})


def test_breaker_opens_after_threshold_and_half_opens_after_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, cooldown=60, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.allow() and not breaker.is_open
    breaker.record_failure()
    assert breaker.is_open and not breaker.allow()
    clock.now += 59
    assert not breaker.allow()
    clock.now += 2
    assert breaker.allow()  # one trial call after the cool-down...
    assert not breaker.allow()  # ...and only one
    breaker.record_failure()  # the trial failed: open again for a full cool-down
    assert not breaker.allow()
    clock.now += 61
    assert breaker.allow()
    breaker.record_success()
    assert breaker.allow() and breaker.allow() and not breaker.is_open


def test_success_resets_the_count() -> None:
    breaker = CircuitBreaker(threshold=2, cooldown=60, clock=Clock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.allow()


def test_deadline_counts_down_and_never_goes_negative() -> None:
    clock = Clock()
    deadline = Deadline(10, clock)
    clock.now += 4
    assert deadline.remaining() == pytest.approx(6)
    clock.now += 100
    assert deadline.remaining() == 0


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (TimeoutError(), Failure.TIMED_OUT),
        (ConnectionRefusedError(), Failure.UNREACHABLE),
        (StatusError(429), Failure.RATE_LIMITED),
        (StatusError(503), Failure.ERROR),
        (StatusError(401), Failure.ERROR),
        (ValueError("odd reply"), Failure.ERROR),
    ],
)
def test_classify(exc: BaseException, reason: Failure) -> None:
    assert classify(exc) == reason


def test_retry_after_headers() -> None:
    assert retry_after(StatusError(429, {"Retry-After": "7"})) == 7
    assert retry_after(StatusError(429, {"retry-after-ms": "250"})) == 0.25
    assert retry_after(StatusError(429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == (
        float("inf")
    )
    assert retry_after(StatusError(429)) is None


async def test_retries_are_bounded() -> None:
    calls = 0

    async def call() -> str:
        nonlocal calls
        calls += 1
        raise StatusError(503, {"Retry-After": "0"})

    with pytest.raises(ModelFailed) as failed:
        await call_within(call, Deadline(30), max_retries=2)
    assert failed.value.reason == Failure.ERROR
    assert calls == 3


async def test_client_errors_are_not_retried() -> None:
    calls = 0

    async def call() -> str:
        nonlocal calls
        calls += 1
        raise StatusError(401)

    with pytest.raises(ModelFailed):
        await call_within(call, Deadline(30), max_retries=5)
    assert calls == 1


async def test_no_call_once_the_deadline_has_passed() -> None:
    clock = Clock()
    deadline = Deadline(1, clock)
    clock.now += 2
    calls = 0

    async def call() -> str:
        nonlocal calls
        calls += 1
        return "never"

    with pytest.raises(ModelFailed) as failed:
        await call_within(call, deadline, max_retries=3)
    assert failed.value.reason == Failure.TIMED_OUT and calls == 0
