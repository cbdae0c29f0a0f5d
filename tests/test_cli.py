"""The `careerbot` command end to end, in subprocesses over a copy of the fixture corpus."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_KNOWLEDGE

REPO = Path(__file__).resolve().parents[1]
ON_TOPIC = "How should I find my personal fit for AI safety work?"
OFF_TOPIC = "What is a good recipe for sourdough bread with rye flour?"


@dataclass
class Workspace:
    """A knowledge folder and a data dir the subprocesses are pointed at."""

    root: Path
    knowledge: Path
    data: Path

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("CAREERBOT_")}
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=self.root,  # keeps the repo's .env (if any) out of the test
            env={
                **base,
                "PYTHONPATH": str(REPO),
                "CAREERBOT_KNOWLEDGE_DIR": str(self.knowledge),
                "CAREERBOT_DATA_DIR": str(self.data),
                **env,
            },
            capture_output=True,
            text=True,
            timeout=300,
        )


def _workspace(root: Path, source: Workspace | None = None) -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    ws = Workspace(root, root / "knowledge", root / "data")
    shutil.copytree(source.knowledge if source else FIXTURE_KNOWLEDGE, ws.knowledge)
    if source:
        shutil.copytree(source.data, ws.data)
    return ws


@pytest.fixture(scope="module")
def indexed(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Workspace, subprocess.CompletedProcess[str]]:
    """A workspace after one cold `careerbot ingest`, and that run's result."""
    ws = _workspace(tmp_path_factory.mktemp("cli"))
    return ws, ws.run("ingest")


@pytest.fixture
def copy_of(tmp_path: Path) -> Callable[[Workspace], Workspace]:
    """A private copy of a workspace (knowledge and index) that a test may break."""
    return lambda ws: _workspace(tmp_path / "ws", ws)


def _last_json(stdout: str) -> dict[str, object]:
    lines = stdout.strip().splitlines()
    assert lines, "no stdout"
    value = json.loads(lines[-1])
    assert isinstance(value, dict)
    return value


def test_ingest_prints_a_summary_and_a_second_run_is_unchanged(
    indexed: tuple[Workspace, subprocess.CompletedProcess[str]],
) -> None:
    ws, first = indexed
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().splitlines()[-1].startswith("Reloaded: 3 documents, ")

    second = ws.run("reload")

    assert second.returncode == 0, second.stderr
    assert second.stdout.strip().startswith("Knowledge base unchanged: 3 documents, ")


def test_ask_json_prints_one_object_with_the_documented_keys(
    indexed: tuple[Workspace, subprocess.CompletedProcess[str]],
) -> None:
    ws, _ = indexed

    result = ws.run("ask", "--json", ON_TOPIC)

    assert result.returncode == 0, result.stderr
    data = _last_json(result.stdout)
    assert set(data) == {
        "answer",
        "covered",
        "mode",
        "citations",
        "notices",
        "usage",
        "suggestions",
    }
    assert data["notices"] == [] and data["usage"] is None  # usage is for LLM answers
    assert all(isinstance(s, str) and s.endswith("?") for s in data["suggestions"])
    assert data["covered"] is True and data["mode"] == "extractive"
    assert isinstance(data["answer"], str) and data["answer"]
    citations = data["citations"]
    assert isinstance(citations, list) and citations
    for citation in citations:
        assert set(citation) == {"title", "author", "url", "section", "quote"}
        assert isinstance(citation["title"], str) and isinstance(citation["quote"], str)
        assert citation["author"] is None or isinstance(citation["author"], str)
        assert citation["url"] is None or citation["url"].startswith("http")


def test_ask_off_topic_is_not_covered_and_cites_nothing(
    indexed: tuple[Workspace, subprocess.CompletedProcess[str]],
) -> None:
    ws, _ = indexed

    result = ws.run("ask", "--json", OFF_TOPIC)

    assert result.returncode == 0, result.stderr
    data = _last_json(result.stdout)
    assert data["covered"] is False
    assert data["citations"] == []


