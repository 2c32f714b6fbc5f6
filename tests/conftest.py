"""Shared fixtures: a throw-away PostgreSQL server (see ``tests/pg_server.py``)."""

from __future__ import annotations

import pytest
from pg_server import PostgresServer


@pytest.fixture(scope="session")
def pg_server():
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A fresh, empty store of each kind: a SQLite file path, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "sessions.sqlite")
    return request.getfixturevalue("pg_server").new_database()
