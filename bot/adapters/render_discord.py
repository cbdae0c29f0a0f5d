"""Pure functions turning the core's results into Discord message text (<= 2,000 chars each)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from bot.adapters.textsplit import split_text
from bot.admin import DryRunReport, RollbackReport
from bot.models import (
    Answer,
    Citation,
    IngestReport,
    Status,
    StoredData,
    Suggestion,
)
from bot.report import Report, report_sections
from bot.user_messages import GENERIC_ERROR, Surface, error_message

MESSAGE_LIMIT = 2000
"""Discord's hard limit for a message's content."""

ATTACHMENT_ONLY = (
    "I can only read text, not attachments. Please type your question in the message itself."
)

# Markdown link, `<url>` (already preview-free), inline code, or a bare URL; one pass so a URL
# inside a link or inside code is never rewritten twice.
_TOKEN = re.compile(
    r"(?P<code>`[^`\n]+`)"
    r"|\[(?P<label>[^\]\n]*)\]\(\s*<?(?P<target>[^)\s>]+)>?\s*\)"
    r"|(?P<wrapped><https?://[^>\s]+>)"
    r"|(?P<bare>https?://[^\s<>]+)"
)
_FENCE = re.compile(r"^```", re.MULTILINE)
_DEEP_HEADING = re.compile(r"^#{4,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_TRAILING_PUNCT = ".,;:!?'\")]"
_MD_SPECIAL = re.compile(r"([\\*_~`|])")


def render_answer(
    answer: Answer, *, asked: str | None = None, limit: int = MESSAGE_LIMIT
) -> list[str]:
    """Render an Answer as Discord messages: quoted question, notices, answer, sources."""
    blocks: list[str] = [render_quote(asked)] if asked else []
    blocks += [_render_notice(n) for n in answer.notices if n.strip()]
    body = to_discord_markdown(answer.text)
    if body:
        blocks.append(body)
    if answer.citations:
        blocks.append(render_sources(answer.citations))
    return split_text("\n\n".join(blocks), limit) or [GENERIC_ERROR]


BUTTON_LABEL_LIMIT = 80
"""Discord's limit for a button label."""


def suggestion_labels(suggestions: Sequence[Suggestion]) -> list[tuple[str, str]]:
    """(button label, section key) per suggested question, labels within Discord's limit."""
    out: list[tuple[str, str]] = []
    for s in suggestions:
        label = s.text
        if len(label) > BUTTON_LABEL_LIMIT:
            label = label[: BUTTON_LABEL_LIMIT - 1].rstrip() + "…"
        out.append((label, s.key))
    return out


def render_asked(who: str, question: str) -> str:
    """'<who> asked: …' posted before the answer to a clicked suggestion."""
    return f"{who} asked: {_escape(' '.join(question.split()))}"


def render_partial(text: str, *, limit: int = MESSAGE_LIMIT) -> str:
    """Streamed text while the model writes: checked sentences so far, marked unfinished."""
    body = to_discord_markdown(text)
    if len(body) > limit - 2:
        body = body[: limit - 2].rsplit(" ", 1)[0]
    return f"{body} …"


