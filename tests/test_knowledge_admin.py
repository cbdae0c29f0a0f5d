"""Admins manage knowledge: reload dry run, rollback, git-backed knowledge, the audit log."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.admin import Actor
from bot.audit import AdminAction, AuditLog
from bot.conversations import ConversationStore
from bot.embeddings import ONNX_MODEL_NAME
from bot.models import KnowledgeSyncError, NothingToRollBack, Question
from bot.service import CareerBot
from bot.settings import Settings
from bot.wiring import build_careerbot
from tests.conftest import FIXTURE_KNOWLEDGE, CachingEmbeddings

MakeCareerBot = Callable[..., CareerBot]

GOVERNANCE_POST = """---
title: "Policy fellowships for AI governance"
author: "Grace Hopper-Lovelace"
url: "https://example.org/policy-fellowships"
---

## What a policy fellowship involves

A policy fellowship in AI governance places you inside a government office or think tank
for a year. Fellows draft policy memos on compute governance, brief legislators on
frontier model evaluations and learn how regulation is actually written.

## How to apply to a policy fellowship

Applications for AI governance policy fellowships open in autumn. Write a short memo on a
concrete compute governance question and ask two referees who have seen your writing.
"""
GOVERNANCE_QUESTION = "What does a policy fellowship in AI governance involve?"
GOVERNANCE_TITLE = "Policy fellowships for AI governance"


def ask(bot: CareerBot, text: str, key: str = "t:admin") -> Any:
    import asyncio

    return asyncio.run(bot.answer(Question(text=text, asker="u1", conversation_key=key)))


def cited_titles(answer: Any) -> set[str]:
    return {c.title for c in answer.citations}


def collections(bot: CareerBot) -> list[str]:
    return sorted(c if isinstance(c, str) else c.name for c in bot.index.client.list_collections())


# --- dry run -----------------------------------------------------------------------------


def test_dry_run_reports_added_changed_removed_and_changes_nothing(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot()
    state, names = bot.index.state(), collections(bot)
    serving = bot.retriever.snapshot.collection
    folder = bot.knowledge_dir
    (folder / "policy-fellowships.md").write_text(GOVERNANCE_POST, encoding="utf-8")
    mats = folder / "mats-experience.md"
    mats.write_text(
        mats.read_text(encoding="utf-8") + "\n\n## Afterwards\n\nI joined a lab as a researcher.\n",
        encoding="utf-8",
    )
    passages = bot.retriever.snapshot.passages
    before_research = sum(1 for p in passages if p.doc_id == "research-skills")
    (folder / "research-skills.md").unlink()

    report = bot.reload_dry_run_sync(Actor("U1", "cli"))

    assert [c.name for c in report.added] == ["policy-fellowships.md"]
    assert report.added[0].passages_before == 0 and report.added[0].passages_after >= 2
    assert [c.name for c in report.changed] == ["mats-experience.md"]
    assert report.changed[0].passages_after == report.changed[0].passages_before + 1
    assert [(c.name, c.passages_before, c.passages_after) for c in report.removed] == [
        ("research-skills.md", before_research, 0)
    ]
    assert (report.files_before, report.files_after) == (3, 3)
    assert report.passages_before == len(bot.retriever.snapshot.passages)
    assert report.to_embed == report.added[0].passages_after + 1
    assert report.would_change and not report.problems
    text = report.summary()
    assert "reload would switch" in text and "Removed: research-skills.md" in text
    # Nothing was built or switched: same pointer, same collections, same serving generation.
    assert bot.index.state() == state
    assert collections(bot) == names
    assert bot.retriever.snapshot.collection == serving
    assert GOVERNANCE_TITLE not in cited_titles(ask(bot, GOVERNANCE_QUESTION))


def test_dry_run_lists_every_problem_and_an_unchanged_folder_changes_nothing(
    make_careerbot: MakeCareerBot,
) -> None:
    bot = make_careerbot()
    unchanged = bot.reload_dry_run_sync()
    assert not unchanged.would_change and unchanged.to_embed == 0
    assert unchanged.summary().startswith("Dry run: reload would change nothing.")

    (bot.knowledge_dir / "broken.md").write_text("no front matter\n", encoding="utf-8")
    (bot.knowledge_dir / "untitled.md").write_text("---\nauthor: x\n---\nbody\n", encoding="utf-8")
    report = bot.reload_dry_run_sync()
    assert len(report.problems) == 2
    assert report.problems[0].startswith("broken.md:1: missing front matter")
    assert report.problems[1].startswith("untitled.md:2: front matter needs")
    assert not report.would_change
    assert "reload would FAIL with 2 problem(s)" in report.summary()


def test_a_title_clash_is_a_problem_not_a_removed_file(
    make_careerbot: MakeCareerBot, db_url: str
) -> None:
    import asyncio

    bot = make_careerbot(database_url=db_url)
    existing = sorted(bot.knowledge_dir.glob("*.md"))[-1]
    # Sorted first, the copy is read first and the serving post is the one that clashes.
    (bot.knowledge_dir / "aaa-copy.md").write_text(existing.read_text(encoding="utf-8"))
    (bot.knowledge_dir / "untitled.md").write_text("---\nauthor: x\n---\nbody\n")

    report = bot.reload_dry_run_sync(Actor("ada", "cli"))

    assert report.removed == ()
    assert {p.split(":")[0] for p in report.problems} == {existing.name, "untitled.md"}
    assert any(p.startswith(f"{existing.name}:2: duplicate title") for p in report.problems)
    (row,) = asyncio.run(bot.admin_actions(timedelta(days=1)))
    assert (row.action, row.result) == ("reload-dry-run", "failed")
    assert row.outcome.startswith("Dry run: reload would FAIL with 2 problem(s)")
    assert f"Problem: {existing.name}:2: duplicate title" in row.outcome
    assert "Problem: untitled.md:2: front matter needs" in row.outcome


# --- rollback ----------------------------------------------------------------------------


def _two_generations(make_careerbot: MakeCareerBot) -> CareerBot:
    """A bot whose previous generation has the governance post and whose active one has not."""
    bot = make_careerbot(build=False)
    post = bot.knowledge_dir / "policy-fellowships.md"
    post.write_text(GOVERNANCE_POST, encoding="utf-8")
    bot.reload_sync()
    assert GOVERNANCE_TITLE in cited_titles(ask(bot, GOVERNANCE_QUESTION, "t:first"))
    post.unlink()
    bot.reload_sync()
    return bot


def test_rollback_serves_the_previous_generation_on_every_replica(
    make_careerbot: MakeCareerBot, embedder: CachingEmbeddings
) -> None:
    bot = _two_generations(make_careerbot)
    # A second replica over the same database and Chroma store, already serving.
    replica = build_careerbot(
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            knowledge_dir=bot.knowledge_dir,
            data_dir=bot.knowledge_dir.parent / "data0",
        ),
        embeddings=(embedder, ONNX_MODEL_NAME),
    )
    try:
        assert GOVERNANCE_TITLE not in cited_titles(ask(replica, GOVERNANCE_QUESTION, "t:r1"))
        before = bot.index.state()

        report = bot.rollback_sync(Actor("admin", "cli"))

        after = bot.index.state()
        assert after.version == before.version + 1
        assert (after.active, after.previous) == (before.previous, before.active)
        assert report.summary().startswith(f"Rolled back: now serving {before.previous}: ")
        answer = ask(replica, GOVERNANCE_QUESTION, "t:r2")  # the replica follows the pointer
        assert GOVERNANCE_TITLE in cited_titles(answer)
        # The dropper keeps both: a second rollback can return to where this one started.
        bot.index.grace_seconds = 0
        assert bot.index.collect_garbage(after) == []
        assert bot.index.collect_garbage(after) == []
        bot.rollback_sync()
        assert bot.index.state().active == before.active
        assert GOVERNANCE_TITLE not in cited_titles(ask(replica, GOVERNANCE_QUESTION, "t:r3"))
    finally:
        replica.close()


def test_rollback_without_a_previous_generation_is_one_line(make_careerbot: MakeCareerBot) -> None:
    bot = make_careerbot()
    state = bot.index.state()
    with pytest.raises(NothingToRollBack) as first:
        bot.rollback_sync(Actor("admin", "cli"))
    assert "no previous index generation" in str(first.value)
    assert "\n" not in str(first.value)
    assert bot.index.state() == state

    bot = _two_generations(make_careerbot)
    previous = bot.index.state().previous
    assert previous is not None
    bot.index.client.delete_collection(previous)  # dropped by hand (or by an old version)
    state = bot.index.state()
    with pytest.raises(NothingToRollBack, match="no longer exists"):
        bot.rollback_sync()
    assert bot.index.state() == state


def test_rollback_waits_for_no_one_while_a_reload_holds_the_lease(
    make_careerbot: MakeCareerBot,
) -> None:
    from bot.models import ReloadInProgress
    from bot.service import RELOAD_LEASE

    bot = _two_generations(make_careerbot)
    state = bot.index.state()
    with (
        bot.store.lease(RELOAD_LEASE, "other-host:4242:abcd", 60),
        pytest.raises(ReloadInProgress, match="started by other-host:4242:abcd"),
    ):
        bot.rollback_sync(Actor("admin", "cli"))
    assert bot.index.state() == state
    [failed] = bot.audit.since()
    assert (failed.action, failed.result) == ("rollback", "failed")


# --- git-backed knowledge ----------------------------------------------------------------

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada",
    "GIT_COMMITTER_EMAIL": "ada@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def knowledge_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(bare remote, an author's clone) holding the fixture posts on `main`."""
    for name, value in GIT_ENV.items():  # the bot's own git calls commit nothing, but merge
        monkeypatch.setenv(name, value)
    bare = tmp_path / "knowledge.git"
    git(tmp_path, "init", "--bare", "-q", str(bare))
    author = tmp_path / "author"
    git(tmp_path, "clone", "-q", str(bare), str(author))
    git(author, "checkout", "-q", "-b", "main")
    for post in FIXTURE_KNOWLEDGE.glob("*.md"):
        shutil.copy(post, author / post.name)
    git(author, "add", ".")
    git(author, "commit", "-q", "-m", "the first posts")
    git(author, "push", "-q", "origin", "main")
    return bare, author


