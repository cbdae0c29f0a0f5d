"""Pure Slack rendering and payload parsing: Markdown -> mrkdwn, limits, sources, commands."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.adapters.render_slack import (
    ACTION_FEEDBACK_DOWN,
    ACTION_FEEDBACK_UP,
    ACTION_SHARE,
    BLOCKS_PER_MESSAGE,
    SECTION_TEXT_LIMIT,
    citation_line,
    error_text,
    markdown_to_mrkdwn,
    render_answer,
    render_help,
    render_reload,
    render_status,
    split_mrkdwn,
)
from bot.adapters.slack_app import (
    clean_text,
    dm_key,
    mentions_user,
    question_from_event,
    thread_key,
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
)

POST = Citation(
    title="AGI safety career advice",
    author="Richard Ngo",
    url="https://www.alignmentforum.org/posts/ho63vCb2MNFijinzY/agi-safety-career-advice",
    quote="find a big lever",
    passage_id="p1",
    section="General mindset",
)
COMMENT = Citation(
    title="AGI safety career advice",
    author="Neel Nanda",
    url=None,
    quote="my guide to getting started",
    passage_id="p2",
    is_comment=True,
)


def _answer(text: str, **kw: object) -> Answer:
    fields: dict[str, object] = {
        "covered": True,
        "mode": "extractive",
        "citations": (POST, COMMENT),
        "answer_id": "a" * 32,
    }
    fields.update(kw)
    return Answer(text=text, **fields)  # type: ignore[arg-type]


def _all_blocks(messages: list) -> list[dict]:
    return [b for m in messages for b in m.blocks]


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("**Bold** and *italic*", "*Bold* and _italic_"),
        ("__also bold__", "*also bold*"),
        (
            "see [the guide](https://example.org/a?b=1&c=2)",
            "see <https://example.org/a?b=1&c=2|the guide>",
        ),
        ("[**Bold** label](https://x.org)", "<https://x.org|Bold label>"),
        ("<https://x.org/auto>", "<https://x.org/auto>"),
        ("- one\n- two\n  * nested", "• one\n• two\n  • nested"),
        ("# Heading\ntext", "*Heading*\ntext"),
        ("~~old~~ new", "~old~ new"),
        ("1 < 2 & 3 > 2", "1 &lt; 2 &amp; 3 &gt; 2"),
        ("`**kept** <x>`", "`**kept** &lt;x&gt;`"),
        ("```\n**kept**\n```", "```\n**kept**\n```"),
        ("a\n\n---\n\nb", "a\n\nb"),
    ],
)
def test_markdown_to_mrkdwn(markdown: str, expected: str) -> None:
    assert markdown_to_mrkdwn(markdown) == expected


def test_model_text_cannot_ping_channel_or_fake_links() -> None:
    out = markdown_to_mrkdwn("<!channel> hi <@U123> and <https://evil.example|trusted>")
    assert "<!channel>" not in out and "<@U123>" not in out
    assert "&lt;!channel&gt;" in out


def test_link_url_with_pipe_or_bracket_stays_one_link() -> None:
    out = markdown_to_mrkdwn("[t](https://x.org/a|b>c)")
    assert out.count("<") == 1 and out.count(">") == 1 and out.endswith("|t>")


def test_answer_has_sections_sources_and_feedback_buttons() -> None:
    [message] = render_answer(_answer("**Find your fit** first [1]. See also [2]."))
    kinds = [b["type"] for b in message.blocks]
    assert kinds == ["section", "context", "actions"]
    assert message.blocks[0]["text"]["text"] == "*Find your fit* first [1]. See also [2]."
    sources = [e["text"] for e in message.blocks[1]["elements"]]
    assert sources[0].startswith("*Sources*")
    assert f"<{POST.url}|AGI safety career advice>" in sources[0]
    assert "Richard Ngo" in sources[0] and "General mindset" in sources[0]
    assert sources[1].startswith("[2] *AGI safety career advice*")
    assert "Neel Nanda, comment on" in sources[1]  # comments never attributed to the author
    buttons = message.blocks[2]["elements"]
    assert [b["action_id"] for b in buttons] == [ACTION_FEEDBACK_UP, ACTION_FEEDBACK_DOWN]
    assert {b["value"] for b in buttons} == {"a" * 32}
    assert message.text.startswith("*Find your fit*")


def test_notices_come_first_and_share_button_is_optional() -> None:
    answer = _answer("text", notices=("I only read the first 2,000 characters.",))
    [message] = render_answer(answer, share_button=True)
    assert message.blocks[0]["type"] == "context"
    assert "first 2,000 characters" in message.blocks[0]["elements"][0]["text"]
    actions = message.blocks[-1]["elements"]
    assert actions[0]["action_id"] == ACTION_SHARE


def test_answer_without_id_or_citations_has_no_buttons_or_sources() -> None:
    [message] = render_answer(_answer("Not covered.", citations=(), answer_id=""))
    assert [b["type"] for b in message.blocks] == ["section"]


def test_long_answer_is_split_under_slack_limits() -> None:
    paragraph = "**Advice** " + ("Work on concrete projects with fast feedback loops. " * 40)
    text = "\n\n".join(f"{i}. {paragraph} [1](https://example.org/{i})" for i in range(120))
    assert len(text) > 200_000
    messages = render_answer(_answer(text), max_message_chars=12_000)
    assert len(messages) > 1
    for message in messages:
        assert len(message.blocks) <= BLOCKS_PER_MESSAGE
        assert (
            sum(len(b["text"]["text"]) for b in message.blocks if b["type"] == "section") <= 12_000
        )
        for block in message.blocks:
            if block["type"] == "section":
                assert 0 < len(block["text"]["text"]) <= SECTION_TEXT_LIMIT
        assert len(message.text) <= 3000
    rendered = "".join(b["text"]["text"] for b in _all_blocks(messages) if b["type"] == "section")
    for i in range(120):  # no link was cut in half
        assert f"<https://example.org/{i}|1>" in rendered
    assert messages[-1].blocks[-1]["type"] == "actions"
    assert all(b["type"] != "actions" for m in messages[:-1] for b in m.blocks)


def test_many_tiny_paragraphs_respect_block_count() -> None:
    text = "\n\n".join(("word " * 590).strip() for _ in range(80))
    messages = render_answer(_answer(text), max_message_chars=10**9)
    assert len(messages) >= 2
    assert all(len(m.blocks) <= BLOCKS_PER_MESSAGE for m in messages)


def test_escaping_growth_is_split_again() -> None:
    pieces = split_mrkdwn("&" * 2990 + " " + "<" * 2990)
    assert all(len(p) <= SECTION_TEXT_LIMIT for p in pieces)
    assert "".join(pieces).count("&amp;") == 2990


def test_status_help_reload_and_errors() -> None:
    status = Status(
        documents=3,
        passages=42,
        embedding_model="all-MiniLM-L6-v2",
        answer_mode="extractive",
        llm_model=None,
        last_reload=datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
        collection="careerbot_abc",
    )
    message = render_status(status)
    fields = " ".join(f["text"] for f in message.blocks[1]["fields"])
    assert "*Documents*\n3" in fields and "*Passages*\n42" in fields
    assert "all-MiniLM-L6-v2" in fields and "2025-01-02 03:04 UTC" in fields
    assert "/careerbot ask" in render_help().blocks[0]["text"]["text"]
    report = IngestReport(3, 42, 2, 1, 40, 2, 0.5, ("a.md",))
    assert "2 passages added" in render_reload(report).text
    assert "knowledge/bad.md: missing title" in error_text(
        IngestError("knowledge/bad.md", "missing title")
    )
    assert "still answering from the previous knowledge base" in error_text(IngestError("x", "y"))
    assert "admins" in error_text(NotAuthorized())
    assert "already running" in error_text(ReloadInProgress())
    assert "Ask me a question" in error_text(EmptyQuestion())
    assert "`/careerbot reload`" in error_text(IndexNotReady())
    assert "something went wrong" in error_text(RuntimeError("boom"))


def test_clean_text_and_keys() -> None:
    raw = (
        "<@U0BOT> how do I join <#C1|ai-safety>? see <https://x.org|this> &amp; <!here> <@U0ALICE>"
    )
    assert (
        clean_text(raw, "U0BOT")
        == "how do I join #ai-safety? see this (https://x.org) & @here @U0ALICE"
    )
    assert clean_text("<@U0BOT>", "U0BOT") == ""
    assert mentions_user("hi <@U0BOT>", "U0BOT") and not mentions_user("hi", "U0BOT")
    im = {
        "type": "message",
        "channel": "D1",
        "user": "U1",
        "text": "hi",
        "ts": "2",
        "channel_type": "im",
    }
    assert question_from_event(im, team_id="T", bot_user_id="U0BOT").conversation_key == dm_key(
        "T", "U1"
    )
    reply = {"channel": "C1", "user": "U1", "text": "x", "ts": "5", "thread_ts": "3"}
    q = question_from_event(reply, team_id="T", bot_user_id="U0BOT")
    assert q.conversation_key == thread_key("T", "C1", "3") and q.platform == "slack"


def test_blocks_pass_slack_sdk_validation() -> None:
    # slack_sdk's Block Kit models enforce Slack's documented field limits independently.
    from slack_sdk.models.blocks import Block

    long_text = "\n\n".join(("**Fit** matters [1]. " * 200) for _ in range(10))
    answer = _answer(long_text, notices=("I only read the first 2,000 characters.",))
    status = Status(3, 42, "all-MiniLM-L6-v2", "llm", "gpt-4o-mini", None, None)
    messages = [
        *render_answer(answer, share_button=True, header="<@U0ALICE> asked: x"),
        render_status(status),
        render_help(),
        render_reload(IngestReport(3, 42, 0, 0, 42, 0, 0.1)),
    ]
    for message in messages:
        for raw in message.blocks:
            parsed = Block.parse(raw)
            assert parsed is not None, raw
            parsed.validate_json()


def test_a_source_with_no_known_author_is_named_by_its_title() -> None:
    anonymous = Citation("Notes From A Blog", None, None, "q", "p", section="Lessons")
    assert citation_line(1, anonymous) == "[1] *Notes From A Blog* › Lessons"
    # A heading about the post itself ("Pre", "Post", "Footnotes") names no place to a reader.
    after = replace(anonymous, section="Post")
    assert citation_line(1, after) == "[1] *Notes From A Blog*"
    noted = replace(anonymous, section="Lessons > Footnotes")
    assert citation_line(1, noted) == "[1] *Notes From A Blog* › Lessons"
    commenter = Citation("Notes", None, None, "q", "c", is_comment=True)
    assert citation_line(2, commenter).endswith("· comment on “Notes”")
