"""A throw-away PostgreSQL server for the tests: ``initdb`` into a temporary folder, started
on a free port (Unix socket in the same folder, no TCP), stopped at teardown.

The binaries come from Debian's ``postgresql`` package (``initdb``, ``pg_ctl`` on PATH or
under ``/usr/lib/postgresql/*/bin``); where they are absent the tests that need the server
are skipped with the reason. ``initdb`` refuses to run as root: then the server runs as
the ``postgres`` user (or ``nobody``), which owns the folder.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest


def _binaries() -> Path | None:
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(os.path.join(folder, "initdb"), os.X_OK):
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One server; :meth:`new_database` gives each test its own database URL."""

    def __init__(self) -> None:
        bindir = _binaries()
        if bindir is None:
            pytest.skip(
                "PostgreSQL binaries (initdb, pg_ctl) not found: apt-get install postgresql "
                "(.ci/run does) to run the PostgreSQL store tests"
            )
        try:
            import psycopg  # noqa: F401
        except ImportError:
            pytest.skip("psycopg is not installed: pip install 'pixirt[service]'")
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="pixirt-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            user = next((u for u in ("postgres", "nobody") if _has_user(u)), None)
            if user is None or shutil.which("runuser") is None:
                pytest.skip("running as root without a 'postgres' user and runuser: initdb refuses")
            shutil.chown(self.folder, user)
            self.prefix = ["runuser", "-u", user, "--"]
        os.chmod(self.folder, 0o755)
        self._run(
            str(bindir / "initdb"), "-D", str(self.data), "-U", "pixirt", "--auth=trust",
            "-E", "UTF8", "--no-locale",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses='' -c max_connections=200 "
            "-c shared_buffers=64MB"
        )
        self._run(
            str(bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"),
            "-w", "-t", "60", "-o", options, "start",
        )  # fmt: skip
        self.admin_url = self.url("postgres")

    def _run(self, *args: str) -> None:
        proc = subprocess.run([*self.prefix, *args], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {proc.stdout}{proc.stderr}")

    @property
    def pid(self) -> int:
        """The postmaster's process id (its children are the backends)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def url(self, dbname: str) -> str:
        return f"postgresql://pixirt@/{dbname}?host={self.folder}&port={self.port}"

    def new_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def execute_sql(url: str, sql: str, params: tuple = ()) -> list:
    """Run one statement on either store (``?`` placeholders, as SQLite spells them)."""
    if url.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            cur = conn.execute(sql.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []
    import sqlite3

    with sqlite3.connect(url) as db:
        return db.execute(sql, params).fetchall()
