"""Prompt templates in prompts/*.md, checked for exactly their expected variables when loaded."""

from __future__ import annotations

import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

# The one sentence used when the corpus does not cover a question: the prompt tells the model to
# reply with it, the extractive mode opens with it, and tests look for it.
NOT_COVERED = "The advice posts I draw on don't cover that, so I'd rather not guess."
# A decline because the question's key word is one the posts never discuss: that word, as the
# asker typed it, fills {concept}, so the asker reads what is missing in their own terms.
NOT_DISCUSSED = "The advice posts I draw on don't discuss “{concept}”, so I'd rather not guess."
# The next step after such a decline when no CAREERBOT_ANSWER__DECLINE_HINT is set. The posts'
# section nearest the rest of the question was named here before; read blind, that pointer
# was beside the point ("parental leave" -> a post's mech-interp section) in 5 of 5 declines.
ASK_PEOPLE = "Someone in the community may know from their own experience."
# The reply to a thank-you or an "ok cool" that asks nothing: no quotes, no model call.
ACKNOWLEDGED = "Glad it helps! Ask me anything else about AI safety careers."
# The reply to "that doesn't answer my question": no more quotes that miss.
MISSED_REPLY = (
    "Sorry, that missed. Could you say it another way, or tell me a bit more about your "
    "situation? I can only answer from the advice posts, and some things they don't cover."
)
# The opening words of a reply to someone who says they are having a hard time.
HARD_GOING = "That sounds hard, and you're far from the only one."
# ... and the note beside it when they also ask how things stand right now ("rejected from all
# twelve… is the market just that competitive right now?"): the posts can't say, but they speak
# to the rest.
HARD_GOING_LIVE = (
    "The posts can't tell you how hiring stands right now; here is what they say to someone "
    "in your place."
)
# A question about how the field will be ("where will it be in 10 years?"), and the note for a
# discouraged asker who asks it (as `HARD_GOING_LIVE`).
NOT_FORECAST = (
    "The advice posts I draw on say how things looked to their authors when they wrote; they "
    "don't forecast how AI or the field will go, so I'd rather not guess."
)
HARD_GOING_FUTURE = (
    "The posts can't tell you how AI or the field will go; here is what they say to someone in "
    "your place."
)
# ... to thanks before any answer in the conversation (a new thread, a DM after a reply)...
WELCOME = (
    "You're welcome! Ask me anything about careers in AI safety, and I'll answer from the "
    "advice posts."
)
# ... and to a message that opens a conversation ("hi", "ok").
GREETING = "Hi! Ask me anything about careers in AI safety, and I'll answer from the advice posts."
# The reply to a message in another language: the posts, and the quotes, are in English.
ENGLISH_ONLY = (
    "I can only answer in English for now: the advice posts I quote are in English. "
    "Could you ask again in English?"
)
# What the system prompt tells the model to say when asked about its instructions.
REFUSAL = "I can only help with career questions about AI safety."

# Each template and the variables it must use (no more, no fewer).
EXPECTED: dict[str, frozenset[str]] = {
    "system": frozenset({"not_covered"}),
    "answer": frozenset({"history", "passages", "question"}),
    "condense": frozenset({"history", "question"}),
}

# A source checkout keeps the templates in the top-level prompts/; the wheel ships the same
# files as package data in bot/_prompts (pyproject.toml maps one onto the other).
_CHECKOUT_PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


def default_prompts_dir() -> Path:
    """The installed templates (bot/_prompts) if present, else the checkout's prompts/."""
    installed = Path(str(resources.files("bot") / "_prompts"))
    return installed if installed.is_dir() else _CHECKOUT_PROMPTS_DIR


class PromptError(ValueError):
    """A template is missing or uses the wrong variables."""


@dataclass(frozen=True)
class Prompts:
    """The loaded templates."""

    system: str
    answer: str
    condense: str

    def render_system(self) -> str:
        """The system prompt with the shared not-covered sentence filled in."""
        return self.system.format(not_covered=NOT_COVERED)


def variables(template: str) -> set[str]:
    """Names of `{fields}` used in a str.format template."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def load_prompts(folder: Path | None = None) -> Prompts:
    """Read and validate every template; raise PromptError naming the file on any problem."""
    folder = folder or default_prompts_dir()
    texts: dict[str, str] = {}
    for name, expected in EXPECTED.items():
        path = folder / f"{name}.md"
        if not path.is_file():
            raise PromptError(f"{path}: prompt template not found")
        text = path.read_text(encoding="utf-8")
        try:
            found = variables(text)
        except ValueError as exc:
            raise PromptError(f"{path}: malformed template: {exc}") from None
        if found != expected:
            missing = ", ".join(sorted(expected - found)) or "-"
            extra = ", ".join(sorted(found - expected)) or "-"
            raise PromptError(f"{path}: expected variables missing: {missing}; unknown: {extra}")
        texts[name] = text.strip()
    return Prompts(**texts)
