"""Builds everything from Settings; the only place that picks providers and clients."""

from __future__ import annotations

import logging
from typing import Any

from langchain_core.embeddings import Embeddings

from bot.answering import AnswerConfig, Answerer
from bot.conversations import ConversationStore
from bot.embeddings import make_embeddings
from bot.index import KnowledgeIndex, ProgressFactory
from bot.llm import make_chat_model
from bot.prompts import load_prompts
from bot.retrieval import RetrievalConfig, Retriever
from bot.service import CareerBot
from bot.settings import Settings

log = logging.getLogger(__name__)


def make_chroma_client(settings: Settings) -> Any:
    """PersistentClient under DATA_DIR by default; HttpClient for a Chroma server."""
    import chromadb
    from chromadb.config import Settings as ChromaClientSettings

    client_settings = ChromaClientSettings(anonymized_telemetry=False)
    if settings.chroma.mode == "http":
        return chromadb.HttpClient(
            host=settings.chroma.host,
            port=settings.chroma.port,
            ssl=settings.chroma.ssl,
            settings=client_settings,
        )
    path = settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=client_settings)


def secret(value: Any) -> str | None:
    """The plain value of an optional SecretStr."""
    return value.get_secret_value() if value is not None else None


def build_careerbot(
    settings: Settings,
    *,
    chroma_client: Any = None,
    chat_model: Any = None,
    embeddings: tuple[Embeddings, str] | None = None,
    progress: ProgressFactory | None = None,
) -> CareerBot:
    """Wire the core from settings; collaborators may be passed in (tests, benchmarks)."""
    emb = settings.embedding
    embedder, embedding_name = embeddings or make_embeddings(
        emb.provider,
        model=emb.model,
        base_url=emb.base_url,
        api_key=secret(emb.api_key),
        batch_size=emb.batch_size,
        model_path=emb.model_path,
    )
    client = chroma_client if chroma_client is not None else make_chroma_client(settings)
    index = KnowledgeIndex(
        client, embedder, embedding_name, prefix=settings.chroma.collection_prefix
    )
    r = settings.retrieval
    retriever = Retriever(
        index,
        embedder,
        RetrievalConfig(
            k=r.k,
            candidates=r.candidates,
            rrf_k=r.rrf_k,
            max_per_document=r.max_per_document,
            min_similarity=r.min_similarity,
        ),
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = ConversationStore(settings.resolved_database_url)
    llm = settings.llm
    if chat_model is None and llm.model:
        chat_model = make_chat_model(
            llm.model,
            base_url=llm.base_url,
            api_key=secret(llm.api_key),
            temperature=llm.temperature,
            timeout=llm.timeout,
            max_retries=llm.max_retries,
            max_tokens=llm.max_tokens,
        )
    a = settings.answer
    answerer = Answerer(
        retriever,
        store,
        embedder,
        load_prompts(settings.prompts_dir),
        chat_model=chat_model,
        config=AnswerConfig(
            max_question_chars=a.max_question_chars,
            history_turns=a.history_turns,
            max_quotes=a.max_quotes,
            llm_timeout=llm.timeout,
        ),
        topics=a.topics,
    )
    bot = CareerBot(
        answerer=answerer,
        index=index,
        retriever=retriever,
        store=store,
        knowledge_dir=settings.knowledge_dir,
        embedding_model=embedding_name,
        llm_model=(llm.model or type(chat_model).__name__) if chat_model is not None else None,
        progress=progress,
    )
    retriever.refresh()
    return bot
