"""The checks behind `careerbot doctor`: one line each, read-only, secrets never printed."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from bot.settings import Settings

log = logging.getLogger(__name__)

Check = tuple[bool, str]

# Each chat-model provider prefix and the package its langchain integration lives in.
LLM_PROVIDER_PACKAGES = {
    "openai": ("langchain_openai", "openai"),
    "anthropic": ("langchain_anthropic", "anthropic"),
    "ollama": ("langchain_ollama", "ollama"),
}
# How long doctor waits for a database or Chroma server before calling it unreachable.
CONNECT_TIMEOUT_S = 5


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order a start-up needs them; secrets are masked in every line."""
    results: list[Check] = [(True, "settings parsed")]
    for check in (
        check_model_files,
        check_prompts,
        check_knowledge,
        check_database,
        check_chroma,
        check_llm,
        check_platforms,
        check_report,
    ):
        try:
            results.extend(check(settings))
        except Exception as exc:  # a check must report, never crash doctor
            log.debug("doctor check %s crashed", check.__name__, exc_info=True)
            results.append((False, f"{check.__name__[6:]}: {type(exc).__name__}: {exc}"))
    masked = secrets(settings)
    return [(ok, redact(" ".join(line.split()), masked)) for ok, line in results]


def secrets(settings: Settings) -> list[str]:
    """Every secret value the settings hold (tokens, keys, the database password)."""
    found = [
        value.get_secret_value()
        for group in (settings.embedding, settings.llm, settings.slack, settings.discord)
        for value in vars(group).values()
        if hasattr(value, "get_secret_value") and value is not None
    ]
    if settings.database_url:
        from sqlalchemy.engine import make_url

        try:
            password = make_url(settings.database_url).password
        except Exception:
            password = None
        if password:
            found.append(str(password))
    return [s for s in found if s]


def redact(line: str, values: Iterable[str]) -> str:
    """`line` with every secret value replaced by ***."""
    for value in sorted(values, key=len, reverse=True):
        line = line.replace(value, "***")
    return line


def check_model_files(settings: Settings) -> list[Check]:
    """The packaged ONNX model and tokenizer match their pinned checksums."""
    if settings.embedding.provider != "onnx":
        return [(True, f"embedding provider: {settings.embedding.provider} (not checked)")]
    from bot.embeddings import (
        MODEL_SHA256,
        TOKENIZER_SHA256,
        ModelFileError,
        packaged_model_path,
        packaged_tokenizer_path,
        verify_file,
    )

    files: list[tuple[str, Callable[[], Any], str]] = [
        (
            "embedding model",
            lambda: settings.embedding.model_path or packaged_model_path(),
            MODEL_SHA256,
        ),
        ("tokenizer", packaged_tokenizer_path, TOKENIZER_SHA256),
    ]
    results: list[Check] = []
    for label, path_fn, digest in files:
        try:
            verify_file(path_fn(), digest)
            results.append((True, f"{label}: checksum verified"))
        except ModelFileError as exc:
            results.append((False, f"{label}: {exc}"))
    return results


def check_prompts(settings: Settings) -> list[Check]:
    """Every prompt template exists and uses exactly its variables."""
    from bot.prompts import PromptError, default_prompts_dir, load_prompts

    folder = settings.prompts_dir or default_prompts_dir()
    try:
        load_prompts(folder)
    except PromptError as exc:
        return [(False, f"prompts: {exc}")]
    return [(True, f"prompts: all templates valid in {folder}")]


def check_knowledge(settings: Settings) -> list[Check]:
    """The knowledge folder parses (the files the next reload would index)."""
    from bot.knowledge import load_knowledge
    from bot.models import IngestError

    try:
        docs = load_knowledge(
            settings.knowledge_dir, max_file_bytes=settings.knowledge_max_file_kb * 1024
        )
    except IngestError as exc:
        return [(False, f"knowledge: {exc}")]
    return [(True, f"knowledge: {len(docs)} valid documents in {settings.knowledge_dir}")]


def check_database(settings: Settings) -> list[Check]:
    """Driver installed, server reachable, and the schema version if migrations ran."""
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    raw = settings.resolved_database_url
    try:
        url = make_url(raw)
    except ArgumentError:
        return [(False, "database: CAREERBOT_DATABASE_URL is not a valid SQLAlchemy URL")]
    shown = url.render_as_string(hide_password=True)
    try:
        dialect = url.get_dialect()
        dialect.import_dbapi()
    except NoSuchModuleError:
        return [(False, f"database: unknown database type {url.drivername!r} in {shown}")]
    except ImportError as exc:
        hint = (
            " — pip install 'careerbot[postgres]'" if url.get_backend_name() == "postgresql" else ""
        )
        return [(False, f"database: driver for {url.drivername} not installed ({exc.name}){hint}")]
    results: list[Check] = [(True, f"database: driver {url.drivername} installed")]
    if url.get_backend_name() == "sqlite":
        database = url.database
        if database and database != ":memory:":
            from pathlib import Path

            if not Path(database).exists():
                results.append((True, f"database: {shown} will be created on first start"))
                return results
        connect_args: dict[str, Any] = {}
    else:
        connect_args = {"connect_timeout": CONNECT_TIMEOUT_S}
    engine = create_engine(url, connect_args=connect_args, poolclass=_null_pool())
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            version = None
            if inspect(conn).has_table("alembic_version"):
                version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:
        log.debug("database check failed", exc_info=True)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        results.append((False, f"database: cannot reach {shown} ({reason})"))
        return results
    finally:
        engine.dispose()
    schema = f"schema version {version}" if version else "no migrations table"
    results.append((True, f"database: {shown} reachable, {schema}"))
    return results


