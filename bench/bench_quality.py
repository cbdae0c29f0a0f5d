"""Answer and retrieval quality on the dev sets (the `careerbot eval` numbers), cold and warm.

Also prints how many of the answer set's first turns have their gold advice in the top 5 / 10
retrieved passages: the cap on what any quote composer can reach.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from bench_answer import ensure_index  # noqa: E402

# The shared dev set, and two sets written apart from it by newcomer-minded readers
# (questions first, then gold phrases from the posts) to check what generalises. The third
# was written by a reader who saw only the posts and the format, and was kept out of the
# repository while the rules it judged were built.
ANSWERS = (
    REPO / "tests" / "fixtures" / "eval_answers_dev.jsonl",
    REPO / "tests" / "fixtures" / "eval_answers_extra.jsonl",
    REPO / "tests" / "fixtures" / "eval_answers_third.jsonl",
)
QUESTIONS = (
    REPO / "tests" / "fixtures" / "eval_dev.jsonl",
    REPO / "tests" / "fixtures" / "eval_extra.jsonl",
)


def run(knowledge: Path) -> dict[str, Any]:
    """Build an index in a temp dir, then run the answer eval twice (cold, warm) and retrieval."""
    from bot.evaluation import (
        evaluate,
        evaluate_answers,
        first_hit,
        load_answer_rows,
        load_questions,
    )
    from bot.models import Answer, Question
    from bot.settings import Settings
    from bot.wiring import build_careerbot

    with tempfile.TemporaryDirectory(prefix="careerbot-bench-") as tmp:
        data = Path(tmp) / "data"
        ensure_index(knowledge, data)
        settings = Settings(_env_file=None, knowledge_dir=knowledge, data_dir=data)  # type: ignore[call-arg]
        bot = build_careerbot(settings)
        bot.retriever.refresh()
        out: dict[str, Any] = {}
        try:
            for path in ANSWERS:
                rows = load_answer_rows(path)
                name = path.stem.removeprefix("eval_")
                for label in ("cold", "warm"):

                    async def ask(
                        key: str, text: str, label: str = label, name: str = name
                    ) -> Answer:
                        q = Question(
                            text=text, asker="bench", conversation_key=f"{name}:{label}:{key}"
                        )
                        return await bot.answer(q)

                    result = asyncio.run(evaluate_answers(ask, rows))
                    out[f"{name}_{label}"] = result.to_json()
                # What retrieval lets the composer reach: the set's first turns whose gold
                # advice is in the top 5 / top 10 passages (the quote cap).
                firsts = [r for r in rows if r.gold and not r.followup_of]
                ranks = [first_hit(bot.retriever.search(r.q, 10).passages, r.gold) for r in firsts]
                out[f"retrieval_{name}"] = {
                    "gold_in_top5": sum(1 for k in ranks if k is not None and k <= 5),
                    "gold_in_top10": sum(1 for k in ranks if k is not None),
                    "mrr_at_10": round(sum(1 / k for k in ranks if k) / len(ranks), 4),
                    "n": len(ranks),
                }
            for path in QUESTIONS:
                report = evaluate(
                    lambda q, k: bot.retriever.search(q, k).passages, load_questions(path)
                )
                out[f"retrieval_{path.stem}"] = report.to_json()
        finally:
            bot.close()
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the numbers; with --json the last line is one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args(argv)
    for name in list(os.environ):
        if name.startswith("CAREERBOT_"):
            del os.environ[name]
    result = run(args.knowledge.resolve())
    for name, numbers in result.items():
        line = ", ".join(f"{k} {v}" for k, v in numbers.items())
        print(f"{name}: {line}", file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
