"""LLM mode against a local OpenAI-compatible server: the real client, wiring and fallbacks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from bot.answering import LLM_FALLBACK_NOTICE
from bot.llm import LLMConfigError, make_chat_model
from bot.models import Question
from tests.conftest import MakeCareerBot


@dataclass
class FakeOpenAI:
    """Speaks enough of /v1/chat/completions; replies are queued, requests recorded."""

    replies: list[str] = field(default_factory=list)
    status: int = 200
    hang: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append({"body": body, "auth": request.headers.get("Authorization")})
        if self.hang:
            await self.release.wait()
        if self.status != 200:
            return web.json_response({"error": {"message": "overloaded"}}, status=self.status)
        content = self.replies.pop(0) if self.replies else "No reply queued."
        return web.json_response(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", "test"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )


@pytest.fixture
async def openai_server() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}/v1"
    yield fake
    fake.release.set()
    await runner.cleanup()


def llm_settings(server: FakeOpenAI, **extra: Any) -> dict[str, Any]:
    return {
        "model": "openai:test-model",
        "base_url": server.url,
        "api_key": "sk-test-not-a-secret",
        "max_retries": 0,
        **extra,
    }


def question(text: str, key: str = "c") -> Question:
    return Question(text=text, asker="u", conversation_key=key)


async def test_openai_compatible_server_answers_with_citations(
    make_careerbot: MakeCareerBot, openai_server: FakeOpenAI
) -> None:
    openai_server.replies.append(
        "Treat burnout like an overuse injury: rest and recover gradually [1]."
    )
    bot = make_careerbot(llm=llm_settings(openai_server))
    answer = await bot.answer(question("How do I deal with burnout?"))
    assert answer.mode == "llm" and answer.covered
    assert answer.text.endswith("[1].")
    assert answer.citations[0].title == "So you want to work on technical AI safety"
    sent = openai_server.requests[0]
    assert sent["auth"] == "Bearer sk-test-not-a-secret"
    assert sent["body"]["model"] == "test-model"
    roles = [m["role"] for m in sent["body"]["messages"]]
    assert roles == ["system", "user"]
    assert "overuse injury" in sent["body"]["messages"][1]["content"]
    # The key is sent as a header only, never inside the prompt.
    assert "sk-test-not-a-secret" not in json.dumps(sent["body"])
    status = await bot.status()
    assert status.answer_mode == "llm" and status.llm_model == "openai:test-model"


async def test_server_error_falls_back_to_extractive(
    make_careerbot: MakeCareerBot, openai_server: FakeOpenAI
) -> None:
    openai_server.status = 503
    bot = make_careerbot(llm=llm_settings(openai_server))
    answer = await bot.answer(question("How do I deal with burnout?"))
    assert answer.mode == "extractive" and answer.citations
    assert LLM_FALLBACK_NOTICE in answer.notices
    assert len(openai_server.requests) == 1


async def test_timeout_falls_back_to_extractive(
    make_careerbot: MakeCareerBot, openai_server: FakeOpenAI
) -> None:
    openai_server.hang = True
    bot = make_careerbot(llm=llm_settings(openai_server, timeout=0.5))
    answer = await bot.answer(question("How do I deal with burnout?"))
    assert answer.mode == "extractive"
    assert LLM_FALLBACK_NOTICE in answer.notices


def test_unknown_provider_is_a_clear_error() -> None:
    with pytest.raises(LLMConfigError, match="nosuchprovider"):
        make_chat_model("nosuchprovider:some-model")
