"""Quote selection: stand-alone spans, sentence roles, verdicts kept, list lead-ins kept."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.extractive import (
    AFTER_ADVICE,
    REPEAT_COST,
    RESUME_BONUS,
    Span,
    _carried_on,
    _choose,
    _merged,
    _with_list,
    _with_reserved,
    alternatives,
    asks_for_advice,
    asks_for_list,
    asks_for_verdict,
    compose,
    layout,
    passage_sentences,
    pick_quotes,
    poses_dichotomy,
    role_score,
)
from bot.followups import CLARIFY, WHY
from bot.models import Passage, comments_by_others
from bot.text import ends_quote, ends_sentence, normalise, opens_dangling, speaks_as_author
from tests.conftest import REPO_KNOWLEDGE, CachingEmbeddings, MakeCareerBot


def passage(text: str, section: str = "Lessons", doc: str = "post", pid: str = "p1") -> Passage:
    return Passage(pid, doc, "A post", "Ann Author", "https://example.org/a", section, text)


def _start_of_the_list() -> Passage:
    """A passage whose list of three long items starts after a lead-in (see the overview tests)."""
    return passage(
        "Some background on how I think about research in general and why it matters.\n"
        "From my perspective, the most promising research falls into three categories. "
        "I outline them below.\n"
        "1. Oversight: finding ways to get better reward signals from models. It may be "
        "high-leverage if adopted widely.\n"
        "   1. The paper I most often point people to is the debate paper."
    )


def _rest_of_the_list() -> tuple[Passage, Passage]:
    """Items 2 and 3 of a list whose long items fill a passage each (see the overview tests)."""
    second = passage(
        "2. Interpretability: finding ways to understand how networks work inside. It "
        "pushes the field towards understanding.",
        pid="p2",
    )
    third = passage(
        "3. Theory: finding formal frameworks to reason about advanced AI. Success here is "
        "heavy-tailed.\nBy contrast, some lines of research are overrated.",
        pid="p3",
    )
    return second, third


def test_dangling_openers_and_sentence_ends() -> None:
    assert opens_dangling("This is much easier once you have a project.")
    assert opens_dangling("But that was a mistake.")
    assert opens_dangling("They found it hard.")
    assert not opens_dangling("These days most work happens with LLMs.")
    assert not opens_dangling("Apply to a few programs.")
    # A pronoun in the opening clause points back too; dummy subjects do not.
    assert opens_dangling("If you have it, lab governance work may be a good fit.")
    assert opens_dangling("Pair programming with him was fun.")
    assert not opens_dangling("If you want to do research, consider a small project.")
    assert not opens_dangling("It’s often worth applying anyway.")
    assert not opens_dangling("There are tons of accessible problems.")
    # A discourse marker first: the sentence proper decides.
    assert opens_dangling("Essentially, this is the concept of comparative advantage.")
    assert opens_dangling("In short, this is because evals serve coordination.")
    assert not opens_dangling("In short, apply to a few programs first.")
    # "Note that …" points at what follows, not back: the clause after it decides.
    assert not opens_dangling("Note that it is good to have a plan for when to stop.")
    assert opens_dangling("Note that this was hard for me.")
    # A bare auxiliary answers the sentence before ("…think they need the theory first.").
    assert opens_dangling("You don’t—you can get started with first-year undergrad math.")
    assert opens_dangling("Most people won't. You should.")
    assert opens_dangling("I did, and it went well.")
    assert not opens_dangling("You don’t need a PhD to start.")
    assert not opens_dangling("You can get started quickly.")
    # An aside in brackets qualifies the sentence before it, wherever its bracket closes.
    assert opens_dangling(
        "(In fact, my next project would not have happened without meeting my collaborator) "
        "I’d definitely recommend it to people who have a clear idea what they’d like to do."
    )
    # An aside wholly in brackets is judged by `_bracketed` (never a quote alone).
    assert not opens_dangling("(Coding skill is a much more important prerequisite, though.)")
    assert ends_sentence("It works.”")
    assert not ends_sentence("a few high-level takeaways for each:")


def test_a_quote_never_opens_on_a_reference_back(embedder: CachingEmbeddings) -> None:
    text = (
        "Pick one research agenda and stay with it for a few months. "
        "This is much easier when a mentor checks in every week."
    )
    spans = pick_quotes(
        "is it easier with a mentor checking in weekly?", [passage(text)], embedder, 3
    )
    assert spans
    for span in spans:
        assert not opens_dangling(span.text)
    # The sentence about mentors is only quotable together with what it refers back to.
    assert spans[0].text.startswith("Pick one research agenda")


def test_a_quote_opening_on_what_it_refers_back_to_ranks_below_one_with_it(
    embedder: CachingEmbeddings,
) -> None:
    # "I’m not saying you can’t do such a program for that reason…" opened a reply alone.
    text = (
        "If you’re going to go to a program like SERI MATS, do so because you have a good idea "
        "of what you want, not just because it’s the thing to do. I’m not saying you can’t do "
        "such a program for that reason, but it is worth thinking twice about it."
    )
    spans = pick_quotes(
        "is it worth thinking twice before doing a program?", [passage(text)], embedder, 3
    )
    assert spans and spans[0].text.startswith("If you’re going to go to a program"), spans


def test_tell_me_more_resumes_right_after_the_quote_shown(embedder: CachingEmbeddings) -> None:
    ways = passage(
        "Job boards list most openings. Conference Slacks often share postings too. "
        "I never used recruiters, so I can't comment on those.",
        pid="ways",
    )
    more = passage(
        "Those are all ways of finding openings that already exist. You can also make your "
        "own opportunity by emailing a researcher about a small project you did.",
        pid="more",
    )
    shown = "Conference Slacks often share postings too."
    resumed = pick_quotes(
        "where do people find job postings? anything else?",
        [ways, more],
        embedder,
        3,
        already_shown=(shown,),
        continue_after=(shown,),
        next_passage={"ways": "more"},
    )
    # "Those are all ways…" refers to what the asker has just read (past the aside), so the
    # answer may go on from there, in the next passage of the post.
    assert resumed and resumed[0].text.startswith("Those are all ways"), resumed
    # Anywhere else it leans on what the reader has not seen: not quotable on its own.
    fresh = pick_quotes("how do I find job openings?", [ways, more], embedder, 3)
    assert not any(s.text.startswith("Those") for s in fresh)
    unlinked = pick_quotes(
        "where do people find job postings? anything else?",
        [ways, more],
        embedder,
        3,
        already_shown=(shown,),
        continue_after=(shown,),
    )
    assert not any(s.text.startswith("Those") for s in unlinked)


def test_set_up_is_quoted_with_the_verdict_that_follows(embedder: CachingEmbeddings) -> None:
    text = (
        "Because I wanted in at any cost, I applied to as many mentors as I could find, "
        "whatever their research area. I don't actually think this is the best approach, and "
        "would recommend a more focused plan to most people."
    )
    (span, *_) = pick_quotes(
        "should I apply to as many mentors as I can?", [passage(text)], embedder, 1
    )
    assert "recommend a more focused plan" in span.text


def test_a_quote_does_not_stop_before_the_sentence_that_sums_it_up(
    embedder: CachingEmbeddings,
) -> None:
    text = (
        "Conference Slack workspaces often share job postings in their channels. "
        "My impression is that most public openings in the field can be found this way. "
        "I never used recruiters, so I can't comment on those."
    )
    (span, *_) = pick_quotes("where do people find job postings?", [passage(text)], embedder, 1)
    # "…can be found this way" is the author's verdict on the Slack postings.
    assert "can be found this way" in span.text, span.text


def test_a_how_to_label_is_quoted_through_to_what_the_author_did(
    embedder: CachingEmbeddings,
) -> None:
    text = "\n".join(
        [
            "Some soft skills I picked up:",
            "- How to beat procrastination. It turns out that I procrastinate when one part of "
            "me wants to do a task and another part thinks the task is pointless. I ran a few "
            "sessions of structured self-dialogue to settle it between the two. It helped me "
            "with my motivation to write the paper, and to do things like",
        ]
    )
    (span, *_) = pick_quotes(
        "I procrastinate so badly on my write-ups, any tips?", [passage(text)], embedder, 1
    )
    # The label promises how; the author's account of what worked is that how. The unfinished
    # last sentence can never be quoted, so stopping before it costs nothing.
    assert span.text.startswith("How to beat procrastination"), span.text
    assert span.text.endswith("settle it between the two."), span.text


def test_what_the_author_learnt_is_the_verdict_on_the_habit_before_it(
    embedder: CachingEmbeddings,
) -> None:
    # Too long to quote whole (so the "How to" label does not decide it).
    text = (
        "- How to settle disagreements. I think that before the program, my way of settling "
        "disagreements was to try to win the other person over to my view, but that could lead "
        "to a lot of frustration. I learnt that when disagreeing, it is better to try to fully "
        "understand the other person's point of view. Keep asking questions and digging into "
        "their view to understand their mental model, rather than trying to win them over. This "
        "helps the two of you converge much faster on a shared understanding of the problem at "
        "hand."
    )
    (span, *_) = pick_quotes(
        "my collaborator and I keep arguing about the research direction, how do I handle it?",
        [passage(text, section="Soft skills")],
        embedder,
        1,
    )
    assert "better to try to fully understand" in span.text, span.text


def test_the_posts_own_question_is_never_quoted_without_its_answer(
    embedder: CachingEmbeddings,
) -> None:
    text = (
        "Why do I think alignment theory is worth pursuing at all? "
        "In large part because scientific knowledge is typically very interconnected."
    )
    spans = pick_quotes("should I do alignment theory?", [passage(text)], embedder, 3)
    assert spans
    assert all(not s.text.rstrip().endswith("?") for s in spans), [s.text for s in spans]


def test_a_question_naming_the_field_is_answered_by_what_it_asks(
    embedder: CachingEmbeddings,
) -> None:
    # Every post is about AI safety: a line that merely names it must not outrank the one
    # about networking.
    names_it = passage(
        "You might also create some small open source project that you can point to, which "
        "can be either AI safety related or not.",
        pid="names-it",
    )
    networking = passage(
        "Making friends / networking. Coming from a country where few people work on this, I "
        "greatly appreciated the chance to make friends in the community.",
        pid="networking",
        doc="other",
    )
    (span, *_) = pick_quotes("how do i network in ai safety", [names_it, networking], embedder, 1)
    assert span.passage.id == "networking", span.text


def test_list_items_come_with_their_lead_in_or_not_at_all(embedder: CachingEmbeddings) -> None:
    text = "\n".join(
        [
            "The skills that matter most early on are these:",
            "- Python fluency",
            "- Reading papers quickly",
            "Most people overrate credentials when they start out, and underrate projects.",
        ]
    )
    spans = pick_quotes("which skills matter most early on?", [passage(text)], embedder, 3)
    for span in spans:
        assert span.text != "Python fluency" and span.text != "Reading papers quickly"
        if "Python fluency" in span.text:
            assert span.text.startswith("The skills that matter most")


def test_roles_rank_advice_over_biography_preamble_and_links() -> None:
    lines = passage_sentences(
        passage(
            "I have been a software engineer for eight years at a bank. "
            "This post summarizes the advice I most commonly give. "
            "You should apply to things that seem out of reach. "
            "See the exposition here and another critique here."
        )
    )
    bio, meta, advice, link = lines[0]
    assert role_score(advice, "Lessons") > 0
    assert role_score(bio, "Lessons") < role_score(advice, "Lessons")
    assert role_score(meta, "Lessons") < 0
    assert role_score(link, "Lessons") < 0
    assert role_score(advice, "Footnotes") < role_score(advice, "Lessons")
    # A scope note ("…so I can’t comment on those") says what the post leaves out: an aside.
    (note, skip) = passage_sentences(
        passage(
            "I joined before my first conference, so I can’t comment on using those for hiring. "
            "I won’t try to list all of the skills you need here, since there are too many."
        )
    )[0]
    assert role_score(note, "Lessons") < 0 and role_score(skip, "Lessons") < 0
    # ... and so does one on what the advice rests on.
    ((limited,),) = passage_sentences(
        passage("In particular, my experience is limited to small labs, so take that into account.")
    )
    assert role_score(limited, "Lessons") < 0
    # A sentence that only points elsewhere in the post says nothing a quote can carry; "see"
    # inside advice is still advice.
    ((pointer, more, advice),) = passage_sentences(
        passage(
            "See the first lesson. See my notes on this for more. "
            "You should apply early, as you will see the results sooner."
        )
    )
    assert role_score(pointer, "Lessons") < 0 and role_score(more, "Lessons") < 0
    assert role_score(advice, "Lessons") > 0


def test_composed_reply_opens_by_naming_the_posts_and_shows_both_sides(
    embedder: CachingEmbeddings,
) -> None:
    first = passage("You should talk to people doing the work before you commit to a field.")
    second = Passage(
        "p2",
        "other",
        "Another post",
        "Bo Writer",
        None,
        "Advice",
        "To choose a field, it is worth reading widely first: most people choose too early.",
    )
    question = "how do I choose a field?"
    spans = pick_quotes(question, [first, second], embedder, 3, contrast=False)
    text, citations = compose(question, spans, contrast=False)
    assert text.splitlines()[0].endswith("speaks to this:")
    assert len(citations) == 1 and "[1]" in text
    # When the question says views differ, a second post's view is shown and named.
    both = pick_quotes(question, [first, second], embedder, 3, contrast=True)
    text, citations = compose(question, both, contrast=True)
    opening = text.splitlines()[0]
    assert opening.endswith("each speak to this, from their own angle:")
    assert "Ann Author’s “A post”" in opening and "Bo Writer’s “Another post”" in opening
    assert len(citations) == 2 and "[2]" in text


@pytest.mark.parametrize(
    "question",
    [
        "Should I do a PhD?",
        "should I apply to as many MATS mentors as I can?",
        "I'm a software engineer, not a math person. is there a place for me?",
        "how do I avoid burnout?",
        "what should I learn for evals work?",
        "is it better to play to your strengths or push outside your comfort zone?",
    ],
)
async def test_every_quote_is_verbatim_and_ends_a_sentence(
    make_careerbot: MakeCareerBot, question: str
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    corpus = normalise(" ".join(p.read_text() for p in sorted(Path(REPO_KNOWLEDGE).glob("*.md"))))
    from bot.models import Question

    answer = await bot.answer(Question(question, "u", f"k:{question}", "cli"))
    assert answer.covered and answer.citations
    for c in answer.citations:
        for line in c.quote.split("\n"):
            assert normalise(line) in corpus, line
        assert ends_quote(c.quote) and not opens_dangling(c.quote), c.quote
    assert len(answer.text) <= 1500


def test_a_question_weighing_two_alternatives_gets_a_quote_for_each(
    embedder: CachingEmbeddings,
) -> None:
    lab = "You should join a big lab's safety team if you can: the safety teams at big labs do "
    lab += "most of the work that matters."
    alone = "Staying independent on a grant is worth it for the freedom alone, since you pick "
    alone += "every problem you work on."
    passages = [
        passage(lab, pid="p1"),
        passage(
            "A big lab's safety team also looks good on your CV when you apply to other labs.",
            doc="d2",
            pid="p2",
        ),
        passage(alone, doc="d3", pid="p3"),
    ]
    question = "should I join a big lab's safety team or stay independent on a grant?"
    quotes = [s.text for s in pick_quotes(question, passages, embedder, 3)]
    # The second-best quote by the whole question is about the lab again; the independent
    # side's best quote scores lower but answers the other half of the question.
    assert quotes[0] == lab and alone in quotes
    # A follow-up's caller decides contrast itself: no side is added there.
    assert alone not in [
        s.text for s in pick_quotes(question, passages, embedder, 3, contrast=False)
    ]
    assert alternatives("is a big lab worth it vs doing independent stuff? whats the upside") == (
        "is a big lab worth it",
        "doing independent stuff",
    )
    assert alternatives("thinking of a thesis on debate. should I apply this year or not?") is None
    assert alternatives("how do I find a mentor?") is None


def test_a_concession_is_quoted_with_the_claim_it_grants_against(
    embedder: CachingEmbeddings,
) -> None:
    claim = "If you want to do research, skip the textbooks and start a small research project "
    claim += "this week."
    concession = "Of course you will run into many things you do not know yet, but then you will "
    concession += "know exactly what you need to learn next."
    question = "i keep running into things i do not know, what do i need to learn next?"
    spans = pick_quotes(question, [passage(f"{claim} {concession}")], embedder, 3)
    assert [s.text for s in spans] == [f"{claim} {concession}"]


def test_a_comment_quoting_the_post_is_not_shown_twice(embedder: CachingEmbeddings) -> None:
    advice = "Being good at something rarely feels like being good at it from the inside."
    post = passage(f"{advice} Keep going anyway.", pid="post")
    comment = Passage(
        "c1",
        "post",
        "A post",
        None,
        "https://example.org/a",
        "Comments > Comment",
        f"> {advice}\nI agree with this part a lot.",
        is_comment=True,
    )
    spans = pick_quotes("do good researchers feel good at it?", [post, comment], embedder, 3)
    texts = [" ".join(s.text.split()) for s in spans]
    assert sum(advice in t for t in texts) == 1, texts


def test_two_good_quotes_of_one_paragraph_are_quoted_as_one_run(
    embedder: CachingEmbeddings,
) -> None:
    text = (
        "The table stakes for passing technical interviews are knowing basic data structures "
        "and algorithms. I personally used free online lectures, but there are many good "
        "options out there. Once you know the basic data structures and algorithms, practise "
        "interview problems until you can solve medium ones in thirty minutes."
    )
    spans = pick_quotes(
        "how do I learn data structures and algorithms for coding interviews?",
        [passage(text)],
        embedder,
        3,
    )
    # One quote that reads as the author wrote it, with the resources between the two
    # sentences that scored best, not two halves with the middle cut out.
    assert [s.text for s in spans] == [text]


def test_quotes_far_apart_in_a_paragraph_stay_separate(embedder: CachingEmbeddings) -> None:
    filler = " ".join(
        f"The weather on day {n} of the retreat was mild and the food was good." for n in range(4)
    )
    first = "Learn basic data structures and algorithms before technical interviews."
    last = "Practise interview problems on data structures and algorithms every day."
    spans = pick_quotes(
        "how do I prepare data structures and algorithms for interviews?",
        [passage(f"{first} {filler} {last}")],
        embedder,
        3,
    )
    assert {s.text for s in spans} == {first, last}


def test_an_advice_shaped_quote_about_something_else_is_left_out(
    embedder: CachingEmbeddings,
) -> None:
    on_topic = passage(
        "To prepare for coding interviews, learn basic data structures and algorithms, then "
        "practise interview problems until medium ones take you thirty minutes.",
        pid="a",
    )
    aside = passage(
        "I would recommend that future scholars pair program with their stream-mates.",
        doc="other",
        pid="b",
    )
    spans = pick_quotes(
        "how do I prepare for coding interviews on algorithms?", [on_topic, aside], embedder, 3
    )
    assert [s.passage.id for s in spans] == ["a"]


def test_when_the_asker_says_how_they_feel_an_author_saying_how_it_felt_ranks_up() -> None:
    (line,) = passage_sentences(
        passage("I felt stressed, confused, and lonely for months; it is a common experience.")
    )
    (felt,) = line
    assert role_score(felt, "Lessons", feelings=True) > role_score(felt, "Lessons") + 0.1


def test_a_question_asking_for_tips_ranks_the_authors_story_further_down() -> None:
    (line,) = passage_sentences(passage("I quit my job and joined the summer program in 2023."))
    (story,) = line
    assert asks_for_advice("just got in! any tips for getting the most out of it?")
    assert not asks_for_advice("what was the program like?")
    wanted = role_score(story, "Lessons", advice_wanted=True)
    assert wanted < role_score(story, "Lessons") < 0
    # A question about what happened keeps the story as the answer.
    assert role_score(story, "Lessons", story_ok=True) >= 0


def test_a_question_asking_how_it_turned_out_ranks_the_authors_judgement_up(
    embedder: CachingEmbeddings,
) -> None:
    text = (
        "I left my job and spent the summer at the program. "
        "Looking at it now, I believe the program was worth it: without it, getting a first"
        " paper out would have been much harder."
    )
    story, judgement = [s for line in passage_sentences(passage(text)) for s in line]
    assert asks_for_verdict("quit my job for the program, did it pay off or was it a mistake?")
    assert asks_for_verdict("was it worth it?")
    assert not asks_for_verdict("what was the program like?")
    plain = role_score(judgement, "Outcomes", story_ok=True)
    assert role_score(judgement, "Outcomes", story_ok=True, verdict_wanted=True) > plain
    # The story itself judges nothing: unchanged.
    told = role_score(story, "Outcomes", story_ok=True)
    assert role_score(story, "Outcomes", story_ok=True, verdict_wanted=True) == told
    asked = "anyone here leave their job for the program? did it pay off or was it a mistake"
    spans = pick_quotes(asked, [passage(text)], embedder, 1)
    assert spans and "worth it" in spans[0].text


def test_a_quote_read_for_an_earlier_question_gives_way_to_an_unread_one_as_good(
    embedder: CachingEmbeddings,
) -> None:
    """A question of its own may need an earlier quote again, but not before a fresh one."""
    first = passage(
        "Apply to a few mentors whose work you have read closely. A focused application beats"
        " a scattered one.",
        pid="a",
    )
    second = passage(
        "When applying to mentors, pick a few whose research you know well. Write to each about"
        " their own work.",
        doc="other",
        pid="b",
    )
    asked = "how many mentors should i apply to?"
    plain = pick_quotes(asked, [first, second], embedder, 3, rank_only=True)
    read = plain[0].text
    again = pick_quotes(asked, [first, second], embedder, 3, rank_only=True, read_before=[read])
    score = {s.text: s.score for s in again}
    assert score[read] == pytest.approx(
        next(s.score for s in plain if s.text == read) - REPEAT_COST
    )
    unread = [s for s in plain if not set(s.sentences) & set(plain[0].sentences)]
    assert unread and all(score[s.text] == pytest.approx(s.score) for s in unread)


def test_a_heading_asking_the_question_has_its_answer_quoted(
    embedder: CachingEmbeddings,
) -> None:
    """A post written as questions and answers answers under the question, in its own words."""
    loud = passage(
        "Doing a PhD before working is common, and doing a PhD while working is common too."
        " Many people working never did a PhD.",
        section="Alignment research",
        doc="other",
        pid="loud",
    )
    faq = passage(
        "Getting a PhD is a special case of upskilling. Whether it pays off depends on many"
        " personal factors, so weigh the years against what else you could learn.",
        section="Requisite skills > Should I do a PhD?",
        pid="faq",
    )
    asked = "should i do a phd before working on alignment?"
    ranked = pick_quotes(asked, [loud, faq], embedder, 2, rank_only=True)
    assert ranked[0].passage.id == "loud"  # the loud passage wins on similarity alone
    spans = pick_quotes(asked, [loud, faq], embedder, 2)
    assert any(s.passage.id == "faq" for s in spans), [s.text for s in spans]
    # A heading asking something else reserves nothing.
    other = replace(faq, section="Requisite skills > Should I learn Rust?")
    spans = pick_quotes(asked, [loud, other], embedder, 2)
    assert all(s.passage.id == "loud" for s in spans), [s.text for s in spans]


def test_a_quote_that_must_be_shown_replaces_the_weakest_when_the_budget_is_spent(
    embedder: CachingEmbeddings,
) -> None:
    def long_quote(doc: str, topic: str) -> Span:
        text = " ".join(
            f"Advice sentence {i} about {topic} runs on for a while to make a long quote here."
            for i in range(5)
        )
        spans = pick_quotes(topic, [passage(text, doc=doc, pid=doc)], embedder, 1, rank_only=True)
        return max(spans, key=lambda s: len(s.text))  # the whole paragraph

    a, b, c = (
        long_quote(doc, topic) for doc, topic in (("a", "mentors"), ("b", "papers"), ("c", "jobs"))
    )
    assert all(len(s.text) > 350 for s in (a, b, c))
    budget = len(a.text) + len(b.text) + 100  # two long quotes fit, a third does not
    assert _with_reserved([a], c, 3, budget) == [a, c]  # room: added
    assert _with_reserved([a, b], c, 3, budget) == [a, c]  # no room in the budget: replaces b
    assert _with_reserved([a, b], c, 2, 10**6) == [a, c]  # no room in the count: replaces b


def test_no_sentence_is_quoted_twice_in_one_conversation(embedder: CachingEmbeddings) -> None:
    shown = "There is no fixed roadmap, everyone figures things out as they go."
    text = f"It is possible to make several mistakes and still find work in the field. {shown}"
    spans = pick_quotes(
        "can I still find work after mistakes?",
        [passage(text)],
        embedder,
        3,
        already_shown=[f"{shown} The first failure is not the point to give up."],
    )
    assert spans and all(shown not in s.text for s in spans)


def test_for_he_comments_by_others_rank_down_but_the_authors_own_reply_does_not(
    embedder: CachingEmbeddings,
) -> None:
    post = passage("I spent my first year flailing around on research projects.", pid="post")

    def comment(pid: str, author: str, text: str) -> Passage:
        return Passage(pid, "post", "A post", author, None, "Comments", text, is_comment=True)

    other = comment("c1", "Bob Reader", "My plan was to apply to every lab I could find online.")
    own = comment("c2", "Ann Author (post author)", "My plan was to leave the field after a year.")
    spans = pick_quotes(
        "what was my plan?", [post, other, own], embedder, 3, author_voice=True, rank_only=True
    )
    by_id = {s.passage.id: s.score for s in spans}
    plain = pick_quotes("what was my plan?", [post, other, own], embedder, 3, rank_only=True)
    plain_by_id = {s.passage.id: s.score for s in plain}
    # Only somebody else's comment loses ground when the question is about the author.
    assert by_id["c2"] - by_id["c1"] > plain_by_id["c2"] - plain_by_id["c1"] + 0.1


def test_a_set_up_is_carried_on_into_the_verdict_its_next_sentence_gives(
    embedder: CachingEmbeddings,
) -> None:
    text = (
        "I don’t know this area well, so take it with a grain of salt. "
        "You should probably take the usual career advice for government work, and then "
        "figure out how to move faster than most people would. "
        "Short masters degrees and policy fellowships are quick ways into mid-career policy "
        "roles. "
        "My own background is in mathematics, which I studied for many years at university."
    )
    spans = pick_quotes(
        "what's the fastest route into a government policy career?", [passage(text)], embedder, 3
    )
    assert spans
    best = spans[0].text
    # The general advice is not quoted without the concrete route that follows it.
    assert "policy fellowships are quick ways" in best, best
    assert "background is in mathematics" not in " ".join(s.text for s in spans)


def test_a_paragraph_that_opens_on_the_one_before_is_quoted_with_it(
    embedder: CachingEmbeddings,
) -> None:
    text = "\n".join(
        [
            "Before the call I was sure a big lab had no use for one more safety researcher.",
            "I came away from this convinced that joining a big lab is the right move for me.",
        ]
    )
    spans = pick_quotes("should I join a big lab?", [passage(text)], embedder, 3)
    assert spans
    for span in spans:
        assert not opens_dangling(span.text)
    (carried,) = [s for s in spans if "I came away" in s.text]
    # Verbatim, paragraph break kept, and shown as two quotes attributed once.
    assert carried.text == text
    reply, citations = compose("should I join a big lab?", [carried], contrast=False)
    bullet = reply.splitlines()[2]
    assert bullet.startswith("- “Before the call") and "” “I came away" in bullet
    assert bullet.count("[1]") == 1 and citations[0].quote == text


def test_a_quote_names_its_section_but_not_a_heading_about_the_post(
    embedder: CachingEmbeddings,
) -> None:
    text = "I thought a big lab had no use for me. I was wrong: they hired me within a year."
    for section, shown in [
        ("Lessons", " — in “Lessons”"),
        ("Pre", ""),
        ("Lessons > Post", " — in “Lessons”"),
    ]:
        (span,) = pick_quotes(
            "did a big lab hire you?", [passage(text, section=section)], embedder, 1
        )
        reply, _ = compose("did a big lab hire you?", [span], contrast=False)
        assert reply.splitlines()[2].endswith(f"{shown} [1]"), reply


def test_a_quote_is_never_carried_on_into_a_list_or_past_its_passage(
    embedder: CachingEmbeddings,
) -> None:
    text = "\n".join(
        [
            "Apply to fellowships early, because the deadlines for fellowships come fast.",
            "- Fellowships for policy people",
            "- Fellowships for engineers",
        ]
    )
    spans = pick_quotes("when should I apply to fellowships?", [passage(text)], embedder, 3)
    assert spans and all("\n" not in s.text for s in spans)


def test_posts_are_set_against_each_other_only_when_the_question_names_the_sides() -> None:
    assert poses_dichotomy("is it better to go deep or broad? getting opposite advice")
    assert poses_dichotomy("people keep saying X is easy, but every opening is competitive")
    # Saying only that experts disagree asks whom to trust, not for two sides.
    assert not poses_dichotomy("experts keep telling me contradictory stuff. who do i trust")
    assert not poses_dichotomy("should I do a PhD?")


def test_a_post_with_no_known_author_is_named_by_its_title(embedder: CachingEmbeddings) -> None:
    known = passage("You should talk to people doing the work before you commit to a field.")
    anonymous = Passage(
        "p2",
        "other",
        "Notes From A Blog",
        None,
        None,
        "Advice",
        "To choose a field, it is worth reading widely first: most people choose too early.",
    )
    question = "how do I choose a field?"
    spans = pick_quotes(question, [known, anonymous], embedder, 3, contrast=True)
    text, _ = compose(question, spans, contrast=True)
    assert "author unknown" not in text
    assert "— *Notes From A Blog* (Advice) [" in text


def test_a_post_is_linked_once_per_reply(embedder: CachingEmbeddings) -> None:
    first = passage(
        "Pick one small research question and finish it before you start another one.",
        pid="a1",
    )
    second = passage(
        "Write up every small research project you finish, even when the result is negative.",
        pid="a2",
        section="Writing",
    )
    other = Passage(
        "b1",
        "other",
        "Another post",
        "Bo Writer",
        "https://example.org/b",
        "Advice",
        "Small research projects you finish teach you more than big ones you abandon.",
    )
    question = "how should I pick and finish small research projects?"
    spans = pick_quotes(question, [first, second, other], embedder, 3, contrast=True)
    text, citations = compose(question, spans, contrast=True)
    assert {c.passage_id for c in citations} == {"a1", "a2", "b1"}, text
    assert text.count("https://example.org/a") == 1 and text.count("https://example.org/b") == 1
    assert text.count("Ann Author") == 3  # the opening line and both quotes still say who


def test_naming_another_post_counts_against_the_reply_length(
    embedder: CachingEmbeddings,
) -> None:
    mine = (
        "Finish each small research project before you start a new one, even when a shinier "
        "idea turns up halfway through; an unfinished project teaches you far less than you "
        "think. Write every finished project up, publish it, and send it to two people whose "
        "work you admire. Then pick the next small research project, a little bigger than the "
        "last, and finish that one too before anything else catches your eye."
    )
    theirs = (
        "Small research projects are only worth something once they are finished: finish "
        "each one before starting the next, however tempting a new idea looks. Writing up "
        "each finished project, even a negative result, is what makes it count for a job. "
        "The habit of finishing small research projects matters more than any single idea."
    )
    question = "should I finish small research projects before starting new ones?"

    def picked(url: str) -> list[str]:
        other = Passage("b", "other", "Another post", "Bo Writer", None, "Advice", theirs)
        mine_at = Passage("a", "post", "A post", "Ann Author", url, "Lessons", mine)
        spans = pick_quotes(question, [other, mine_at], embedder, 3)
        return [s.passage.id for s in spans]

    assert picked("https://example.org/a")[:2] == ["b", "a"]
    # The same second quote with a very long address after it would push the reply past the
    # length a chat reply should have: that post is left out instead.
    assert "a" not in picked("https://example.org/" + "x" * 900)


def test_a_posts_preamble_ranks_down_unless_the_question_asks_for_the_story(
    embedder: CachingEmbeddings,
) -> None:
    intro = passage(
        "People often ask me how to choose a research mentor, so I wrote this down after "
        "choosing mine.",
        section="",
        pid="intro",
    )

    def intro_score(question: str, body_doc: str) -> float:
        body = passage(
            "Choose a research mentor who replies within a day and meets you every week.",
            doc=body_doc,
            pid="body",
        )
        spans = pick_quotes(question, [intro, body], embedder, 3, rank_only=True)
        return max(s.score for s in spans if s.passage.id == "intro")

    advice = "how do I choose a research mentor?"
    # The same words before a post's first heading are its preamble: why it was written.
    assert intro_score(advice, "post") < intro_score(advice, "other") - 0.05
    # Asked what happened, the author's opening is the story itself.
    story = "how did the author end up choosing a mentor?"
    assert intro_score(story, "post") == pytest.approx(intro_score(story, "other"))


def test_a_clarification_gets_the_qualification_that_names_what_it_asks(
    embedder: CachingEmbeddings,
) -> None:
    text = (
        "Write code and run experiments with real models every week. "
        "Plenty of newcomers would rather think about alignment at a high level. "
        "However, you should treat that thinking as useless until it becomes code, even then. "
        "Perhaps once someone is a senior researcher, stepping back to think at a high level works."
    )
    shown = "Write code and run experiments with real models every week."
    question = "should I write code as a beginner? is that also true for senior researchers?"
    spans = pick_quotes(
        question,
        [passage(text)],
        embedder,
        1,
        already_shown=(shown,),
        message="is that also true for senior researchers?",
        asks=CLARIFY,
        last_quotes=(shown,),
    )
    # Both later sentences qualify the quote; the one about senior researchers answers.
    assert spans and spans[0].text.startswith("Perhaps once someone is a senior"), spans


def test_why_may_point_at_the_reason_inside_the_quote_just_shown(
    embedder: CachingEmbeddings,
) -> None:
    text = (
        "Most people overrate how much theory deep learning needs, and so they study for months "
        "first. You can start with first-year maths and learn the rest as you go. "
        "Coding is the more important skill."
    )
    shown = (
        "Most people overrate how much theory deep learning needs, and so they study for months "
        "first. You can start with first-year maths and learn the rest as you go."
    )
    common = dict(already_shown=(shown,), message="", last_quotes=(shown,))
    spans = pick_quotes("do I need theory first? why?", [passage(text)], embedder, 2, **common)
    assert all("and so they study" not in s.text for s in spans)  # no reason asked for
    why = pick_quotes(
        "do I need theory first? why?", [passage(text)], embedder, 2, asks=WHY, **common
    )
    # The reason may be pointed at on its own; the whole quote is never shown again.
    assert any(s.text.startswith("Most people overrate") for s in why), why
    assert all(" ".join(s.text.split()) != shown for s in why)


def test_why_may_point_at_a_reason_that_opens_on_still(embedder: CachingEmbeddings) -> None:
    text = (
        "A paper is not a must for research engineering roles. "
        "Still, writing one showed that I can do research, which helped my applications."
    )
    common = dict(already_shown=(text,), message="why bother then?", last_quotes=(text,))
    why = pick_quotes(
        "do I need a paper? why bother then?", [passage(text)], embedder, 2, asks=WHY, **common
    )
    # "Still, …" leans on the sentence before it, which the asker has just read in the quote:
    # for "why?" the reason is pointed at on its own.
    assert [s.text for s in why] == [
        "Still, writing one showed that I can do research, which helped my applications."
    ]
    # Never as a fresh quote: there it would lean on what the reader has not seen.
    fresh = pick_quotes("why write a paper?", [passage(text)], embedder, 2)
    assert all(not s.text.startswith("Still") for s in fresh)


def test_is_it_worth_doing_asks_for_advice_on_a_decision_not_for_a_verdict() -> None:
    # "Is it worth taking…?" weighs a step not yet taken; "was it worth it?" judges one taken.
    assert not asks_for_verdict("is it worth taking a job at a big lab if they get many applicants")
    assert asks_for_verdict("was it worth it?")
    assert asks_for_verdict("is it worth it?")


def test_an_authors_first_person_conclusion_is_not_ranked_down_as_story() -> None:
    text = (
        "I joined a big lab in 2023. "
        "At some point I’ve gotta stop being skeptical. "
        "I came away from this updated in the direction of working at a large lab."
    )
    story, gotta, came_away = [s for line in passage_sentences(passage(text)) for s in line]
    assert role_score(story, "Lessons") < 0
    assert role_score(gotta, "Lessons") > 0
    assert role_score(came_away, "Lessons") > 0


def test_what_the_author_now_realises_is_the_lesson_of_the_mistake_before_it() -> None:
    # A list of mistakes: each item tells the mistake, then what the author now sees.
    text = (
        "I tended to assume a missing detail was my fault, so I waited. "
        "I now realise this is silly, and it helps nobody to delay asking for context."
    )
    mistake, lesson = [s for line in passage_sentences(passage(text)) for s in line]
    assert role_score(mistake, "Mistakes") <= 0
    assert role_score(lesson, "Mistakes") > 0


def test_what_the_author_now_thinks_after_a_search_is_a_conclusion_not_story() -> None:
    text = (
        "I spent a year trying to rank the agendas, and now I kind of think ranking them is "
        "the wrong way to choose."
    )
    (sentence,) = [s for line in passage_sentences(passage(text)) for s in line]
    assert role_score(sentence, "Lessons") > 0


def test_a_section_under_a_question_heading_opens_with_its_answer(
    embedder: CachingEmbeddings,
) -> None:
    """ "…this is the wrong way to think about this question" means the heading's question:
    read with the heading, it is the answer, and the attribution shows the heading."""
    text = (
        "I spent a long time trying to figure this out, and now I think this is the wrong "
        "way to think about this question. My first attempt was to rank every agenda by how "
        "neglected it looked to me at the time.\n"
        "Most agendas have sensible people who argue that they are good to work on."
    )
    heading = "Sensemaking > Which research agenda matters most?"
    opening = "I spent a long time trying to figure this out"
    asked = "which agenda matters most, i dont want to pick the wrong one"
    # The passage opens its section: the first sentence answers the heading's question.
    ranked = pick_quotes(
        asked, [passage(text, section=heading)], embedder, 2, rank_only=True, opens_section={"p1"}
    )
    assert ranked[0].text.startswith(opening), [s.text for s in ranked[:3]]
    # The same sentence in the middle of a section has nothing to point at.
    ranked = pick_quotes(asked, [passage(text, section=heading)], embedder, 2, rank_only=True)
    assert not ranked[0].text.startswith(opening), [s.text for s in ranked[:3]]
    # Under a heading that is not a question, it is not read as an answer either.
    flat = passage(text, section="Sensemaking > Research agendas")
    ranked = pick_quotes(asked, [flat], embedder, 2, rank_only=True, opens_section={"p1"})
    assert not ranked[0].text.startswith(opening), [s.text for s in ranked[:3]]


def test_a_pointer_ahead_under_a_question_heading_still_needs_what_it_points_at(
    embedder: CachingEmbeddings,
) -> None:
    text = (
        "Here’s a list of steps you can take to go from no experience to a research job.\n"
        "Most people find their first job through people they met at programs or events."
    )
    heading = "Getting a job > How do I find my first job?"
    ranked = pick_quotes(
        "how do i find a first job",
        [passage(text, section=heading)],
        embedder,
        2,
        rank_only=True,
        opens_section={"p1"},
    )
    assert all(not s.text.startswith("Here’s") for s in ranked), [s.text for s in ranked]


def test_the_askers_framing_words_do_not_make_an_echo_the_answer(
    embedder: CachingEmbeddings,
) -> None:
    # "keep trying", "one thing": how the asker talks, not what they ask about.
    echo = passage("Most people keep trying one thing after another on a project.")
    answer = passage(
        "When nothing works, cut the project down to the smallest version that could.",
        doc="other",
        pid="p2",
    )
    asked = "i keep trying stuff for my project and nothing works, what should i do"
    spans = pick_quotes(asked, [echo, answer], embedder, 1)
    assert spans and spans[0].text.startswith("When nothing works")


def test_a_set_up_is_merged_with_the_paragraph_that_draws_its_conclusion() -> None:
    def merged_with(second_paragraph: str) -> Span | None:
        text = (
            "People kept telling me there are few people on this, and I kept doubting them. "
            "There are fewer people who really care than I thought.\n" + second_paragraph
        )
        p = passage(text)
        lines = passage_sentences(p)
        setup, rest = lines[0]
        opener = lines[1][0]
        a = Span(p, (setup,), setup.text, 1.0, 0.8)
        b = Span(p, (rest, opener), "", 0.5, 0.5)
        return _merged(a, b, {p.id: lines})

    # The next paragraph opens on this one ("from this"): one quote, the break kept.
    span = merged_with("I came away from this updated in the direction of working at a lab.")
    assert span is not None
    assert span.text.startswith("People kept telling me")
    assert span.text.endswith(
        "\nI came away from this updated in the direction of working at a lab."
    )
    # A paragraph that stands on its own is a quote of its own, not a continuation.
    assert merged_with("Working at a lab is one option among many for most people.") is None


def test_a_pointer_to_another_section_is_neither_the_quotes_point_nor_its_ending(
    embedder: CachingEmbeddings,
) -> None:
    # "In the next section I outline…" repeats the question's words and says nothing: it
    # neither carries a quote's relevance nor is carried on after the advice before it.
    text = (
        "You should look hard for the core intuitions for why a research direction will "
        "succeed, which may be hidden under mathematics. "
        "In the next section I outline my views on which research directions are promising."
    )
    spans = pick_quotes("which research directions are promising?", [passage(text)], embedder, 2)
    assert spans and spans[0].text.startswith("You should look hard")
    assert all("next section" not in s.text for s in spans)


def test_a_quote_does_not_stop_before_the_answer_to_what_people_think(
    embedder: CachingEmbeddings,
) -> None:
    # "…so think they need theory first. You don’t—you can get started…": the sentence after
    # the belief answers it; the belief alone reads as the advice.
    text = (
        "Most people overestimate how much they must read before starting. "
        "People coming from physics often think they need to spend a long time on deep "
        "learning theory first. "
        "You don’t—you can get started with first-year undergrad math and learn as you go."
    )
    asked = "do i need to spend a long time on deep learning theory first?"
    spans = pick_quotes(asked, [passage(text)], embedder, 1)
    assert spans and "You don’t—you can get started" in spans[0].text


def test_tell_me_more_reads_on_from_where_the_last_quote_stopped(
    embedder: CachingEmbeddings,
) -> None:
    text = (
        "Start with a small project you can finish in a month. "
        "Coding skill matters more than any course you could take. "
        "Publishing the project on GitHub gives reviewers something concrete to read."
    )
    shown = "Start with a small project you can finish in a month."

    def scores(**kwargs: object) -> dict[str, float]:
        ranked = pick_quotes(
            "how do i start?", [passage(text)], embedder, 3, rank_only=True, **kwargs
        )
        return {s.text.split()[0]: s.score for s in ranked if len(s.sentences) == 1}

    alone, more = scores(), scores(already_shown=[shown], continue_after=[shown])
    # Both sentences after the quote follow it; the one right after it reads on from it (and,
    # the advice it follows shown, is no longer an explanation quoted without its advice).
    assert more["Publishing"] - alone["Publishing"] == pytest.approx(0.15)
    assert more["Coding"] - alone["Coding"] == pytest.approx(0.15 + RESUME_BONUS + AFTER_ADVICE)


def test_a_list_is_quoted_whole_with_its_lead_in_for_a_question_asking_for_several(
    embedder: CachingEmbeddings,
) -> None:
    # List items often have no full stop ("2. ARENA"): a quote ending on a whole item is
    # complete. For "what courses should I do?" the list is the answer, and its relevance is
    # its lead-in's: the names share little with the question.
    text = (
        "Upskilling at empirical research should be a priority for most people.\n"
        "Some recommended ways to upskill at empirical research (roughly in order):\n"
        "1. MLAB\n2. ARENA\n3. A deep learning curriculum\n4. Replicating papers"
    )
    assert ends_quote("Ways to upskill:\n1. MLAB\n2. ARENA")
    assert not ends_quote("Ways to upskill at research, such as")
    asked = "any good courses to upskill at empirical research?"
    assert asks_for_list(asked) and asks_for_list("what are the main research areas")
    assert not asks_for_list("should i do a phd?")
    spans = pick_quotes(asked, [passage(text)], embedder, 2, list_wanted=True)
    best = max(spans, key=lambda s: s.score)
    assert best.text.startswith("Some recommended ways")
    assert best.text.endswith("4. Replicating papers")
    # "Here are some topics…" opens a list; it refers forward, not back.
    assert not opens_dangling("Here are some topics where I wish we had a world expert.")


def test_a_long_list_is_named_by_its_lead_in_and_each_items_first_sentence(
    embedder: CachingEmbeddings,
) -> None:
    # Each item is a paragraph with sub-items, so the list fills several passages; the
    # lead-in ("falls into three categories") alone never says which.
    first = _start_of_the_list()
    second, third = _rest_of_the_list()
    asked = "what are the main research areas?"
    spans = pick_quotes(
        asked, [first], embedder, 3, following={"p1": [second, third]}, list_wanted=True
    )
    [overview] = [s for s in spans if s.overview]
    lines = overview.text.split("\n")
    assert lines == [
        "From my perspective, the most promising research falls into three categories.",
        "1. Oversight: finding ways to get better reward signals from models.",
        "2. Interpretability: finding ways to understand how networks work inside.",
        "3. Theory: finding formal frameworks to reason about advanced AI.",
    ]
    # Not asked for several things, or without the passages the list goes on in: no overview.
    alone = pick_quotes(asked, [first], embedder, 3, list_wanted=True)
    assert all("\n" not in s.text for s in alone)
    plain = pick_quotes(
        "how do i do research?", [first], embedder, 3, following={"p1": [second, third]}
    )
    assert all("\n" not in s.text for s in plain)


def test_a_question_asking_for_several_things_gets_the_list_first() -> None:
    advice = passage("Most research won't succeed, so look hard for the core intuitions first.")
    listing = passage(
        "Some recommended ways to upskill (roughly in order):\n1. MLAB\n2. ARENA", pid="p2"
    )
    (one,) = passage_sentences(advice)[0]
    lead_in = passage_sentences(listing)
    best = Span(advice, (one,), one.text, 1.0, 0.74)
    items = (lead_in[0][0], lead_in[1][0], lead_in[2][0])
    listed = Span(listing, items, listing.text, 0.7, 0.62)
    far = Span(listing, items, listing.text, 0.7, 0.5)
    assert _with_list([best], [best, listed], 3, 2400) == [listed, best]
    # A list far less on the question than the best quote is not forced in.
    assert _with_list([best], [best, far], 3, 2400) == [best]


def test_a_comment_names_the_post_it_is_on_once_with_its_link() -> None:
    comment = Passage(
        "c1",
        "post",
        "A post",
        "Jane Doe",
        "https://example.org/a",
        "Comments",
        "Try things and learn as you go, there is no fixed recipe for this.",
        is_comment=True,
    )
    post = passage("Start with a small project you can finish in a month or two.")
    spans = [
        Span(p, (s,), s.text, 1.0, 1.0)
        for p in (post, comment)
        for s in (passage_sentences(p)[0][0],)
    ]
    text, _ = compose("is there a recipe?", spans, contrast=False)
    bullet = [line for line in text.split("\n") if line.startswith("- ")][1]
    assert bullet.endswith("— Jane Doe, comment on [A post](https://example.org/a) [2]"), bullet
    # Quoted alone, the comment is named in the opening line, with its commenter: the
    # post's author replying in the comments is not an anonymous reader.
    alone, _ = compose("is there a recipe?", spans[1:], contrast=False)
    assert alone.startswith("A comment by Jane Doe on “A post” speaks to this:"), alone


def test_the_author_speaking_in_the_first_person_is_read_in_any_case() -> None:
    # One reading for the composer's verdicts, the follow-up narrator and the told-by check:
    # a sentence opening "My …" is the author speaking as much as one saying "… my …".
    assert speaks_as_author("My plan was to quit the job and apply to MATS.")
    assert speaks_as_author("i quit my job in march")
    assert speaks_as_author("It taught me to ask for help early.")
    assert speaks_as_author("I’ve since moved to evals.")
    assert not speaks_as_author("He quit his job and joined MATS.")
    # "i.e." is no "i".
    assert not speaks_as_author("Pick a narrow question, i.e. one you can finish in a month.")


def test_a_long_lists_overview_opens_on_the_sentence_that_leads_into_it(
    embedder: CachingEmbeddings,
) -> None:
    # A lead-in paragraph that ends "…the three areas I would pick:" introduces the list with
    # that sentence, not with whatever the paragraph opened on.
    first = passage(
        "I spent two years in physics before switching. Here are the three research areas "
        "I would pick today:\n"
        "1. Oversight: finding ways to get better reward signals from models. It may be "
        "high-leverage if adopted widely.\n"
        "   1. The paper I most often point people to is the debate paper."
    )
    second, third = _rest_of_the_list()
    asked = "what are the main research areas?"
    spans = pick_quotes(
        asked, [first], embedder, 3, following={"p1": [second, third]}, list_wanted=True
    )
    [overview] = [s for s in spans if s.overview]
    assert overview.text.split("\n")[0] == "Here are the three research areas I would pick today:"


def test_two_lists_of_one_section_read_in_the_posts_order(embedder: CachingEmbeddings) -> None:
    # "Three other research areas…, but less central:" comes after the main list in the post
    # and builds on it; sharing more of the question's words does not put it first.
    first = passage(
        "From my perspective, the most promising alignment work falls into three primary "
        "categories.\n"
        "1. Oversight: finding ways to get better reward signals from models. It may be "
        "high-leverage if adopted widely.\n"
        "2. Interpretability: finding ways to understand how networks work inside. It "
        "pushes the field towards understanding.\n"
        "3. Theory: finding formal frameworks to reason about advanced AI. Success here is "
        "heavy-tailed.",
        section="Research > Directions",
    )
    second = passage(
        "Three other research areas that seem important, but less central:\n"
        "1. Evaluations: measuring how dangerous models are.\n"
        "2. Adversarial training: finding inputs on which models misbehave.\n"
        "3. Threat modeling: forecasting how AGI might lead to catastrophe.",
        section="Research > Directions",
        pid="p2",
    )
    asked = "what are the main alignment research areas?"
    following = {"p1": [second], "p2": []}
    spans = pick_quotes(asked, [second, first], embedder, 3, following=following, list_wanted=True)
    lists = [s for s in spans if "\n" in s.text]
    assert [s.passage.id for s in lists] == ["p1", "p2"], [s.text[:40] for s in spans]


def test_an_items_sentence_named_in_a_lists_overview_is_not_quoted_again(
    embedder: CachingEmbeddings,
) -> None:
    # The overview names each item by its first sentence, from the passages the list runs
    # on into: a quote of the second item from its own passage repeats that sentence.
    first = _start_of_the_list()
    second = passage(
        "2. Interpretability: finding ways to understand how networks work inside. It is the "
        "most promising research area for newcomers, since it is easy to start outside labs.",
        pid="p2",
    )
    third = passage(
        "3. Theory: finding formal frameworks to reason about advanced AI. Success here is "
        "heavy-tailed.\nBy contrast, some lines of research are overrated.",
        pid="p3",
    )
    following = {"p1": [second, third], "p2": [third], "p3": []}
    spans = pick_quotes(
        "what are the main research areas?",
        [first, second, third],
        embedder,
        3,
        following=following,
        list_wanted=True,
    )
    assert any(s.overview for s in spans)
    keys = [s.key for span in spans for s in span.sentences]
    assert len(keys) == len(set(keys)), [s.text for s in spans]


def test_a_sentence_inside_the_last_quote_may_answer_a_push_back_but_not_the_quote_whole(
    embedder: CachingEmbeddings,
) -> None:
    shown = (
        "I spent two years at a startup before I moved into research full time. "
        "Back then I kept putting off my applications for one reason or another. "
        "Far fewer strong candidates apply to safety teams at labs than people assume."
    )
    other = passage(
        "Independent research can be funded by grants from several foundations.", pid="p2"
    )
    question = "wait, aren't the safety teams at labs insanely competitive?"
    ask = {"already_shown": (shown,), "message": question}
    again = pick_quotes(question, [passage(shown), other], embedder, 2, may_repeat=(shown,), **ask)
    # The sentence that answers the push-back was shown inside a longer quote: it is quoted
    # again on its own ...
    assert any("Far fewer strong candidates" in s.text for s in again), again
    # ... but never the same quote whole.
    assert all(" ".join(s.text.split()) != shown for s in again)
    # Without leave to repeat, nothing the conversation has shown comes back.
    fresh = pick_quotes(question, [passage(shown), other], embedder, 2, **ask)
    assert not any("Far fewer strong candidates" in s.text for s in fresh), fresh


def test_asked_what_happened_a_story_item_is_quoted_to_its_end(
    embedder: CachingEmbeddings,
) -> None:
    text = (
        "A short summary of how my year went.\n"
        "- I spent the spring applying to research labs and heard nothing back from most.\n"
        "- After the new government institute was announced, I applied to a few teams there. "
        "I received an offer from the evaluations team, which I accepted.\n"
    )
    question = "how did he end up applying to the government institute?"
    (span, *_) = pick_quotes(question, [passage(text, section="")], embedder, 1)
    # The item's first sentence matches the question best, but the outcome is in its second.
    assert span.text.endswith("which I accepted."), span.text


def test_what_matters_more_answers_the_question_its_heading_asks(
    embedder: CachingEmbeddings,
) -> None:
    """Under a question heading, the set-up may reject the question's framing and the verdict
    comes paragraphs later ("What's far more important … is just personal fit."): that
    sentence is the section's answer, read with the heading, and it is quoted."""
    text = (
        "I kept a spreadsheet of every agenda and argued with friends about which ones would "
        "pay off first.\n"
        "Some agendas look promising on paper but have few people working on them, and others "
        "have many people but look slow to pay off.\n"
        "What’s far more important to worry about, especially early on, is just personal fit.\n"
        "Most agendas have sensible people who argue that they are good to work on."
    )
    heading = "Sensemaking > Which research agenda pays off most?"
    verdict = "What’s far more important to worry about"
    asked = "which agenda will pay off the most, i want to pick the best one"
    chosen = pick_quotes(asked, [passage(text, section=heading)], embedder, 2)
    assert any(verdict in s.text for s in chosen), [s.text for s in chosen]


