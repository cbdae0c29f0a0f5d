"""CLI start-up: wall time of `careerbot --help` and a no-op `ingest`, and what --help imports.

`--source DIR` measures another checkout (e.g. an older commit unpacked with `git archive`)
with this interpreter, for before/after numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("chromadb", "onnxruntime", "langchain", "langchain_core", "slack_bolt", "discord")
PROBE = (
    "import sys, runpy\n"
    "sys.argv = ['careerbot', '--help']\n"
    "try:\n"
    "    runpy.run_module('bot', run_name='__main__')\n"
    "except SystemExit:\n"
    "    pass\n"
    "heavy = {h for h in HEAVY if h in sys.modules}\n"
    "print(sorted(heavy), len(sys.modules), file=sys.stderr)\n"
)


def env_for(source: Path, knowledge: Path, data: Path) -> dict[str, str]:
    """A clean environment pointing `python -m bot` at `source`, `knowledge` and `data`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREERBOT_")}
    env.update(
        PYTHONPATH=str(source),
        CAREERBOT_KNOWLEDGE_DIR=str(knowledge),
        CAREERBOT_DATA_DIR=str(data),
    )
    return env


def timed(cmd: list[str], env: dict[str, str], cwd: Path, runs: int) -> list[float]:
    """Wall seconds of `runs` runs of `cmd` (each must succeed)."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return samples


def measure(source: Path, knowledge: Path, runs: int) -> dict[str, Any]:
    """Median wall times and the heavy modules `--help` imports."""
    with tempfile.TemporaryDirectory(prefix="careerbot-startup-") as tmp:
        root = Path(tmp)
        shutil.copytree(knowledge, root / "knowledge")
        env = env_for(source, root / "knowledge", root / "data")
        cli = [sys.executable, "-m", "bot"]
        subprocess.run([*cli, "ingest"], env=env, cwd=root, check=True, capture_output=True)
        help_s = timed([*cli, "--help"], env, root, runs)
        noop_s = timed([*cli, "ingest"], env, root, runs)
        probe = subprocess.run(
            [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROBE}"],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
        heavy, modules = probe.stderr.strip().rsplit(" ", 1)
    return {
        "source": str(source),
        "help_s": statistics.median(help_s),
        "noop_ingest_s": statistics.median(noop_s),
        "help_heavy_modules": heavy,
        "help_modules": int(modules),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the numbers; with --json the last line is one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=REPO, help="checkout to measure")
    parser.add_argument("--knowledge", type=Path, default=REPO / "knowledge")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    r = measure(args.source.resolve(), args.knowledge.resolve(), args.runs)
    print(
        f"careerbot --help: {r['help_s']:.2f} s (median of {r['runs']}), "
        f"{r['help_modules']} modules, heavy: {r['help_heavy_modules']}\n"
        f"no-op ingest:     {r['noop_ingest_s']:.2f} s (median of {r['runs']})",
        file=sys.stderr if args.json else sys.stdout,
    )
    if args.json:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
