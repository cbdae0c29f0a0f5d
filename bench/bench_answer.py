"""Retrieval and extractive-answer latency (p50/p95) over the dev questions, and process RSS."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
QUESTION_FILES = (
    REPO / "tests" / "fixtures" / "eval_dev.jsonl",
    REPO.parent / "shared" / "eval" / "dev_questions.jsonl",
)


def rss_mb() -> float:
    """Current resident set size (VmRSS) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def max_rss_mb() -> float:
    """Peak resident set size so far in MB (ru_maxrss is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_questions(path: Path | None) -> tuple[Path, list[str]]:
    """The questions of a JSONL file ({"q": ...} per line)."""
    found = path or next((p for p in QUESTION_FILES if p.is_file()), None)
    if found is None:
        raise SystemExit("no question file found; pass --questions")
    lines = found.read_text(encoding="utf-8").splitlines()
    return found, [json.loads(line)["q"] for line in lines if line.strip()]


def ensure_index(knowledge: Path, data: Path) -> None:
    """Build the index in a child process, so this process measures a serving bot only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERBOT_")}
    env.update(CAREERBOT_KNOWLEDGE_DIR=str(knowledge), CAREERBOT_DATA_DIR=str(data))
    subprocess.run(
        [sys.executable, "-m", "bot", "ingest"],
        env=env,
        cwd=data.parent,
        check=True,
        stdout=subprocess.DEVNULL,
    )


@contextmanager
def serving_bot(knowledge: Path) -> Iterator[Any]:
    """A bot serving `knowledge`, indexed by `ensure_index` in a temporary data dir."""
    from bot.settings import Settings
    from bot.wiring import build_careerbot

    with tempfile.TemporaryDirectory(prefix="careerbot-bench-") as tmp:
        data = Path(tmp) / "data"
        ensure_index(knowledge, data)
        settings = Settings(_env_file=None, knowledge_dir=knowledge, data_dir=data)  # type: ignore[call-arg]
        bot = build_careerbot(settings)
        try:
            yield bot
        finally:
            bot.close()


def clear_careerbot_env() -> None:
    """Forget CAREERBOT_* settings from the shell: a bench measures the defaults."""
    for name in list(os.environ):
        if name.startswith("CAREERBOT_"):
            del os.environ[name]


def print_numbers(result: dict[str, dict[str, Any]], as_json: bool) -> None:
    """One "name: key value, …" line per group; with `as_json` those go to stderr and one
    JSON object is printed last."""
    for name, numbers in result.items():
        line = ", ".join(f"{k} {v}" for k, v in numbers.items())
        print(f"{name}: {line}", file=sys.stderr if as_json else sys.stdout)
    if as_json:
        print(json.dumps(result))


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds."""
    values = np.asarray(samples) * 1000
    return {"p50_ms": float(np.percentile(values, 50)), "p95_ms": float(np.percentile(values, 95))}


async def measure(bot: Any, questions: list[str], repeat: int) -> dict[str, Any]:
    """Time retrieval (search only) and full extractive answers for every question."""
    from bot.models import Question

    retrieval: list[float] = []
    answering: list[float] = []
    warm: list[float] = []  # passes after the first: every sentence vector already cached
    bot.retriever.search("warm-up question about research careers")
    for n in range(repeat):
        for i, text in enumerate(questions):
            started = time.perf_counter()
            bot.retriever.search(text)
            retrieval.append(time.perf_counter() - started)
            question = Question(text=text, asker="bench", conversation_key=f"bench:{n}:{i}")
            started = time.perf_counter()
            await bot.answer(question)
            answering.append(time.perf_counter() - started)
            if n:
                warm.append(answering[-1])
    return {
        "retrieval": percentiles(retrieval),
        "answer": percentiles(answering),
        "answer_warm": percentiles(warm) if warm else percentiles(answering),
        "samples": len(retrieval),
    }


def run(knowledge: Path, questions_file: Path | None, repeat: int) -> dict[str, Any]:
    """Build a serving bot over an up-to-date index and measure it."""
    from bot.settings import Settings
    from bot.wiring import build_careerbot

    source, questions = load_questions(questions_file)
    with tempfile.TemporaryDirectory(prefix="careerbot-bench-") as tmp:
        data = Path(tmp) / "data"
        ensure_index(knowledge, data)
        rss_start = rss_mb()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            knowledge_dir=knowledge,
            data_dir=data,
        )
        bot = build_careerbot(settings)
        try:
            report = bot.reload_sync()  # a no-op: the child process built the index
            load = getattr(bot.retriever.embedder, "load", None)
            if callable(load):
                load()
            rss_loaded = rss_mb()
            result = asyncio.run(measure(bot, questions, repeat))
        finally:
            bot.close()
    result.update(
        questions=str(source),
        passages=report.passages,
        rss_start_mb=rss_start,
        rss_loaded_mb=rss_loaded,
        rss_after_mb=rss_mb(),
        max_rss_mb=max_rss_mb(),
    )
    return result


def main(argv: list[str] | None = None) -> int:
    """Print latencies and memory; with --json the last line is one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    parser.add_argument("--questions", type=Path, default=None, help="JSONL with a 'q' key")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the questions")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args(argv)
    clear_careerbot_env()
    r = run(args.knowledge.resolve(), args.questions, args.repeat)
    print(
        f"questions: {r['samples']} ({r['questions']}), index: {r['passages']} passages\n"
        f"retrieval:          p50 {r['retrieval']['p50_ms']:7.1f} ms   "
        f"p95 {r['retrieval']['p95_ms']:7.1f} ms\n"
        f"extractive answer:  p50 {r['answer']['p50_ms']:7.1f} ms   "
        f"p95 {r['answer']['p95_ms']:7.1f} ms (all passes)\n"
        f"  warm (pass 2+):   p50 {r['answer_warm']['p50_ms']:7.1f} ms   "
        f"p95 {r['answer_warm']['p95_ms']:7.1f} ms\n"
        f"RSS: {r['rss_start_mb']:.0f} MB at start, {r['rss_loaded_mb']:.0f} MB after loading, "
        f"{r['rss_after_mb']:.0f} MB after the run, peak {r['max_rss_mb']:.0f} MB",
        file=sys.stderr if args.json else sys.stdout,
    )
    if args.json:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
