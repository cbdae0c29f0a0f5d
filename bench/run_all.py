"""Run every benchmark in its own process and print one compact table of the numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def run(script: str, *args: str) -> dict[str, Any]:
    """Run one bench script with --json; its last stdout line is the result."""
    done = subprocess.run(
        [sys.executable, str(HERE / script), "--json", *args],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def rows(ingest: dict[str, Any], answer: dict[str, Any]) -> list[tuple[str, str]]:
    """(metric, value) pairs for the table."""
    return [
        ("corpus", f"{ingest['documents']} documents, {ingest['passages']} passages"),
        ("model load", f"{ingest['model_load_s']:.2f} s"),
        ("cold ingest", f"{ingest['cold_s']:.2f} s ({ingest['cold_embedded']} embedded)"),
        ("no-op re-ingest", f"{ingest['noop_s']:.2f} s ({ingest['noop_embedded']} embedded)"),
        (
            "one file changed",
            f"{ingest['one_file_s']:.2f} s ({ingest['one_file_embedded']} embedded)",
        ),
        (
            "retrieval p50 / p95",
            f"{answer['retrieval']['p50_ms']:.1f} / {answer['retrieval']['p95_ms']:.1f} ms",
        ),
        (
            "extractive answer p50 / p95",
            f"{answer['answer']['p50_ms']:.1f} / {answer['answer']['p95_ms']:.1f} ms",
        ),
        (
            "extractive answer warm p50 / p95",
            f"{answer['answer_warm']['p50_ms']:.1f} / {answer['answer_warm']['p95_ms']:.1f} ms",
        ),
        ("latency samples", f"{answer['samples']} ({Path(answer['questions']).name})"),
        ("RSS after loading", f"{answer['rss_loaded_mb']:.0f} MB (VmRSS)"),
        ("RSS after answering", f"{answer['rss_after_mb']:.0f} MB (VmRSS)"),
        ("peak RSS", f"{answer['max_rss_mb']:.0f} MB (ru_maxrss)"),
    ]


def quality_rows(quality: dict[str, Any]) -> list[tuple[str, str]]:
    """The answer and retrieval eval numbers on the dev sets."""
    out: list[tuple[str, str]] = []
    for name in ("answers_dev", "answers_extra", "answers_third"):
        warm, cold = quality[f"{name}_warm"], quality[f"{name}_cold"]
        out += [
            (
                f"{name}: gold in quotes",
                f"{warm['gold_in_quotes']:.3f} (follow-ups {warm['followup_gold_in_quotes']:.3f})",
            ),
            (
                f"{name}: declined / covered",
                f"{warm['out_of_scope_declined']:.3f} out of scope / "
                f"{warm['covered_rate']:.3f} in scope",
            ),
            (
                f"{name}: odd quotes, quotes, chars",
                f"{warm['odd_quote_rate']:.3f}, "
                f"{warm['mean_quotes']:.2f}, {warm['mean_answer_chars']:.0f}",
            ),
            (
                f"{name}: p50 / p95 (cold, warm)",
                f"{cold['p50_ms']:.0f} / {cold['p95_ms']:.0f} ms, "
                f"{warm['p50_ms']:.1f} / {warm['p95_ms']:.1f} ms",
            ),
        ]
    for name, numbers in quality.items():
        if not name.startswith("retrieval_"):
            continue
        if "hit_at_1" in numbers:
            value = (
                f"{numbers['hit_at_1']:.3f} / {numbers['hit_at_5']:.3f}, {numbers['mrr_at_10']:.3f}"
            )
            out.append((f"{name[10:]}: hit@1/5, MRR@10", value))
        else:
            value = (
                f"{numbers['gold_in_top5']} / {numbers['gold_in_top10']} of {numbers['n']}, "
                f"{numbers['mrr_at_10']:.3f}"
            )
            out.append((f"{name[10:]}: gold in top 5 / 10, MRR@10", value))
    return out


def main() -> int:
    """Run the ingest and answer benchmarks and print the table."""
    print("running bench_ingest.py ...", file=sys.stderr, flush=True)
    ingest = run("bench_ingest.py")
    print("running bench_answer.py ...", file=sys.stderr, flush=True)
    answer = run("bench_answer.py")
    print("running bench_quality.py ...", file=sys.stderr, flush=True)
    quality = run("bench_quality.py")
    table = rows(ingest, answer) + quality_rows(quality)
    width = max(len(name) for name, _ in table)
    print(f"{'metric':<{width}}  value")
    print(f"{'-' * width}  {'-' * 30}")
    for name, value in table:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
