"""Builds everything from Settings; the only place that picks providers and clients."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from bot.settings import Settings

# Heavy modules (chromadb, langchain, the answering core) are imported where they are used,
# so `careerbot --help`, `doctor` and a no-op `ingest` start without them.
if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from bot.answering import Answerer
    from bot.index import KnowledgeIndex, ProgressFactory
    from bot.knowledge_git import GitKnowledge
    from bot.report import Report
    from bot.service import CareerBot

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """A service or driver the bot needs is missing or unreachable (one line for a person)."""


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def make_chroma_client(settings: Settings) -> Any:
    """PersistentClient under DATA_DIR by default; HttpClient for a Chroma server.

    A server that stays unreachable through bounded retries is IndexUnavailable (one line).
    """
    import chromadb
    from chromadb.config import Settings as ChromaClientSettings

    client_settings = ChromaClientSettings(anonymized_telemetry=False)
    c = settings.chroma
    if c.mode == "http":
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt
        from tenacity import wait_exponential as backoff

        try:
            # HttpClient checks the server when created; it says "Could not connect" as a
            # ValueError, and a bad host or port is no better on a second try than the first.
            for attempt in Retrying(
                stop=stop_after_attempt(c.retry_attempts),
                wait=backoff(multiplier=0.2, max=c.retry_max_wait),
                retry=retry_if_exception_type(ValueError),
                reraise=True,
            ):
                with attempt:
                    return chromadb.HttpClient(
                        host=c.host, port=c.port, ssl=c.ssl, settings=client_settings
                    )
        except ValueError as exc:
            from bot.models import IndexUnavailable

            log.debug("Chroma server unreachable", exc_info=exc)
            raise IndexUnavailable(
                f"cannot reach the Chroma server at {chroma_location(settings)} after "
                f"{c.retry_attempts} tries; start it, or check CAREERBOT_CHROMA__HOST and "
                "CAREERBOT_CHROMA__PORT"
            ) from None
    path = settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=client_settings)


def chroma_location(settings: Settings) -> str:
    """Where the index lives, for messages: the server URL or the embedded folder."""
    c = settings.chroma
    if c.mode == "http":
        return f"{'https' if c.ssl else 'http'}://{c.host}:{c.port}"
    return f"embedded Chroma in {settings.data_dir / 'chroma'}"


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
    from bot.channels import ChannelSwitches
    from bot.conversations import ConversationStore
    from bot.embeddings import CachedEmbeddings, make_embeddings
    from bot.prompts import load_prompts
    from bot.retrieval import RetrievalConfig, Retriever
    from bot.service import CareerBot

    emb = settings.embedding
    embedder, embedding_name = embeddings or make_embeddings(
        emb.provider,
        model=emb.model,
        base_url=emb.base_url,
        api_key=secret(emb.api_key),
        batch_size=emb.batch_size,
        model_path=emb.model_path,
    )
    # Queries and quoted sentences go through a cache; the index embeds passages directly.
    cached = CachedEmbeddings(embedder)
    client = chroma_client if chroma_client is not None else make_chroma_client(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = ConversationStore(settings.resolved_database_url)
    index = make_index(settings, client, embedder, embedding_name, store.engine)
    r = settings.retrieval
    retriever = Retriever(
        index,
        cached,
        RetrievalConfig(
            k=r.k,
            candidates=r.candidates,
            fusion=r.fusion,
            rrf_k=r.rrf_k,
            dense_weight=r.dense_weight,
            keyword_weight=r.keyword_weight,
            max_per_document=r.max_per_document,
            diversity_penalty=r.diversity_penalty,
            min_similarity=r.min_similarity,
            keyword_min_similarity=r.keyword_min_similarity,
            keyword_evidence=r.keyword_evidence,
            strong_keyword_min_similarity=r.strong_keyword_min_similarity,
            strong_keyword_evidence=r.strong_keyword_evidence,
        ),
    )
    llm = settings.llm
    if chat_model is None and llm.model:
        chat_model = _chat_model(settings, llm.model)
    a = settings.answer
    prompts = load_prompts(settings.prompts_dir)  # a bad template fails at start-up

    def make_answerer() -> Answerer:
        from bot.answering import AnswerConfig, Answerer
        from bot.llm import LLMConfig, LLMResponder

        responder = None
        if chat_model is not None:
            models = [(llm.model or "chat model", chat_model)]
            if llm.fallback_model:
                models.append((llm.fallback_model, _chat_model(settings, llm.fallback_model)))
            responder = LLMResponder(
                models,
                prompts,
                cached,
                LLMConfig(
                    timeout=llm.timeout,
                    max_retries=llm.max_retries,
                    breaker_failures=llm.breaker_failures,
                    breaker_cooldown=llm.breaker_cooldown,
                ),
            )

        return Answerer(
            retriever,
            store,
            cached,
            prompts,
            chat_model=chat_model,
            config=AnswerConfig(
                max_question_chars=a.max_question_chars,
                history_turns=a.history_turns,
                max_quotes=a.max_quotes,
                decline_hint=a.decline_hint,
                support_message=a.support_message,
            ),
            topics=a.topics,
            llm=responder,
        )

    bot = CareerBot(
        answerer=make_answerer,
        index=index,
        retriever=retriever,
        store=store,
        knowledge_dir=settings.knowledge_dir,
        embedding_model=embedding_name,
        llm_model=(llm.model or type(chat_model).__name__) if chat_model is not None else None,
        progress=progress,
        reload_lease_seconds=settings.chroma.reload_lease_seconds,
        max_file_bytes=settings.knowledge_max_file_kb * 1024,
        retention_days=settings.store.retention_days,
        event_ttl_hours=settings.store.event_ttl_hours,
        turn_lock_seconds=settings.store.turn_lock_seconds,
        turn_wait_seconds=settings.store.turn_wait_seconds,
        fair_use=make_fair_use(settings, store.engine),
        channels=ChannelSwitches(store.engine),
        auto_answer_min_words=settings.auto_answer.min_words,
        git=make_git_knowledge(settings),
        audit_retention_days=settings.audit.retention_days,
        review_dir=settings.mentors.review_dir,
        credit_mentors=settings.mentors.credit_mentors,
        suggestions=settings.suggest.count,
    )
    retriever.refresh()
    return bot


def make_fair_use(settings: Settings, engine: Any, clock: Any = None) -> Any:
    """FairUse from settings, its counters in the shared database behind `engine`."""
    import time

    from bot.fair_use import FairUse, LimitsConfig, SQLCounterStorage

    lim = settings.limits
    return FairUse(
        SQLCounterStorage(engine, clock or time.time),
        LimitsConfig(
            enabled=lim.enabled,
            per_user_per_minute=lim.per_user_per_minute,
            per_user_per_hour=lim.per_user_per_hour,
            per_channel_per_minute=lim.per_channel_per_minute,
        ),
    )


def make_git_knowledge(settings: Settings) -> GitKnowledge:
    """The knowledge folder as a git checkout `reload` pulls (a no-op when not git-backed)."""
    from bot.knowledge_git import GitKnowledge

    k = settings.knowledge
    return GitKnowledge(
        settings.knowledge_dir,
        remote=k.git_remote,
        branch=k.git_branch,
        timeout=k.git_timeout_seconds,
    )


def _chat_model(settings: Settings, model: str) -> Any:
    """A chat model from settings; retries are ours (bounded by the answer's deadline)."""
    from bot.llm import make_chat_model

    llm = settings.llm
    return make_chat_model(
        model,
        base_url=llm.base_url,
        api_key=secret(llm.api_key),
        temperature=llm.temperature,
        timeout=llm.timeout,
        max_retries=0,
        max_tokens=llm.max_tokens,
    )


def call_llm(settings: Settings, name: str, timeout: float = 10.0) -> tuple[bool, str]:
    """Doctor: build the model and make one cheap call; the key never appears in the line."""
    import asyncio

    from bot.llm import LLMConfigError, check_model

    try:
        model = _chat_model(settings, name)
    except LLMConfigError as exc:
        return False, f"llm: {exc}"
    ok, line = asyncio.run(check_model(model, name, min(timeout, settings.llm.timeout)))
    key = secret(settings.llm.api_key)
    return ok, line.replace(key, "***") if key else line


def make_index(
    settings: Settings, client: Any, embedder: Embeddings, embedding_name: str, engine: Any
) -> KnowledgeIndex:
    """The index over `client`, with its pointer in the shared database behind `engine`."""
    from bot.index import ChromaRetry, KnowledgeIndex
    from bot.index_pointer import IndexPointer

    c = settings.chroma
    return KnowledgeIndex(
        client,
        embedder,
        embedding_name,
        prefix=c.collection_prefix,
        pointer=IndexPointer(engine),
        grace_seconds=c.generation_grace_seconds,
        retry=ChromaRetry(attempts=c.retry_attempts, max_wait=c.retry_max_wait),
        location=chroma_location(settings),
    )


class MissingToken(ValueError):
    """A platform was asked for without the token(s) it needs."""


def slack_config(settings: Settings, *, http: bool) -> tuple[Any, str | None]:
    """SlackConfig from settings, plus the app token for Socket Mode; MissingToken if absent."""
    s = settings.slack
    if s.bot_token is None:
        raise MissingToken("CAREERBOT_SLACK__BOT_TOKEN is not set (needed for serve slack)")
    if http and s.signing_secret is None:
        raise MissingToken("CAREERBOT_SLACK__SIGNING_SECRET is not set (needed for --http)")
    if not http and s.app_token is None:
        raise MissingToken(
            "CAREERBOT_SLACK__APP_TOKEN is not set (Socket Mode needs an xapp- token; "
            "or use --http with a signing secret)"
        )
    from bot.adapters.slack_app import SlackConfig

    config = SlackConfig(
        bot_token=s.bot_token.get_secret_value(),
        signing_secret=secret(s.signing_secret) or "",
        api_url=s.api_url,
        admin_user_ids=frozenset(s.admin_user_ids),
        thread_followups=s.thread_followups,
        auto_answer_channels=frozenset(s.auto_answer_channels),
        mentors_channel=settings.mentors.slack_channel,
        mentor_user_ids=frozenset(settings.mentors.slack_user_ids),
        assistant=s.assistant,
    )
    return config, secret(s.app_token)


def discord_config(settings: Settings) -> tuple[Any, str]:
    """DiscordConfig from settings plus the token; MissingToken if absent."""
    d = settings.discord
    if d.token is None:
        raise MissingToken("CAREERBOT_DISCORD__TOKEN is not set (needed for serve discord)")
    from bot.adapters.discord_bot import DiscordConfig

    config = DiscordConfig(
        admin_user_ids=frozenset(d.admin_user_ids),
        admin_role_ids=frozenset(d.admin_role_ids),
        test_guild_id=d.test_guild_id,
        thread_mode=d.thread_mode,
        api_base=d.api_base,
        shard_id=d.shard_id,
        shard_count=d.shard_count,
        auto_answer_channel_ids=frozenset(d.auto_answer_channel_ids),
        mentors_channel_id=settings.mentors.discord_channel_id,
        mentor_user_ids=frozenset(settings.mentors.discord_user_ids),
        mentor_role_ids=frozenset(settings.mentors.discord_role_ids),
    )
    return config, d.token.get_secret_value()


class PlatformError(RuntimeError):
    """Slack or Discord could not be reached, or refused us, at start-up (one line)."""


async def _reaching(platform: str, where: str, run: Awaitable[Any]) -> None:
    """Await a platform runner; a network failure becomes one line naming the platform."""
    import aiohttp

    try:
        await run
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        log.debug("%s unreachable", platform, exc_info=True)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PlatformError(
            f"cannot reach {platform} at {where} ({reason}); check the network or proxy"
        ) from None


async def _slack_preflight(app: Any, api_url: str) -> None:
    """Call auth.test once, so an unreachable Slack or a rejected token is one line.

    Socket Mode would otherwise retry forever, logging a traceback every few seconds.
    """
    from slack_sdk.errors import SlackApiError

    try:
        await _reaching("Slack", api_url, app.client.auth_test())
    except SlackApiError as exc:
        error = exc.response.get("error", "error") if exc.response is not None else "error"
        raise PlatformError(
            f"Slack rejected the bot token ({error}): check CAREERBOT_SLACK__BOT_TOKEN"
        ) from None


async def serve(
    bot: CareerBot, settings: Settings, platform: str, *, http: bool, host: str, port: int
) -> None:
    """Run Slack, Discord or both on one event loop until interrupted."""
    import asyncio

    bot.answerer  # noqa: B018  -- build the answering core now, not on the first question
    tasks = []
    running = []
    report_post: Callable[[Report], Awaitable[None]] | None = None
    report_ready: Callable[[], Awaitable[Any]] | None = None
    if platform in ("slack", "all") and settings.slack.bot_token is not None:
        running.append("slack")
    if platform in ("discord", "all") and settings.discord.token is not None:
        running.append("discord")
    posting = report_platform(settings, running)
    channel = settings.report.channel or ""
    if platform in ("slack", "all"):
        from bot.adapters.slack_app import create_app, run_http, run_socket_mode

        try:
            config, app_token = slack_config(settings, http=http)
        except MissingToken:
            if platform == "slack":
                raise
            log.warning("serve all: Slack not configured, skipping")
        else:
            app = create_app(bot, config)
            await _slack_preflight(app, settings.slack.api_url)
            if posting == "slack":
                from bot.adapters.slack_app import report_poster

                report_post = report_poster(app.client, channel)
            if http:
                tasks.append(_reaching("Slack", settings.slack.api_url, run_http(app, host, port)))
            else:
                assert app_token is not None
                tasks.append(
                    _reaching("Slack", settings.slack.api_url, run_socket_mode(app, app_token))
                )
    if platform in ("discord", "all"):
        from bot.adapters.discord_bot import CareerDiscordBot, run_discord

        try:
            dconfig, token = discord_config(settings)
        except MissingToken:
            if platform == "discord":
                raise
            log.warning("serve all: Discord not configured, skipping")
        else:
            where = settings.discord.api_base or "discord.com"
            discord_bot = CareerDiscordBot(bot, dconfig)
            if posting == "discord":
                report_post = discord_bot.report_poster(channel)
                report_ready = discord_bot.wait_until_ready
            tasks.append(_reaching("Discord", where, run_discord(discord_bot, token)))
    if not tasks:
        raise MissingToken(
            "neither Slack nor Discord is configured: set CAREERBOT_SLACK__BOT_TOKEN and "
            "CAREERBOT_SLACK__APP_TOKEN, or CAREERBOT_DISCORD__TOKEN"
        )
    if settings.http.port:
        from bot.metrics import REGISTRY
        from bot.ops_http import run_ops_http

        tasks.append(run_ops_http(bot.readiness, REGISTRY, settings.http.host, settings.http.port))
    retention = asyncio.create_task(prune_periodically(bot))
    warm = asyncio.create_task(bot.warm_up())
    weekly = (
        asyncio.create_task(
            report_periodically(
                bot, report_post, settings.report.check_hours * 3600, ready=report_ready
            )
        )
        if report_post is not None
        else None
    )
    try:
        await asyncio.gather(*tasks)
    finally:
        retention.cancel()
        warm.cancel()
        if weekly is not None:
            weekly.cancel()


async def prune_periodically(bot: CareerBot, every_seconds: float = 3600.0) -> None:
    """The retention job while serving: prune now, then hourly; a failure waits for the next."""
    import asyncio

    while True:
        try:
            await bot.prune()
        except Exception as exc:  # the database may be briefly away; try again next time
            log.warning("retention: pruning failed (%s: %s)", type(exc).__name__, exc)
        await asyncio.sleep(every_seconds)


def report_platform(settings: Settings, running: Sequence[str]) -> str | None:
    """Which running platform posts the weekly report (None: no REPORT__CHANNEL)."""
    r = settings.report
    if not r.channel:
        return None
    if r.platform is not None:
        if r.platform not in running:
            raise StartupError(
                f"CAREERBOT_REPORT__PLATFORM is {r.platform} but serve is not running "
                f"{r.platform}; unset it or serve {r.platform}"
            )
        return r.platform
    if not running:
        raise StartupError(
            "CAREERBOT_REPORT__CHANNEL is set but neither Slack nor Discord is configured"
        )
    if len(running) != 1:
        raise StartupError(
            "CAREERBOT_REPORT__CHANNEL is set while serving both platforms: set "
            "CAREERBOT_REPORT__PLATFORM to slack or discord"
        )
    return running[0]


async def report_periodically(
    bot: CareerBot,
    post: Callable[[Report], Awaitable[None]],
    every_seconds: float,
    *,
    ready: Callable[[], Awaitable[Any]] | None = None,
) -> None:
    """The weekly knowledge-gap post while serving: check now, then every `every_seconds`.

    One replica posts per ISO week (claimed in the database); a failure waits for the next
    check, and the week it claimed is not posted again. `ready` (Discord: connected) is
    awaited before the first claim, so a replica never claims a week it cannot post.
    """
    import asyncio

    if ready is not None:
        await ready()
    while True:
        try:
            await bot.post_weekly_report(post)
        except Exception as exc:  # the platform or the database may be briefly away
            log.warning("weekly report: posting failed (%s: %s)", type(exc).__name__, exc)
        await asyncio.sleep(every_seconds)
