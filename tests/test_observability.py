"""/healthz, /readyz and /metrics on a real server; metrics and request ids from real answers."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from unittest.mock import patch

import aiohttp
import pytest
from sqlalchemy.exc import OperationalError

from bot.logcontext import log_handler
from bot.metrics import REGISTRY
from bot.models import EmptyQuestion, Feedback, IngestError, Question
from bot.ops_http import OpsPortError, start_ops_http
from bot.service import CareerBot
from bot.settings import Settings
from bot.wiring import PlatformError, serve
from tests.conftest import MakeCareerBot
from tests.slack_fake import BOT_TOKEN, SIGNING_SECRET, FakeSlack

ON_TOPIC = "How should I find my personal fit for AI safety work?"
OFF_TOPIC = "What is a good recipe for sourdough bread with rye flour?"


def _q(text: str, platform: Any = "slack", key: str = "k1") -> Question:
    return Question(text=text, asker="U1", conversation_key=key, platform=platform)


def sample(name: str, **labels: str) -> float:
    """A metric's current value (0 before it was ever touched)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


Get = Callable[[str], Awaitable[tuple[int, str, str]]]


@contextlib.asynccontextmanager
async def ops_server(bot: CareerBot) -> AsyncIterator[Get]:
    runner, addresses = await start_ops_http(bot.readiness, REGISTRY, "127.0.0.1", 0)
    port = addresses[0][1]
    async with aiohttp.ClientSession() as session:

        async def get(path: str) -> tuple[int, str, str]:
            async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                return response.status, await response.text(), response.content_type

        try:
            yield get
        finally:
            await runner.cleanup()


async def test_healthz_readyz_and_metrics_on_a_serving_bot(make_careerbot: MakeCareerBot) -> None:
    bot = make_careerbot()
    await bot.answer(_q(ON_TOPIC, platform="discord"))

    async with ops_server(bot) as get:
        assert await get("/healthz") == (200, "ok\n", "text/plain")
        status, body, _ = await get("/readyz")
        assert status == 200 and body.startswith("ready: 27 passages in careerbot-")
        status, body, content_type = await get("/metrics")

    assert status == 200 and content_type == "text/plain"
    assert 'careerbot_answers_total{covered="true",mode="extractive",platform="discord"}' in body
    assert 'careerbot_answer_seconds_count{platform="discord"}' in body
    assert "careerbot_index_passages 27.0" in body


