"""Shared fixtures: a real CareerBot (extractive mode) over a small fixture corpus."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from bot.embeddings import ONNX_MODEL_NAME, OnnxMiniLMEmbeddings
from bot.service import CareerBot
from bot.settings import Settings
from bot.wiring import build_careerbot

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_KNOWLEDGE = FIXTURES / "knowledge"
REPO_KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"


class CachingEmbeddings(Embeddings):
    """The real offline model, with a per-session cache so many small builds stay fast."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.cache: dict[str, list[float]] = {}
        self.calls = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.calls += 1
            for text, vector in zip(missing, self.inner.embed_documents(missing), strict=True):
                self.cache[text] = vector
        return [self.cache[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


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
