"""Golden replies: whole extractive answers on the real posts, read as a newcomer would."""

from __future__ import annotations

import re

import pytest

from bot.models import Answer, Question
from bot.prompts import NOT_COVERED, NOT_DISCUSSED
from tests.conftest import REPO_KNOWLEDGE, MakeCareerBot

QUOTE_LINE = re.compile(r"^- “.+” (?:— .+ )?\[\d\]$", re.DOTALL)


async def ask(bot: object, text: str, key: str) -> Answer:
    return await bot.answer(Question(text, "newcomer", key, "cli"))  # type: ignore[attr-defined]


def read_as_newcomer(answer: Answer) -> list[str]:
    """The reply's shape: an opening line naming the posts, then 1-3 quote bullets, no filler."""
    assert answer.covered
    lines = [line for line in answer.text.split("\n") if line.strip()]
    assert lines[0].endswith(":") and "“" in lines[0], lines[0]
    bullets = [line for line in lines[1:] if line.startswith("- ")]
    assert 1 <= len(bullets) <= 3 and len(bullets) == len(answer.citations)
    for bullet in bullets:
        assert QUOTE_LINE.match(bullet), bullet
    assert "follow-up" not in answer.text.lower()  # no filler
    assert len(answer.text) <= 1200
    return bullets


@pytest.fixture
def posts_bot(make_careerbot: MakeCareerBot) -> object:
    return make_careerbot(knowledge_dir=REPO_KNOWLEDGE)


async def test_the_plan_is_quoted_with_the_authors_verdict_on_it(posts_bot: object) -> None:
    answer = await ask(posts_bot, "should I apply to as many MATS mentors as I can?", "g1")
    bullets = read_as_newcomer(answer)
    assert "Jay Bailey’s “Reflections on my first year of AI safety research”" in answer.text
    assert "would recommend a more focused plan" in bullets[0]
    assert answer.citations[0].section.startswith("List of Lessons")


async def test_a_self_doubt_is_quoted_with_the_conclusion_the_author_drew(
    posts_bot: object,
) -> None:
    answer = await ask(
        posts_bot, "I'm a software engineer, not a math person. is there a place for me?", "g2"
    )
    read_as_newcomer(answer)
    assert any("I should be focused on my strengths" in c.quote for c in answer.citations)


async def test_phd_question_gets_the_current_view_not_the_old_one(posts_bot: object) -> None:
    answer = await ask(posts_bot, "Should I do a PhD?", "g3")
    read_as_newcomer(answer)
    first = answer.citations[0].quote
    assert "PhD" in first and "currently I think it’s unclear" in first


async def test_burnout_advice_is_the_advice_itself(posts_bot: object) -> None:
    answer = await ask(posts_bot, "How do I deal with burnout?", "g4")
    read_as_newcomer(answer)
    assert "mental overuse injury" in answer.citations[0].quote


async def test_a_follow_up_continues_the_conversation(posts_bot: object) -> None:
    first = await ask(posts_bot, "Should I do a PhD?", "g5")
    older = await ask(posts_bot, "what about for someone older?", "g5")
    assert first.covered and older.covered
    read_as_newcomer(older)
    assert older.standalone_query.startswith("Should I do a PhD?")


async def test_an_uncovered_question_is_declined_plainly(posts_bot: object) -> None:
    answer = await ask(posts_bot, "how do I negotiate a job offer?", "g6")
    assert not answer.covered and not answer.citations
    assert answer.text.startswith(NOT_DISCUSSED.format(concept="negotiate"))
    assert len(answer.text) < 400


async def test_a_named_author_is_read_first(posts_bot: object) -> None:
    answer = await ask(posts_bot, "what did jay learn from mats?", "g7")
    read_as_newcomer(answer)
    assert answer.citations[0].author == "Jay Bailey"