def test_an_item_is_read_with_the_label_that_names_what_is_asked(
    embedder: CachingEmbeddings,
) -> None:
    """A list item that opens on a label ("1. Alignment is mentorship-constrained.") is about
    what the label names: its advice ("your main priority should be finding the best mentor
    possible") answers a question naming that, though it repeats none of the question's words."""
    text = (
        "1. Mentorship is scarce. If you are new, your first priority should be finding "
        "someone senior who reviews what you make every week.\n"
        "2. Reading is cheap. When starting out, it is important to read widely before you "
        "commit to one topic."
    )
    asked = "how important is mentorship when starting out?"
    advice = "If you are new, your first priority"
    ranked = pick_quotes(asked, [passage(text)], embedder, 2, rank_only=True)
    assert ranked[0].text.startswith(advice), [s.text for s in ranked[:3]]
    # A label that names something else lends its item nothing.
    other = text.replace("Mentorship is scarce.", "Feedback is scarce.")
    ranked = pick_quotes(asked, [passage(other)], embedder, 2, rank_only=True)
    assert not ranked[0].text.startswith(advice), [s.text for s in ranked[:3]]


def test_a_quote_is_never_carried_on_into_a_sentence_the_post_leaves_unfinished(
    embedder: CachingEmbeddings,
) -> None:
    """A post cut off mid-sentence ("It helped me with my motivation to write the paper, and
    to do things like leetcode for") has nothing to carry a quote on into."""
    text = (
        "How to tackle procrastination. I procrastinate on my paper when part of me thinks "
        "the paper is pointless. Talking it through helped me with procrastination on the "
        "paper, and with writing the paper for"
    )
    chosen = pick_quotes("how do i stop procrastinating on my paper?", [passage(text)], embedder, 2)
    assert chosen, "nothing quoted"
    assert all(ends_quote(s.text) for s in chosen), [s.text for s in chosen]


