"""The index as a shared service: concurrent reloads in real processes, replicas that recover,
generations kept through a grace period, bounded retries. Embedded store and Chroma server."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
from chromadb.api.models.Collection import Collection
from chromadb.errors import NotFoundError
from langchain_core.embeddings import Embeddings

from bot.embeddings import ONNX_MODEL_NAME
from bot.index import StaleGeneration
from bot.knowledge import chunk_documents, load_knowledge
from bot.models import IndexNotReady, IndexUnavailable, Question, ReloadInProgress
from bot.service import RELOAD_LEASE, CareerBot
from bot.settings import Settings
from bot.wiring import build_careerbot
from tests.chroma_server import start_chroma_server
from tests.conftest import FIXTURE_KNOWLEDGE, CachingEmbeddings
from tests.test_index import NEW_DOC

REPO = Path(__file__).resolve().parents[1]
ON_TOPIC = "How should I find my personal fit for AI safety work?"
ROUNDS = 20
WORKER_DEADLINE = 300.0  # seconds a worker may take to answer one line (model load included)


def _ask() -> Question:
    return Question(text=ON_TOPIC, asker="tester", conversation_key="test:replica")


def _knowledge(root: Path, extra: bool) -> Path:
    """The fixture corpus, optionally with one more post (so two folders always differ)."""
    folder = root / ("knowledge-b" if extra else "knowledge-a")
    shutil.copytree(FIXTURE_KNOWLEDGE, folder)
    if extra:
        (folder / "field-building.md").write_text(NEW_DOC, encoding="utf-8")
    return folder


@pytest.fixture
def replicas(
    tmp_path: Path,
    embedder: CachingEmbeddings,
    chroma_backend: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., CareerBot]]:
    """Factory of CareerBots sharing one Chroma and one database, like replicas behind a
    load balancer: `replicas(knowledge_dir, **chroma_overrides)`."""
    for name in list(os.environ):
        if name.startswith("CAREERBOT_"):
            monkeypatch.delenv(name)
    made: list[CareerBot] = []

    def make(knowledge_dir: Path | None = None, **chroma: Any) -> CareerBot:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            knowledge_dir=knowledge_dir or FIXTURE_KNOWLEDGE,
            data_dir=tmp_path / "data",
            chroma={**chroma_backend, "retry_max_wait": 0.0, **chroma},
        )
        bot = build_careerbot(settings, embeddings=(embedder, ONNX_MODEL_NAME))
        made.append(bot)
        return bot

    yield make
    for bot in made:
        bot.close()


# -- replicas ------------------------------------------------------------------------------


async def test_a_replica_that_saw_no_index_recovers_once_one_is_built(
    replicas: Callable[..., CareerBot],
) -> None:
    replica = replicas()
    writer = replicas()

    with pytest.raises(IndexNotReady):
        await replica.answer(_ask())
    writer.reload_sync()

    answer = await replica.answer(_ask())

    assert answer.covered and answer.citations
    assert replica.retriever.snapshot.collection == writer.index.active_name()


async def test_a_replica_follows_a_rebuild_and_recovers_from_a_deleted_collection(
    replicas: Callable[..., CareerBot], tmp_path: Path
) -> None:
    writer = replicas(_knowledge(tmp_path, extra=False))
    writer.reload_sync()
    replica = replicas()
    first = writer.index.active_name()
    assert replica.retriever.snapshot.collection == first
    (writer.knowledge_dir / "field-building.md").write_text(NEW_DOC, encoding="utf-8")
    writer.reload_sync()
    second = writer.index.active_name()
    assert second != first

    status = await replica.status()  # an admin's /status on the replica is current too
    assert status.collection == second and status.documents == 4

    await replica.answer(_ask())  # as is the next question

    assert replica.retriever.snapshot.collection == second
    assert {p.doc_id for p in replica.retriever.snapshot.passages} >= {"field-building"}

    # Someone deletes the serving collection by hand: one clear error, no endless retry.
    writer.index.client.delete_collection(second)
    with pytest.raises(IndexNotReady):
        await replica.answer(_ask())
    with pytest.raises(IndexNotReady):
        await replica.answer(_ask())

    writer.reload_sync()  # an admin re-ingests: a full rebuild, the pointer moves
    answer = await replica.answer(_ask())

    assert answer.covered and answer.citations
    assert replica.retriever.snapshot.collection == writer.index.active_name() != second


async def test_replicas_with_their_own_embedded_stores_keep_their_own_pointers(
    make_careerbot: Callable[..., CareerBot], tmp_path: Path
) -> None:
    shared_db = f"sqlite:///{tmp_path / 'shared' / 'careerbot.db'}"
    first = make_careerbot(database_url=shared_db)  # each has its own DATA_DIR/chroma
    second = make_careerbot(database_url=shared_db)

    assert first.index.store_key() != second.index.store_key()
    assert first.index.active_name() != second.index.active_name()
    for bot in (first, second, first):
        answer = await bot.answer(_ask())
        assert answer.covered and answer.citations
        assert bot.retriever.snapshot.collection == bot.index.active_name()


# -- one reload at a time -------------------------------------------------------------------


def test_a_reload_while_another_process_holds_the_lease_is_refused_in_one_line(
    replicas: Callable[..., CareerBot],
) -> None:
    writer = replicas()
    writer.reload_sync()
    before = writer.index.state()
    other = replicas()

    with (
        other.store.lease(RELOAD_LEASE, "ops-box:4242", 600),
        pytest.raises(ReloadInProgress) as caught,
    ):
        writer.reload_sync()

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("A reload is already running, started by ops-box:4242 at ")
    assert writer.index.state() == before
    assert not writer.reload_sync().changed  # released: the next reload runs


class ReloadingElsewhere(Embeddings):
    """The session model; the first time it embeds, another replica completes a reload.

    That is what happens when a slow reload's lease expired and someone else reloaded in
    the meantime: the slow one must not move the pointer over the newer index.
    """

    def __init__(self, inner: Embeddings, other: Callable[[], object]) -> None:
        self.inner = inner
        self.other: Callable[[], object] | None = other

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.other is not None:
            other, self.other = self.other, None
            other()
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def test_a_build_overtaken_by_another_reload_discards_itself_not_the_index(
    replicas: Callable[..., CareerBot], tmp_path: Path, embedder: CachingEmbeddings
) -> None:
    fast = replicas(_knowledge(tmp_path, extra=True))
    slow = replicas(_knowledge(tmp_path / "slow", extra=False))
    slow.index.embedder = ReloadingElsewhere(embedder, fast.reload_sync)

    with pytest.raises(ReloadInProgress) as caught:
        slow.index.sync(chunk_documents(load_knowledge(slow.knowledge_dir)))

    assert "changed nothing" in str(caught.value)
    state = fast.index.state()
    assert state.version == 1 and state.active == fast.index.active_name()
    assert fast.index.generation_names() == [state.active]  # the slow build was dropped
    assert {p.doc_id for p in fast.retriever.snapshot.passages} >= {"field-building"}


# -- grace period --------------------------------------------------------------------------


async def test_old_generations_are_dropped_only_after_the_grace_period(
    replicas: Callable[..., CareerBot], tmp_path: Path
) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    folder = _knowledge(tmp_path, extra=False)
    writer = replicas(folder, generation_grace_seconds=300)
    writer.index.clock = lambda: now
    writer.reload_sync()
    g1 = writer.index.active_name()
    replica = replicas(folder)
    (folder / "field-building.md").write_text(NEW_DOC, encoding="utf-8")
    writer.reload_sync()
    g2 = writer.index.active_name()
    (folder / "field-building.md").unlink()
    writer.reload_sync()
    g3 = writer.index.active_name()

    # g1 is neither serving nor previous, but it was retired only now: it stays for a while.
    assert writer.index.generation_names() == sorted([g1, g2, g3])
    assert replica.retriever.snapshot.collection == g1
    assert replica.retriever.search(ON_TOPIC).passages  # a replica mid-question still works

    now += timedelta(seconds=299)
    writer.reload_sync()
    assert writer.index.generation_names() == sorted([g1, g2, g3])

    now += timedelta(seconds=1)
    writer.reload_sync()  # no change to knowledge/, but the grace period is over

    assert writer.index.generation_names() == sorted([g2, g3])
    state = writer.index.state()
    assert (state.active, state.previous) == (g3, g2)
    answer = await replica.answer(_ask())
    assert answer.covered and replica.retriever.snapshot.collection == g3


# -- bounded retries -----------------------------------------------------------------------


def test_a_persistently_missing_collection_is_retried_exactly_once(
    replicas: Callable[..., CareerBot],
) -> None:
    bot = replicas()
    bot.reload_sync()

    with (
        mock.patch.object(Collection, "query", side_effect=NotFoundError("gone")) as query,
        pytest.raises(StaleGeneration),
    ):
        bot.retriever.search(ON_TOPIC)

    assert query.call_count == 2  # the first try, then once more after re-reading the pointer


def test_a_persistent_transient_error_ends_in_one_typed_error_after_bounded_tries(
    replicas: Callable[..., CareerBot],
) -> None:
    bot = replicas(retry_attempts=4)
    bot.reload_sync()

    with (
        mock.patch.object(
            Collection, "query", side_effect=httpx.ConnectError("connection refused")
        ) as query,
        pytest.raises(IndexUnavailable) as caught,
    ):
        bot.retriever.search(ON_TOPIC)

    assert query.call_count == 4
    message = str(caught.value)
    assert "\n" not in message and "unreachable" in message and "4 tries" in message


async def test_chroma_server_stopped_mid_serve_is_one_clear_error_chroma_server(
    tmp_path: Path, embedder: CachingEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("CAREERBOT_"):
            monkeypatch.delenv(name)
    server = start_chroma_server(tmp_path / "own-server")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        knowledge_dir=FIXTURE_KNOWLEDGE,
        data_dir=tmp_path / "data",
        chroma={"mode": "http", "host": server.host, "port": server.port, "retry_max_wait": 0},
    )
    bot = build_careerbot(settings, embeddings=(embedder, ONNX_MODEL_NAME))
    try:
        bot.reload_sync()
        assert (await bot.answer(_ask())).covered
        server.stop()

        with pytest.raises(IndexUnavailable) as caught:
            await bot.answer(_ask())

        assert "\n" not in str(caught.value)
        assert f"http://{server.host}:{server.port}" in str(caught.value)
        with pytest.raises(IndexUnavailable):  # at start-up, too
            build_careerbot(settings, embeddings=(embedder, ONNX_MODEL_NAME))

        # Back on the same port and data: the running bot answers again, no restart.
        server = start_chroma_server(tmp_path / "own-server", port=server.port)
        assert (await bot.answer(_ask())).covered
    finally:
        server.stop()
        bot.close()


# -- real processes ------------------------------------------------------------------------


class Worker:
    """A `tests.index_worker` process; its stdout lines arrive on a queue."""

    def __init__(self, mode: str, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.index_worker", mode],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def result(self) -> dict[str, Any]:
        """The next JSON line (bounded wait); a dead worker fails with its stderr."""
        try:
            line = self.lines.get(timeout=WORKER_DEADLINE)
        except queue.Empty:
            pytest.fail(f"worker gave no answer within {WORKER_DEADLINE:.0f}s")
        if line is None:
            assert self.process.stderr is not None
            pytest.fail(f"worker exited: {self.process.wait()}: {self.process.stderr.read()}")
        value = json.loads(line)
        assert isinstance(value, dict)
        return value

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def test_two_processes_reloading_at_once_never_lose_the_index(
    replicas: Callable[..., CareerBot], tmp_path: Path, chroma_backend: dict[str, Any]
) -> None:
    folders = [_knowledge(tmp_path, extra=False), _knowledge(tmp_path, extra=True)]
    sizes = {len(chunk_documents(load_knowledge(f))) for f in folders}
    assert len(sizes) == 2
    checker = replicas(folders[0])
    checker.reload_sync()  # readers start with an index, as in production

    base = {k: v for k, v in os.environ.items() if not k.startswith("CAREERBOT_")}
    env = {
        **base,
        "PYTHONPATH": str(REPO),
        "CAREERBOT_DATA_DIR": str(tmp_path / "data"),
        **{f"CAREERBOT_CHROMA__{k.upper()}": str(v) for k, v in chroma_backend.items()},
    }
    reloaders = [
        Worker("reload", {**env, "CAREERBOT_KNOWLEDGE_DIR": str(f)}, tmp_path) for f in folders
    ]
    reader = Worker("read", {**env, "CAREERBOT_KNOWLEDGE_DIR": str(folders[0])}, tmp_path)
    workers = [*reloaders, reader]
    try:
        for worker in workers:
            assert worker.result() == {"ready": True}
        outcomes: list[str] = []
        switches = 0  # rounds whose winner moved the pointer (its folder differed from active)
        for _ in range(ROUNDS):
            for worker in reloaders:
                worker.send("go")
            results = [worker.result() for worker in reloaders]
            assert not [r for r in results if "error" in r], results
            assert any(r.get("ok") for r in results), results
            outcomes.append("+".join(sorted("ok" if r.get("ok") else "refused" for r in results)))
            switches += any(r.get("changed") for r in results)
            # The index is never lost: the pointer names a whole, existing generation.
            state = checker.index.state()
            active = checker.index.open(state.active)
            assert active is not None, f"index lost after round {len(outcomes)}"
            assert active.count() in sizes
        reader.send("stop")
        summary = reader.result()
    finally:
        for worker in workers:
            worker.close()

    print(
        f"{ROUNDS} rounds: {sorted(outcomes)}; {switches} switched; "
        f"reader: {summary['answered']} answers"
    )
    assert summary["failures"] == []
    assert summary["answered"] > 0
    kept = checker.index.generation_names()
    state = checker.index.state()
    assert state.active in summary["collections"]  # it followed the reloads while answering
    assert state.active in kept
    # The generation before the serving one is kept for rollback. When the same folder won
    # every round (possible under load: its process always took the lease first), nothing
    # switched and there is no previous generation yet.
    assert state.previous in kept if switches else state.previous is None
