"""Configuration: pydantic-settings with nested groups, env prefix CAREERBOT_ and .env support."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split_ids(value: object) -> object:
    """Accept `U1,U2` as well as a JSON list for id lists in env vars."""
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("["):
            import json

            return json.loads(value)
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EmbeddingSettings(_Group):
    provider: Literal["onnx", "openai", "ollama"] = Field(
        "onnx",
        description="Embedding provider: 'onnx' (offline all-MiniLM-L6-v2 int8, the default), "
        "'openai' or 'ollama' (need the matching extra installed).",
    )
    model: str | None = Field(
        None,
        description="Model name for openai/ollama providers (e.g. text-embedding-3-small, "
        "nomic-embed-text). Ignored for onnx.",
    )
    base_url: str | None = Field(None, description="Base URL for the openai/ollama provider.")
    api_key: SecretStr | None = Field(None, description="API key for the openai provider.")
    batch_size: int = Field(16, ge=1, le=512, description="Passages embedded per batch.")
    model_path: Path | None = Field(
        None,
        description="Use this model.onnx instead of the packaged one (checksum still verified).",
    )


class ChromaSettings(_Group):
    mode: Literal["embedded", "http"] = Field(
        "embedded",
        description="'embedded' stores the index under DATA_DIR (PersistentClient); 'http' talks "
        "to a Chroma server (HttpClient).",
    )
    host: str = Field("localhost", description="Chroma server host (http mode).")
    port: int = Field(8000, ge=1, le=65535, description="Chroma server port (http mode).")
    ssl: bool = Field(False, description="Use HTTPS to reach the Chroma server.")
    collection_prefix: str = Field(
        "careerbot", description="Prefix of the Chroma collections this bot owns."
    )
    generation_grace_seconds: float = Field(
        600.0,
        ge=0.0,
        description="An index generation older than the previous one is dropped by a later "
        "ingest only after it has been out of use this long (replicas may still be reading it).",
    )
    reload_lease_seconds: float = Field(
        1800.0,
        gt=0.0,
        description="How long a reload may hold the shared reload lease before another "
        "process may take over (a crashed reload's lease expires after this).",
    )
    retry_attempts: int = Field(
        3, ge=1, le=20, description="Tries per Chroma call when the server is unreachable."
    )
    retry_max_wait: float = Field(
        2.0, ge=0.0, description="Longest backoff in seconds between Chroma retries."
    )


class RetrievalSettings(_Group):
    k: int = Field(5, ge=1, le=20, description="Passages handed to the answer step.")
    candidates: int = Field(30, ge=5, le=200, description="Candidates per ranker before fusion.")
    fusion: Literal["relative", "rrf"] = Field(
        "relative",
        description="How dense and keyword rankings combine: 'relative' (scores scaled 0..1 "
        "and weighted; measured best) or 'rrf' (reciprocal rank fusion).",
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant (fusion=rrf).")
    dense_weight: float = Field(1.0, ge=0.0, description="Weight of the dense (vector) ranking.")
    keyword_weight: float = Field(1.5, ge=0.0, description="Weight of the BM25 keyword ranking.")
    max_per_document: int = Field(
        2, ge=1, description="Passages of one post beyond this many are ranked down."
    )
    diversity_penalty: float = Field(
        0.9,
        ge=0.0,
        le=1.0,
        description="Score factor per extra passage from the same post (0 = hard cap).",
    )
    min_similarity: float = Field(
        0.30,
        ge=-1.0,
        le=1.0,
        description="Relevance gate: a best cosine similarity at or above this means the "
        "corpus covers the question; below it the bot says so instead of stretching.",
    )
    keyword_min_similarity: float = Field(
        0.24,
        ge=-1.0,
        le=1.0,
        description="Gate, keyword route: a question at or above this cosine is still "
        "covered when its best BM25 score reaches KEYWORD_EVIDENCE.",
    )
    keyword_evidence: float = Field(
        2.0, ge=0.0, description="Gate, keyword route: BM25 score that counts as evidence."
    )
    strong_keyword_min_similarity: float = Field(
        0.20,
        ge=-1.0,
        le=1.0,
        description="Gate, strong keyword route: a chatty question whose context dilutes "
        "its cosine is still covered at or above this when its best BM25 score reaches "
        "STRONG_KEYWORD_EVIDENCE.",
    )
    strong_keyword_evidence: float = Field(
        3.5, ge=0.0, description="Gate, strong keyword route: BM25 score it needs."
    )


class LLMSettings(_Group):
    model: str | None = Field(
        None,
        description="Chat model as 'provider:model' for langchain init_chat_model, e.g. "
        "'openai:gpt-4o-mini', 'anthropic:claude-3-5-haiku-latest', 'ollama:llama3.1'. "
        "Unset = extractive answers, no LLM.",
    )
    base_url: str | None = Field(
        None, description="OpenAI-compatible base URL (vLLM, LM Studio, llama.cpp, Ollama /v1)."
    )
    api_key: SecretStr | None = Field(None, description="API key for the chat model provider.")
    temperature: float = Field(0.2, ge=0.0, le=2.0, description="Sampling temperature.")
    timeout: float = Field(
        30.0,
        gt=0,
        description="Seconds one answer may spend on the model (rewriting a follow-up, "
        "answering, retries and the fallback model together); then quotes are shown.",
    )
    max_retries: int = Field(
        2,
        ge=0,
        le=10,
        description="Retries on connection errors, 5xx and 429 (Retry-After is honoured only "
        "if it fits in the answer's time budget).",
    )
    max_tokens: int = Field(600, ge=50, le=8000, description="Cap on answer length in tokens.")
    fallback_model: str | None = Field(
        None,
        description="Backup chat model ('provider:model', same BASE_URL and API_KEY) tried "
        "before falling back to quotes.",
    )
    breaker_failures: int = Field(
        3,
        ge=1,
        description="Consecutive failed calls after which a model is skipped for "
        "BREAKER_COOLDOWN seconds.",
    )
    breaker_cooldown: float = Field(
        60.0, gt=0, description="Seconds a failing model is skipped before it is tried again."
    )


class AnswerSettings(_Group):
    max_question_chars: int = Field(
        2000, ge=50, description="Longer messages are cut to this length, and the user is told."
    )
    history_turns: int = Field(
        6, ge=0, le=50, description="Previous turns of a conversation used for follow-ups."
    )
    max_quotes: int = Field(3, ge=1, le=10, description="Quotes in an extractive answer.")
    topics: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "research skills",
            "upskilling and PhDs",
            "MATS and mentorship",
            "finding a first job",
            "alignment research directions",
            "governance and policy work",
            "burnout",
        ],
        description="Examples offered when a question is not covered (comma-separated).",
    )
    decline_hint: str = Field(
        "",
        description=(
            "A next step added when the posts don't cover a question, e.g. 'Ask in #careers "
            "and a person will pick it up.'; empty = none, except that a question about "
            "something the posts never mention gets 'Someone in the community may know…'. "
            "Either way such a decline first lists the topics the posts do discuss (once a "
            "conversation)."
        ),
    )
    support_message: str = Field(
        "If things feel heavy right now, please talk to someone you trust, and if you are in "
        "danger or thinking of harming yourself, contact your local emergency number or a "
        "crisis line (findahelpline.com lists them by country).",
        description=(
            "What a message that reads as acute distress gets instead of quotes: point to "
            "support resources your community trusts."
        ),
    )

    _split = field_validator("topics", mode="before")(_split_ids)


class SlackSettings(_Group):
    bot_token: SecretStr | None = Field(None, description="Bot user OAuth token (xoxb-...).")
    app_token: SecretStr | None = Field(
        None, description="App-level token (xapp-...) for Socket Mode, the default transport."
    )
    signing_secret: SecretStr | None = Field(
        None, description="Signing secret; required for HTTP mode (`serve slack --http`)."
    )
    api_url: str = Field(
        "https://slack.com/api/", description="Slack Web API base URL (tests point it locally)."
    )
    admin_user_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Slack user ids allowed to run `/careerbot reload` (comma-separated).",
    )
    thread_followups: bool = Field(
        True,
        description="Answer later messages in a thread the bot has answered in, without a "
        "new mention.",
    )
    assistant: bool = Field(
        False,
        description="Serve Slack's AI-app surface (bolt Assistant): suggested prompts when an "
        "assistant thread opens, a status while answering. Needs the `assistant:write` scope "
        "and the Agents & AI Apps feature (see deploy/slack-manifest.yml).",
    )
    auto_answer_channels: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Channel ids (C…/G…, comma-separated) where every top-level question is "
        "answered in a thread without a mention; the bot must be invited there.",
    )

    _split = field_validator("admin_user_ids", "auto_answer_channels", mode="before")(_split_ids)


class DiscordSettings(_Group):
    token: SecretStr | None = Field(None, description="Discord bot token.")
    admin_user_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Discord user ids allowed to /reload (comma-separated)."
    )
    admin_role_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Discord role ids allowed to /reload (comma-separated)."
    )
    test_guild_id: int | None = Field(
        None, description="Sync slash commands to this guild only (instant; for testing)."
    )
    thread_mode: bool = Field(
        False, description="Open a thread for each new conversation started by a mention."
    )
    api_base: str | None = Field(
        None, description="Override Discord's REST base URL (tests point it at a local fake)."
    )
    shard_id: int | None = Field(
        None,
        ge=0,
        description="This process's shard, 0..SHARD_COUNT-1, when several processes share "
        "the bot (each serves its shard's servers; DMs go to shard 0).",
    )
    shard_count: int | None = Field(
        None, ge=1, description="Total shards across all processes (set with SHARD_ID)."
    )
    auto_answer_channel_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="Text channel ids (each top-level question gets a thread, answered "
        "there) and forum channel ids (each new post is answered in its thread), "
        "comma-separated.",
    )

    _split = field_validator(
        "admin_user_ids", "admin_role_ids", "auto_answer_channel_ids", mode="before"
    )(_split_ids)

    @model_validator(mode="after")
    def _shards(self) -> DiscordSettings:
        if (self.shard_id is None) != (self.shard_count is None):
            raise ValueError("set SHARD_ID and SHARD_COUNT together")
        if self.shard_id is not None and self.shard_count and self.shard_id >= self.shard_count:
            raise ValueError("SHARD_ID must be below SHARD_COUNT")
        return self


class StoreSettings(_Group):
    retention_days: int = Field(
        90,
        ge=1,
        description="Conversations, feedback, reply chains and shared answers older than this "
        "many days are deleted (hourly while serving, or `careerbot prune`).",
    )
    event_ttl_hours: int = Field(
        24,
        ge=1,
        description="How long Slack/Discord event ids are kept to drop redeliveries.",
    )
    turn_lock_seconds: float = Field(
        180.0,
        gt=0,
        description="A conversation's turn lock expires after this long, so a crashed "
        "replica cannot block the conversation.",
    )
    turn_wait_seconds: float = Field(
        60.0,
        gt=0,
        description="How long a message waits for the previous answer of its conversation "
        "before the user is asked to resend.",
    )


class SuggestSettings(_Group):
    count: int = Field(
        3,
        ge=0,
        le=3,
        description="Suggested next questions offered under an answer, taken from the sections "
        "next to the cited ones (0 = none).",
    )


class HttpSettings(_Group):
    port: int = Field(
        8080,
        ge=0,
        le=65535,
        description="Port of the ops HTTP server `serve` runs: /healthz, /readyz, /metrics "
        "(0 = off). Separate from Slack's --http events port.",
    )
    host: str = Field("0.0.0.0", description="Bind address of the ops HTTP server.")


class AutoAnswerSettings(_Group):
    min_words: int = Field(
        8,
        ge=1,
        le=100,
        description="In auto-answer channels, a message without a question mark or a "
        "leading question word (how, what, should, …) is answered only from this many words; "
        "one that reads as a question needs 3. 'thanks!', 'lol' and emoji are never answered.",
    )


class LimitsSettings(_Group):
    enabled: bool = Field(
        True,
        description="Fair-use rate limits on Slack and Discord (admins are exempt); counted "
        "in the shared database, so replicas enforce one limit.",
    )
    per_user_per_minute: int = Field(
        6, ge=0, description="Questions one person may ask per minute (0 = no limit)."
    )
    per_user_per_hour: int = Field(
        60, ge=0, description="Questions one person may ask per hour (0 = no limit)."
    )
    per_channel_per_minute: int = Field(
        30,
        ge=0,
        description="Questions answered per minute in one channel, all askers together "
        "(DMs are not channels; 0 = no limit).",
    )


class ReportSettings(_Group):
    channel: str | None = Field(
        None,
        description="Post the knowledge-gap report (last 7 days) here once a week while "
        "`serve` runs: a Slack channel id (C…) or a Discord channel id. Empty = never.",
    )
    platform: Literal["slack", "discord"] | None = Field(
        None,
        description="Which platform REPORT__CHANNEL is on; needed when `serve all` runs both.",
    )
    check_hours: float = Field(
        6.0,
        gt=0,
        description="How often `serve` checks whether this week's report is due (hours); "
        "one replica posts it, claimed in the database.",
    )


class KnowledgeSettings(_Group):
    git_remote: str | None = Field(
        None,
        description="Git URL (or remote name) that `reload` fast-forwards the knowledge folder "
        "from before building (an empty or missing folder is cloned). Unset: reload pulls only "
        "when KNOWLEDGE_DIR is the top of its own git checkout with an upstream branch.",
    )
    git_branch: str | None = Field(
        None,
        description="Branch to pull; default: the checkout's current branch (or its upstream's).",
    )
    git_timeout_seconds: float = Field(
        60.0,
        gt=0,
        description="How long one git command (fetch, merge, clone) may take before the reload "
        "gives up and the previous index keeps serving.",
    )


class AuditSettings(_Group):
    retention_days: int = Field(
        365,
        ge=1,
        description="Admin actions (reload, dry run, rollback, …) are kept this many days, "
        "longer than conversations: they hold ids and outcomes, no questions.",
    )


class MentorSettings(_Group):
    slack_channel: str | None = Field(
        None,
        description='Slack channel id (C…) where "Ask a mentor" posts questions; the bot must '
        'be a member. Unset = no "Ask a mentor" button on Slack.',
    )
    discord_channel_id: int | None = Field(
        None,
        description='Discord channel id where "Ask a mentor" posts questions (each opens a '
        'thread). Unset = no "Ask a mentor" button on Discord.',
    )
    slack_user_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Slack user ids of mentors (comma-separated): only their replies in a "
        "mentors thread are relayed to the asker. Slack admins count as mentors too.",
    )
    discord_user_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="Discord user ids of mentors (comma-separated); Discord admins count too.",
    )
    discord_role_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="Discord role ids whose members are mentors (comma-separated).",
    )
    review_dir: Path = Field(
        Path("knowledge-review"),
        description='Where mentor replies marked "Add to knowledge" wait for an admin '
        "(`careerbot review list|accept NAME|reject NAME`).",
    )
    credit_mentors: bool = Field(
        False,
        description="Name the mentor as author of replies added to knowledge (set it once your "
        "mentors agreed); otherwise the author is 'careerbot mentor'.",
    )

    _split = field_validator(
        "slack_user_ids", "discord_user_ids", "discord_role_ids", mode="before"
    )(_split_ids)


class Settings(BaseSettings):
    """Everything the bot can be configured with; see `.env.example`."""

    model_config = SettingsConfigDict(
        env_prefix="CAREERBOT_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
    )

    knowledge_dir: Path = Field(Path("knowledge"), description="Folder of knowledge *.md files.")
    knowledge_max_file_kb: int = Field(
        512,
        ge=1,
        description="A knowledge file larger than this (KB) is refused by ingest/reload, "
        "naming the file; the previous index keeps serving.",
    )
    data_dir: Path = Field(
        Path(".careerbot"),
        description="Where the embedded Chroma index and the conversation database live.",
    )
    prompts_dir: Path | None = Field(
        None, description="Folder of prompt templates; default: the project's prompts/."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL for conversations and feedback (e.g. postgresql+psycopg://"
        "...); default: SQLite in DATA_DIR.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Logging level."
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="'text' for people, 'json' for log collectors: one object per line with "
        "the request id of the answer it belongs to.",
    )
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chroma: ChromaSettings = Field(default_factory=ChromaSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    auto_answer: AutoAnswerSettings = Field(default_factory=AutoAnswerSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    mentors: MentorSettings = Field(default_factory=MentorSettings)
    suggest: SuggestSettings = Field(default_factory=SuggestSettings)

    @property
    def resolved_database_url(self) -> str:
        """The conversation database URL, defaulting to SQLite inside DATA_DIR."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'careerbot.db').as_posix()}"