def test_a_story_told_in_any_tense_is_story_and_a_judgement_is_advice() -> None:
    def role(text: str) -> float:
        return role_score(passage_sentences(passage(text, section="Post"))[0][0], "Post")

    # The author's own story in the perfect, pluperfect or progressive, or somebody else's in
    # the author's story: an advice word used in passing ("the goal of", "most of") is no advice.
    told = [
        "I have been primarily focusing on the core skillset, since the goal of it is to "
        "understand models.",
        "Unfortunately, I’d already accepted funding to work on a project for six months.",
        "We also had to implement a whole bunch of evaluations for the project.",
        "After the first week, it was obvious that he was doing most of the work.",
    ]
    assert all(role(text) < 0 for text in told), [role(text) for text in told]
    # A judgement of a thing answers "should I…?" as "you should" does.
    judged = [
        "Relatedly, I personally don’t think that quantitative modeling is very valuable.",
        "Spending 3-6 months just “upskilling” isn’t too efficient for most people.",
        "Interventions of the form “tell labs to care more” generally don’t work very well.",
    ]
    assert all(role(text) > 0 for text in judged), [role(text) for text in judged]
    # "I think that…" alone judges nothing: "I think that by the end of MATS, I had…" is story.
    assert role("I think that by the end of the program, I had a model of his feedback.") <= 0

    # Asked what happened, a judgement in passing is not the answer; what he did is.
    def told_role(text: str) -> float:
        sentence = passage_sentences(passage(text, section="Post"))[0][0]
        return role_score(sentence, "Post", story_ok=True)

    belief = "Counterfactually, I believe that without the program, publishing would be harder."
    assert told_role(belief) <= told_role("I quit my job and participated in the program.")
    # ... and where the story is the answer, what it says in general still counts ("Most of
    # the time, I wouldn't be that surprised if I did not reach my goal on time.").
    assert told_role("Most of the time, I wouldn't be surprised if I did not reach my goal.") > 0


