"""Git-backed knowledge: a fast-forward-only pull of the knowledge checkout before a reload.

Admins publish a post by merging it into the knowledge repository; `reload` fetches and
fast-forwards the checkout, then builds. Anything that is not a clean fast-forward (no
network, a diverged or dirty checkout, a timeout) is a KnowledgeSyncError of one line and
nothing is built, so the previous index keeps serving. git runs as a subprocess with a
timeout and without a shell or a terminal prompt.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from bot.models import KnowledgeSyncError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PullResult:
    """What a pull did: the commit before and after (equal when already up to date)."""

    before: str | None
    after: str
    source: str

    def describe(self) -> str:
        """E.g. "commit 1a2b3c4d5e6f (fast-forwarded from 9f8e7d6c5b4a, origin main)"."""
        if self.before is None:
            how = f"cloned from {self.source}"
        elif self.before == self.after:
            how = f"up to date with {self.source}"
        else:
            how = f"fast-forwarded from {self.before[:12]}, {self.source}"
        return f"commit {self.after[:12]} ({how})"


@dataclass(frozen=True)
class PullPlan:
    """What a pull would do, for a dry run: the commit it would move to, or why it would not."""

    current: str | None
    upstream: str | None
    source: str
    problem: str | None = None

    @property
    def behind(self) -> bool:
        """Whether the pull would move the checkout."""
        return self.problem is None and self.upstream is not None and self.upstream != self.current


class GitKnowledge:
    """The knowledge folder as a git checkout that `pull` fast-forwards.

    With `remote` unset, pulling happens only when the folder is the top level of its own
    checkout and its branch tracks an upstream: a `knowledge/` folder inside the bot's own
    repository is never pulled (that would update the bot's code).
    """

    def __init__(
        self,
        folder: Path,
        remote: str | None = None,
        branch: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.folder = folder
        self.remote = remote
        self.branch = branch
        self.timeout = timeout

    # -- plumbing ------------------------------------------------------------------------
    def _git(self, *args: str, cwd: Path | None = None, what: str = "git") -> str:
        # Never wait for a person: no credential prompt, no ssh host-key or passphrase prompt.
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=cwd or self.folder,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise KnowledgeSyncError(
                f"{what} took longer than {self.timeout:.0f}s (CAREERBOT_KNOWLEDGE__GIT_TIMEOUT_"
                "SECONDS); nothing was changed, the previous index keeps serving"
            ) from None
        except OSError as exc:
            raise KnowledgeSyncError(
                f"cannot run git ({exc.strerror or type(exc).__name__}); install git or unset "
                "CAREERBOT_KNOWLEDGE__GIT_REMOTE"
            ) from None
        if done.returncode != 0:
            reason = _first_line(done.stderr) or f"exit status {done.returncode}"
            log.debug("git %s failed: %s", " ".join(args), done.stderr)
            raise _GitFailed(reason)
        return done.stdout.strip()

    def _try(self, *args: str) -> str | None:
        try:
            return self._git(*args)
        except _GitFailed:
            return None

    def _is_own_checkout(self) -> bool:
        top = self._try("rev-parse", "--show-toplevel")
        return top is not None and Path(top).resolve() == self.folder.resolve()

    def source(self) -> tuple[str, str] | None:
        """(remote, branch) to pull from, or None when the folder is not git-backed."""
        if not self.folder.is_dir():
            if self.remote:
                return self.remote, self.branch or ""
            return None
        if not self._is_own_checkout():
            if self.remote and not any(self.folder.iterdir()):
                return self.remote, self.branch or ""  # empty folder: clone into it
            if self.remote:
                raise KnowledgeSyncError(
                    f"{self.folder} is not a git checkout (CAREERBOT_KNOWLEDGE__GIT_REMOTE is "
                    "set): clone the knowledge repository there, or empty the folder"
                )
            return None
        current = self._try("symbolic-ref", "--quiet", "--short", "HEAD")
        if self.remote:
            branch = self.branch or current
            if not branch:
                raise KnowledgeSyncError(
                    f"{self.folder} has no branch checked out; set CAREERBOT_KNOWLEDGE__GIT_BRANCH"
                )
            return self.remote, branch
        upstream = self._try("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
        if not upstream or "/" not in upstream:
            return None  # a local-only checkout: nothing to pull from
        remote, _, branch = upstream.partition("/")
        return remote, self.branch or branch

    # -- pull ----------------------------------------------------------------------------
    def pull(self) -> PullResult | None:
        """Fast-forward the checkout to its remote branch; None when not git-backed.

        Raises KnowledgeSyncError (one line) when fetching fails, the checkout has
        uncommitted changes to tracked files, or it has diverged from the remote.
        """
        found = self.source()
        if found is None:
            return None
        remote, branch = found
        where = f"{remote} {branch}".strip()
        if not self.folder.is_dir() or not self._is_own_checkout():
            return self._clone(remote, branch)
        self._fetch(remote, branch, where)
        try:
            before = self._git("rev-parse", "HEAD")
            upstream = self._git("rev-parse", "FETCH_HEAD")
            if self._git("status", "--porcelain", "--untracked-files=no"):
                raise KnowledgeSyncError(
                    f"the knowledge checkout {self.folder} has uncommitted changes; commit or "
                    "discard them (nothing was pulled, the previous index keeps serving)"
                )
            if before != upstream:
                self._git("merge", "--ff-only", "--quiet", "FETCH_HEAD")
        except _GitFailed as exc:
            raise KnowledgeSyncError(
                f"cannot fast-forward the knowledge checkout {self.folder} to {where}: it has "
                f"diverged ({exc}); reset it to the remote by hand. Nothing was changed, the "
                "previous index keeps serving"
            ) from None
        after = self._git("rev-parse", "HEAD")
        log.info("knowledge checkout at %s (was %s, from %s)", after[:12], before[:12], where)
        return PullResult(before=before, after=after, source=where)

    def plan(self) -> PullPlan | None:
        """What `pull` would do, fetching only (the checkout is not touched); None: no git."""
        try:
            found = self.source()
        except KnowledgeSyncError as exc:
            return PullPlan(None, None, "", problem=str(exc))
        if found is None:
            return None
        remote, branch = found
        where = f"{remote} {branch}".strip()
        if not self.folder.is_dir() or not self._is_own_checkout():
            return PullPlan(None, None, where, problem="the knowledge folder would be cloned")
        try:
            self._fetch(remote, branch, where)
            current = self._git("rev-parse", "HEAD")
            upstream = self._git("rev-parse", "FETCH_HEAD")
        except KnowledgeSyncError as exc:
            return PullPlan(None, None, where, problem=str(exc))
        if self._try("status", "--porcelain", "--untracked-files=no"):
            problem = "the checkout has uncommitted changes: reload would refuse to pull"
            return PullPlan(current, upstream, where, problem=problem)
        ancestor = self._try("merge-base", "--is-ancestor", "HEAD", upstream)
        if current != upstream and ancestor is None:
            problem = f"the checkout has diverged from {where}: reload would refuse to pull"
            return PullPlan(current, upstream, where, problem=problem)
        return PullPlan(current, upstream, where)

    def export(self, commit: str, into: Path) -> None:
        """Write the Markdown files of `commit` (top level) into `into`, for a dry run."""
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
        try:
            done = subprocess.run(
                ["git", "archive", "--format=tar", commit],
                cwd=self.folder,
                capture_output=True,
                timeout=self.timeout,
                env=env,
                check=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise KnowledgeSyncError(
                f"cannot read commit {commit[:12]} of the knowledge checkout ({type(exc).__name__})"
            ) from None
        into.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(done.stdout)) as tar:
            for member in tar.getmembers():
                if member.isfile() and "/" not in member.name and member.name.endswith(".md"):
                    source = tar.extractfile(member)
                    if source is not None:
                        (into / member.name).write_bytes(source.read())

    def _fetch(self, remote: str, branch: str, where: str) -> None:
        try:
            self._git("fetch", "--quiet", "--no-tags", remote, branch, what=f"fetching {where}")
        except _GitFailed as exc:
            raise KnowledgeSyncError(
                f"cannot fetch the knowledge repository {where} ({exc}); nothing was changed, "
                "the previous index keeps serving"
            ) from None

    def _clone(self, remote: str, branch: str) -> PullResult:
        args = ["clone", "--quiet"] + (["--branch", branch] if branch else [])
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._git(
                *args, remote, str(self.folder), cwd=self.folder.parent, what=f"cloning {remote}"
            )
            after = self._git("rev-parse", "HEAD")
        except _GitFailed as exc:
            raise KnowledgeSyncError(
                f"cannot clone the knowledge repository {remote} ({exc}); nothing was changed"
            ) from None
        log.info("cloned knowledge repository %s at %s", remote, after[:12])
        return PullResult(before=None, after=after, source=f"{remote} {branch}".strip())


class _GitFailed(Exception):
    """A git command exited non-zero; str() is its first stderr line."""


def _first_line(text: str) -> str:
    for line in (text or "").splitlines():
        line = line.strip()
        if line:
            return line.removeprefix("fatal: ").removeprefix("error: ")[:300]
    return ""
