"""Every bad knowledge file fails ingest with one clear line naming the file (and line)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from bot.knowledge import chunk_document, load_knowledge, parse_document
from bot.models import IngestError
from tests.conftest import FIXTURE_KNOWLEDGE

GOOD = """---
title: "A good post"
author: "Someone"
url: "https://example.org/post"
published: "2024-01-01"
site: null
---

## A section

This is a paragraph about research careers, with enough words to be a passage of its own.
"""


def _error(tmp_path: Path, content: str | bytes, name: str = "post.md") -> IngestError:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        load_knowledge(tmp_path)
    error = caught.value
    message = str(error)
    assert "\n" not in message, message
    assert name in message and error.path.endswith(name)
    return error


@pytest.mark.parametrize(
    ("content", "line", "phrase"),
    [
        pytest.param("# Just markdown\n\nNo front matter.\n", 1, "missing front matter", id="none"),
        pytest.param("---\ntitle: x\n\nBody text.\n", 1, "not closed", id="unclosed"),
        pytest.param(
            "---\ntitle: ok\nurl: a: b\n---\nBody.\n", 3, "invalid front matter", id="yaml"
        ),
        pytest.param("---\n- a\n- b\n---\nBody.\n", 2, "mapping", id="list-not-mapping"),
        pytest.param("---\njust a string\n---\nBody.\n", 2, "mapping", id="scalar-not-mapping"),
        pytest.param("---\n---\nBody.\n", 2, "mapping", id="empty-front-matter"),
        pytest.param("---\nauthor: x\n---\nBody.\n", 2, "'title'", id="no-title"),
        pytest.param('---\ntitle: "  "\n---\nBody.\n', 2, "'title'", id="blank-title"),
        pytest.param("---\ntitle: 2024\n---\nBody.\n", 2, "'title'", id="numeric-title"),
        pytest.param("---\ntitle: t\nauthor: [a, b]\n---\nB.\n", 3, "'author'", id="list-author"),
        pytest.param("---\ntitle: t\n---\n\n  \n\n", 4, "body is empty", id="empty-body"),
        pytest.param("---\ntitle: t\n---\n", 4, "body is empty", id="no-body"),
        pytest.param("---\ntitle: t\nurl: www.x.org\n---\nB.\n", 3, "'url'", id="bad-url"),
        pytest.param("---\ntitle: t\nurl: ftp://x.org\n---\nB.\n", 3, "'url'", id="ftp-url"),
        pytest.param(
            "---\ntitle: t\nauthor: a\npublished: last spring\n---\nB.\n",
            4,
            "'published' must be a date",
            id="published-not-a-date",
        ),
        pytest.param(
            '---\ntitle: t\nauthor: "unclosed\nsite: x\n---\nB.\n',
            3,
            "invalid front matter",
            id="unclosed-quote-names-its-line",
        ),
    ],
)
def test_bad_file_fails_with_one_line_naming_file_and_line(
    tmp_path: Path, content: str, line: int, phrase: str
) -> None:
    error = _error(tmp_path, content)

    assert error.line == line
    assert str(error).startswith(f"{tmp_path / 'post.md'}:{line}: ")
    assert phrase in error.message


def test_invalid_yaml_reports_the_line_of_the_problem_in_the_file(tmp_path: Path) -> None:
    content = '---\ntitle: "ok"\nauthor: "x"\nsite: [unclosed\npublished: y\n---\nBody.\n'

    error = _error(tmp_path, content)

    assert error.line is not None and 4 <= error.line <= 6
    assert "invalid front matter" in str(error)


def test_non_utf8_bytes_name_the_file_and_line(tmp_path: Path) -> None:
    content = GOOD.encode("utf-8") + b"Caf\xe9 latte, encoded as Latin-1.\n"
    bad_line = GOOD.count("\n") + 1

    error = _error(tmp_path, content)

    assert "not valid UTF-8" in error.message
    assert error.line == bad_line
    assert str(error).startswith(f"{tmp_path / 'post.md'}:{bad_line}: ")


def test_an_unquoted_date_is_a_date_and_an_unknown_key_is_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    post = tmp_path / "post.md"
    post.write_text(
        GOOD.replace('published: "2024-01-01"', "published: 2024-01-01\nauther: Someone"),
        encoding="utf-8",
    )

    with caplog.at_level(logging.WARNING, logger="bot.knowledge"):
        (doc,) = load_knowledge(tmp_path)

    assert doc.published == "2024-01-01"
    (record,) = [r for r in caplog.records if "not used" in r.getMessage()]
    assert f"{post}:6: front matter key 'auther' is not used" in record.getMessage()


def test_posts_in_sub_folders_are_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "post.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "drafts").mkdir()
    (tmp_path / "drafts" / "later.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "images").mkdir()

    with caplog.at_level(logging.WARNING, logger="bot.knowledge"):
        documents = load_knowledge(tmp_path)

    assert [d.title for d in documents] == ["A good post"]
    (record,) = [r for r in caplog.records if "skipping" in r.getMessage()]
    assert "drafts/ (1 .md file(s)): only files at the top" in record.getMessage()


def test_duplicate_titles_across_two_files_name_both(tmp_path: Path) -> None:
    (tmp_path / "a-first.md").write_text(GOOD, encoding="utf-8")
    shouting = GOOD.replace('"A good post"', '"A GOOD POST"')

    error = _error(tmp_path, shouting, name="b-second.md")

    assert "duplicate title" in error.message
    assert "a-first.md" in error.message


def test_empty_folder_is_named(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not markdown", encoding="utf-8")

    with pytest.raises(IngestError) as caught:
        load_knowledge(tmp_path)

    assert str(tmp_path) in str(caught.value)
    assert "no knowledge files" in str(caught.value)


def test_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="does not exist"):
        load_knowledge(tmp_path / "nope")


def test_the_first_bad_file_fails_the_whole_load(tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(FIXTURE_KNOWLEDGE, folder)

    error = _error(folder, "---\ntitle: t\n---\n", name="zz-broken.md")

    assert error.path == str(folder / "zz-broken.md")


def test_crlf_and_bom_file_parses_like_the_lf_file(tmp_path: Path) -> None:
    lf = tmp_path / "lf.md"
    lf.write_text(GOOD, encoding="utf-8")
    crlf = tmp_path / "crlf.md"
    crlf.write_bytes(b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode("utf-8"))

    plain, windows = parse_document(lf), parse_document(crlf)

    assert windows.title == plain.title == "A good post"
    assert (windows.author, windows.url, windows.published) == (
        "Someone",
        "https://example.org/post",
        "2024-01-01",
    )
    assert windows.body == plain.body and "\r" not in windows.body
    assert windows.body_line == plain.body_line == 8
    assert [p.text for p in chunk_document(windows)] == [p.text for p in chunk_document(plain)]


def test_hidden_and_non_markdown_files_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "post.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / ".draft.md").write_text("garbage", encoding="utf-8")
    (tmp_path / "README.txt").write_text("garbage", encoding="utf-8")

    documents = load_knowledge(tmp_path)

    assert [d.title for d in documents] == ["A good post"]


def test_the_fixture_corpus_is_valid() -> None:
    documents = load_knowledge(FIXTURE_KNOWLEDGE)

    assert len(documents) == 3
    assert all(d.body.strip() for d in documents)
