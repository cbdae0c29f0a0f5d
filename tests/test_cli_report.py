"""`careerbot report` end to end in subprocesses: text, --json, --html and a bad --since."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import OFF_TOPIC, ON_TOPIC, _workspace


def test_report_counts_what_the_cli_answered_and_declined(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    assert ws.run("ingest").returncode == 0
    for question in (ON_TOPIC, OFF_TOPIC):
        asked = ws.run("ask", question)
        assert asked.returncode == 0, asked.stderr

    result = ws.run("report", "--json", "--since", "24h")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["totals"] == {
        "answers": 2,
        "covered": 1,
        "declined": 1,
        "upvotes": 0,
        "downvotes": 0,
    }
    assert data["by_platform"] == {"cli": {"extractive": {"covered": 1, "declined": 1}}}
    assert [g["example"] for g in data["declined_questions"]] == [OFF_TOPIC]
    assert data["cited_posts"] and data["never_cited_sections"]

    text = ws.run("report")
    assert text.returncode == 0, text.stderr
    assert "Declined questions" in text.stdout and OFF_TOPIC in text.stdout

    page = tmp_path / "report.html"
    written = ws.run("report", "--html", str(page))
    assert written.returncode == 0, written.stderr
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert OFF_TOPIC in page.read_text(encoding="utf-8")


def test_a_bad_window_or_unwritable_file_is_one_line(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    bad = ws.run("report", "--since", "last tuesday")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "--since" in bad.stderr
    unwritable = ws.run("report", "--html", str(tmp_path / "missing" / "dir" / "r.html"))
    assert unwritable.returncode == 2, unwritable.stderr
    assert unwritable.stderr.strip().count("\n") == 0 and "cannot write" in unwritable.stderr
