"""`careerbot doctor`'s checks against real files, a real SQLite database and a closed port."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import sys
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from bot.doctor import redact, run_checks
from bot.settings import Settings
from tests.conftest import FIXTURE_KNOWLEDGE


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Settings over a copy of the fixture corpus, untouched by the caller's environment."""
    for name in list(os.environ):
        if name.startswith("CAREERBOT_"):
            monkeypatch.delenv(name)
    shutil.copytree(FIXTURE_KNOWLEDGE, tmp_path / "knowledge")

    def make(**overrides: Any) -> Settings:
        return Settings(
            _env_file=None,  # type: ignore[call-arg]
            knowledge_dir=tmp_path / "knowledge",
            data_dir=tmp_path / "data",
            **overrides,
        )

    return make


def _lines(results: list[tuple[bool, str]], prefix: str) -> list[tuple[bool, str]]:
    found = [(ok, line) for ok, line in results if line.startswith(prefix)]
    for _, line in found:
        assert "\n" not in line
    return found


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_database_reachable_without_and_with_a_migrations_table(
    settings: Any, tmp_path: Path
) -> None:
    db = tmp_path / "state.db"
    sqlite3.connect(db).execute("CREATE TABLE turns (id INTEGER)").connection.commit()
    s = settings(database_url=f"sqlite:///{db}")

    assert _lines(run_checks(s), "database:")[-1] == (
        True,
        f"database: sqlite:///{db} reachable, no migrations table",
    )

    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES ('0002_leases')")
    assert _lines(run_checks(s), "database:")[-1] == (
        True,
        f"database: sqlite:///{db} reachable, schema version 0002_leases",
    )


def test_database_that_cannot_be_opened_fails_in_one_line(settings: Any, tmp_path: Path) -> None:
    folder = tmp_path / "not-a-database"
    folder.mkdir()

    ok, line = _lines(run_checks(settings(database_url=f"sqlite:///{folder}")), "database:")[-1]

    assert not ok and "cannot reach" in line and str(folder) in line


def test_missing_postgres_driver_is_named_and_the_password_never_shown(settings: Any) -> None:
    s = settings(database_url="postgresql+psycopg://bot:hunter2pw@127.0.0.1:5432/careerbot")
    with patch.dict(sys.modules, {"psycopg": None}):  # fault: the extra is not installed
        results = run_checks(s)

    ((ok, line),) = _lines(results, "database:")
    assert not ok and "careerbot[postgres]" in line and "psycopg" in line
    assert "hunter2pw" not in "\n".join(line for _, line in results)


def test_chroma_server_down_is_one_failing_line(settings: Any) -> None:
    port = _closed_port()
    s = settings(chroma={"mode": "http", "host": "127.0.0.1", "port": port})

    ((ok, line),) = _lines(run_checks(s), "chroma:")

    assert not ok and f"http://127.0.0.1:{port}" in line
    assert not _lines(run_checks(s), "index:")  # no second failure for the same cause


def test_llm_provider_package_missing_or_unknown(settings: Any) -> None:
    with patch.dict(sys.modules, {"langchain_anthropic": None}):  # fault: extra missing
        ((ok, line),) = _lines(run_checks(settings(llm={"model": "anthropic:claude"})), "llm:")
    assert not ok and "careerbot[anthropic]" in line

    ((ok, line),) = _lines(run_checks(settings(llm={"model": "nosuch:model"})), "llm:")
    assert not ok and "nosuch" in line

    ((ok, line),) = _lines(run_checks(settings(llm={"model": "openai:gpt-4o-mini"})), "llm:")
    assert ok and "not called" in line


def test_no_secret_appears_in_any_line(settings: Any) -> None:
    values = {
        "slack": {"bot_token": "xoxb-sekret-1", "signing_secret": "sign-sekret-2"},
        "discord": {"token": "discord-sekret-3"},
        "llm": {"model": "openai:gpt-4o-mini", "api_key": "sk-sekret-4"},
    }
    results = run_checks(settings(**values))

    text = "\n".join(line for _, line in results)
    for secret in ("xoxb-sekret-1", "sign-sekret-2", "discord-sekret-3", "sk-sekret-4"):
        assert secret not in text
    assert ("slack: bot token and signing secret set (HTTP mode)") in text


def test_redact_masks_every_value_longest_first() -> None:
    assert redact("token abc and abcdef", ["abc", "abcdef"]) == "token *** and ***"
