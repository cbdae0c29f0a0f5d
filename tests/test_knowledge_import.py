"""Fidelity checks for the posts imported into ``knowledge/`` from the shared scraped corpus.

Each ``knowledge/*.md`` file is YAML front matter followed by the post body, converted from
``shared/corpus/<source_file>`` by removing page chrome and adding Markdown structure only.
These tests check that:

* the front matter has the required keys and matches ``sources.json``;
* the body's words are the source's words, verbatim and in order (after stripping the Markdown
  markers the import added), each body line is a whole source line (not reflowed), and nearly
  all source words are kept;
* every source line that was dropped is listed page chrome (``CHROME`` below) -- so an
  accidentally deleted paragraph, heading or comment fails the test;
* files are UTF-8 with LF endings, have a non-empty body and unique titles.

Run ``pytest tests/test_knowledge_import.py -rP`` to see which source lines were dropped.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE_DIR = REPO_ROOT / "knowledge"
KNOWLEDGE_FILES = sorted(KNOWLEDGE_DIR.glob("*.md"))
REQUIRED_KEYS = ("title", "author", "url", "published", "site", "source_file")
METADATA_KEYS = ("title", "author", "url", "published", "site")

# Source lines that may be dropped as page chrome (patterns must match the whole stripped line).
# A line equal to the post title is also allowed when it is the source's first non-blank line.
CHROME: dict[str, tuple[str, ...]] = {
    "000_8c6634a772bdd4d5.txt": (
        r"Hide table of contents",
        r"More posts like this",
        r"Sorted by Click to highlight new comments since: .*",
        r"Curated and popular this week",
        r"Relevant opportunities",
    ),
    "001_ca62208f8ebfbdfe.txt": (
        # The 'Authors / Affiliations / Published / Read on LessWrong' header block, with the
        # values it shows (author + affiliation, date), and the empty trailing comments section.
        r"Authors",
        r"Affiliations",
        r"George Wang Timaeus",
        r"Published",
        r"[A-Z][a-z]{2} \d{1,2}, \d{4}",
        r"Read on LessWrong",
        r"Comments",
    ),
    "002_63f6e0b7d3e25f36.txt": (
        r"New Comment",
        r"\d+ comments, sorted by Click to highlight new comments since: .*",
    ),
    "003_e3125a8550adfd57.txt": (),
    "004_09412ea4c4cd152a.txt": (r"New Comment",),
}
# A chrome line is short UI text; anything longer is content and must not be allowlisted.
MAX_CHROME_WORDS = 25
MIN_KEPT_SHARE = 0.97
# Sources whose commenters are not named in the text: no comment may be attributed to anyone.
UNNAMED_COMMENTERS = {"002_63f6e0b7d3e25f36.txt"}

FRONT_MATTER_RE = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.DOTALL)
COMMENT_HEADING_RE = re.compile(r"^### (Comment|Reply)(?: by (.+))?$")
# Headings the import may introduce: they are not source words (unless the source has the
# same text as a line of its own, e.g. a 'Footnotes' heading that is kept).
INTRODUCED_HEADING_RE = re.compile(r"^#{2,3} (Comments|Footnotes|(?:Comment|Reply)(?: by .+)?)$")
SOURCE_BULLET_RE = re.compile(r"^(?:•|-)\s+")
HTML_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")


def _find_corpus() -> Path | None:
    candidates = [Path(__file__).resolve().parents[2] / "shared" / "corpus"]
    env = os.environ.get("CAREERBOT_SHARED_DIR")
    if env:
        candidates += [Path(env) / "corpus", Path(env)]
    for candidate in candidates:
        if (candidate / "sources.json").is_file():
            return candidate
    return None


@pytest.fixture(scope="module")
def corpus() -> Path:
    path = _find_corpus()
    if path is None:
        pytest.skip(
            "shared corpus not found: expected ../shared/corpus/sources.json beside the repo, "
            "or set CAREERBOT_SHARED_DIR to the shared dir (or its corpus/ subdir)"
        )
    return path


@pytest.fixture(scope="module")
def sources(corpus: Path) -> dict[str, dict[str, Any]]:
    return json.loads((corpus / "sources.json").read_text(encoding="utf-8"))


@dataclass
class KnowledgeDoc:
    path: Path
    raw_front_matter: str
    meta: dict[str, Any]
    body: str


def _load(path: Path) -> KnowledgeDoc:
    text = path.read_bytes().decode("utf-8")
    match = FRONT_MATTER_RE.match(text)
    assert match, f"{path.name}: must start with '---' front matter closed by a '---' line"
    meta = yaml.safe_load(match.group(1))
    assert isinstance(meta, dict), f"{path.name}: front matter is not a mapping"
    return KnowledgeDoc(path, match.group(1), meta, match.group(2))


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


# --- format ---------------------------------------------------------------------------------


def test_knowledge_files_exist() -> None:
    assert KNOWLEDGE_FILES, f"no Markdown files in {KNOWLEDGE_DIR}"


@pytest.mark.parametrize("path", KNOWLEDGE_FILES, ids=_ids(KNOWLEDGE_FILES))
def test_file_format(path: Path) -> None:
    raw = path.read_bytes()
    text = raw.decode("utf-8")  # raises on invalid UTF-8
    assert not text.startswith("\ufeff"), "no BOM"
    assert "\r" not in text, "LF line endings only"
    assert text.endswith("\n") and not text.endswith("\n\n"), "must end with exactly one newline"
    assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*\.md", path.name), "short kebab-case slug"
    doc = _load(path)
    assert doc.body.strip(), "empty body"
    body_lines = doc.body.split("\n")
    for number, line in enumerate(body_lines, 1):
        assert line == line.rstrip(), f"body line {number}: trailing whitespace"
        assert not HTML_TAG_RE.search(line), f"body line {number}: HTML tag: {line[:80]!r}"
        assert not line.lstrip().startswith("•"), f"body line {number}: unconverted bullet"
    assert "\n\n\n" not in doc.body, "paragraphs are separated by exactly one blank line"
    first = next(line for line in body_lines if line.strip())
    assert not first.startswith("# "), "body must not start with the title as a heading"
    assert doc.meta.get("title") is None or first.lstrip("# ") != doc.meta["title"], (
        "body must not start with the title"
    )


def test_titles_unique() -> None:
    titles = [_load(path).meta.get("title") for path in KNOWLEDGE_FILES]
    assert all(isinstance(t, str) and t.strip() for t in titles), titles
    assert len(set(titles)) == len(titles), f"duplicate titles: {titles}"


# --- metadata ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", KNOWLEDGE_FILES, ids=_ids(KNOWLEDGE_FILES))
def test_front_matter_matches_sources(path: Path, sources: dict[str, dict[str, Any]]) -> None:
    doc = _load(path)
    assert tuple(doc.meta) == REQUIRED_KEYS, f"keys must be exactly {REQUIRED_KEYS}"
    source_file = doc.meta["source_file"]
    assert source_file in sources, f"unknown source_file {source_file!r}"
    expected = sources[source_file]
    for key in METADATA_KEYS:
        assert doc.meta[key] == expected[key], f"{key}: {doc.meta[key]!r} != {expected[key]!r}"
    # 'published' must be a quoted string (an unquoted 2024-08-24 or 2024 would load as a
    # date / int), or null where unknown.
    assert doc.meta["published"] is None or isinstance(doc.meta["published"], str)
    assert re.search(r'^published: (?:null|"[^"\n]*")$', doc.raw_front_matter, re.MULTILINE)


def test_every_source_imported_once(sources: dict[str, dict[str, Any]]) -> None:
    imported = [_load(path).meta.get("source_file") for path in KNOWLEDGE_FILES]
    assert sorted(imported) == sorted(sources), "exactly one knowledge file per source post"
    assert set(CHROME) == set(sources), "CHROME must list (possibly no) chrome for every source"


# --- fidelity ---------------------------------------------------------------------------------


def _strip_markdown(line: str) -> str:
    """Remove the Markdown markers the import adds: blockquote '>', heading '#', bullet '- '."""
    line = line.strip()
    while line.startswith(">"):
        line = line[1:].lstrip()
    line = re.sub(r"^#{1,6}\s+", "", line)
    line = re.sub(r"^-\s+", "", line)
    return line


def _knowledge_words(body: str, source_lines: set[str]) -> list[str]:
    words: list[str] = []
    for line in body.split("\n"):
        stripped = line.strip()
        if INTRODUCED_HEADING_RE.match(stripped):
            heading_text = stripped.lstrip("#").strip()
            if heading_text not in source_lines:
                continue  # added by the import, not source text
        words += _strip_markdown(stripped).split()
    return words


def _source_words(lines: list[str]) -> tuple[list[str], list[int]]:
    """Source word sequence (bullet characters removed) and the line index of every word."""
    words: list[str] = []
    line_of: list[int] = []
    for index, line in enumerate(lines):
        for word in SOURCE_BULLET_RE.sub("", line.strip()).split():
            words.append(word)
            line_of.append(index)
    return words, line_of


def _is_chrome(source_file: str, line: str, index: int, lines: list[str], title: str) -> bool:
    first_nonblank = next(i for i, text in enumerate(lines) if text.strip())
    if index == first_nonblank and line == title:
        return True  # leading duplicated title line
    return any(re.fullmatch(p, line) for p in CHROME.get(source_file, ()))


@pytest.mark.parametrize("path", KNOWLEDGE_FILES, ids=_ids(KNOWLEDGE_FILES))
def test_body_is_verbatim_subsequence_of_source(
    path: Path, corpus: Path, sources: dict[str, dict[str, Any]]
) -> None:
    doc = _load(path)
    source_file = doc.meta["source_file"]
    lines = (corpus / source_file).read_text(encoding="utf-8").split("\n")
    src_words, line_of = _source_words(lines)
    kn_words = _knowledge_words(doc.body, {line.strip() for line in lines})

    matcher = difflib.SequenceMatcher(None, src_words, kn_words, autojunk=False)
    dropped_words = [0] * len(lines)
    added: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("delete", "replace"):
            for i in range(i1, i2):
                dropped_words[line_of[i]] += 1
        if tag in ("insert", "replace"):
            context = " ".join(kn_words[max(j1 - 5, 0) : j2 + 5])
            added.append(f"{' '.join(kn_words[j1:j2])!r} (in: ...{context}...)")
    assert not added, "knowledge words not found, in order, in the source:\n" + "\n".join(added)
    # Lines are not reflowed or re-spaced: every body line (minus Markdown markers) is a whole
    # source line, character for character (no-break spaces and double spaces included).
    source_set = {SOURCE_BULLET_RE.sub("", line.strip()) for line in lines}
    changed = [
        line
        for line in doc.body.split("\n")
        if not INTRODUCED_HEADING_RE.match(line.strip())
        and _strip_markdown(line)
        and _strip_markdown(line) not in source_set
    ]
    assert not changed, "body lines that are not verbatim source lines:\n" + "\n".join(changed)

    kept_share = 1 - sum(dropped_words) / len(src_words)
    print(f"\n{path.name} <- {source_file}: kept {kept_share:.2%} of {len(src_words)} words")
    title = sources[source_file]["title"]
    problems = []
    for index, count in enumerate(dropped_words):
        if not count:
            continue
        line = lines[index].strip()
        total = len(SOURCE_BULLET_RE.sub("", line).split())
        chrome = count == total and _is_chrome(source_file, line, index, lines, title)
        label = "chrome" if chrome else "NOT LISTED CHROME"
        print(f"  dropped line {index + 1} ({count}/{total} words, {label}): {line[:100]!r}")
        if not chrome:
            problems.append(f"line {index + 1} ({count}/{total} words dropped): {line[:100]!r}")
        elif total > MAX_CHROME_WORDS:
            problems.append(f"line {index + 1}: {total} words is too long to be chrome")
    assert not problems, "source text dropped that is not listed chrome:\n" + "\n".join(problems)
    assert kept_share >= MIN_KEPT_SHARE, f"only {kept_share:.2%} of source words kept"


# --- structure ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", KNOWLEDGE_FILES, ids=_ids(KNOWLEDGE_FILES))
def test_comment_and_footnote_sections(
    path: Path, corpus: Path, sources: dict[str, dict[str, Any]]
) -> None:
    doc = _load(path)
    source_file = doc.meta["source_file"]
    source_text = (corpus / source_file).read_text(encoding="utf-8")
    author = sources[source_file]["author"]
    lines = doc.body.split("\n")
    h2 = [line for line in lines if line.startswith("## ")]
    comment_headings = [line for line in lines if COMMENT_HEADING_RE.match(line)]

    if "## Comments" in h2:
        assert h2.count("## Comments") == 1 and h2[-1] == "## Comments", "comments go last"
        start = lines.index("## Comments")
        assert all(lines.index(h) > start for h in comment_headings)
        nxt = next(line for line in lines[start + 1 :] if line.strip())
        assert COMMENT_HEADING_RE.match(nxt), "each comment starts with a '### ' heading"
        assert not any(line.startswith("## ") for line in lines[start + 1 :])
    else:
        assert not comment_headings, "comment headings need a '## Comments' section"
    if "## Footnotes" in h2:
        footnotes_at = h2.index("## Footnotes")
        assert footnotes_at == len(h2) - 1 - ("## Comments" in h2), "footnotes end the post"

    for heading in comment_headings:
        match = COMMENT_HEADING_RE.match(heading)
        assert match
        name = match.group(2)
        if name is None:
            continue
        assert source_file not in UNNAMED_COMMENTERS, f"commenters are unnamed: {heading!r}"
        if name.endswith(" (post author)"):
            assert name.removesuffix(" (post author)") == author, heading
        else:
            assert name in source_text, f"{heading!r}: name does not appear in the source"
            assert author is None or author not in name, f"{heading!r}: mark post author"