def test_broken_file_fails_ingest_in_one_line_and_the_old_index_still_answers(
    indexed: tuple[Workspace, subprocess.CompletedProcess[str]],
    copy_of: Callable[[Workspace], Workspace],
) -> None:
    ws = copy_of(indexed[0])
    (ws.knowledge / "broken.md").write_text("---\ntitle: [oops\n---\nBody.\n", encoding="utf-8")

    failed = ws.run("ingest")

    assert failed.returncode == 1
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1, failed.stderr
    assert "broken.md:2" in lines[0] and "nothing was changed" in lines[0]

    asked = ws.run("ask", "--json", ON_TOPIC)

    assert asked.returncode == 0, asked.stderr
    data = _last_json(asked.stdout)
    assert data["covered"] is True and data["citations"]
    # `ask` only reads the index; it neither re-reads nor re-indexes knowledge/.
    assert "broken.md" not in asked.stderr


def test_doctor_passes_on_a_healthy_setup(
    indexed: tuple[Workspace, subprocess.CompletedProcess[str]],
) -> None:
    ws, _ = indexed

    result = ws.run("doctor")

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines and all(line.startswith("ok   ") for line in lines)
    assert any("index: " in line for line in lines)


def test_doctor_fails_with_one_line_when_the_index_is_missing(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)

    result = ws.run("doctor")

    assert result.returncode == 1
    failures = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failures) == 1
    assert "index" in failures[0] and "careerbot ingest" in failures[0]


def test_serve_slack_without_tokens_exits_2_naming_the_variable(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)

    result = ws.run("serve", "slack")

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "CAREERBOT_SLACK__BOT_TOKEN" in lines[0]
    assert not ws.data.exists()  # failed before building anything


def test_unusable_chat_model_is_one_line(
    indexed: tuple[Workspace, subprocess.CompletedProcess[str]],
) -> None:
    ws, _ = indexed
    result = ws.run(
        "ask", ON_TOPIC, CAREERBOT_LLM__MODEL="nosuchprovider:m", CAREERBOT_LLM__API_KEY="sk-x1"
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "sk-x1" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "nosuchprovider" in line


def test_dry_run_rollback_and_audit_from_the_command_line(
    indexed: tuple[Workspace, subprocess.CompletedProcess[str]],
    copy_of: Callable[[Workspace], Workspace],
) -> None:
    ws = copy_of(indexed[0])
    mats = (ws.knowledge / "mats-experience.md").read_text(encoding="utf-8")
    (ws.knowledge / "another-mats.md").write_text(
        mats.replace("My MATS Summer 2023", "Another MATS"), encoding="utf-8"
    )

    dry = ws.run("reload", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("Dry run: reload would switch to a new index generation.")
    assert "Added: another-mats.md (0 → " in dry.stdout

    nothing = ws.run("rollback")
    assert nothing.returncode == 1
    assert nothing.stderr.strip().splitlines() == [
        "careerbot: There is no previous index generation to roll back to: only one has been "
        "built so far."
    ]

    assert ws.run("reload").stdout.startswith("Reloaded: 4 documents")
    rolled = ws.run("rollback")
    assert rolled.returncode == 0, rolled.stderr
    assert rolled.stdout.startswith("Rolled back: now serving careerbot-g")
    assert "from 3 files; replaced careerbot-g" in rolled.stdout
    assert ws.run("ask", "--json", ON_TOPIC).returncode == 0

    audit = ws.run("audit", "--since", "1d")
    assert audit.returncode == 0, audit.stderr
    # Earlier rows come from the shared workspace's `ingest`/`reload` runs; ours are the last.
    rows = [line.split("  ", 3) for line in audit.stdout.strip().splitlines()][-4:]
    assert [(row[2], row[3].split(":")[0]) for row in rows] == [
        ("reload-dry-run", "ok"),
        ("rollback", "failed"),
        ("reload", "ok"),
        ("rollback", "ok"),
    ]
    assert all(row[1].startswith("cli:") for row in rows)
    assert "no previous index generation" in rows[1][3]
    as_json = [json.loads(line) for line in ws.run("audit", "--json").stdout.splitlines()]
    assert {row["platform"] for row in as_json} == {"cli"}

    bad = ws.run("audit", "--since", "7y")
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "--since: '7y'" in bad.stderr
