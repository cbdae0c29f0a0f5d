"""Pure functions turning core results into Slack Block Kit messages (no I/O, no slack_sdk)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from bot.adapters.textsplit import split_text
from bot.admin import DryRunReport, RollbackReport
from bot.models import (
    FEEDBACK_NOTED,
    FEEDBACK_REASONS,
    MAX_REASON_CHARS,
    Answer,
    Citation,
    IngestReport,
    Status,
    StoredData,
    Suggestion,
)
from bot.report import Report, report_sections
from bot.suggestions import readable_section
from bot.user_messages import Surface, error_message

Block = dict[str, Any]

# Slack's documented limits (https://docs.slack.dev/reference/block-kit/blocks).
SECTION_TEXT_LIMIT: Final = 3000
BLOCKS_PER_MESSAGE: Final = 50
CONTEXT_ELEMENTS_LIMIT: Final = 10
BUTTON_VALUE_LIMIT: Final = 2000
# Fallback `text` is what notifications and screen readers show; keep it readable, not huge.
FALLBACK_TEXT_LIMIT: Final = 3000
DEFAULT_MAX_MESSAGE_CHARS: Final = 12000

# action_ids the app listens for; kept here so the renderer and the handlers agree.
ACTION_FEEDBACK_UP: Final = "careerbot_feedback_up"
ACTION_FEEDBACK_DOWN: Final = "careerbot_feedback_down"
ACTION_SHARE: Final = "careerbot_share"
FEEDBACK_BLOCK_ID: Final = "careerbot_feedback"
# One action_id per suggestion (careerbot_suggest_0..2); the app matches them by pattern.
ACTION_SUGGEST_PREFIX: Final = "careerbot_suggest_"
ACTION_SUGGEST_PATTERN: Final = re.compile(r"^careerbot_suggest_\d+$")
SUGGESTIONS_BLOCK_ID: Final = "careerbot_suggestions"
# Slack cuts a button's text at 75 characters; the value carries the whole question.
BUTTON_TEXT_LIMIT: Final = 75

THINKING_TEXT: Final = "_Thinking…_ :hourglass_flowing_sand:"
# The AI-app surface: the status under the thread while answering, and the opening lines.
ASSISTANT_STATUS: Final = "is reading the posts…"
ASSISTANT_PROMPTS_TITLE: Final = "Questions the posts answer:"
ASSISTANT_GREETING: Final = (
    "Hi! I answer questions about careers in AI safety from a curated set of advice posts, "
    "and show where each answer comes from. Pick a question below or ask your own."
)
EMPTY_MENTION_TEXT: Final = (
    "Hi! Ask me a question after the mention, e.g. "
    "`@careerbot how do I get started in AI safety research?` "
    "or try `/careerbot help`."
)
EXPIRED_ANSWER_TEXT: Final = (
    "Sorry, I no longer have that answer (I may have restarted). Please ask again."
)
FEEDBACK_THANKS_UP: Final = FEEDBACK_NOTED  # the same words on every platform
FEEDBACK_THANKS_DOWN: Final = FEEDBACK_NOTED


@dataclass(frozen=True)
class SlackMessage:
    """One message to send: fallback text plus Block Kit blocks."""

    text: str
    blocks: tuple[Block, ...]


# --- Markdown -> mrkdwn -------------------------------------------------------------------

_CODE_FENCE = re.compile(r"```.*?```", re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]+`")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\(\s*(?:<([^>\s]+)>|([^)\s]+))(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+|mailto:[^>\s]+)>")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC_STAR = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+", re.MULTILINE)
_HRULE = re.compile(r"^[ \t]{0,3}([-*_])([ \t]*\1){2,}[ \t]*$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack treats as control characters in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str, label: str | None = None) -> str:
    """A Slack link `<url|label>`; characters that would end the link early are encoded."""
    safe_url = quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")
    if not label:
        return f"<{safe_url}>"
    return f"<{safe_url}|{escape_mrkdwn(label).replace('|', '¦')}>"


def markdown_to_mrkdwn(markdown: str) -> str:
    """Convert the core's Markdown (bold, italics, links, lists, headings) to Slack mrkdwn.

    Everything that is not markup is escaped, so model or user text can never produce a
    `<!channel>` ping or a fake link.
    """
    tokens: list[str] = []

    def stash(value: str) -> str:
        tokens.append(value)
        return f"\x00{len(tokens) - 1}\x00"

    text = markdown.replace("\x00", "")
    # Code is kept verbatim (only escaped): no markup conversion inside it.
    text = _CODE_FENCE.sub(lambda m: stash(escape_mrkdwn(m.group(0))), text)
    text = _CODE_SPAN.sub(lambda m: stash(escape_mrkdwn(m.group(0))), text)
    text = _MD_LINK.sub(
        lambda m: stash(slack_link(m.group(2) or m.group(3), _plain(m.group(1)))), text
    )
    text = _AUTOLINK.sub(lambda m: stash(slack_link(m.group(1))), text)
    text = _HRULE.sub("", text)
    text = escape_mrkdwn(text)
    text = _HEADING.sub(lambda m: f"**{m.group(1).strip('*')}**", text)
    text = _BULLET.sub(lambda m: f"{m.group(1)}• ", text)
    text = _inline(text)
    while _PLACEHOLDER.search(text):
        text = _PLACEHOLDER.sub(lambda m: tokens[int(m.group(1))], text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _plain(label: str) -> str:
    # Link labels can't carry formatting in Slack; drop the emphasis markers.
    return _BOLD.sub(r"\2", label).strip()


def _inline(text: str) -> str:
    # Italics first: once bold becomes `*x*`, single stars mean bold in mrkdwn.
    text = _ITALIC_STAR.sub(r"_\1_", text)
    text = _BOLD.sub(r"*\2*", text)
    return _STRIKE.sub(r"~\1~", text)


def split_mrkdwn(markdown: str, limit: int = SECTION_TEXT_LIMIT) -> list[str]:
    """Convert Markdown to mrkdwn pieces of at most `limit` characters each.

    Splitting happens on the Markdown (where `split_text` knows the link syntax) and each
    piece is converted; a piece that grew past the limit (escaping) is split again smaller.
    """
    return _split_converted(markdown, limit, limit)


def _split_converted(markdown: str, split_at: int, limit: int) -> list[str]:
    pieces: list[str] = []
    for chunk in split_text(markdown, split_at):
        converted = markdown_to_mrkdwn(chunk)
        if len(converted) <= limit:
            if converted:
                pieces.append(converted)
            continue
        smaller = min(int(split_at * limit / len(converted)) - 20, len(chunk) // 2)
        if smaller < 10:  # cannot happen with real text; never exceed the limit regardless
            pieces.append(converted[:limit])
            continue
        pieces.extend(_split_converted(chunk, smaller, limit))
    return pieces


# --- blocks ---------------------------------------------------------------------------------


def _section(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn[:SECTION_TEXT_LIMIT]}}


def _context(elements: Iterable[str]) -> list[Block]:
    items = [{"type": "mrkdwn", "text": e[:SECTION_TEXT_LIMIT]} for e in elements if e]
    return [
        {"type": "context", "elements": items[i : i + CONTEXT_ELEMENTS_LIMIT]}
        for i in range(0, len(items), CONTEXT_ELEMENTS_LIMIT)
    ]


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value[:BUTTON_VALUE_LIMIT],
    }
    if style:
        button["style"] = style
    return button


def citation_line(number: int, citation: Citation) -> str:
    """One source as shown under an answer: `[n] <url|Title> · attribution`."""
    title = citation.title or "Untitled"
    shown = slack_link(citation.url, title) if citation.url else f"*{escape_mrkdwn(title)}*"
    where = readable_section(citation.section)
    section = f" › {escape_mrkdwn(where)}" if where else ""
    if not (citation.author or citation.is_comment):
        return f"[{number}] {shown}{section}"  # no "author unknown": the title names it
    return f"[{number}] {shown}{section} · {escape_mrkdwn(citation.attribution)}"


def sources_blocks(citations: Sequence[Citation]) -> list[Block]:
    """Context block(s) listing the answer's sources with linked titles and attribution."""
    if not citations:
        return []
    lines = [citation_line(i, c) for i, c in enumerate(citations, start=1)]
    return _context([f"*Sources*  {lines[0]}", *lines[1:]])


