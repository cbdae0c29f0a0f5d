"""Warm-up: the serving index's sentences are embedded before anyone asks."""

from __future__ import annotations

import threading
from pathlib import Path

from bot.embeddings import ONNX_MODEL_NAME, CachedEmbeddings
from bot.extractive import passage_sentences as composer_sentences
from bot.models import Question
from bot.retrieval import passage_sentences as retrieval_sentences
from bot.settings import Settings
from bot.wiring import build_careerbot
from tests.conftest import FIXTURE_KNOWLEDGE, CachingEmbeddings


async def test_after_warm_up_an_answer_embeds_only_the_question(
    tmp_path: Path, embedder: CachingEmbeddings
) -> None:
    fresh = CachedEmbeddings(embedder.inner, max_items=100_000)  # the model, an empty cache
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        knowledge_dir=FIXTURE_KNOWLEDGE,
        data_dir=tmp_path / "data",
    )
    bot = build_careerbot(settings, embeddings=(fresh, ONNX_MODEL_NAME))
    try:
        bot.reload_sync()
        sentences = {
            text
            for p in bot.retriever.snapshot.passages
            for text in [
                *retrieval_sentences(p.text),
                *(s.text for line in composer_sentences(p) for s in line),
            ]
        }

        stopped = threading.Event()
        stopped.set()  # a shutting-down process: nothing is embedded
        assert bot.answerer.warm_up(stopped) == 0
        assert not sentences & set(fresh.cache)

        assert bot.answerer.warm_up() == len(sentences)
        warmed = set(fresh.cache)
        assert sentences <= warmed

        answer = await bot.answer(
            Question(text="How should I find my personal fit?", asker="u", conversation_key="k")
        )

        assert answer.citations
        embedded_to_answer = set(fresh.cache) - warmed
        assert embedded_to_answer, "the question itself is embedded"
        assert not embedded_to_answer & sentences
    finally:
        bot.close()


async def test_warm_up_on_an_index_not_built_embeds_nothing(
    tmp_path: Path, embedder: CachingEmbeddings
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        knowledge_dir=FIXTURE_KNOWLEDGE,
        data_dir=tmp_path / "data",
    )
    bot = build_careerbot(settings, embeddings=(embedder, ONNX_MODEL_NAME))
    try:
        assert bot.answerer.warm_up() == 0
        await bot.warm_up()  # the serve task: never raises
    finally:
        bot.close()
