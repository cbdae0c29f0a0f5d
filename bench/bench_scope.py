"""Scope decisions on questions written apart from the answer sets: in-scope questions declined,
near-scope (career facts the posts never give: pay, visas, benefits) and off-topic answered.

`tests/fixtures/scope_questions.jsonl`: sets s1-s3 were written while the scope rules were
tuned; s4 was written before the head-word rules were tried and is the fairer reading. Seven
questions about the asker's age ("am I too old for this? I'm 45") were labelled in-scope when
written and are near-scope since the posts were found never to speak of age (two held-out
sets written blind said so too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from bench_answer import clear_careerbot_env, print_numbers, serving_bot  # noqa: E402

QUESTIONS = REPO / "tests" / "fixtures" / "scope_questions.jsonl"


def run(knowledge: Path, verbose: bool) -> dict[str, Any]:
    """Ask every question once in a fresh conversation; count the wrong scope decisions."""
    from bot.models import Question

    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]
    wrong: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    with serving_bot(knowledge) as bot:
        bot.retriever.refresh()
        for i, row in enumerate(rows):
            # One asker per question: the fair-use limit counts per asker.
            q = Question(text=row["q"], asker=f"bench{i}", conversation_key=f"scope:{i}")
            answer = asyncio.run(bot.answer(q))
            key = (row["set"], row["kind"])
            total[key] += 1
            if answer.covered != (row["kind"] == "in-scope"):
                wrong[key] += 1
                if verbose:
                    print(f"  {row['set']} {row['kind']}: {row['q']}", file=sys.stderr)
    out: dict[str, Any] = {}
    for (name, kind), n in sorted(total.items()):
        what = "declined" if kind == "in-scope" else "answered"
        out.setdefault(name, {})[f"{kind} {what}"] = f"{wrong[(name, kind)]}/{n}"
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the numbers; with --json the last line is one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the wrong decisions")
    args = parser.parse_args(argv)
    clear_careerbot_env()
    print_numbers(run(args.knowledge.resolve(), args.verbose), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