def test_a_quote_inside_a_list_item_keeps_the_verdict_its_first_sentence_sets_up(
    embedder: CachingEmbeddings,
) -> None:
    item = (
        "   1. Leading labs are often amenable to carrying out proposals which don’t strongly "
        "trade off against their core capabilities work; the bottleneck is usually the agency "
        "and work required to actually implement the proposal. Thus interventions of the form "
        "“tell labs to care more about safety” generally don’t work very well, whereas "
        "interventions of the form “here is a concrete ask, here are the specific steps you’d "
        "need to take, here’s a person who’s agreed to lead the effort” tend to go well. This "
        "post conveys that idea particularly well."
    )
    text = "Some thoughts on lab governance, in no particular order\n" + item
    (span, *_) = pick_quotes(
        "how do you get an AI lab to adopt a safety proposal?", [passage(text)], embedder, 1
    )
    # Over the usual quote length, but one point made whole; the aside after it is no verdict.
    assert "generally don’t work very well" in span.text, span.text
    assert "This post conveys" not in span.text


def test_a_passage_is_laid_out_once_whatever_its_score_and_anew_when_its_text_changes() -> None:
    p = passage("Find a mentor early. They will save you months of going down the wrong path.")
    first = layout(p)
    # Each search scores the passage anew; its sentences and candidate quotes are the same.
    assert layout(replace(p, score=0.7)) is first
    # A reload that edits the passage is never served the old sentences.
    edited = layout(replace(p, text=f"{p.text} Ask them often."))
    assert edited is not first
    assert [s.text for line in edited.lines for s in line][-1] == "Ask them often."


