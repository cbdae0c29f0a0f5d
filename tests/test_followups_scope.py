"""Follow-ups without an LLM, honest declines from the corpus, and the wellbeing reply."""

from __future__ import annotations

import pytest

from bot.answering import ALL_IT_SAYS, NOT_SPECIFIC, WHOLE_LIST, nearest_pointer
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
    as_author,
    described_deed,
    docs_in,
    narrator,
    new_topic,
    new_topic_words,
    quoted_by,
    quotes_in,
    resolve,
    shifted_topic,
    small_talk,
    split_excluded,
)
from bot.models import WITHHELD_QUESTION, Answer, Passage, Question, Turn
from bot.prompts import ASK_PEOPLE, MISSED_REPLY, NOT_DISCUSSED
from bot.scope import (
    asks_about_age,
    asks_live_facts,
    copes,
    corpus_vocabulary,
    distressed,
    missing_concept,
    unsupported_concept,
)
from bot.service import CareerBot
from bot.text import keyword_tokens, split_sentences
from tests.conftest import REPO_KNOWLEDGE, CachingEmbeddings, MakeCareerBot

TITLES = {"Reflections on my first year": "reflections", "AGI safety career advice": "agi"}


async def ask(bot: CareerBot, conversation: str, text: str) -> Answer:
    """Ask `text` from the terminal in conversation `conversation`, as a user would."""
    return await bot.answer(Question(text, "u", conversation, "cli"))


def history(question: str, reply: str) -> list[Turn]:
    return [Turn("user", question), Turn("assistant", reply)]


def test_a_stand_alone_question_is_searched_as_is() -> None:
    past = history("Should I do a PhD?", "…")
    ctx = resolve("How do I find a mentor for governance research?", past, TITLES)
    assert not ctx.is_follow_up and ctx.query.startswith("How do I find")


def test_a_question_the_asker_marks_as_new_does_not_follow_up() -> None:
    # "unrelated but should i move to SF" shares a short follow-up's shape; the asker says
    # it is a new question, so it is searched (and its scope decided) without the marker.
    past = history("how do i get into ai governance?", "Richard Ngo’s post speaks to this")
    for text, fresh in (
        ("unrelated but should i move to SF", "should i move to SF"),
        ("different question: how do i find a mentor?", "how do i find a mentor?"),
        ("ok totally unrelated, is a phd worth it?", "is a phd worth it?"),
        ("random q - what is mats like", "what is mats like"),
    ):
        ctx = resolve(text, past, TITLES)
        assert not ctx.is_follow_up and ctx.query == fresh and ctx.own_text == fresh, text
    # "other than that…" still follows up; a marker with nothing after it marks nothing.
    assert resolve("other than that, what should i do?", past, TITLES).is_follow_up
    for text in ("different from what?", "unrelated", "another thing: why?"):
        assert new_topic(text) is None, text
    # "Unrelated" before a noun is part of the question, not a marker; after a comma, the
    # "but" goes with the marker.
    for text in (
        "unrelated degree, can i still get into alignment?",
        "Unrelated work experience - does it count?",
    ):
        assert new_topic(text) is None, text
    assert new_topic("unrelated, but should i move to SF?") == "should i move to SF?"


def test_short_follow_ups_carry_the_previous_topic() -> None:
    past = history("Should I do a PhD?", "Jay’s “Reflections on my first year” speaks to this")
    for text in ("what about for someone older?", "why?", "and for governance?", "tell me more"):
        ctx = resolve(text, past, TITLES)
        assert ctx.is_follow_up, text
        assert ctx.query == f"Should I do a PhD? {text}"
    assert resolve("why?", past, TITLES).vague
    assert not resolve("and for governance?", past, TITLES).vague
    # Asking for more of the same, wherever in the message it says so.
    for text in (
        "can u expand, like what does a pitch that works actually look like",
        "anything else? nothing posted fits me rn",
        "ok but what would that look like in practice for someone like me",
    ):
        assert resolve(text, past, TITLES).is_follow_up, text
    assert not resolve("how do I write a research proposal for a grant?", past, TITLES).is_follow_up


def test_he_and_the_author_resolve_to_the_post_just_quoted() -> None:
    reply = (
        "Jay’s “Reflections on my first year” and Richard’s “AGI safety career advice” speak:\n"
        "- “You should apply broadly to programs that fit.” — Jay"
    )
    ctx = resolve("so how did he turn it around?", history("I failed MATS", reply), TITLES)
    assert ctx.prefer_docs == ("reflections",)
    assert docs_in(reply, TITLES) == ("reflections", "agi")
    assert quotes_in(reply) == ("You should apply broadly to programs that fit.",)


def test_distress_live_facts_and_missing_concepts(embedder: CachingEmbeddings) -> None:
    assert distressed("haven't slept in a week, panic attacks most nights")
    assert not distressed("I'm stressed about my application")
    assert asks_live_facts("is Anthropic hiring juniors this quarter?")
    assert not asks_live_facts("Should I do a PhD right now or later?")
    texts = [p.read_text() for p in sorted(REPO_KNOWLEDGE.glob("*.md"))]
    vocab = corpus_vocabulary(texts)
    assert (
        missing_concept(
            "what salary can I expect at an AI safety org?", vocab, embedder.embed_query
        )
        == keyword_tokens("salary")[0]
    )
    assert missing_concept("how do I negotiate a job offer?", vocab, embedder.embed_query)
    assert missing_concept("Should I do a PhD?", vocab, embedder.embed_query) is None
    assert (
        missing_concept("how do I get a job in AI governance?", vocab, embedder.embed_query) is None
    )


async def test_follow_ups_are_answered_about_the_conversation(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "c1", "Should I do a PhD?")
    older = await ask(bot, "c1", "what about for someone older?")
    assert first.covered and older.covered  # judged on the merged question
    why = await ask(bot, "c1", "why?")
    assert why.covered and why.citations
    shown = {c.quote for c in first.citations} | {c.quote for c in older.citations}
    assert not shown & {c.quote for c in why.citations}


async def test_someone_picked_out_by_what_they_did_is_the_author_who_tells_it(
    make_careerbot: MakeCareerBot,
) -> None:
    # "the guy who quit his job" is whoever writes "I quit my job", not the author the last
    # reply quoted.
    assert described_deed("how did the guy who quit his job end up?") == "quit my job"
    assert described_deed("the author that switched to evals, why?") == "switched to evals"
    assert described_deed("how did he end up?") == ""
    # "the one that …" is as often a post or a section as a person ("show me the one that
    # covers research skills"); "the one who …" is somebody.
    assert described_deed("can you show me the one that covers research skills?") == ""
    assert described_deed("what about the one who did MATS twice?") == "did MATS twice"
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "deed", "is mats worth it?")
    assert first.covered
    asked = "how did the guy who quit his job end up? did he get hired"
    answer = await ask(bot, "deed", asked)
    assert answer.covered and answer.citations
    assert {c.author for c in answer.citations} == {"James Chua"}, answer.text


async def test_uncovered_concepts_are_declined_with_a_next_step(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE, answer={"decline_hint": "Ask in #careers."})
    for text in (
        "what salary can I expect at an AI safety org?",
        "does Anthropic have open interpretability roles right now?",
        # A long message whose question clause asks only about a word the posts never use.
        "signed a 12-month non-compete at my current ML job. would that stop me from joining "
        "an AI safety org? are those even enforceable?",
    ):
        answer = await ask(bot, f"d:{text}", text)
        assert not answer.covered and not answer.citations, text
        assert answer.text.endswith("Ask in #careers.")
    salary = await ask(bot, "d2", "what salary can I expect at an AI safety org?")
    assert salary.text.startswith(NOT_DISCUSSED.format(concept="salary"))
    covered = await ask(bot, "d3", "how do I get a job in AI governance?")
    assert covered.covered


async def test_a_new_question_prefers_quotes_the_asker_has_not_read(
    make_careerbot: MakeCareerBot,
) -> None:
    # Two questions of their own on one worry: the second reply showed two of the first
    # reply's three quotes again, and the newcomer read the bot as going in circles.
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "twice", "should i quit my job to do safety full time?")
    second = await ask(bot, "twice", "is it risky to leave a stable job for ai safety?")
    assert first.covered and second.covered
    read = set(quotes_in(first.text))
    again = [q for q in quotes_in(second.text) if q in read]
    assert len(again) <= 1 and len(quotes_in(second.text)) >= 2, second.text


