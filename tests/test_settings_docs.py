"""README's configuration table and .env.example stay in step with bot/settings.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("settings_docs", ROOT / "tools/settings_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_env_example_is_current() -> None:
    assert (ROOT / ".env.example").read_text(encoding="utf-8") == _tool().env_example(), (
        "run: python tools/settings_docs.py"
    )


def test_readme_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme == _tool().readme_with_table(readme), "run: python tools/settings_docs.py"
