"""Suggested next questions, derived offline from the sections next to the ones an answer cited.

Suggestions come only from the corpus's own headings, never from other people's questions:
a stored question could name a person, an employer or a health condition, and showing it to
someone else would leak it. A heading is public text from a published post, so it is safe to
show anyone. (Questions asked by several different users would be safe too, but they are
rare in a small community and the headings already cover every section.)

Every suggestion carries a short stable key (a hash of post and section path), so a button
can name it in a 100-character Discord custom_id and any replica, after any restart, turns
the key back into the same question from the index it serves.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.models import Citation, Passage, Suggestion

MAX_SUGGESTIONS = 3
# Slack shows at most four suggested prompts when an assistant thread opens.
MAX_STARTERS = 4
# Longer headings make clumsy buttons and questions; they are skipped, not cut.
MAX_QUESTION_CHARS = 150
KEY_CHARS = 16

# Headings about the post rather than about careers: nothing to ask about.
_META = frozenset(
    {
        "about",
        "about me",
        "about the author",
        "acknowledgements",
        "acknowledgments",
        "afterword",
        "appendix",
        "background",
        "bibliography",
        "closing thoughts",
        "comment",
        "comments",
        "concluding thoughts",
        "conclusion",
        "conclusions",
        "contents",
        "context",
        "credits",
        "disclaimer",
        "edit",
        "edits",
        "endnotes",
        "epilogue",
        "epistemic status",
        "final thoughts",
        "footnotes",
        "foreword",
        "further reading",
        "intro",
        "introduction",
        "notes",
        "overview",
        "post",
        "postscript",
        "pre",
        "preface",
        "prologue",
        "references",
        "reply",
        "resources",
        "summary",
        "table of contents",
        "thanks",
        "tl;dr",
        "tldr",
        "update",
        "updates",
    }
)
# Meta headings that come with a tail: "Appendix A: …", "Acknowledgements and thanks",
# "Update (2024): …", "Thanks to …", "Epistemic status: …".
_META_PREFIX = re.compile(
    r"^(appendix|acknowledg|thanks to|update\b|edit\b|epistemic status|tl;?dr|footnote)",
    re.IGNORECASE,
)
# Leading words that make "What do the posts say about …" read badly.
_LEAD = re.compile(r"^(?:a note on|notes on|list of|on|some|my)\s+", re.IGNORECASE)
_NUMBERING = re.compile(r"^(?:\d+[.)]|[IVX]+\.|part\s+\d+\s*[:.-]|step\s+\d+\s*[:.-])\s*", re.I)
_MARKUP = re.compile(r"[*_`]+")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_SMALL = frozenset({"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to"})


def _plain(heading: str) -> str:
    text = _LINK.sub(r"\1", heading)
    text = _MARKUP.sub("", text)
    return " ".join(text.split()).strip(" :-–—")


@lru_cache(maxsize=4096)  # the index's few hundred headings, read for every answer
def is_meta(heading: str) -> bool:
    """Whether a heading is about the post itself (intro, footnotes, thanks, …)."""
    text = _plain(heading).rstrip(".!").casefold()
    return text in _META or bool(_META_PREFIX.match(text))


def readable_section(section: str) -> str:
    """A section path as a reader would name it: without headings about the post itself.

    "Pre" (a post's "before" part), "Footnotes" or "Introduction" tell a reader of a
    citation nothing; "Lessons > Footnotes" is shown as "Lessons", "Pre" as nothing.
    """
    return " > ".join(h for h in section.split(" > ") if h.strip() and not is_meta(h))


def readable_heading(section: str) -> str:
    """The deepest heading of a section path that is not about the post itself ("" if none)."""
    return readable_section(section).rsplit(" > ", 1)[-1]


def _title_case(words: Sequence[str]) -> bool:
    """'Applications and Future Plans': every word that is not a small word is capitalized."""
    big = [w for w in words if w.casefold() not in _SMALL]
    return len(big) >= 2 and all(w[0].isupper() for w in big)


def _lower_word(word: str) -> str:
    # "Mechanistic" -> "mechanistic"; "MATS", "AI/ML", "PhD" and "I" keep their capitals.
    if len(word) > 1 and word[0].isupper() and word[1:].islower():
        return word.lower()
    return word


@lru_cache(maxsize=4096)  # the index's few hundred headings, read for every answer
def heading_question(heading: str) -> str | None:
    """A natural question for a section heading, or None when it is meta or unusable.

    "Getting a research job" -> "What do the posts say about getting a research job?";
    a heading that already is a question ("Should I do a PhD?") is asked as it stands.
    """
    text = _NUMBERING.sub("", _plain(heading))
    if not text or is_meta(text) or len(_WORD.findall(text)) == 0:
        return None
    if text.endswith("?"):
        question = text[0].upper() + text[1:]
        return question if len(question) <= MAX_QUESTION_CHARS else None
    text = text.rstrip(".!:;")
    while True:  # "Some notes on …", "On the …"
        shorter = _LEAD.sub("", text, count=1)
        if shorter == text or not shorter:
            break
        text = shorter
    if is_meta(text) or not _WORD.search(text):
        return None
    words = text.split(" ")
    if _title_case(_WORD.findall(text)):
        words = [_lower_word(w) for w in words]
    else:
        words[0] = _lower_word(words[0])
    question = f"What do the posts say about {' '.join(words)}?"
    return question if len(question) <= MAX_QUESTION_CHARS else None


def section_key(doc_id: str, section: str) -> str:
    """The stable short key of a post's section (16 hex characters)."""
    digest = hashlib.sha256(f"{doc_id}\x00{section}".encode()).hexdigest()
    return digest[:KEY_CHARS]


@dataclass(frozen=True)
class _Section:
    doc_id: str
    path: str
    question: str | None

    @property
    def key(self) -> str:
        return section_key(self.doc_id, self.path)


def _sections(passages: Iterable[Passage]) -> dict[str, list[_Section]]:
    """Each post's sections in document order (comments and the untitled intro left out)."""
    out: dict[str, list[_Section]] = {}
    seen: set[tuple[str, str]] = set()
    for p in passages:
        if p.is_comment or not p.section or (p.doc_id, p.section) in seen:
            continue
        seen.add((p.doc_id, p.section))
        question = heading_question(p.heading)
        if question is not None and any(is_meta(part) for part in p.section.split(" > ")):
            question = None  # under "Appendix" or "Comments": still meta
        out.setdefault(p.doc_id, []).append(_Section(p.doc_id, p.section, question))
    return out


def _same(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(_WORD.findall(s.casefold()))

    return norm(a) == norm(b)


def suggest(
    citations: Sequence[Citation],
    passages: Sequence[Passage],
    asked: Sequence[str] = (),
    *,
    limit: int = MAX_SUGGESTIONS,
) -> tuple[Suggestion, ...]:
    """Up to `limit` questions about the sections next to the cited ones.

    `passages` is the served index in document order. For each cited section (in citation
    order) the nearest sections of the same post are taken, the next one before the
    previous one, taking turns between citations so that two cited posts both contribute.
    A cited section is never suggested (that is what was just answered), nor a question the
    conversation has already asked (`asked`).
    """
    by_id = {p.id: p for p in passages}
    sections = _sections(passages)
    cited: list[tuple[str, str]] = []
    for c in citations:
        p = by_id.get(c.passage_id)
        if p is not None and not p.is_comment and (p.doc_id, p.section) not in cited:
            cited.append((p.doc_id, p.section))
    answered = set(cited)
    queues: list[list[_Section]] = []
    for doc_id, path in cited:
        order = sections.get(doc_id, [])
        at = next((i for i, s in enumerate(order) if s.path == path), None)
        if at is None:
            continue
        around: list[_Section] = []
        for step in range(1, len(order)):
            for i in (at + step, at - step):
                if 0 <= i < len(order):
                    around.append(order[i])
        queues.append(around)
    chosen: list[Suggestion] = []
    keys: set[str] = set()
    while queues and len(chosen) < limit:
        for queue in list(queues):
            while queue:
                s = queue.pop(0)
                if (
                    s.question is None
                    or (s.doc_id, s.path) in answered
                    or s.key in keys
                    or any(_same(s.question, a) for a in asked)
                    or any(_same(s.question, c.text) for c in chosen)
                ):
                    continue
                chosen.append(Suggestion(text=s.question, key=s.key))
                keys.add(s.key)
                break
            if not queue:
                queues.remove(queue)
            if len(chosen) >= limit:
                break
    return tuple(chosen)


def starters(passages: Sequence[Passage], *, limit: int = MAX_STARTERS) -> tuple[Suggestion, ...]:
    """Questions to open a conversation with: the first askable section of each post in turn."""
    per_doc = [[s for s in doc if s.question is not None] for doc in _sections(passages).values()]
    chosen: list[Suggestion] = []
    depth = 0
    while len(chosen) < limit and any(len(doc) > depth for doc in per_doc):
        for doc in per_doc:
            if len(doc) > depth and len(chosen) < limit:
                s = doc[depth]
                assert s.question is not None
                if not any(_same(s.question, c.text) for c in chosen):
                    chosen.append(Suggestion(text=s.question, key=s.key))
        depth += 1
    return tuple(chosen)


def question_for_key(passages: Sequence[Passage], key: str) -> str | None:
    """The suggestion a key names in the served index, or None (an unknown or stale key)."""
    for doc in _sections(passages).values():
        for s in doc:
            if s.question is not None and s.key == key:
                return s.question
    return None
