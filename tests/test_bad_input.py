"""Bad input and unreachable services end in one clear line, and nothing is lost."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from unittest.mock import patch

import pytest

from bot.__main__ import main
from bot.knowledge import load_knowledge
from bot.models import IngestError, Question
from tests.conftest import FIXTURE_KNOWLEDGE, MakeCareerBot

REPO = Path(__file__).resolve().parents[1]
ON_TOPIC = "How should I find my personal fit for AI safety work?"


def _hostile_folder(root: Path) -> Path:
    """The fixture corpus plus a symlink loop, a folder, a dangling symlink and a FIFO."""
    folder = root / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, folder)
    (folder / "loop.md").symlink_to(folder / "loop.md")
    (folder / "folder.md").mkdir()
    (folder / "dangling.md").symlink_to(root / "nowhere.md")
    os.mkfifo(folder / "pipe.md")
    return folder


HOSTILE = ("loop.md", "folder.md", "dangling.md", "pipe.md")


def test_only_regular_files_are_read_and_each_skip_is_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _hostile_folder(tmp_path)
    found: list[list[str]] = []
    # A FIFO opened for reading blocks until a writer appears: run the load in a thread
    # and wait for it with a deadline, so a regression fails instead of hanging the suite.
    worker = threading.Thread(
        target=lambda: found.append([d.path.name for d in load_knowledge(folder)]),
        daemon=True,
    )
    with caplog.at_level(logging.WARNING, logger="bot.knowledge"):
        worker.start()
        worker.join(timeout=60)
    assert not worker.is_alive(), "load_knowledge blocked on a non-regular file"

    assert found == [sorted(p.name for p in FIXTURE_KNOWLEDGE.glob("*.md"))]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == len(HOSTILE), warnings
    for name in HOSTILE:
        (line,) = [w for w in warnings if name in w]
        assert "\n" not in line and "skipping" in line


def test_ingest_over_a_hostile_folder_prints_one_line_per_skipped_file(tmp_path: Path) -> None:
    folder = _hostile_folder(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERBOT_")}
    env.update(
        PYTHONPATH=str(REPO),
        CAREERBOT_KNOWLEDGE_DIR=str(folder),
        CAREERBOT_DATA_DIR=str(tmp_path / "data"),
    )

    result = subprocess.run(
        [sys.executable, "-m", "bot", "ingest"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("Reloaded: 3 documents")
    # Besides the progress bar, stderr holds the warnings and nothing else.
    lines = [
        line for line in result.stderr.splitlines() if line.strip() and "embedding" not in line
    ]
    assert "Traceback" not in result.stderr
    assert len(lines) == len(HOSTILE), result.stderr
    for name in HOSTILE:
        assert sum(name in line for line in lines) == 1, result.stderr


def test_an_oversized_file_is_refused_by_name_and_the_old_index_keeps_serving(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_max_file_kb=64)
    before = len(bot.retriever.snapshot.passages)
    big = bot.knowledge_dir / "huge.md"
    big.write_text("---\ntitle: Huge\n---\n" + "A sentence about careers. " * 4000)

    with pytest.raises(IngestError) as caught:
        bot.reload_sync()

    message = str(caught.value)
    assert "\n" not in message and "huge.md" in message and "64 KB limit" in message
    assert "CAREERBOT_KNOWLEDGE_MAX_FILE_KB" in message
    assert len(bot.retriever.snapshot.passages) == before
    import asyncio

    answer = asyncio.run(
        bot.answer(Question(text=ON_TOPIC, asker="u", conversation_key="k", platform="cli"))
    )
    assert answer.covered and answer.citations


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A clean CAREERBOT_ environment over a copy of the fixture corpus, cwd in tmp."""
    for name in list(os.environ):
        if name.startswith("CAREERBOT_"):
            monkeypatch.delenv(name)
    shutil.copytree(FIXTURE_KNOWLEDGE, tmp_path / "knowledge")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CAREERBOT_KNOWLEDGE_DIR", str(tmp_path / "knowledge"))
    monkeypatch.setenv("CAREERBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CAREERBOT_HTTP__PORT", "0")
    yield tmp_path


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The failure line: the last thing on stderr, and the only careerbot line that is a failure.

    (`serve` may first say what it indexed and serves, with a progress bar; that is not the
    failure.)
    """
    err = capsys.readouterr().err
    assert "Traceback" not in err
    status = ("careerbot: no index yet", "careerbot: serving index", "careerbot: the index is")
    ours = [
        line
        for line in err.splitlines()
        if line.startswith("careerbot:") and not line.startswith(status)
    ]
    assert len(ours) == 1, err
    assert err.rstrip().endswith(ours[0]), err
    return ours[0]


def test_unknown_llm_provider_is_one_line(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAREERBOT_LLM__MODEL", "nosuchprovider:model-1")

    assert main(["ask", ON_TOPIC]) == 2

    line = _one_line(capsys)
    assert "nosuchprovider" in line and "CAREERBOT_LLM__MODEL" in line


def test_chroma_server_down_is_one_line(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _closed_port()
    monkeypatch.setenv("CAREERBOT_CHROMA__MODE", "http")
    monkeypatch.setenv("CAREERBOT_CHROMA__HOST", "127.0.0.1")
    monkeypatch.setenv("CAREERBOT_CHROMA__PORT", str(port))

    # An unreachable index is an outage (exit 1, after bounded retries), not a usage error.
    assert main(["ask", ON_TOPIC]) == 1

    line = _one_line(capsys)
    assert f"Chroma server at http://127.0.0.1:{port}" in line


def test_missing_postgres_driver_is_one_line_without_the_password(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(
        "CAREERBOT_DATABASE_URL", "postgresql+psycopg://bot:hunter2pw@127.0.0.1:5432/careerbot"
    )
    # Fault injection: the psycopg extra is not installed.
    with patch.dict(sys.modules, {"psycopg": None}):
        assert main(["ask", ON_TOPIC]) != 0

    line = _one_line(capsys)
    assert "driver" in line and "careerbot[postgres]" in line
    assert "hunter2pw" not in line


def test_slack_unreachable_is_one_line(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _closed_port()
    monkeypatch.setenv("CAREERBOT_SLACK__BOT_TOKEN", "xoxb-test-secret")
    monkeypatch.setenv("CAREERBOT_SLACK__APP_TOKEN", "xapp-test-secret")
    monkeypatch.setenv("CAREERBOT_SLACK__API_URL", f"http://127.0.0.1:{port}/api/")

    assert main(["serve", "slack"]) == 2

    line = _one_line(capsys)
    assert f"cannot reach Slack at http://127.0.0.1:{port}/api/" in line
    assert "xoxb-test-secret" not in line


def test_discord_unreachable_is_one_line(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _closed_port()
    monkeypatch.setenv("CAREERBOT_DISCORD__TOKEN", "discord-test-secret")
    monkeypatch.setenv("CAREERBOT_DISCORD__API_BASE", f"http://127.0.0.1:{port}/api/v10")

    assert main(["serve", "discord"]) == 2

    line = _one_line(capsys)
    assert f"cannot reach Discord at http://127.0.0.1:{port}" in line
    assert "discord-test-secret" not in line
