"""A fake Discord (REST API and gateway websocket) on 127.0.0.1 that records what the bot sends.

discord.py's HTTP layer is pointed here through ``DiscordConfig.api_base`` (``Route.BASE``)
and its gateway through ``DiscordConfig.gateway_url``. Payload builders start from the
recorded gateway payloads in ``tests/fixtures/discord``.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

FIXTURES = Path(__file__).parent / "fixtures" / "discord"

TOKEN = "fake-discord-token"
BOT_ID = 1300000000000000001
APP_ID = 1300000000000000002
GUILD_ID = 1300000000000000100
CHANNEL_ID = 1300000000000000101
OTHER_CHANNEL_ID = 1300000000000000102
THREAD_ID = 1300000000000000103
BOT_ROLE_ID = 1300000000000000110
ORGANISER_ROLE_ID = 1300000000000000120
USER_ID = 1300000000000000200
OTHER_USER_ID = 1300000000000000201
OTHER_BOT_ID = 1300000000000000202
DM_CHANNEL_ID = 1300000000000000301

EPHEMERAL = 1 << 6
MANAGE_GUILD = 1 << 5
# A member's permissions in a channel without Manage Server or Administrator.
MEMBER_PERMISSIONS = str((1 << 10) | (1 << 11) | (1 << 16) | (1 << 31))

_ids = itertools.count(1300000000000900000)


def snowflake() -> int:
    """A fresh, unique snowflake id."""
    return next(_ids)


def load(name: str) -> dict[str, Any]:
    """A fresh copy of a recorded payload from tests/fixtures/discord."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    """A user object as Discord sends it."""
    data: dict[str, Any] = {
        "id": str(user_id),
        "username": name,
        "global_name": name.title(),
        "discriminator": "0",
        "avatar": None,
    }
    if bot:
        data["bot"] = True
    return data


BOT_USER = user(BOT_ID, "careerbot", bot=True)


def dm_message(content: str, *, author_id: int = USER_ID, **extra: Any) -> dict[str, Any]:
    """A MESSAGE_CREATE payload for a direct message to the bot."""
    data = load("message_create_dm")
    data.update(id=str(snowflake()), content=content)
    data["author"] = user(author_id, "ada" if author_id == USER_ID else f"user{author_id}")
    data.update(extra)
    return data


def guild_message(
    content: str,
    *,
    author: dict[str, Any] | None = None,
    channel_id: int = CHANNEL_ID,
    mention_bot: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """A MESSAGE_CREATE payload in the fixture guild; by default it @mentions the bot."""
    data = load("message_create_guild_mention")
    data.update(id=str(snowflake()), channel_id=str(channel_id))
    data["content"] = f"<@{BOT_ID}> {content}" if mention_bot else content
    if not mention_bot:
        data["mentions"] = []
    if author is not None:
        data["author"] = author
    data.update(extra)
    return data


def reply_message(
    content: str, *, to: dict[str, Any], author: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A MESSAGE_CREATE payload replying to message `to` (a payload the fake or a test made)."""
    data = load("message_create_reply_to_bot")
    data.update(id=str(snowflake()), content=content, channel_id=to["channel_id"])
    if author is not None:
        data["author"] = author
    data["message_reference"] = {
        "type": 0,
        "message_id": to["id"],
        "channel_id": to["channel_id"],
        "guild_id": str(GUILD_ID),
    }
    referenced = {k: v for k, v in to.items() if k not in ("referenced_message", "member")}
    referenced.setdefault("type", 0)
    data["referenced_message"] = referenced
    return data


