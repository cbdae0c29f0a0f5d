"""LLM-reply checking: time per reply, and how often it keeps true claims and drops false ones.

For every dev question the real retriever picks passages; a synthetic "model reply" then
cites them with (a) sentences taken from the cited passage, (b) a claim with an invented
amount and (c) a passage's sentence cited as a different passage. No LLM is involved: this
measures the checker, not a model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_answer import REPO, clear_careerbot_env, load_questions, percentiles, serving_bot


def reply_for(passages: list[Any]) -> list[tuple[str, str]]:
    """(sentence, kind) pairs: faithful, invented or misattributed claims with markers."""
    from bot.grounding import passage_sentences

    claims: list[tuple[str, str]] = []
    for n, passage in enumerate(passages[:3], start=1):
        sentences = passage_sentences(passage)
        if sentences:
            claims.append((f"{sentences[0].rstrip('.!?')} [{n}].", "faithful"))
    claims.append(
        ("Most people in the field earn $412,000 a year after one course [1].", "invented")
    )
    last = passage_sentences(passages[0])
    if len(passages) >= 5 and len(last) > 1:
        claims.append((f"{last[-1].rstrip('.!?')} [5].", "misattributed"))
    return claims


def run(knowledge: Path, questions_file: Path | None) -> dict[str, Any]:
    """Check one synthetic reply per question; time cold and warm checks."""
    from bot.grounding import Grounder

    source, questions = load_questions(questions_file)
    cold: list[float] = []
    warm: list[float] = []
    seen: dict[str, int] = {}
    kept: dict[str, int] = {}
    with serving_bot(knowledge) as bot:
        embedder = bot.answerer.embedder
        embedder.embed_query("warm-up")
        for question in questions:
            passages = list(bot.retriever.search(question).passages)
            if not passages:
                continue
            claims = reply_for(passages)
            text = " ".join(sentence for sentence, _ in claims)
            started = time.perf_counter()
            grounded = Grounder(passages, embedder, question).ground(text)
            cold.append(time.perf_counter() - started)
            started = time.perf_counter()
            Grounder(passages, embedder, question).ground(text)
            warm.append(time.perf_counter() - started)
            shown = " ".join(grounded.text.split())
            for sentence, kind in claims:
                seen[kind] = seen.get(kind, 0) + 1
                claim = " ".join(sentence.rsplit(" [", 1)[0].split())
                kept[kind] = kept.get(kind, 0) + (claim in shown)

    def share(kind: str) -> float:
        return kept.get(kind, 0) / max(seen.get(kind, 0), 1)

    return {
        "questions": str(source),
        "replies": len(cold),
        "cold": percentiles(cold),
        "warm": percentiles(warm),
        "faithful_kept": share("faithful"),
        "invented_dropped": 1 - share("invented"),
        "misattributed_dropped": 1 - share("misattributed"),
        "claims": seen,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the numbers; with --json the last line is one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    parser.add_argument("--questions", type=Path, default=None, help="JSONL with a 'q' key")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args(argv)
    clear_careerbot_env()
    r = run(args.knowledge.resolve(), args.questions)
    print(
        f"replies checked: {r['replies']} ({r['questions']})\n"
        f"check time cold:  p50 {r['cold']['p50_ms']:6.1f} ms   p95 {r['cold']['p95_ms']:6.1f} ms\n"
        f"check time warm:  p50 {r['warm']['p50_ms']:6.1f} ms   p95 {r['warm']['p95_ms']:6.1f} ms\n"
        f"faithful claims kept:       {r['faithful_kept']:.0%}\n"
        f"invented amounts dropped:   {r['invented_dropped']:.0%}\n"
        f"misattributed claims dropped: {r['misattributed_dropped']:.0%}"
    )
    if args.json:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
