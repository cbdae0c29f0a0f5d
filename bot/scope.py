"""What the posts cannot answer: acute distress, live facts, and concepts the corpus lacks.

Each check reads the question itself or the corpus, never a list of forbidden topics: distress
is a way of writing, "right now / this quarter" asks for facts that dated posts cannot hold, and
a short question whose central word appears nowhere in the posts is not covered by them however
close its other words are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import numpy as np

from bot.text import keyword_tokens

_DISTRESS = re.compile(
    r"\b(panic attacks?|can'?t (?:stop|sleep|breathe|cope|go on)|haven'?t (?:slept|been sleeping)|"
    r"hopeless|no point (?:in|to) (?:anything|living|going on)|kill (?:my ?self|me)|suicid\w*|"
    r"self[- ]harm\w*|hurt(?:ing)? myself|want to die|end it all|don'?t want to (?:be here|live)|"
    r"falling apart|breaking down|crying every|terrified every|despair)\b",
    re.IGNORECASE,
)
_LIVE = re.compile(
    r"\b(right now|currently|at the moment|this (?:quarter|month|week|cycle|year|summer|spring|"
    r"autumn|fall|winter)|today|open (?:roles|positions|reqs|jobs)|hiring now|still hiring|"
    r"deadlines?|apply by|when does .{0,30} open)\b",
    re.IGNORECASE,
)
_LIVE_SUBJECT = re.compile(
    r"\b(hiring|roles?|positions?|openings?|jobs?|vacanc\w+|deadlines?|applications?|taking|"
    r"accepting|cohort|intake|salary|salaries|funding round)\b",
    re.IGNORECASE,
)
# A question this short is about one thing; a missing word that carries at least this share of
# its meaning (1 - cosine with and without it) is that thing. Measured on the dev questions:
# in-scope short questions stay below 0.15; "salary", "laptop", "negotiate" score 0.25..0.35.
_FOCUSED_TOKENS = 10
_CENTRAL = 0.2


def distressed(text: str) -> bool:
    """Whether a message reads as acute distress (then it gets support, not quotes)."""
    return bool(_DISTRESS.search(text))


def asks_live_facts(text: str) -> bool:
    """Whether the question asks for current facts (openings, deadlines) that posts can't hold."""
    return bool(_LIVE.search(text)) and bool(_LIVE_SUBJECT.search(text))


def corpus_vocabulary(texts: Iterable[str]) -> frozenset[str]:
    """Every keyword token of the corpus."""
    vocab: set[str] = set()
    for text in texts:
        vocab.update(keyword_tokens(text))
    return frozenset(vocab)


def missing_concept(
    text: str, vocabulary: frozenset[str], embed: Callable[[str], list[float]]
) -> str | None:
    """The central word of a short question that the corpus never uses, if there is one."""
    tokens = keyword_tokens(text, query=True)
    if not tokens or len(tokens) > _FOCUSED_TOKENS:
        return None
    missing = [t for t in dict.fromkeys(tokens) if t not in vocabulary and not t.isdigit()]
    if not missing:
        return None
    whole = np.asarray(embed(text))
    words = text.split()
    best: tuple[float, str] | None = None
    for token in missing:
        kept = [w for w in words if token not in keyword_tokens(w, query=True)]
        if not kept:
            continue
        share = 1.0 - float(whole @ np.asarray(embed(" ".join(kept))))
        if best is None or share > best[0]:
            best = (share, token)
    if best is not None and best[0] >= _CENTRAL:
        return best[1]
    return None