def interaction(
    command: str,
    options: dict[str, str] | None = None,
    *,
    dm: bool = False,
    user_id: int = USER_ID,
    roles: tuple[int, ...] = (),
    permissions: str = MEMBER_PERMISSIONS,
    channel: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload for a slash command, in the guild or in a DM."""
    data = load("interaction_create_dm_command" if dm else "interaction_create_guild_command")
    data.update(id=str(snowflake()), token=f"interaction-token-{snowflake()}")
    who = user(user_id, "ada" if user_id == USER_ID else f"user{user_id}")
    if dm:
        data["user"] = who
    else:
        data["member"].update(user=who, roles=[str(r) for r in roles], permissions=permissions)
        if channel is not None:
            data["channel"] = channel
            data["channel_id"] = channel["id"]
    data["data"] = {"id": str(snowflake()), "name": command, "type": 1}
    if not dm:
        data["data"]["guild_id"] = str(GUILD_ID)
    if options:
        data["data"]["options"] = [
            {"name": name, "type": 3, "value": value} for name, value in options.items()
        ]
    return data


@dataclass
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def content(self) -> str:
        """The message text sent, for message and webhook calls."""
        if isinstance(self.body, dict):
            inner = self.body.get("data") if "type" in self.body else self.body
            if isinstance(inner, dict):
                return str(inner.get("content") or "")
        return ""

    @property
    def flags(self) -> int:
        """Message flags (64 = ephemeral) of a message, follow-up or callback."""
        if not isinstance(self.body, dict):
            return 0
        inner = self.body.get("data") if "type" in self.body else self.body
        return int((inner or {}).get("flags") or 0)


Predicate = Callable[[Call], bool]


class FakeDiscord:
    """Discord's REST API and gateway, faked on 127.0.0.1; every request becomes a Call."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.forbidden_channels: set[int] = set()
        self.forbid_command_sync = False  # as when the applications.commands scope is missing
        self.identify: dict[str, Any] | None = None
        self.created: dict[int, dict[str, Any]] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._ws: web.WebSocketResponse | None = None
        self._seq = 0
        self.ready = asyncio.Event()
        self.port = 0

    # Lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_get("/ws", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        """Stop serving and drop the gateway connection."""
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        """What discord.py's Route.BASE becomes."""
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        """The gateway websocket URL."""
        return f"ws://127.0.0.1:{self.port}/ws"

    # Assertions -------------------------------------------------------------------------

    async def wait_for(self, predicate: Predicate, *, timeout: float = 20.0) -> Call:
        """The first recorded call matching `predicate`, waiting for it if need be."""
        async with asyncio.timeout(timeout), self._changed:
            while True:
                for call in self.calls:
                    if predicate(call):
                        return call
                await self._changed.wait()

    async def wait_for_count(
        self, predicate: Predicate, count: int, *, timeout: float = 20.0
    ) -> list[Call]:
        """Wait until `count` recorded calls match `predicate`; returns them."""
        async with asyncio.timeout(timeout), self._changed:
            while True:
                found = [c for c in self.calls if predicate(c)]
                if len(found) >= count:
                    return found
                await self._changed.wait()

    def channel_messages(self, channel_id: int) -> list[Call]:
        """Messages the bot posted to a channel, in order."""
        path = f"/channels/{channel_id}/messages"
        return [c for c in self.calls if c.method == "POST" and c.path == path]

    def shown(self, channel_id: int) -> list[str]:
        """What the bot's messages in a channel show now (after any edits), in order."""
        return [
            str(m["content"]) for m in self.created.values() if int(m["channel_id"]) == channel_id
        ]

    def edits(self, channel_id: int) -> list[Call]:
        """Edits the bot made to its own messages in a channel, in order."""
        prefix = f"/channels/{channel_id}/messages/"
        return [c for c in self.calls if c.method == "PATCH" and c.path.startswith(prefix)]

    def typing(self, channel_id: int) -> list[Call]:
        """Typing indicators the bot triggered in a channel."""
        path = f"/channels/{channel_id}/typing"
        return [c for c in self.calls if c.method == "POST" and c.path == path]

    def callbacks(self, interaction_id: int | str) -> list[Call]:
        """Initial interaction responses (type 4 message, 5 deferred) for an interaction."""
        prefix = f"/interactions/{interaction_id}/"
        return [c for c in self.calls if c.path.startswith(prefix)]

    def followups(self, token: str) -> list[Call]:
        """Follow-up messages sent with an interaction's token."""
        path = f"/webhooks/{APP_ID}/{token}"
        return [c for c in self.calls if c.method == "POST" and c.path == path]

    # Gateway ----------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway DISPATCH event to the connected client."""
        if self._ws is None or self._ws.closed:
            raise RuntimeError("no gateway client connected")
        self._seq += 1
        await self._ws.send_json({"op": 0, "t": event, "s": self._seq, "d": data})

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 45000}, "s": None, "t": None})
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            if frame["op"] == 1:
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif frame["op"] == 2:
                self.identify = frame["d"]
                ready = load("ready")
                ready["resume_gateway_url"] = self.gateway_url
                await self.dispatch("READY", ready)
                self.ready.set()
        return ws

    # REST -------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw and request.content_type == "application/json" else raw
        call = Call(request.method, path, dict(request.query), body, dict(request.headers))
        try:
            return await self._respond(call)
        finally:
            async with self._changed:
                self.calls.append(call)
                self._changed.notify_all()

    async def _respond(self, call: Call) -> web.StreamResponse:
        parts = call.path.strip("/").split("/")
        route = (call.method, *parts)
        match route:
            case ("GET", "users", "@me"):
                if call.headers.get("Authorization") != f"Bot {TOKEN}":
                    return _json({"message": "401: Unauthorized", "code": 0}, status=401)
                return _json(BOT_USER)
            case ("GET", "oauth2", "applications", "@me"):
                return _json(_application())
            case ("GET", "gateway", *_):
                return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": {}})
            case ("PUT", "applications", _, "commands") | (
                "PUT",
                "applications",
                _,
                "guilds",
                _,
                "commands",
            ):
                if self.forbid_command_sync:
                    return _forbidden()
                guild = parts[3] if len(parts) == 5 else None
                return _json([_command(c, guild) for c in call.body])
            case ("POST", "channels", channel, "typing"):
                if int(channel) in self.forbidden_channels:
                    return _forbidden()
                return web.Response(status=204)
            case ("POST", "channels", channel, "messages"):
                if int(channel) in self.forbidden_channels:
                    return _forbidden()
                return _json(await self._create_message(int(channel), call.body))
            case ("PATCH", "channels", channel, "messages", message):
                edited = self.created.get(int(message))
                if edited is None:
                    return _json({"message": "Unknown Message", "code": 10008}, status=404)
                edited.update(content=(call.body or {}).get("content", edited["content"]))
                edited["edited_timestamp"] = _now()
                return _json(edited)
            case ("POST", "channels", channel, "messages", message, "threads"):
                if int(channel) in self.forbidden_channels:
                    return _forbidden()
                return _json(_thread(int(channel), int(message), call.body["name"]))
            case ("POST", "interactions", interaction_id, _, "callback"):
                return _json(_callback(int(interaction_id), call.body))
            case ("POST", "webhooks", _, _):
                data = call.body or {}
                followup = _message(snowflake(), CHANNEL_ID, data, flags=data.get("flags"))
                return _json(followup)
            case ("PATCH", "webhooks", _, _, "messages", _):
                return _json(_message(snowflake(), CHANNEL_ID, call.body or {}))
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    async def _create_message(self, channel_id: int, body: dict[str, Any]) -> dict[str, Any]:
        data = _message(snowflake(), channel_id, body)
        if channel_id != DM_CHANNEL_ID:
            data["guild_id"] = str(GUILD_ID)
        self.created[int(data["id"])] = data
        if self._ws is not None and not self._ws.closed:
            # Like Discord, echo the bot's own message back over the gateway.
            await self.dispatch("MESSAGE_CREATE", data)
        return data


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py only decodes a body whose content type is exactly "application/json".
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json"
    )


