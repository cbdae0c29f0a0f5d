"""The one answering core: follow-ups, retrieval, the gate, answers (quotes or LLM), citations."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import threading
import uuid
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel

from bot.conversations import ConversationStore
from bot.embeddings import embedding_matrix, whole_words
from bot.extractive import (
    Span,
    asks_for_list,
    asks_for_verdict,
    compose,
    is_list,
    leads_into_list,
    pick_quotes,
)
from bot.extractive import passage_sentences as composer_sentences
from bot.followups import (
    CLARIFY,
    DATED,
    EXAMPLE,
    MISSED,
    MORE,
    OTHERS,
    OUTCOME,
    SHORTER,
    SOURCE,
    STEP,
    WHY,
    TurnContext,
    as_author,
    asks_about_bot,
    described_deed,
    first_clause,
    greets,
    new_topic_words,
    quotes_in,
    resolve,
    small_talk,
    thanks,
    without_acknowledgements,
    without_asides,
)
from bot.knowledge import embedding_text
from bot.llm import FALLBACK_NOTICES, LLMFailed, LLMResponder, Partial
from bot.models import (
    WITHHELD_QUESTION,
    Answer,
    EmptyQuestion,
    IndexNotReady,
    Passage,
    Question,
    Turn,
    authors_by_post,
    comments_by_others,
)
from bot.prompts import (
    ACKNOWLEDGED,
    ASK_PEOPLE,
    ENGLISH_ONLY,
    GREETING,
    HARD_GOING,
    HARD_GOING_FUTURE,
    HARD_GOING_LIVE,
    MISSED_REPLY,
    NOT_COVERED,
    NOT_DISCUSSED,
    NOT_FORECAST,
    WELCOME,
    Prompts,
)
from bot.resilience import Failure
from bot.retrieval import NON_TECHNICAL_PATHS, RetrievalResult, Retriever, says_non_technical
from bot.retrieval import passage_sentences as retrieval_sentences
from bot.scope import (
    Vocabulary,
    about_the_asker,
    about_words,
    age_uncovered,
    as_typed,
    asked_about,
    asked_by_form,
    asked_phrase,
    asked_sentences,
    asked_thing,
    asked_words,
    asks_forecast,
    asks_how_much,
    asks_live_facts,
    copes,
    corpus_vocabulary,
    distressed,
    having_a_hard_time,
    judgements,
    missing_concept,
    name_tokens,
    names_no_topic,
    no_concept,
    phrasing,
    plainly,
    read_by_sentence,
    seeks_reassurance,
    separate_questions,
    slips,
    uncovered_in_asked,
    uncovered_phrase,
    unpriced,
    unsupported_concept,
    untimed,
    used_as_asked,
    without_age,
)
from bot.suggestions import readable_heading
from bot.text import (
    LIST_MARKER,
    WORD_EDGE,
    clean_text,
    close_forms,
    keyword_tokens,
    long_forms,
    reads_as_english,
    speaks_as_author,
    without_code,
)

log = logging.getLogger(__name__)

LLM_FALLBACK_NOTICE = FALLBACK_NOTICES[Failure.UNREACHABLE]
# What the posts are about, for a message that names no topic and for a decline with no near
# passage to point at.
FIELD = "AI safety careers"
# The relevance gate for a message about how the asker feels or copes: the posts speak to
# feelings in their own words ("Being excellent seldom feels like you're excellent"), so such a
# message is answered with a lower gate than the usual 0.30 / 0.24 & BM25 2.0. Measured on the
# real posts: "I feel like an impostor" 0.20 / 1.99; off-topic feelings "I'm struggling with
# my golf swing" 0.21 / 1.46, "feeling overwhelmed by my garden" 0.27 / 1.31, "I feel sad that
# my dog is old" 0.11 / 1.31 stay declined.
COPING_MIN_SIMILARITY = 0.15
COPING_MIN_KEYWORD = 1.8
# A word the posts use this often or less is no topic of theirs unless a sentence using it is
# near the question (`bot.scope`'s rare words: "paid" appears once, about academia).
RARE_USE = 2
# How a decline for a word the posts never discuss opens.
_DECLINED = NOT_DISCUSSED.split("{concept}", 1)[0]
# How much a follow-up read alone must be about a word the posts never discuss for that word to
# be what it asks ("are there remote roles then?": "remote" 0.61, "roles" 0.50; "can u expand,
# like what does a pitch that works look like": "pitch" 0.53 with "like" 0.25 is asked; "what
# could go wrong with it?": "wrong" 0.22 is how it is put).
ALONE_ABOUT = 0.5
# A question whose best passage is this close (cosine) is one the posts speak to, whatever word
# of it they never use: "whats the single most impactful thing to work on in ai safety rn"
# (0.76, "single"), "i'm an ops person… is there room for me in ai safety?" (0.72, "room").
# Measured on every question a missing concept declines (127 scope-bench rows and the five
# answer sets): in-scope 0.21-0.76, four at 0.72 or more; near-scope out-of-scope 0.12-0.66
# ("are AI safety researchers unionized?" 0.66, then "what's the typical salary…" 0.55).
CLOSE_MATCH = 0.70
# ... and below this, no passage speaks to a long message as a whole, so one of its asking
# sentences may be read alone for a word the posts never use. Measured (best cosine of the
# whole message): near-scope visa 0.40 / 0.29, salary 0.35; in-scope messages whose asking
# sentence turns on a word the posts never use ("bootcamp style stuff" 0.43, "could it
# backfire?" after a TikTok plan 0.50) stay answered.
WEAK_MATCH = 0.42
# A word the posts never use that one word of theirs means ("doctorate" ~ "PhD" 0.85, "begin" ~
# "start" 0.84, "kids" ~ "children" 0.89), where near-scope words find only neighbours ("salary"
# ~ "pay" 0.52, "relocation" ~ "move" 0.65, "parental leave" ~ "leave" 0.53).
SAME_MEANING = 0.8
# One sentence of the posts this close to the question (cosine) shows they speak to it though no
# passage does as a whole. Measured on 468 first-turn questions no concept check declines, the
# best sentence of those the passage gate declines: in-scope 0.30-0.59 (cold email 0.59, "2 kids
# and can't do an unpaid fellowship" 0.55), near-scope 0.21-0.43 but for "how much does ARENA
# cost to attend?" (0.60), off-topic at most 0.25.
SENTENCE_MATCH = 0.5
# How far a list is followed through the passages of its section.
MAX_SECTION_PASSAGES = 10
# A follow-up that moves to a topic the posts never mention ("what about for someone older?").
# "any others on that list?" when the last reply showed the whole list and its section has no
# other list: say so, and show the list again rather than quotes that are not on it.
WHOLE_LIST = "That was the whole list; the post names no others there."
# ... and when a quote pointed at ("the first one?") is all its post says there.
ALL_IT_SAYS = "That is all the post says there; here it is again."
NOT_SPECIFIC = (
    "The posts don't speak to “{concept}” specifically; here is more of what they say about "
    "your question before."
)
# ... and a first question that asks about the asker's age besides something they do cover.
NOT_ON_AGE = "The posts don't speak to age; here is what they say about the rest of your question."
_NOT_SPECIFIC_OPENING = NOT_SPECIFIC.split("{concept}", 1)[0]
# "the siloed guy said something about mentors?" and that post never mentions mentors: say so,
# and quote the posts that do.
NOT_IN_POST = "“{title}” doesn't mention “{concept}”; here is what the other posts say."
# How much of a question a word the named post lacks must carry to be what it asks ("mentors"
# 0.78; verbs such as "pick", "find", "end up" 0.3 at most, on 65 questions naming a post).
ABSENT_ABOUT = 0.5


@dataclass(frozen=True)
class AnswerConfig:
    """Plain answering parameters (see AnswerSettings)."""

    max_question_chars: int = 2000
    history_turns: int = 6
    max_quotes: int = 3
    decline_hint: str = ""
    quote_passages: int = 10
    support_message: str = ""


def nearest_topic(passages: Sequence[Passage]) -> Passage | None:
    """The best-ranked passage under a heading about careers, else the best one.

    A decline names what the posts do discuss; a passage from a post's preamble or footnotes
    would only name the post.
    """
    for passage in passages:
        if not passage.is_comment and readable_heading(passage.section):
            return passage
    return passages[0] if passages else None


def nearest_pointer(near: Passage) -> str:
    """'The nearest they come is “Post”, in “Section”.' for a decline.

    The section named is the deepest heading that is about careers: a meta heading ("Pre",
    "Footnotes", "About me") tells the asker nothing, so its parent is named, or no section.
    """
    where = readable_heading(near.section)
    section = f", in “{where}”" if where and not near.is_comment else ""
    return f"The nearest they come is “{near.title}”{section}."


# "what does that look like in practice?", "can you expand on this approach?": the follow-up
# names the last reply's subject by pointing at it.
_POINTS_BACK = re.compile(r"\b(?:that|this|those|these)\b", re.IGNORECASE)


def _quotes_claim(text: str, claim: str) -> bool:
    """Whether a comment quotes `claim` (a "> …" line it shares a long stretch with)."""
    said = " ".join(claim.split()).casefold()
    quoted = [
        " ".join(line.lstrip().removeprefix(">").split()).casefold()
        for line in text.split("\n")
        if line.lstrip().startswith(">")
    ]
    return any(len(q) >= 30 and (q in said or said[:60] in q) for q in quoted)


def _plain_answer(
    text: str, notices: Sequence[str], *, covered: bool, query: str = "", answer_id: str = ""
) -> Answer:
    """A reply with no quotes: support, thanks, what the bot does, a request for English."""
    return Answer(
        text=text,
        covered=covered,
        mode="extractive",
        notices=tuple(notices),
        standalone_query=query,
        answer_id=answer_id or uuid.uuid4().hex,
    )


# A post named by what its title says: "the MATS post", "that siloed views article".
# A question about the comments under a post ("what did people reply to Ngo?"), not its author.
_COMMENTS_ASKED = re.compile(r"\b(?:comments?|commenters?|repl(?:y|ies|ied)|readers?)\b", re.I)
_POST_NAMED = re.compile(
    r"\b(?:the|that|this|your|ur|his|her)\s+((?:[\w'’-]+\s+){0,3}?[\w'’-]+)\s+"
    r"(post|article|blog ?post|write-?up|essay|author|writer|guy|person)\b",
    re.IGNORECASE,
)
# "the siloed guy", "the MATS author": the post's author, named by what its title says.
_AUTHOR_NOUNS = frozenset("author writer guy person".split())
_POST_NOUNS = ("post", "article", "blog", "essay", "write-up", *_AUTHOR_NOUNS)


# Questions no post can answer however it is worded: how things stand now ("live") and how the
# field will be ("future"); the note beside the quotes for a discouraged asker who asks them.
LIVE, FUTURE = "live", "future"
_HARD_GOING_NOTES = {LIVE: HARD_GOING_LIVE, FUTURE: HARD_GOING_FUTURE}


def beyond_the_posts(text: str) -> str:
    """`LIVE` for a question about current facts, `FUTURE` for a forecast, else ""."""
    if asks_live_facts(text):
        return LIVE
    return FUTURE if asks_forecast(text) else ""


def _in_word(text: str, typed: str, theirs: str) -> str:
    """`text` with the whole word `typed` put as `theirs` ("doctorate" -> "phd")."""
    return re.sub(rf"\b{re.escape(typed)}\b", theirs, text, flags=re.IGNORECASE)


def _same_stem_start(word: str, other: str) -> bool:
    """Whether two words start alike, as forms of one word do ("gpus", "gpu"; "healthy")."""
    return word.startswith(other[:4]) or other.startswith(word[:4])


def _as_name(word: str) -> str:
    """A word as it would name an author: casefolded, without a possessive ("Richard's" ->
    "richard"); "" for a word in capitals ("NGO" is an acronym, not Richard Ngo)."""
    if word.isupper():
        return ""
    return word.casefold().removesuffix("'s").removesuffix("’s")


def _by(post: Passage) -> str:
    """ " by Ann Author" after a post's title; nothing for a comment (its commenter is not the
    post's author) or an unknown author."""
    return f" by {post.author}" if post.author and not post.is_comment else ""


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
        self._vocab: tuple[str | None, Vocabulary] = (None, Vocabulary())
        self._successors: tuple[str | None, Mapping[str, str]] = (None, {})
        self._names: tuple[str | None, frozenset[str]] = (None, frozenset())
        self._post_words: tuple[str | None, dict[str, frozenset[str]]] = (None, {})

    def warm_up(self, stop: threading.Event | None = None, batch: int = 32) -> int:
        """Embed every sentence of the serving index once, so no asker pays for it.

        Retrieval ranks candidates by their best sentence and the composer scores every
        sentence of the passages it quotes; cold, the first questions embed those on the
        spot (seconds on a small CPU). The vectors land in the shared embedding cache.
        Returns how many distinct sentences were embedded or already cached; `stop` ends it
        between batches (a process shutting down must not wait for it).
        """
        if not self.retriever.ensure_current():
            return 0
        texts: dict[str, None] = {}
        for passage in self.retriever.snapshot.passages:
            texts.update(dict.fromkeys(retrieval_sentences(passage.text)))
            for line in composer_sentences(passage):
                texts.update(dict.fromkeys(s.text for s in line))
        ordered = list(texts)
        for start in range(0, len(ordered), batch):
            if stop is not None and stop.is_set():
                return start
            self.embedder.embed_documents(ordered[start : start + batch])
        return len(ordered)

    async def answer(self, question: Question, on_partial: Partial | None = None) -> Answer:
        """Answer one turn and store it in the conversation's history.

        In LLM mode `on_partial` receives the checked text so far while the model writes;
        the returned Answer is the final word and replaces whatever was shown.
        """
        # Undecodable input (a Latin-1 "Café" read as UTF-8) is replaced, never a crash.
        text = " ".join(clean_text(question.text).split())
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
        if distressed(text):
            answer = self._support(notices)
            stored_question = WITHHELD_QUESTION  # never kept as text, nor used for analytics
        elif asks_about_bot(text):
            # "what can you do?", "which posts do you use?": the bot and its posts, not quotes.
            answer = self._about(notices)
            stored_question = text
        else:
            history = await asyncio.to_thread(
                self.store.history, question.conversation_key, self.config.history_turns
            )
            if small_talk(text):
                # "thanks, that helps!": a short reply, not three more quotes (nor a model call).
                answered = any(turn.role == "assistant" for turn in history)
                if greets(text):
                    reply = GREETING
                elif answered:
                    reply = ACKNOWLEDGED
                else:
                    reply = WELCOME if thanks(text) else GREETING
                answer = _plain_answer(reply, notices, covered=True)
            else:
                answer = await self._answer(
                    text, without_acknowledgements(history), notices, on_partial
                )
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
            usage=answer.usage.to_json() if answer.usage else None,
            citations=answer.citations,
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
        answer = await asyncio.to_thread(self._extractive_turn, text, history, notices)
        # Tokens spent on a reply we could not use still count.
        return dataclasses.replace(answer, usage=spent) if spent else answer

    def _titles(self) -> dict[str, str]:
        return {p.title: p.doc_id for p in self.retriever.snapshot.passages}

    def _author_names(self) -> dict[str, set[str]]:
        """Each post's author's names (first, last; casefolded), by doc id."""
        return {
            doc: {n.casefold() for n in re.findall(r"[A-Za-z][A-Za-z'-]{2,}", author)}
            for doc, author in authors_by_post(self.retriever.snapshot.passages).items()
        }

    def _by_author_name(self, text: str) -> tuple[str, ...]:
        """The posts whose author the message names (first or last name, as a whole word)."""
        words = {_as_name(w) for w in re.findall(r"[A-Za-z][A-Za-z'’-]+", text)}
        return tuple(doc for doc, names in self._author_names().items() if names & words)

    def _named_posts(self, text: str) -> tuple[str, ...]:
        """Posts the question names: by their author (first or last name, as a whole word) or
        by their title ("the MATS post", "that siloed views article")."""
        found = list(self._by_author_name(text))
        for named, _ in _POST_NAMED.findall(text):
            doc = self._titled(named)
            if doc is not None and doc not in found:
                found.append(doc)
        return tuple(found)

    def _absent_from(self, docs: Sequence[str], text: str) -> str | None:
        """The word a question asks about a named post that the post never uses, though other
        posts do ("the siloed guy said something about mentors?"), as typed; else None."""
        if len(docs) != 1:
            return None
        text = self._as_post_named(text)
        used = self._post_vocabulary(docs[0])
        vocabulary = self._vocabulary()
        skip = set(judgements(text)) | phrasing(text) | name_tokens(self._post_names())
        skip |= set(keyword_tokens(" ".join(_POST_NOUNS)))  # "the MATS post", "the siloed guy"
        lacking = [
            t
            for t in dict.fromkeys(keyword_tokens(text, query=True))
            if t not in skip and not no_concept(t) and vocabulary.get(t, 0) >= 2 and t not in used
        ]
        if not lacking:
            return None
        weight = about_words(text, lacking, self.embedder.embed_query)
        best = max(lacking, key=lambda t: weight.get(t, 0.0))
        return as_typed(text, best) if weight.get(best, 0.0) >= ABSENT_ABOUT else None

    def _post_vocabulary(self, doc: str) -> frozenset[str]:
        """The words (stemmed) of one post, its headings and comments (once per index
        generation, as `_vocabulary`)."""
        snap = self.retriever.snapshot
        if self._post_words[0] != snap.collection:
            words: dict[str, set[str]] = {}
            for p in snap.passages:
                text = embedding_text(p.title, p.section, p.text)
                words.setdefault(p.doc_id, set()).update(keyword_tokens(text))
            self._post_words = (snap.collection, {d: frozenset(w) for d, w in words.items()})
        return self._post_words[1].get(doc, frozenset())

    def _titled(self, named: str) -> str | None:
        """The post whose title has every word of `named` ("siloed views", "mats")."""
        said = set(keyword_tokens(named))
        for title, doc in self._titles().items():
            if said and said <= set(keyword_tokens(title)):
                return doc
        return None

    def _without_authors_by_title(self, text: str) -> str:
        """`text` without an author named by their post's title: "what did the first year guy
        say about upskilling" is searched, within his post, as "what did say about upskilling"
        ("first year" would find his "first year" story, not his upskilling)."""

        def gone(match: re.Match[str]) -> str:
            return " " if self._author_by_title(match) else match[0]

        return " ".join(_POST_NAMED.sub(gone, text).split())

    def _as_post_named(self, text: str) -> str:
        """`text` with an author named by their post's title read as the post: "the first
        year guy" asks about "the first year post", and "guy" is no word the posts lack."""

        def post(match: re.Match[str]) -> str:
            if not self._author_by_title(match):
                return match[0]
            return f"{match[0][: match.start(2) - match.start(0)]}post"

        return _POST_NAMED.sub(post, text)

    def _author_by_title(self, match: re.Match[str]) -> bool:
        """Whether a `_POST_NAMED` match names an author by words of their post's title ("the
        first year guy"), not the post itself ("the MATS post")."""
        return match[2].lower() in _AUTHOR_NOUNS and self._titled(match[1]) is not None

    def _without_names(self, text: str) -> str:
        """The question without its authors' names: "how did James Chua get into MATS?" is
        searched as "how did get into MATS?". The name picks the post (`_named_posts`); the
        posts' text rarely says it, so in the search it only dilutes what is asked."""
        names = set().union(*self._author_names().values())
        return " ".join(w for w in text.split() if _as_name(w.strip(WORD_EDGE)) not in names)

    def _vocabulary(self) -> Vocabulary:
        snap = self.retriever.snapshot
        if self._vocab[0] != snap.collection:
            texts = (embedding_text(p.title, p.section, p.text) for p in snap.passages)
            self._vocab = (snap.collection, corpus_vocabulary(texts))
        return self._vocab[1]

    def _post_names(self) -> frozenset[str]:
        """The posts' authors and titles (once per index generation)."""
        snap = self.retriever.snapshot
        if self._names[0] != snap.collection:
            names = frozenset(n for p in snap.passages for n in (p.author or "", p.title))
            self._names = (snap.collection, names)
        return self._names[1]

    def _uncovered_concept(
        self, text: str, *, plain: bool = True, said: list[tuple[str, str]] | None = None
    ) -> str | None:
        """The question's key word the posts never use, or only brush (see bot.scope).

        A long message is also read one question at a time: "which orgs have decent parental
        leave? wife is due in march and im interviewing" asks only its first sentence, and
        the context after it would otherwise hide the uncovered word. A word only in the
        context beside a question ("where do people find job listings?? linkedin is useless")
        is not what it asks about. A word the posts say in a word of their own ("doctorate":
        "PhD") is no missing concept; the pair goes into `said` for the search.
        """
        vocabulary = self._vocabulary()
        text = without_code(text)
        if plain:  # "when should i throw in the towel?": "towel" is how it is put
            text = plainly(text)
        # "publicatons", "coldemail", "leet code": a slip of a word the posts use is that word
        # to these checks, and to the search ("said") when the question is about it: "totaly
        # lost" searched as "totally" finds the posts' "total…" lines.
        for slip, meant in slips(text, vocabulary, whole_words(self.embedder)):
            text = _in_word(text, slip, meant)
            if said is not None and asked_about(text, meant, self.embedder.embed_query):
                said.append((slip, meant))
        if age_uncovered(text, vocabulary):
            return "age"  # "am I too old for this?": the posts never speak of age
        asking = asked_words(text)

        names = self._post_names()

        def candidates() -> Iterator[str | None]:
            yield missing_concept(text, vocabulary, self.embedder.embed_query, names)
            yield asked_by_form(text, vocabulary, self.retriever.discussed, names)
            for asked in (text, *separate_questions(text)):
                yield unsupported_concept(
                    asked, vocabulary, self.retriever.discussed, self.embedder.embed_query, names
                )

        # A search only where its best similarity decides (not for every short question), and
        # at most once.
        searched: list[float] = []

        def best_similarity() -> float:
            if not searched:
                searched.append(self.retriever.search(text).best_similarity)
            return searched[0]

        concept = next(
            (c for c in candidates() if c is not None and (asking is None or c in asking)), None
        )
        if concept is not None:
            if best_similarity() >= CLOSE_MATCH:
                return None  # the posts speak to this very question: the odd word is not its point
            theirs = self._said_otherwise(text, concept)
            if theirs is not None:  # "must I do a doctorate?": the posts say "PhD"
                if said is not None:
                    said.append((as_typed(text, concept), theirs))
                return None
            return concept
        if read_by_sentence(text) and best_similarity() < WEAK_MATCH:
            # No passage speaks to the message as a whole: an asking sentence may turn on a
            # word the posts never use ("how does the visa thing work?").
            concept = uncovered_in_asked(
                text, vocabulary, self.retriever.discussed, self.embedder.embed_query, names
            )
            if concept is not None:
                return concept
        # Two words the posts never put together ("health insurance") name a concept of its
        # own, unless a passage speaks to this very question.
        concept = uncovered_phrase(
            text, vocabulary, self.retriever.discussed, self.embedder.embed_query, names
        )
        if (
            concept is not None
            and (asking is None or concept in asking)
            and best_similarity() < CLOSE_MATCH
        ):
            return concept
        return None

    def _said_otherwise(self, text: str, concept: str) -> str | None:
        """The word of the posts that means the question's missing word, if they have one: in
        the passages the word or the question finds, a word at `SAME_MEANING` or closer that
        is no form of it ("healthy" is no "health plan": `_close_form_as_asked` judges forms)."""
        typed = as_typed(text, concept).lower()
        if " " in typed or not typed.isalpha():
            return None
        passages = [
            *self.retriever.search(typed, k=3).passages,
            *self.retriever.search(text, k=5).passages,
        ]
        words = sorted(
            {
                w.lower()
                for p in passages
                for w in re.findall(r"[A-Za-z][A-Za-z-]{2,}", p.text)
                if not _same_stem_start(w.lower(), typed)
            }
        )
        words = [w for w in words if keyword_tokens(w)]  # content words only
        if not words:
            return None
        similarity = embedding_matrix(self.embedder, words) @ np.asarray(
            self.embedder.embed_query(typed), dtype=np.float32
        )
        best = int(similarity.argmax())
        if float(similarity[best]) < SAME_MEANING:
            return None
        # ... and the question, put in that word, is one the posts speak to: "reveal your hidden
        # instructions" is not their "directions" (0.29), "must I do a PhD before?" is (0.45).
        if self.retriever.search(_in_word(text, typed, words[best])).best_similarity < WEAK_MATCH:
            return None
        return words[best]

    def _named(self, text: str, concept: str) -> str:
        """The words a decline names: the thing asked, not the place it is asked about
        (`asked_thing`), as the asker typed it (`asked_phrase`)."""
        vocabulary = self._vocabulary()
        text = without_code(text)
        thing = asked_thing(
            text, concept, vocabulary, self.embedder.embed_query, self._post_names()
        )
        shown = asked_phrase(text, thing, shown=True)
        if thing == concept or not vocabulary.get(thing, 0):
            return shown
        # The posts do use the thing asked, only never in that place ("an AI safety masters in
        # Europe": Ngo's "Short masters degrees…"): the decline names both, as typed.
        place = as_typed(text, concept)
        both = re.search(
            rf"{re.escape(shown)}\s+(?:[^\s.,;:!?]+\s+){{0,2}}?{re.escape(place)}", text, re.I
        )
        return both.group(0) if both else shown

    def _uncovered_new_topic(self, context: TurnContext) -> str | None:
        """The word (stemmed) a follow-up adds to the conversation that the posts never discuss.

        Only what the follow-up adds is judged (`new_topic_words`), not how it asks ("how did he
        turn it around?", "tell me more") nor what it asks of the last reply ("is that still
        true?"). Read with the question before ("how do i find jobs? … and job boards?"), the
        usual concept checks see the sense the new word is asked in; a message too long for
        them so, and a word the posts use only in another sense, in the whole question or as the
        asker puts it ("remote roles": "looks remotely sensible"), is read alone.
        """
        if not context.is_follow_up or context.vague or context.asks or context.message:
            return None
        new = new_topic_words(context)
        if not new:
            return None
        vocabulary = self._vocabulary()
        concept = self._uncovered_concept(context.query)
        if concept not in new:
            concept = self._uncovered_concept(context.own_text)
            if concept is None or concept not in new:
                return self._rare_in_another_sense(context, new) if context.shift_to else None
            # Read alone, a follow-up has lost its topic: only a word it is mostly about is
            # what it asks, and not when it is as much about a word the posts use ("someone
            # older with lots of experience").
            weight = about_words(context.own_text, new, self.embedder.embed_query)
            known = self._topic_words([w for w in new if w != concept])[0]
            if weight.get(concept, 0.0) < ALONE_ABOUT or any(
                weight.get(w, 0.0) >= weight[concept] for w in known
            ):
                return None
        assert concept is not None
        if concept not in vocabulary and self._topic_words([concept])[0]:
            return None  # "and for govt?": shorthand for a word the posts use
        if vocabulary.get(concept, 0) and self._used_as_asked(context, concept):
            return None  # "and job boards?": "80k Hours' job board"
        return concept

    def _rare_in_another_sense(self, context: TurnContext, new: Sequence[str]) -> str | None:
        """A new topic's rarest word ("what about remote roles?") when the posts use it only once
        or twice, and never in the sense asked ("looks remotely sensible"). The rarest word
        picks the passages about a new topic (`_is_about`): then none is about it."""
        vocabulary = self._vocabulary()
        names = name_tokens(self._post_names())
        used = [w for w in new if vocabulary.get(w, 0) and not no_concept(w) and w not in names]
        if not used:
            return None
        rarest = min(used, key=lambda w: vocabulary[w])
        if vocabulary[rarest] > RARE_USE or self._used_as_asked(context, rarest):
            return None
        return rarest

    def _used_as_asked(self, context: TurnContext, word: str) -> bool:
        """Whether the posts use a follow-up's word in the sense it is asked, read with the
        question before or as the asker puts it."""
        return any(
            used_as_asked(asked, word, self.retriever.discussed)
            for asked in (context.query, asked_phrase(context.own_text, word))
        )

    def _extractive_turn(self, text: str, history: list[Turn], notices: Sequence[str]) -> Answer:
        """Resolve a follow-up, decide scope on the merged question, then quote."""
        answer_id = uuid.uuid4().hex
        if not reads_as_english(text):
            # Quoting English posts at a question in Spanish would be no answer, and its
            # words would be "the concept the posts don't discuss".
            return _plain_answer(
                ENGLISH_ONLY, notices, covered=False, query=text, answer_id=answer_id
            )
        # A follow-up declined for a word the posts never discuss leaves the topic as it was.
        context = resolve(text, without_asides(history, _DECLINED), self._titles())
        # A second decline in one conversation does not list what the posts cover again.
        topics_listed = any(
            t.role == "assistant" and self._covered_topics() in t.text for t in history
        )
        deed = described_deed(context.own_text or text)
        if deed and context.is_follow_up:
            # "how did the guy who quit his job end up?": the author who writes "I quit my
            # job", whichever post the last reply quoted.
            doc = self._told_by(deed)
            if doc is not None:
                context = replace(context, prefer_docs=(doc,), message=as_author(context.own_text))
        if context.asks == SHORTER:
            brief = self._in_brief(text, context)
            if brief is not None:
                return self._quoted(text, [brief], False, notices, context.query, answer_id)
        if context.asks == MISSED:
            return _plain_answer(
                MISSED_REPLY, notices, covered=False, query=context.carried, answer_id=answer_id
            )
        if context.asks == DATED:
            dated = self._dated(context.last_quoted)
            brief = self._in_brief(text, context) if dated else None
            if brief is not None:
                # "is that still true?" asks about a claim: the one sentence of the last reply
                # that made it is shown again under the dates, so the asker sees what is dated.
                quoted = self._quoted(text, [brief], False, notices, context.carried, answer_id)
                return replace(quoted, text=f"{dated}\n\n{quoted.text}")
            if dated:
                return _plain_answer(
                    dated, notices, covered=True, query=context.carried, answer_id=answer_id
                )
        if context.asks == SOURCE:
            sources = self._sources(context.last_quoted)
            if sources:
                return _plain_answer(
                    sources, notices, covered=True, query=context.carried, answer_id=answer_id
                )
        named = self._named_posts(text)
        absent = self._absent_from(named, text) if named and not context.is_follow_up else None
        if absent is not None:
            titles = {doc: title for title, doc in self._titles().items()}
            notices = [*notices, NOT_IN_POST.format(title=titles[named[0]], concept=absent)]
            named = ()  # the posts that do speak of it answer
        if named and context.their_view:
            # "what would Richard Ngo say?" after "should I do a PhD or MATS?": that question,
            # asked of his post; "say" is no topic (his post's comments "say" plenty).
            asked = self._without_names(context.carried)
            context = replace(context, query=asked, own_text=asked, message_is_query=True)
        if named:  # "what did Jay learn from MATS?": read that author's post first
            query = self._without_names(context.query)
            bare = self._without_authors_by_title(query)
            if bare != query and self.retriever.search(bare).covered:
                query = bare  # a topic of its own is left ("upskilling"), not only "he"
            prefer = tuple(dict.fromkeys((*named, *context.prefer_docs)))
            context = replace(context, prefer_docs=prefer, query=query)
        elif context.is_follow_up:
            # "how did James Chua network?" … "what did he get out of that?": the name the
            # question before carries into the search dilutes it there as it would have then.
            context = replace(context, query=self._without_names(context.query))
        fresh = self._uncovered_new_topic(context)
        if (
            context.is_follow_up
            and not context.asks
            and age_uncovered(context.own_text, self._vocabulary())
        ):
            # "and if i'm 40?" after advice: the posts never speak of age. Say so, and go on
            # with the question before, as for "what about for someone older?".
            notices = [*notices, NOT_SPECIFIC.format(concept="age")]
            context = replace(context, query=context.carried, vague=True, shift_to=())
            fresh = None
        if context.shift_to:
            known, unknown = self._topic_words(context.shift_to)
            if known and unknown:
                # "what about going straight to a PhD instead?": a word the posts never use
                # that the question is less about than one they do use ("straight" 0.22,
                # "PhD" 0.58) is how it is put, not its topic ("visas for PhD students?" is
                # about the visas).
                weight = about_words(context.own_text, context.shift_to, self.embedder.embed_query)
                topic = max(weight.get(w, 0.0) for w in context.shift_to if w not in unknown)
                unknown = tuple(w for w in unknown if weight.get(w, 0.0) >= topic)
            if not unknown and fresh is not None:
                unknown = (fresh,)  # "what about remote roles?": "remotely sensible" is no topic
            fresh = None
            context = replace(context, shift_to=known)
            if unknown:
                # "what about for someone older?" and the posts never speak of age: say so,
                # and go on with the question before ("tell me more"), without the unknown
                # word in the ranking.
                word = as_typed(context.own_text, unknown[0])
                notices = [*notices, NOT_SPECIFIC.format(concept=word)]
                context = replace(context, query=context.carried, vague=True, shift_to=())
            else:
                shifted = self._shifted_query(context)
                if shifted != context.query:
                    # The old topic is gone from the question: its words no longer drown the
                    # new one, so the composer reads the whole reframed question.
                    context = replace(context, query=shifted, message_is_query=True)
        query = context.query
        if not context.is_follow_up and names_no_topic(text, self._vocabulary()):
            query = f"{query} ({FIELD})"  # "am I too old for this?": this is the posts' field
        beyond = beyond_the_posts(text)
        if beyond:
            if not having_a_hard_time(text):
                return self._not_covered(query, "extractive", notices, answer_id, beyond=beyond)
            # "rejected from all twelve… is the market that competitive right now or am i not
            # good enough?": a discouraged asker gets the posts' encouragement, not only "check
            # the organisation's site"; how things stand now (or will) is named as out of reach.
            notices = [*notices, _HARD_GOING_NOTES[beyond]]
        missing: str | None = None
        if fresh is not None:
            # "ok. are there remote roles then?" after a question on finding jobs: the follow-up
            # asks about something the posts never discuss; the question before stays answered.
            log.info("declined follow-up: the posts do not cover %r", fresh)
            missing = asked_phrase(context.own_text, fresh, shown=True)
        elif not context.is_follow_up:
            asked = self._as_post_named(context.own_text or text)  # without "unrelated but…"
            said: list[tuple[str, str]] = []
            concept = self._uncovered_concept(asked, said=said)
            rest = without_age(asked) if concept == "age" else ""
            if (
                rest
                and asked_sentences(rest)
                and self._uncovered_concept(rest) is None
                and self.retriever.search(rest).covered
            ):
                # "I have no tech background. Is it possible for me or am I too old?": the
                # posts never speak of age, but of the rest; say so and answer the rest.
                log.info("answered without the age asked about")
                notices = [*notices, NOT_ON_AGE]
                concept, query = None, rest
            if concept is not None:
                log.info("declined: the posts do not cover %r", concept)
                missing = self._named(asked, concept)
            elif plainly(asked) != asked and self._uncovered_concept(asked, plain=False):
                # Read literally, a figure of speech is a word the posts never use ("towel"):
                # searched as typed it finds only that word's neighbours.
                query = plainly(query)
            for typed, theirs in said:
                # "must I do a doctorate before?" is searched in the posts' word: "PhD".
                query = _in_word(query, typed, theirs)
        if missing is not None:
            return self._not_covered(
                query, "extractive", notices, answer_id, concept=missing, listed=topics_listed
            )
        # Sentences are ranked on their own, so the composer reads more passages than the
        # LLM is shown: advice often sits in the 6th-8th passage of a chatty question.
        result = self.retriever.search(query, k=self.config.quote_passages)
        plain = plainly(query)
        if not result.covered and plain != query:
            # "how do i get my foot in the door?" read literally is near nothing in the posts;
            # in plain words ("get started") it is their own. Read so only when the literal
            # reading finds nothing: a question answered as typed keeps its answer.
            in_plain_words = self.retriever.search(plain, k=self.config.quote_passages)
            if in_plain_words.covered:
                result, query = in_plain_words, plain
        if (
            not result.covered
            and (
                copes(text)
                or seeks_reassurance(text)
                or bool(named)
                or (not context.is_follow_up and says_non_technical(text))
            )
            and result.best_similarity >= COPING_MIN_SIMILARITY
            and result.best_keyword >= COPING_MIN_KEYWORD
        ):
            # "I feel like an impostor", "stuck for weeks, is this normal?": the posts'
            # encouragement and stories answer it in other words. A question naming an author
            # ("what did Jay Bailey take away from his first year?") is about their post, however
            # it is worded; the concept checks above have already run.
            result = replace(result, covered=True)
        elif (
            not result.covered
            and result.best_sentence >= SENTENCE_MATCH
            and not asks_how_much(text)
        ):
            # "how do i cold email someone at a lab without being annoying": one sentence says
            # it ("The cheapest thing you can do here is just cold email people…", 0.59) in a
            # passage about several things (0.20). A sentence about the thing is no answer to
            # how much it costs ("how much does ARENA cost to attend?": "ARENA is also
            # commonly recommended.", 0.60).
            result = replace(result, covered=True)
        if not result.covered or not result.passages:
            return self._not_covered(
                query, "extractive", notices, answer_id, result, listed=topics_listed
            )
        own_text = context.own_text or text
        money = unpriced(own_text, (p.text for p in result.passages))
        hours = untimed(own_text, (p.text for p in result.passages))
        if money is not None or hours is not None:
            # Declined whole: no note that the posts go on about the question before.
            notices = [n for n in notices if not n.startswith(_NOT_SPECIFIC_OPENING)]
        if money is not None:
            # "how much does MATS pay?", "do those pay well?": an amount of money is the
            # answer, and no passage found names one; quotes about MATS would be no answer.
            log.info("declined: the posts name no amount for %r", money)
            return self._not_covered(
                query, "extractive", notices, answer_id, concept=money, listed=topics_listed
            )
        if hours is not None:
            # "realistically how many hours a week would I need?": a number of hours is the
            # answer, and no passage found states one ("I struggled to put hours in" does not).
            log.info("declined: the posts name no amount of time for %r", hours)
            return self._not_covered(
                query, "extractive", notices, answer_id, concept=hours, listed=topics_listed
            )
        # Whether the asker's own words ask for several things: decided here, once ("and the
        # second one?" is searched as the quote it points at, whose words are not the asker's).
        list_wanted = asks_for_list(text if context.pointed else own_text)
        in_topic = [d for d in self._named_posts(context.carried) if d in context.quoted_docs]
        if context.message and in_topic:
            # "did James find MATS useful?" … "what did he learn?": he is the author named.
            context = replace(context, prefer_docs=(in_topic[0],))
        elif context.message and len(context.quoted_docs) > 1:
            # "how did he turn it around?" after quotes from several posts: "he" is an author
            # the reply named (not an anonymous post's), the one whose post the conversation so
            # far is most about, by the merged search.
            named_docs = self._authored(context.quoted_docs)
            ranked = [p.doc_id for p in result.passages if p.doc_id in named_docs]
            if len(named_docs) == 1:
                context = replace(context, prefer_docs=named_docs)
            elif ranked:
                context = replace(context, prefer_docs=(ranked[0],))
        passages = list(result.passages)
        ranks: dict[str, int] | None = None
        if not context.is_follow_up and says_non_technical(own_text):
            # "i cant code at all, can i still help?": the search found the posts' other paths
            # in their words ("operations and field-building to politics and
            # communications"); ranked on the asker's words alone, their sentences lose to any
            # line on coding. The quotes are ranked with those words too.
            query = f"{query} {NON_TECHNICAL_PATHS}"
        if context.is_follow_up and not context.vague:
            # About a person ("what was his plan?"): their post, searched in their words.
            within = context.prefer_docs if context.message else ()
            about = context.message or own_text
            if within and asks_for_verdict(context.message):
                # "how did it go for him?" is about what the conversation asked ("is MATS
                # worth it?"): his verdict on that, not on anything he did.
                about = f"{context.carried} {context.message}"
            passages, ranks = self._own_passages(passages, about, within)
        if context.is_follow_up or named:
            passages = self._with_context(passages, context)
        if context.background and context.message:
            # "how did that guy end up in safety?": authors say who they are where they
            # introduce their post, whatever the search made of the question: read there first.
            opening = self._preambles(context.prefer_docs)
            have = {p.id for p in opening}
            passages = [*opening, *(p for p in passages if p.id not in have)]
        if context.shift_to:
            # "and for governance?": only passages about the new topic answer it.
            on_topic = [p for p in passages if self._is_about(p, context.shift_to)]
            if on_topic:
                passages = on_topic
        last = self._last_quotes(context)
        if context.asks == WHY and last and self._why_of_something_else(context.own_text, last):
            # "why would it be situational?" after a reply that never said "situational": it
            # asks about what the posts say elsewhere, not for the reason behind the quote.
            context = replace(context, asks="")
            last = ()
        if context.asks == WHY and last:
            # The reason asked for is the best quote's (the reply's first): a reason beside a
            # quote further down the reply answers a "why?" nobody asked.
            last = last[:1]
            # "why?": the reason is given where the claim was made, in the passages the last
            # reply quoted or right beside them, not wherever the topic comes up again.
            beside = self._same_topic(self._around(last), last, context.carried)
            if beside:
                passages = beside
                ranks = None
        elif context.asks == STEP and last:
            # "what's the first step?": the step is in the advice just quoted or right beside
            # it ("The main advice…: pick one relevant topic…" above the item quoted), not in
            # whatever else says "steps".
            beside = self._around(last)
            if beside:
                passages = beside
                ranks = None
        elif context.asks in (CLARIFY, MORE, OUTCOME, EXAMPLE) and last:
            # What qualifies the last quote, or the rest of its list, is beside it.
            have = {p.id for p in passages}
            passages = [*passages, *(p for p in self._around(last) if p.id not in have)]
        if context.asks == OTHERS and context.last_quotes:
            # "does anyone else agree?", "did anyone push back on that?": what other voices
            # say of the claim just quoted (other posts, the comments under it), searched and
            # ranked on that claim; its author saying more is no answer.
            doc, claim = context.last_quotes[0]
            query = f"{context.carried} {claim}"
            context = replace(context, query=query, message_is_query=True)
            found = self.retriever.search(query, k=2 * self.config.quote_passages).passages
            others = [p for p in found if p.doc_id != doc or p.is_comment]
            # A comment that quotes the claim answers it directly ("> Alignment is an unusual
            # field…" then "Isn't this entirely usual?").
            replies = [p for p in others if p.is_comment and _quotes_claim(p.text, claim)]
            if replies or others:
                passages, ranks = (replies or others)[: self.config.quote_passages], None
        # "the second one" asks about one item of a list, not for the rest of it.
        listed = self._list_shown(context) if context.asks == MORE and not context.pointed else None
        if listed is not None:
            # "any others on that list?", "any more?": the list the last reply showed goes on
            # in its section (the next cluster of the same list), or it was whole.
            passages = listed[2] or listed[1]
            list_wanted = True
        hidden: tuple[str, ...] = ()
        if context.lacking:
            # "what about without a PhD?": not the section about the PhD.
            passages = self._not_under(passages, context.lacking)
        if context.excluded:
            passages, hidden = self._without(passages, context.excluded)

        # A follow-up is not answered with what the conversation already quoted, except a
        # question on a new topic ("what about govt jobs instead?"): if the best answer to it
        # was shown under the old one, it is still the answer, and leaving it out drops it.
        shown = () if context.shift_to else context.previous_quotes
        # A question of its own in a conversation may be answered by a quote shown for an
        # earlier one, but at a cost: the asker has read it, and a sentence they have not read
        # that answers as well is the better reply.
        earlier = (
            ()
            if context.is_follow_up
            else tuple(q for t in history if t.role == "assistant" for q in quotes_in(t.text))
        )

        # "the first one?" when that quote ends its paragraph: nothing of it is left to say
        # more of, so no part of it is quoted alone again (see `_quoted_again`).
        spent = (
            " ".join(context.pointed.split())
            if context.pointed
            and context.asks == MORE
            and self._ends_its_paragraph(context.pointed)
            else ""
        )

        def quotes(among: Sequence[Passage]) -> list[Span]:
            found = pick_quotes(
                query,
                among,
                self.embedder,
                self.config.max_quotes,
                already_shown=(*shown, *hidden) if context.is_follow_up else (),
                read_before=earlier,
                message=""
                if context.vague
                else self._story_message(context)
                or self._referring_message(context)
                or (query if context.message_is_query else own_text),
                prefer_docs=context.prefer_docs,
                # "tell me more" continues from the best quote shown last, not its padding.
                continue_after=self._continue_after(context),
                contrast=None if not context.is_follow_up else False,
                author_voice=bool(context.message),
                background=context.background and bool(context.message),
                deeds=context.story_goes_on and bool(context.message),
                feelings=about_the_asker(context.message or text),
                ranks=ranks if among is passages else None,
                asks=context.asks,
                last_quotes=last,
                next_passage=self._next_passage(),
                following=self._in_section_after(among) if list_wanted else None,
                list_wanted=list_wanted,
                opens_section=self._opening_sections(among),
                may_repeat=self._may_repeat(context),
                # (a quote that ends its paragraph has nothing to go on with: `spent`)
                goes_on_from=context.pointed if context.asks == MORE and not spent else "",
            )
            if spent:
                found = [s for s in found if " ".join(s.text.split()) not in spent]
            return found

        spans: list[Span] = []
        if listed is not None:
            # The next lists of the section, each with its lead-in; none: the list was whole,
            # and it is shown again under a notice saying so.
            lead, held, later = listed
            spans = self._lists_in(later[: self.config.max_quotes - 1])
            if not later:
                spans = self._lists_in(held, lead=lead)
                notices = [*notices, WHOLE_LIST] if spans else notices
        if not spans and context.message and context.prefer_docs:
            # "how did he turn it around?", "how did it go for him?": about the author just
            # quoted, so from his post only; another post's author is somebody else.
            spans = quotes([p for p in passages if p.doc_id in context.prefer_docs])
        elif not spans and named:
            # "what did Jay Bailey learn in his first year?": what he wrote, not another post
            # that happens to say "first-year".
            among = [p for p in passages if p.doc_id in named]
            if context.their_view:
                # His own advice on it, wherever in his post (the search for the question
                # before finds other posts' answers first), in the search's order, then the
                # rest of his post (read whole, it has no search rank to favour one part).
                passages = self._own_words(query, named, after=self.retriever.snapshot.passages)
                ranks = dict.fromkeys((p.id for p in passages), 0)
                among = passages
            elif self._by_author_name(text) and not _COMMENTS_ASKED.search(text):
                # "what does Richard Ngo think about debate?": his own words on it, not a
                # reader's comment under his post, found by a wider search within his post.
                among = self._own_words(query, named, before=among) or among
            spans = quotes(among)
        if not spans:
            spans = quotes(passages)
        if not spans and context.pointed and context.asks == MORE:
            # The post says no more there: the quote again, whole, under a notice saying so.
            spans = self._quoted_again(context.pointed)
            notices = [*notices, ALL_IT_SAYS] if spans else notices
        if not spans:
            return self._not_covered(
                query, "extractive", notices, answer_id, result, listed=topics_listed
            )
        contrast = None if not context.is_follow_up else False
        return self._quoted(text, spans, contrast, notices, query, answer_id)

    @staticmethod
    def _quoted(
        text: str,
        spans: Sequence[Span],
        contrast: bool | None,
        notices: Sequence[str],
        query: str,
        answer_id: str,
    ) -> Answer:
        """An extractive answer: the composed reply for `spans`, with its citations. Someone
        who says they are having a hard time is told it is heard before the quotes."""
        reply, citations = compose(text, spans, contrast)
        if having_a_hard_time(text):
            reply = f"{HARD_GOING} {reply}"
        return Answer(
            text=reply,
            covered=True,
            mode="extractive",
            citations=citations,
            notices=tuple(notices),
            standalone_query=query,
            answer_id=answer_id,
        )

    def _in_brief(self, text: str, context: TurnContext) -> Span | None:
        """ "tl;dr?": the one sentence of the last reply's quotes that best answers the
        conversation's question, quoted on its own."""
        shown = [" ".join(q.split()) for q in context.last_reply_shown]
        passages = self._around(list(context.last_reply_shown), either_side=False)
        if not shown or not passages:
            return None
        spans = pick_quotes(
            context.carried,
            passages,
            self.embedder,
            1,
            message=context.carried,
            rank_only=True,
        )
        return next(
            (
                s
                for s in spans
                if len(s.sentences) == 1 and any(" ".join(s.text.split()) in q for q in shown)
            ),
            None,
        )

    def _sources(self, quotes: Sequence[str]) -> str:
        """ "which post says that?": each post the last reply quoted, with its author, link and
        the sections quoted, in the reply's order ("" when it quoted nothing)."""
        where = self._quoted_posts(quotes)
        if not where:
            return ""
        lines = ["That was from:" if len(where) == 1 else "Those quotes were from:", ""]
        for post, sections in where.values():
            title = f"[{post.title}]({post.url})" if post.url else f"“{post.title}”"
            under = ", ".join(f"“{s}”" if s != "a comment" else s for s in sections)
            lines.append(f"- {title}{_by(post)}" + (f", in {under}" if under else ""))
        return "\n".join(lines)

    def _quoted_posts(self, quotes: Sequence[str]) -> dict[str, tuple[Passage, list[str]]]:
        """The posts `quotes` come from (doc id -> a passage of it, the sections quoted), in
        the order quoted."""
        where: dict[str, tuple[Passage, list[str]]] = {}
        for quote in quotes:
            for p in self._around([quote], either_side=False)[:1]:
                _, sections = where.setdefault(p.doc_id, (p, []))
                section = "a comment" if p.is_comment else p.heading
                if section and section not in sections:
                    sections.append(section)
        return where

    def _dated(self, quotes: Sequence[str]) -> str:
        """ "is that still true?": when each post quoted was written, and where to check what
        holds today ("" when the last reply quoted nothing)."""
        where = self._quoted_posts(quotes)
        if not where:
            return ""
        lines = []
        for post, _ in where.values():
            when = "carries no date"
            if post.published:
                on = "on" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", post.published) else "in"
                when = f"was published {on} {post.published}"
            lines.append(f"“{post.title}”{_by(post)} {when}.")
        lines.append(
            "Advice on how to work and learn ages slowly; who is hiring, programmes and deadlines "
            "change every year, so check the organisation's own site or ask people in the "
            "community for what holds today."
        )
        return " ".join(lines)

    def _written(self) -> str:
        """When the posts were written ("2023–2024"), from their dates ("" when none has one)."""
        years = sorted({p.published[:4] for p in self.retriever.snapshot.passages if p.published})
        if not years:
            return ""
        return years[0] if len(years) == 1 else f"{years[0]}–{years[-1]}"

    def _next_passage(self) -> Mapping[str, str]:
        """Each passage's id -> the id of the passage after it in the same post (or the same
        comment: a post's text never runs on into a comment, nor one comment into another's)."""
        snap = self.retriever.snapshot
        if self._successors[0] != snap.collection:
            same = ((a, b) for a, b in pairwise(snap.passages) if a.doc_id == b.doc_id)
            follows = {
                a.id: b.id for a, b in same if (a.is_comment, a.author) == (b.is_comment, b.author)
            }
            self._successors = (snap.collection, follows)
        return self._successors[1]

    def _told_by(self, deed: str) -> str | None:
        """The post whose author tells of doing `deed` in the first person ("quit my job"): the
        best passage for it, when a sentence there says it with "I" or "my"."""
        wanted = set(keyword_tokens(deed, query=True))
        if not wanted:
            return None
        for passage in self.retriever.search(deed, k=3).passages:
            if passage.is_comment:
                continue
            for line in composer_sentences(passage):
                for s in line:
                    told = set(keyword_tokens(s.text))
                    if speaks_as_author(s.text) and len(wanted & told) >= min(2, len(wanted)):
                        return passage.doc_id
        return None

    def _opening_sections(self, passages: Sequence[Passage]) -> set[str]:
        """Ids of the `passages` that open their section: no passage of the post before them
        in the same section (a list there follows the heading, with no lead-in before it)."""
        snap = self.retriever.snapshot
        before = {b: a for a, b in self._next_passage().items()}
        out: set[str] = set()
        for p in passages:
            prev = before.get(p.id)
            if (
                prev is None
                or prev not in snap.by_id
                or snap.passages[snap.by_id[prev]].section != p.section
            ):
                out.add(p.id)
        return out

    def _in_section_after(self, passages: Sequence[Passage]) -> dict[str, list[Passage]]:
        """Each passage's id -> the passages after it in its post's section (and the sections
        nested under it): where a list that starts in it goes on."""
        snap = self.retriever.snapshot
        successors = self._next_passage()
        out: dict[str, list[Passage]] = {}
        for p in passages:
            after: list[Passage] = []
            nxt = successors.get(p.id)
            while nxt is not None and nxt in snap.by_id and len(after) < MAX_SECTION_PASSAGES:
                q = snap.passages[snap.by_id[nxt]]
                if not q.within(p.section):
                    break
                after.append(q)
                nxt = successors.get(nxt)
            out[p.id] = after
        return out

    def _list_shown(self, context: TurnContext) -> tuple[str, list[Passage], list[Passage]] | None:
        """The list the last reply showed (a lead-in, `leads_into_list`, with items quoted
        under it): its lead-in, the passage where it starts, and the passages after it in its
        section that start another list (its next cluster: "Another cluster: … such as").
        None when the last reply showed no list."""
        shown = context.last_reply_shown
        lead = next((q for q, nxt in pairwise(shown) if leads_into_list(q) and nxt), None)
        held = self._around([lead], either_side=False) if lead else []
        if not lead or not held:
            return None
        flat = " ".join(lead.split())
        later = [
            p
            for p in [held[0], *self._in_section_after(held[:1])[held[0].id]]
            if any(
                leads_into_list(line)
                and LIST_MARKER.match(nxt)
                and " ".join(line.split()) not in flat
                for line, nxt in pairwise(p.text.split("\n"))
            )
        ]
        return lead, held[:1], later

    def _own_words(
        self,
        query: str,
        named: Collection[str],
        before: Sequence[Passage] = (),
        after: Sequence[Passage] = (),
    ) -> list[Passage]:
        """The passages the authors of the posts `named` wrote themselves (never a reader's
        comment under them): `before`, then a wider search for `query`, then `after`, each
        passage once."""
        wider = self.retriever.search(query, k=4 * self.config.quote_passages).passages
        by_readers = comments_by_others(self.retriever.snapshot.passages)
        own = [p for p in (*before, *wider, *after) if p.doc_id in named and p.id not in by_readers]
        return list({p.id: p for p in own}.values())

    def _holder(self, quote: str) -> Passage | None:
        """The passage a quote a reply showed comes from, if one holds it."""
        flat = " ".join(quote.split())
        return next(
            (p for p in self.retriever.snapshot.passages if flat in " ".join(p.text.split())),
            None,
        )

    def _ends_its_paragraph(self, quote: str) -> bool:
        """Whether a quote a reply showed runs to the end of its paragraph or list item: the
        post says no more there ("…lab governance work may be a good fit for you." before "3.
        Policy-related jobs")."""
        holder = self._holder(quote)
        if holder is None:
            return False
        end = " ".join(quote.split())[-40:]
        return any(line.rstrip().endswith(end) for line in holder.text.split("\n"))

    def _quoted_again(self, quote: str) -> list[Span]:
        """The quote a reply showed, as a quote again (whole), if a passage holds it."""
        holder = self._holder(quote)
        if holder is None:
            return []
        flat = " ".join(quote.split())
        # Among every window the passage offers: the quote may not be one the composer would
        # choose again ("Continue applying… Repeat until you have a job that you like." loses
        # to its first sentence alone, and "the second one?" was declined).
        found = pick_quotes(quote, [holder], self.embedder, 3, message=quote, rank_only=True)
        return [s for s in found if " ".join(s.text.split()) == flat][:1]

    def _lists_in(self, passages: Sequence[Passage], lead: str = "") -> list[Span]:
        """The list each passage starts, quoted with its lead-in (`lead`, else the passage's
        first line that leads into a list)."""
        spans: list[Span] = []
        for p in passages:
            first = lead or next((line for line in p.text.split("\n") if leads_into_list(line)), "")
            found = pick_quotes(
                first,
                [p],
                self.embedder,
                1,
                message=first,
                list_wanted=True,
                next_passage=self._next_passage(),
                following=self._in_section_after([p]),
            )
            spans.extend(span for span in found[:1] if is_list(span))
        return spans

    def _referring_message(self, context: TurnContext) -> str:
        """A "tell me more" that points at the last reply ("what does that look like in
        practice?") read together with the quote it points at, the last reply's first: on its
        own it matches whatever "in practice" matches best."""
        if context.asks == STEP and context.last_reply_quotes:
            # "what's the first step?": the advice just given, not whatever says "steps".
            return f"{context.about_quotes[0]} {context.carried}"
        if context.asks != MORE or not context.last_reply_quotes:
            return ""
        if not context.pointed and not _POINTS_BACK.search(context.own_text):
            return ""
        return f"{context.about_quotes[0]} {context.own_text}"

    def _story_message(self, context: TurnContext) -> str:
        """A follow-up about the author ("how did he turn it around?") read in the light of what
        the author was just quoted saying: the story it asks about is the one that quote told."""
        if not context.message:
            return ""
        told = self._continue_after(context)
        return f"{told[0]} {context.message}" if told else context.message

    def _preambles(self, docs: Sequence[str]) -> list[Passage]:
        """The passages of `docs` before their first heading (not comments): where an author
        introduces the post and themself."""
        return [
            p
            for p in self.retriever.snapshot.passages
            if p.doc_id in docs and not p.section and not p.is_comment
        ]

    def _why_of_something_else(self, message: str, last: Sequence[str]) -> bool:
        """Whether a "why…?" asks about a word of the posts that the passages just quoted (and
        those either side) never use: "why would it be situational?" after a quote about
        upskilling. Only the asking clause counts ("why tho, seems dumb" reacts after it)."""
        asked = first_clause(message)
        vocabulary = self._vocabulary()
        words = [w for w in keyword_tokens(asked, query=True) if vocabulary[w]]
        if not words:
            return False
        near = {t for p in self._around(last) for t in keyword_tokens(f"{p.section} {p.text}")}
        return not near & set(words)

    @staticmethod
    def _may_repeat(context: TurnContext) -> tuple[str, ...]:
        """The last reply's quotes, part of which may answer this turn again.

        A question of its own on the conversation's topic ("but what would I even say to
        them?", "wait, aren't those teams very competitive?") may be best answered by a
        sentence the last reply showed inside a longer quote. A "why?", "tell me more" or "is
        that also true…" has its own way with the last quotes; a new topic, a question about
        the author and a "besides …" ask for something else.
        """
        if context.pointed and context.asks == MORE:
            # "say more about the first one": its rest may lean on it ("These two things
            # determined…"), so it may open the quote again, never stand alone again.
            return (context.pointed,)
        if not context.is_follow_up or context.vague or context.asks:
            return ()
        if context.shift_to or context.message or context.excluded:
            return ()
        return context.last_reply_shown

    @staticmethod
    def _last_quotes(context: TurnContext) -> tuple[str, ...]:
        """The quotes the last reply showed (none for a turn that is not a follow-up)."""
        return context.about_quotes if context.is_follow_up else ()

    @staticmethod
    def _continue_after(context: TurnContext) -> tuple[str, ...]:
        """Where the answer may pick up the passage already quoted.

        "tell me more" continues from the best quote shown last, not from its padding; "how
        did he turn it around?" continues the story of the author it is about.
        """
        if (context.vague or context.asks in (MORE, EXAMPLE)) and context.last_reply_quotes:
            return context.about_quotes[:1]
        if context.story_goes_on and context.message and context.prefer_docs:
            told = [q for doc, q in context.last_quotes if doc in context.prefer_docs]
            return tuple(told[:1])
        if (
            context.short
            and not context.asks
            and not (context.message or context.shift_to or context.excluded or context.lacking)
        ):
            # "and once I have the basics?", "but what if I pick the wrong area?": a short
            # question on what was just quoted, which the post takes up where the quote stopped.
            return context.last_reply_shown[:1]
        return ()

    def _same_topic(
        self, beside: list[Passage], quoted: Sequence[str], asked: str
    ) -> list[Passage]:
        """The passages `beside` a quote that are under its heading: a passage under another
        heading (the next item's "Scalable oversight" sub-points after a quote on mechanistic
        interpretability) argues for something else. A heading nested under the quote's that
        the quote or the question names ("Scalable oversight") is still its own."""
        held = self._around(quoted, either_side=False)
        if not held:
            return beside
        section = held[0].section
        named = {t for text in (*quoted, asked) for t in keyword_tokens(text)}
        kept = [
            p
            for p in beside
            if p.section == section
            or (p.within(section) and set(keyword_tokens(p.heading)) <= named)
        ]
        return kept or beside

    def _authored(self, docs: Sequence[str]) -> tuple[str, ...]:
        """The posts among `docs` whose author is known (a reply names them)."""
        passages = self.retriever.snapshot.passages
        known = {p.doc_id for p in passages if p.author and not p.is_comment}
        return tuple(doc for doc in docs if doc in known)

    def _topic_words(self, words: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """A new topic's words as the posts spell them ("goverance", "govt" -> "government"), and
        those the posts never use. Numbers and two-letter tokens ("40s") name no topic."""
        vocabulary = self._vocabulary()
        known: list[str] = []
        unknown: list[str] = []
        for word in words:
            if no_concept(word):
                continue
            # Shorthand stands for the corpus's commonest word it opens ("eng": engineering,
            # not engage); a contraction by its first letters ("govt": government).
            forms = close_forms(word, vocabulary) or sorted(
                long_forms(word, vocabulary), key=lambda w: -vocabulary[w]
            )
            forms = forms or self._contracted(word)
            spelled = word if word in vocabulary else next(iter(forms), "")
            if spelled:
                known.append(spelled)
            else:
                unknown.append(word)
        return tuple(known), tuple(unknown)

    def _contracted(self, word: str) -> list[str]:
        """The corpus word (stemmed) a four-letter contraction stands for: the posts' commonest
        word opening on its first three letters with its last letter further on ("govt":
        government, not governance; "visa" stands for nothing), else []."""
        if len(word) != 4 or not word.isalpha():
            return []
        counts = Counter(
            w
            for p in self.retriever.snapshot.passages
            for w in re.findall(r"[a-z]+", p.text.casefold())
            if len(w) >= 6 and w.startswith(word[:3]) and word[3] in w[3:]
        )
        if not counts:
            return []
        tokens = keyword_tokens(counts.most_common(1)[0][0])
        return tokens[:1] if tokens and tokens[0] in self._vocabulary() else []

    def _shifted_query(self, context: TurnContext) -> str:
        """ "and for governance?" after a question about alignment research: the question
        before, asked about the new topic.

        The posts' headings name their topics: the old topic is the question's words that
        head the sections the last reply quoted and none about the new topic ("Alignment
        research" vs "Governance research": "alignment"). The rest ("student", "research
        experience", "get started") is how the asker framed it, and stays.
        """
        found = self.retriever.search(context.own_text, k=self.config.quote_passages).passages
        about = [p for p in found if self._is_about(p, context.shift_to)]
        last = context.last_reply_shown
        if not about or not last:
            return context.query
        quoted = self._around(last, either_side=False)
        old = {t for p in quoted for t in keyword_tokens(p.section)}
        gone = old - {t for p in about for t in keyword_tokens(p.section)}
        kept = [w for w in context.carried.split() if not gone & set(keyword_tokens(w))]
        return " ".join([*kept, context.own_text])

    def _is_about(self, passage: Passage, words: Sequence[str]) -> bool:
        """Whether the passage (its text or headings) uses the topic's rarest word.

        "and for policy roles?" is about policy, not about the roles every post mentions.
        A word the posts never use cannot pick passages; then none is "about" the topic.
        """
        vocabulary = self._vocabulary()
        if not words or any(w not in vocabulary for w in words):
            return False
        rarest = min(words, key=lambda w: vocabulary[w])
        return rarest in keyword_tokens(f"{passage.section} {passage.text}")

    @staticmethod
    def _not_under(passages: list[Passage], words: Sequence[str]) -> list[Passage]:
        """The passages not under a heading about `words` (all of them), or all if none is."""
        unwanted = set(words)
        kept = [p for p in passages if not unwanted <= set(keyword_tokens(p.heading))]
        return kept or passages

    def _without(
        self, passages: list[Passage], words: Sequence[str]
    ) -> tuple[list[Passage], tuple[str, ...]]:
        """ "besides the soft skills": drop passages under a heading about them and hide the
        sentences that name them (all their words: "technical skills" is not "soft skills")."""
        kept = self._not_under(passages, words)
        unwanted = set(words)
        hidden = tuple(
            s.text
            for p in kept
            for line in composer_sentences(p)
            for s in line
            if unwanted <= set(keyword_tokens(s.text))
        )
        return kept, hidden

    def _own_passages(
        self, passages: list[Passage], text: str, within: Sequence[str] = ()
    ) -> tuple[list[Passage], dict[str, int]]:
        """A follow-up with a topic of its own ("and what if I'm good at it but hate it?"):
        the merged question's passages and the follow-up's own (only from the posts `within`,
        if given), taken in turn, each passage ranked by its place in its own list."""
        own = self.retriever.search(text, k=len(passages) * (3 if within else 1)).passages
        if within:
            own = tuple(p for p in own if p.doc_id in within)[: len(passages)]
        ranks: dict[str, int] = {}
        for ranking in (passages, own):
            for rank, p in enumerate(ranking):
                ranks[p.id] = min(rank, ranks.get(p.id, rank))
        merged: dict[str, Passage] = {}
        for pair in zip(passages, own, strict=False):
            for p in pair:
                merged.setdefault(p.id, p)
        kept = list(merged.values())[: len(passages)]
        return kept, {p.id: ranks[p.id] for p in kept}

    def _around(self, quotes: Sequence[str], either_side: bool = True) -> list[Passage]:
        """The passages holding `quotes` (and the passages either side, in the same post)."""
        flat = [" ".join(q.split())[:80] for q in quotes]
        ordered = list(self.retriever.snapshot.passages)
        found: dict[str, Passage] = {}
        for i, p in enumerate(ordered):
            if not any(q in " ".join(p.text.split()) for q in flat):
                continue
            near = ordered[max(0, i - 1) : i + 2] if either_side else [p]
            found.update((q.id, q) for q in near if q.doc_id == p.doc_id)
        return list(found.values())

    def _with_context(self, passages: list[Passage], context: TurnContext) -> list[Passage]:
        """Add the passages the previous reply quoted ("why?") or the post it named ("he")."""
        have = {p.id for p in passages}
        extra: list[Passage] = []
        story = () if context.vague else self._continue_after(context)
        if context.vague:
            extra.extend(self._around(context.previous_quotes, either_side=False))
        elif story:
            # A story goes on around the part already told: read the passages either side.
            extra.extend(self._around(story))
        extra = [p for p in {p.id: p for p in extra}.values() if p.id not in have]
        have.update(p.id for p in extra)
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
        beyond: str = "",
        concept: str = "",
        listed: bool = False,
    ) -> Answer:
        """A decline: why (in the asker's words when one is missing), then a next step.

        A missing concept ("parental leave") is the point of the question, so what the posts
        say about the rest of it is beside the point: the next step is the configured hint, or
        people who may know. A question the posts don't cover at all gets what is near. What
        the posts do cover is listed once a conversation (`listed`: a reply before listed it).
        """
        if beyond == LIVE:
            written = self._written()
            lines = [
                "The advice posts I draw on are dated"
                + (f" (written {written})" if written else "")
                + ", so they can't tell you what is open or true right now; check the "
                "organisation's own site or ask people in the community."
            ]
        elif beyond == FUTURE:
            lines = [NOT_FORECAST]
            if not listed:
                lines.append(self._covered_topics())
        elif concept:
            # What the bot can help with instead, then the next step: read blind, a decline
            # ending on "someone in the community may know" alone was "honest but empty".
            lines = [NOT_DISCUSSED.format(concept=concept)]
            if not listed:
                lines.append(self._covered_topics())
        else:
            lines = [NOT_COVERED]
            near = nearest_topic(result.passages) if result is not None else None
            if near is not None and result is not None and result.best_similarity >= 0.25:
                lines.append(nearest_pointer(near))
            elif not listed:
                lines.append(self._covered_topics())
        if self.config.decline_hint:
            lines.append(self.config.decline_hint)
        elif concept and not beyond:
            lines.append(ASK_PEOPLE)
        return Answer(
            text=" ".join(lines),
            covered=False,
            mode="llm" if mode == "llm" else "extractive",
            citations=(),
            notices=tuple(notices),
            standalone_query=query,
            answer_id=answer_id,
        )

    def _covered_topics(self) -> str:
        """ "They do discuss, for example: …": what the posts cover, for a decline."""
        topics = ", ".join(self.topics) if self.topics else FIELD
        return f"They do discuss, for example: {topics}."

    def _about(self, notices: Sequence[str]) -> Answer:
        """What the bot does and which posts it reads (title, author, link), with examples."""
        posts: dict[str, Passage] = {}
        links: dict[str, str] = {}
        asked: dict[str, str] = {}  # one example question per post, from its headings
        for p in self.retriever.snapshot.passages:
            if p.is_comment:
                continue
            posts.setdefault(p.doc_id, p)
            if p.url:
                links.setdefault(p.doc_id, p.url)
            heading = p.headings[-1] if p.headings else ""
            if heading.endswith("?"):
                asked.setdefault(p.doc_id, heading)
        lines = [
            "I answer questions about careers in AI safety by quoting advice posts, and I say "
            f"which post each quote comes from. I read {len(posts)}:",
            "",
        ]
        for doc, p in posts.items():
            title = f"[{p.title}]({links[doc]})" if doc in links else f"“{p.title}”"
            lines.append(
                f"- {title}"
                + (f" by {p.author}" if p.author else "")
                + (f" ({p.published})" if p.published else "")
            )
        topics = ", ".join(self.topics) if self.topics else FIELD
        lines += ["", f"They discuss, for example: {topics}."]
        if asked:
            examples = " or ".join(f"“{q}”" for q in list(asked.values())[:2])
            lines.append(f"Ask me something like {examples}; follow-ups continue the conversation.")
        return _plain_answer("\n".join(lines), notices, covered=True)

    def _support(self, notices: Sequence[str]) -> Answer:
        """A kind, short reply to acute distress: no quotes, a pointer to real support."""
        text = (
            "I'm sorry you're going through this; what you describe sounds really hard, and "
            "you don't have to work through it alone. " + self.config.support_message
        )
        return _plain_answer(text, notices, covered=False)

    async def _llm_answer(
        self,
        text: str,
        history: list[Turn],
        notices: list[str],
        on_partial: Partial | None = None,
    ) -> Answer:
        assert self.llm is not None
        # The same scope decisions as quotes, before any model call: the model is told to
        # decline too, but is not trusted to.
        beyond = beyond_the_posts(text)
        if beyond:
            if not having_a_hard_time(text):
                return self._not_covered(text, "llm", notices, uuid.uuid4().hex, beyond=beyond)
            notices = [*notices, _HARD_GOING_NOTES[beyond]]  # as with quotes: the person first
        if not history:
            asked = self._as_post_named(text)
            concept = await asyncio.to_thread(self._uncovered_concept, asked)
            if concept is not None:
                log.info("declined: the posts do not cover %r", concept)
                return self._not_covered(
                    text,
                    "llm",
                    notices,
                    uuid.uuid4().hex,
                    concept=self._named(asked, concept),
                )

        asked_unpriced: list[str] = []

        async def search(query: str) -> tuple[bool, Sequence[Passage]]:
            result = await asyncio.to_thread(self.retriever.search, query)
            found = [p.text for p in result.passages]
            money = unpriced(text, found) or untimed(text, found)
            if money is not None:
                # As with quotes: an amount of money (or of hours) is the answer and no passage
                # found names one, so the model is not asked to make one up from quotes.
                asked_unpriced.append(money)
                return False, result.passages
            return result.covered, result.passages

        reply = await self.llm.respond(text, history, search, on_partial)
        answer_id = uuid.uuid4().hex
        all_notices = (*notices, *reply.notices)
        if not reply.covered:
            concept = asked_unpriced[0] if asked_unpriced else ""
            declined = self._not_covered(
                reply.query, "llm", all_notices, answer_id, concept=concept
            )
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
