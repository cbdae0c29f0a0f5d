"""Prometheus metrics the service counts and /metrics serves."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# One registry for the process, served by /metrics. Not the library's global default, so
# importing bot code never registers anything into other people's registries.
REGISTRY = CollectorRegistry(auto_describe=True)

ANSWERS = Counter(
    "careerbot_answers",
    "Answers sent, by platform, answer mode and whether the corpus covered the question.",
    ["platform", "mode", "covered"],
    registry=REGISTRY,
)
ANSWER_SECONDS = Histogram(
    "careerbot_answer_seconds",
    "Time from question to answer, by platform.",
    ["platform"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40),
    registry=REGISTRY,
)
DECLINES = Counter(
    "careerbot_declines",
    "Questions the bot declined: not covered by the corpus, or empty.",
    ["platform", "reason"],
    registry=REGISTRY,
)
FEEDBACK = Counter(
    "careerbot_feedback",
    "Feedback clicks, by platform and whether the answer helped.",
    ["platform", "helpful"],
    registry=REGISTRY,
)
RELOADS = Counter(
    "careerbot_reloads",
    "Reloads of the knowledge index: changed, unchanged, failed or busy (another running).",
    ["result"],
    registry=REGISTRY,
)
ERRORS = Counter(
    "careerbot_errors",
    "Errors raised by the core, by operation and error type.",
    ["operation", "error"],
    registry=REGISTRY,
)
INDEX_PASSAGES = Gauge(
    "careerbot_index_passages",
    "Passages in the index generation this process serves.",
    registry=REGISTRY,
)
