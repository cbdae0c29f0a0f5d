"""Dependency direction from HOUSE_STYLE, checked on the real source tree."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_core_imports_no_platform_library_and_does_no_io_at_import() -> None:
    code = (
        "import sys, socket\n"
        "def refuse(*a, **k): raise AssertionError('network at import time')\n"
        "socket.socket.connect = refuse\n"
        "import bot.answering, bot.service, bot.retrieval, bot.index, bot.wiring\n"
        "import bot.adapters.render_slack, bot.adapters.render_discord\n"
        "bad = [m for m in ('slack_bolt', 'slack_sdk', 'discord', 'onnxruntime', 'chromadb')"
        " if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=BOT.parent, check=False
    )
    assert result.returncode == 0, result.stderr


def test_only_wiring_and_main_read_settings() -> None:
    readers = {
        path.relative_to(BOT).as_posix()
        for path in BOT.rglob("*.py")
        if "bot.settings" in imports_of(path)
    }
    assert readers <= {"wiring.py", "__main__.py", "settings.py", "doctor.py"}, readers


def test_adapters_never_import_each_other() -> None:
    allowed = {
        "slack_app": {"textsplit", "render_slack"},
        "discord_bot": {"textsplit", "render_discord"},
        "render_slack": {"textsplit"},
        "render_discord": {"textsplit"},
        "terminal": set(),
        "textsplit": set(),
        "__init__": set(),
    }
    for path in (BOT / "adapters").glob("*.py"):
        used = {m.rsplit(".", 1)[1] for m in imports_of(path) if m.startswith("bot.adapters.")}
        assert used <= allowed[path.stem], f"{path.name} imports {used - allowed[path.stem]}"


def test_core_never_imports_adapters() -> None:
    for path in BOT.glob("*.py"):
        if path.name in ("wiring.py", "__main__.py"):
            continue
        assert not any(m.startswith("bot.adapters") for m in imports_of(path)), path.name
