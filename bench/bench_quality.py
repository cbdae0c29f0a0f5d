"""Answer and retrieval quality on the dev sets (the `careerbot eval` numbers), cold and warm.

Also prints how many of the answer set's first turns have their gold advice in the top 5 / 10
retrieved passages: the cap on what any quote composer can reach.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from bench_answer import clear_careerbot_env, print_numbers, serving_bot  # noqa: E402
from bench_retrieval import DEFAULT_ANSWER_SETS, DEFAULT_SETS  # noqa: E402

# The shared dev set, and sets written apart from it by newcomer-minded readers who saw only the
# posts and the row format (questions first, then gold phrases from the posts), to check what
# generalises: extra; third (kept out of the repository while the rules it judged were built);
# followups (20 conversations of a first turn and one follow-up: "why tho", "any others?");
# fourth (36 answer rows, plus 20 retrieval questions in eval_fourth.jsonl), fifth and sixth
# (40 and 20 each), each kept out of the repository until the end of the session it judged.
# The same sets bench_retrieval scores.
ANSWERS = DEFAULT_ANSWER_SETS
QUESTIONS = DEFAULT_SETS


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

    out: dict[str, Any] = {}
    with serving_bot(knowledge) as bot:
        bot.retriever.refresh()
        for path in ANSWERS:
            rows = load_answer_rows(path)
            name = path.stem.removeprefix("eval_")
            for label in ("cold", "warm"):

                async def ask(key: str, text: str, label: str = label, name: str = name) -> Answer:
                    q = Question(text=text, asker="bench", conversation_key=f"{name}:{label}:{key}")
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
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the numbers; with --json the last line is one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args(argv)
    clear_careerbot_env()
    print_numbers(run(args.knowledge.resolve()), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
