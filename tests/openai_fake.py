"""A local OpenAI-compatible /v1/chat/completions server that plays a misbehaving model."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Reply:
    """What the server does for one request."""

    content: str = "No reply queued."
    status: int = 200
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # wait until the test releases the server
    error: str = "overloaded"
    prompt_tokens: int = 120
    completion_tokens: int = 30
    # Streaming: stop after this many pieces until `resume` is set (the test waits on what
    # the bot showed meanwhile).
    pause_after: int | None = None
    resume: asyncio.Event = field(default_factory=asyncio.Event)


STREAM_GOOD = "George Wang suggests treating burnout like an overuse injury [1][2][3][4][5]."
STREAM_INVENTED = "After MATS you walk into a $500k job at a top lab [1]."


def paused_stream(model: FakeOpenAI) -> tuple[Reply, dict[str, Any]]:
    """Queue a streamed reply (a checked sentence, an invented one, the checked one again)
    that pauses after the invented sentence; returns it and the `llm` settings for `model`.

    The adapters' streaming tests wait on what was shown during the pause, then set
    `reply.resume`: only the checked sentence may ever have been shown.
    """
    reply = Reply(f"{STREAM_GOOD} {STREAM_INVENTED} {STREAM_GOOD}", pause_after=23)
    model.queue(reply)
    return reply, {"model": "openai:m", "base_url": model.url, "api_key": "k", "max_retries": 0}


@dataclass
class FakeOpenAI:
    """Replies are scripted per model name (or shared); every request is recorded."""

    script: dict[str, list[Reply]] = field(default_factory=dict)
    default: Reply = field(default_factory=Reply)
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    def queue(self, *replies: Reply | str, model: str = "*") -> None:
        """Queue replies for a model ("*" = any model)."""
        self.script.setdefault(model, []).extend(
            Reply(content=r) if isinstance(r, str) else r for r in replies
        )

    def models(self) -> list[str]:
        """The model named by each request, in order."""
        return [r["body"]["model"] for r in self.requests]

    def _next(self, model: str) -> Reply:
        for key in (model, "*"):
            if self.script.get(key):
                return self.script[key].pop(0)
        return self.default

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append({"body": body, "auth": request.headers.get("Authorization")})
        reply = self._next(body.get("model", ""))
        if reply.hang:
            await self.release.wait()
        if reply.status != 200:
            return web.json_response(
                {"error": {"message": reply.error, "type": "error", "code": reply.status}},
                status=reply.status,
                headers=reply.headers,
            )
        usage = {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        }
        base = {"id": "chatcmpl-test", "created": 0, "model": body.get("model", "test")}
        if not body.get("stream"):
            return web.json_response(
                {
                    **base,
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply.content},
                            "finish_reason": reply.finish_reason,
                        }
                    ],
                    "usage": usage,
                }
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)

        async def send(choices: list[dict[str, Any]], **extra: Any) -> None:
            chunk = {**base, "object": "chat.completion.chunk", "choices": choices, **extra}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send([{"index": 0, "delta": {"role": "assistant", "content": ""}}])
        for i, piece in enumerate(re.findall(r"\S+\s*", reply.content)):
            if i == reply.pause_after:
                await reply.resume.wait()
            await send([{"index": 0, "delta": {"content": piece}}])
        await send([{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}])
        if (body.get("stream_options") or {}).get("include_usage"):
            await send([], usage=usage)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


@asynccontextmanager
async def serve_fake() -> AsyncIterator[FakeOpenAI]:
    """Run a FakeOpenAI on 127.0.0.1 (a free port) for the duration of the block."""
    fake = FakeOpenAI()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}/v1"
    try:
        yield fake
    finally:
        fake.release.set()
        await runner.cleanup()