def feedback_block(answer_id: str, *, share: bool = False) -> Block | None:
    """👍/👎 buttons carrying the answer id (plus "Share in channel" for ephemeral answers)."""
    if not answer_id:
        return None
    elements = [
        _button("👍 Helpful", ACTION_FEEDBACK_UP, answer_id),
        _button("👎 Not helpful", ACTION_FEEDBACK_DOWN, answer_id),
    ]
    if share:
        elements.insert(0, _button("Share in channel", ACTION_SHARE, answer_id, "primary"))
    return {"type": "actions", "block_id": FEEDBACK_BLOCK_ID, "elements": elements}


def suggestions_block(suggestions: Sequence[Suggestion]) -> Block | None:
    """Up to three buttons, one per suggested question; clicking one asks it in the thread."""
    if not suggestions:
        return None
    elements = []
    for i, suggestion in enumerate(suggestions):
        label = suggestion.text
        if len(label) > BUTTON_TEXT_LIMIT:
            label = label[: BUTTON_TEXT_LIMIT - 1].rstrip() + "…"
        elements.append(_button(label, f"{ACTION_SUGGEST_PREFIX}{i}", suggestion.text))
    return {"type": "actions", "block_id": SUGGESTIONS_BLOCK_ID, "elements": elements}


def render_answer(
    answer: Answer,
    *,
    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
    share_button: bool = False,
    feedback: bool = True,
    header: str | None = None,
    mentor_button: bool = False,
    suggestions: bool = True,
) -> list[SlackMessage]:
    """Render an Answer as one or more Slack messages within Slack's limits.

    Notices go on top of the first message; sources, the feedback buttons, "Ask a mentor"
    and the suggested questions go at the end of the last one. `header` (mrkdwn) is an
    optional context line on top, e.g. who shared. An ephemeral answer (`share_button`)
    offers no suggestions: it belongs to no conversation a click could continue.
    """
    max_message_chars = max(max_message_chars, SECTION_TEXT_LIMIT)
    top: list[Block] = []
    if header:
        top.extend(_context([header]))
    top.extend(_context(f":information_source: {escape_mrkdwn(n)}" for n in answer.notices))
    tail: list[Block] = list(sources_blocks(answer.citations))
    buttons = feedback_block(answer.answer_id, share=share_button) if feedback else None
    if buttons:
        tail.append(buttons)
    mentor = mentor_block(answer.answer_id) if mentor_button else None
    if mentor:
        tail.append(mentor)
    offered = suggestions_block(answer.suggestions) if suggestions and not share_button else None
    if offered:
        tail.append(offered)
    sections = split_mrkdwn(answer.text) or ["_(empty answer)_"]
    return _pack(top, sections, tail, max_message_chars)


