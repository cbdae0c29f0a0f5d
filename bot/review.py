"""The review folder: mentor replies saved as knowledge files wait here until an admin accepts.

Files have the same front matter as knowledge/ and are checked by the same parser
(`bot.knowledge.parse_document`) when saved and again when accepted. `accept` moves a file into
knowledge/ (the next reload indexes it); `reject` deletes it.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from bot.knowledge import Document, load_knowledge, parse_document
from bot.models import CareerbotError, IngestError

SITE = "careerbot mentors"
_TITLE_LIMIT = 150
_SLUG_WORDS = 8


class ReviewError(CareerbotError):
    """A review-folder action cannot be done; str() is one line for a person."""


@dataclass(frozen=True)
class ReviewItem:
    """One file waiting in the review folder."""

    name: str
    path: Path
    title: str
    author: str | None
    published: str | None


def slug(text: str) -> str:
    """Lower-case ASCII words joined by '-', at most a few words (for file names)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())[:_SLUG_WORDS]
    return "-".join(words) or "mentor-answer"


def review_markdown(
    *, question: str, reply: str, author: str | None, url: str | None, published: date
) -> str:
    """A knowledge file for a mentor reply: front matter + the question and the answer."""
    one_line = " ".join(question.split())
    title = f"Mentor answer: {one_line}"
    if len(title) > _TITLE_LIMIT:
        title = title[: _TITLE_LIMIT - 1] + "…"
    meta: dict[str, str] = {"title": title, "author": author or "careerbot mentor"}
    if url:
        meta["url"] = url
    meta["published"] = published.isoformat()
    meta["site"] = SITE
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000)
    body = f"## Question\n\n{question.strip()}\n\n## Mentor answer\n\n{reply.strip()}\n"
    return f"---\n{front}---\n\n{body}"


def save_for_review(
    review_dir: Path,
    *,
    question: str,
    reply: str,
    author: str | None,
    url: str | None,
    published: date,
    key: str,
) -> ReviewItem:
    """Write a mentor reply as `<slug>-<key>.md` in the review folder (replacing an earlier save
    of the same reply) and check it with the knowledge parser; IngestError if it is invalid."""
    review_dir.mkdir(parents=True, exist_ok=True)
    name = f"{slug(question)}-{slug(key)}.md"
    path = review_dir / name
    text = review_markdown(
        question=question, reply=reply, author=author, url=url, published=published
    )
    tmp = path.with_name(f".{name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        doc = parse_document(tmp)
    except IngestError:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return _item(path, doc)


def list_review(review_dir: Path) -> list[ReviewItem]:
    """Files waiting for review, by name; a file that does not parse is listed with its error."""
    if not review_dir.is_dir():
        return []
    items = []
    for path in sorted(review_dir.glob("*.md")):
        if path.name.startswith("."):
            continue
        try:
            items.append(_item(path, parse_document(path)))
        except IngestError as exc:
            items.append(ReviewItem(path.name, path, f"(invalid: {exc.message})", None, None))
    return items


def accept(review_dir: Path, knowledge_dir: Path, name: str) -> ReviewItem:
    """Move a reviewed file into knowledge/ after checking it and that its title is new there."""
    path = _find(review_dir, name)
    doc = parse_document(path)  # IngestError names the file and line
    target = knowledge_dir / path.name
    if target.exists():
        raise ReviewError(f"{target} already exists; rename or reject {path.name}")
    if knowledge_dir.is_dir() and any(knowledge_dir.glob("*.md")):
        existing = load_knowledge(knowledge_dir)
        clash = next((d for d in existing if d.title.casefold() == doc.title.casefold()), None)
        if clash is not None:
            raise ReviewError(
                f"{path.name}: a knowledge file with the title {doc.title!r} exists "
                f"({clash.path.name}); edit the title or reject it"
            )
    knowledge_dir.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    return _item(target, doc)


def reject(review_dir: Path, name: str) -> ReviewItem:
    """Delete a file from the review folder."""
    path = _find(review_dir, name)
    try:
        item = _item(path, parse_document(path))
    except IngestError:
        item = ReviewItem(path.name, path, "(invalid)", None, None)
    path.unlink()
    return item


def _find(review_dir: Path, name: str) -> Path:
    base = name if name.endswith(".md") else f"{name}.md"
    if Path(base).name != base or base.startswith("."):
        raise ReviewError(f"{name!r} is not a file name in the review folder")
    path = review_dir / base
    if not path.is_file():
        raise ReviewError(
            f"no {base} in {review_dir} (`careerbot review list` shows what is waiting)"
        )
    return path


def _item(path: Path, doc: Document) -> ReviewItem:
    return ReviewItem(path.name, path, doc.title, doc.author, doc.published)