def test_a_free_place_goes_to_the_advice_of_the_best_quotes_own_section() -> None:
    # The best quote is the section's set-up; its recommendation shares fewer of the
    # question's words, so it scores too low to be a quote of its own anywhere else. A
    # section keeps to one topic: with a place free, its advice is quoted too.
    def span(text: str, section: str, pid: str, score: float, rel: float, **kw: bool) -> Span:
        p = passage(text, section=section, pid=pid)
        sentences = tuple(s for line in passage_sentences(p) for s in line)
        return Span(p, sentences, text, score, rel, **kw)

    top = span(
        "You should take general career advice and go faster from there.", "Policy", "a", 1.0, 0.7
    )
    advice = span(
        "The main advice I give: pick one topic and become an expert on it.",
        "Policy",
        "b",
        0.6,
        0.45,
    )
    elsewhere = span(
        "You should pick a topic you enjoy and stay curious about it.", "Other", "c", 0.62, 0.45
    )
    short = replace(advice, stops_short=True)
    story = span(
        "I spent two years reading about policy before I wrote anything.", "Policy", "d", 0.6, 0.45
    )
    role = {s.key: 0.12 for x in (top, advice, elsewhere) for s in x.sentences}

    def chosen(*spans: Span) -> list[str]:
        return [c.passage.id for c in _choose(list(spans), 3, 1200, False, role=role)]

    assert chosen(top, elsewhere, advice) == ["a", "b"]
    # Not a quote that stops right before its verdict, nor story with no advice in it.
    assert chosen(top, elsewhere, short) == ["a"]
    assert chosen(top, elsewhere, story) == ["a"]
    # Only while there is a free place.
    assert (
        chosen(top, advice)[:1] == ["a"]
        and len(_choose([top, advice], 1, 1200, False, role=role)) == 1
    )
    # Not for a follow-up: its best quote is ranked by what it asks of the last reply, so that
    # quote's section says nothing about the rest ("how long does it take to hear back?" got
    # two quotes on updating off people's takes beside "It might take a while…").
    follow_up = _choose([top, elsewhere, advice], 3, 1200, False, role=role, section_advice=False)
    assert [c.passage.id for c in follow_up] == ["a"]


