"""Ingest timings over the real knowledge/: cold, no-op re-ingest, one file changed."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# Appended to one paragraph for the "one file changed" run; a new sentence, not new structure.
EDIT = " (This sentence was added by the ingest benchmark.)"


def _clean_environment() -> None:
    """Measure the defaults, not whatever the developer's shell configures."""
    for name in list(os.environ):
        if name.startswith("CAREERBOT_"):
            del os.environ[name]


def edit_one_file(folder: Path) -> Path:
    """Append a sentence to the first long paragraph of the first knowledge file."""
    path = sorted(folder.glob("*.md"))[0]
    lines = path.read_text(encoding="utf-8").split("\n")
    closing = lines.index("---", 1)
    for n in range(closing + 1, len(lines)):
        line = lines[n]
        if len(line.split()) > 30 and not line.lstrip().startswith(("#", "-", "*", ">")):
            lines[n] = line.rstrip() + EDIT
            path.write_text("\n".join(lines), encoding="utf-8")
            return path
    raise SystemExit(f"no paragraph to edit in {path}")


def run(knowledge: Path) -> dict[str, Any]:
    """Build a bot over a copy of `knowledge` in a fresh data dir and time three ingests."""
    from bot.settings import Settings
    from bot.wiring import build_careerbot

    with tempfile.TemporaryDirectory(prefix="careerbot-bench-") as tmp:
        folder = Path(tmp) / "knowledge"
        shutil.copytree(knowledge, folder)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            knowledge_dir=folder,
            data_dir=Path(tmp) / "data",
        )
        started = time.perf_counter()
        bot = build_careerbot(settings)
        load = getattr(bot.index.embedder, "load", None)
        if callable(load):
            load()
        build_s = time.perf_counter() - started
        try:
            timings: dict[str, Any] = {"model_load_s": build_s}
            for label in ("cold", "noop", "one_file"):
                if label == "one_file":
                    timings["changed_file"] = edit_one_file(folder).name
                started = time.perf_counter()
                report = bot.reload_sync()
                timings[f"{label}_s"] = time.perf_counter() - started
                timings[f"{label}_embedded"] = report.embedded
                timings[f"{label}_added"] = report.added
                timings["passages"] = report.passages
                timings["documents"] = report.documents
        finally:
            bot.close()
    return timings


def main(argv: list[str] | None = None) -> int:
    """Print ingest timings; with --json the last line is one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args(argv)
    _clean_environment()
    result = run(args.knowledge)
    print(
        f"corpus: {result['documents']} documents, {result['passages']} passages\n"
        f"model load:            {result['model_load_s']:7.2f} s\n"
        f"cold ingest:           {result['cold_s']:7.2f} s  "
        f"({result['cold_embedded']} passages embedded)\n"
        f"no-op re-ingest:       {result['noop_s']:7.2f} s  "
        f"({result['noop_embedded']} embedded)\n"
        f"one file changed:      {result['one_file_s']:7.2f} s  "
        f"({result['one_file_embedded']} embedded; {result['changed_file']})",
        file=sys.stderr if args.json else sys.stdout,
    )
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
