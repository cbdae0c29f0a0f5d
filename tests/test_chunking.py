"""Chunking properties on the real knowledge base: verbatim, whole sentences, sizes, metadata."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from bot.knowledge import (
    HARD_MAX_WORDS,
    MIN_WORDS,
    Document,
    chunk_document,
    chunk_documents,
    chunk_section,
    load_knowledge,
    words,
)
from bot.models import Passage
from bot.text import split_sentences

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"
_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)]|>)\s?")


@pytest.fixture(scope="module")
def documents() -> list[Document]:
    return load_knowledge(KNOWLEDGE)


@pytest.fixture(scope="module")
def chunked(documents: list[Document]) -> list[tuple[Document, list[Passage]]]:
    return [(doc, chunk_document(doc)) for doc in documents]


def headings_by_line(doc: Document) -> list[tuple[str, tuple[str, ...]]]:
    """Each non-heading body line with the heading path it sits under."""
    stack: list[tuple[int, str]] = []
    out: list[tuple[str, tuple[str, ...]]] = []
    for line in doc.body.split("\n"):
        match = _HEADING.match(line)
        if match:
            level = len(match.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, match.group(2)))
        elif line.strip():
            out.append((line, tuple(name for _, name in stack)))
    return out


def source_line(doc: Document, fragment: str) -> str:
    candidates = [line for line in doc.body.split("\n") if fragment.strip() in line]
    assert candidates, f"not verbatim in {doc.path.name}: {fragment[:80]!r}"
    return candidates[0]


def test_every_line_is_verbatim_and_no_sentence_is_cut(chunked) -> None:
    for doc, passages in chunked:
        for passage in passages:
            for part in passage.text.split("\n"):
                if not _MARKER.sub("", part).strip():
                    continue  # a bare ">" line inside a block quote
                line = source_line(doc, part)
                if part.strip() == line.strip():
                    continue  # a whole source line
                # A partial line must start at a sentence start and end at a sentence end.
                start = line.index(part.strip())
                end = start + len(part.strip())
                before = _MARKER.sub("", line[:start]).rstrip()
                assert not before or _SENTENCE_END.search(before), (doc.path.name, part[:60])
                if end < len(line.rstrip()):
                    assert _SENTENCE_END.search(part.strip()), (doc.path.name, part[-60:])
                    assert line[end].isspace(), (doc.path.name, part[-60:])


def test_every_body_sentence_is_in_some_passage(chunked) -> None:
    for doc, passages in chunked:
        text = " ".join(p.text for p in passages)
        for line in doc.body.split("\n"):
            if line.strip() and not _HEADING.match(line):
                for sentence in split_sentences(line.strip()):
                    assert sentence in text, (doc.path.name, sentence[:60])


def test_passage_sizes(chunked) -> None:
    for _, passages in chunked:
        for passage in passages:
            size = words(passage.text)
            sentences = split_sentences(passage.text.replace("\n", " "))
            assert size <= HARD_MAX_WORDS or len(sentences) == 1, passage.text[:80]
            if size < MIN_WORDS:
                # Only a whole short section (a comment, the footnotes) may be this small.
                siblings = [p for p in passages if p.section == passage.section]
                assert len(siblings) == 1 or passage.is_comment, (passage.section, size)
    sizes = [len(p.text) for _, ps in chunked for p in ps]
    assert 500 <= sum(sizes) / len(sizes) <= 850


def test_sections_carry_title_and_heading_path(chunked) -> None:
    for doc, passages in chunked:
        lines = headings_by_line(doc)
        for passage in passages:
            assert passage.title == doc.title and passage.doc_id == doc.doc_id
            first = passage.text.split("\n")[0].strip()
            # The same words can occur twice (a comment quoting the post): any occurrence will do.
            headings = {" > ".join(path) for line, path in lines if first in line}
            assert any(
                passage.section == h or passage.section.startswith(h + " > ") for h in headings
            ), (passage.section, headings)
            assert passage.section or headings == {""}


def test_comments_are_flagged_and_never_given_to_the_post_author(chunked) -> None:
    seen_comments = 0
    for doc, passages in chunked:
        for passage in passages:
            in_comments = passage.section.split(" > ")[0] == "Comments"
            assert passage.is_comment == in_comments
            if passage.is_comment:
                seen_comments += 1
                assert passage.author != doc.author
                assert "comment on" in passage.attribution
                assert passage.author is None or passage.section.endswith(f"by {passage.author}")
            else:
                assert passage.author == doc.author
    assert seen_comments >= 10


def test_list_lead_ins_stay_with_their_first_item(documents) -> None:
    passages = chunk_documents(documents)
    for doc in documents:
        lines = [line for line in doc.body.split("\n") if line.strip()]
        for line, following in itertools.pairwise(lines):
            unfinished = not line.rstrip().endswith((".", "!", "?", ")"))
            if (
                unfinished
                and not _MARKER.match(line)
                and not _HEADING.match(line)
                and re.match(r"\s*(?:[-*+]|\d+\.)\s", following)
            ):
                assert any(
                    line.strip() in p.text and following.strip() in p.text for p in passages
                ), line


def test_security_topics_list_is_one_passage_with_its_lead_in(documents) -> None:
    passages = chunk_documents(documents)
    [hit] = [p for p in passages if "weight exfiltration" in p.text]
    assert "Another cluster: security-related topics such as" in hit.text
    assert "Scalable behavior monitoring" in hit.text


def test_a_list_of_short_items_stays_whole_with_its_lead_in(documents) -> None:
    # "Some recommended ways to upskill (roughly in order):" then five names: cut anywhere,
    # the order and half the names are lost, and the names alone mean nothing.
    passages = chunk_documents(documents)
    [hit] = [p for p in passages if "1. MLAB" in p.text]
    assert "Some recommended ways to upskill at empirical research (roughly in order):" in hit.text
    assert "5. Replicating papers" in hit.text
    # The same inside a made-up list item, at any depth.
    units = [
        "1. First point. " + "Many words here. " * 30,
        "   Some tools worth knowing:",
        *[f"   {n}. Tool number {n}" for n in range(1, 7)],
        "   " + "More words after the list. " * 30,
    ]
    tools = [text for text, _ in chunk_section(units) if "1. Tool number 1" in text]
    assert tools and "Some tools worth knowing:" in tools[0] and "6. Tool number 6" in tools[0]


def test_nested_list_passages_name_their_parent_item() -> None:
    units = [
        "Intro paragraph that sets things up for the list below:",
        *[f"{n}. Topic {n}: {'word ' * 20}" for n in range(1, 3)],
        *[f"   {n}. Detail {n}. " + "Many words here. " * 12 for n in range(1, 9)],
    ]
    out = chunk_section(units)
    assert len(out) > 1
    assert out[0][0].startswith("Intro paragraph") and "1. Topic 1" in out[0][0]
    for text, context in out[1:]:
        if text.startswith("   "):
            assert context == ("Topic 2",)


def test_ids_are_stable_and_unique(documents) -> None:
    first = chunk_documents(documents)
    again = chunk_documents(load_knowledge(KNOWLEDGE))
    assert [p.id for p in first] == [p.id for p in again]
    assert len({p.id for p in first}) == len(first)


def test_split_sentences_keeps_abbreviations_and_closing_quotes() -> None:
    text = (
        "My favorite papers are Olsson et al. (2022) and e.g. Wang. "
        "He said “stop.” Then we left! Did we? Yes."
    )
    assert split_sentences(text) == [
        "My favorite papers are Olsson et al. (2022) and e.g. Wang.",
        "He said “stop.”",
        "Then we left!",
        "Did we?",
        "Yes.",
    ]
    # "s.t." (such that) continues the sentence it is in.
    assert split_sentences("A fun problem s.t. AI labs have many applicants. Next.") == [
        "A fun problem s.t. AI labs have many applicants.",
        "Next.",
    ]
    assert split_sentences("Two  spaces.  Keep each sentence verbatim.") == [
        "Two  spaces.",
        "Keep each sentence verbatim.",
    ]