def _pack(
    top: list[Block], sections: list[str], tail: list[Block], max_chars: int
) -> list[SlackMessage]:
    messages: list[SlackMessage] = []
    blocks: list[Block] = list(top)
    texts: list[str] = []
    used = 0
    for piece in sections:
        full = len(blocks) >= BLOCKS_PER_MESSAGE or (bool(texts) and used + len(piece) > max_chars)
        if full:
            messages.append(_message(blocks, texts))
            blocks, texts, used = [], [], 0
        blocks.append(_section(piece))
        texts.append(piece)
        used += len(piece)
    if len(blocks) + len(tail) > BLOCKS_PER_MESSAGE:
        messages.append(_message(blocks, texts))
        blocks, texts = [], []
    blocks.extend(tail)
    messages.append(_message(blocks, texts))
    return messages


def _message(blocks: list[Block], texts: list[str]) -> SlackMessage:
    fallback = "\n\n".join(texts) or _context_text(blocks) or "careerbot"
    if len(fallback) > FALLBACK_TEXT_LIMIT:
        fallback = fallback[: FALLBACK_TEXT_LIMIT - 1] + "…"
    return SlackMessage(text=fallback, blocks=tuple(blocks))


def _context_text(blocks: Sequence[Block]) -> str:
    parts = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    return "\n".join(parts)