def _forbidden() -> web.Response:
    return _json({"message": "Missing Permissions", "code": 50013}, status=403)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _message(
    message_id: int, channel_id: int, body: dict[str, Any], *, flags: int | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": copy.deepcopy(BOT_USER),
        "content": body.get("content") or "",
        "timestamp": _now(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": body.get("embeds") or [],
        "pinned": False,
        "type": 19 if body.get("message_reference") else 0,
        "flags": flags or 0,
        "components": [],
    }
    if body.get("message_reference"):
        data["message_reference"] = body["message_reference"]
    return data


def _thread(channel_id: int, message_id: int, name: str) -> dict[str, Any]:
    return {
        "id": str(message_id),  # Discord gives a thread started from a message that message's id
        "type": 11,
        "guild_id": str(GUILD_ID),
        "parent_id": str(channel_id),
        "owner_id": str(BOT_ID),
        "name": name,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": _now(),
            "locked": False,
        },
    }


def _callback(interaction_id: int, body: dict[str, Any]) -> dict[str, Any]:
    kind = int(body["type"])
    data = body.get("data") or {}
    response: dict[str, Any] = {
        "interaction": {
            "id": str(interaction_id),
            "type": 2,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
        }
    }
    if kind == 4:
        message = _message(snowflake(), CHANNEL_ID, data, flags=data.get("flags"))
        response["interaction"]["response_message_id"] = message["id"]
        response["resource"] = {"type": kind, "message": message}
    return response


def _application() -> dict[str, Any]:
    return {
        "id": str(APP_ID),
        "name": "careerbot",
        "icon": None,
        "description": "Career advice for people entering AI safety.",
        "bot_public": False,
        "bot_require_code_grant": False,
        "owner": user(USER_ID, "ada"),
        "verify_key": "0" * 64,
        "flags": 8953856,
        "team": None,
    }


def _command(command: dict[str, Any], guild_id: str | None) -> dict[str, Any]:
    data = {
        "id": str(snowflake()),
        "application_id": str(APP_ID),
        "version": str(snowflake()),
        "default_member_permissions": None,
        "description": "",  # Discord returns "" for context-menu commands, which send none
        "nsfw": False,
        "options": [],
        **command,
    }
    if guild_id is not None:
        data["guild_id"] = guild_id
    return data
