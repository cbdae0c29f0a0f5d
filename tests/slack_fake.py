"""A fake Slack Web API (and response_url) server on 127.0.0.1 that records every call."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

FIXTURES = Path(__file__).parent / "fixtures" / "slack"

BOT_USER_ID = "U0CAREERBOT"
BOT_ID = "B0CAREERBOT"
TEAM_ID = "T0TEAM00001"
SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"


@dataclass
class Call:
    """One request the fake received: a Web API method or a response_url post."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def blocks(self) -> list[dict[str, Any]]:
        """The message blocks, decoded whether sent as JSON or form data."""
        blocks = self.params.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else list(blocks)

    @property
    def text(self) -> str:
        """The message's fallback text."""
        return str(self.params.get("text") or "")

    def section_texts(self) -> list[str]:
        """Text of every section block, in order."""
        return [b["text"]["text"] for b in self.blocks if b["type"] == "section" and "text" in b]

    def all_text(self) -> str:
        """Everything a reader sees: sections, fields and context elements."""
        parts: list[str] = []
        for block in self.blocks:
            if "text" in block:
                parts.append(block["text"]["text"])
            parts.extend(f["text"] for f in block.get("fields", []))
            parts.extend(e.get("text", "") for e in block.get("elements", []) if "text" in e)
        return "\n".join(str(p) for p in parts) or self.text


class FakeSlack:
    """Answers auth.test, chat.*, reactions.*, views.* and response_url posts like Slack."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._changed = asyncio.Condition()
        self._failures: dict[str, list[tuple[str, int]]] = {}
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._envelopes = itertools.count(1)
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        """Listen on an ephemeral loopback port."""
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Close the server."""
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        """Base URL to give AsyncWebClient."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A response_url pointing here (slash commands and buttons reply through it)."""
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    # --- inspection --------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls to one method ("chat.postMessage", "response_url", ...)."""
        return [c for c in self.calls if c.method == method]

    def messages(self) -> list[Call]:
        """Every call that put a message on screen (post, update, ephemeral, response_url)."""
        kinds = {"chat.postMessage", "chat.update", "chat.postEphemeral", "response_url"}
        return [c for c in self.calls if c.method in kinds]

    def fail_next(
        self, method: str, error: str = "internal_error", times: int = 1, status: int = 200
    ) -> None:
        """Answer the next `times` calls to `method` with ok=false and `error`.

        `status=429` answers like Slack's rate limiter (with `Retry-After: 0`).
        """
        self._failures.setdefault(method, []).extend([(error, status)] * times)

    async def wait_for(self, predicate: Callable[[FakeSlack], bool], timeout: float = 10.0) -> None:
        """Wait until `predicate(self)` holds (re-checked on every recorded call)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self)), timeout)

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    # --- handlers ----------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        headers = {k.lower(): v for k, v in request.headers.items()}
        pending = self._failures.get(method)
        status = 200
        if pending:
            error, status = pending.pop(0)
            reply: dict[str, Any] = {"ok": False, "error": error}
        elif headers.get("authorization", "") != f"Bearer {expected_token(method)}":
            reply = {"ok": False, "error": "invalid_auth"}
        else:
            reply = self._reply(method, params)
        await self._record(Call(method, params, headers, reply))
        retry_after = {"Retry-After": "0"} if status == 429 else None
        return web.json_response(reply, status=status, headers=retry_after)

    def _reply(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://careerbot-test.slack.com/",
                "team": "Careerbot Test",
                "user": "careerbot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            ts = f"1700000{next(self._ts):03d}.000100"
            message = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "text": params.get("text", ""),
                "ts": ts,
            }
            if params.get("thread_ts"):
                message["thread_ts"] = params["thread_ts"]
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": message}
        if method == "chat.update":
            return {
                "ok": True,
                "channel": params.get("channel"),
                "ts": params.get("ts"),
                "text": params.get("text", ""),
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000{next(self._ts):03d}.000200"}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"}
        if method.startswith(("reactions.", "views.", "assistant.threads.")):
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}

    async def _respond(self, request: web.Request) -> web.Response:
        params = await request.json()
        params["_name"] = request.match_info["name"]
        await self._record(Call("response_url", params, dict(request.headers)))
        return web.Response(text="ok")

    # --- Socket Mode ------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0CAREERAPP"}}
        )
        await self._record(Call("socket.connected", {}))
        async for message in socket:
            if message.type == web.WSMsgType.TEXT:
                await self._record(Call("socket.ack", json.loads(message.data)))
        self._sockets.remove(socket)
        return socket

    async def push_event(self, payload: dict[str, Any], retry_attempt: int = 0) -> str:
        """Deliver an Events API payload over Socket Mode; returns its envelope id."""
        envelope_id = f"envelope-{next(self._envelopes)}"
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
        }
        for socket in self._sockets:
            await socket.send_json(envelope)
        return envelope_id

    def acked(self, envelope_id: str) -> bool:
        """Whether the app acknowledged an envelope over the socket."""
        return any(c.params.get("envelope_id") == envelope_id for c in self.calls_to("socket.ack"))


def expected_token(method: str) -> str:
    """Socket Mode's connection call uses the app-level token; everything else the bot's."""
    return APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN


# --- payloads -----------------------------------------------------------------------------


def load_fixture(name: str) -> dict[str, Any]:
    """A recorded-shape payload from tests/fixtures/slack/<name>.json (a fresh copy)."""
    return copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))


def event_payload(name: str, *, event_id: str | None = None, **event: Any) -> dict[str, Any]:
    """An Events API envelope from a fixture, with fields of the inner event overridden."""
    body = load_fixture(name)
    body["event"].update(event)
    if event_id is not None:
        body["event_id"] = event_id
    return body


def sign(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack would send with `body`: timestamp and v0 HMAC signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{ts}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": ts, "x-slack-signature": f"v0={digest}"}


def json_request(payload: dict[str, Any], **extra_headers: str) -> tuple[str, dict[str, str]]:
    """(raw body, signed headers) for an Events API delivery."""
    body = json.dumps(payload)
    headers = {"content-type": "application/json", **sign(body), **extra_headers}
    return body, headers


def form_request(fields: dict[str, str]) -> tuple[str, dict[str, str]]:
    """(raw body, signed headers) for a slash command (form-encoded)."""
    body = urlencode(fields)
    return body, {"content-type": "application/x-www-form-urlencoded", **sign(body)}


def action_request(payload: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(raw body, signed headers) for an interactivity payload (`payload=<json>`)."""
    return form_request({"payload": json.dumps(payload)})