def render_text(mrkdwn: str) -> SlackMessage:
    """A plain one-section message (help line, refusal, error, acknowledgement)."""
    return SlackMessage(text=mrkdwn[:FALLBACK_TEXT_LIMIT], blocks=(_section(mrkdwn),))


def render_assistant_greeting() -> SlackMessage:
    """The first message in a new assistant thread."""
    return render_text(ASSISTANT_GREETING)


def render_partial(markdown: str) -> SlackMessage:
    """Streamed text while the model writes: checked sentences so far, marked unfinished."""
    mrkdwn = markdown_to_mrkdwn(markdown)
    if len(mrkdwn) > SECTION_TEXT_LIMIT - 2:
        mrkdwn = mrkdwn[: SECTION_TEXT_LIMIT - 2].rsplit(" ", 1)[0]
    return render_text(f"{mrkdwn} …")


# --- commands -------------------------------------------------------------------------------

HELP_TEXT: Final = "\n".join(
    [
        "*careerbot* answers questions about careers in AI safety from a curated reading list,"
        " with sources.",
        "• Mention me in a channel (`@careerbot …`): I answer in the thread; reply in that thread"
        " to follow up.",
        "• Send me a direct message: every message continues our conversation.",
        "• `/careerbot ask <question>`: an answer only you see, with a button to share it.",
        "• `/careerbot status`: what the knowledge base holds.",
        "• `/careerbot reload`: re-read the knowledge base (admins only); "
        "`/careerbot reload dry-run` shows what would change, `/careerbot rollback` returns "
        "to the previous version.",
        "• `/careerbot autoanswer on|off|status`: answer every question in this channel without"
        " a mention, or stop (admins; for channels the bot is set up to auto-answer).",
        "• `/careerbot report [7d]`: what I declined, 👎 reasons, posts never cited (admins only).",
        "• `/careerbot my-data`: what I keep about you; `/careerbot forget` deletes it.",
        "• `/careerbot help`: this message.",
    ]
)


def render_my_data(data: StoredData) -> SlackMessage:
    """`/careerbot my-data`: what is kept about the caller, and for how long."""
    if data.total == 0:
        return render_text("I keep nothing about you right now.")
    return render_text(
        f"I keep {data.describe()} about you. Old conversations are deleted automatically; "
        "`/careerbot forget` deletes them now."
    )


def render_forgotten(data: StoredData) -> SlackMessage:
    """`/careerbot forget`: what was deleted."""
    if data.total == 0:
        return render_text("There was nothing to forget: I kept nothing about you.")
    return render_text(f"Done: I deleted {data.describe()}. Your next question starts fresh.")


def render_help() -> SlackMessage:
    """The `/careerbot help` text."""
    return render_text(HELP_TEXT)


def render_status(status: Status) -> SlackMessage:
    """Index size, documents, models and last reload as a fields section."""
    mode = f"{status.answer_mode} ({status.llm_model})" if status.llm_model else status.answer_mode
    last = (
        status.last_reload.strftime("%Y-%m-%d %H:%M %Z").strip()
        if status.last_reload
        else "never (built by `careerbot ingest`)"
    )
    fields = [
        ("Documents", str(status.documents)),
        ("Passages", str(status.passages)),
        ("Embedding model", status.embedding_model),
        ("Answer mode", mode),
        ("Last reload", last),
        ("Collection", status.collection or "-"),
    ]
    blocks: list[Block] = [
        _section("*careerbot status*"),
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{name}*\n{escape_mrkdwn(value)}"}
                for name, value in fields
            ],
        },
    ]
    text = "careerbot status: " + ", ".join(f"{n.lower()} {v}" for n, v in fields)
    return SlackMessage(text=text[:FALLBACK_TEXT_LIMIT], blocks=tuple(blocks))


