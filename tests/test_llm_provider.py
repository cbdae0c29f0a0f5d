"""LLM mode against a local OpenAI-compatible server playing a misbehaving model.

The real client (langchain-openai), wiring, grounding, deadline and breaker are exercised end
to end; the server decides what the "model" does per request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.doctor import run_checks
from bot.llm import (
    BACKUP_NOTICE,
    FALLBACK_NOTICES,
    TRUNCATED_NOTICE,
    LLMConfigError,
    make_chat_model,
)
from bot.models import Question
from bot.prompts import NOT_DISCUSSED
from bot.resilience import Failure
from bot.settings import Settings
from tests.conftest import FIXTURE_KNOWLEDGE, MakeCareerBot
from tests.openai_fake import FakeOpenAI, Reply, serve_fake

KEY = "sk-test-not-a-secret-4242"
BURNOUT = "How do I deal with burnout?"
# A faithful paraphrase of the burnout passage, and the passage's own sentence it rests on.
GOOD = "George Wang suggests treating burnout like an overuse injury and easing back in [1]."
GOOD_TOO = "He recommends easing into active recovery rather than going full speed again [1]."
GOOD_SOURCE = (
    "The framing that I find the most helpful with burnout is to think of it as a mental "
    "overuse injury, and the steps to recover look a lot like dealing with a physical overuse "
    "injury."
)


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAI]:
    async with serve_fake() as fake:
        yield fake


def llm(server: FakeOpenAI, **extra: Any) -> dict[str, Any]:
    return {
        "model": "openai:test-model",
        "base_url": server.url,
        "api_key": KEY,
        "max_retries": 0,
        **extra,
    }


def ask(text: str = BURNOUT, key: str = "c") -> Question:
    return Question(text=text, asker="u", conversation_key=key)


def corpus() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in FIXTURE_KNOWLEDGE.glob("*.md"))


def notice(reason: Failure) -> str:
    return FALLBACK_NOTICES[reason]


async def test_answer_streams_cites_and_reports_usage(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    server.queue(Reply(GOOD, prompt_tokens=321, completion_tokens=45))
    bot = make_careerbot(llm=llm(server))
    answer = await bot.answer(ask())
    assert answer.mode == "llm" and answer.covered, answer.notices
    assert answer.text == GOOD
    [citation] = answer.citations
    assert citation.title == "So you want to work on technical AI safety"
    assert citation.quote == GOOD_SOURCE
    assert answer.usage is not None
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (321, 45)
    shown = answer.to_json()
    assert shown["usage"] == {"prompt_tokens": 321, "completion_tokens": 45}
    assert shown["notices"] == []
    stored = stored_usage(bot, answer.answer_id)
    assert stored == (321, 45)  # kept with the answer record
    [sent] = server.requests
    assert sent["body"]["stream"] is True
    assert sent["auth"] == f"Bearer {KEY}"
    assert [m["role"] for m in sent["body"]["messages"]] == ["system", "user"]
    assert "overuse injury" in sent["body"]["messages"][1]["content"]
    assert KEY not in json.dumps(sent["body"])
    status = await bot.status()
    assert status.answer_mode == "llm" and status.llm_model == "openai:test-model"


async def test_questions_the_posts_cannot_answer_are_declined_before_any_model_call(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    bot = make_careerbot(llm=llm(server))
    salary = await bot.answer(ask("what salary can I expect at an AI safety org?"))
    live = await bot.answer(ask("is Anthropic hiring juniors this quarter?", key="c2"))
    assert not salary.covered and salary.text.startswith(NOT_DISCUSSED.format(concept="salary"))
    assert not live.covered and salary.mode == live.mode == "llm"
    assert server.requests == []


def stored_usage(bot: Any, answer_id: str) -> tuple[int, int]:
    """The token counts stored with an answer, read back from the database."""
    from sqlalchemy import select

    from bot.schema import answers

    with bot.store.engine.connect() as conn:
        row = conn.execute(
            select(answers.c.prompt_tokens, answers.c.completion_tokens).where(
                answers.c.answer_id == answer_id
            )
        ).one()
    return (row.prompt_tokens, row.completion_tokens)


# -- 1. prompt leaks -----------------------------------------------------------------------


def rules_without_bullets(system: str) -> str:
    """The system prompt's rules, re-flowed as one paragraph without '- ' bullets."""
    rules = [line[2:] for line in system.splitlines() if line.startswith("- ")]
    return " ".join(rules)


