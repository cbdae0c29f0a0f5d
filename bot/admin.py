"""Admins manage knowledge: what a reload would change (dry run) and what a rollback did."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.models import IngestError, Passage

ACTION_RELOAD = "reload"
ACTION_DRY_RUN = "reload-dry-run"
ACTION_ROLLBACK = "rollback"


@dataclass(frozen=True)
class Actor:
    """Who asks for an admin action and from where; `request_id` is the platform's id for
    the request (a Slack trigger id, a Discord interaction id), so a redelivery is logged once.
    """

    id: str
    platform: str
    request_id: str = ""


@dataclass(frozen=True)
class FileChange:
    """One knowledge file a reload would add, change or remove, with its passage counts."""

    name: str
    passages_before: int
    passages_after: int

    def describe(self) -> str:
        """E.g. "mats-experience.md (12 → 14 passages)"."""
        return f"{self.name} ({self.passages_before} → {self.passages_after} passages)"


@dataclass(frozen=True)
class DryRunReport:
    """What `reload` would do now, computed without building or switching anything.

    Files are compared by content: a file is "changed" when the passages it yields (their
    ids are content hashes) differ from those the serving generation was built from.
    """

    added: tuple[FileChange, ...]
    changed: tuple[FileChange, ...]
    removed: tuple[FileChange, ...]
    files_before: int
    files_after: int
    passages_before: int
    passages_after: int
    to_embed: int
    problems: tuple[str, ...] = ()
    serving: str | None = None
    git: str | None = None

    @property
    def would_change(self) -> bool:
        """Whether a reload would build and switch to a new generation."""
        return not self.problems and bool(self.added or self.changed or self.removed)

    def lines(self) -> list[str]:
        """The report as plain lines (adapters add their own markup)."""
        if self.problems:
            n = len(self.problems)
            head = f"Dry run: reload would FAIL with {n} problem(s); nothing changes."
        elif self.would_change:
            head = "Dry run: reload would switch to a new index generation."
        else:
            head = "Dry run: reload would change nothing."
        out = [head]
        out.append(f"Serving: {self.serving}." if self.serving else "Serving: no index yet.")
        if self.git:
            out.append(f"Git: {self.git}.")
        out.append(
            f"Files: {self.files_before} → {self.files_after}; passages: "
            f"{self.passages_before} → {self.passages_after} ({self.to_embed} to embed)."
        )
        for label, items in (
            ("Added", self.added),
            ("Changed", self.changed),
            ("Removed", self.removed),
        ):
            if items:
                out.append(f"{label}: " + ", ".join(c.describe() for c in items) + ".")
        out.extend(f"Problem: {p}" for p in self.problems)
        return out

    def summary(self) -> str:
        """The report as text, one line per item."""
        return "\n".join(self.lines())

    def audit_line(self) -> str:
        """The audit log's one line: the verdict, then every problem or the last change."""
        lines = self.lines()
        tail = [f"Problem: {p}" for p in self.problems] if self.problems else lines[-1:]
        return " ".join([lines[0], *tail])


def plan_reload(
    serving: Sequence[Passage],
    candidate: Sequence[Passage],
    *,
    problems: Iterable[IngestError | str] = (),
    same_model: bool = True,
    serving_name: str | None = None,
    git: str | None = None,
) -> DryRunReport:
    """Compare the serving generation's passages with those the files would give now.

    A file with a problem is still in the folder: it is listed as a problem, not as removed.
    """
    problems = list(problems)
    unread = {Path(p.path).stem for p in problems if isinstance(p, IngestError)}
    before = _by_file(serving)
    after = _by_file(candidate)
    added, changed, removed = [], [], []
    for doc_id in sorted(before.keys() | after.keys()):
        old, new = before.get(doc_id, set()), after.get(doc_id, set())
        change = FileChange(f"{doc_id}.md", len(old), len(new))
        if not old:
            added.append(change)
        elif not new and doc_id in unread:
            continue
        elif not new:
            removed.append(change)
        elif old != new:
            changed.append(change)
    old_ids = {p.id for p in serving} if same_model else set()
    return DryRunReport(
        added=tuple(added),
        changed=tuple(changed),
        removed=tuple(removed),
        files_before=len(before),
        files_after=len(after),
        passages_before=len(serving),
        passages_after=len({p.id for p in candidate}),
        to_embed=len({p.id for p in candidate} - old_ids),
        problems=tuple(_problem(p) for p in problems),
        serving=serving_name,
        git=git,
    )


def _by_file(passages: Iterable[Passage]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for p in passages:
        out[p.doc_id].add(p.id)
    return dict(out)


def _problem(error: IngestError | str) -> str:
    if isinstance(error, str):
        return error
    # A dry run of a remote commit reads it from a temporary folder: name the file only.
    where = Path(error.path).name + (f":{error.line}" if error.line else "")
    return f"{where}: {error.message}"


@dataclass(frozen=True)
class RollbackReport:
    """The generation that serves after a rollback and the one it replaced."""

    serving: str
    replaced: str

    def summary(self) -> str:
        """One line for the CLI and the admin commands."""
        return (
            f"Rolled back: now serving {self.serving}; replaced {self.replaced} "
            "(kept as the previous generation: `rollback` again returns to it)."
        )