async def test_a_second_decline_in_a_conversation_does_not_list_the_topics_again(
    make_careerbot: MakeCareerBot,
) -> None:
    # Told three times in one conversation what the posts cover, a newcomer read the bot as
    # robotic: the list comes once, then only what is missing and the next step.
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    salary = await ask(bot, "twice", "what salary can I expect at an AI safety org?")
    visa = await ask(bot, "twice", "do i need a visa to work at a UK lab?")
    assert not salary.covered and not visa.covered
    assert "They do discuss" in salary.text, salary.text
    assert visa.text.startswith(NOT_DISCUSSED.format(concept="visa")), visa.text
    assert "They do discuss" not in visa.text and visa.text.endswith(ASK_PEOPLE), visa.text
    # A new conversation is told again.
    fresh = await ask(bot, "fresh", "do i need a visa to work at a UK lab?")
    assert "They do discuss" in fresh.text, fresh.text


async def test_distress_gets_support_not_quotes_and_is_not_stored(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(answer={"support_message": "Call the helpline on 000."})
    text = "i can't stop thinking about AI doom, panic attacks most nights, feel hopeless"
    answer = await bot.answer(Question(text, "u", "w", "discord"))
    assert not answer.covered and not answer.citations
    assert "Call the helpline on 000." in answer.text
    stored = bot.store.history("w", 10)
    assert stored[0].text == WITHHELD_QUESTION and text not in [t.text for t in stored]


def test_hopelessness_is_the_askers_own_a_verdict_on_the_field_is_asked_about() -> None:
    for own in ("i feel hopeless", "feeling so hopeless lately", "everything is hopeless"):
        assert distressed(own), own
    # Got only the crisis-line reply: a newcomer's doubt about the field, asked as a question.
    for doom in (
        "the AI risk stuff makes me anxious and I feel like it's hopeless. is it even worth "
        "trying to work on this?",
        "alignment seems hopeless, should i still try?",
        "im hopeless at math, can i still do interp?",
    ):
        assert not distressed(doom), doom


async def test_undecodable_text_is_replaced_not_a_crash(make_careerbot: MakeCareerBot) -> None:
    bot = make_careerbot()
    # A Latin-1 "Café résumé PhD?" read as UTF-8 with surrogateescape: lone surrogates.
    text = b"Caf\xe9 r\xe9sum\xe9: should I do a PhD?".decode("utf-8", "surrogateescape")
    answer = await ask(bot, "bad-bytes", text)
    assert answer.text
    stored = bot.store.history("bad-bytes", 2)[0].text
    assert "\ufffd" in stored and stored.encode("utf-8")


def test_a_rare_word_no_passage_is_about_is_the_uncovered_concept() -> None:
    vocabulary = {
        "paid": 1,
        "arena": 2,
        "ai": 80,
        "safety": 100,
        "research": 80,
        "much": 30,
        "lab": 5,
        "worth": 8,
        "burnout": 3,
    }
    about = {"paid": 0.12, "ARENA": 0.7}

    def discussed(word: str, token: str) -> float:
        return about.get(word, 0.0)

    # "paid" is used once, in a sentence that is not about pay; the rest are field words.
    assert (
        unsupported_concept("how much are AI safety researchers paid?", vocabulary, discussed)
        == "paid"
    )
    # A rare word a sentence is about is covered; so is a word with a close form ("burnt").
    assert unsupported_concept("is ARENA worth it for AI safety?", vocabulary, discussed) is None
    assert unsupported_concept("burnt out from AI safety research", vocabulary, discussed) is None
    # Another distinctive word the posts discuss ("lab") means the question is not only that.
    assert unsupported_concept("are AI safety lab researchers paid?", vocabulary, discussed) is None
    # Authors' names live in the posts' metadata, not their text: a name is not a concept.
    vocabulary = {**vocabulary, "learn": 30}
    named = "what did James Chua learn about AI safety?"
    assert unsupported_concept(named, vocabulary, discussed) is not None
    assert unsupported_concept(named, vocabulary, discussed, names=("James Chua",)) is None
    # In a handful of posts every word is rare, so the test says nothing there.
    tiny = {word: min(df, 20) for word, df in vocabulary.items()}
    assert unsupported_concept("how much are AI safety researchers paid?", tiny, discussed) is None
    # How the asker feels is what the posts' encouragement answers, in any words.
    assert copes("I feel like an impostor next to everyone at my lab")
    assert copes("anyone else feel totally lost trying to break into this?")
    assert not copes("what does it feel like to work at a lab?")  # not about the asker
    assert (
        unsupported_concept("I feel like an impostor in AI safety", vocabulary, discussed) is None
    )


async def test_near_scope_questions_are_declined_and_rare_covered_words_are_not(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE, answer={"decline_hint": "Ask in #careers."})
    for text, word in (
        ("how much do AI safety researchers get paid?", "paid"),
        ("how do I negotiate my compensation?", "negotiate"),
    ):
        answer = await ask(bot, f"n:{text}", text)
        assert not answer.covered and not answer.citations, text
        assert answer.text.startswith(NOT_DISCUSSED.format(concept=word)), answer.text
        assert answer.text.endswith("Ask in #careers.")
    for text in (
        "is ARENA a good way to skill up?",  # named twice in the posts, once as a recommendation
        "any advice on the planning fallacy?",
        "I feel like an impostor among all these brilliant researchers",
    ):
        answer = await ask(bot, f"c:{text}", text)
        assert answer.covered and answer.citations, text


def test_he_is_the_author_who_told_his_own_story_in_the_last_reply() -> None:
    reply = (
        "Richard’s “AGI safety career advice” and Jay’s “Reflections on my first year” speak:\n\n"
        "- “You should apply broadly to programs that fit.” — Richard, AGI safety career "
        "advice [1]\n"
        "- “The problem, I realised, was not with the project.” — Jay, Reflections on my first "
        "year [2]"
    )
    # Richard is named first, but only Jay spoke about himself: "he" is Jay.
    assert narrator(reply, TITLES) == "reflections"
    ctx = resolve("how did he fix it?", history("my project failed", reply), TITLES)
    assert ctx.prefer_docs == ("reflections",)
    assert ctx.message == "how did I fix it?"  # the post tells its story as "I"
    assert as_author("what did the author do after his MATS stint?") == (
        "what did I do after my MATS stint?"
    )
    # Without a person to resolve the message is searched as typed.
    assert resolve("why?", history("my project failed", reply), TITLES).message == ""


async def test_how_did_he_fix_it_quotes_the_author_just_quoted(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    key = "he-fix"
    first = await ask(bot, key, "my first research project failed and I'm not sure what went wrong")
    storytellers = {c.title for c in first.citations if "I " in f"{c.quote} " or "my " in c.quote}
    assert first.covered and storytellers
    he = await ask(bot, key, "how did he fix it?")
    assert he.covered and he.citations
    assert {c.title for c in he.citations} <= storytellers
    assert not any(c.quote.startswith(("He ", "She ")) for c in he.citations)


async def test_how_did_it_go_for_him_quotes_only_his_post(make_careerbot: MakeCareerBot) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    key = "him"
    first = await ask(
        bot, key, "is it worth doing mats if i dont really know what area i want to work on yet"
    )
    assert first.covered and len({c.title for c in first.citations}) == 1
    him = await ask(bot, key, "how did it go for him then")
    # "him" is the author just quoted: another post's author is somebody else, so however
    # near their MATS story is, it does not say how it went for him.
    assert him.covered and him.citations
    assert {c.title for c in him.citations} == {c.title for c in first.citations}, him.text


async def test_what_does_that_look_like_in_practice_is_about_the_quote_it_points_at(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    key = "practice"
    first = await ask(
        bot,
        key,
        (
            "my project partner is better than me at everything, coding included, and i feel "
            "like dead weight on our interp project. what should i do?"
        ),
    )
    assert first.covered and first.citations
    then = await ask(bot, key, "what does that look like in practice?")
    # "that" is the advice just quoted first: how it looks in practice is told in that post,
    # not wherever "in practice" matches best on its own.
    assert then.covered and then.citations
    assert {c.title for c in then.citations} == {first.citations[0].title}, then.text


def _near(section: str, *, is_comment: bool = False) -> Passage:
    return Passage("p", "d", "My Siloed Views Meet Reality", "Ann", None, section, "…", is_comment)


def test_a_decline_points_at_a_section_about_careers_not_at_a_meta_heading() -> None:
    assert (
        nearest_pointer(_near("Pre")) == "The nearest they come is “My Siloed Views Meet Reality”."
    )
    assert nearest_pointer(_near("Lessons > Footnotes")) == (
        "The nearest they come is “My Siloed Views Meet Reality”, in “Lessons”."
    )
    assert nearest_pointer(_near("Lessons > Finding a mentor")) == (
        "The nearest they come is “My Siloed Views Meet Reality”, in “Finding a mentor”."
    )
    assert nearest_pointer(_near("Lessons", is_comment=True)).endswith("Reality”.")


async def test_a_follow_up_with_a_topic_of_its_own_is_answered_on_that_topic(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "own", "how can I tell whether I'm any good at research?")
    then = await ask(bot, "own", "and what if I'm good at it but don't enjoy it?")
    assert first.covered and then.covered
    # The merged question is mostly the first one; the follow-up's own passages are read too,
    # so the reply speaks to enjoying the work, not to judging research skill again.
    assert any("enjoy" in c.quote for c in then.citations), then.text


async def test_he_is_the_quoted_author_the_conversation_is_most_about(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "g", "at what point should i just give up on breaking into ai safety")
    assert len({c.title for c in first.citations}) > 1  # "he" is ambiguous by the reply alone
    plan = await ask(bot, "g", "what was his plan exactly?")
    # The give-up plan is Jay Bailey's, in his own reply under his post: a reply by the post's
    # author is the author speaking, not "somebody else's comment".
    assert plan.citations[0].author == "Jay Bailey (post author)", plan.text
    assert "a plan for when you should give up" in plan.citations[0].quote, plan.text
    shown = {c.quote for c in first.citations}
    for citation in plan.citations:
        assert not any(s in citation.quote for q in shown for s in q.split(". ") if len(s) > 25)


def test_follow_up_kinds_new_topic_exclusion_and_story() -> None:
    # A new topic: the question before, asked about something else (only a short rest counts).
    assert shifted_topic("and for policy roles?") == tuple(keyword_tokens("policy roles"))
    assert shifted_topic("what about evals?") == tuple(keyword_tokens("evals"))
    assert shifted_topic("and if it goes badly can i apply again next cycle?") == ()
    assert shifted_topic("why?") == ()
    # "besides X" / "apart from X": what the asker does not want again, and the rest.
    assert split_excluded("apart from the soft skills, what did she learn?") == (
        "what did she learn?",
        tuple(keyword_tokens("soft skills")),
    )
    assert split_excluded("what else did he get out of it besides the paper?") == (
        "what else did he get out of it?",
        tuple(keyword_tokens("paper")),
    )
    assert split_excluded("should I do MATS?") == ("should I do MATS?", ())
    assert split_excluded("what about working in government instead of research?") == (
        "what about working in government?",
        tuple(keyword_tokens("research")),
    )
    past = history("my project failed", "Jay’s “Reflections on my first year” speaks to this")
    excluded = resolve("other than the paper, what did he take away?", past, TITLES)
    assert excluded.is_follow_up and excluded.excluded == tuple(keyword_tokens("paper"))
    assert "paper" not in excluded.query and not excluded.vague
    # A question of its own that says "besides" is not a follow-up, and excludes nothing.
    alone = resolve(
        "are there safety jobs at the big labs besides research scientist roles for people "
        "without a PhD?",
        past,
        TITLES,
    )
    assert not alone.is_follow_up and not alone.excluded
    # The rest of the story the last quote began, or other facts about its author.
    assert resolve("so how did he turn it around?", past, TITLES).story_goes_on
    assert resolve("what did she end up doing?", past, TITLES).story_goes_on
    assert not resolve("what was his plan exactly?", past, TITLES).story_goes_on
    assert not resolve("how did that go?", past, TITLES).story_goes_on  # nobody to follow
    reply = (
        "Jay’s “Reflections on my first year” and Richard’s “AGI safety career advice” speak:\n"
        "- “I was a software engineer.” — Jay, Reflections on my first year [1]\n"
        "- “Get hands-on.” — Richard, AGI safety career advice [2]"
    )
    assert quoted_by(reply, TITLES) == (
        ("reflections", "I was a software engineer."),
        ("agi", "Get hands-on."),
    )


async def test_a_new_topic_is_answered_from_passages_about_it(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "t", "is mech interp a good first area to get into?")
    evals = await ask(bot, "t", "what about evals?")
    assert first.covered and evals.covered and evals.citations
    # Every quote is about evals, none about mech interp again.
    for citation in evals.citations:
        assert "eval" in f"{citation.section} {citation.quote}".lower(), citation.quote
    # The rest of the question stays: an undergrad with no research experience, getting in.
    await ask(
        bot,
        "g",
        "I'm an undergrad who's never done research; how do I break into alignment research?",
    )
    governance = await ask(bot, "g", "and for governance?")
    assert governance.covered and governance.citations
    assert "alignment" not in governance.standalone_query
    assert "never done research" in governance.standalone_query
    assert all("governance" in c.section.lower() for c in governance.citations), governance.text
    # A misspelt topic is the posts' word it is one letter from, not a topic they never mention.
    await ask(bot, "typo", "how do I get started in alignment research?")
    typo = await ask(bot, "typo", "and for goverance?")
    assert typo.covered and not typo.notices
    assert all("governance" in c.section.lower() for c in typo.citations), typo.text


async def test_a_new_topic_may_be_answered_by_a_quote_shown_before(
    make_careerbot: MakeCareerBot,
) -> None:
    # The first answer already quoted the fast track into policy jobs; asked about government
    # jobs next, that sentence is still the answer and is shown again, not left out.
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(
        bot,
        "gov",
        (
            "no stem background, i studied history. i want to do something on ai policy. "
            "where do i begin?"
        ),
    )
    fast_track = "policy fellowships are quick ways to fast-track"
    assert any(fast_track in c.quote for c in first.citations), first.text
    then = await ask(bot, "gov", "what about working in government directly instead of research?")
    assert then.covered and any(fast_track in c.quote for c in then.citations), then.text
    # "why?" still goes on to what was not shown.
    why = await ask(bot, "gov", "why?")
    shown = {c.quote for c in (*first.citations, *then.citations)}
    assert why.covered and not shown & {c.quote for c in why.citations}, why.text


async def test_besides_x_is_answered_with_the_rest(make_careerbot: MakeCareerBot) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "x", "did james chua find MATS useful?")
    rest = await ask(bot, "x", "apart from the soft skills, what did he learn?")
    assert first.covered and rest.covered and rest.citations
    # "he" is the author the conversation named; nothing under "Soft skills", nor about them.
    assert {c.author for c in rest.citations} == {"James Chua"}, rest.text
    for citation in rest.citations:
        assert citation.section != "Soft skills" and "soft skill" not in citation.quote.lower()


async def test_he_is_a_named_author_and_his_story_goes_on(make_careerbot: MakeCareerBot) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(
        bot,
        "s",
        (
            "the other person on my interp project is way stronger than me, I feel like I'm not "
            "contributing"
        ),
    )
    assert first.covered
    story = await ask(bot, "s", "so how did he turn it around?")
    assert story.covered and story.citations
    assert {c.author for c in story.citations} == {"Jay Bailey"}, story.text
    shown = {c.quote for c in first.citations}
    assert not shown & {c.quote for c in story.citations}


async def test_an_age_alone_after_advice_says_the_posts_never_speak_of_age(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "a", "im a nurse, 15 yrs experience. any place for me in ai safety?")
    assert first.covered
    # Was answered "Remember to take care of yourself, and good luck." with no word on age.
    aged = await ask(bot, "a", "and if i'm 40?")
    assert aged.covered and aged.citations
    assert NOT_SPECIFIC.format(concept="age") in aged.notices, aged.notices
    for text in ("what if im 40", "and at 45?", "what about someone who is 50?"):
        assert asks_about_age(text), text
    for text in (
        "what about 10 hours a week?",
        "what about at 20 papers?",
        "if i'm 25 should i do a phd",
    ):
        assert not asks_about_age(text), text


async def test_a_quote_grown_by_a_weaker_sentence_never_takes_in_another_quotes_sentence(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    await ask(bot, "g", "I'm 45, a high school physics teacher. Too late to switch into AI safety?")
    await ask(bot, "g", "why")
    # Quoted "…Pick something that looks remotely sensible…" at the end of [1] and again as
    # the start of [2].
    first = await ask(bot, "g", "what would you do first")
    sentences = [s for c in first.citations for s in split_sentences(c.quote)]
    assert len(sentences) == len(set(sentences)), first.text


async def test_what_a_named_author_thinks_is_his_own_words_not_a_readers_comment(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    # Quoted only comments under his post before, one of them an option a reader lists ("1)
    # Debate will work…") as if it were a claim.
    view = await ask(bot, "d", "what does richard ngo think about debate")
    assert view.covered and view.citations
    assert all(c.author == "Richard Ngo" for c in view.citations), view.text
    assert any("I personally find debate the easiest" in c.quote for c in view.citations)
    # Asked about the replies, the replies answer.
    replies = await ask(bot, "r", "what did people reply to richard ngo about debate?")
    assert any(c.author != "Richard Ngo" for c in replies.citations), replies.text


async def test_a_new_topic_the_posts_never_mention_gets_the_question_before(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "o", "should I get a PhD before doing alignment work?")
    older = await ask(bot, "o", "what about for someone older?")
    assert first.covered and older.covered and older.citations
    assert any("“older”" in notice for notice in older.notices), older.notices
    # Numbers name no topic: "a 40 year old" is about being old, not about "40".
    aged = await ask(bot, "o", "and for a 40 year old?")
    assert aged.covered and not any("“40”" in notice for notice in aged.notices)
    assert "older" not in older.standalone_query


async def test_a_new_topic_put_in_words_the_posts_never_use_is_still_the_topic(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "p", "how much math do i need for alignment?")
    phd = await ask(bot, "p", "what about going straight to a phd instead?")
    assert first.covered and phd.covered and phd.citations
    # "straight" is how the question is put (the posts never say it); the PhD is its topic.
    assert not any("“straight" in notice for notice in phd.notices), phd.notices
    assert any("PhD" in c.quote for c in phd.citations), phd.text
    # A word the posts lack that the question is about is still said to be missing.
    visas = await ask(bot, "p", "what about visas for phd students?")
    assert any("“visa" in notice for notice in visas.notices), visas.notices


async def test_why_is_answered_from_around_the_quote_just_shown(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "w", "should I apply to as many MATS mentors as I can?")
    why = await ask(bot, "w", "why?")
    assert first.covered and why.covered and why.citations
    assert {c.title for c in why.citations} <= {c.title for c in first.citations}, why.text


def test_what_a_follow_up_asks_of_the_last_reply() -> None:
    past = history("should I upskill first?", "Jay’s “Reflections on my first year” speaks to this")
    assert resolve("why?", past, TITLES).asks == WHY
    assert resolve("how come?", past, TITLES).asks == WHY
    assert resolve("but why bother then", past, TITLES).asks == WHY
    assert resolve("does that also hold for senior researchers?", past, TITLES).asks == CLARIFY
    # "is that…" points back however long it goes on.
    long_clarification = (
        "so is that the same thing they look for once you are hired or only to get in?"
    )
    assert resolve(long_clarification, past, TITLES).asks == CLARIFY
    assert resolve("anything else?", past, TITLES).asks == MORE
    assert resolve("what about evals?", past, TITLES).asks == ""
    # A long "why" question is a question of its own, not a request for the last reply's reason.
    own = "why do so many independent researchers burn out after a year of unfunded work alone?"
    assert resolve(own, past, TITLES).asks == ""
    # A short "why" first and the asker's reaction after it asks for the reason all the same.
    reaction = "why tho?? none of that is what you do on the job, it feels like a pointless filter"
    assert resolve(reaction, past, TITLES).asks == WHY
    # ... and so does a "why" set off by a comma or a dash in one sentence.
    assert resolve("why tho, seems like such a dumb way to hire ppl", past, TITLES).asks == WHY
    assert resolve("but why - i thought they cared about research", past, TITLES).asks == WHY
    # "their mind", "did they end up": one person, the author just quoted, who says "I".
    mind = resolve("so what changed their mind in the end?", past, TITLES)
    assert (
        mind.prefer_docs == ("reflections",)
        and mind.message == "so what changed my mind in the end?"
    )
    # A bare "they" is as often the organisations: searched as typed.
    assert resolve("do they hire people without a degree?", past, TITLES).message == ""
    # "that guy" / "himself" is the author just quoted, and he tells his own story as "I".
    guy = resolve("how did that guy end up in safety himself?", past, TITLES)
    assert guy.prefer_docs == ("reflections",)
    # ... and asks how he came to the field, not for the rest of the story just quoted.
    assert guy.background and not guy.story_goes_on
    assert guy.message == "how did I end up in safety myself?"
    assert guy.asks == ""  # about the person, not about the last quote
    # A quote from a post's preamble has no section: its bullet ends on the citation number.
    reply = "Jay’s “Reflections on my first year” speaks to this:\n\n- “I quit my job.” [1]"
    assert quotes_in(reply) == ("I quit my job.",)


async def test_is_that_also_true_is_answered_beside_the_quote_it_points_at(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(
        bot, "c", "how strong do my coding skills need to be to pass technical interviews?"
    )
    section = "What level of general programming skills do I need?"
    assert first.covered and {c.section.split(" > ")[-1] for c in first.citations} == {section}
    again = await ask(bot, "c", "is that also what you need once you're on the job?")
    assert again.covered and again.citations
    # What qualifies the interview bar is in the same section, not another topic's advice.
    assert {c.section.split(" > ")[-1] for c in again.citations} == {section}, again.text
    assert any("Once you’re on the job" in c.quote for c in again.citations), again.text


async def test_why_quotes_the_reason_beside_the_quote_just_shown(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(
        bot,
        "y",
        (
            "I studied physics. Do I need to learn a lot of ML theory before doing deep learning "
            "research?"
        ),
    )
    assert first.covered and first.citations
    why = await ask(bot, "y", "why?")
    assert why.covered and why.citations
    assert {c.author for c in why.citations} == {c.author for c in first.citations}
    # The reason ("…how much shallower deep learning is…, and so…") is the answer, even where
    # the quote before showed it: it is quoted again with what it leads to, never alone again.
    assert any("shallower deep learning is" in c.quote for c in why.citations), why.text
    shown = {c.quote for c in first.citations}
    assert not shown & {c.quote for c in why.citations}


async def test_pushing_on_the_last_reply_is_a_follow_up_not_a_new_question(
    make_careerbot: MakeCareerBot,
) -> None:
    past = history("should I upskill first?", "Jay’s “Reflections on my first year” speaks to this")
    # Each was searched on its own and declined ("the posts don't cover that").
    for asked in (
        "can you be more specific?",
        "what next?",
        "ok and after that?",
        "what should I do first?",
        "what would you do in my place?",
        "give me a step by step plan",
    ):
        context = resolve(asked, past, TITLES)
        assert context.is_follow_up and context.asks == MORE, asked
    # "no, I meant X" asks the question again about X.
    meant = resolve("no, I meant for governance", past, TITLES)
    assert meant.is_follow_up and meant.shift_to == ("govern",)
    # A question of its own stays one.
    assert not resolve("what is the next big thing in interp?", past, TITLES).is_follow_up
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "push", "should i do a phd?")
    more = await ask(bot, "push", "can you be more specific?")
    assert first.covered and more.covered and more.citations, more.text
    # "that doesn't answer my question": no more quotes that miss; ask for it another way.
    missed = await ask(bot, "push", "that doesn't answer my question")
    assert missed.text == MISSED_REPLY and not missed.citations and not missed.covered
    assert resolve("is it not helpful to do a phd?", past, TITLES).asks != MISSED


async def test_which_post_says_that_names_the_posts_just_quoted(
    make_careerbot: MakeCareerBot,
) -> None:
    past = history("should I upskill first?", "Jay’s “Reflections on my first year” speaks to this")
    for asked in (
        "which post says that?",
        "source?",
        "where is that from?",
        "who wrote that?",
        # A reaction first, then where it comes from (was: new quotes under "That sounds hard").
        "hm that's discouraging. who says that",
    ):
        assert resolve(asked, past, TITLES).asks == SOURCE, asked
    for asked in ("which post should i read first?", "which post is best for a beginner?"):
        assert resolve(asked, past, TITLES).asks != SOURCE, asked
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "src", "how do i find ai safety jobs?")
    assert first.covered and first.citations
    where = await ask(bot, "src", "which post says that?")
    # The posts the last reply quoted, each once, with the sections quoted; no new quotes.
    assert where.covered and not where.citations, where.text
    for c in first.citations:
        assert c.title in where.text and c.section.split(" > ")[-1] in where.text, where.text
    titles = {c.title for c in first.citations}
    assert sum(where.text.count(t) for t in titles) == len(titles), where.text


async def test_is_that_still_true_says_when_the_posts_quoted_were_written(
    make_careerbot: MakeCareerBot,
) -> None:
    past = history("should I upskill first?", "Jay’s “Reflections on my first year” speaks to this")
    for asked in ("is that still true?", "hmm is that outdated?", "when was that written?"):
        assert resolve(asked, past, TITLES).asks == DATED, asked
    # What qualifies the claim is still asked of the posts.
    assert resolve("is that also true for seniors?", past, TITLES).asks == CLARIFY
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "old", "should i do a phd?")
    assert first.covered and first.citations[0].author == "George Wang (Timaeus)"
    still = await ask(bot, "old", "is that still true?")
    assert "George Wang (Timaeus) was published on 2024-08-24" in still.text, still.text
    # The claim asked about is shown again under the date: one sentence of the quote before.
    assert still.covered and len(still.citations) == 1, still.text
    assert still.citations[0].quote in first.citations[0].quote, still.text
    # The dated reply is not what "which post says that?" asks about: the one before it is.
    where = await ask(bot, "old", "which post says that?")
    assert "“Should I do a PhD?”" in where.text and not where.citations, where.text
    # Asked of the posts in general, the list of posts says when each was written.
    posts = await ask(bot, "when", "when were these posts written? are they out of date?")
    assert "by Richard Ngo (2023-05)" in posts.text and not posts.citations, posts.text
    # A question about what is open today is told how old the posts are.
    live = await ask(bot, "live", "is redwood hiring right now?")
    assert not live.covered and "(written 2023–2024)" in live.text, live.text


async def test_why_with_a_reaction_is_asked_of_the_best_quote_just_shown(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "l", "research engineer jobs: how good at leetcode do i have to get?")
    assert first.covered and first.citations
    why = await ask(
        bot, "l", "why though?? that's not what the job is about, seems like a pointless filter"
    )
    # The reason is the one the first quote's author gives for it (why interviews test
    # LeetCode at all), not a reason beside another post's quote further down the reply.
    assert why.covered and {c.author for c in why.citations} == {first.citations[0].author}
    assert any("asymmetric information" in c.quote for c in why.citations), why.text


async def test_what_did_he_get_out_of_it_is_his_verdict_not_the_quote_again(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(
        bot, "g", "I want to quit my job as an ML engineer to do MATS. Has anyone done that?"
    )
    assert first.covered and first.citations
    got = await ask(bot, "g", "what did he get out of it?")
    assert got.covered and got.citations
    assert {c.author for c in got.citations} == {"James Chua"}, got.text
    # Every quote the reply before showed counts as shown, its preamble quote (no section) too.
    shown = [s for c in first.citations for s in c.quote.split(". ") if len(s) > 25]
    assert not any(s in c.quote for c in got.citations for s in shown), got.text


async def test_tldr_gives_the_last_replys_point_in_one_sentence(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "tl", "should I do a PhD to get into alignment?")
    assert first.covered and first.citations
    brief = await ask(bot, "tl", "tl;dr?")
    assert brief.covered and len(brief.citations) == 1, brief.text
    point = " ".join(brief.citations[0].quote.split())
    # One sentence of what was just said, not new material and not the whole quote again.
    assert any(point in " ".join(c.quote.split()) for c in first.citations), brief.text
    assert point.count(". ") == 0
    assert resolve("can you summarize that", history("x", "…"), TITLES).asks == SHORTER


async def test_a_push_back_may_be_answered_by_part_of_a_quote_already_shown(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(
        bot, "pb", "an org i really want to join has nothing posted. can i just write to them?"
    )
    plan = "pick the small open problems you work on to match their research interests"
    assert any(plan in c.quote for c in first.citations), first.text
    then = await ask(bot, "pb", "but what would i even tell them? i have no results yet")
    # What to tell them is the plan the first reply quoted inside a longer quote (work on
    # their open problems, then reach out with results): it is quoted again, on its own.
    assert any(plan in c.quote for c in then.citations), then.text
    shown = {" ".join(c.quote.split()) for c in first.citations}
    assert not shown & {" ".join(c.quote.split()) for c in then.citations}


def test_how_the_author_came_to_the_field_is_a_question_about_their_background() -> None:
    past = history("my project failed", "Jay’s “Reflections on my first year” speaks to this")
    for text in (
        "how did that guy end up in safety himself",
        "how did she get into alignment?",
        "whats his background",
    ):
        assert resolve(text, past, TITLES).background, text
    for text in ("how did he turn it around?", "what did he end up doing after that"):
        assert not resolve(text, past, TITLES).background, text


@pytest.mark.parametrize(
    ("first_question", "follow_up"),
    [
        # George Wang says where he comes from once, in his post's opening, as a scope note
        # ("This advice is only from my perspective and background, which is that I did a PhD…").
        (
            "whats the single most impactful thing to work on in ai safety rn",
            "how did that guy end up in safety himself",
        ),
        # After "what is the most impactful area…?", his "…I did a PhD in combinatorics…" is far
        # from the carried topic (relevance 0.18 against 0.56 for a line about impact), but it
        # is what "how did he end up in safety" asks for.
        ("what is the most impactful area to work on?", "how did he end up in safety himself"),
    ],
)
async def test_how_the_author_ended_up_in_safety_quotes_where_he_says_his_background(
    make_careerbot: MakeCareerBot, first_question: str, follow_up: str
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "b", first_question)
    assert first.covered and "George Wang" in first.text
    how = await ask(bot, "b", follow_up)
    assert how.covered and how.citations
    assert any("PhD in combinatorics" in c.quote for c in how.citations), how.text


async def test_why_about_something_the_reply_never_said_is_read_where_the_posts_say_it(
    make_careerbot: MakeCareerBot,
) -> None:
    # The first reply quotes advice on upskilling; "situational" is Jay Bailey's word about
    # poor productivity, so the reason asked for is there, not beside the upskilling quote.
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(
        bot,
        "s",
        "been super unproductive on my first research project, pretty sure im just lazy tbh",
    )
    assert first.covered and not any("situational" in c.quote for c in first.citations)
    why = await ask(bot, "s", "why would it be situational tho")
    assert why.covered and any("situational" in c.quote for c in why.citations), why.text


def test_a_message_that_asks_is_not_thanks_with_or_without_a_question_mark() -> None:
    past = history("how much math do I need?", "Richard Ngo’s “AGI safety career advice”")
    assert resolve("why is that", past, TITLES).asks == WHY
    for asking in ("why is that", "how come", "what then"):
        assert not small_talk(asking), asking
    for thanks_only in ("ok cool", "thanks so much", "got it"):
        assert small_talk(thanks_only), thanks_only


async def test_a_new_topic_in_shorthand_is_the_corpus_word_it_stands_for(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "g", "i have no research experience, how do i start on alignment?")
    govt = await ask(bot, "g", "and for govt?")
    assert first.covered and govt.covered and govt.citations
    # "govt" is government, a contraction by its first letters: not a topic the posts lack.
    assert not any("govt" in notice for notice in govt.notices), govt.notices
    assert all(c.section.startswith("Governance") for c in govt.citations), govt.text


def test_any_more_asks_for_the_rest_of_what_was_quoted() -> None:
    past = history("what research directions are overrated?", "Richard Ngo’s “AGI safety…”")
    for more in ("any more?", "more?", "any more like that"):
        assert resolve(more, past, TITLES).asks == MORE, more
    assert resolve("i cant do this any more, help", past, TITLES).asks != MORE


async def test_any_others_on_that_list_goes_on_with_the_list_or_says_it_was_whole(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "l", "what are some governance topics that need a world expert?")
    assert any("Tamper-evident logging" in c.quote for c in first.citations), first.text
    more = await ask(bot, "l", "any others on that list?")
    # The list goes on in its section: its next cluster ("…topics such as"), with its items.
    assert "Another cluster: security-related topics such as" in more.text, more.text
    assert "weight exfiltration" in more.text and WHOLE_LIST not in more.notices
    first = await ask(bot, "m", "which research directions are overrated by newcomers?")
    assert "acting myopically" in first.text, first.text
    more = await ask(bot, "m", "any more?")
    # Nothing follows that list in its section: said plainly, and the list shown again.
    assert WHOLE_LIST in more.notices, more.text
    assert "acting myopically" in more.text and "heavy-tailed" not in more.text, more.text


def test_without_the_thing_asked_about_asks_the_question_without_it() -> None:
    past = history("should I do a PhD to get into AI safety research?", "…")
    lack = resolve("what about someone without a PhD", past, TITLES)
    # The PhD leaves the question; "someone" is nobody's topic.
    assert lack.is_follow_up and lack.lacking == tuple(keyword_tokens("PhD"))
    assert "phd" not in lack.query.casefold() and not lack.shift_to
    # A condition the conversation has not named yet is asked with it, as typed.
    degree = resolve("and if i don't have a degree at all?", past, TITLES)
    assert not degree.lacking and "degree" in degree.query
    # What the asker wants to avoid ("without burning out") is the topic, not a lack.
    burn = resolve("how do i do that without burning out?", past, TITLES)
    assert not burn.lacking and "burning out" in burn.query


async def test_without_a_phd_is_not_answered_from_the_phd_section(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "np", "should I do a PhD to get into AI safety research?")
    assert any("Should I do a PhD?" in c.section for c in first.citations), first.text
    then = await ask(bot, "np", "what about someone without a PhD")
    assert then.covered and then.citations
    assert not any("Should I do a PhD?" in c.section for c in then.citations), then.text
    assert any("shortest path of actually working" in c.quote for c in then.citations), then.text


async def test_why_after_a_conclusion_quotes_what_it_rests_on(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(
        bot, "wy", "how much should i trust experts' hot takes on which research is good?"
    )
    assert any("As a result, you should start off" in c.quote for c in first.citations)
    why = await ask(bot, "wy", "why?")
    # "As a result, you should…" is the claim asked about; the asymmetry before it is why.
    assert any("massive asymmetry" in c.quote for c in why.citations), why.text
    assert not any(c.quote.startswith("As a result") for c in why.citations), why.text


async def test_how_did_he_turn_it_around_quotes_what_the_author_did(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "ta", "did james chua have trouble getting hired before MATS?")
    assert first.citations and all("MATS Summer" in c.title for c in first.citations), first.text
    then = await ask(bot, "ta", "so how did he turn that around")
    # What he did about it ("I quit my job and participated in…"), not more of his views.
    assert any("I quit my job and participated" in c.quote for c in then.citations), then.text


async def test_isnt_that_pushes_back_on_the_conversations_topic(
    make_careerbot: MakeCareerBot,
) -> None:
    past = history("should i work on safety at a big lab?", "…")
    push = resolve("isn't that really competitive though", past, TITLES)
    assert push.is_follow_up and push.asks == ""  # a question on the topic, not "is that also…"
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "pu", "should i work on safety at a big lab?")
    assert first.covered
    then = await ask(bot, "pu", "isn't that really competitive though")
    assert any("There are less people really trying" in c.quote for c in then.citations), then.text


async def test_an_authors_name_the_question_before_carries_does_not_decline_a_follow_up(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "nm", "how did james chua network as someone from singapore?")
    assert first.covered and first.citations
    then = await ask(bot, "nm", "what did he get out of that?")
    # His name carried into the search diluted it below the gate; the follow-up is about him.
    assert then.covered and then.citations, then.text
    assert {c.author for c in then.citations} == {"James Chua"}, then.text


def test_a_question_about_what_he_said_asks_of_his_quote() -> None:
    # "why does he think that?" asks for the reason behind the quote, as "why?" does; only his
    # story ("how did he turn it around?") and his background are asked of him instead.
    past = history("what does Richard Ngo think of evals?", "Richard Ngo’s post speaks to this")
    assert resolve("why does he think that?", past, TITLES).asks == WHY
    assert resolve("what does he mean by that", past, TITLES).asks == MORE
    assert resolve("did it actually help him?", past, TITLES).asks == OUTCOME
    assert resolve("does that actually work though?", past, TITLES).asks == OUTCOME
    # Whether it holds for someone else is what qualifies it, not how it turned out.
    assert resolve("does that work for seniors too?", past, TITLES).asks == CLARIFY
    # What he did after the part just told goes on with his story.
    later = resolve("so what did he go into after that?", past, TITLES)
    assert later.story_goes_on and not later.asks


async def test_a_short_follow_up_goes_on_where_the_quote_stopped(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(
        bot, "m", "do i need a strong math background to start deep learning research?"
    )
    assert first.covered and "first-year undergrad math" in first.citations[0].quote
    more = await ask(bot, "m", "so what matters more then?")
    # What matters more is what the author says right after "you don't need the maths".
    assert any("Coding skill is a much more important" in c.quote for c in more.citations), (
        more.text
    )


async def test_does_that_work_is_answered_by_the_authors_verdict_on_it(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "p", "how did james chua handle the planning fallacy?")
    assert first.covered and "Would I be surprised" in first.citations[0].quote
    works = await ask(bot, "p", "does that actually work though?")
    # His verdict sits inside the quote just shown: it is shown again on its own, from his post.
    assert {c.author for c in works.citations} == {"James Chua"}, works.text
    assert any(c.quote.startswith("This question helped me") for c in works.citations), works.text


def test_a_message_leaning_on_the_reply_follows_up_whatever_its_length() -> None:
    past = history("should I do MATS?", "Jay’s “Reflections on my first year” speaks to this")
    for asked in (
        "does the same advice apply to people coming from academia",
        "would you say the same for governance people",
        "what would the first step look like for me then",
        "can you say more about the mentor part",
        "explain the comparative advantage bit",
    ):
        assert resolve(asked, past, TITLES).is_follow_up, asked
    # "the same for X", however it opens, is the question before asked about X.
    same = resolve("would you say the same for governance people", past, TITLES)
    assert same.shift_to == tuple(keyword_tokens("governance")) and not same.asks
    assert resolve("is it the same for evals?", past, TITLES).shift_to == ("eval",)
    # "…instead" at the end is as often a question of its own, with its own scope.
    alone = "do safety orgs sponsor h1b or should i be looking at jobs in other countries instead"
    assert not resolve(alone, past, TITLES).is_follow_up


def test_a_follow_ups_new_topic_is_what_it_adds_not_how_it_asks() -> None:
    past = history("how do i find ai safety jobs?", "…")
    remote = resolve("ok. are there remote roles then?", past, TITLES)
    assert set(new_topic_words(remote)) == set(keyword_tokens("remote roles"))
    # "jobs" was asked before; "send them" is done to the topic before.
    assert new_topic_words(resolve("and job boards?", past, TITLES)) == ("board",)
    assert new_topic_words(resolve("what should i send them?", past, TITLES)) == ()
    # Pushing back and asking for more are about what was just quoted.
    risky = resolve("isnt that risky with a mortgage tho", past, TITLES)
    assert new_topic_words(risky) == ()
    pitch = resolve("can u expand, like what does a pitch that works look like", past, TITLES)
    assert new_topic_words(pitch) == ()
    story = history("should i quit my job for MATS?", "Reflections on my first year: - “I quit…”")
    assert new_topic_words(resolve("how did he turn it around?", story, TITLES)) == ()
    # A place the last reply does not have ("the fourth one" after one quote) still only
    # points: it was declined as "the posts don't discuss “fourth one”".
    fourth = resolve("the fourth one?", story, TITLES)
    assert fourth.is_follow_up and new_topic_words(fourth) == ()


async def test_a_follow_up_about_something_the_posts_never_discuss_is_declined(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "r", "how do i find ai safety jobs?")
    assert first.covered
    # The posts say "remotely" only in "looks remotely sensible": not remote work.
    remote = await ask(bot, "r", "ok. are there remote roles then?")
    assert not remote.covered and "“remote roles”" in remote.text, remote.text
    visa = await ask(bot, "r", "would i need a visa for that")
    assert not visa.covered and "“visa”" in visa.text, visa.text
    # A new word the posts use in the sense asked ("80k Hours’ job board") is answered, and
    # the conversation goes on after a decline.
    boards = await ask(bot, "r", "and job boards?")
    assert boards.covered and any("job board" in c.quote for c in boards.citations), boards.text
    # So is a word the follow-up is no more about than one the posts discuss.
    await ask(bot, "s", "is it ok to mostly do conceptual alignment research as a beginner")
    senior = await ask(bot, "s", "what about someone older with lots of experience")
    assert senior.covered and senior.citations, senior.text


async def test_what_about_x_names_a_word_the_posts_use_only_in_another_sense(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    await ask(bot, "w", "how do i find ai safety jobs?")
    remote = await ask(bot, "w", "what about remote roles?")
    assert remote.covered and any("“remote" in n for n in remote.notices), remote.notices


async def test_a_follow_up_goes_on_where_the_post_goes_on_past_its_chunk(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "f1", "what's the most impactful area of AI safety to work on?")
    assert any("Most research areas have people" in c.quote for c in first.citations), first.text
    then = await ask(bot, "f1", "so what should i focus on instead?")
    # The post answers one paragraph on, in the next passage of the same section.
    assert any("What’s far more important to worry about" in c.quote for c in then.citations), (
        then.text
    )


def test_asking_for_an_example_is_read_as_such() -> None:
    past = history("how do i know which expert to trust?", "George Wang’s post speaks to this")
    for text in ("any examples?", "can you give an example?", "ok, examples of that?"):
        assert resolve(text, past, TITLES).asks == EXAMPLE, text
    assert resolve("anything else?", past, TITLES).asks == MORE


async def test_any_examples_gets_the_examples_the_post_gives_after_the_claim(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "f2", "how do i know which expert to trust? they all disagree")
    assert any("blanket skepticism" in c.quote for c in first.citations), first.text
    then = await ask(bot, "f2", "any examples?")
    # "Some particularly common examples of ways this might manifest:" and its items.
    assert any("too reckless / too dual-use" in c.quote for c in then.citations), then.text


def test_asking_for_examples_of_a_thing_follows_up() -> None:
    past = history("what is scalable oversight research?", "Richard Ngo’s post speaks to this")
    # "examples of papers?" names a thing but no question of its own: papers of what was said.
    context = resolve("examples of papers?", past, TITLES)
    assert context.is_follow_up and context.asks == EXAMPLE
    longer = "examples of governance papers on compute tracking and export controls to china?"
    assert not resolve(longer, past, TITLES).is_follow_up


async def test_an_example_may_be_a_sentence_naming_one(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "f2b", "what is scalable oversight research?")
    assert any("Scalable oversight research may be" in c.quote for c in first.citations)
    then = await ask(bot, "f2b", "examples of papers?")
    # The paper the post names right under the item quoted, not a governance paper elsewhere
    # that says "example".
    quotes = " ".join(c.quote for c in then.citations)
    assert "Irving et al.’s debate paper" in quotes, then.text
    assert "Baker’s paper" not in quotes, then.text


def test_a_sentence_gives_an_example_by_saying_so_or_by_naming_one() -> None:
    from bot.extractive import _gives_example

    assert _gives_example("For example, I notice that I start doing things like snacking more.")
    assert _gives_example("The theoretical paper I most often point people to is Irving et al.")
    # the field's acronyms name nothing, nor does a name in an aside
    assert not _gives_example("Most empirical work happens with LLMs these days, so AI matters.")
    assert not _gives_example(
        "As you do so, you’ll pick up a broader knowledge of the field (the Governance "
        "Fundamentals course is one good way of doing so)."
    )


async def test_an_example_is_not_a_name_the_asker_has_just_read(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    await ask(bot, "f2d", "what soft skills did james chua pick up at mats?")
    then = await ask(bot, "f2d", "any examples?")
    # "During MATS, you'll have access to Scholar Support…" was just quoted; the example the
    # post gives of a soft skill is the draft due by friday.
    assert any("draft out by friday" in c.quote for c in then.citations), then.text


async def test_an_example_of_what_the_author_did_names_who_it_was_with(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    await ask(
        bot, "f2c", "how can someone who isn't a strong researcher still contribute to a project?"
    )
    then = await ask(bot, "f2c", "any example?")
    # The instance the post gives of comparative advantage names the researcher helped.
    assert any("Joseph" in c.quote for c in then.citations), then.text


async def test_a_follow_up_on_a_list_goes_on_after_the_list(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(
        bot, "f3", "what resources does richard ngo recommend for upskilling at empirical research?"
    )
    assert any(c.quote == "ARENA" for c in first.citations) or "ARENA" in first.text
    then = await ask(bot, "f3", "what do they actually teach you?")
    assert any("Each of these teaches you important skills" in c.quote for c in then.citations), (
        then.text
    )


def test_the_second_one_points_at_the_second_item_shown() -> None:
    reply = (
        "Richard Ngo’s “AGI safety career advice” speaks to this:\n\n"
        "- “The most promising research falls into three categories.”\n"
        "    - “Scalable oversight: finding ways…”\n"
        "    - “Mechanistic interpretability: finding ways…”\n"
        "    - “Alignment theory: finding formal frameworks…” — in “Directions” [1]\n"
        "- “Most research won’t succeed.” — in “Alignment research” [2]"
    )
    past = history("which research directions are most promising?", reply)
    second = resolve("can you say more about the second one", past, TITLES)
    # A reply that quoted a list counts its items; "the second one" is no topic of its own.
    assert second.pointed.startswith("Mechanistic") and second.asks == MORE
    assert "second" not in second.own_text and "Mechanistic" in second.query
    assert resolve("and the last one?", past, TITLES).pointed.startswith("Alignment theory")
    # Without a list, the quotes count; "the first step" asks for a step.
    plain = history("how do i find jobs?", "x:\n\n- “A one.” [1]\n- “B two.” [2]")
    assert resolve("tell me more about the second one", plain, TITLES).pointed == "B two."
    assert not resolve("what's the first step", plain, TITLES).pointed


async def test_more_about_the_second_item_goes_on_with_that_item(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(
        bot, "o", "what research directions does richard ngo think are most promising?"
    )
    assert "Mechanistic interpretability: finding ways" in first.text, first.text
    more = await ask(bot, "o", "can you say more about the second one")
    # The rest of the mechanistic interpretability item, not the first item's.
    assert any("pushing the whole field of ML" in c.quote for c in more.citations), more.text
    assert not any("Scalable oversight" in c.quote for c in more.citations), more.text


def test_does_anyone_else_agree_asks_for_other_voices() -> None:
    past = history("should i study ML theory first?", "x:\n\n- “Upskilling isn’t efficient.” [1]")
    for others in (
        "does anyone else agree?",
        "does anyone disagree?",
        "did anyone push back on that?",
        "do others think so too?",
    ):
        ctx = resolve(others, past, TITLES)
        assert ctx.is_follow_up and ctx.asks == OTHERS, others
    # "think that" opening a clause of its own is not asking after the last reply.
    assert resolve("does anyone else think that a phd is useless?", past, TITLES).asks != OTHERS


async def test_does_anyone_else_agree_quotes_another_author_or_a_reply_to_the_claim(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(
        bot, "ag", "should i spend a few months studying ML theory before doing any research?"
    )
    assert all("technical AI safety" in c.title for c in first.citations), first.text
    agree = await ask(bot, "ag", "does anyone else agree?")
    # Another author on the same point, not the line that says "others agree" about debate.
    assert any("theoretical foundations first" in c.quote for c in agree.citations), agree.text
    assert not any("technical AI safety" in c.title for c in agree.citations), agree.text
    first = await ask(
        bot, "pb", "is alignment unusual because it has so many fans compared to researchers?"
    )
    assert any("base of fans" in c.quote for c in first.citations), first.text
    back = await ask(bot, "pb", "did anyone push back on that?")
    # The comment that quotes the claim is the pushback.
    assert any("popular physics books" in c.quote for c in back.citations), back.text


async def test_what_would_an_author_say_asks_the_question_before_of_that_author(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "rv", "how do i pick what to work on in AI safety?")
    assert first.covered, first.text
    view = await ask(bot, "rv", "what would richard ngo say?")
    # Not a question of its own (nothing to search once the name is read): his answer to it.
    assert view.covered and view.citations, view.text
    assert all("AGI safety career advice" in c.title for c in view.citations), view.text


async def test_the_first_step_follows_up_on_the_advice_just_given(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "fs", "how do i get into governance research?")
    assert all("AGI safety career advice" in c.title for c in first.citations), first.text
    step = await ask(bot, "fs", "what's the first step")
    # The step into governance research, not the job-hunting steps of another post.
    assert any("pick one relevant topic" in c.quote for c in step.citations), step.text


def test_a_step_is_asked_for_as_the_whole_question() -> None:
    past = history("how do i get into governance research?", "x:\n\n- “Pick a topic.” [1]")
    for asked in (
        "what's the first step",
        "what's the concrete first step?",
        "ok give me the concrete next step",
        "so where do i start",
        # were read as new questions and declined ("don't cover that")
        "what is the one thing i should do first",
        "first step this week?",
        # a bare "how?" asks how to act on the advice just given
        "how?",
        "but how?",
    ):
        ctx = resolve(asked, past, TITLES)
        # "step" names no topic: the search is the question before.
        assert ctx.is_follow_up and ctx.asks == STEP, asked
        assert ctx.query == "how do i get into governance research?", asked
    # A step toward a thing of its own is a question about that thing.
    assert resolve("what's the first step to get a visa?", past, TITLES).asks != STEP
    # After a reply without quotes (a decline) there is no advice to start from: the first
    # steps the posts give are asked for (it was declined again, as the question before).
    declined = history("hw do i get started w/ reserch if i have no publicatons", "I don't know.")
    ctx = resolve("what's the first step", declined, TITLES)
    assert ctx.asks != STEP and "first step" in ctx.query


async def test_the_first_step_is_a_step_of_the_advice_just_given(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    await ask(bot, "ns", "how do i get into governance research?")
    step = await ask(bot, "ns", "give me the concrete next step")
    # The section's recommendation leads, not what comes "eventually".
    assert "pick one relevant topic" in step.citations[0].quote, step.text
    assert not any(c.quote.startswith("Eventually") for c in step.citations), step.text
    await ask(bot, "bo", "i keep burning out doing research, what should i do?")
    step = await ask(bot, "bo", "what's the concrete first step?")
    # The step in the burnout advice quoted, not the job-hunting list that says "steps".
    assert "Do all the usual healthy things" in step.citations[0].quote, step.text


async def test_what_an_author_would_say_is_his_own_advice_not_comments_under_his_post(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "pm", "should i do a phd or mats?")
    assert not any("AGI safety career advice" in c.title for c in first.citations), first.text
    view = await ask(bot, "pm", "what would richard ngo say?")
    # His advice, read in his whole post: not a reader's comment on debate.
    assert view.citations, view.text
    assert all(c.author == "Richard Ngo" and not c.is_comment for c in view.citations), view.text
    assert not any("debate" in c.quote for c in view.citations), view.text


async def test_why_after_pointing_at_an_item_asks_about_that_item(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    await ask(bot, "ch", "what are the most promising alignment research directions?")
    await ask(bot, "ch", "say more about the second one")
    why = await ask(bot, "ch", "why")
    # Why mechanistic interpretability is promising, not the scalable oversight item's
    # reasons for recommending debate.
    first = why.citations[0].quote
    assert "behaviorist" in first or "easier to do outside industry labs" in first, why.text
    assert not any("debate" in c.quote for c in why.citations), why.text


async def test_more_about_an_item_quotes_its_rest_with_what_that_leans_on(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    await ask(bot, "fi", "what lessons did jay bailey learn in his first year?")
    more = await ask(bot, "fi", "can you say more about the first one")
    # "These two things determined…" is quoted with the item it points back at.
    assert more.citations, more.text
    assert not any(c.quote.startswith("These two things") for c in more.citations), more.text
    assert any("These two things determined" in c.quote for c in more.citations), more.text


async def test_what_the_last_reply_said_is_no_new_topic_of_a_follow_up(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    await ask(bot, "ys", "how do i find ai safety jobs?")
    own = await ask(bot, "ys", "you said job boards but what about making my own job?")
    # "job boards" is what the asker heard, not what they ask about.
    assert own.covered, own.text
    assert any("make your own opportunities" in c.quote for c in own.citations), own.text
    await ask(bot, "yv", "how do i find ai safety jobs?")
    visa = await ask(bot, "yv", "you said job boards but what about a visa?")
    assert not visa.covered and "visa" in visa.text, visa.text


async def test_a_non_technical_asker_is_quoted_the_posts_other_paths(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    # The search found Ngo's "many ways to pull on that lever…" passage, but its sentences,
    # ranked on the asker's words alone, lost to lines on coding and a reader's comment.
    for text in (
        "philosophy student, zero coding background. what could i do in ai safety?",
        "I can't code. Is there a place for me in AI safety?",
    ):
        answer = await ask(bot, text, text)
        assert any("operations and field-building" in c.quote for c in answer.citations), (
            answer.text
        )


def test_a_quote_shown_is_found_again_though_the_composer_would_pick_less_of_it(
    make_careerbot: MakeCareerBot,
) -> None:
    # "the second one?" was declined: picked again, the item lost to its first sentence alone.
    quote = (
        "Continue applying and aiming for bigger opportunities as your accomplishments grow. "
        "Repeat until you have a job that you like."
    )
    core = make_careerbot(knowledge_dir=REPO_KNOWLEDGE).answerer
    assert [s.text for s in core._quoted_again(quote)] == [quote]


async def test_the_first_one_when_its_paragraph_ends_there_is_shown_whole_with_a_note(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "p", "is my healthcare experience useful for ai governance?")
    assert first.citations
    # Was that quote again cut short, without its advice ("If you have it, lab governance
    # work may be a good fit for you."): the post says no more in that list item.
    pointed = await ask(bot, "p", "the first one?")
    assert ALL_IT_SAYS in pointed.notices, pointed.text
    assert [c.quote for c in pointed.citations] == [first.citations[0].quote]


async def test_more_about_a_quote_cut_mid_paragraph_goes_on_where_it_stopped(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    first = await ask(bot, "mp", "what lessons did jay bailey learn in his first year?")
    assert "Poor productivity is more likely to be situational" in first.text, first.text
    more = await ask(bot, "mp", "the second point?")
    # The rest of that item, not the item the asker has just read over again.
    quotes = [c.quote for c in more.citations]
    assert any(q.startswith("It’s worth considering how your situation") for q in quotes), quotes
    assert not any("Poor productivity" in q for q in quotes), quotes
    await ask(bot, "mh", "how do i get hands-on experience with ml?")
    more = await ask(bot, "mh", "say more about the first one pls")
    # The rest of "You’ll need to get hands-on." item, before any other item's advice.
    assert more.citations[0].quote.startswith("Even if you’re more theoretically-minded"), more.text


async def test_pointing_at_a_quote_asks_for_a_list_only_in_the_askers_words(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot(knowledge_dir=REPO_KNOWLEDGE)
    await ask(bot, "pl", "what advice does richard ngo give about governance research?")
    more = await ask(bot, "pl", "and the second one?")
    # The quote pointed at speaks of "other topics"; the asker did not ask for a list of them.
    assert more.citations, more.text
    assert "Eventually you’ll be able to do “strategy research”" in more.citations[0].quote, (
        more.text
    )
    assert not any("One cluster of topics" in c.quote for c in more.citations), more.text