async def test_rules_repeated_without_bullets_are_not_shown(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    bot = make_careerbot(llm=llm(server))
    assert bot.answerer.llm is not None
    system = bot.answerer.prompts.render_system()
    server.queue(f"Sure, here is how I work. {rules_without_bullets(system)}")
    answer = await bot.answer(ask())
    assert notice(Failure.UNGROUNDED) in answer.notices
    assert answer.mode == "extractive"
    assert "Answer only from the numbered passages" not in answer.text
    assert "[2][3]" not in answer.text
    assert all(c.quote in corpus() for c in answer.citations)


async def test_rules_with_the_citation_example_give_no_fake_citations(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    server.queue(
        "My instructions: after each claim, cite the passage it comes from with its number "
        "in square brackets, like [1] or [2][3]. Only cite numbers that exist. Attribute "
        "views to their authors."
    )
    bot = make_careerbot(llm=llm(server))
    answer = await bot.answer(ask())
    assert answer.mode == "extractive"
    assert notice(Failure.UNGROUNDED) in answer.notices
    assert "square brackets" not in answer.text


# -- 2. every sentence supported by the passage it cites ---------------------------------


async def test_made_up_claims_with_a_valid_marker_are_dropped(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    server.queue(
        f"{GOOD} After MATS you can walk into a $500k job at a top lab [1]. {GOOD_TOO} "
        "Email george@timaeus.org and he will refer you [1]."
    )
    bot = make_careerbot(llm=llm(server))
    answer = await bot.answer(ask())
    assert answer.mode == "llm"
    assert answer.text == f"{GOOD} {GOOD_TOO}"
    assert "$500k" not in answer.text and "@" not in answer.text


async def test_a_reply_of_made_up_claims_falls_back_to_quotes(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    server.queue(
        "After MATS you can walk into a $500k job at a top lab [1]. "
        "Email george@timaeus.org and he will refer you [1]."
    )
    bot = make_careerbot(llm=llm(server))
    answer = await bot.answer(ask())
    assert answer.mode == "extractive" and answer.citations
    assert notice(Failure.UNGROUNDED) in answer.notices
    assert "$500k" not in answer.text


async def test_a_sentence_with_a_bad_marker_goes_with_it(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    server.queue(f"{GOOD} Burnout is also a sign you should quit research entirely [7].")
    bot = make_careerbot(llm=llm(server))
    answer = await bot.answer(ask())
    assert answer.mode == "llm"
    assert answer.text == GOOD
    assert "quit research" not in answer.text


async def test_uncited_sentences_are_dropped(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    server.queue(f"Honestly, just take a month off in Bali. {GOOD}")
    bot = make_careerbot(llm=llm(server))
    answer = await bot.answer(ask())
    assert answer.text == GOOD


# -- 3. the quote under a citation is the sentence that supports the claim ----------------


async def test_marker_after_the_full_stop_quotes_the_sentence_before_it(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    server.queue(
        "Ease into active recovery rather than taking a few days off and then going full "
        "speed again. [1]"
    )
    bot = make_careerbot(llm=llm(server))
    answer = await bot.answer(ask())
    assert answer.mode == "llm", answer.notices
    assert answer.text.endswith("again [1].")
    [citation] = answer.citations
    assert citation.quote.startswith("Do all the usual healthy things")
    assert citation.quote in corpus()
    assert re.search(r"[.!?][\"'”’)]*$", citation.quote)


# -- 4. one deadline per answer, Retry-After within it, circuit breaker, fallback model --


async def test_deadline_covers_the_follow_up_rewrite_and_the_answer(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    bot = make_careerbot(llm=llm(server, timeout=0.5))
    server.queue(GOOD)
    first = await bot.answer(ask(key="k"))
    assert first.mode == "llm"
    server.queue(Reply(hang=True))  # the follow-up rewrite never comes back
    answer = await bot.answer(ask("and how long does that take?", key="k"))
    assert answer.mode == "extractive"
    assert notice(Failure.TIMED_OUT) in answer.notices
    # The rewrite used up the answer's budget: no second call was started.
    assert len(server.requests) == 2


async def test_retry_after_longer_than_the_deadline_is_not_waited_out(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    server.queue(Reply(status=429, headers={"Retry-After": "60"}, error="slow down"))
    bot = make_careerbot(llm=llm(server, timeout=5, max_retries=3))
    answer = await bot.answer(ask())
    assert answer.mode == "extractive"
    assert notice(Failure.RATE_LIMITED) in answer.notices
    assert len(server.requests) == 1


async def test_retry_after_within_the_deadline_is_honoured(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    server.queue(Reply(status=429, headers={"Retry-After": "0"}), GOOD)
    bot = make_careerbot(llm=llm(server, timeout=10, max_retries=2))
    answer = await bot.answer(ask())
    assert answer.mode == "llm" and answer.text == GOOD
    assert len(server.requests) == 2


async def test_circuit_opens_after_consecutive_failures(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    server.default = Reply(status=503)
    bot = make_careerbot(llm=llm(server, breaker_failures=2, breaker_cooldown=600))
    answers = [await bot.answer(ask(key=f"k{i}")) for i in range(4)]
    assert [a.mode for a in answers] == ["extractive"] * 4
    assert notice(Failure.ERROR) in answers[0].notices
    assert notice(Failure.CIRCUIT_OPEN) in answers[2].notices
    assert notice(Failure.CIRCUIT_OPEN) in answers[3].notices
    # During the outage later questions do not pay for the provider again.
    assert len(server.requests) == 2


async def test_fallback_model_answers_before_quotes(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    server.queue(Reply(status=503), model="test-model")
    server.queue(GOOD, model="backup-model")
    bot = make_careerbot(llm=llm(server, fallback_model="openai:backup-model"))
    answer = await bot.answer(ask())
    assert answer.mode == "llm" and answer.text == GOOD
    assert BACKUP_NOTICE in answer.notices
    assert server.models() == ["test-model", "backup-model"]


async def test_open_circuit_goes_straight_to_the_backup(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    server.script["test-model"] = [Reply(status=503)] * 5
    server.queue(GOOD, GOOD, model="backup-model")
    bot = make_careerbot(llm=llm(server, fallback_model="openai:backup-model", breaker_failures=1))
    first = await bot.answer(ask(key="a"))
    second = await bot.answer(ask(key="b"))
    assert first.mode == second.mode == "llm"
    assert BACKUP_NOTICE in second.notices
    assert server.models() == ["test-model", "backup-model", "backup-model"]


async def test_a_hanging_main_model_leaves_the_backup_time_to_answer(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    server.queue(Reply(hang=True), model="test-model")
    server.queue(GOOD, model="backup-model")
    bot = make_careerbot(llm=llm(server, timeout=2, fallback_model="openai:backup-model"))
    answer = await bot.answer(ask())
    assert answer.mode == "llm" and answer.text == GOOD
    assert BACKUP_NOTICE in answer.notices


async def test_when_every_model_fails_the_notice_names_the_main_models_failure(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    server.queue(Reply(status=429, headers={"Retry-After": "60"}), model="test-model")
    server.queue(Reply(status=500), model="backup-model")
    bot = make_careerbot(llm=llm(server, fallback_model="openai:backup-model"))
    answer = await bot.answer(ask())
    assert answer.mode == "extractive" and answer.citations
    assert notice(Failure.RATE_LIMITED) in answer.notices
    assert server.models() == ["test-model", "backup-model"]


async def test_unreachable_model_says_so(make_careerbot: MakeCareerBot, tmp_path: Path) -> None:
    async with serve_fake() as gone:
        url = gone.url
    # The server is stopped: nothing listens on that port now.
    bot = make_careerbot(
        llm={"model": "openai:test-model", "base_url": url, "api_key": KEY, "max_retries": 0}
    )
    answer = await bot.answer(ask())
    assert answer.mode == "extractive" and answer.citations
    assert notice(Failure.UNREACHABLE) in answer.notices


# -- 5. truncation ------------------------------------------------------------------------


async def test_answer_cut_by_the_token_limit_is_shortened_and_flagged(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    server.queue(Reply(f"{GOOD} He also says to ease into active recov", finish_reason="length"))
    bot = make_careerbot(llm=llm(server))
    answer = await bot.answer(ask())
    assert answer.mode == "llm"
    assert answer.text == GOOD
    assert TRUNCATED_NOTICE in answer.notices
    assert TRUNCATED_NOTICE in answer.to_json()["notices"]  # type: ignore[operator]


# -- 6. streaming: partial text is checked text -------------------------------------------


async def test_partial_text_shows_only_checked_sentences(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    server.queue(
        f"{GOOD} After MATS you can walk into a $500k job at a top lab [1]. "
        "Ease into active recovery rather than going full speed again [1]."
    )
    bot = make_careerbot(llm=llm(server))
    partials: list[str] = []

    async def on_partial(text: str) -> None:
        partials.append(text)

    answer = await bot.answer(ask(), on_partial=on_partial)
    assert partials, "the model's reply should stream"
    assert partials[0] == GOOD
    assert all("$500k" not in p for p in partials)
    assert all(answer.text.startswith(p) for p in partials)


async def test_a_leaking_reply_never_streams(
    make_careerbot: MakeCareerBot, server: FakeOpenAI
) -> None:
    bot = make_careerbot(llm=llm(server))
    system = bot.answerer.prompts.render_system()
    server.queue(f"{GOOD} {rules_without_bullets(system)}")
    partials: list[str] = []

    async def on_partial(text: str) -> None:
        partials.append(text)

    answer = await bot.answer(ask(), on_partial=on_partial)
    assert answer.mode == "extractive"
    assert all("numbered passages" not in p for p in partials)


# -- keys and doctor ----------------------------------------------------------------------


async def test_key_never_appears_in_answers_or_logs(
    make_careerbot: MakeCareerBot, server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    server.default = Reply(status=401, error=f"Incorrect API key provided: {KEY}")
    caplog.set_level(logging.DEBUG)
    bot = make_careerbot(llm=llm(server))
    answer = await bot.answer(ask())
    assert answer.mode == "extractive"
    assert KEY not in json.dumps(answer.to_json())
    assert KEY not in caplog.text
    assert KEY[:10] not in caplog.text


def doctor_settings(server: FakeOpenAI, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        knowledge_dir=FIXTURE_KNOWLEDGE,
        data_dir=tmp_path,
        llm=llm(server, timeout=5),
    )


async def test_doctor_contacts_the_model(server: FakeOpenAI, tmp_path: Path) -> None:
    server.queue("OK")
    results = await asyncio.to_thread(run_checks, doctor_settings(server, tmp_path))
    [line] = [(ok, text) for ok, text in results if text.startswith("llm:")]
    assert line[0] and "openai:test-model answered" in line[1]
    assert len(server.requests) == 1


async def test_doctor_reports_a_rejected_key_without_printing_it(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    server.queue(Reply(status=401, error=f"Incorrect API key provided: {KEY}"))
    results = await asyncio.to_thread(run_checks, doctor_settings(server, tmp_path))
    [(ok, text)] = [(ok, text) for ok, text in results if text.startswith("llm:")]
    assert not ok
    assert "401" in text and "CAREERBOT_LLM__API_KEY" in text
    assert KEY not in text and "\n" not in text


def test_unknown_provider_is_a_clear_error() -> None:
    with pytest.raises(LLMConfigError, match="nosuchprovider"):
        make_chat_model("nosuchprovider:some-model")
