"""Lists in replies: one "asks for a list" decision, short items, sub-lists, headings."""

from __future__ import annotations

import pytest

import bot.extractive
import bot.text
from bot.extractive import (
    MAX_ANSWER_CHARS,
    Sentence,
    Span,
    _overview,
    _with_list,
    asks_for_list,
    compose,
    passage_sentences,
    pick_quotes,
)
from bot.knowledge import _break_cost, _structure
from bot.models import Passage, Question
from bot.text import ends_quote, item_words, normalise
from tests.conftest import REPO_KNOWLEDGE, CachingEmbeddings, MakeCareerBot


def passage(text: str, section: str = "Advice", pid: str = "p1") -> Passage:
    return Passage(pid, "post", "A post", "Ann Author", "https://example.org/a", section, text)


def _lessons() -> tuple[Passage, Passage]:
    """A section that opens on its list, with no sentence leading into it: the heading does."""
    first = passage(
        "- Keep your theory of change in mind when you pick a project. It decides what "
        "counts as progress.\n"
        "- Poor productivity is more often situational than you might think. Change the "
        "situation before you blame yourself.",
        section="List of Lessons",
    )
    second = passage(
        "- Trying out different subfields is useful, but admit it when one is not working.\n"
        "- It is possible to make mistakes and still find work in the field. There is no "
        "roadmap.\n"
        "Looking back, the first months were the hardest part of the year.",
        section="List of Lessons",
        pid="p2",
    )
    return first, second


def test_a_question_asks_for_a_list_in_so_many_words_not_for_its_chances() -> None:
    assert asks_for_list("what are the main research areas?")
    assert asks_for_list("what are some good courses?")
    # How likely something is: one answer, not several things.
    assert not asks_for_list("what are the chances I get into MATS with no degree?")
    assert not asks_for_list("What are the odds of getting a lab job straight out of undergrad?")


def test_the_composer_follows_the_callers_list_decision_for_the_replys_room(
    embedder: CachingEmbeddings,
) -> None:
    # "which … ways" reads like a list question to a bare word match, but the caller decided
    # it asks for one thing: the reply keeps the one-answer budget, however many quotes fit
    # the list budget.
    sentences = [
        "You should try research projects that you can finish in a few weeks, because "
        "finishing research projects teaches you more about doing research than any amount "
        "of reading about it, and a finished research project is something concrete that you "
        "can show to mentors and to the hiring managers who want evidence that you can do "
        "research projects yourself, which matters far more to them than which courses you "
        "took, which papers you read or which reading groups you attended.",
        "You should try research projects with a mentor who already works on the research "
        "problems you care about, because their feedback on your research projects will save "
        "you months of going in circles, and a mentor can tell you which of your research "
        "project ideas are new and which have been tried and abandoned by people in the "
        "field years before you, so that your research projects start where others stopped "
        "instead of where they started.",
        "You should try research projects in public and write each one up as a short post, "
        "because writing up research projects forces you to notice the gaps in your "
        "reasoning, and a public record of research projects is how most people in the field "
        "will first hear of you and decide whether to reach out to you about jobs and "
        "research collaborations later on, long after you have forgotten the details of the "
        "research projects yourself.",
    ]
    passages = [passage(text, pid=f"p{i}") for i, text in enumerate(sentences)]
    asked = "which ways of doing research projects should I try?"
    one = pick_quotes(asked, passages, embedder, 3, list_wanted=False)
    several = pick_quotes(asked, passages, embedder, 3, list_wanted=True)
    assert sum(len(s.text) for s in one) <= MAX_ANSWER_CHARS < sum(len(s.text) for s in several)


