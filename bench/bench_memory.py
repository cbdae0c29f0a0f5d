"""Memory of a serving bot: RSS after start-up, after the first answer and after N answers.

Also lists what the first answer loads (modules imported by it) and the largest Python
allocations it makes (tracemalloc; native buffers such as the ONNX session are only visible
in RSS). `--source DIR` measures another checkout for before/after numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = REPO / "tests" / "fixtures" / "eval_dev.jsonl"


def rss_mb() -> float:
    """Current resident set size (VmRSS) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def top_packages(names: set[str], limit: int = 12) -> list[str]:
    """Top-level packages among module names, the most modules first."""
    counts: dict[str, int] = {}
    for name in names:
        top = name.split(".")[0]
        counts[top] = counts.get(top, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])[:limit]
    return [f"{name} ({n})" for name, n in ranked]


async def answer_all(bot: Any, questions: list[str], n: int) -> None:
    """Answer `n` questions, cycling through the list, each in its own conversation."""
    from bot.models import Question

    for i in range(n):
        text = questions[i % len(questions)]
        await bot.answer(Question(text=text, asker="bench", conversation_key=f"mem:{i}"))


def measure(source: Path, knowledge: Path, answers: int) -> dict[str, Any]:
    """Build the bot the way `serve` does and sample RSS around its answers."""
    sys.path.insert(0, str(source))
    questions = [
        json.loads(line)["q"] for line in QUESTIONS.read_text().splitlines() if line.strip()
    ]
    with tempfile.TemporaryDirectory(prefix="careerbot-mem-") as tmp:
        data = Path(tmp) / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERBOT_")}
        env.update(
            PYTHONPATH=str(source),
            CAREERBOT_KNOWLEDGE_DIR=str(knowledge),
            CAREERBOT_DATA_DIR=str(data),
        )
        subprocess.run(
            [sys.executable, "-m", "bot", "ingest"], env=env, check=True, capture_output=True
        )
        from bot.settings import Settings
        from bot.wiring import build_careerbot

        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            knowledge_dir=knowledge,
            data_dir=data,
        )
        bot = build_careerbot(settings)
        # As `serve` does: build the answering core before the first question. Importing
        # its langchain/langsmith stack during the first answer, after the ONNX session
        # is allocated, measured ~50 MB more RSS for the rest of the process's life.
        if hasattr(type(bot), "answerer"):
            bot.answerer  # noqa: B018
        started = rss_mb()
        before = set(sys.modules)
        tracemalloc.start()
        asyncio.run(answer_all(bot, questions, 1))
        snapshot = tracemalloc.take_snapshot()
        tracemalloc.stop()
        first = rss_mb()
        loaded = set(sys.modules) - before
        asyncio.run(answer_all(bot, questions, answers - 1))
        after = rss_mb()
        bot.close()
    stats = snapshot.statistics("filename")[:8]
    return {
        "source": str(source),
        "rss_start_mb": started,
        "rss_first_answer_mb": first,
        "rss_after_mb": after,
        "answers": answers,
        "first_answer_imports": len(loaded),
        "first_answer_packages": top_packages(loaded),
        "first_answer_python_allocs": [
            f"{s.traceback[0].filename.split('site-packages/')[-1]}: {s.size / 2**20:.1f} MB"
            for s in stats
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """Print the numbers; with --json the last line is one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=REPO, help="checkout to measure")
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    parser.add_argument("--answers", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    for name in list(os.environ):
        if name.startswith("CAREERBOT_"):
            del os.environ[name]
    r = measure(args.source.resolve(), args.knowledge.resolve(), args.answers)
    print(
        f"RSS: {r['rss_start_mb']:.0f} MB at start, {r['rss_first_answer_mb']:.0f} MB after "
        f"the first answer, {r['rss_after_mb']:.0f} MB after {r['answers']} answers\n"
        f"the first answer imported {r['first_answer_imports']} modules: "
        f"{', '.join(r['first_answer_packages'])}\n"
        f"its largest Python allocations: {'; '.join(r['first_answer_python_allocs'])}",
        file=sys.stderr if args.json else sys.stdout,
    )
    if args.json:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
