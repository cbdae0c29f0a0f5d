"""What following a shared index costs a replica: the per-question pointer check, and picking
up a new generation after a reload elsewhere (embedded Chroma + SQLite, the real corpus)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CHECKS = 2000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args()
    for name in list(os.environ):
        if name.startswith("CAREERBOT_"):
            del os.environ[name]

    from bot.settings import Settings
    from bot.wiring import build_careerbot

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "knowledge"
        shutil.copytree(args.knowledge, folder)
        settings = Settings(_env_file=None, knowledge_dir=folder, data_dir=Path(tmp) / "data")  # type: ignore[call-arg]
        writer = build_careerbot(settings)
        writer.reload_sync()
        replica = build_careerbot(settings)

        checks = []
        for _ in range(CHECKS):
            started = time.perf_counter()
            replica.retriever.ensure_current()
            checks.append((time.perf_counter() - started) * 1e6)

        # Another process reloads (one file fewer); the replica's next check loads it.
        first = sorted(folder.glob("*.md"))[0]
        first.unlink()
        started = time.perf_counter()
        writer.reload_sync()
        reload_s = time.perf_counter() - started
        started = time.perf_counter()
        replica.retriever.ensure_current()
        pickup_ms = (time.perf_counter() - started) * 1e3
        result: dict[str, Any] = {
            "passages": len(replica.retriever.snapshot.passages),
            "check_p50_us": float(np.percentile(checks, 50)),
            "check_p95_us": float(np.percentile(checks, 95)),
            "reload_one_file_removed_s": reload_s,
            "replica_pickup_ms": pickup_ms,
        }
        writer.close()
        replica.close()
    print(
        f"pointer check per question: p50 {result['check_p50_us']:.0f} µs, "
        f"p95 {result['check_p95_us']:.0f} µs ({CHECKS} checks)\n"
        f"reload elsewhere (one file removed): {result['reload_one_file_removed_s']:.2f} s\n"
        f"replica picks up the new generation ({result['passages']} passages): "
        f"{result['replica_pickup_ms']:.0f} ms on its next question"
    )
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
