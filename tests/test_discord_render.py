"""Pure Discord renderers: markdown, sources, splitting, notices, status, errors."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from bot.adapters.render_discord import (
    MESSAGE_LIMIT,
    render_answer,
    render_error,
    render_forget,
    render_help,
    render_my_data,
    render_reload,
    render_sources,
    render_status,
    to_discord_markdown,
)
from bot.models import (
    Answer,
    Citation,
    EmptyQuestion,
    IndexNotReady,
    IngestError,
    IngestReport,
    NotAuthorized,
    ReloadInProgress,
    Status,
    StoredData,
)

NGO = Citation(
    title="AGI safety career advice",
    author="Richard Ngo",
    url="https://www.alignmentforum.org/posts/ho63vCb2MNFijinzY/agi-safety-career-advice",
    quote="find a big lever",
    passage_id="p1",
)
COMMENT = Citation(
    title="My MATS Summer 2023 experience",
    author="Jane Doe",
    url="https://www.lesswrong.com/posts/DQDLPyPXyYiD8XSMu/x?commentId=abc",
    quote="Apply anyway.",
    passage_id="p2",
    is_comment=True,
)
NO_URL = Citation(
    title="So you want to work on technical AI safety",
    author="George Wang (Timaeus)",
    url=None,
    quote="q",
    passage_id="p3",
)
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(<[^>\s]+>\)")


def _answer(text: str, *citations: Citation, notices: tuple[str, ...] = ()) -> Answer:
    return Answer(text=text, covered=True, mode="llm", citations=citations, notices=notices)


def test_renderer_is_pure_and_does_not_import_discord() -> None:
    code = "import sys, bot.adapters.render_discord; print('discord' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_sources_are_linked_titles_with_attribution_and_no_previews() -> None:
    text = render_sources([NGO, COMMENT, NO_URL])
    lines = text.splitlines()
    assert lines[0] == "**Sources**"
    assert lines[1] == f"1. [AGI safety career advice](<{NGO.url}>) — Richard Ngo"
    # A comment is attributed to the commenter, never to the post's author.
    assert (
        lines[2] == f"2. [Jane Doe, comment on “My MATS Summer 2023 experience”](<{COMMENT.url}>)"
    )
    assert lines[3] == "3. So you want to work on technical AI safety — George Wang (Timaeus)"


def test_links_and_bare_urls_are_wrapped_to_suppress_previews() -> None:
    text = to_discord_markdown(
        "See [80,000 Hours](https://80000hours.org/ai) and https://www.matsprogram.org. "
        "Also (https://en.wikipedia.org/wiki/AI_safety), "
        "https://en.wikipedia.org/wiki/Alignment_(AI) and <https://example.org/x>. "
        "Code: `https://not.a.link/keep`"
    )
    assert "[80,000 Hours](<https://80000hours.org/ai>)" in text
    assert "<https://www.matsprogram.org>." in text
    assert "(<https://en.wikipedia.org/wiki/AI_safety>)," in text
    assert "<https://en.wikipedia.org/wiki/Alignment_%28AI%29>" in text
    assert "<https://example.org/x>." in text
    assert "`https://not.a.link/keep`" in text
    assert "<<" not in text


def test_code_blocks_and_deep_headings() -> None:
    text = to_discord_markdown("#### Next steps\nDo it.\n```\nhttps://x.org/in-code\n```")
    assert text.startswith("**Next steps**\nDo it.")
    assert "```\nhttps://x.org/in-code\n```" in text


def test_notices_come_first_and_answer_keeps_markers() -> None:
    messages = render_answer(
        _answer(
            "Find a **big lever** [1].",
            NGO,
            notices=("Your message was long, so I only read its first 2,000 characters.",),
        )
    )
    assert len(messages) == 1
    notice, body, sources = messages[0].split("\n\n")
    assert notice == ("ℹ️ *Your message was long, so I only read its first 2,000 characters.*")
    assert body == "Find a **big lever** [1]."
    assert sources.startswith("**Sources**\n1. [AGI safety career advice]")


def test_asked_question_is_quoted_for_slash_commands() -> None:
    (message,) = render_answer(_answer("Yes [1].", NGO), asked="Should I  do\nMATS?")
    assert message.startswith("> Should I do MATS?\n\nYes [1].")


def test_long_answer_splits_under_limit_never_mid_link() -> None:
    paragraph = (
        "Test your fit with a short project [1], then read [the MATS write-up]"
        "(https://www.lesswrong.com/posts/DQDLPyPXyYiD8XSMu/my-mats-summer-2023-experience) "
        "and apply widely. "
    )
    text = "\n\n".join(paragraph * 3 for _ in range(12))
    messages = render_answer(_answer(text, NGO, COMMENT))
    assert len(messages) > 2
    assert all(len(m) <= MESSAGE_LIMIT for m in messages)
    for message in messages:
        # Every "[label](" that opens in a message is closed in the same message.
        assert message.count("](<") == len(MARKDOWN_LINK.findall(message))
    assert messages[-1].endswith(
        f"2. [Jane Doe, comment on “My MATS Summer 2023 experience”](<{COMMENT.url}>)"
    )
    joined = " ".join(messages)
    assert joined.count("apply widely") == 36
    assert joined.count("[the MATS write-up](<https://www.lesswrong.com/posts/") == 36


def test_titles_with_markdown_are_escaped() -> None:
    odd = Citation(
        title="The *real* [draft] _guide_",
        author=None,
        url="https://x.org/a b",
        quote="q",
        passage_id="p",
    )
    line = render_sources([odd]).splitlines()[1]
    # With no author known, the title alone names the post ("— author unknown" reads oddly).
    assert line == r"1. [The \*real\* (draft) \_guide\_](<https://x.org/a%20b>)"


def test_status_lists_guides_within_limit() -> None:
    status = Status(
        documents=3,
        passages=42,
        embedding_model="all-MiniLM-L6-v2",
        answer_mode="extractive",
        llm_model=None,
        last_reload=datetime(2026, 11, 21, 12, 0, tzinfo=UTC),
        collection="c",
        titles=tuple(f"Guide number {i} with a fairly long title" for i in range(200)),
    )
    text = render_status(status)
    assert len(text) <= MESSAGE_LIMIT
    assert "3 documents, 42 passages" in text
    assert f"<t:{int(status.last_reload.timestamp())}:R>" in text  # type: ignore[union-attr]
    assert "no language model" in text
    assert re.search(r"…and \d+ more$", text)


def test_reload_and_forget_texts() -> None:
    report = IngestReport(3, 40, 2, 1, 37, 2, 1.25, ("career-mindset.md",))
    assert render_reload(report) == f"✅ {report.summary()}"
    assert render_forget(StoredData()).startswith("There was nothing to forget")
    one = StoredData(messages=1, answers=1, feedback=2)
    assert "deleted 1 message, 1 answer record, 2 feedback clicks and 0 shareable" in (
        render_forget(one)
    )
    at = datetime(2026, 11, 1, tzinfo=UTC)
    kept = StoredData(messages=4, oldest=at, newest=at.replace(day=26))
    assert "4 messages" in render_my_data(kept)
    assert "(from 2026-11-01 to 2026-11-26)" in render_my_data(kept)
    assert render_my_data(StoredData()) == "I keep nothing about you right now."


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (EmptyQuestion("blank"), "didn't ask anything"),
        (IngestError("knowledge/bad.md", "missing title", 3), "knowledge/bad.md:3: missing title"),
        (ReloadInProgress("busy"), "already running"),
        (IndexNotReady("no index"), "careerbot ingest"),
        (NotAuthorized(), "only the bot's admins"),
        (RuntimeError("secret internals"), "something went wrong"),
    ],
)
def test_errors_map_to_friendly_text(error: BaseException, expected: str) -> None:
    text = render_error(error)
    assert expected in text
    assert "secret internals" not in text
    assert len(text) <= MESSAGE_LIMIT


def test_failed_reload_says_old_index_still_answers() -> None:
    text = render_error(IngestError("knowledge/bad.md", "bad front matter"))
    assert "still answering from the previous knowledge base" in text


def test_help_mentions_the_bot_and_commands() -> None:
    text = render_help("<@123>")
    assert "<@123> How do I" in text
    for command in ("/ask", "/forget", "/status", "/help", "/reload"):
        assert command in text


def test_a_code_block_split_across_messages_is_closed_and_reopened() -> None:
    code = "\n".join(f"step_{i} = run(step_{i - 1})  # line {i}" for i in range(1, 120))
    text = f"Try this:\n\n```python\n{code}\n```\n\nThen check the output."
    answer = Answer(text=text, covered=True, mode="llm")

    messages = render_answer(answer, limit=1000)

    assert len(messages) >= 3
    for message in messages:
        assert len(message) <= 1000
        fences = [line for line in message.splitlines() if line.startswith("```")]
        assert len(fences) % 2 == 0, message  # every block it opens, it closes
    for later in messages[1:-1]:
        assert later.startswith("```python\n")
    inside = [
        line for message in messages for line in message.splitlines() if line.startswith("step_")
    ]
    assert inside == code.splitlines()  # no code line lost or duplicated
    assert messages[-1].rstrip().endswith("Then check the output.")
