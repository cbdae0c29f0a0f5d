"""Chat-model factory (langchain init_chat_model) and helpers for grounded, cited LLM answers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel

from bot.extractive import passage_sentences
from bot.models import Citation, Passage, Turn
from bot.text import word_overlap

_MARKER = re.compile(r"\[(\d{1,2})\]")


class LLMConfigError(ValueError):
    """The configured chat model cannot be built (bad name or missing extra)."""


def make_chat_model(
    model: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    temperature: float = 0.2,
    timeout: float = 30.0,
    max_retries: int = 2,
    max_tokens: int = 600,
) -> BaseChatModel:
    """Build a chat model from 'provider:model' (openai, anthropic, ollama, OpenAI-compatible).

    With a base_url and no provider prefix, the model is treated as OpenAI-compatible.
    """
    from langchain.chat_models import init_chat_model

    provider, _, name = model.partition(":")
    if not name:
        provider, name = ("openai" if base_url else ""), model
    kwargs: dict[str, Any] = {"temperature": temperature, "max_retries": max_retries}
    if provider == "ollama":
        if base_url:
            kwargs["base_url"] = base_url
    else:
        kwargs["timeout"] = timeout
        kwargs["max_tokens"] = max_tokens
        if base_url:
            kwargs["base_url"] = base_url
        if api_key:
            kwargs["api_key"] = api_key
    try:
        return init_chat_model(name, model_provider=provider or None, **kwargs)
    except ImportError as exc:
        raise LLMConfigError(
            f"chat model {model!r} needs its langchain integration: "
            f"pip install -e '.[{provider or 'openai'}]' ({exc})"
        ) from exc
    except ValueError as exc:
        raise LLMConfigError(f"cannot use chat model {model!r}: {exc}") from exc


def format_history(history: Sequence[Turn], max_chars: int = 600) -> str:
    """Prior turns as plain lines; long assistant turns are shortened."""
    if not history:
        return "(none)"
    lines = []
    for turn in history:
        text = turn.text if len(turn.text) <= max_chars else turn.text[:max_chars] + " …"
        lines.append(f"{turn.role}: {text}")
    return "\n".join(lines)


def format_passages(passages: Sequence[Passage]) -> str:
    """Numbered passages with their source, as the model sees them."""
    blocks = []
    for number, p in enumerate(passages, start=1):
        kind = "comment on the post" if p.is_comment else "post"
        where = f" / {p.section}" if p.section else ""
        blocks.append(f"[{number}] ({kind}) “{p.title}”{where} — by {p.attribution}\n{p.text}")
    return "\n\n".join(blocks)


def _best_quote(passage: Passage, context: str) -> str:
    """The passage sentence sharing most words with the model's sentence that cited it."""
    sentences = [s for line in passage_sentences(passage) for s in line]
    if not sentences:
        return passage.text.split("\n")[0].strip()
    return max(sentences, key=lambda s: word_overlap(context, s.text)).text


def cite(text: str, passages: Sequence[Passage]) -> tuple[str, tuple[Citation, ...]]:
    """Map the model's [n] markers to real passages, renumber them 1..m, drop invalid ones."""
    order: list[int] = []
    contexts: dict[int, str] = {}
    for match in _MARKER.finditer(text):
        n = int(match.group(1))
        if 1 <= n <= len(passages):
            if n not in order:
                order.append(n)
            start = max(text.rfind(".", 0, match.start()), text.rfind("\n", 0, match.start()))
            contexts[n] = contexts.get(n, "") + " " + text[start + 1 : match.start()]
    renumber = {old: new for new, old in enumerate(order, start=1)}

    def replace(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f"[{renumber[n]}]" if n in renumber else ""

    cleaned = _MARKER.sub(replace, text)
    cleaned = re.sub(r"[ \t]+([.,;:])", r"\1", cleaned).strip()
    citations = []
    for old in order:
        p = passages[old - 1]
        citations.append(
            Citation(
                title=p.title,
                author=p.author,
                url=p.url,
                quote=_best_quote(p, contexts.get(old, "")),
                passage_id=p.id,
                section=p.section,
                is_comment=p.is_comment,
            )
        )
    return cleaned, tuple(citations)
