"""Read knowledge/*.md (YAML front matter + Markdown), validate it, and chunk it by structure."""

from __future__ import annotations

import datetime
import errno
import hashlib
import json
import logging
import math
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.models import IngestError, Passage
from bot.text import is_short_item, sentence_spans

log = logging.getLogger(__name__)

# A knowledge file larger than this is refused (a post is ~10-60 KB; a 5 MB dump took minutes
# to embed and drowned the corpus). Settings pass their own limit.
DEFAULT_MAX_FILE_BYTES = 512 * 1024

# Passage size in words: aim at TARGET, never beyond HARD_MAX unless a single sentence is
# longer; a section shorter than MIN stays one short passage rather than mixing topics.
MIN_WORDS = 60
TARGET_WORDS = 125
HARD_MAX_WORDS = 250
# Part of every passage id: bump it when chunking or `embedding_text` changes, so that an
# existing index re-embeds instead of reusing vectors computed from other text.
_CHUNKER_VERSION = "3"

_OPTIONAL_KEYS = ("author", "url", "published", "site")
# Kept in the file, not used: where an imported post came from.
_PROVENANCE_KEYS = ("source_file",)
_PUBLISHED = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")
_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")
_COMMENT_HEADING = re.compile(r"^(Comment|Reply)(?: by (?P<who>.+))?$")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_QUOTE_MARKER = re.compile(r"^\s*>\s?")


@dataclass(frozen=True)
class Document:
    """One knowledge file: metadata from front matter and the Markdown body."""

    doc_id: str
    path: Path
    title: str
    author: str | None
    url: str | None
    published: str | None
    site: str | None
    body: str
    body_line: int  # 1-based line number where the body starts in the file


