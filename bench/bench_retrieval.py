"""Retrieval quality (hit@k, MRR@10) and latency (p50/p95) over the eval question sets."""

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
)


def build_retriever(knowledge: Path) -> tuple[Any, dict[str, float]]:
    """Embed `knowledge` into an in-memory Chroma and return a ready Retriever with timings."""
    import chromadb

    from bot.embeddings import ONNX_MODEL_NAME, OnnxMiniLMEmbeddings
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
    retriever = Retriever(index, embedder, RetrievalConfig())
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
    for path in args.questions or [p for p in DEFAULT_SETS if p.is_file()]:
        report = evaluate(
            lambda q, k: retriever.search(q, k).passages, load_questions(path), k_max=args.k
        )
        results["sets"][path.name] = report.to_json()
        print(f"\n== {path.name}")
        print(report.format_text())
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
