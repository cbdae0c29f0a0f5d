"""Retrieval quality (hit@k, MRR@10) and latency (p50/p95) over the eval question sets.

Besides the retrieval sets it scores the opening questions of the answer sets (rows with gold
that are not follow-ups): chatty, multi-clause messages, where the passage holding the key
advice must be among the ten the quote composer reads.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SETS = (
    REPO / "tests" / "fixtures" / "eval_dev.jsonl",
    REPO / "tests" / "fixtures" / "eval_extra.jsonl",
    REPO / "tests" / "fixtures" / "eval_fourth.jsonl",
    REPO / "tests" / "fixtures" / "eval_fifth.jsonl",
    REPO / "tests" / "fixtures" / "eval_sixth.jsonl",
)
DEFAULT_ANSWER_SETS = (
    REPO / "tests" / "fixtures" / "eval_answers_dev.jsonl",
    REPO / "tests" / "fixtures" / "eval_answers_extra.jsonl",
    REPO / "tests" / "fixtures" / "eval_answers_third.jsonl",
    REPO / "tests" / "fixtures" / "eval_answers_followups.jsonl",
    REPO / "tests" / "fixtures" / "eval_answers_fourth.jsonl",
    REPO / "tests" / "fixtures" / "eval_answers_fifth.jsonl",
    REPO / "tests" / "fixtures" / "eval_answers_sixth.jsonl",
)


def first_turns(path: Path) -> list[Any]:
    """An answers file's opening questions with gold, as retrieval questions.

    Follow-ups are left out (alone they lack their topic) and so are rows that should be
    declined (no gold passage exists).
    """
    from bot.evaluation import EvalQuestion, load_answer_rows

    return [
        EvalQuestion(q=row.q, gold=row.gold, line=row.line)
        for row in load_answer_rows(path)
        if row.followup_of is None and row.gold
    ]


def build_retriever(knowledge: Path) -> tuple[Any, dict[str, float]]:
    """Embed `knowledge` into an in-memory Chroma and return a ready Retriever with timings."""
    import chromadb

    from bot.embeddings import ONNX_MODEL_NAME, CachedEmbeddings, OnnxMiniLMEmbeddings
    from bot.index import KnowledgeIndex
    from bot.knowledge import chunk_documents, load_knowledge
    from bot.retrieval import RetrievalConfig, Retriever

    started = time.perf_counter()
    embedder = OnnxMiniLMEmbeddings()
    embedder.load()
    loaded = time.perf_counter()
    passages = chunk_documents(load_knowledge(knowledge))
    index = KnowledgeIndex(
        chromadb.EphemeralClient(), embedder, ONNX_MODEL_NAME, prefix=f"bench-{uuid.uuid4().hex}"
    )
    index.sync(passages)
    indexed = time.perf_counter()
    # As wired for serving: queries and candidate sentences go through the cache, so the
    # sentence ranking embeds a passage's sentences once, not once per question.
    retriever = Retriever(index, CachedEmbeddings(embedder), RetrievalConfig())
    retriever.refresh()
    retriever.search("warm-up question about research careers")
    return retriever, {
        "model_load_s": loaded - started,
        "index_s": indexed - loaded,
        "passages": float(len(passages)),
    }


def main(argv: list[str] | None = None) -> int:
    """Print metrics per question set; with --json the last line is one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--questions",
        type=Path,
        action="append",
        help="JSONL file (repeatable; default: dev, extra)",
    )
    parser.add_argument(
        "--answers",
        type=Path,
        action="append",
        help="answers JSONL whose first turns are scored (repeatable; default: the dev and "
        "extra answer sets when no --questions is given)",
    )
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    parser.add_argument("--k", type=int, default=10, help="passages retrieved per question")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))
    from bot.evaluation import evaluate, load_questions

    retriever, timings = build_retriever(args.knowledge)
    results: dict[str, Any] = {"setup": timings, "sets": {}}
    print(
        f"{int(timings['passages'])} passages; model load {timings['model_load_s']:.2f} s, "
        f"index {timings['index_s']:.2f} s"
    )
    sets: list[tuple[str, list[Any]]] = []
    defaults = not args.questions and not args.answers
    for path in args.questions or ([p for p in DEFAULT_SETS if p.is_file()] if defaults else []):
        sets.append((path.name, load_questions(path)))
    for path in args.answers or (
        [p for p in DEFAULT_ANSWER_SETS if p.is_file()] if defaults else []
    ):
        sets.append((f"{path.name} (first turns)", first_turns(path)))
    for name, questions in sets:
        report = evaluate(lambda q, k: retriever.search(q, k).passages, questions, k_max=args.k)
        results["sets"][name] = report.to_json()
        print(f"\n== {name}")
        print(report.format_text())
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
