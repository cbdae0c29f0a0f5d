"""The ops HTTP server `serve` runs: /healthz (live), /readyz (can answer), /metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)

Readiness = Callable[[], Awaitable[tuple[bool, str]]]


class OpsPortError(RuntimeError):
    """The ops HTTP server could not listen on its port (one line for the operator)."""


def ops_app(readiness: Readiness, registry: CollectorRegistry) -> web.Application:
    """The aiohttp application with the three endpoints."""

    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_request: web.Request) -> web.Response:
        ok, reason = await readiness()
        return web.Response(status=200 if ok else 503, text=reason + "\n")

    async def metrics(_request: web.Request) -> web.Response:
        body = await asyncio.to_thread(generate_latest, registry)
        response = web.Response(body=body)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


async def start_ops_http(
    readiness: Readiness, registry: CollectorRegistry, host: str, port: int
) -> tuple[web.AppRunner, Sequence[Any]]:
    """Start the server; returns the runner (for cleanup) and the bound addresses."""
    runner = web.AppRunner(ops_app(readiness, registry), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise OpsPortError(
            f"cannot listen on {host}:{port} for /healthz and /metrics ({exc.strerror}): "
            "free the port or set CAREERBOT_HTTP__PORT (0 turns the server off)"
        ) from None
    return runner, runner.addresses


async def run_ops_http(
    readiness: Readiness, registry: CollectorRegistry, host: str, port: int
) -> None:
    """Serve until cancelled."""
    runner, addresses = await start_ops_http(readiness, registry, host, port)
    log.info("ops endpoints /healthz /readyz /metrics on %s", addresses)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
