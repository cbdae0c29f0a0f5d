"""Only `ingest`/`reload` write the index: the read commands, in real processes, on the
embedded store and on a Chroma server; and the one-line start-up errors of the index."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select

from bot.index_pointer import IndexPointer, PointerState
from bot.schema import index_pointer
from tests.chroma_server import free_port
from tests.conftest import FIXTURE_KNOWLEDGE

REPO = Path(__file__).resolve().parents[1]
ON_TOPIC = "How should I find my personal fit for AI safety work?"


def _run(root: Path, knowledge: Path, chroma: dict[str, Any], *args: str) -> Any:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CAREERBOT_")}
    env = {
        **base,
        "PYTHONPATH": str(REPO),
        "CAREERBOT_KNOWLEDGE_DIR": str(knowledge),
        "CAREERBOT_DATA_DIR": str(root / "data"),
        **{f"CAREERBOT_CHROMA__{k.upper()}": str(v) for k, v in chroma.items()},
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _pointer(root: Path, chroma: dict[str, Any]) -> PointerState:
    """The pointer of the (only) store this workspace's database knows for the prefix."""
    engine = create_engine(f"sqlite:///{root / 'data' / 'careerbot.db'}")
    prefix = chroma.get("collection_prefix", "careerbot")
    try:
        with engine.connect() as conn:
            keys = (
                conn.execute(
                    select(index_pointer.c.store_key).where(
                        index_pointer.c.store_key.startswith(f"{prefix}:")
                    )
                )
                .scalars()
                .all()
            )
        assert len(keys) <= 1, keys
        return IndexPointer(engine).read(keys[0]) if keys else PointerState()
    finally:
        engine.dispose()


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if "warning" not in line.lower()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_read_commands_never_reindex_from_another_checkout(
    tmp_path: Path, chroma_backend: dict[str, Any]
) -> None:
    production = tmp_path / "production-knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, production)
    laptop = tmp_path / "laptop-knowledge"  # a checkout missing one post
    shutil.copytree(FIXTURE_KNOWLEDGE, laptop)
    (laptop / "mats-experience.md").unlink()
    ingested = _run(tmp_path, production, chroma_backend, "ingest")
    assert ingested.returncode == 0, ingested.stderr
    before = _pointer(tmp_path, chroma_backend)
    assert before.version == 1

    asked = _run(tmp_path, laptop, chroma_backend, "ask", "--json", ON_TOPIC)

    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout.strip().splitlines()[-1])["covered"] is True
    assert _pointer(tmp_path, chroma_backend) == before  # no new generation, same pointer


def test_a_fresh_embedded_checkout_builds_its_index_once(tmp_path: Path) -> None:
    embedded = {"mode": "embedded"}
    first = _run(tmp_path, FIXTURE_KNOWLEDGE, embedded, "ask", ON_TOPIC)

    assert first.returncode == 0, first.stderr
    assert "building it from knowledge/ once" in first.stderr
    assert _pointer(tmp_path, embedded).version == 1

    second = _run(tmp_path, FIXTURE_KNOWLEDGE, embedded, "ask", ON_TOPIC)

    assert second.returncode == 0, second.stderr
    assert "building" not in second.stderr
    assert _pointer(tmp_path, embedded).version == 1


def test_an_empty_chroma_server_is_never_built_by_ask_chroma_server(
    tmp_path: Path, chroma_server: Any
) -> None:
    chroma = {
        "mode": "http",
        "host": chroma_server.host,
        "port": chroma_server.port,
        "collection_prefix": "emptycheck",
    }

    result = _run(tmp_path, FIXTURE_KNOWLEDGE, chroma, "ask", ON_TOPIC)

    assert result.returncode == 1
    assert _one_line(result.stderr) == "careerbot: the index is empty; run `careerbot ingest`"
    assert _pointer(tmp_path, chroma).version == 0


def test_a_chroma_server_that_is_down_is_one_line_at_start_up_chroma_server(
    tmp_path: Path,
) -> None:
    port = free_port()  # nothing listens there
    chroma = {"mode": "http", "host": "127.0.0.1", "port": port, "retry_max_wait": 0}

    for command in (["ask", ON_TOPIC], ["ingest"]):
        result = _run(tmp_path, FIXTURE_KNOWLEDGE, chroma, *command)

        assert result.returncode == 1, result.stderr
        line = _one_line(result.stderr)
        assert line.startswith(
            f"careerbot: cannot reach the Chroma server at http://127.0.0.1:{port}"
        )
        assert "CAREERBOT_CHROMA__HOST" in line


def _serve_first_line(root: Path, chroma: dict[str, Any]) -> tuple[str, bool]:
    """Start `serve slack --http`; its first `careerbot:` line, and whether it was running."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("CAREERBOT_")}
    env = {
        **base,
        "PYTHONPATH": str(REPO),
        "CAREERBOT_KNOWLEDGE_DIR": str(FIXTURE_KNOWLEDGE),
        "CAREERBOT_DATA_DIR": str(root / "data"),
        "CAREERBOT_SLACK__BOT_TOKEN": "xoxb-test",
        "CAREERBOT_SLACK__SIGNING_SECRET": "test-secret",
        # A closed local port: the bot must never reach the real Slack from a test.
        "CAREERBOT_SLACK__API_URL": f"http://127.0.0.1:{free_port()}/api/",
        **{f"CAREERBOT_CHROMA__{k.upper()}": str(v) for k, v in chroma.items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "slack", "--http", "--port", str(free_port())],
        cwd=root,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    try:
        while True:
            line = lines.get(timeout=120)  # bounded: model load and start-up
            assert line is not None, "serve exited before saying what it serves:\n" + "".join(seen)
            if line.startswith("careerbot: "):
                return line.strip(), process.poll() is None
            seen.append(line)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_says_which_generation_it_serves(tmp_path: Path) -> None:
    embedded = {"mode": "embedded"}
    assert _run(tmp_path, FIXTURE_KNOWLEDGE, embedded, "ingest").returncode == 0

    line, _ = _serve_first_line(tmp_path, embedded)

    assert line.startswith("careerbot: serving index generation 1 (careerbot-g"), line
    assert "passages, built " in line and "from 3 files" in line


def test_serve_on_an_empty_chroma_server_starts_and_says_so_chroma_server(
    tmp_path: Path, chroma_server: Any
) -> None:
    chroma = {
        "mode": "http",
        "host": chroma_server.host,
        "port": chroma_server.port,
        "collection_prefix": "emptyserve",
    }

    line, running = _serve_first_line(tmp_path, chroma)

    assert line == (
        "careerbot: the index is empty; run `careerbot ingest` (answers start once it is built)"
    )
    assert running
    assert _pointer(tmp_path, chroma).version == 0  # serve did not build it
