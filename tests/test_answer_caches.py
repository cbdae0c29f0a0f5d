"""What the answer path works out once (per index generation or per text) and when it is redone."""

from __future__ import annotations

from bot.scope import _typed_words, as_typed, corpus_vocabulary, name_tokens
from bot.suggestions import heading_question, is_meta
from tests.conftest import MakeCareerBot

POST = """---
title: "Policy fellowships for AI governance"
author: "Grace Hopper-Lovelace"
url: "https://example.org/policy-fellowships"
---

## What a policy fellowship involves

A policy fellowship in AI governance places you inside a government office or think tank
for a year. Fellows draft policy memos on compute governance and brief legislators.
"""


def test_the_posts_names_are_read_once_per_index_generation(make_careerbot: MakeCareerBot) -> None:
    bot = make_careerbot()
    names = bot.answerer._post_names()
    assert "James Chua" in names
    assert bot.answerer._post_names() is names  # not rebuilt for every scope check
    (bot.knowledge_dir / "policy-fellowships.md").write_text(POST, encoding="utf-8")
    bot.reload_sync()
    # A reload serves a new generation: its authors and titles, never the old set.
    reloaded = bot.answerer._post_names()
    assert "Grace Hopper-Lovelace" in reloaded
    assert "Policy fellowships for AI governance" in reloaded
    assert "James Chua" in reloaded


def test_name_tokens_are_the_words_of_authors_and_titles_tokenized_once() -> None:
    names = frozenset({"Grace Hopper-Lovelace", "Finding a mentor"})
    tokens = name_tokens(names)
    assert {"grace", "hopper", "lovelac", "find", "mentor"} <= tokens
    assert name_tokens(frozenset(names)) is tokens
    assert name_tokens(set(names)) == tokens  # any collection of names reads the same


def test_a_question_s_words_are_tokenized_once_for_all_its_tokens() -> None:
    text = "how much are AI safety researchers paid?"
    assert as_typed(text, "paid") == "paid" and as_typed(text, "research") == "researchers"
    assert as_typed(text, "visa") == "visa"  # not in the question: the token itself
    assert _typed_words(" ".join(text.split())) is _typed_words(text)


def test_a_heading_is_read_once_as_a_question() -> None:
    heading = " ".join(["Getting", "a", "research", "job"])  # a new string each time
    assert heading_question(heading) == "What do the posts say about getting a research job?"
    assert heading_question(heading) is heading_question("Getting a research job")
    assert is_meta("Acknowledgements") and not is_meta(heading)


def test_sentence_vectors_and_tokens_are_kept_per_index_generation(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot()
    retriever = bot.retriever
    retriever.search("how do I find a mentor?")
    snap = retriever.snapshot
    assert snap.sentence_vectors  # the sentence ranking's, for the top candidates
    index, vectors = next(iter(snap.sentence_vectors.items()))
    assert vectors.shape == (len(snap.sentences[index]), vectors.shape[1])
    retriever.search("how do I find a mentor?")
    assert snap.sentence_vectors[index] is vectors  # not looked up sentence by sentence again
    assert retriever.discussed("mentor", "mentor") > 0
    assert snap.sentence_tokens
    (bot.knowledge_dir / "policy-fellowships.md").write_text(POST, encoding="utf-8")
    bot.reload_sync()
    # A new generation starts empty: no vector or token of the old passages is reused.
    assert retriever.snapshot is not snap
    assert not retriever.snapshot.sentence_vectors and not retriever.snapshot.sentence_tokens


def test_the_commonest_token_is_counted_once_when_the_corpus_is_read() -> None:
    vocabulary = corpus_vocabulary(["Find a mentor.", "A mentor helps.", "Research takes time."])
    assert vocabulary.highest == vocabulary["mentor"] == 2
