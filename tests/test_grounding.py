"""Grounding checks on the fixture corpus with the real offline embedder."""

from __future__ import annotations

import re

import pytest

from bot.grounding import (
    Grounder,
    LeakCheck,
    cut_at_last_sentence,
    normalise_markers,
    passage_sentences,
)
from bot.knowledge import chunk_documents, load_knowledge
from bot.models import Passage
from bot.prompts import NOT_COVERED, REFUSAL, load_prompts
from tests.conftest import FIXTURE_KNOWLEDGE, CachingEmbeddings


@pytest.fixture(scope="module")
def passages() -> list[Passage]:
    every = chunk_documents(load_knowledge(FIXTURE_KNOWLEDGE))
    burnout = next(p for p in every if "overuse injury" in p.text)
    lever = next(p for p in every if "big lever" in p.text)
    return [burnout, lever]


def test_leak_check_survives_reformatting() -> None:
    system = load_prompts().render_system()
    check = LeakCheck(system, allowed=(NOT_COVERED, REFUSAL))
    rules = [line[2:] for line in system.splitlines() if line.startswith("- ")]
    assert check.leaks(" ".join(rules))  # bullets gone, one paragraph
    assert check.leaks("\n".join(f"{i}) {r.upper()}" for i, r in enumerate(rules)))
    assert check.leaks(
        "I cite the passage it comes from with its number in square brackets, like [1] or "
        "[2][3]; only cite numbers that exist"
    )
    # What the prompt tells the model to say is not a leak, nor is an ordinary answer.
    assert not check.leaks(NOT_COVERED)
    assert not check.leaks(REFUSAL)
    assert not check.leaks(
        "Richard Ngo suggests choosing work based on your personal fit, and passages from "
        "other posts agree [1][2]."
    )


def test_markers_after_the_full_stop_move_inside_it() -> None:
    assert normalise_markers("Rest. [1] Then go.[2][3]") == "Rest [1]. Then go [2][3]."
    assert normalise_markers("Rest [1].") == "Rest [1]."


def test_cut_at_last_sentence() -> None:
    assert cut_at_last_sentence("Rest well [1]. Then ease back in gradu") == "Rest well [1]."
    assert cut_at_last_sentence("Rest well. [1] Then") == "Rest well [1]."
    assert cut_at_last_sentence("Half a senten") == ""


def test_each_sentence_must_be_supported_by_the_passage_it_cites(
    passages: list[Passage], embedder: CachingEmbeddings
) -> None:
    grounder = Grounder(passages, embedder)
    reply = (
        "Think of burnout as a mental overuse injury [1]. "
        "Pick work by personal fit [1]. "  # true of passage 2, not of passage 1
        "Choose between paths based on your personal fit [2]. "
        "The median salary is $450,000 [2]. "
        "Write to hiring@example.org [1][2]. "
        "Nobody tells you this."
    )
    grounded = grounder.ground(reply)
    assert grounded.text == (
        "Think of burnout as a mental overuse injury [1]. "
        "Choose between paths based on your personal fit [2]."
    )
    assert [c.passage_id for c in grounded.citations] == [passages[0].id, passages[1].id]
    assert len(grounded.dropped) == 4


def test_markers_keep_only_the_passages_that_support(
    passages: list[Passage], embedder: CachingEmbeddings
) -> None:
    grounded = Grounder(passages, embedder).ground(
        "Choose between paths based on your personal fit [1][2]."
    )
    assert grounded.text == "Choose between paths based on your personal fit [1]."
    [citation] = grounded.citations
    assert citation.passage_id == passages[1].id


def test_quotes_are_whole_sentences_of_the_cited_passage(
    passages: list[Passage], embedder: CachingEmbeddings
) -> None:
    grounded = Grounder(passages, embedder).ground(
        "- Notice early signs like snacking more and procrastinating sleep [1].\n"
        "- Personal fit swamps other differences in impact. [2]"
    )
    assert grounded.text.startswith("- Notice early signs")
    quotes = [c.quote for c in grounded.citations]
    assert quotes[0].startswith("For example, I notice that I start doing things like snacking")
    assert "swamps other differences" in quotes[1]
    for quote, passage in zip(quotes, passages, strict=True):
        assert quote in passage_sentences(passage)
        assert re.search(r"[.!?][\"'”’)]*$", quote)