def test_a_list_announced_by_its_count_is_not_quoted_without_it(
    embedder: CachingEmbeddings,
) -> None:
    # "…falls into three primary categories." promises a list as "…such as:" does: quoted
    # alone it never says which. Asked for one thing, the reply quotes something else.
    first = passage(
        "From my perspective, the most promising research falls into three primary "
        "categories. I outline those below.\n"
        "1. Oversight: finding ways to get better reward signals from models. It may be "
        "high-leverage if adopted widely.\n"
        "2. Interpretability: finding ways to understand how networks work inside.",
        section="Research > Directions",
    )
    other = passage(
        "You should pick a research area by personal fit, since most research won't succeed.",
        pid="p2",
    )
    spans = pick_quotes("what research is most promising?", [first, other], embedder, 3)
    assert spans, "nothing quoted"
    assert not any("three primary categories" in s.text and "\n" not in s.text for s in spans), [
        s.text for s in spans
    ]
    # Prose that goes on after the count says which: "There are two reasons. First…".
    prose = passage(
        "I recommend that you pick a research area for two reasons. First, fit matters "
        "most. Second, feedback loops make you fast.\nThat is all there is to it, really."
    )
    ranked = pick_quotes("why pick a research area?", [prose], embedder, 3, rank_only=True)
    assert any("two reasons. First" in s.text for s in ranked)