def test_a_short_item_is_counted_one_way_for_the_chunker_and_the_composer(
    embedder: CachingEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One threshold, one count (words after the marker): a nine-word item is a name in a
    # list for both the chunker (no passage break between two of them) and the composer (not
    # quoted without its lead-in); with the threshold lowered, for neither.
    item = "1. Reading group on the foundations of interpretability research papers."
    other = "2. Reading group on the foundations of evaluations research papers."
    assert item_words(item) == 9
    lines = _structure(["Ways to learn:", item, other])
    text = f"We ran many groups over the years at the lab.\n{item}\n{other}"

    def quoted_alone() -> bool:
        spans = pick_quotes(
            "reading group on interpretability research",
            [passage(text)],
            embedder,
            3,
            rank_only=True,
        )
        return any(s.text.startswith("Reading group on the foundations of interp") for s in spans)

    assert _break_cost(lines, 2) >= 6.0 and not quoted_alone()
    monkeypatch.setattr(bot.text, "SHORT_ITEM_WORDS", 8)
    bot.extractive._layout.cache_clear()  # laid out once per passage, under the old threshold
    assert _break_cost(lines, 2) < 6.0 and quoted_alone()
    bot.extractive._layout.cache_clear()  # nor are later tests served this threshold's layout


def test_a_sub_list_item_is_quoted_with_its_lead_in_or_not_at_all(
    embedder: CachingEmbeddings,
) -> None:
    # "Case studies: finding algorithms…" is one of the strands the item above it leads into:
    # alone, it does not say what it is one of.
    text = (
        "2. Interpretability: finding ways to understand how networks function inside.\n"
        "   1. Three strands of interpretability work:\n"
        "      1. Case studies: finding algorithms inside networks that implement specific "
        "capabilities. My favourite papers here are on induction heads.\n"
        "      2. Superposition: finding ways to train networks to have fewer overlapping "
        "concepts within individual neurons.\n"
        "   2. A paper I often point newcomers to is the one on induction heads in "
        "transformer language models."
    )
    spans = pick_quotes(
        "case studies of algorithms inside networks", [passage(text)], embedder, 3, rank_only=True
    )
    assert spans
    for span in spans:
        first = span.sentences[0]
        if "      " in first.line:  # a strand of the sub-list: only behind its lead-in
            pytest.fail(f"quoted without its lead-in: {span.text!r}")
    # A sub-item under a point of its own (no lead-in) still stands alone.
    assert any(s.text.startswith("A paper I often point newcomers to") for s in spans)
    [strand] = [line for line in passage_sentences(passage(text)) if "Case studies" in line[0].text]
    assert strand[0].led_in


def test_a_list_that_opens_its_section_is_led_in_by_the_heading(
    embedder: CachingEmbeddings,
) -> None:
    first, second = _lessons()
    asked = "what are some lessons from your first year?"
    following = {"p1": [second], "p2": []}
    spans = pick_quotes(
        asked,
        [first, second],
        embedder,
        3,
        following=following,
        list_wanted=True,
        opens_section={"p1"},
    )
    [overview] = [s for s in spans if s.overview]
    assert spans[0] is overview and overview.under_heading
    assert overview.text.split("\n") == [
        "List of Lessons",
        "- Keep your theory of change in mind when you pick a project.",
        "- Poor productivity is more often situational than you might think.",
        # a short item is shown whole
        "- Trying out different subfields is useful, but admit it when one is not working.",
        "- It is possible to make mistakes and still find work in the field.",
    ]
    assert ends_quote(overview.text)
    reply, citations = compose(asked, spans)
    assert "- **List of Lessons**\n    - “Keep your theory of change" in reply
    assert "in “List of Lessons”" not in reply  # the heading shown names the section
    assert citations[0].section == "List of Lessons"
    # Only where the caller knows the passage opens its section, and only for a list question.
    for kwargs in ({"opens_section": set(), "list_wanted": True}, {"opens_section": {"p1"}}):
        plain = pick_quotes(asked, [first, second], embedder, 3, following=following, **kwargs)
        assert not any(s.overview for s in plain)


def test_a_list_under_a_heading_off_the_question_is_not_forced_in(
    embedder: CachingEmbeddings,
) -> None:
    first, second = _lessons()
    courses = passage(
        "Some recommended courses to upskill at empirical research (roughly in order):\n"
        "1. MLAB\n2. ARENA\n3. A deep learning curriculum",
        section="Upskilling",
        pid="p3",
    )
    spans = pick_quotes(
        "what are some good courses for upskilling in empirical research?",
        [courses, first, second],
        embedder,
        3,
        following={"p1": [second], "p2": [], "p3": []},
        list_wanted=True,
        opens_section={"p1", "p3"},
    )
    assert spans[0].text.startswith("Some recommended courses")
    assert not any(s.under_heading for s in spans)


async def test_lessons_listed_under_their_heading_open_the_reply(
    make_careerbot: MakeCareerBot,
) -> None:
    # Jay Bailey's "List of Lessons" follows its heading with no lead-in: asked for his
    # lessons, the reply names each under the heading, every line verbatim.
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    asked = "what are some lessons from your first year?"
    answer = await bot.answer(Question(asked, "u", "k:lessons", "cli"))
    assert answer.covered
    first = answer.citations[0]
    lines = first.quote.split("\n")
    assert lines[0] == "List of Lessons" and first.section == "List of Lessons"
    assert len(lines) == 6, first.quote
    assert lines[1].startswith("- It’s important to keep in mind two things")
    assert lines[5].startswith("- It is entirely possible to make mistakes")
    corpus = normalise(" ".join(p.read_text() for p in sorted(REPO_KNOWLEDGE.glob("*.md"))))
    assert all(normalise(line) in corpus for line in lines) and ends_quote(first.quote)
    assert answer.text.split("\n")[2] == "- **List of Lessons**"


def test_lessons_takeaways_and_tips_are_asked_for_as_several_things() -> None:
    assert asks_for_list("any key takeaways from his year?")
    assert asks_for_list("what lessons did he learn in his first year?")
    assert asks_for_list("any tips for getting the most out of MATS?")
    assert not asks_for_list("what was the biggest lesson for him?")


def test_a_quote_of_one_item_gives_way_to_the_list_that_names_it(
    embedder: CachingEmbeddings,
) -> None:
    # The best single quote is one lesson; the question asks for the lessons: the list,
    # which names that lesson among the others, opens the reply instead of repeating it.
    first, second = _lessons()
    item = next(s for s in passage_sentences(second)[1] if s.text.startswith("It is possible"))
    listed = _overview(
        first,
        passage_sentences(first),
        [second],
        {item.key: 0.7, ("p1", -1, 0): 0.65},
        {},
        {},
        heading=Sentence(first, -1, "List of Lessons", 0, 15, False, False, True),
    )
    assert listed is not None and item in listed.sentences
    alone = Span(second, (item,), item.text, 1.0, 0.7)
    assert _with_list([alone], [alone, listed], 3, 2400) == [listed]


def test_a_heading_naming_the_kind_of_thing_asked_for_matches_in_other_words(
    embedder: CachingEmbeddings,
) -> None:
    # "takeaways" and "List of Lessons" share no word and little meaning to the embedding
    # model, but a section of lessons is what a question asking for takeaways asks for.
    first, second = _lessons()
    other = passage(
        "Well, the main thing is - looking at my year overall, there were a lot of mistakes, "
        "some avoidable, some not.",
        section="Future Plans",
        pid="p3",
    )
    spans = pick_quotes(
        "any key takeaways from her first year?",
        [other, first, second],
        embedder,
        3,
        following={"p1": [second], "p2": [], "p3": []},
        list_wanted=True,
        opens_section={"p1", "p3"},
    )
    assert spans[0].under_heading, [s.text for s in spans]


def test_a_lead_in_is_not_quoted_with_only_the_first_of_its_items(
    embedder: CachingEmbeddings,
) -> None:
    # The list goes on in the next passage of the section: "Some things I learnt from them
    # are:" with one of its items promises more than the quote shows.
    first = passage(
        "During the program you get a coach who helps with your personal development. "
        "Some things that I learnt from the coach are:\n"
        "- How to tackle the planning fallacy. Ask whether you would be surprised to miss "
        "the deadline you set yourself.",
        section="Soft skills",
    )
    second = passage(
        "- How to tackle procrastination. Find out which part of you does not want to work.\n"
        "- How to resolve disagreements. Try to understand the other side's model first.",
        section="Soft skills",
        pid="p2",
    )
    asked = "any tips for getting the most out of the program's coaching?"

    def lead_in_with_items(**kwargs: object) -> list[str]:
        spans = pick_quotes(asked, [first], embedder, 3, rank_only=True, **kwargs)  # type: ignore[arg-type]
        # (not the list's overview, which names every item by its first sentence)
        return [s.text for s in spans if "\n" in s.text and not s.overview]

    assert lead_in_with_items(list_wanted=True, following={"p1": [second]}) == []
    # Where the list ends in the passage, the lead-in is quoted with its items as before.
    assert lead_in_with_items(list_wanted=True, following={"p1": []})


def test_a_lists_overview_is_as_relevant_as_the_paragraph_its_lead_in_ends(
    embedder: CachingEmbeddings,
) -> None:
    # "Some things that I've learnt from them are:" names nothing the question asks: the
    # paragraph it ends opens on what the list is about ("…the intangible side of soft
    # skills"), and the overview is that relevant.
    first = passage(
        "I think a big part of what I took away was on the intangible side of soft skills. "
        "During the program you have access to a coach. Some things that I've learnt from "
        "them are:\n"
        "- How to tackle the planning fallacy. For example, if I aimed to have a draft out by "
        "friday, I would ask myself whether I would be surprised to miss it.\n"
        "- How to tackle procrastination. It turns out that I procrastinate when one side of "
        "me wants to do something and the other thinks it is dumb.",
        pid="p1",
    )
    second = passage(
        "- How to resolve disagreements. I learnt that it is better to try to fully "
        "understand the other person's point of view.",
        pid="p2",
    )
    spans = pick_quotes(
        "what soft skills did people pick up?",
        [first, second],
        embedder,
        3,
        following={"p1": [second], "p2": []},
        list_wanted=True,
        rank_only=True,
    )
    [overview] = [s for s in spans if s.overview]
    assert overview.relevance >= max(s.relevance for s in spans if not s.overview) - 0.05