def _publish(author: Path, name: str, text: str) -> str:
    (author / name).write_text(text, encoding="utf-8")
    git(author, "add", name)
    git(author, "commit", "-q", "-m", f"add {name}")
    git(author, "push", "-q", "origin", "main")
    return git(author, "rev-parse", "HEAD")


def test_reload_pulls_a_new_post_from_the_remote_and_reports_the_commit(
    make_careerbot: MakeCareerBot, knowledge_repo: tuple[Path, Path], tmp_path: Path
) -> None:
    bare, author = knowledge_repo
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", str(bare), str(checkout))
    bot = make_careerbot(knowledge_dir=checkout, knowledge={"git_remote": str(bare)})
    assert GOVERNANCE_TITLE not in cited_titles(ask(bot, GOVERNANCE_QUESTION, "t:g1"))
    commit = _publish(author, "policy-fellowships.md", GOVERNANCE_POST)

    dry = bot.reload_dry_run_sync()
    assert [c.name for c in dry.added] == ["policy-fellowships.md"]
    assert dry.git is not None and f"→ {commit[:12]}" in dry.git
    assert not (bot.knowledge_dir / "policy-fellowships.md").exists()  # a dry run never merges

    report = bot.reload_sync()

    assert report.git is not None and report.git.startswith(f"commit {commit[:12]}")
    assert f"Built from commit {commit[:12]} (fast-forwarded from" in report.summary()
    assert git(bot.knowledge_dir, "rev-parse", "HEAD") == commit
    assert GOVERNANCE_TITLE in cited_titles(ask(bot, GOVERNANCE_QUESTION, "t:g2"))