def test_a_sentence_wholly_in_brackets_is_not_quoted_alone(embedder: CachingEmbeddings) -> None:
    # "(Coding skill is … prerequisite, though.)" qualifies the sentence before it: alone it
    # reads as an aside with nothing to qualify. With that sentence it may be quoted.
    text = passage(
        "You can get started doing deep learning research with nothing more than first-year "
        "undergrad math, and pick up things you're missing as you go along. (Coding skill is "
        "a much more important prerequisite for deep learning research, though.) You can also "
        "pick up many of the conceptual foundations as you go along."
    )
    ranked = pick_quotes(
        "is coding skill an important prerequisite for deep learning research?",
        [text],
        embedder,
        3,
        rank_only=True,
    )
    assert ranked
    assert not any(s.text.startswith("(") and s.text.endswith(")") for s in ranked), [
        s.text for s in ranked
    ]
    assert any("(Coding skill" in s.text for s in ranked)


def test_the_authors_practice_under_a_short_label_is_not_ranked_down_as_story(
    embedder: CachingEmbeddings,
) -> None:
    # "- Be organized. … I currently keep a personal research log…": the label names the
    # advice and the author's own practice is its example, what "how do you keep track of
    # results?" asks for, though it is told in the first person.
    practice = (
        "I currently keep a personal research log in a shared doc that I write entries into "
        "throughout the lifetime of a project."
    )
    asked = "how do you keep track of results over a long research project?"
    labelled = passage(f"- Be organized. {practice}")
    plain = passage(f"- {practice} Be organized.", pid="p2")

    def score(p: Passage) -> float:
        spans = pick_quotes(asked, [p], embedder, 3, rank_only=True)
        return next(s.score for s in spans if s.text == practice)

    assert score(labelled) > score(plain) + 0.05


