"""The one answering core: follow-ups, retrieval, the gate, answers (quotes or LLM), citations."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel

from bot.conversations import ConversationStore
from bot.extractive import compose, pick_quotes
from bot.llm import FALLBACK_NOTICES, LLMFailed, LLMResponder, Partial
from bot.models import Answer, EmptyQuestion, IndexNotReady, Passage, Question, Turn
from bot.prompts import NOT_COVERED, Prompts
from bot.resilience import Failure
from bot.retrieval import RetrievalResult, Retriever, keyword_tokens

log = logging.getLogger(__name__)

LLM_FALLBACK_NOTICE = FALLBACK_NOTICES[Failure.UNREACHABLE]
_FOLLOW_UP_CUES = re.compile(
    r"^(and|but|also|so|what about|how about|what if|why|how come|then|ok|okay|is that|"
    r"does that|do they|can i|should i|could you|tell me more|more on|any)\b",
    re.IGNORECASE,
)
_VAGUE_WORDS = (
    "more else detail details example examples mean explain elaborate thing things one "
    "ones tell say said again instead really"
)
_PRONOUNS = re.compile(r"\b(it|that|this|they|them|those|these|there|he|she|one)\b", re.IGNORECASE)


@dataclass(frozen=True)
class AnswerConfig:
    """Plain answering parameters (see AnswerSettings)."""

    max_question_chars: int = 2000
    history_turns: int = 6
    max_quotes: int = 3
    llm_timeout: float = 30.0


class Answerer:
    """Answers a Question from the knowledge index; history comes from the store."""

    def __init__(
        self,
        retriever: Retriever,
        store: ConversationStore,
        embedder: Embeddings,
        prompts: Prompts,
        *,
        chat_model: BaseChatModel | None = None,
        config: AnswerConfig | None = None,
        topics: Sequence[str] = (),
        llm: LLMResponder | None = None,
    ) -> None:
        self.retriever = retriever
        self.store = store
        self.embedder = embedder
        self.prompts = prompts
        self.chat_model = chat_model
        self.config = config or AnswerConfig()
        self.topics = tuple(topics)
        if llm is None and chat_model is not None:
            llm = LLMResponder([("chat model", chat_model)], prompts, embedder)
        self.llm = llm

    async def answer(self, question: Question, on_partial: Partial | None = None) -> Answer:
        """Answer one turn and store it in the conversation's history.

        In LLM mode `on_partial` receives the checked text so far while the model writes;
        the returned Answer is the final word and replaces whatever was shown.
        """
        text = " ".join(question.text.split())
        if not text:
            raise EmptyQuestion("Ask me a question about AI safety careers.")
        notices: list[str] = []
        limit = self.config.max_question_chars
        if len(text) > limit:
            text = text[:limit].rsplit(" ", 1)[0]
            notices.append(f"Your message was long, so I only read its first {limit:,} characters.")
        if not self.retriever.ready:
            raise IndexNotReady("The knowledge base isn't indexed yet; run `careerbot ingest`.")
        history = await asyncio.to_thread(
            self.store.history, question.conversation_key, self.config.history_turns
        )
        answer = await self._answer(text, history, notices, on_partial)
        await asyncio.to_thread(
            self.store.append_exchange,
            question.conversation_key,
            asker=question.asker,
            platform=question.platform,
            question=text,
            answer_text=answer.text,
            answer_id=answer.answer_id,
            covered=answer.covered,
            mode=answer.mode,
        )
        return answer

    async def _answer(
        self,
        text: str,
        history: list[Turn],
        notices: list[str],
        on_partial: Partial | None = None,
    ) -> Answer:
        spent = None
        if self.llm is not None:
            try:
                return await self._llm_answer(text, history, notices, on_partial)
            except LLMFailed as exc:  # outage, timeout, open circuit, ungrounded reply
                log.warning("LLM answer failed (%s); falling back to quotes", exc.reason.value)
                notices = [*notices, FALLBACK_NOTICES[exc.reason]]
                spent = exc.usage
            except Exception as exc:  # anything unforeseen still degrades to quotes
                log.warning("LLM answer failed (%s); falling back to quotes", type(exc).__name__)
                notices = [*notices, FALLBACK_NOTICES[Failure.ERROR]]
        query = self.heuristic_query(text, history)
        result = await asyncio.to_thread(self.retriever.search, query)
        previous = next((t.text for t in reversed(history) if t.role == "assistant"), "")
        answer = await self._extractive(query, result, notices, previous)
        # Tokens spent on a reply we could not use still count.
        return dataclasses.replace(answer, usage=spent) if spent else answer

    @staticmethod
    def heuristic_query(text: str, history: Sequence[Turn]) -> str:
        """Without an LLM, make a follow-up searchable on its own.

        "and what about a PhD?" names its own topic, so it is searched as is; "why is that?"
        or "tell me more" does not, so the previous question is searched along with it.
        """
        previous = next((t.text for t in reversed(history) if t.role == "user"), None)
        if previous is None:
            return text
        stripped = _FOLLOW_UP_CUES.sub("", text.strip()).strip()
        vague = set(keyword_tokens(_VAGUE_WORDS))
        topic = [w for w in keyword_tokens(stripped) if w not in vague]
        if not topic or (_PRONOUNS.search(text) and len(topic) <= 2):
            return f"{previous} {text}"
        return text

    async def _extractive(
        self,
        query: str,
        result: RetrievalResult,
        notices: Sequence[str],
        previous_reply: str = "",
    ) -> Answer:
        answer_id = uuid.uuid4().hex
        if not result.covered or not result.passages:
            return self._not_covered(query, "extractive", notices, answer_id)
        spans = await asyncio.to_thread(
            pick_quotes,
            query,
            result.passages,
            self.embedder,
            self.config.max_quotes,
            previous_reply,
        )
        text, citations = compose(query, spans)
        return Answer(
            text=text,
            covered=True,
            mode="extractive",
            citations=citations,
            notices=tuple(notices),
            standalone_query=query,
            answer_id=answer_id,
        )

    def _not_covered(self, query: str, mode: str, notices: Sequence[str], answer_id: str) -> Answer:
        topics = ", ".join(self.topics) if self.topics else "AI safety careers"
        text = f"{NOT_COVERED} I can help with questions the posts discuss, for example: {topics}."
        return Answer(
            text=text,
            covered=False,
            mode="llm" if mode == "llm" else "extractive",
            citations=(),
            notices=tuple(notices),
            standalone_query=query,
            answer_id=answer_id,
        )

    async def _llm_answer(
        self,
        text: str,
        history: list[Turn],
        notices: list[str],
        on_partial: Partial | None = None,
    ) -> Answer:
        assert self.llm is not None

        async def search(query: str) -> tuple[bool, Sequence[Passage]]:
            result = await asyncio.to_thread(self.retriever.search, query)
            return result.covered, result.passages

        reply = await self.llm.respond(text, history, search, on_partial)
        answer_id = uuid.uuid4().hex
        all_notices = (*notices, *reply.notices)
        if not reply.covered:
            declined = self._not_covered(reply.query, "llm", all_notices, answer_id)
            return dataclasses.replace(declined, usage=reply.usage)
        return Answer(
            text=reply.text,
            covered=True,
            mode="llm",
            citations=reply.citations,
            notices=all_notices,
            standalone_query=reply.query,
            answer_id=answer_id,
            usage=reply.usage,
        )
