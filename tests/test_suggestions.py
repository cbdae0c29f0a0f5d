"""Suggested next questions: heading phrasing, neighbouring sections, keys, the real core."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest

from bot.models import Citation, Passage, Question
from bot.service import CareerBot
from bot.suggestions import (
    MAX_QUESTION_CHARS,
    heading_question,
    question_for_key,
    section_key,
    starters,
    suggest,
)

MakeCareerBot = Callable[..., CareerBot]


@pytest.mark.parametrize(
    ("heading", "question"),
    [
        ("Getting a research job", "What do the posts say about getting a research job?"),
        ("Should I do a PhD?", "Should I do a PhD?"),
        ("what should I read first?", "What should I read first?"),
        (
            "Mechanistic Interpretability",
            "What do the posts say about mechanistic interpretability?",
        ),
        (
            "Applications and Future Plans",
            "What do the posts say about applications and future plans?",
        ),
        ("List of governance topics", "What do the posts say about governance topics?"),
        (
            "On how to update off of people you talk to",
            "What do the posts say about how to update off of people you talk to?",
        ),
        ("Some encouragement", "What do the posts say about encouragement?"),
        ("AI lab governance", "What do the posts say about AI lab governance?"),
        ("MATS and SERI", "What do the posts say about MATS and SERI?"),
        ("2. **Soft skills**:", "What do the posts say about soft skills?"),
        ("[Research taste](https://example.org)", "What do the posts say about research taste?"),
    ],
)
def test_headings_read_as_natural_questions(heading: str, question: str) -> None:
    assert heading_question(heading) == question


@pytest.mark.parametrize(
    "heading",
    [
        "About me",
        "Introduction",
        "Footnotes",
        "Conclusion",
        "Acknowledgements",
        "Acknowledgments and thanks",
        "Thanks to my reviewers",
        "Appendix B: raw data",
        "TL;DR",
        "Epistemic status: confident",
        "Comments",
        "Pre",
        "Post",
        "  ",
        "***",
        "What " + "very " * 40 + "long question is this?",
    ],
)
def test_meta_and_unusable_headings_are_skipped(heading: str) -> None:
    assert heading_question(heading) is None


def _post(doc_id: str, sections: list[str], *, comments: int = 0) -> list[Passage]:
    passages = [
        Passage(
            id=f"{doc_id}-{i}",
            doc_id=doc_id,
            title=doc_id.title(),
            author="Someone",
            url=None,
            section=section,
            text=f"Text of {section or 'the opening'}.",
        )
        for i, section in enumerate(sections)
    ]
    for n in range(comments):
        passages.append(
            Passage(
                id=f"{doc_id}-c{n}",
                doc_id=doc_id,
                title=doc_id.title(),
                author=None,
                url=None,
                section="Comments > Comment",
                text="A comment.",
                is_comment=True,
            )
        )
    return passages


def _cite(passage: Passage) -> Citation:
    return Citation(
        title=passage.title,
        author=passage.author,
        url=None,
        quote=passage.text,
        passage_id=passage.id,
        section=passage.section,
    )


CAREER = _post(
    "career",
    [
        "",
        "Introduction",
        "About me",
        "Getting a research job",
        "Getting a research job",  # a second passage of the same section
        "Getting a research job > Cold emails",
        "Should I do a PhD?",
        "Acknowledgements",
        "Footnotes",
        "Appendix > Salary data",
    ],
    comments=2,
)


def test_neighbouring_sections_are_suggested_nearest_first_and_never_the_answered_one() -> None:
    phd = next(p for p in CAREER if p.section == "Should I do a PhD?")
    found = suggest([_cite(phd)], CAREER, ["Should I do a PhD?"])
    assert [s.text for s in found] == [
        "What do the posts say about cold emails?",
        "What do the posts say about getting a research job?",
    ]
    assert all(
        s.key == section_key(s_doc, s_path)
        for s, (s_doc, s_path) in zip(
            found,
            [
                ("career", "Getting a research job > Cold emails"),
                ("career", "Getting a research job"),
            ],
            strict=True,
        )
    )


def test_meta_sections_comments_and_the_untitled_opening_are_never_suggested() -> None:
    job = next(p for p in CAREER if p.section == "Getting a research job")
    found = suggest([_cite(job)], CAREER, ["how do I get a research job?"], limit=10)
    texts = [s.text for s in found]
    assert texts == [
        "What do the posts say about cold emails?",
        "Should I do a PhD?",
    ]
    assert not any("salary" in t.lower() or "comment" in t.lower() for t in texts)


def test_two_cited_posts_take_turns_and_the_asked_question_is_not_offered() -> None:
    other = _post("other", ["Soft skills", "Tangible outcomes", "Networking"])
    passages = [*CAREER, *other]
    job = next(p for p in CAREER if p.section == "Getting a research job > Cold emails")
    soft = other[0]
    asked = ["What do the posts say about networking"]
    found = suggest([_cite(job), _cite(soft)], passages, asked, limit=4)
    assert [s.text for s in found] == [
        "Should I do a PhD?",
        "What do the posts say about tangible outcomes?",
        "What do the posts say about getting a research job?",
    ]


def test_citations_unknown_to_the_index_give_no_suggestions() -> None:
    stale = Citation("Old", None, None, "q", passage_id="gone", section="Soft skills")
    assert suggest([stale], CAREER) == ()
    assert suggest([], CAREER) == ()


def test_keys_turn_back_into_their_question_and_stale_keys_into_none() -> None:
    phd = next(p for p in CAREER if p.section == "Should I do a PhD?")
    [first, *_] = suggest([_cite(phd)], CAREER)
    assert len(first.key) == 16 and len(f"careerbot:suggest:{first.key}") <= 100
    assert question_for_key(CAREER, first.key) == first.text
    assert question_for_key(CAREER, section_key("career", "Acknowledgements")) is None
    assert question_for_key(CAREER, "0" * 16) is None


def test_starters_take_one_section_of_each_post_in_turn() -> None:
    other = _post("other", ["Soft skills", "Tangible outcomes"])
    texts = [s.text for s in starters([*CAREER, *other], limit=3)]
    assert texts == [
        "What do the posts say about getting a research job?",
        "What do the posts say about soft skills?",
        "What do the posts say about cold emails?",
    ]
    assert all(len(t) <= MAX_QUESTION_CHARS for t in texts)


# --- on the real core over the fixture corpus --------------------------------------------------


async def test_answer_offers_neighbouring_sections_of_the_cited_post(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot()
    answer = await bot.answer(
        Question(text="Should I do a PhD?", asker="U1", conversation_key="suggest:1")
    )
    assert [c.section for c in answer.citations] == ["Requisite skills > Should I do a PhD?"]
    assert [s.text for s in answer.suggestions] == [
        "Should I upskill?",
        "What level of AI/ML experience do I need?",
        "What level of general programming skills do I need?",
    ]
    assert answer.to_json()["suggestions"] == [s.text for s in answer.suggestions]


async def test_every_suggestion_is_answered_from_its_own_section(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot()
    first = await bot.answer(
        Question(text="What soft skills matter?", asker="U1", conversation_key="suggest:2")
    )
    assert first.suggestions
    passages = bot.retriever.snapshot.passages
    for n, suggestion in enumerate(first.suggestions):
        answer = await bot.answer(
            Question(text=suggestion.text, asker="U1", conversation_key=f"suggest:3:{n}")
        )
        assert answer.covered, suggestion.text
        cited = {c.passage_id for c in answer.citations}
        sections = {section_key(p.doc_id, p.section) for p in passages if p.id in cited}
        assert suggestion.key in sections, suggestion.text
        # What was just answered is never offered again.
        assert all(s.key not in sections for s in answer.suggestions)
        assert all(s.text != suggestion.text for s in answer.suggestions)


async def test_declined_answers_and_count_zero_offer_nothing(
    make_careerbot: MakeCareerBot, tmp_path: Path
) -> None:
    bot = make_careerbot()
    declined = await bot.answer(
        Question(text="What is the best pizza in Naples?", asker="U1", conversation_key="s:4")
    )
    assert not declined.covered and declined.suggestions == ()
    off = make_careerbot(suggest={"count": 0})
    answer = await off.answer(
        Question(text="Should I do a PhD?", asker="U1", conversation_key="s:5")
    )
    assert answer.covered and answer.suggestions == ()
    assert await off.suggestion(
        section_key("research-skills", "Requisite skills > Should I upskill?")
    ) == ("Should I upskill?")


async def test_a_failure_while_suggesting_still_delivers_the_answer(
    make_careerbot: MakeCareerBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_careerbot()
    with mock.patch("bot.service.suggest", side_effect=OSError("disk gone")):
        answer = await bot.answer(
            Question(text="Should I do a PhD?", asker="U1", conversation_key="s:6")
        )
    assert answer.covered and answer.citations and answer.suggestions == ()
    assert "no suggestions for this answer: OSError" in caplog.text