async def test_readyz_is_503_with_the_reason_without_an_index(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(build=False)

    async with ops_server(bot) as get:
        assert (await get("/healthz"))[0] == 200  # alive, just not ready
        status, body, _ = await get("/readyz")

    assert status == 503 and "no index loaded" in body and "careerbot ingest" in body


async def test_readyz_is_503_when_the_database_is_unreachable(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot()
    refused = OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    async with ops_server(bot) as get:
        with patch.object(type(bot.store.engine), "connect", side_effect=refused):  # fault
            status, body, _ = await get("/readyz")
        assert (await get("/readyz"))[0] == 200  # and ready again once it answers

    assert status == 503 and body.strip() == "database unreachable (OperationalError)"


async def test_answers_declines_feedback_and_latency_are_counted(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot()
    covered = dict(platform="slack", mode="extractive", covered="true")
    declined = dict(platform="slack", mode="extractive", covered="false")
    before = {
        "covered": sample("careerbot_answers_total", **covered),
        "declined": sample("careerbot_answers_total", **declined),
        "not_covered": sample("careerbot_declines_total", platform="slack", reason="not_covered"),
        "empty": sample("careerbot_declines_total", platform="slack", reason="empty"),
        "latency": sample("careerbot_answer_seconds_count", platform="slack"),
        "helpful": sample("careerbot_feedback_total", platform="slack", helpful="true"),
    }

    answer = await bot.answer(_q(ON_TOPIC))
    await bot.answer(_q(OFF_TOPIC, key="k2"))
    with pytest.raises(EmptyQuestion):
        await bot.answer(_q("   ", key="k3"))
    await bot.record_feedback(Feedback(answer.answer_id, "U1", "slack", helpful=True))

    assert sample("careerbot_answers_total", **covered) == before["covered"] + 1
    assert sample("careerbot_answers_total", **declined) == before["declined"] + 1
    assert (
        sample("careerbot_declines_total", platform="slack", reason="not_covered")
        == before["not_covered"] + 1
    )
    assert sample("careerbot_declines_total", platform="slack", reason="empty") == (
        before["empty"] + 1
    )
    assert sample("careerbot_answer_seconds_count", platform="slack") == before["latency"] + 2
    assert (
        sample("careerbot_feedback_total", platform="slack", helpful="true")
        == before["helpful"] + 1
    )


def test_reloads_are_counted_by_result(make_careerbot: MakeCareerBot) -> None:
    bot = make_careerbot()
    unchanged = sample("careerbot_reloads_total", result="unchanged")
    failed = sample("careerbot_reloads_total", result="failed")
    errors = sample("careerbot_errors_total", operation="reload", error="IngestError")

    bot.reload_sync()
    (bot.knowledge_dir / "broken.md").write_text("no front matter\n")
    with pytest.raises(IngestError):
        bot.reload_sync()

    assert sample("careerbot_reloads_total", result="unchanged") == unchanged + 1
    assert sample("careerbot_reloads_total", result="failed") == failed + 1
    assert sample("careerbot_errors_total", operation="reload", error="IngestError") == errors + 1


async def test_every_log_record_of_an_answer_carries_its_request_id(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot()
    stream = io.StringIO()
    handler = log_handler(stream, "json")
    logger = logging.getLogger("bot")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        await bot.answer(_q(ON_TOPIC))
        await bot.answer(_q(ON_TOPIC, key="k2"))
        logging.getLogger("bot.test").info("outside any answer")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)

    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    answered = [r for r in records if r["message"].startswith("answered on slack")]
    assert len(answered) == 2
    ids = [r["request_id"] for r in answered]
    assert all(ids) and ids[0] != ids[1]
    assert {"time", "level", "logger", "message", "request_id"} <= set(answered[0])
    assert records[-1]["request_id"] is None  # the id does not leak past the answer


async def test_the_ops_port_in_use_is_one_line(make_careerbot: MakeCareerBot) -> None:
    bot = make_careerbot(build=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OpsPortError) as caught:
            await start_ops_http(bot.readiness, REGISTRY, "127.0.0.1", port)

    assert f"127.0.0.1:{port}" in str(caught.value) and "CAREERBOT_HTTP__PORT" in str(caught.value)


async def test_serve_runs_the_ops_endpoints_next_to_slack(
    make_careerbot: MakeCareerBot, tmp_path: Any
) -> None:
    fake = await FakeSlack().start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        ops_port = s.getsockname()[1]
    bot = make_careerbot()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "unused",
        slack={
            "bot_token": BOT_TOKEN,
            "signing_secret": SIGNING_SECRET,
            "api_url": fake.api_url,
        },
        http={"host": "127.0.0.1", "port": ops_port},
    )
    task = asyncio.create_task(serve(bot, settings, "slack", http=True, host="127.0.0.1", port=0))
    try:
        async with aiohttp.ClientSession() as session:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while True:  # poll with a deadline until the server is listening
                assert not task.done(), task.exception()
                try:
                    async with session.get(f"http://127.0.0.1:{ops_port}/readyz") as response:
                        status = response.status
                        break
                except aiohttp.ClientConnectionError:
                    assert loop.time() < deadline, "ops server never started"
                    await asyncio.sleep(0.05)
        assert status == 200
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await fake.stop()


async def test_a_rejected_slack_token_is_one_line_before_serving(
    make_careerbot: MakeCareerBot, tmp_path: Any
) -> None:
    fake = await FakeSlack().start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "unused",
        slack={"bot_token": "xoxb-revoked", "app_token": "xapp-1", "api_url": fake.api_url},
        http={"port": 0},
    )
    try:
        with pytest.raises(PlatformError) as caught:
            await serve(make_careerbot(), settings, "slack", http=False, host="", port=0)
    finally:
        await fake.stop()

    assert "Slack rejected the bot token (invalid_auth)" in str(caught.value)
    assert "xoxb-revoked" not in str(caught.value)


def test_log_format_json_makes_the_cli_log_one_object_per_line(tmp_path: Any) -> None:
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import FIXTURE_KNOWLEDGE

    shutil.copytree(FIXTURE_KNOWLEDGE, tmp_path / "knowledge")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERBOT_")}
    env.update(
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
        CAREERBOT_KNOWLEDGE_DIR=str(tmp_path / "knowledge"),
        CAREERBOT_DATA_DIR=str(tmp_path / "data"),
        CAREERBOT_LOG_FORMAT="json",
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "-v", "ask", "--json", ON_TOPIC],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    logged = [
        line for line in result.stderr.splitlines() if line.strip() and "passage/s" not in line
    ]
    records = [json.loads(line) for line in logged]  # every log line is one JSON object
    (answered,) = [r for r in records if r["message"].startswith("answered on cli")]
    assert answered["request_id"] and answered["level"] == "INFO"