async def test_a_question_naming_an_author_or_a_post_is_answered_from_that_post_only(
    posts_bot: object,
) -> None:
    # The name is what picks the post: it was declined as a word the posts never use.
    how = await ask(posts_bot, "how did james chua get into MATS?", "g7b")
    read_as_newcomer(how)
    assert how.covered and {c.author for c in how.citations} == {"James Chua"}, how.text
    # How he got in is what he did ("I quit my job and participated…"), not what he believes.
    assert any("I quit my job and participated" in c.quote for c in how.citations), how.text
    # "first year" is his, not Richard Ngo's "first-year undergrad math".
    learnt = await ask(posts_bot, "what did jay bailey learn in his first year?", "g7c")
    read_as_newcomer(learnt)
    assert learnt.covered and {c.author for c in learnt.citations} == {"Jay Bailey"}, learnt.text
    # A post named by its title ("the MATS post") is that post, not another post on MATS.
    mats = await ask(posts_bot, "can u summarize the mats post", "g7d")
    assert mats.covered and {c.author for c in mats.citations} == {"James Chua"}, mats.text
    # ... and its author by the same words ("the first year guy" was declined on "guy"; "the
    # siloed guy" got Richard Ngo's advice on mentors).
    guy = await ask(posts_bot, "the first year guy, what would he do differently?", "g7e")
    read_as_newcomer(guy)
    assert guy.covered and {c.author for c in guy.citations} == {"Jay Bailey"}, guy.text
    # The words naming him are no topic within his post ("first year" found his story).
    upskill = await ask(posts_bot, "what did the first year guy say about upskilling", "g7i")
    assert {c.author for c in upskill.citations} == {"Jay Bailey"}, upskill.text
    assert "upskilling" in upskill.citations[0].quote, upskill.text
    siloed = await ask(posts_bot, "the siloed guy said something about coworkers?", "g7f")
    assert siloed.covered, siloed.text
    assert {c.title for c in siloed.citations} == {"My Siloed Views Meet Reality"}, siloed.text
    # What the named post never mentions is said, and the posts that do are quoted.
    mentors = await ask(posts_bot, "the siloed guy said something about mentors?", "g7g")
    assert mentors.covered and mentors.citations, mentors.text
    assert mentors.notices == (
        "“My Siloed Views Meet Reality” doesn't mention “mentors”; here is what the other posts "
        "say.",
    )
    assert all("mentor" in c.quote for c in mentors.citations), mentors.text
    # A verb the post lacks is how the question is put, not what it asks.
    found = await ask(posts_bot, "did james find mats useful", "g7h")
    assert not found.notices and {c.author for c in found.citations} == {"James Chua"}


async def test_feelings_in_words_the_posts_never_use_get_their_encouragement(
    posts_bot: object,
) -> None:
    impostor = await ask(posts_bot, "I feel like an impostor", "g8")
    bullets = read_as_newcomer(impostor)
    assert any("Being excellent seldom feels like you’re excellent" in b for b in bullets)
    # The same words quoted by a comment and by the post are shown once.
    quotes = [" ".join(c.quote.split()) for c in impostor.citations]
    assert len(quotes) == len(set(quotes))
    burnt = await ask(posts_bot, "burnt out. help?", "g9")
    read_as_newcomer(burnt)
    assert all("burn" in c.quote.lower() for c in burnt.citations)
    # A feeling about something the posts are not about is still declined.
    golf = await ask(posts_bot, "I'm struggling with my golf swing", "g10")
    assert not golf.covered and golf.text.startswith(NOT_COVERED)


async def test_a_decision_about_a_lab_job_gets_the_conclusion_after_the_set_up(
    posts_bot: object,
) -> None:
    # The author's doubts ("I keep being skeptical…") are followed, a paragraph on, by what he
    # concluded from them: the answer is the conclusion, quoted with its set-up.
    answer = await ask(
        posts_bot, "would joining a big lab's safety team be a good move for me?", "g-lab"
    )
    read_as_newcomer(answer)
    assert any(
        "I came away from this updated in the direction of working at a large lab." in c.quote
        for c in answer.citations
    )


async def test_a_question_asking_for_several_things_gets_the_list_named(
    posts_bot: object,
) -> None:
    # The items are long (each a paragraph with sub-items, over several passages): the reply
    # names each with its first sentence under the lead-in, instead of quoting the lead-in
    # "falls into three primary categories" and never saying which.
    answer = await ask(posts_bot, "what are the main alignment research areas?", "g-list")
    assert answer.covered
    primary = [c for c in answer.citations if c.quote.startswith("From my perspective")]
    assert primary, answer.text
    lines = primary[0].quote.split("\n")
    assert lines[0].startswith("From my perspective, the most promising alignment research")
    assert [line.split(":")[0] for line in lines[1:]] == [
        "1. Scalable oversight",
        "2. Mechanistic interpretability",
        "3. Alignment theory",
    ]
    corpus = " ".join(p.read_text() for p in REPO_KNOWLEDGE.glob("*.md"))
    assert all(line in corpus for line in lines)  # every line verbatim
    assert "    - “Mechanistic interpretability: finding ways" in answer.text
    # A short list is quoted whole with its lead-in ("roughly in order").
    answer = await ask(posts_bot, "any good courses to upskill at empirical ML research?", "g-l2")
    listed = next(c.quote for c in answer.citations if "\n" in c.quote)
    assert listed.startswith("Some recommended ways to upskill at empirical research")
    assert listed.endswith("5. Replicating papers")