def test_a_checkout_with_an_upstream_pulls_without_the_setting(
    make_careerbot: MakeCareerBot, knowledge_repo: tuple[Path, Path], tmp_path: Path
) -> None:
    bare, author = knowledge_repo
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", str(bare), str(checkout))
    bot = make_careerbot(knowledge_dir=checkout)  # a copy of the clone: origin → the bare repo
    commit = _publish(author, "policy-fellowships.md", GOVERNANCE_POST)
    report = bot.reload_sync()
    assert report.git is not None and "origin main" in report.git
    assert git(bot.knowledge_dir, "rev-parse", "HEAD") == commit


def test_a_diverged_checkout_refuses_in_one_line_and_the_old_index_keeps_serving(
    make_careerbot: MakeCareerBot, knowledge_repo: tuple[Path, Path], tmp_path: Path
) -> None:
    bare, author = knowledge_repo
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", str(bare), str(checkout))
    bot = make_careerbot(knowledge_dir=checkout, knowledge={"git_remote": str(bare)})
    _publish(author, "policy-fellowships.md", GOVERNANCE_POST)
    local = bot.knowledge_dir / "local-note.md"
    local.write_text(GOVERNANCE_POST.replace("Policy fellowships", "Local"), encoding="utf-8")
    git(bot.knowledge_dir, "add", "local-note.md")
    git(bot.knowledge_dir, "commit", "-q", "-m", "a local edit nobody pushed")
    head = git(bot.knowledge_dir, "rev-parse", "HEAD")
    state = bot.index.state()

    with pytest.raises(KnowledgeSyncError) as refused:
        bot.reload_sync(by=Actor("admin", "cli"))

    line = str(refused.value)
    assert "diverged" in line and "previous index keeps serving" in line and "\n" not in line
    assert git(bot.knowledge_dir, "rev-parse", "HEAD") == head  # nothing merged
    assert bot.index.state() == state  # nothing switched
    assert GOVERNANCE_TITLE not in cited_titles(ask(bot, GOVERNANCE_QUESTION, "t:d1"))
    dry = bot.reload_dry_run_sync()
    assert any("diverged" in p for p in dry.problems) and not dry.would_change
    [action] = [a for a in bot.audit.since() if a.action == "reload"]
    assert action.result == "failed" and "diverged" in action.outcome