def render_quote(question: str, *, limit: int = 300) -> str:
    """The asked question as a one-line quote (a slash command's text is otherwise hidden)."""
    text = " ".join(question.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"> {_escape(text)}"


def render_sources(citations: Sequence[Citation]) -> str:
    """A compact numbered list of linked titles with attribution; numbers match [n] markers."""
    lines = ["**Sources**"]
    for number, citation in enumerate(citations, start=1):
        lines.append(f"{number}. {_render_citation(citation)}")
    return "\n".join(lines)


def to_discord_markdown(text: str) -> str:
    """Convert the core's Markdown to Discord's: no link previews, no unsupported headings."""
    pieces = _FENCE.split(text.strip())
    # Even pieces are outside ``` fences; code blocks are left exactly as they are.
    for i in range(0, len(pieces), 2):
        pieces[i] = _DEEP_HEADING.sub(r"**\1**", _TOKEN.sub(_rewrite_token, pieces[i]))
    return "```".join(pieces)


def render_help(bot_mention: str | None = None) -> str:
    """How to talk to the bot, for /help and for an empty mention."""
    mention = bot_mention or "@careerbot"
    return "\n".join(
        [
            "**Hi! I give career advice for people getting into AI safety**, answering from a "
            "curated set of guides and citing them.",
            "",
            "**How to ask**",
            "• In a direct message: just write your question; follow-ups keep the context.",
            f"• In a server: mention me, e.g. `{mention} How do I move from software "
            "engineering into alignment research?`",
            "• Reply to one of my answers to ask a follow-up in the same conversation.",
            "• `/ask` works anywhere I'm installed.",
            "",
            "**Commands**",
            "`/ask` ask a question · `/my-data` what I keep · `/forget` delete it · "
            "`/status` what I know · `/help` this message · `/reload` re-read the guides "
            "(admins; `dry_run` shows what would change) · `/rollback` the previous guides "
            "(admins) · `/autoanswer` answer every question in a channel without a mention "
            "(admins) · `/report` what I declined and what people disliked (admins)",
        ]
    )


def render_status(status: Status, *, limit: int = MESSAGE_LIMIT) -> str:
    """The /status reply: index size, models, last reload and the guides' titles."""
    if status.answer_mode == "llm":
        mode = f"written by a language model ({status.llm_model or 'unknown model'}) with citations"
    else:
        mode = "quotes from the guides (no language model)"
    last = (
        f"<t:{int(status.last_reload.timestamp())}:R>"
        if status.last_reload is not None
        else "not since start-up"
    )
    head = "\n".join(
        [
            "**Status**",
            f"Knowledge base: {status.documents} documents, {status.passages} passages",
            f"Last reload: {last}",
            f"Answers: {mode}",
            f"Embedding model: `{status.embedding_model}`",
        ]
    )
    if not status.titles:
        return head
    lines = [head, "", "**Guides**"]
    used = sum(len(line) + 1 for line in lines)
    for shown, title in enumerate(status.titles):
        line = f"• {_escape(title)}"
        more = f"…and {len(status.titles) - shown} more"
        if used + len(line) + 1 + len(more) + 1 > limit:
            lines.append(more)
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def render_reload(report: IngestReport, *, limit: int = MESSAGE_LIMIT) -> str:
    """The /reload success reply."""
    return _fit(f"✅ {report.summary()}", limit)


def render_dry_run(report: DryRunReport, *, limit: int = MESSAGE_LIMIT) -> str:
    """The /reload dry_run:True reply: what a reload would change, one bullet per line."""
    icon = "⚠️" if report.problems else "🔎"
    head, *rest = report.lines()
    text = f"{icon} **{_escape(head)}**\n" + "\n".join(f"• {_escape(line)}" for line in rest)
    if len(text) > limit:
        more = "\n… (the full list: `careerbot reload --dry-run`)"
        text = text[: limit - len(more)].rsplit("\n", 1)[0] + more
    return text


def render_rollback(report: RollbackReport, *, limit: int = MESSAGE_LIMIT) -> str:
    """The /rollback success reply."""
    return _fit(f"⏪ {report.summary()}", limit)


def render_forget(deleted: StoredData) -> str:
    """The /forget reply: what was deleted."""
    if deleted.total == 0:
        return "There was nothing to forget: I kept nothing about you."
    return f"Done: I deleted {deleted.describe()}. Your next question starts fresh."


def render_my_data(kept: StoredData) -> str:
    """The /my-data reply: what is kept, and that it does not stay forever."""
    if kept.total == 0:
        return "I keep nothing about you right now."
    return (
        f"I keep {kept.describe()} about you. Old conversations are deleted automatically; "
        "`/forget` deletes them now."
    )


def render_error(exc: BaseException) -> str:
    """What Discord users are told for an error (the wording lives in bot.user_messages)."""
    return _fit(error_message(exc, DISCORD_SURFACE), MESSAGE_LIMIT)


def _render_citation(citation: Citation) -> str:
    # A comment's attribution already names the post ("Ann, comment on “Title”").
    label = _escape(citation.attribution if citation.is_comment else citation.title)
    linked = f"[{label}](<{_safe_url(citation.url)}>)" if citation.url else label
    if citation.is_comment or not citation.author:
        return linked  # no "author unknown": the title names the post
    return f"{linked} — {_escape(citation.attribution)}"


def _render_notice(notice: str) -> str:
    return f"ℹ️ *{_escape(notice.strip())}*"


def _rewrite_token(match: re.Match[str]) -> str:
    if match.group("code") or match.group("wrapped"):
        return match.group(0)
    if match.group("target") is not None:
        label = match.group("label").replace("[", "(").replace("]", ")")
        return f"[{label}](<{_safe_url(match.group('target'))}>)"
    url = match.group("bare")
    stripped = url.rstrip(_TRAILING_PUNCT)
    # Keep a closing parenthesis that belongs to the URL itself (e.g. Wikipedia titles).
    while stripped.count("(") > stripped.count(")") and len(stripped) < len(url):
        stripped = url[: len(stripped) + 1]
    return f"<{_safe_url(stripped)}>{url[len(stripped) :]}"


def _safe_url(url: str) -> str:
    # Characters that end a Discord `<...>` link or a Markdown link target are percent-encoded.
    return quote(url, safe=":/?#@!$&'*+,;=%-._~[]")


def _escape(text: str) -> str:
    # Brackets would end a link label early; round ones read the same and split_text keeps them.
    text = " ".join(text.split()).replace("[", "(").replace("]", ")")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


DISCORD_SURFACE = Surface(
    how_to_ask="Write your question after mentioning me, or use `/ask`. `/help` shows more.",
    reload_command="`/reload`",
    admins=" (configured admins, or people with the Manage Server permission)",
    escape=_escape,
)


# --- the knowledge-gap report -----------------------------------------------------------------


def render_report(report: Report, *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The compact knowledge-gap report as Discord messages; user text escaped."""
    blocks = [
        f"**{_escape(heading)}**\n" + "\n".join(f"• {_escape(line)}" for line in lines)
        for heading, lines in report_sections(report)
    ]
    return split_text("\n\n".join(blocks), limit) or [GENERIC_ERROR]


# "Ask a mentor" -------------------------------------------------------------------------------

MENTOR_SENT = (
    "🙋 Sent to the mentors. A mentor's reply will appear where you asked; "
    "`/forget` also deletes what you sent."
)
MENTOR_RELAYED = "✅ Relayed to the asker."
MENTOR_RELAY_FAILED = "Sorry, I couldn't deliver this reply to the asker."
MENTORS_UNREACHABLE = "Sorry, I couldn't reach the mentors' channel; please try again later."


def render_mentor_post(
    *,
    question: str,
    answer: str,
    citations: Sequence[Citation],
    asker_mention: str | None,
    note: str,
    limit: int = MESSAGE_LIMIT,
) -> list[str]:
    """The mentors' channel post (first chunk) and the rest for its thread: who asked (or
    anonymous), the question, the note, the bot's answer and its sources."""
    who = asker_mention or "Someone (anonymous)"
    head = [f"🙋 **{who} asked for a mentor.** Reply in this thread to answer.", "**Question**"]
    head.append(render_quote(question, limit=1500))
    if note.strip():
        head += ["**Note**", render_quote(note, limit=1000)]
    tail = ["**careerbot answered**", to_discord_markdown(answer) or "-"]
    if citations:
        tail.append(render_sources(citations))
    return [_fit("\n".join(head), limit), *split_text("\n\n".join(tail), limit)]


def render_relay(text: str, *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """A mentor's reply as the asker sees it, kept as the mentor wrote it (no pings are sent:
    the bot's allowed mentions are none)."""
    return split_text(text, limit) or ["-"]
