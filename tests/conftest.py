"""Shared fixtures: a real CareerBot (extractive mode) over a small fixture corpus."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from bot.embeddings import ONNX_MODEL_NAME, CachedEmbeddings, OnnxMiniLMEmbeddings
from bot.service import CareerBot
from bot.settings import Settings
from bot.wiring import build_careerbot
from tests.pg_server import db_url, postgres_server  # noqa: F401  (shared fixtures)

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_KNOWLEDGE = FIXTURES / "knowledge"
REPO_KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"


class CachingEmbeddings(CachedEmbeddings):
    """The real offline model behind the production cache, unbounded for the test session."""

    def __init__(self, inner: Embeddings) -> None:
        super().__init__(inner, max_items=10**9)


@pytest.fixture(scope="session")
def embedder() -> CachingEmbeddings:
    """One loaded ONNX model for the whole session."""
    return CachingEmbeddings(OnnxMiniLMEmbeddings())


MakeCareerBot = Callable[..., CareerBot]


@pytest.fixture
def make_careerbot(
    tmp_path: Path, embedder: CachingEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MakeCareerBot]:
    """Factory: a real CareerBot over a copy of a knowledge folder, index built, fresh store.

    `make_careerbot(knowledge_dir=..., chat_model=..., build=False, **settings)`; settings
    keys are Settings fields (nested groups as dicts).
    """
    for name in list(__import__("os").environ):
        if name.startswith("CAREERBOT_"):
            monkeypatch.delenv(name)
    made: list[CareerBot] = []

    def make(
        knowledge_dir: Path | None = None,
        chat_model: Any = None,
        build: bool = True,
        **overrides: Any,
    ) -> CareerBot:
        n = len(made)
        folder = tmp_path / f"knowledge{n}"
        shutil.copytree(knowledge_dir or FIXTURE_KNOWLEDGE, folder)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            knowledge_dir=folder,
            data_dir=tmp_path / f"data{n}",
            **overrides,
        )
        bot = build_careerbot(
            settings, chat_model=chat_model, embeddings=(embedder, ONNX_MODEL_NAME)
        )
        if build:
            bot.reload_sync()
        made.append(bot)
        return bot

    yield make
    for bot in made:
        bot.close()