def render_reload(report: IngestReport) -> SlackMessage:
    """The result of a successful reload, one line from the report."""
    icon = ":white_check_mark:" if report.changed else ":ballot_box_with_check:"
    return render_text(f"{icon} {escape_mrkdwn(report.summary())}")


def render_reload_started() -> SlackMessage:
    """Immediate acknowledgement of an admin's reload."""
    return render_text(":arrows_counterclockwise: Reloading the knowledge base…")


def render_dry_run(report: DryRunReport) -> SlackMessage:
    """`/careerbot reload dry-run`: what a reload would change, one bullet per line."""
    icon = ":warning:" if report.problems else ":mag:"
    head, *rest = report.lines()
    text = f"{icon} *{escape_mrkdwn(head)}*\n" + "\n".join(f"• {escape_mrkdwn(x)}" for x in rest)
    if len(text) > SECTION_TEXT_LIMIT:
        more = "\n… (the full list: `careerbot reload --dry-run`)"
        text = text[: SECTION_TEXT_LIMIT - len(more)].rsplit("\n", 1)[0] + more
    return render_text(text)


def render_rollback(report: RollbackReport) -> SlackMessage:
    """`/careerbot rollback`: which generation serves now."""
    return render_text(f":rewind: {escape_mrkdwn(report.summary())}")


SLACK_SURFACE: Final = Surface(
    how_to_ask=(
        "Ask me a question after the mention, e.g. "
        "`@careerbot how do I get started in AI safety research?`, or try `/careerbot help`."
    ),
    reload_command="`/careerbot reload`",
    escape=escape_mrkdwn,
)


def error_text(error: BaseException) -> str:
    """What Slack users are told for an error (the wording lives in bot.user_messages)."""
    return error_message(error, SLACK_SURFACE)


def render_error(error: BaseException) -> SlackMessage:
    """A friendly message for any error raised while serving a request."""
    return render_text(error_text(error))


# --- feedback reasons and the knowledge-gap report --------------------------------------------

FEEDBACK_FORM_CALLBACK: Final = "careerbot_feedback_reason"
FEEDBACK_REASON_BLOCK: Final = "careerbot_reason"
FEEDBACK_TEXT_BLOCK: Final = "careerbot_reason_text"


def render_feedback_form(answer_id: str, channel: str) -> Block:
    """The optional-reason modal a 👎 opens (views.open); metadata says which answer."""
    options = [
        {"text": {"type": "plain_text", "text": label}, "value": key}
        for key, label in FEEDBACK_REASONS.items()
    ]
    return {
        "type": "modal",
        "callback_id": FEEDBACK_FORM_CALLBACK,
        "private_metadata": json.dumps({"answer_id": answer_id, "channel": channel}),
        "title": {"type": "plain_text", "text": FEEDBACK_NOTED.rstrip(".")},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Skip"},
        "blocks": [
            {
                "type": "input",
                "block_id": FEEDBACK_REASON_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "What was wrong with the answer?"},
                "element": {"type": "radio_buttons", "action_id": "choice", "options": options},
            },
            {
                "type": "input",
                "block_id": FEEDBACK_TEXT_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "Anything else? (optional)"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": MAX_REASON_CHARS,
                },
            },
        ],
    }


def render_report(report: Report) -> SlackMessage:
    """The compact knowledge-gap report: one section per heading, user text escaped."""
    blocks: list[Block] = []
    texts: list[str] = []
    for heading, lines in report_sections(report):
        body = "\n".join(f"• {escape_mrkdwn(line)}" for line in lines)
        blocks.append(_section(f"*{escape_mrkdwn(heading)}*\n{body}"))
        texts.append(heading)
    return SlackMessage(text="; ".join(texts)[:FALLBACK_TEXT_LIMIT], blocks=tuple(blocks))


# --- "Ask a mentor" ---------------------------------------------------------------------------

