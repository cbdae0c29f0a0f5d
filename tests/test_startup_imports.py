"""The CLI imports heavy libraries only when a command needs them (checked in subprocesses)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_KNOWLEDGE

REPO = Path(__file__).resolve().parents[1]
PLATFORMS = ("slack_bolt", "slack_sdk", "discord")
# The chat-model stack (langchain_core's chat models pull in langsmith) and the ONNX runtime.
ANSWERING = ("onnxruntime", "tokenizers", "langchain", "langchain_core.language_models.chat_models")
PROBE = """
import json, runpy, sys
sys.argv = ["careerbot", *sys.argv[1:]]
code = 0
try:
    runpy.run_module("bot", run_name="__main__")
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fixture corpus with its index built, and the environment pointing at it."""
    root = tmp_path_factory.mktemp("imports")
    shutil.copytree(FIXTURE_KNOWLEDGE, root / "knowledge")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERBOT_")}
    env.update(
        PYTHONPATH=str(REPO),
        CAREERBOT_KNOWLEDGE_DIR=str(root / "knowledge"),
        CAREERBOT_DATA_DIR=str(root / "data"),
    )
    built = subprocess.run(
        [sys.executable, "-m", "bot", "ingest"], cwd=root, env=env, capture_output=True
    )
    assert built.returncode == 0, built.stderr
    return root, env


def imported(workspace: tuple[Path, dict[str, str]], *args: str) -> tuple[int, set[str]]:
    root, env = workspace
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    result = json.loads(done.stderr.strip().splitlines()[-1])
    return result["code"], set(result["modules"])


def test_help_imports_no_heavy_library(workspace: tuple[Path, dict[str, str]]) -> None:
    code, modules = imported(workspace, "--help")

    assert code == 0
    heavy = {"chromadb", "langchain_core", "sqlalchemy", *ANSWERING, *PLATFORMS}
    assert not heavy & modules, heavy & modules


def test_serve_without_a_token_fails_before_importing_anything_heavy(
    workspace: tuple[Path, dict[str, str]],
) -> None:
    code, modules = imported(workspace, "serve", "slack")

    assert code == 2
    assert not {"chromadb", *ANSWERING, *PLATFORMS} & modules


@pytest.mark.parametrize("command", ["doctor", "ingest"])
def test_read_only_and_no_op_commands_skip_the_answering_stack(
    workspace: tuple[Path, dict[str, str]], command: str
) -> None:
    code, modules = imported(workspace, command)

    assert code == 0
    assert not {*ANSWERING, *PLATFORMS} & modules, {*ANSWERING, *PLATFORMS} & modules
