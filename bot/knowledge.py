"""Read knowledge/*.md (YAML front matter + Markdown), validate it, and chunk it by structure."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.models import IngestError, Passage

# Passage size in words: pack structural blocks up to TARGET, never beyond HARD_MAX unless a
# single sentence is longer; sections shorter than MIN stay short rather than mixing topics.
MIN_WORDS = 60
TARGET_WORDS = 140
HARD_MAX_WORDS = 250

_OPTIONAL_KEYS = ("author", "url", "published", "site")
_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")
_COMMENT_HEADING = re.compile(r"^(Comment|Reply)(?: by (?P<who>.+))?$")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_QUOTE_MARKER = re.compile(r"^\s*>\s?")
# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) and whitespace.
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


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


def load_knowledge(folder: Path) -> list[Document]:
    """Read and validate every `*.md` in `folder`; raise IngestError naming the first bad file."""
    if not folder.is_dir():
        raise IngestError(str(folder), "knowledge folder does not exist")
    paths = sorted(p for p in folder.glob("*.md") if not p.name.startswith("."))
    if not paths:
        raise IngestError(str(folder), "no knowledge files (*.md) found")
    documents = [parse_document(path) for path in paths]
    seen: dict[str, Path] = {}
    for doc in documents:
        key = doc.title.casefold()
        if key in seen:
            raise IngestError(
                str(doc.path), f"duplicate title {doc.title!r} (also in {seen[key].name})", 2
            )
        seen[key] = doc.path
    return documents


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
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise IngestError(str(path), f"invalid front matter: {problem}", line) from None
    if not isinstance(meta, dict):
        raise IngestError(str(path), "front matter must be a mapping of keys to values", 2)
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        raise IngestError(str(path), "front matter needs a non-empty 'title'", 2)
    values: dict[str, str | None] = {}
    for key in _OPTIONAL_KEYS:
        value = meta.get(key)
        if value is not None and not isinstance(value, str | int | float):
            raise IngestError(str(path), f"front matter '{key}' must be text or null", 2)
        values[key] = str(value).strip() if value is not None else None
    url = values["url"]
    if url is not None and not re.match(r"https?://", url):
        raise IngestError(str(path), f"front matter 'url' must start with http(s)://: {url}", 2)
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
    """Split a body into leaf sections; each unit is one paragraph, list item or quote line."""
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


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences without losing characters between them (besides spaces)."""
    parts = [p.strip() for p in _SENTENCE_SPLIT.split(text)]
    return [p for p in parts if p]


def _split_long_unit(unit: str) -> list[str]:
    """Break one oversized paragraph into sentence groups of at most TARGET_WORDS."""
    marker = _LIST_MARKER.match(unit)
    prefix = marker.group(0) if marker else ""
    sentences = split_sentences(unit[len(prefix) :])
    groups: list[str] = []
    current: list[str] = []
    for sentence in sentences:
        if current and words(" ".join([*current, sentence])) > TARGET_WORDS:
            groups.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        groups.append(" ".join(current))
    if groups:
        groups[0] = prefix + groups[0]
    return groups


def _pack(units: list[str]) -> list[str]:
    """Greedily pack units into passages of roughly MIN..TARGET words, never cutting sentences."""
    expanded: list[str] = []
    for unit in units:
        expanded.extend(_split_long_unit(unit) if words(unit) > TARGET_WORDS else [unit])
    passages: list[list[str]] = []
    current: list[str] = []
    for unit in expanded:
        size = words("\n".join(current))
        if current and (
            size + words(unit) > HARD_MAX_WORDS
            or (size >= MIN_WORDS and size + words(unit) > TARGET_WORDS)
        ):
            passages.append(current)
            current = []
        current.append(unit)
    if current:
        # A short tail joins the previous passage when that stays within the hard maximum.
        if passages and words("\n".join(current)) < MIN_WORDS:
            merged = passages[-1] + current
            if words("\n".join(merged)) <= HARD_MAX_WORDS:
                passages[-1] = merged
                current = []
        if current:
            passages.append(current)
    return ["\n".join(p) for p in passages]


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
        section_name = " > ".join(section.path)
        for text in _pack(section.units):
            identity = json.dumps(
                [doc.doc_id, doc.title, doc.author, doc.url, section_name, text],
                ensure_ascii=False,
            )
            passage_id = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:24]
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
