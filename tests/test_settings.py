"""Settings: CAREERBOT_ env prefix, `__` nesting, id lists, secrets, errors, `.env.example`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from bot.settings import Settings

REPO = Path(__file__).resolve().parents[1]
ENV_EXAMPLE = REPO / ".env.example"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CAREERBOT_ variable of the developer's shell leaks into these tests."""
    for name in list(os.environ):
        if name.startswith("CAREERBOT_"):
            monkeypatch.delenv(name)


def _settings(**kwargs: object) -> Settings:
    return Settings(_env_file=None, **kwargs)  # type: ignore[call-arg]


def _env_names(model: type[BaseModel], prefix: str = "CAREERBOT_") -> Iterator[str]:
    """Every leaf field as the environment variable that sets it."""
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _env_names(annotation, f"{prefix}{name.upper()}__")
        else:
            yield f"{prefix}{name.upper()}"


def _leaf_fields(model: type[BaseModel]) -> Iterator[tuple[str, object]]:
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from ((f"{name}.{n}", i) for n, i in _leaf_fields(annotation))
        else:
            yield name, info


def test_defaults_need_no_environment() -> None:
    settings = _settings()

    assert settings.knowledge_dir == Path("knowledge")
    assert settings.data_dir == Path(".careerbot")
    assert settings.llm.model is None
    assert settings.embedding.provider == "onnx"
    assert settings.resolved_database_url == "sqlite:///.careerbot/careerbot.db"


def test_env_prefix_and_double_underscore_nesting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREERBOT_LLM__MODEL", "openai:gpt-4o-mini")
    monkeypatch.setenv("CAREERBOT_RETRIEVAL__K", "7")
    monkeypatch.setenv("CAREERBOT_CHROMA__PORT", "9000")
    monkeypatch.setenv("CAREERBOT_DATA_DIR", "/srv/careerbot")
    monkeypatch.setenv("CAREERBOT_KNOWLEDGE_DIR", "/srv/knowledge")
    monkeypatch.setenv("LLM__MODEL", "ignored:without-prefix")

    settings = _settings()

    assert settings.llm.model == "openai:gpt-4o-mini"
    assert settings.retrieval.k == 7
    assert settings.chroma.port == 9000
    assert settings.data_dir == Path("/srv/careerbot")
    assert settings.knowledge_dir == Path("/srv/knowledge")
    assert settings.resolved_database_url == "sqlite:////srv/careerbot/careerbot.db"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("CAREERBOT_LLM__MODEL=ollama:llama3.1\nCAREERBOT_ANSWER__MAX_QUOTES=2\n")

    settings = Settings(_env_file=env)  # type: ignore[call-arg]

    assert settings.llm.model == "ollama:llama3.1"
    assert settings.answer.max_quotes == 2


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("CAREERBOT_SLACK__ADMIN_USER_IDS", "U1, U2 ,,U3", ["U1", "U2", "U3"]),
        ("CAREERBOT_SLACK__ADMIN_USER_IDS", '["U1", "U2"]', ["U1", "U2"]),
        ("CAREERBOT_SLACK__ADMIN_USER_IDS", "", []),
        ("CAREERBOT_DISCORD__ADMIN_USER_IDS", "123,456", [123, 456]),
        ("CAREERBOT_DISCORD__ADMIN_ROLE_IDS", "[789]", [789]),
        ("CAREERBOT_ANSWER__TOPICS", "burnout, PhDs", ["burnout", "PhDs"]),
    ],
)
def test_id_lists_accept_commas_and_json(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: list[object]
) -> None:
    monkeypatch.setenv(name, value)

    settings = _settings()

    group, field = name.removeprefix("CAREERBOT_").lower().split("__")
    assert getattr(getattr(settings, group), field) == expected


def test_discord_ids_must_be_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREERBOT_DISCORD__ADMIN_USER_IDS", "123,alice")

    with pytest.raises(ValidationError):
        _settings()


def test_secrets_are_hidden_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREERBOT_SLACK__BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("CAREERBOT_DISCORD__TOKEN", "discord-very-secret")
    monkeypatch.setenv("CAREERBOT_LLM__API_KEY", "sk-very-secret")

    settings = _settings()

    for shown in (repr(settings), str(settings), repr(settings.slack), str(settings.model_dump())):
        assert "very-secret" not in shown
    assert isinstance(settings.slack.bot_token, SecretStr)
    assert settings.slack.bot_token.get_secret_value() == "xoxb-very-secret"
    assert settings.llm.api_key is not None
    assert settings.llm.api_key.get_secret_value() == "sk-very-secret"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CAREERBOT_RETRIEVAL__K", "0"),
        ("CAREERBOT_RETRIEVAL__K", "many"),
        ("CAREERBOT_LLM__TEMPERATURE", "3"),
        ("CAREERBOT_EMBEDDING__PROVIDER", "word2vec"),
    ],
)
def test_invalid_values_are_rejected(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError):
        _settings()


def test_unknown_nested_keys_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match=r"retrieval\.foo"):
        _settings(retrieval={"k": 3, "foo": 1})

    monkeypatch.setenv("CAREERBOT_LLM__MODLE", "openai:gpt-4o-mini")
    with pytest.raises(ValidationError, match=r"llm\.modle"):
        _settings()


def test_unknown_key_in_dotenv_is_rejected(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("CAREERBOT_KNOWLEGDE_DIR=typo\n")

    with pytest.raises(ValidationError, match="knowlegde_dir"):
        Settings(_env_file=env)  # type: ignore[call-arg]


def _cli(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CAREERBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,  # no .env from the repo
        env={**base, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_reports_an_invalid_setting_in_one_line_and_exits_2(tmp_path: Path) -> None:
    result = _cli(
        tmp_path,
        "ingest",
        env={"CAREERBOT_RETRIEVAL__K": "0", "CAREERBOT_DATA_DIR": str(tmp_path / "data")},
    )

    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.fullmatch(r"careerbot: invalid setting CAREERBOT_RETRIEVAL__K: .*1.*", lines[0])
    assert result.stdout == ""
    assert not (tmp_path / "data").exists()


def test_cli_reports_an_unknown_dotenv_key(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CAREERBOT_LLM__MODLE=openai:gpt-4o-mini\n")

    result = _cli(tmp_path, "ask", "hello", env={})

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "careerbot: invalid setting CAREERBOT_LLM__MODLE: Extra inputs are not permitted"
    )


def test_cli_warns_about_a_misspelt_top_level_setting(tmp_path: Path) -> None:
    result = _cli(
        tmp_path,
        "ingest",
        env={"CAREERBOT_KNOWLEGDE_DIR": "x", "CAREERBOT_RETRIEVAL__K": "0"},
    )

    assert "ignoring unknown setting CAREERBOT_KNOWLEGDE_DIR" in result.stderr


def test_every_field_has_a_description() -> None:
    missing = [name for name, info in _leaf_fields(Settings) if not info.description]  # type: ignore[attr-defined]

    assert missing == []


def test_env_example_lists_every_setting() -> None:
    assert ENV_EXAMPLE.is_file(), ".env.example is missing"
    listed = set(re.findall(r"^[#\s]*(CAREERBOT_[A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.M))
    fields = set(_env_names(Settings))

    assert sorted(fields - listed) == [], "settings missing from .env.example"
    assert sorted(listed - fields) == [], ".env.example names settings that do not exist"