def test_a_sentence_naming_the_list_below_is_not_quoted_without_it(
    embedder: CachingEmbeddings,
) -> None:
    # "Items on this list aren't necessarily things you're expected to have" points at a list
    # the asker cannot see unless it is quoted with it.
    text = passage(
        "There is a lot of tacit knowledge in research skills, so most of what I offer is "
        "about the research process. Items on this list aren't necessarily research skills "
        "you're expected to have already. These items are in no particular order:\n"
        "- Write a lot. Writing is thinking, and research threads come to mind while "
        "writing.\n"
        "- Be organized. Figure out some kind of system that works for you to organize "
        "your results."
    )
    ranked = pick_quotes(
        "what research skills am i expected to have?", [text], embedder, 3, rank_only=True
    )
    assert ranked
    assert not any("Items on this list" in s.text and "\n" not in s.text for s in ranked), [
        s.text for s in ranked
    ]


def test_a_sections_opening_answers_a_heading_asking_the_question_in_other_words(
    embedder: CachingEmbeddings,
) -> None:
    # "How can I find (and make!) job opportunities?" asks "where do people find job
    # openings?" in other words: the section opens on the post's answer, told as what the
    # author did.
    text = (
        "I used the 80k job board and LessWrong (I found my employer there). If you find your "
        "way into Slacks from conferences or local groups, there will often be job postings "
        "shared in those as well. My impression is that the majority of public job "
        "opportunities can be found this way.\n"
        "If you really want to work with a specific person or org, you can pick small open "
        "problems to match their research interests, then reach out to ask for feedback."
    )
    section = "Getting a job > How can I find (and make!) job opportunities?"
    asked = "where do people find AI safety job openings?"
    spans = pick_quotes(asked, [passage(text, section=section)], embedder, 3, opens_section={"p1"})
    assert spans[0].text.startswith("I used the 80k job board"), [s.text[:50] for s in spans]
    # Under a heading that does not ask it, the opening is the author's story as before.
    elsewhere = passage(text, section="Getting a job > My first year")
    plain = pick_quotes(asked, [elsewhere], embedder, 3, opens_section={"p1"})
    assert not plain[0].text.startswith("I used the 80k job board"), plain[0].text


def test_a_sentence_naming_its_subject_by_pointing_back_is_not_quoted_alone(
    embedder: CachingEmbeddings,
) -> None:
    # "the aforementioned … guide" names the guide only by where the post named it, sections
    # before: quoted, it points at nothing the asker can see. A pointer in brackets ("(see
    # also upskilling above)") qualifies a sentence that stands, and does not count.
    text = passage(
        "Most empirical work happens with large language models these days. If you want to "
        "get your hands dirty with interpretability, then the aforementioned quickstart guide "
        "is probably as good a starting point as any. You should also try a small project "
        "early on (see also upskilling above)."
    )
    ranked = pick_quotes(
        "what is a good starting point for interpretability?", [text], embedder, 3, rank_only=True
    )
    assert ranked
    alone = [s.text for s in ranked if s.text.startswith("If you want") and s.text.endswith("any.")]
    assert not alone, alone
    assert any(s.text.startswith("You should also try") for s in ranked)
    assert role_score(passage_sentences(text)[0][1], "Lessons") < role_score(
        passage_sentences(text)[0][2], "Lessons"
    )


def test_a_quote_ending_on_the_authors_own_chances_goes_on_to_what_they_mean_for_others() -> None:
    # "…if I wanted to work at a big lab … I probably could." as a quote's last word reads as a
    # promise to the asker; the sentence after it, in the same paragraph, says what it means
    # for others, though it shares fewer of the question's words.
    def carried(text: str, limit: int = 1200) -> str:
        p = passage(text, section="Post")
        lines = passage_sentences(p)
        first = tuple(lines[0][:2])
        span = Span(p, first, " ".join(s.text for s in first), 1.0, 0.8)
        relevance = {s.key: 0.8 for s in first} | {lines[0][2].key: 0.2}
        return _carried_on([span], {p.id: lines}, relevance, 0.64, limit)[0].text

    promise = (
        "People keep telling me there are fewer people on this than I think. It seems like if I "
        "wanted to work at a big lab on safety I probably could. There are fewer smart people "
        "who really care about this than I thought."
    )
    assert carried(promise).endswith("than I thought.")
    # With no room to go on, the quote ends before the promise instead.
    assert carried(promise, limit=300).endswith("than I think.")
    story = (
        "People keep telling me there are fewer people on this than I think. I spent the next "
        "week talking to a friend who works at a big lab on safety. There are fewer smart "
        "people who really care about this than I thought."
    )
    assert carried(story).endswith("works at a big lab on safety.")


def test_a_comment_is_somebody_elses_unless_its_author_is_the_posts() -> None:
    post = Passage("p", "post", "A post", "Ann Author", None, "Lessons", "My advice.")

    def comment(pid: str, author: str | None, doc: str = "post") -> Passage:
        return Passage(pid, doc, "A post", author, None, "Comments", "A reply.", is_comment=True)

    others = comments_by_others(
        [
            post,
            comment("own", "Ann Author (post author)"),
            comment("reader", "Bob Reader"),
            comment("named-later", "Not Ann Author"),
            comment("unsigned", None),
            comment("orphan", "Ann Author", doc="other-post"),  # its post's author is unknown
        ]
    )
    assert others == {"reader", "named-later", "unsigned", "orphan"}


def test_a_quote_never_opens_on_a_reader_thanking_or_praising_the_post(
    embedder: CachingEmbeddings,
) -> None:
    comment = Passage(
        "c1",
        "post",
        "A post",
        None,
        None,
        "Comments > Comment",
        "Thanks for the writeup. I like how it's honest and covers all aspects of your "
        "experience. I think the key takeaway is that there is no fixed recipe for a career in "
        "safety and you have to try things as you go along.",
        is_comment=True,
    )
    for asked in ("why?", "is the writeup honest about the experience?"):
        spans = pick_quotes(asked, [comment], embedder, 3)
        # (the whole comment was quoted, thanks first)
        assert spans and all(s.text.startswith("I think the key takeaway") for s in spans), [
            s.text for s in spans
        ]


def test_a_quote_opens_on_the_advice_its_paragraph_goes_on_to_explain(
    embedder: CachingEmbeddings,
) -> None:
    # A paragraph states its advice, then explains it. "There are tons of accessible problems
    # out there…" quoted without "consider just taking the shortest path of actually working on
    # a research project" told an asker who wondered whether to study for half a year only
    # that problems exist: the window opening on the advice wins when it fits.
    text = passage(
        "If you want to do research, consider just taking the shortest path of actually "
        "working on a research project. There are tons of accessible problems out there that "
        "you can just start working on in like, the next 30 minutes. Of course you’ll run into "
        "things you don’t know, but then you’ll know what you need to learn instead of "
        "spending months over-studying, plus you have a project to point to when you’re "
        "asking someone for a job."
    )
    ranked = pick_quotes(
        "should i spend like half a year just studying before i try applying for safety roles",
        [text],
        embedder,
        3,
        rank_only=True,
    )
    assert ranked[0].text.startswith("If you want to do research, consider"), ranked[0].text
