"""Hybrid retrieval over the real knowledge base: quality floor, relevance gate, diversity."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import chromadb
import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from bot.embeddings import ONNX_MODEL_NAME
from bot.evaluation import evaluate, load_questions
from bot.index import KnowledgeIndex
from bot.knowledge import chunk_documents, load_knowledge
from bot.retrieval import (
    RetrievalConfig,
    Retriever,
    expand_tokens,
    passage_sentences,
    post_authors,
    says_non_technical,
)
from bot.text import close_forms, keyword_tokens, long_forms, message_sentences, without_field

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"

OFF_TOPIC = [
    "What's the capital of France?",
    "How do I bake sourdough bread?",
    "Recommend a good laptop",
    "What's the weather tomorrow?",
    "How do I train my puppy?",
    "How do I invest in index funds?",
    "How do I cook rice?",
]
IN_DOMAIN = [
    "How do I deal with burnout?",
    "Should I do a PhD?",
    "How do I get into MATS?",
    # Plain newcomer questions with little keyword overlap (see the gate comment).
    "How do I find my personal fit?",
    "What does a typical day at MATS look like?",
    "How much math do I need?",
]


@pytest.fixture(scope="session")
def corpus_retriever(embedder: Embeddings) -> Retriever:
    """The real knowledge base embedded once per session into an in-memory Chroma."""
    # EphemeralClient is process-global: a unique prefix keeps other tests' collections apart.
    index = KnowledgeIndex(
        chromadb.EphemeralClient(),
        embedder,
        ONNX_MODEL_NAME,
        prefix=f"test-retrieval-{uuid.uuid4().hex[:8]}",
    )
    index.sync(chunk_documents(load_knowledge(ROOT / "knowledge")))
    retriever = Retriever(index, embedder, RetrievalConfig())
    retriever.refresh()
    return retriever


def search(retriever: Retriever):
    return lambda q, k: retriever.search(q, k).passages


def test_dev_set_quality_floor(corpus_retriever: Retriever) -> None:
    report = evaluate(search(corpus_retriever), load_questions(FIXTURES / "eval_dev.jsonl"))
    assert report.n == 20
    assert report.hit_at_5 >= 0.9, report.format_text()
    assert report.mean_passage_chars < 900


def test_extra_set_quality_floor(corpus_retriever: Retriever) -> None:
    report = evaluate(search(corpus_retriever), load_questions(FIXTURES / "eval_extra.jsonl"))
    assert report.hit_at_5 >= 0.9, report.format_text()


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_questions_are_not_covered(corpus_retriever: Retriever, question: str) -> None:
    result = corpus_retriever.search(question)
    assert not result.covered, (question, result.best_similarity, result.best_keyword)


def test_in_domain_questions_are_covered(corpus_retriever: Retriever) -> None:
    questions = [
        *IN_DOMAIN,
        *(q.q for q in load_questions(FIXTURES / "eval_dev.jsonl")),
        *(q.q for q in load_questions(FIXTURES / "eval_extra.jsonl")),
    ]
    uncovered = [q for q in questions if not corpus_retriever.search(q).covered]
    assert uncovered == []


def test_a_chatty_question_with_strong_keyword_evidence_passes_the_gate(
    corpus_retriever: Retriever,
) -> None:
    """The context of a chatty message dilutes its cosine; many shared words make up for it."""
    text = (
        "i really want to work at one particular place but nothing is posted. would it be too"
        " pushy to email people there directly?"
    )
    result = corpus_retriever.search(text)
    config = RetrievalConfig()
    assert result.best_similarity < config.keyword_min_similarity  # the old gate refused it
    assert result.best_keyword >= config.strong_keyword_evidence
    assert result.covered


def test_results_are_ranked_scored_and_sized(corpus_retriever: Retriever) -> None:
    result = corpus_retriever.search("How do I deal with burnout?", 5)
    assert len(result.passages) == 5
    scores = [p.score for p in result.passages]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert "burnout" in result.passages[0].text.lower()
    assert len(corpus_retriever.search("Should I do a PhD?", 3).passages) == 3


def test_one_post_never_fills_every_slot(corpus_retriever: Retriever) -> None:
    # Every good match for this question is in one post; another post still gets a slot.
    result = corpus_retriever.search(
        "What did the author of the siloed views post learn about how many people work on safety?",
        5,
    )
    docs = [p.doc_id for p in result.passages]
    assert docs.count("my-siloed-views-meet-reality") >= 2
    assert len(set(docs)) >= 2


def test_blank_query_and_empty_index(embedder: Embeddings) -> None:
    index = KnowledgeIndex(
        chromadb.EphemeralClient(), embedder, ONNX_MODEL_NAME, prefix=f"empty-{uuid.uuid4().hex}"
    )
    retriever = Retriever(index, embedder, RetrievalConfig())
    retriever.refresh()
    assert not retriever.ready
    result = retriever.search("How do I deal with burnout?")
    assert result.passages == () and not result.covered


def test_blank_query_is_not_covered(corpus_retriever: Retriever) -> None:
    result = corpus_retriever.search("   ")
    assert result.passages == () and not result.covered


def test_keyword_tokens() -> None:
    assert keyword_tokens("Joseph's evals") == keyword_tokens("joseph eval")
    # Inflections meet; "career" keeps its "er"; hyphenated words also count as their parts.
    assert keyword_tokens("engineers engineering") == keyword_tokens("engineer engineer")
    assert keyword_tokens("careers")[0] == "career"
    assert keyword_tokens("researching researchers") == keyword_tokens("research researcher")
    # Snowball, not the old light suffix stripper: "-ness", "-ful", "-ive" forms meet too.
    assert keyword_tokens("usefulness") == keyword_tokens("useful")
    assert keyword_tokens("independence") == keyword_tokens("independent")
    # A contracted pronoun is a stop word like the pronoun; a negation is a word of its own.
    assert keyword_tokens("I'm sure you've we'd they'll") == keyword_tokens("sure")
    assert keyword_tokens("it wasn't for him") == ["wasn't"]
    assert set(keyword_tokens("security-related")) >= set(keyword_tokens("security related"))
    assert keyword_tokens("organisations") == keyword_tokens("organizations")
    # Questions talk about "the author" and "the post"; passages are not about those words.
    asked = keyword_tokens("What did the author say in the post about MATS?", query=True)
    assert asked == keyword_tokens("MATS")
    assert "author" in keyword_tokens("the author")


def test_rank_fusion_mode_still_works(corpus_retriever: Retriever, embedder: Embeddings) -> None:
    rrf = Retriever(corpus_retriever.index, embedder, RetrievalConfig(fusion="rrf"))
    rrf.refresh()
    result = rrf.search("How do I deal with burnout?", 4)
    assert len(result.passages) == 4 and result.covered
    assert "burnout" in " ".join(p.text.lower() for p in result.passages[:2])


def test_close_forms_come_from_the_corpus_vocabulary() -> None:
    vocabulary = {"burnout", "burn", "independent", "career", "paid"}
    assert close_forms("burnt", vocabulary) == ["burn", "burnout"]
    assert close_forms("independant", vocabulary) == ["independent"]  # a typo, one edit away
    assert close_forms("career", vocabulary) == []  # known words stay as they are
    assert close_forms("visa", vocabulary) == []  # short words are words of their own
    assert close_forms("astronomy", vocabulary) == []
    # Unknown words are replaced by their corpus forms; the rest pass through in order.
    assert expand_tokens(["burnt", "help"], Counter(vocabulary)) == ["burn", "burnout", "help"]
    assert expand_tokens(["burnt"], Counter()) == ["burnt"]


def test_chat_shorthand_searches_the_words_it_stands_for() -> None:
    vocabulary = Counter({"govern": 9, "government": 3, "research": 20, "thought": 4})
    # "gov" opens longer corpus words: it searches them (shortest first).
    assert long_forms("gov", vocabulary) == ["govern", "government"]
    assert expand_tokens(["gov", "research"], vocabulary) == ["govern", "government", "research"]
    # Shorthand for a stop word ("tho" = though) stands for no corpus word, so "tho" is not
    # read as "thought"; known words, long words and numbers are not shorthand.
    assert long_forms("tho", vocabulary) == []
    assert long_forms("tho", vocabulary, stop_words=True) == ["thought"]
    assert long_forms("research", vocabulary) == []
    assert long_forms("govern", vocabulary) == []
    assert long_forms("409", vocabulary) == []


def test_message_sentences_split_lowercase_chat() -> None:
    text = "two years in and no paper yet. is that a problem? asking for me"
    assert message_sentences(text) == [
        "two years in and no paper yet.",
        "is that a problem?",
        "asking for me",
    ]
    assert message_sentences("Should I do a PhD?") == ["Should I do a PhD?"]


def test_a_word_form_the_stemmer_misses_still_finds_its_passage(
    corpus_retriever: Retriever,
) -> None:
    # "burnt" is not a corpus word; its close forms "burnout"/"burning" are.
    result = corpus_retriever.search("totally burnt out, what now?", 3)
    assert result.covered
    assert "burnout" in result.passages[0].text.lower()
    typo = corpus_retriever.search("how do I stay motivatd on a long research project?", 5)
    assert typo.covered and typo.passages


def test_expanded_words_are_not_evidence_for_the_gate(corpus_retriever: Retriever) -> None:
    # "invest" expands to "investigate" for ranking, but the gate counts only the words asked.
    expanded = corpus_retriever.search("How do I invest in index funds?")
    assert not expanded.covered
    plain = corpus_retriever._keyword(corpus_retriever.snapshot, "invest index funds")[1]
    assert expanded.best_keyword == plain


def test_the_asking_clause_of_a_chatty_message_is_searched_on_its_own(
    corpus_retriever: Retriever, embedder: Embeddings
) -> None:
    chatty = (
        "I moved countries last year and started over in a new job. it has been a lot. "
        "how much programming skill do I need for safety research?"
    )
    asking = "how much programming skill do I need for safety research?"
    snap, index = corpus_retriever.snapshot, corpus_retriever.index
    whole = index.dense_search(snap.handle, embedder.embed_query(chatty), 30)
    blended = corpus_retriever._with_clauses(snap, corpus_retriever._clause_vectors(chatty), whole)
    target = index.dense_search(snap.handle, embedder.embed_query(asking), 1)[0][0]

    def rank(ranking: list[tuple[str, float]]) -> int:
        return next((i for i, (pid, _) in enumerate(ranking) if pid == target), len(ranking))

    # The passage that best answers the asking clause moves up when clauses are blended in.
    assert rank(blended) < rank(whole)
    # A one-clause question is left alone.
    single = index.dense_search(snap.handle, embedder.embed_query(asking), 30)
    assert corpus_retriever._clause_vectors(asking) == []
    assert corpus_retriever._with_clauses(snap, [], single) == single


def test_the_sentence_ranking_also_reads_each_clause(
    corpus_retriever: Retriever, embedder: Embeddings
) -> None:
    chatty = (
        "I spent the whole weekend reading papers. I keep getting stuck on the same proof "
        "for days. how do I know when to ask for help?"
    )
    asking = "how do I know when to ask for help?"
    snap = corpus_retriever.snapshot
    vector = embedder.embed_query(chatty)
    clauses = corpus_retriever._clause_vectors(chatty)
    assert len(clauses) == 3
    candidates = [pid for pid, _ in corpus_retriever.index.dense_search(snap.handle, vector, 20)]

    def rank(target: str, queries: list[list[float]]) -> int:
        fused = dict.fromkeys(candidates, 0.0)
        corpus_retriever._add_sentence_ranking(snap, fused, queries)
        return sorted(fused, key=lambda pid: fused[pid], reverse=True).index(target)

    def closest(pid: str) -> float:
        sentences = corpus_retriever._sentences(snap, snap.by_id[pid])
        vectors = np.asarray(embedder.embed_documents(sentences))
        return float((vectors @ np.asarray(embedder.embed_query(asking))).max())

    # The passage with the sentence nearest the asking clause, diluted in the whole message,
    # moves up when each clause is read on its own.
    target = max(candidates, key=closest)
    assert rank(target, [vector, *clauses]) < rank(target, [vector])


@pytest.mark.parametrize(
    ("message", "post"),
    [
        (
            "I applied to MATS mostly because everyone around me did. Jay Bailey wrote about "
            "this, what was his take?",
            "reflections-first-year-ai-safety-research",
        ),
        ("Richard Ngo's post: what did he say about evals?", "agi-safety-career-advice"),
    ],
)
def test_naming_a_posts_author_searches_that_post_first(
    corpus_retriever: Retriever, message: str, post: str
) -> None:
    top = corpus_retriever.search(message, 5).passages[0]
    assert top.doc_id == post
    assert not top.is_comment


@pytest.mark.parametrize(
    "message",
    [
        "I'm a nurse and I want to switch career to AI safety. Everything I read is about ML. "
        "Is a non-technical person just going to be useless here?",
        "hello, I am HR manager for 12 years, not technical person. which jobs in AI safety "
        "can a person like me do?",
    ],
)
def test_a_newcomer_who_is_not_technical_finds_the_non_technical_paths(
    corpus_retriever: Retriever, message: str
) -> None:
    # Ngo's "from research and engineering to operations and field-building to politics and
    # communications" shares no word with the message; without the paths it ranks past 10.
    top = corpus_retriever.search(message, 5).passages[0]
    assert "operations and field-building to politics and communications" in top.text


def test_what_says_the_asker_is_not_technical() -> None:
    for message in (
        "I can’t code at all",
        "I dont know programming",
        "I don't have a CS degree",
        "zero coding background",
        "non-technical",
    ):
        assert says_non_technical(message), message
    for message in ("I'm a technical writer", "I can code", "no technical problems so far"):
        assert not says_non_technical(message), message
    # A line of work or study named, and not a technical one, says the same.
    for message in (
        "law grad. can lawyers do anything useful?",
        "I'm a philosophy undergrad, what could I even do?",
        "how can PMs contribute to AI safety?",
        "I'm an accountant, where could I fit in?",
        "no tech background, is it possible?",
    ):
        assert says_non_technical(message), message
    for message in (
        "software engineer here. how do i start?",
        "as a data scientist, what should i do?",
        "phd student in physics here",
        "I'm from Brazil, how do I start?",
        # it asks about a path by name already
        "nurse here. is my healthcare experience useful for ai governance?",
        # ... or about technical work
        "biology phd student, should i learn ML first or just apply to MATS?",
    ):
        assert not says_non_technical(message), message


def test_the_paths_searched_for_a_non_technical_asker_are_not_gate_evidence(
    embedder: Embeddings, corpus_retriever: Retriever
) -> None:
    message = "I can't code, how do I bake sourdough bread?"
    snap = corpus_retriever.snapshot
    without = Retriever(
        corpus_retriever.index, embedder, RetrievalConfig(non_technical_paths=False)
    )
    without.snapshot = snap
    ranked, evidence = corpus_retriever._keyword(snap, message)
    plain_ranked, plain_evidence = without._keyword(snap, message)
    assert evidence == plain_evidence
    assert ranked != plain_ranked


def test_post_authors_come_from_the_posts_not_their_comments() -> None:
    passages = chunk_documents(load_knowledge(ROOT / "knowledge"))
    authors = post_authors(passages)
    assert authors["agi-safety-career-advice"] == frozenset({"richard", "ngo"})
    # A post without an author is not named by anyone who comments on it.
    assert "my-siloed-views-meet-reality" not in authors


def test_passage_sentences_drop_markers_and_fragments() -> None:
    text = "Some intro words that set things up.\n- Manage burnout. Rest is part of the work.\nOk."
    assert passage_sentences(text) == [
        "Some intro words that set things up.",
        "Rest is part of the work.",
    ]
    assert passage_sentences("Short.") == ["Short."]  # a passage is never left with nothing


def test_stemming_on_many_threads_gives_the_same_tokens_as_on_one() -> None:
    import concurrent.futures
    import threading

    from bot import text

    words = [
        f"{stem}{suffix}"
        for stem in ("organis", "engineer", "happi", "run")
        for suffix in ("ation", "ing", "ers", "ness", "ed", "s")
    ] * 50
    expected = [text.keyword_tokens(w) for w in words]
    text._stem.cache_clear()  # every thread goes through its own stemmer, not the memo
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(text.keyword_tokens, words))
    assert got == expected
    # PyStemmer objects are not thread-safe: each thread has its own.
    barrier = threading.Barrier(4)

    def stemmer_id(_: int) -> int:
        barrier.wait(timeout=10)  # four threads at once, so no thread is reused
        return id(text._stemmer())

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        assert len(set(pool.map(stemmer_id, range(4)))) == 4


def test_the_field_a_question_names_is_not_what_it_asks_about() -> None:
    # Where the asker would be ("in AI safety") and the field naming a noun ("AI safety job
    # postings") are dropped for ranking; a question about the field itself keeps it, and so
    # does one about getting into it.
    assert without_field("how do i network in the AI safety community?") == "how do i network?"
    assert (
        without_field("where do ppl find ai safety job postings")
        == "where do ppl find job postings"
    )
    assert (
        without_field("how do i get into AI alignment research?") == "how do i get into research?"
    )
    assert without_field("is ai safety oversaturated now?") == "is ai safety oversaturated now?"
    # "working on alignment" names the field; "a PhD in alignment theory" a topic of it.
    assert without_field("nobody here works on alignment, does it matter?") == (
        "nobody here works, does it matter?"
    )
    assert without_field("is a phd in alignment theory worth it") == (
        "is a phd in alignment theory worth it"
    )
    # Nothing of the question's own would be left: it is about the field.
    assert without_field("what is AI safety?") == "what is AI safety?"
    assert without_field("any tips for getting into ai safety?") == (
        "any tips for getting into ai safety?"
    )