def test_a_dirty_checkout_or_an_unreachable_remote_refuses(
    make_careerbot: MakeCareerBot, knowledge_repo: tuple[Path, Path], tmp_path: Path
) -> None:
    bare, _author = knowledge_repo
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", str(bare), str(checkout))
    bot = make_careerbot(knowledge_dir=checkout, knowledge={"git_remote": str(bare)})
    state = bot.index.state()
    mats = bot.knowledge_dir / "mats-experience.md"
    mats.write_text(mats.read_text(encoding="utf-8") + "\nedited in place\n", encoding="utf-8")
    with pytest.raises(KnowledgeSyncError, match="uncommitted changes"):
        bot.reload_sync()
    git(bot.knowledge_dir, "checkout", "-q", "--", "mats-experience.md")

    shutil.rmtree(bare)  # the remote is gone (no network, wrong URL)
    with pytest.raises(KnowledgeSyncError, match="cannot fetch the knowledge repository"):
        bot.reload_sync()
    assert bot.index.state() == state


# --- audit log ---------------------------------------------------------------------------


def test_every_admin_action_is_audited(make_careerbot: MakeCareerBot, db_url: str) -> None:
    import asyncio

    bot = make_careerbot(database_url=db_url)
    slack_admin = Actor("U0ADMIN", "slack", request_id="trigger-1")
    bot.reload_dry_run_sync(slack_admin)
    bot.reload_sync(by=Actor("ada", "cli"))
    with pytest.raises(NothingToRollBack):
        bot.rollback_sync(Actor("42", "discord", request_id="interaction-9"))
    assert asyncio.run(
        bot.record_admin_action(Actor("U0BOB", "slack"), "reload", "refused", "not an admin")
    )
    # The same request delivered twice (a retry, another replica) is recorded once.
    assert not asyncio.run(bot.record_admin_action(slack_admin, "reload-dry-run"))

    rows = asyncio.run(bot.admin_actions(timedelta(days=7)))
    assert [(a.platform, a.actor, a.action, a.result) for a in rows] == [
        ("slack", "U0ADMIN", "reload-dry-run", "ok"),
        ("cli", "ada", "reload", "ok"),
        ("discord", "42", "rollback", "failed"),
        ("slack", "U0BOB", "reload", "refused"),
    ]
    assert rows[0].outcome.startswith("Dry run: reload would change nothing.")
    assert rows[1].outcome.startswith("Knowledge base unchanged: 3 documents")
    assert "no previous index generation" in rows[2].outcome
    assert all(a.at is not None and a.at.tzinfo is not None for a in rows)


def test_audit_rows_are_pruned_after_their_own_retention(db_url: str) -> None:
    store = ConversationStore(db_url)
    try:
        audit = AuditLog(store.engine)
        now = datetime.now(UTC)
        audit.record(AdminAction("old", "cli", "reload", "ok", at=now - timedelta(days=400)))
        audit.record(AdminAction("new", "cli", "rollback", "ok", at=now - timedelta(days=100)))
        assert [a.actor for a in audit.since(now - timedelta(days=200))] == ["new"]
        assert audit.prune(now - timedelta(days=365)) == 1
        assert [a.actor for a in audit.since()] == ["new"]
        assert audit.since()[0].line().endswith("cli:new  rollback  ok")
    finally:
        store.close()