ACTION_ASK_MENTOR: Final = "careerbot_ask_mentor"
MENTOR_BLOCK_ID: Final = "careerbot_mentor"
VIEW_MENTOR_CONSENT: Final = "careerbot_mentor_consent"
SHORTCUT_ADD_TO_KNOWLEDGE: Final = "careerbot_add_to_knowledge"
CONSENT_BLOCK: Final = "consent"
CONSENT_ACTION: Final = "share_as"
NOTE_BLOCK: Final = "note"
NOTE_ACTION: Final = "note_text"
SHARE_NAMED: Final = "named"
SHARE_ANONYMOUS: Final = "anonymous"
MENTOR_SENT_TEXT: Final = (
    ":raised_hand: Sent to the mentors. A mentor's reply will appear here; "
    "`/careerbot forget` also deletes what you sent."
)
MENTOR_RELAYED_TEXT: Final = ":white_check_mark: Relayed to the asker."
_PLAIN_LIMIT = 3000


def mentor_block(answer_id: str) -> Block | None:
    """The "Ask a mentor" button, in an actions block of its own, carrying the answer id."""
    if not answer_id:
        return None
    return {
        "type": "actions",
        "block_id": MENTOR_BLOCK_ID,
        "elements": [_button("🙋 Ask a mentor", ACTION_ASK_MENTOR, answer_id)],
    }


def mentor_consent_view(private_metadata: str) -> Block:
    """The consent modal: show my name / anonymously, an optional note; closing cancels."""
    option = {
        SHARE_NAMED: "Share with my name",
        SHARE_ANONYMOUS: "Share anonymously",
    }
    return {
        "type": "modal",
        "callback_id": VIEW_MENTOR_CONSENT,
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": "Ask a mentor"},
        "submit": {"type": "plain_text", "text": "Send to mentors"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _section(
                "Your question, my answer and its sources go to the mentors' channel; a "
                "mentor's reply comes back where you asked. Choose whether mentors see your name."
            ),
            {
                "type": "input",
                "block_id": CONSENT_BLOCK,
                "label": {"type": "plain_text", "text": "Share as"},
                "element": {
                    "type": "radio_buttons",
                    "action_id": CONSENT_ACTION,
                    "options": [
                        {"text": {"type": "plain_text", "text": text}, "value": value}
                        for value, text in option.items()
                    ],
                },
            },
            {
                "type": "input",
                "block_id": NOTE_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "A note for the mentors (optional)"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": NOTE_ACTION,
                    "multiline": True,
                    "max_length": 1000,
                },
            },
        ],
    }


def render_mentor_post(
    *,
    question: str,
    answer: str,
    citations: Sequence[Citation],
    asker_id: str | None,
    note: str,
) -> SlackMessage:
    """The mentors' channel post: who asked (or anonymous), the question, the answer, sources."""
    who = f"<@{asker_id}>" if asker_id else "Someone (anonymous)"
    blocks: list[Block] = [
        _section(f":raised_hand: *{who} asked for a mentor.* Reply in this thread to answer."),
        _section(f"*Question*\n{escape_mrkdwn(_cut(question))}"),
        _section(f"*careerbot answered*\n{split_mrkdwn(answer)[0] if answer.strip() else '-'}"),
    ]
    if note.strip():
        blocks.append(_section(f"*Note*\n{escape_mrkdwn(_cut(note))}"))
    blocks.extend(sources_blocks(citations))
    return SlackMessage(text=f"{who} asked a mentor: {_cut(question, 200)}", blocks=tuple(blocks))


def render_relay(text: str) -> SlackMessage:
    """A mentor's reply as the asker sees it (the text says who replied).

    Mentors write Slack mrkdwn already, so it is kept as written; only `<`, `>` and `&` are
    escaped, so nothing in it can ping a channel or fake a link.
    """
    pieces = split_text(escape_mrkdwn(text), SECTION_TEXT_LIMIT) or ["-"]
    blocks = tuple(_section(p) for p in pieces[:BLOCKS_PER_MESSAGE])
    return SlackMessage(text=_cut(text, FALLBACK_TEXT_LIMIT), blocks=blocks)


def _cut(text: str, limit: int = _PLAIN_LIMIT - 50) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
