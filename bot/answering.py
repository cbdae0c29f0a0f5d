"""The one answering core: follow-ups, retrieval, the gate, answers (quotes or LLM), citations."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from bot.conversations import ConversationStore
from bot.extractive import compose, pick_quotes
from bot.followups import TurnContext, resolve
from bot.knowledge import embedding_text
from bot.llm import cite, format_history, format_passages
from bot.models import Answer, EmptyQuestion, IndexNotReady, Passage, Question, Turn
from bot.prompts import NOT_COVERED, Prompts
from bot.retrieval import RetrievalResult, Retriever
from bot.scope import asks_live_facts, corpus_vocabulary, distressed, missing_concept

log = logging.getLogger(__name__)

LLM_FALLBACK_NOTICE = (
    "The language model isn't reachable right now, so here are the most relevant quotes instead."
)
# What is stored instead of a message that read as acute distress.
WITHHELD = "[message withheld: wellbeing]"


@dataclass(frozen=True)
class AnswerConfig:
    """Plain answering parameters (see AnswerSettings)."""

    max_question_chars: int = 2000
    history_turns: int = 6
    max_quotes: int = 3
    llm_timeout: float = 30.0
    decline_hint: str = ""
    quote_passages: int = 10
    support_message: str = ""


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
        self._vocab: tuple[str | None, Mapping[str, int]] = (None, {})

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
        if not self.retriever.ready:
            raise IndexNotReady("The knowledge base isn't indexed yet; run `careerbot ingest`.")
        if distressed(text):
            answer = self._support(notices)
            stored_question = WITHHELD  # never kept as text, nor used for analytics
        else:
            history = await asyncio.to_thread(
                self.store.history, question.conversation_key, self.config.history_turns
            )
            answer = await self._answer(text, history, notices)
            stored_question = text
        await asyncio.to_thread(
            self.store.append_exchange,
            question.conversation_key,
            asker=question.asker,
            platform=question.platform,
            question=stored_question,
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
        return await asyncio.to_thread(self._extractive_turn, text, history, notices)

    def _titles(self) -> dict[str, str]:
        return {p.title: p.doc_id for p in self.retriever.snapshot.passages}

    def _named_posts(self, text: str) -> tuple[str, ...]:
        """Posts whose author the question names (first or last name, as a whole word)."""
        # "NGO" in capitals is an acronym, not Richard Ngo.
        words = {w.casefold() for w in re.findall(r"[A-Za-z][A-Za-z'-]+", text) if not w.isupper()}
        found: list[str] = []
        for p in self.retriever.snapshot.passages:
            if p.is_comment or not p.author or p.doc_id in found:
                continue
            names = {n.casefold() for n in re.findall(r"[A-Za-z][A-Za-z'-]{2,}", p.author)}
            if names & words:
                found.append(p.doc_id)
        return tuple(found)

    def _vocabulary(self) -> Mapping[str, int]:
        snap = self.retriever.snapshot
        if self._vocab[0] != snap.collection:
            texts = (embedding_text(p.title, p.section, p.text) for p in snap.passages)
            self._vocab = (snap.collection, corpus_vocabulary(texts))
        return self._vocab[1]

    def _extractive_turn(self, text: str, history: list[Turn], notices: Sequence[str]) -> Answer:
        """Resolve a follow-up, decide scope on the merged question, then quote."""
        answer_id = uuid.uuid4().hex
        context = resolve(text, history, self._titles())
        named = self._named_posts(text)
        if named:  # "what did Jay learn from MATS?": read that author's post first
            context = replace(
                context, prefer_docs=tuple(dict.fromkeys((*named, *context.prefer_docs)))
            )
        query = context.query
        if asks_live_facts(text):
            return self._not_covered(query, "extractive", notices, answer_id, live=True)
        if not context.is_follow_up:
            concept = missing_concept(text, self._vocabulary(), self.embedder.embed_query)
            if concept is not None:
                log.info("declined: the posts never mention %r", concept)
                nearest = self.retriever.search(query)
                return self._not_covered(query, "extractive", notices, answer_id, nearest)
        # Sentences are ranked on their own, so the composer reads more passages than the
        # LLM is shown: advice often sits in the 6th-8th passage of a chatty question.
        result = self.retriever.search(query, k=self.config.quote_passages)
        if not result.covered or not result.passages:
            return self._not_covered(query, "extractive", notices, answer_id, result)
        passages = list(result.passages)
        if context.is_follow_up or named:
            passages = self._with_context(passages, context)
        spans = pick_quotes(
            query,
            passages,
            self.embedder,
            self.config.max_quotes,
            already_shown=context.previous_quotes if context.is_follow_up else (),
            message="" if context.vague else text,
            prefer_docs=context.prefer_docs,
            # "tell me more" continues from the best quote shown last, not from its padding.
            continue_after=context.previous_quotes[-context.last_reply_quotes :][:1]
            if context.vague and context.last_reply_quotes
            else (),
            contrast=None if not context.is_follow_up else False,
        )
        if not spans:
            return self._not_covered(query, "extractive", notices, answer_id, result)
        reply, citations = compose(text, spans, None if not context.is_follow_up else False)
        return Answer(
            text=reply,
            covered=True,
            mode="extractive",
            citations=citations,
            notices=tuple(notices),
            standalone_query=query,
            answer_id=answer_id,
        )

    def _with_context(self, passages: list[Passage], context: TurnContext) -> list[Passage]:
        """Add the passages the previous reply quoted ("why?") or the post it named ("he")."""
        snap = self.retriever.snapshot
        have = {p.id for p in passages}
        extra: list[Passage] = []
        if context.vague:
            flat = [" ".join(q.split()) for q in context.previous_quotes]
            for p in snap.passages:
                body = " ".join(p.text.split())
                if p.id not in have and any(q[:80] in body for q in flat):
                    extra.append(p)
        if context.prefer_docs:
            # A follow-up is usually about the post just quoted: read more of it.
            wider = self.retriever.search(context.query, k=20).passages
            same_post = [p for p in wider if p.doc_id in context.prefer_docs and p.id not in have]
            extra.extend(same_post[:3])
        return [*passages, *extra]

    def _not_covered(
        self,
        query: str,
        mode: str,
        notices: Sequence[str],
        answer_id: str,
        result: RetrievalResult | None = None,
        *,
        live: bool = False,
    ) -> Answer:
        if live:
            lines = [
                "The advice posts I draw on are dated, so they can't tell you what is open or "
                "true right now; check the organisation's own site or ask people in the community."
            ]
        else:
            lines = [NOT_COVERED]
            near = result.passages[0] if result is not None and result.passages else None
            if near is not None and result is not None and result.best_similarity >= 0.25:
                where = near.section.split(" > ")[-1] if near.section else ""
                section = f", in “{where}”" if where and not near.is_comment else ""
                lines.append(f"The nearest they come is “{near.title}”{section}.")
            else:
                topics = ", ".join(self.topics) if self.topics else "AI safety careers"
                lines.append(f"They do discuss, for example: {topics}.")
        if self.config.decline_hint:
            lines.append(self.config.decline_hint)
        return Answer(
            text=" ".join(lines),
            covered=False,
            mode="llm" if mode == "llm" else "extractive",
            citations=(),
            notices=tuple(notices),
            standalone_query=query,
            answer_id=answer_id,
        )

    def _support(self, notices: Sequence[str]) -> Answer:
        """A kind, short reply to acute distress: no quotes, a pointer to real support."""
        text = (
            "I'm sorry you're going through this; what you describe sounds really hard, and "
            "you don't have to work through it alone. " + self.config.support_message
        )
        return Answer(
            text=text,
            covered=False,
            mode="extractive",
            notices=tuple(notices),
            answer_id=uuid.uuid4().hex,
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
