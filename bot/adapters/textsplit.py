"""Split long chat messages at paragraph, then sentence, then word boundaries."""

from __future__ import annotations

import re

# Markdown links, Slack links and bare URLs must never be cut in half.
_ATOMIC = re.compile(r"\[[^\]]*\]\([^)]*\)|<[^>\s]+>|https?://\S+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
# A line that opens or closes a ``` code block (an opening one may name a language).
_FENCE_LINE = re.compile(r"^[ \t]*```[^\n]*$", re.MULTILINE)
_CLOSE = "\n```"
_MAX_OPENER = 24  # a reopened fence keeps at most this much of its line (```python …)


def split_text(text: str, limit: int) -> list[str]:
    """Split `text` into pieces of at most `limit` characters.

    Prefers paragraph breaks, then line breaks, then sentence ends, then spaces; never cuts
    inside a link. A single token longer than `limit` (rare: a huge URL) is cut hard.
    A ``` code block cut across pieces is closed at the end of one piece and reopened (with
    its language) at the start of the next, so every piece renders on its own.
    """
    if limit < 10:
        raise ValueError("limit must be at least 10 characters")
    if not _FENCE_LINE.search(text) or limit < 4 * (len(_CLOSE) + _MAX_OPENER):
        return _split_plain(text, limit)
    pieces: list[str] = []
    opener: str | None = None  # the fence line left open by the previous piece
    for piece in _split_plain(text, limit - len(_CLOSE) - _MAX_OPENER - 1):
        if opener is not None:
            piece = f"{opener}\n{piece}"
        opener = None
        for match in _FENCE_LINE.finditer(piece):
            opener = None if opener is not None else match.group(0).strip()[:_MAX_OPENER]
        pieces.append(piece + _CLOSE if opener is not None else piece)
    return pieces


def _split_plain(text: str, limit: int) -> list[str]:
    text = text.strip()
    pieces: list[str] = []
    while len(text) > limit:
        cut = _best_cut(text, limit)
        head, text = text[:cut].rstrip(), text[cut:].lstrip()
        if head:
            pieces.append(head)
    if text:
        pieces.append(text)
    return pieces


def _best_cut(text: str, limit: int) -> int:
    window = text[: limit + 1]
    protected = [(m.start(), m.end()) for m in _ATOMIC.finditer(text) if m.start() < limit]

    def safe(pos: int) -> bool:
        return not any(start < pos < end for start, end in protected)

    floor = limit // 3  # don't produce tiny first pieces when a better break exists later
    for pattern in ("\n\n", "\n"):
        pos = window.rfind(pattern)
        while pos > floor:
            if safe(pos):
                return pos
            pos = window.rfind(pattern, 0, pos)
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(window) if floor < m.end() <= limit]
    for pos in reversed(sentence_ends):
        if safe(pos):
            return pos
    pos = window.rfind(" ")
    while pos > 0:
        if safe(pos):
            return pos
        pos = window.rfind(" ", 0, pos)
    # One token longer than the limit: the only option is a hard cut.
    for start, end in protected:
        if start < limit < end and start > 0:
            return start
    return limit
