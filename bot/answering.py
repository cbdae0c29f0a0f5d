"""The one answering core: follow-ups, retrieval, the gate, answers (quotes or LLM), citations."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from bot.conversations import ConversationStore
from bot.extractive import compose, pick_quotes
from bot.llm import cite, format_history, format_passages
from bot.models import Answer, EmptyQuestion, IndexNotReady, Question, Turn
from bot.prompts import NOT_COVERED, Prompts
from bot.retrieval import RetrievalResult, Retriever, keyword_tokens

log = logging.getLogger(__name__)

LLM_FALLBACK_NOTICE = (
    "The language model isn't reachable right now, so here are the most relevant quotes instead."
)
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
    ) -> None:
        self.retriever = retriever
        self.store = store
        self.embedder = embedder
        self.prompts = prompts
        self.chat_model = chat_model
        self.config = config or AnswerConfig()
        self.topics = tuple(topics)

    async def answer(self, question: Question) -> Answer:
        """Answer one turn and store it in the conversation's history."""
        text = " ".join(question.text.split())
        if not text:
            raise EmptyQuestion("Ask me a question about AI safety careers.")
        notices: list[str] = []
        limit = self.config.max_question_chars
        if len(text) > limit:
            text = text[:limit].rsplit(" ", 1)[0]
            notices.append(f"Your message was long, so I only read its first {limit:,} characters.")
        # Every question checks the shared pointer: a replica picks up a reload done
        # elsewhere, and one that found no index earlier recovers once there is one.
        if not await asyncio.to_thread(self.retriever.ensure_current):
            raise IndexNotReady("The knowledge base isn't indexed yet; run `careerbot ingest`.")
        history = await asyncio.to_thread(
            self.store.history, question.conversation_key, self.config.history_turns
        )
        answer = await self._answer(text, history, notices)
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

    async def _answer(self, text: str, history: list[Turn], notices: list[str]) -> Answer:
        if self.chat_model is not None:
            try:
                return await self._llm_answer(text, history, notices)
            except Exception as exc:  # provider outage, timeout, bad response: degrade
                log.warning(
                    "LLM answer failed (%s); falling back to extractive", type(exc).__name__
                )
                notices = [*notices, LLM_FALLBACK_NOTICE]
        query = self.heuristic_query(text, history)
        result = await asyncio.to_thread(self.retriever.search, query)
        previous = next((t.text for t in reversed(history) if t.role == "assistant"), "")
        return await self._extractive(query, result, notices, previous)

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

    async def _llm_answer(self, text: str, history: list[Turn], notices: list[str]) -> Answer:
        assert self.chat_model is not None
        timeout = self.config.llm_timeout
        history_text = format_history(history)
        query = text
        if history:
            prompt = self.prompts.condense.format(history=history_text, question=text)
            reply = await asyncio.wait_for(
                self.chat_model.ainvoke([HumanMessage(content=prompt)]), timeout
            )
            rewritten = _text_of(reply.content).strip().strip('"').strip()
            if rewritten and len(rewritten) < 400:
                query = rewritten
        result = await asyncio.to_thread(self.retriever.search, query)
        answer_id = uuid.uuid4().hex
        if not result.covered or not result.passages:
            return self._not_covered(query, "llm", notices, answer_id)
        messages = [
            SystemMessage(content=self.prompts.render_system()),
            HumanMessage(
                content=self.prompts.answer.format(
                    history=history_text,
                    passages=format_passages(result.passages),
                    question=text,
                )
            ),
        ]
        reply = await asyncio.wait_for(self.chat_model.ainvoke(messages), timeout)
        raw = _text_of(reply.content).strip()
        if not raw:
            raise ValueError("empty model reply")
        if NOT_COVERED.casefold()[:30] in raw.casefold():
            return self._not_covered(query, "llm", notices, answer_id)
        if self._leaks_prompt(raw):
            log.warning("model reply echoed the system prompt; replaced")
            raw = "I can only help with career questions about AI safety."
            return Answer(raw, False, "llm", (), tuple(notices), query, answer_id)
        cleaned, citations = cite(raw, result.passages)
        if not citations:
            # An answer with no valid citation is not grounded: show quotes instead.
            raise ValueError("model reply cited no passage")
        return Answer(
            text=cleaned,
            covered=True,
            mode="llm",
            citations=citations,
            notices=tuple(notices),
            standalone_query=query,
            answer_id=answer_id,
        )

    def _leaks_prompt(self, reply: str) -> bool:
        system = self.prompts.render_system()
        probes = [line.strip() for line in system.split("\n") if len(line.strip()) > 60]
        return any(probe[:60] in reply for probe in probes)


def _text_of(content: object) -> str:
    """A chat message's text, whether the provider returned a string or content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
        return "".join(parts)
    return str(content)
