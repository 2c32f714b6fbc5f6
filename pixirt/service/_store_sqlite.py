"""The SQLite session store: one writer thread, readers on their own connections.

Durability contract: a write (a new session; an answer with the new state, its history
event and its idempotent reply) is one transaction, committed and synced to disk before
the call returns. The service answers only after it returns, so a ``kill -9`` at any
moment loses no acknowledged write, and a write that was not acknowledged is either
wholly there or wholly absent.

Throughput: one writer thread owns the write connection and commits every write
waiting in its queue in a single transaction (*group commit*): one ``fsync`` serves many
concurrent requests, each write in its own ``SAVEPOINT`` so that one failing write
does not undo the others. Reads use one connection per thread (WAL readers never wait
for the writer).

Optimistic concurrency: every session row has a ``version``; an update names the
version it was computed from and fails with :class:`~pixirt.service._store_records.VersionConflict` if the row moved
on (another process sharing the file, an erasure in between).

Schema: versioned in ``schema_migrations``; :data:`~pixirt.service._store_migrations.MIGRATIONS` lists every step and
:meth:`~pixirt.service.SQLiteStore.open` applies the missing ones in order, each in its own
transaction. A file written by a newer pixirt (unknown version) is refused.

Tables::

    sessions(session_id PK, candidate_id, algorithm, rules_id, rules_hash, bank_hash,
             status, version, state JSON, result JSON, created_at, updated_at, expires_at,
             ended_at)
    events(session_id, seq, at, kind, challenge_id, status, reason)   -- the history
    replies(scope, key, request_hash, status_code, body, created_at)  -- idempotency
    pinned(kind, hash, content)            -- every bank and rule set a session used

Times are Unix seconds (UTC).
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic

from pixirt.service._store_migrations import MIGRATIONS
from pixirt.service._store_records import (
    SESSION_COLUMNS,
    Event,
    PinKind,
    SessionRow,
    SessionSummary,
    StoredReply,
    StoreError,
    T,
    VersionConflict,
    ended_at,
    session_values,
    status_filter,
)

_PLACES = ", ".join(["?"] * len(SESSION_COLUMNS.split(", ")))


@dataclass(slots=True)
class _Job(Generic[T]):
    fn: Callable[[sqlite3.Connection], T]
    future: Future[T]
    bare: bool = False  # run alone, outside a transaction (checkpoints)


_STOP = object()


class SQLiteStore:
    """Sessions in one SQLite file (see the module doc).

    Parameters
    ----------
    path
        The database file (created with its folder if missing).
    max_batch
        Most writes committed in one transaction.
    busy_timeout_ms
        How long to wait for a lock held by another process.
    write_timeout_s
        How long :meth:`write` waits for its commit before giving up with
        :class:`StoreError` (a 503); the write may still be committed later.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        max_batch: int = 256,
        busy_timeout_ms: int = 10_000,
        write_timeout_s: float = 60.0,
    ) -> None:
        self.path = Path(path)
        self.write_timeout_s = float(write_timeout_s)
        self.max_batch = int(max_batch)
        self.busy_timeout_ms = int(busy_timeout_ms)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = True
        self._failing = False
        self.commits = 0
        self.writes = 0
        self.commit_seconds = 0.0

    # ------------------------------------------------------------------ lifecycle
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            timeout=self.busy_timeout_ms / 1000,
        )
        conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = FULL")
        return conn

    def open(self) -> SQLiteStore:
        """Open the file, migrate the schema and start the writer thread.

        Raises
        ------
        StoreError
            If the file cannot be opened or was written by a newer schema.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._connect()
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{self.path}: cannot switch to WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = FULL")
            # erased personal data is overwritten, not left in free pages
            conn.execute("PRAGMA secure_delete = ON")
            self._migrate(conn)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the session store: {exc}") from exc
        self._write_conn = conn
        self._closed = False
        self._writer = threading.Thread(target=self._run, name="pixirt-store-writer", daemon=True)
        self._writer.start()
        return self

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        current = int(row[0] or 0)
        latest = MIGRATIONS[-1].version
        if current > latest:
            raise StoreError(
                f"{self.path}: schema version {current} is newer than this pixirt knows ({latest}): "
                "upgrade pixirt"
            )
        for step in MIGRATIONS:
            if step.version <= current:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(step.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
                    (step.version, step.description, time.time()),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        """The schema version of the file."""
        row = self._reader().execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def close(self) -> None:
        """Finish the queued writes, stop the writer and close every connection."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        if self._writer is not None:
            self._writer.join()
        with contextlib.suppress(sqlite3.Error):
            self._write_conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self._write_conn.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()

    @property
    def alive(self) -> bool:
        """The store is open and its writer thread running."""
        return not self._closed and self._writer is not None and self._writer.is_alive()

    # ------------------------------------------------------------------ writing
    def _run(self) -> None:
        stop = False
        pending: Any = None
        while not stop:
            first = pending if pending is not None else self._queue.get()
            pending = None
            if first is _STOP:
                break
            if first.bare:
                self._run_bare(first)
                continue
            batch: list[_Job[Any]] = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                if item.bare:
                    pending = item
                    break
                batch.append(item)
            self._commit(batch)
            if stop and pending is not None:
                self._run_bare(pending)

    def _run_bare(self, job: _Job[Any]) -> None:
        try:
            value = job.fn(self._write_conn)
        except Exception as exc:
            job.future.set_exception(exc)
        else:
            job.future.set_result(value)

    def _commit(self, batch: list[_Job[Any]]) -> None:
        conn = self._write_conn
        outcomes: list[tuple[bool, Any]] = []
        t0 = time.perf_counter()
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in batch:
                conn.execute("SAVEPOINT job")
                try:
                    value = job.fn(conn)
                except Exception as exc:
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    if isinstance(exc, sqlite3.Error):  # disk full, I/O error: a 503
                        self._failing = True
                        exc = StoreError(f"the session store could not write: {exc}")
                    outcomes.append((False, exc))
                else:
                    conn.execute("RELEASE job")
                    outcomes.append((True, value))
            conn.execute("COMMIT")
        except Exception as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            self._failing = True
            error = StoreError(f"the session store could not commit: {exc}")
            for job in batch:
                job.future.set_exception(error)
            return
        # a job that could not write (disk full) keeps the store "failing" for /ready
        self._failing = any(isinstance(v, StoreError) for ok, v in outcomes if not ok)
        self.commits += 1
        self.writes += len(batch)
        self.commit_seconds += time.perf_counter() - t0
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)

    def write(self, fn: Callable[[sqlite3.Connection], T], *, bare: bool = False) -> T:
        """Run ``fn`` in a write transaction; return once it is committed and synced.

        Raises
        ------
        StoreError
            If the store is closed or the commit failed; whatever ``fn`` raised (its
            changes undone, the other writes of the batch kept).
        """
        if self._closed:
            raise StoreError("the session store is closed")
        future: Future[T] = Future()
        self._queue.put(_Job(fn, future, bare))
        try:
            return future.result(timeout=self.write_timeout_s)
        except TimeoutError:
            raise StoreError(
                f"the session store did not commit within {self.write_timeout_s:g} s "
                "(the write may still land: retry with the same idempotency key)"
            ) from None

    # ------------------------------------------------------------------ reading
    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise StoreError("the session store is closed")
            conn = self._connect()
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def ping(self) -> bool:
        """The file answers a query."""
        try:
            self._reader().execute("SELECT 1").fetchone()
        except (sqlite3.Error, StoreError):
            return False
        return True

    def session(self, session_id: str) -> SessionRow | None:
        """The stored session, or None."""
        row = (
            self._reader()
            .execute(f"SELECT {SESSION_COLUMNS} FROM sessions WHERE session_id = ?", (session_id,))
            .fetchone()
        )
        return None if row is None else SessionRow(*row)

    def version(self, session_id: str) -> int | None:
        """The session's version, or None if there is no such session."""
        row = (
            self._reader()
            .execute("SELECT version FROM sessions WHERE session_id = ?", (session_id,))
            .fetchone()
        )
        return None if row is None else int(row[0])

    def events(self, session_id: str, *, after: int = 0) -> list[Event]:
        """The session's history (the events after sequence number ``after``), oldest first."""
        rows = (
            self._reader()
            .execute(
                "SELECT seq, at, kind, challenge_id, status, reason FROM events "
                "WHERE session_id = ? AND seq > ? ORDER BY seq",
                (session_id, after),
            )
            .fetchall()
        )
        return [Event(*r) for r in rows]

    def reply(self, scope: str, key: str) -> StoredReply | None:
        """The stored reply for an idempotency key, or None."""
        row = (
            self._reader()
            .execute(
                "SELECT request_hash, status_code, body FROM replies WHERE scope = ? AND key = ?",
                (scope, key),
            )
            .fetchone()
        )
        return None if row is None else StoredReply(*row)

    def pinned(self, kind: PinKind, content_hash: str) -> str | None:
        """The JSON of a pinned bank or rule set, or None."""
        row = (
            self._reader()
            .execute("SELECT content FROM pinned WHERE kind = ? AND hash = ?", (kind, content_hash))
            .fetchone()
        )
        return None if row is None else str(row[0])

    def has_pinned(self, kind: PinKind, content_hash: str) -> bool:
        """Whether a bank or rule set is pinned."""
        row = (
            self._reader()
            .execute("SELECT 1 FROM pinned WHERE kind = ? AND hash = ?", (kind, content_hash))
            .fetchone()
        )
        return row is not None

    def count_sessions(self, now: float) -> dict[str, int]:
        """Sessions by status, in constant time.

        Counts are kept by triggers; ``expired`` (active sessions past their expiry) is
        counted on the expiry index.
        """
        conn = self._reader()
        rows = conn.execute("SELECT status, n FROM session_counts").fetchall()
        counts = {"active": 0, "finished": 0, "aborted": 0, "expired": 0}
        counts.update({str(k): int(n) for k, n in rows})
        expired = conn.execute(
            "SELECT COUNT(*) FROM sessions WHERE status = 'active' AND expires_at <= ?", (now,)
        ).fetchone()
        counts["expired"] = int(expired[0])
        counts["active"] -= counts["expired"]
        return counts

    def list_sessions(
        self, *, status: str | None, now: float, after: str | None, limit: int
    ) -> list[SessionSummary]:
        """Sessions by id (keyset pagination: ids after ``after``), optionally by status."""
        where, params = status_filter(status, now, "?")
        if after is not None:
            where.append("session_id > ?")
            params.append(after)
        sql = (
            "SELECT session_id, candidate_id, rules_id, status, created_at, updated_at, "
            "expires_at FROM sessions"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY session_id LIMIT ?"
        )
        rows = self._reader().execute(sql, (*params, limit)).fetchall()
        return [SessionSummary(*r) for r in rows]

    def writable(self) -> bool:
        """A write can be committed now.

        After a failed commit, probed with a real write that allocates a page, so a full
        disk keeps failing it.
        """
        if not self._failing:
            return True

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO probe (id, at, pad) VALUES (1, ?, zeroblob(8192))",
                (time.time(),),
            )
            conn.execute("DELETE FROM probe")

        try:
            self.write(op)
        except StoreError:
            return False
        return True

    # ------------------------------------------------------------------ write operations
    def pin(self, kind: PinKind, content_hash: str, content: Callable[[], str]) -> None:
        """Store a bank or rule set by hash, unless already there (``content`` built lazily)."""
        if self.has_pinned(kind, content_hash):
            return
        text = content()

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR IGNORE INTO pinned (kind, hash, content) VALUES (?, ?, ?)",
                (kind, content_hash, text),
            )

        self.write(op)

    def create_session(
        self,
        row: SessionRow,
        events: Sequence[Event],
        reply: tuple[str, str, str, int, str] | None = None,
    ) -> None:
        """Insert a new session with its first events (and the idempotent reply of its start).

        ``reply`` is ``(scope, key, request_hash, status_code, body)``; if the key is
        already taken (a concurrent retry), nothing is written and
        :class:`VersionConflict` is raised.
        """

        def op(conn: sqlite3.Connection) -> None:
            if reply is not None:
                scope, key, request_hash, code, body = reply
                cur = conn.execute(
                    "INSERT OR IGNORE INTO replies (scope, key, request_hash, status_code, body, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (scope, key, request_hash, code, body, row.created_at),
                )
                if cur.rowcount != 1:
                    raise VersionConflict(f"idempotency key {key!r} was used concurrently")
            conn.execute(
                f"INSERT INTO sessions ({SESSION_COLUMNS}, ended_at) VALUES ({_PLACES}, ?)",
                (*session_values(row), ended_at(row.status, row.updated_at)),
            )
            _insert_events(conn, row.session_id, events)

        self.write(op)

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
        """Replace the session's state (and result) if it is still at ``expected_version``.

        The events and the idempotent reply ``(key, request_hash, status_code, body)``,
        scoped to the session, are written in the same transaction.

        Returns
        -------
        int
            The new version.

        Raises
        ------
        VersionConflict
            The session is gone or at another version, or the key was taken meanwhile.
        """
        new_version = expected_version + 1

        def op(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "UPDATE sessions SET status = ?, version = ?, state = ?, result = ?, updated_at = ?, "
                "ended_at = ? WHERE session_id = ? AND version = ?",
                (
                    status,
                    new_version,
                    state,
                    result,
                    updated_at,
                    ended_at(status, updated_at),
                    session_id,
                    expected_version,
                ),
            )
            if cur.rowcount != 1:
                raise VersionConflict(
                    f"session {session_id} changed since version {expected_version}"
                )
            _insert_events(conn, session_id, events)
            if reply is not None:
                key, request_hash, code, body = reply
                cur = conn.execute(
                    "INSERT OR IGNORE INTO replies (scope, key, request_hash, status_code, body, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (session_id, key, request_hash, code, body, updated_at),
                )
                if cur.rowcount != 1:
                    raise VersionConflict(f"idempotency key {key!r} was used concurrently")
            return new_version

        return self.write(op)

    def erase_candidate(self, candidate_id: str, *, candidate_scope: str) -> list[str]:
        """Delete every session of a candidate with its history and stored replies.

        Returns
        -------
        list of str
            The ids of the sessions deleted.
        """

        def op(conn: sqlite3.Connection) -> list[str]:
            ids = [
                str(r[0])
                for r in conn.execute(
                    "SELECT session_id FROM sessions WHERE candidate_id = ?", (candidate_id,)
                )
            ]
            for sid in ids:
                conn.execute("DELETE FROM replies WHERE scope = ?", (sid,))
                conn.execute("DELETE FROM events WHERE session_id = ?", (sid,))
            conn.execute("DELETE FROM replies WHERE scope = ?", (candidate_scope,))
            conn.execute("DELETE FROM sessions WHERE candidate_id = ?", (candidate_id,))
            return ids

        ids = self.write(op)
        # older images of the erased pages may sit in the WAL: copy back and truncate it
        self.write(_checkpoint, bare=True)
        return ids

    def purge(
        self, now: float, *, replies_older_than: float | None, sessions_older_than: float | None
    ) -> tuple[int, int]:
        """Retention: delete old idempotent replies and old finished or aborted sessions.

        Ages in seconds (None keeps them); at most 10,000 sessions a call.

        Returns
        -------
        tuple of int
            Replies and sessions deleted.
        """

        def op(conn: sqlite3.Connection) -> tuple[int, int]:
            n_replies = n_sessions = 0
            if sessions_older_than is not None:
                ids = [
                    str(r[0])
                    for r in conn.execute(
                        "SELECT session_id FROM sessions WHERE ended_at < ? LIMIT 10000",
                        (now - sessions_older_than,),
                    )
                ]
                for sid in ids:
                    conn.execute("DELETE FROM replies WHERE scope = ?", (sid,))
                    conn.execute("DELETE FROM events WHERE session_id = ?", (sid,))
                    n_sessions += conn.execute(
                        "DELETE FROM sessions WHERE session_id = ?", (sid,)
                    ).rowcount
            if replies_older_than is not None:
                n_replies = conn.execute(
                    "DELETE FROM replies WHERE created_at < ?", (now - replies_older_than,)
                ).rowcount
            return n_replies, n_sessions

        return self.write(op)


def _checkpoint(conn: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):  # best effort: busy readers delay it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _insert_events(conn: sqlite3.Connection, session_id: str, events: Sequence[Event]) -> None:
    conn.executemany(
        "INSERT INTO events (session_id, seq, at, kind, challenge_id, status, reason) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(session_id, e.seq, e.at, e.kind, e.challenge_id, e.status, e.reason) for e in events],
    )


def _statements(sql: str) -> Iterator[str]:
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()
