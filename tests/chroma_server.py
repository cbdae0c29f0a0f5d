"""A real `chroma run` server on a free loopback port, for the index tests' server runs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_DEADLINE = 60.0


class ChromaServerUnavailable(RuntimeError):
    """The server binary is missing or did not answer its heartbeat in time."""


@dataclass
class ChromaServer:
    """A running server: where it listens and the process to stop."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Terminate the server and wait for it (killed if it ignores SIGTERM)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chroma_executable() -> str | None:
    """The `chroma` CLI installed with chromadb next to this interpreter, or on PATH."""
    beside = Path(sys.executable).parent / "chroma"
    return str(beside) if beside.exists() else shutil.which("chroma")


def start_chroma_server(path: Path, port: int | None = None) -> ChromaServer:
    """Start `chroma run` persisting under `path`; returns once its heartbeat answers."""
    exe = chroma_executable()
    if exe is None:
        raise ChromaServerUnavailable("the `chroma` command (installed with chromadb) is missing")
    port = port or free_port()
    path.mkdir(parents=True, exist_ok=True)
    log_path = path.parent / f"chroma-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [exe, "run", "--path", str(path), "--port", str(port), "--host", "127.0.0.1"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
    server = ChromaServer("127.0.0.1", port, process, log_path)
    deadline = time.monotonic() + STARTUP_DEADLINE
    while True:
        if process.poll() is not None:
            raise ChromaServerUnavailable(
                f"`chroma run` exited with {process.returncode}: {_tail(log_path)}"
            )
        try:
            if httpx.get(f"{server.url}/api/v2/heartbeat", timeout=2.0).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise ChromaServerUnavailable(
                f"`chroma run` gave no heartbeat within {STARTUP_DEADLINE:.0f}s: {_tail(log_path)}"
            )
        # Polling the heartbeat, bounded by the deadline above: the server has no other signal.
        time.sleep(0.1)


def _tail(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return " | ".join(text[-3:]) or "(no output)"