def load_knowledge(folder: Path, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> list[Document]:
    """Read and validate every `*.md` in `folder`; raise IngestError naming the first bad file.

    Only regular files are read: a folder, FIFO, socket, dangling symlink or symlink loop
    named `*.md` is skipped with one warning line naming it (`stat` before any open, so a FIFO
    can never block). A file over `max_file_bytes` is refused, which fails the whole load.
    """
    documents, problems = check_knowledge(folder, max_file_bytes=max_file_bytes)
    if problems:
        raise problems[0]
    return documents


def check_knowledge(
    folder: Path, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> tuple[list[Document], list[IngestError]]:
    """Every valid document of `folder` and every problem found (not only the first).

    `load_knowledge` raises the first problem; `reload --dry-run` lists them all.
    """
    if not folder.is_dir():
        return [], [IngestError(str(folder), "knowledge folder does not exist")]
    problems: list[IngestError] = []
    paths = []
    for path in sorted(p for p in folder.glob("*.md") if not p.name.startswith(".")):
        try:
            info = path.stat()  # follows symlinks: a loop or a dangling link raises here
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            if exc.errno == errno.ELOOP:
                reason = "a symlink loop"
            elif path.is_symlink():
                reason = f"a dangling symlink ({reason})"
            log.warning("knowledge: skipping %s: %s", path, reason)
            continue
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            kind = "a FIFO" if stat.S_ISFIFO(info.st_mode) else kind
            log.warning("knowledge: skipping %s: %s", path, kind)
            continue
        if info.st_size > max_file_bytes:
            problems.append(
                IngestError(
                    str(path),
                    f"file is {info.st_size // 1024} KB, over the {max_file_bytes // 1024} KB "
                    "limit per knowledge file (CAREERBOT_KNOWLEDGE_MAX_FILE_KB); split it or "
                    "raise the limit",
                )
            )
            continue
        paths.append(path)
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        nested = sum(1 for p in sub.rglob("*.md") if not p.name.startswith("."))
        if nested:
            log.warning(
                "knowledge: skipping %s/ (%d .md file(s)): only files at the top of the "
                "knowledge folder are read",
                sub,
                nested,
            )
    if not paths and not problems:
        return [], [IngestError(str(folder), "no knowledge files (*.md) found")]
    documents = []
    for path in paths:
        try:
            documents.append(parse_document(path))
        except IngestError as exc:
            problems.append(exc)
    seen: dict[str, Path] = {}
    valid = []
    for doc in documents:
        key = doc.title.casefold()
        if key in seen:
            problems.append(
                IngestError(
                    str(doc.path), f"duplicate title {doc.title!r} (also in {seen[key].name})", 2
                )
            )
            continue
        seen[key] = doc.path
        valid.append(doc)
    return valid, problems


def parse_document(path: Path) -> Document:
    """Parse one knowledge file, raising IngestError with the file (and line) on any problem."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise IngestError(str(path), f"not valid UTF-8 (byte {exc.start})", line) from None
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise IngestError(str(path), "missing front matter: the file must start with '---'", 1)
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise IngestError(str(path), "front matter is not closed with '---'", 1) from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if "end of stream" in str(getattr(exc, "problem", "")):
            # An unclosed quote or bracket runs to the end: the line it opens on is the fault.
            mark = getattr(exc, "context_mark", None) or mark
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise IngestError(str(path), f"invalid front matter: {problem}", line) from None
    if not isinstance(meta, dict):
        raise IngestError(str(path), "front matter must be a mapping of keys to values", 2)

    def line_of(key: str) -> int:
        """The line of `key:` in the file (the front matter's first line when it is absent)."""
        start = re.compile(rf"^{re.escape(key)}\s*:")
        return next((i + 1 for i in range(1, end) if start.match(lines[i])), 2)

    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        raise IngestError(str(path), "front matter needs a non-empty 'title'", line_of("title"))
    values: dict[str, str | None] = {}
    for key in _OPTIONAL_KEYS:
        value = meta.get(key)
        if isinstance(value, datetime.date):  # `published: 2024-08-24` unquoted is a YAML date
            value = value.isoformat()[:10]
        if value is not None and not isinstance(value, str | int | float):
            raise IngestError(str(path), f"front matter '{key}' must be text or null", line_of(key))
        values[key] = str(value).strip() if value is not None else None
    url = values["url"]
    if url is not None and not re.match(r"https?://", url):
        raise IngestError(
            str(path), f"front matter 'url' must start with http(s)://: {url}", line_of("url")
        )
    published = values["published"]
    if published is not None and not _PUBLISHED.fullmatch(published):
        # Replies date a claim by it ("was published in 2024") and years are compared.
        raise IngestError(
            str(path),
            f"front matter 'published' must be a date (YYYY-MM-DD, YYYY-MM or YYYY): {published}",
            line_of("published"),
        )
    for key in meta:
        if key != "title" and key not in _OPTIONAL_KEYS and key not in _PROVENANCE_KEYS:
            log.warning(
                "knowledge: %s:%d: front matter key %r is not used (known: title, %s)",
                path,
                line_of(str(key)),
                key,
                ", ".join(_OPTIONAL_KEYS),
            )
    body = "\n".join(lines[end + 1 :]).strip("\n")
    if not body.strip():
        raise IngestError(str(path), "the body is empty", end + 2)
    return Document(
        doc_id=path.stem,
        path=path,
        title=title.strip(),
        author=values["author"],
        url=url,
        published=values["published"],
        site=values["site"],
        body=body,
        body_line=end + 2,
    )


@dataclass
class _Section:
    path: tuple[str, ...]
    units: list[str]
    is_comment: bool = False
    comment_author: str | None = None


def _sections(doc: Document) -> list[_Section]:
    """Split a body into leaf sections; each unit is one source line (paragraph, item, quote)."""
    sections = [_Section(path=(), units=[])]
    stack: list[tuple[int, str]] = []
    in_comments = False
    for line in doc.body.split("\n"):
        heading = _HEADING.match(line)
        if heading:
            level, name = len(heading.group(1)), heading.group(2)
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, name))
            if level <= 2:
                in_comments = name.strip().casefold() == "comments"
            who = None
            match = _COMMENT_HEADING.match(name.strip()) if in_comments else None
            if match:
                who = match.group("who")
            sections.append(
                _Section(
                    path=tuple(n for _, n in stack),
                    units=[],
                    is_comment=in_comments,
                    comment_author=who,
                )
            )
            continue
        if line.strip():
            sections[-1].units.append(line.rstrip())
    return [s for s in sections if s.units]


def words(text: str) -> int:
    """Word count used for passage sizing."""
    return len(text.split())


# Break costs: how much a passage boundary at this point hurts (0 = a natural break). A
# lead-in ("... such as:") stays with its list, a list item with its first sub-item, and a
# paragraph is cut between sentences only when it cannot fit whole.
_COST_INSIDE_LINE = 3.0
_COST_AFTER_LEAD_IN = 6.0
_COST_AFTER_SOFT_LEAD_IN = 2.5
_COST_BEFORE_FIRST_CHILD = 5.0
_COST_AFTER_QUOTE = 4.0
_COST_BETWEEN_QUOTE_LINES = 1.5
_COST_ITEM_PER_DEPTH = 0.6
_COST_CONTINUATION_PARAGRAPH = 2.0
# Short items (text.is_short_item) are names in a list ("1. MLAB", "2. ARENA"), read as one: a
# boundary between two of them cuts the list ("roughly in order") in half.
_COST_INSIDE_SHORT_LIST = 6.0
# Size cost: squared relative distance from TARGET_WORDS, weighted, plus a penalty below MIN.
_SIZE_WEIGHT = 4.0
_UNDERSIZE_PENALTY = 2.0
_LABEL_MAX_WORDS = 8


@dataclass
class _Line:
    """One source line of a section with its list structure."""

    text: str
    kind: str  # "para", "item" or "quote"
    # 0 for top-level paragraphs and quotes; n for list items (and their paragraphs) at level n
    depth: int
    parent: int | None  # index of the lead-in paragraph or parent item this line belongs under


@dataclass
class _Piece:
    """A sentence (or whole line) of a section: the smallest thing a passage boundary respects."""

    line: int
    start: int
    end: int
    words: int
    break_cost: float  # cost of starting a passage at this piece


def _structure(units: list[str]) -> list[_Line]:
    """Classify each line and link it to its lead-in paragraph or parent list item."""
    lines: list[_Line] = []
    stack: list[tuple[int, int]] = []  # (indent, line index) of the open list items
    lead_in: int | None = None  # the paragraph introducing the current top-level list
    for index, text in enumerate(units):
        indent = len(text) - len(text.lstrip())
        if _QUOTE_MARKER.match(text):
            stack = []
            lines.append(_Line(text, "quote", 0, None))
            continue
        if _LIST_MARKER.match(text):
            if not stack:
                previous = lines[-1] if lines else None
                starts_list = previous is None or previous.depth == 0
                if starts_list:
                    is_para = previous is not None and previous.kind == "para"
                    lead_in = index - 1 if is_para else None
            while stack and stack[-1][0] >= indent:
                stack.pop()
            parent = stack[-1][1] if stack else lead_in
            stack.append((indent, index))
            lines.append(_Line(text, "item", len(stack), parent))
            continue
        if indent > 0 and stack:
            # An indented paragraph continues the innermost list item that it is indented under.
            while stack and stack[-1][0] >= indent:
                stack.pop()
            if stack:
                lines.append(_Line(text, "para", len(stack), stack[-1][1]))
                continue
        stack = []
        lines.append(_Line(text, "para", 0, None))
    return lines


def _break_cost(lines: list[_Line], index: int) -> float:
    """Cost of a passage boundary right before line `index` (which starts a new line)."""
    line, previous = lines[index], lines[index - 1]
    if line.kind == "quote":
        return _COST_BETWEEN_QUOTE_LINES if previous.kind == "quote" else 0.0
    if previous.kind == "quote":
        return _COST_AFTER_QUOTE
    if line.parent is not None and line.parent == index - 1:
        if line.kind == "item" and previous.kind == "para" and previous.depth == 0:
            # "...such as:" or "...people who" cannot stand alone; a full sentence could.
            unfinished = not plain_text(previous.text).rstrip().endswith((".", "!", "?", ")"))
            cost = _COST_AFTER_LEAD_IN if unfinished else _COST_AFTER_SOFT_LEAD_IN
            if is_short_item(line.text):
                cost += _COST_INSIDE_SHORT_LIST  # a list of names means nothing without it
            return cost
        return _COST_BEFORE_FIRST_CHILD
    if line.kind == "para" and line.depth > 0:
        return _COST_CONTINUATION_PARAGRAPH
    if line.kind == "item" and previous.kind == "para" and previous.text.rstrip().endswith(":"):
        # A lead-in inside a list item ("   Some recommended ways… (roughly in order):")
        # introduces the sub-list below it as a top-level lead-in does.
        short = is_short_item(line.text)
        return _COST_AFTER_LEAD_IN + (_COST_INSIDE_SHORT_LIST if short else 0.0)
    if line.kind == "item":
        if (
            previous.kind == "item"
            and previous.depth == line.depth
            and is_short_item(line.text)
            and is_short_item(previous.text)
        ):
            return _COST_INSIDE_SHORT_LIST
        return _COST_ITEM_PER_DEPTH * line.depth
    return 0.0


def _pieces(lines: list[_Line]) -> list[_Piece]:
    """Cut lines into sentence pieces (list markers stay with the first sentence)."""
    pieces: list[_Piece] = []
    for index, line in enumerate(lines):
        marker = _QUOTE_MARKER.match(line.text) or _LIST_MARKER.match(line.text)
        body_start = marker.end() if marker else len(line.text) - len(line.text.lstrip())
        spans = sentence_spans(line.text, body_start) or [(body_start, len(line.text))]
        spans[0] = (0, spans[0][1])
        for n, (start, end) in enumerate(spans):
            first_cost = _break_cost(lines, index) if index else 0.0
            cost = _COST_INSIDE_LINE if n else first_cost
            pieces.append(_Piece(index, start, end, words(line.text[start:end]), cost))
    return pieces


def _size_cost(size: int) -> float:
    cost = _SIZE_WEIGHT * ((size - TARGET_WORDS) / TARGET_WORDS) ** 2
    if size < MIN_WORDS:
        cost += _UNDERSIZE_PENALTY * (MIN_WORDS - size) / MIN_WORDS
    return cost


def _segment(pieces: list[_Piece]) -> list[tuple[int, int]]:
    """Split pieces into passages [i, j) minimising size and break costs (dynamic programming)."""
    n = len(pieces)
    best = [0.0] + [math.inf] * n
    choice = [0] * (n + 1)
    for j in range(1, n + 1):
        size = 0
        for i in range(j - 1, -1, -1):
            size += pieces[i].words
            if size > HARD_MAX_WORDS and i < j - 1:
                break
            cost = best[i] + _size_cost(size) + (pieces[i].break_cost if i else 0.0)
            if cost < best[j]:
                best[j], choice[j] = cost, i
    bounds: list[tuple[int, int]] = []
    j = n
    while j > 0:
        bounds.append((choice[j], j))
        j = choice[j]
    return bounds[::-1]


def _passage_text(lines: list[_Line], pieces: list[_Piece]) -> str:
    """The verbatim text of consecutive pieces: each line's span, lines joined by newlines."""
    spans: dict[int, tuple[int, int]] = {}
    for piece in pieces:
        start, _ = spans.get(piece.line, (piece.start, piece.end))
        spans[piece.line] = (start, piece.end)
    return "\n".join(lines[i].text[a:b] for i, (a, b) in spans.items())


def _label(text: str) -> str | None:
    """A short name for a lead-in or parent item ("Scalable oversight: finding ..." -> its head)."""
    body = plain_text(text).strip()
    head = body.rstrip(":").strip()
    if words(head) <= _LABEL_MAX_WORDS:
        return head
    colon = body.find(":")
    if colon > 0 and words(body[:colon]) <= _LABEL_MAX_WORDS - 2:
        return body[:colon].strip()
    return None


def _context(lines: list[_Line], first_line: int, starts_mid_line: bool) -> tuple[str, ...]:
    """Labels of the lead-ins/parent items above a passage that the passage itself lacks."""
    labels: list[str] = []
    parent = lines[first_line].parent
    if starts_mid_line and lines[first_line].kind == "item":
        parent = first_line  # the passage lacks the head of its own list item
    while parent is not None:
        label = _label(lines[parent].text)
        if label:
            labels.append(label)
        parent = lines[parent].parent
    return tuple(reversed(labels))


def chunk_section(units: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    """Chunk one section's lines into (passage text, context labels) by structure and size."""
    lines = _structure(units)
    pieces = _pieces(lines)
    out: list[tuple[str, tuple[str, ...]]] = []
    for start, end in _segment(pieces):
        chosen = pieces[start:end]
        text = _passage_text(lines, chosen)
        if not plain_text(text).strip():
            continue
        first = chosen[0]
        out.append((text, _context(lines, first.line, first.start > 0)))
    return out


def embedding_text(title: str, section: str, text: str) -> str:
    """What gets embedded and keyword-indexed: the passage with its title and section path."""
    heading = f"{title} — {section}" if section else title
    return f"{heading}\n{plain_text(text)}"


def plain_text(text: str) -> str:
    """Passage text without Markdown list/quote markers (quotes are taken from this)."""
    out = []
    for line in text.split("\n"):
        line = _QUOTE_MARKER.sub("", line)
        line = _LIST_MARKER.sub("", line)
        out.append(line.strip())
    return "\n".join(out)


def chunk_document(doc: Document) -> list[Passage]:
    """Chunk one document by structure into passages with stable content-hash ids."""
    passages: list[Passage] = []
    for section in _sections(doc):
        for text, context in chunk_section(section.units):
            section_name = " > ".join((*section.path, *context))
            identity = json.dumps(
                [
                    _CHUNKER_VERSION,
                    doc.doc_id,
                    doc.title,
                    doc.author,
                    doc.url,
                    section_name,
                    text,
                    # A date is shown with the post ("is that still true?"): a new date is a
                    # new passage, so a reload writes it (the text's vector is reused).
                    *([doc.published] if doc.published else []),
                ],
                ensure_ascii=False,
            )
            passage_id = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:24]
            # Comments carry only the commenter named in their own heading (or nobody).
            author = section.comment_author if section.is_comment else doc.author
            passages.append(
                Passage(
                    id=passage_id,
                    doc_id=doc.doc_id,
                    title=doc.title,
                    author=author,
                    url=doc.url,
                    section=section_name,
                    text=text,
                    is_comment=section.is_comment,
                    published=doc.published,
                )
            )
    return passages


def chunk_documents(documents: list[Document]) -> list[Passage]:
    """Chunk every document; duplicate passages (same id) are kept once."""
    seen: set[str] = set()
    out: list[Passage] = []
    for doc in documents:
        for passage in chunk_document(doc):
            if passage.id not in seen:
                seen.add(passage.id)
                out.append(passage)
    return out