def _null_pool() -> Any:
    from sqlalchemy.pool import NullPool

    return NullPool


def check_chroma(settings: Settings) -> list[Check]:
    """The Chroma server answers its heartbeat (http mode) and an index is being served."""
    from bot.wiring import make_chroma_client

    c = settings.chroma
    results: list[Check] = []
    where = f"{'https' if c.ssl else 'http'}://{c.host}:{c.port}"
    try:
        client = make_chroma_client(settings)
        if c.mode == "http":
            client.heartbeat()
            results.append((True, f"chroma: server at {where} answers its heartbeat"))
    except Exception as exc:
        log.debug("chroma check failed", exc_info=True)
        if c.mode == "http":
            return [
                (False, f"chroma: no server at {where} ({type(exc).__name__}) — is it running?")
            ]
        return [(False, f"index: cannot open Chroma ({type(exc).__name__}: {exc})")]
    try:
        from sqlalchemy import create_engine, inspect

        from bot.wiring import make_index

        engine = create_engine(settings.resolved_database_url, poolclass=_null_pool())
        try:
            # Doctor only reads (and never embeds): no pointer table means never ingested.
            index = make_index(settings, client, None, "", engine)  # type: ignore[arg-type]
            state = index.state() if inspect(engine).has_table("index_pointer") else None
            active = index.open(state.active) if state else None
            served = index.generation(active, state.version) if active and state else None
        finally:
            engine.dispose()
    except Exception as exc:
        log.debug("index check failed", exc_info=True)
        results.append((False, f"index: cannot read it ({type(exc).__name__}: {exc})"))
        return results
    if served is None:
        results.append((False, "index: not built yet — run `careerbot ingest`"))
    else:
        results.append((True, f"index: {served.describe()}"))
    return results


def check_llm(settings: Settings) -> list[Check]:
    """The chat model's provider integration is installed (the model is never called)."""
    model = settings.llm.model
    if not model:
        return [(True, "llm: none configured — extractive answers")]
    provider, _, name = model.partition(":")
    if not name:
        provider = "openai" if settings.llm.base_url else ""
    if provider not in LLM_PROVIDER_PACKAGES:
        # Not one of our extras: let langchain say whether it knows the provider.
        from bot.llm import LLMConfigError, make_chat_model

        try:
            make_chat_model(model, base_url=settings.llm.base_url)
        except LLMConfigError as exc:
            first = str(exc).strip().splitlines()[0]
            return [(False, f"llm: {first} (CAREERBOT_LLM__MODEL)")]
        return _call_models(settings, model)
    missing = [p for p in LLM_PROVIDER_PACKAGES[provider] if not _importable(p)]
    if missing:
        return [
            (
                False,
                f"llm: {model} needs {', '.join(missing)} — pip install 'careerbot[{provider}]'",
            )
        ]
    return _call_models(settings, model, f"{provider} integration installed")


def _call_models(settings: Settings, model: str, what: str = "configured") -> list[Check]:
    """One short call to each configured model, when it has what it needs to answer."""
    llm = settings.llm
    if llm.api_key is None and llm.base_url is None and not model.startswith("ollama:"):
        return [(True, f"llm: {model} configured, {what} (not called: no API key)")]
    from bot.wiring import call_llm

    return [call_llm(settings, name) for name in filter(None, (model, llm.fallback_model))]


def _importable(package: str) -> bool:
    try:
        importlib.import_module(package)
    except ImportError:
        return False
    return True


def check_platforms(settings: Settings) -> list[Check]:
    """Which chat platforms have their tokens (values are never shown)."""
    slack, discord = settings.slack, settings.discord
    results: list[Check] = []
    if slack.bot_token or slack.app_token:
        missing = [
            f"CAREERBOT_SLACK__{n}"
            for n, v in (("BOT_TOKEN", slack.bot_token), ("APP_TOKEN", slack.app_token))
            if v is None
        ]
        if missing and slack.signing_secret is not None and slack.bot_token is not None:
            results.append((True, "slack: bot token and signing secret set (HTTP mode)"))
        elif missing:
            results.append((False, f"slack: missing {', '.join(missing)}"))
        else:
            results.append((True, "slack: tokens set (Socket Mode)"))
    else:
        results.append((True, "slack: not configured"))
    results.append((True, "discord: token set" if discord.token else "discord: not configured"))
    return results


def check_report(settings: Settings) -> list[Check]:
    """Where `serve` posts the weekly knowledge-gap report, if anywhere."""
    from bot.wiring import StartupError, report_platform

    if not settings.report.channel:
        return [(True, "report: no weekly post (CAREERBOT_REPORT__CHANNEL is not set)")]
    running = [
        name
        for name, token in (
            ("slack", settings.slack.bot_token),
            ("discord", settings.discord.token),
        )
        if token is not None
    ]
    try:
        platform = report_platform(settings, running)
    except StartupError as exc:
        return [(False, f"report: {exc}")]
    return [(True, f"report: weekly post to {platform} channel {settings.report.channel}")]
