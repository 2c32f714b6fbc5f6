"""The :class:`SessionStore` protocol and :func:`open_store` (the stores: ``_store_sqlite``, ``_store_pg``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from pixirt.service._store_records import (
    Event,
    PinKind,
    SessionRow,
    SessionSummary,
    StoredReply,
    StoreError,
)
from pixirt.service._store_sqlite import SQLiteStore


class SessionStore(Protocol):
    """What the service needs from a session store (SQLite or PostgreSQL).

    Every write is one transaction, committed before the call returns; an update names
    the version it was computed from and raises :class:`VersionConflict` if the row moved
    on; an idempotency key is unique per scope.
    """

    commits: int
    writes: int
    commit_seconds: float

    def open(self) -> SessionStore:
        """Connect and migrate the schema."""

    def close(self) -> None:
        """Finish the writes in flight and disconnect."""

    @property
    def alive(self) -> bool:
        """The store is open."""

    @property
    def schema_version(self) -> int:
        """The schema version reached."""

    def ping(self) -> bool:
        """The store answers a query."""

    def writable(self) -> bool:
        """A write can be committed now."""

    def session(self, session_id: str) -> SessionRow | None:
        """The stored session, or None."""

    def version(self, session_id: str) -> int | None:
        """The session's version, or None."""

    def events(self, session_id: str, *, after: int = 0) -> list[Event]:
        """The session's history after sequence number ``after``, oldest first."""

    def reply(self, scope: str, key: str) -> StoredReply | None:
        """The stored reply of an idempotency key, or None."""

    def pinned(self, kind: PinKind, content_hash: str) -> str | None:
        """A pinned bank or rule set (JSON), or None."""

    def pin(self, kind: PinKind, content_hash: str, content: Callable[[], str]) -> None:
        """Store a bank or rule set by hash."""

    def count_sessions(self, now: float) -> dict[str, int]:
        """Sessions by status."""

    def list_sessions(
        self, *, status: str | None, now: float, after: str | None, limit: int
    ) -> list[SessionSummary]:
        """Sessions by id after ``after``, optionally of one status."""

    def create_session(
        self,
        row: SessionRow,
        events: Sequence[Event],
        reply: tuple[str, str, str, int, str] | None = None,
    ) -> None:
        """Insert a session, its first events and the reply of its start."""

    def update_session(
        self,
        session_id: str,
        *,
        expected_version: int,
        status: str,
        state: str,
        result: str | None,
        updated_at: float,
        events: Sequence[Event],
        reply: tuple[str, str, int, str] | None = None,
    ) -> int:
        """Replace a session's state if still at ``expected_version``; the new version."""

    def erase_candidate(self, candidate_id: str, *, candidate_scope: str) -> list[str]:
        """Delete a candidate's sessions; their ids."""

    def purge(
        self, now: float, *, replies_older_than: float | None, sessions_older_than: float | None
    ) -> tuple[int, int]:
        """Delete old replies and old finished sessions; how many of each."""


def open_store(url: str | Path, **options: Any) -> SessionStore:
    """Open the store a URL names.

    ``postgresql://…`` (or ``postgres://…``), ``sqlite:///abs/path`` or a plain file path
    (SQLite).

    Parameters
    ----------
    url
        The store's URL or SQLite path.
    **options
        Passed to the store's constructor.

    Returns
    -------
    SessionStore
        The store, opened and migrated.

    Raises
    ------
    StoreError
        If it cannot be opened.
    """
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        from pixirt.service._store_pg import PostgresStore

        return PostgresStore(text, **options).open()
    if text.startswith("sqlite://"):
        text = text.removeprefix("sqlite://")
        if not text.startswith("/"):
            raise StoreError(f"expected sqlite:///path/to/file, got {url!s}")
        text = text[1:] if text.startswith("//") else text
    return SQLiteStore(text, **options).open()
