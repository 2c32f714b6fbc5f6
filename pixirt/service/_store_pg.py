"""The PostgreSQL session store: psycopg 3 and a connection pool, for N stateless replicas.

The same contract as :class:`pixirt.service.SQLiteStore`: a write is one
transaction, committed before the call returns, so an acknowledged write survives the
death of any replica. Every replica may serve every session: a session row holds what the
session *is* (seed, candidate index, rule and bank hashes, profile, answers, jury
events — :meth:`pixirt.cat.CatState.to_dict`), never a cache of the engine, and
any replica recomputes the next challenge from it.

Concurrency is the database's: an update names the row version it was computed from
(``UPDATE … WHERE session_id = %s AND version = %s``; under ``READ COMMITTED`` a
concurrent update of the same row waits for the first to commit, then re-checks the
version and matches nothing), idempotency keys are a primary key (``INSERT … ON
CONFLICT DO NOTHING``) and the whole write rolls back on any conflict. Two replicas
therefore never lose, double or stick an answer.

Schema: versioned in ``schema_migrations``; :data:`PG_MIGRATIONS` are applied in order
under an advisory lock, so replicas starting together migrate once.

URL: ``postgresql://user:password@host:5432/dbname`` (anything libpq accepts, e.g.
``postgresql://pixirt@/pixirt?host=/run/postgresql``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pixirt.service._store_migrations import Migration
from pixirt.service._store_records import (
    SESSION_COLUMNS,
    Event,
    PinKind,
    SessionRow,
    SessionSummary,
    StoredReply,
    StoreError,
    VersionConflict,
    ended_at,
    session_values,
    status_filter,
)

__all__ = ["PG_MIGRATIONS", "PostgresStore"]

T = TypeVar("T")

_LOCK_ID = 0x706978697274  # advisory lock taken while migrating ("pixirt")

PG_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "sessions, history events, idempotent replies, pinned banks and rule sets",
        """
        CREATE TABLE sessions (
            session_id   TEXT PRIMARY KEY,
            candidate_id TEXT NOT NULL,
            algorithm    TEXT NOT NULL,
            rules_id     TEXT NOT NULL,
            rules_hash   TEXT NOT NULL,
            bank_hash    TEXT NOT NULL,
            status       TEXT NOT NULL CHECK (status IN ('active', 'finished', 'aborted')),
            version      INTEGER NOT NULL,
            state        TEXT NOT NULL,
            result       TEXT,
            created_at   DOUBLE PRECISION NOT NULL,
            updated_at   DOUBLE PRECISION NOT NULL,
            expires_at   DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX sessions_candidate ON sessions (candidate_id);
        CREATE INDEX sessions_status_expiry ON sessions (status, expires_at);
        CREATE TABLE events (
            session_id   TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
            seq          INTEGER NOT NULL,
            at           DOUBLE PRECISION NOT NULL,
            kind         TEXT NOT NULL,
            challenge_id TEXT,
            status       TEXT,
            reason       TEXT,
            PRIMARY KEY (session_id, seq)
        );
        CREATE TABLE replies (
            scope        TEXT NOT NULL,
            key          TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            status_code  INTEGER NOT NULL,
            body         TEXT NOT NULL,
            created_at   DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (scope, key)
        );
        CREATE TABLE pinned (
            kind    TEXT NOT NULL CHECK (kind IN ('bank', 'rules')),
            hash    TEXT NOT NULL,
            content TEXT NOT NULL,
            PRIMARY KEY (kind, hash)
        );
        """,
    ),
    Migration(
        2,
        "retention indexes, session counts kept by triggers, the write probe",
        """
        CREATE INDEX replies_created ON replies (created_at);
        CREATE INDEX sessions_status_updated ON sessions (status, updated_at);
        CREATE TABLE session_counts (status TEXT PRIMARY KEY, n BIGINT NOT NULL);
        INSERT INTO session_counts (status, n)
            SELECT s, (SELECT COUNT(*) FROM sessions WHERE status = s)
            FROM (VALUES ('active'), ('finished'), ('aborted')) AS v (s);
        CREATE FUNCTION pixirt_count() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                UPDATE session_counts SET n = n - 1 WHERE status = OLD.status;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                UPDATE session_counts SET n = n + 1 WHERE status = NEW.status;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER sessions_count_insert AFTER INSERT ON sessions
            FOR EACH ROW EXECUTE FUNCTION pixirt_count();
        CREATE TRIGGER sessions_count_update AFTER UPDATE OF status ON sessions
            FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
            EXECUTE FUNCTION pixirt_count();
        CREATE TRIGGER sessions_count_delete AFTER DELETE ON sessions
            FOR EACH ROW EXECUTE FUNCTION pixirt_count();
        CREATE TABLE probe (id INTEGER PRIMARY KEY, at DOUBLE PRECISION NOT NULL);
        """,
    ),
    Migration(
        3,
        "answers update in place: the retention index on ended_at (set once a session "
        "ends) instead of updated_at, room on each page for heap-only updates; the history "
        "events without a foreign-key check per answer (an event is only ever inserted with "
        "its session's versioned update, and deleted with it)",
        """
        ALTER TABLE events DROP CONSTRAINT IF EXISTS events_session_id_fkey;
        ALTER TABLE sessions ADD COLUMN ended_at DOUBLE PRECISION;
        UPDATE sessions SET ended_at = updated_at WHERE status <> 'active';
        DROP INDEX sessions_status_updated;
        CREATE INDEX sessions_ended ON sessions (ended_at) WHERE ended_at IS NOT NULL;
        ALTER TABLE sessions SET (fillfactor = 70);
        """,
    ),
)

_PLACES = ", ".join(["%s"] * len(SESSION_COLUMNS.split(", ")))
_INSERT_SESSION = f"INSERT INTO sessions ({SESSION_COLUMNS}, ended_at) VALUES ({_PLACES}, %s)"


class PostgresStore:
    """Sessions in PostgreSQL (see the module doc).

    Parameters
    ----------
    url
        A libpq connection URL (``postgresql://…``).
    min_size, max_size
        Connections kept open by the pool, and at most.
    timeout_s
        How long a request waits for a free connection before a :class:`StoreError`.
    """

    def __init__(
        self, url: str, *, min_size: int = 2, max_size: int = 16, timeout_s: float = 30.0
    ) -> None:
        self.url = url
        self.min_size = int(min_size)
        self.max_size = int(max_size)
        self.timeout_s = float(timeout_s)
        self._pool: Any = None
        self._closed = True
        self._stats_lock = threading.Lock()
        self._failing = False
        self.commits = 0
        self.writes = 0
        self.commit_seconds = 0.0

    # ------------------------------------------------------------------ lifecycle
    def open(self) -> PostgresStore:
        """Open the pool, migrate the schema (once across replicas).

        Raises
        ------
        StoreError
            If the server cannot be reached, psycopg is missing, or the schema is newer.
        """
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError as exc:  # pragma: no cover - the service extra installs them
            raise StoreError(
                f"a postgresql:// store needs psycopg and psycopg-pool ({exc.name} is missing): "
                "pip install 'pixirt[service]'"
            ) from None
        self._errors: tuple[type[BaseException], ...] = (psycopg.Error,)
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                self._migrate(conn)
            self._pool = ConnectionPool(
                self.url,
                min_size=self.min_size,
                max_size=self.max_size,
                timeout=self.timeout_s,
                open=True,
                kwargs={"autocommit": True},  # reads: one round trip; writes: transaction()
            )
            self._pool.wait(timeout=self.timeout_s)
        except psycopg.Error as exc:
            raise StoreError(f"cannot open the PostgreSQL session store: {exc}") from exc
        except Exception as exc:  # pool timeout
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"cannot open the PostgreSQL session store: {exc}") from exc
        self._closed = False
        return self

    def _migrate(self, conn: Any) -> None:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "description TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
            )
            row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
            current = int(row[0] or 0)
            latest = PG_MIGRATIONS[-1].version
            if current > latest:
                raise StoreError(
                    f"schema version {current} is newer than this pixirt knows ({latest}): "
                    "upgrade pixirt"
                )
            for step in PG_MIGRATIONS:
                if step.version <= current:
                    continue
                with conn.transaction():
                    conn.execute(step.sql)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, description, applied_at) "
                        "VALUES (%s, %s, %s)",
                        (step.version, step.description, time.time()),
                    )
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))

    @property
    def schema_version(self) -> int:
        """The schema version of the database."""
        row = self._read("SELECT MAX(version) FROM schema_migrations", ())
        return int(row[0][0] or 0)

    def close(self) -> None:
        """Close the pool (requests in flight finish first)."""
        if self._closed:
            return
        self._closed = True
        self._pool.close()

    @property
    def alive(self) -> bool:
        """The pool is open."""
        return not self._closed

    # ------------------------------------------------------------------ plumbing
    def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        if self._closed:
            raise StoreError("the session store is closed")
        try:
            with self._pool.connection() as conn:
                rows: list[Any] = conn.execute(sql, params).fetchall()
                return rows
        except self._errors as exc:
            raise StoreError(f"the session store cannot be read: {exc}") from exc
        except StoreError:
            raise
        except Exception as exc:  # the pool's own timeout
            raise StoreError(f"the session store cannot be read: {exc}") from exc

    def _write(self, fn: Callable[[Any], T], *, single: bool = False) -> T:
        # ``single``: fn runs one statement, its own transaction (autocommit)
        if self._closed:
            raise StoreError("the session store is closed")
        t0 = time.perf_counter()
        try:
            with self._pool.connection() as conn:
                if single:
                    value = fn(conn)
                else:
                    with conn.transaction():
                        value = fn(conn)
        except VersionConflict:
            raise
        except self._errors as exc:
            self._failing = True
            raise StoreError(f"the session store could not commit: {exc}") from exc
        except StoreError:
            raise
        except Exception as exc:  # the pool's own timeout
            raise StoreError(f"the session store could not commit: {exc}") from exc
        with self._stats_lock:
            self._failing = False
            self.commits += 1
            self.writes += 1
            self.commit_seconds += time.perf_counter() - t0
        return value

    # ------------------------------------------------------------------ health
    def ping(self) -> bool:
        """The server answers a query."""
        try:
            self._read("SELECT 1", ())
        except StoreError:
            return False
        return True

    def writable(self) -> bool:
        """A write can be committed (after a failed commit, probed with a real write)."""
        if not self._failing:
            return True

        def op(conn: Any) -> None:
            conn.execute(
                "INSERT INTO probe (id, at) VALUES (1, %s) ON CONFLICT (id) DO UPDATE SET at = %s",
                (time.time(), time.time()),
            )

        try:
            self._write(op)
        except StoreError:
            return False
        return True

    # ------------------------------------------------------------------ reading
    def session(self, session_id: str) -> SessionRow | None:
        """The stored session, or None."""
        rows = self._read(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE session_id = %s", (session_id,)
        )
        return None if not rows else SessionRow(*rows[0])

    def version(self, session_id: str) -> int | None:
        """The session's version, or None if there is no such session."""
        rows = self._read("SELECT version FROM sessions WHERE session_id = %s", (session_id,))
        return None if not rows else int(rows[0][0])

    def events(self, session_id: str, *, after: int = 0) -> list[Event]:
        """The session's history (the events after sequence number ``after``), oldest first."""
        rows = self._read(
            "SELECT seq, at, kind, challenge_id, status, reason FROM events "
            "WHERE session_id = %s AND seq > %s ORDER BY seq",
            (session_id, after),
        )
        return [Event(*r) for r in rows]

    def reply(self, scope: str, key: str) -> StoredReply | None:
        """The stored reply for an idempotency key, or None."""
        rows = self._read(
            "SELECT request_hash, status_code, body FROM replies WHERE scope = %s AND key = %s",
            (scope, key),
        )
        return None if not rows else StoredReply(*rows[0])

    def pinned(self, kind: PinKind, content_hash: str) -> str | None:
        """The JSON of a pinned bank or rule set, or None."""
        rows = self._read(
            "SELECT content FROM pinned WHERE kind = %s AND hash = %s", (kind, content_hash)
        )
        return None if not rows else str(rows[0][0])

    def has_pinned(self, kind: PinKind, content_hash: str) -> bool:
        """Whether a bank or rule set is pinned."""
        rows = self._read(
            "SELECT 1 FROM pinned WHERE kind = %s AND hash = %s", (kind, content_hash)
        )
        return bool(rows)

    def count_sessions(self, now: float) -> dict[str, int]:
        """Sessions by status, in constant time (``expired`` on the expiry index)."""
        rows = self._read("SELECT status, n FROM session_counts", ())
        counts = {"active": 0, "finished": 0, "aborted": 0, "expired": 0}
        counts.update({str(k): int(n) for k, n in rows})
        expired = self._read(
            "SELECT COUNT(*) FROM sessions WHERE status = 'active' AND expires_at <= %s", (now,)
        )
        counts["expired"] = int(expired[0][0])
        counts["active"] -= counts["expired"]
        return counts

    def list_sessions(
        self, *, status: str | None, now: float, after: str | None, limit: int
    ) -> list[SessionSummary]:
        """Sessions by id (keyset pagination: ids after ``after``), optionally by status."""
        where, params = status_filter(status, now, "%s")
        if after is not None:
            where.append("session_id > %s")
            params.append(after)
        sql = (
            "SELECT session_id, candidate_id, rules_id, status, created_at, updated_at, "
            "expires_at FROM sessions"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY session_id LIMIT %s"
        )
        rows = self._read(sql, (*params, limit))
        return [SessionSummary(*r) for r in rows]

    # ------------------------------------------------------------------ writing
    def pin(self, kind: PinKind, content_hash: str, content: Callable[[], str]) -> None:
        """Store a bank or rule set by hash, unless already there (``content`` built lazily)."""
        if self.has_pinned(kind, content_hash):
            return
        text = content()
        self._write(
            lambda conn: conn.execute(
                "INSERT INTO pinned (kind, hash, content) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (kind, content_hash, text),
            )
        )

    def create_session(
        self,
        row: SessionRow,
        events: Sequence[Event],
        reply: tuple[str, str, str, int, str] | None = None,
    ) -> None:
        """Insert a new session with its first events (see :meth:`SQLiteStore.create_session`)."""
        if reply is None and len(events) == 1:
            # the common case in one statement (one round trip, its own transaction)
            e = events[0]
            self._write(
                lambda conn: conn.execute(
                    f"WITH s AS ({_INSERT_SESSION} RETURNING session_id) "
                    "INSERT INTO events (session_id, seq, at, kind, challenge_id, status, reason) "
                    "SELECT session_id, %s, %s, %s, %s, %s, %s FROM s",
                    (
                        *session_values(row),
                        ended_at(row.status, row.updated_at),
                        e.seq,
                        e.at,
                        e.kind,
                        e.challenge_id,
                        e.status,
                        e.reason,
                    ),
                ),
                single=True,
            )
            return

        def op(conn: Any) -> None:
            if reply is not None:
                scope, key, request_hash, code, body = reply
                cur = conn.execute(
                    "INSERT INTO replies (scope, key, request_hash, status_code, body, created_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    (scope, key, request_hash, code, body, row.created_at),
                )
                if cur.rowcount != 1:
                    raise VersionConflict(f"idempotency key {key!r} was used concurrently")
            conn.execute(
                _INSERT_SESSION,
                (*session_values(row), ended_at(row.status, row.updated_at)),
            )
            _insert_events(conn, row.session_id, events)

        self._write(op)

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
        """Replace the session's state if still at ``expected_version``; the new version."""
        new_version = expected_version + 1
        ended = ended_at(status, updated_at)
        if reply is None and len(events) == 1:
            # the common case in one statement (one round trip, its own transaction):
            # the event is inserted only if the versioned update matched
            e = events[0]

            values = (
                status, new_version, state, result, updated_at, ended, session_id,
                expected_version, e.seq, e.at, e.kind, e.challenge_id, e.status, e.reason,
            )  # fmt: skip

            def one(conn: Any) -> int:
                if _exec_answer(conn, values) != 1:
                    raise VersionConflict(
                        f"session {session_id} changed since version {expected_version}"
                    )
                return new_version

            return self._write(one, single=True)

        def op(conn: Any) -> int:
            cur = conn.execute(
                "UPDATE sessions SET status = %s, version = %s, state = %s, result = %s, "
                "updated_at = %s, ended_at = %s WHERE session_id = %s AND version = %s",
                (
                    status,
                    new_version,
                    state,
                    result,
                    updated_at,
                    ended,
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
                    "INSERT INTO replies (scope, key, request_hash, status_code, body, created_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    (session_id, key, request_hash, code, body, updated_at),
                )
                if cur.rowcount != 1:
                    raise VersionConflict(f"idempotency key {key!r} was used concurrently")
            return new_version

        return self._write(op)

    def erase_candidate(self, candidate_id: str, *, candidate_scope: str) -> list[str]:
        """Delete every session of a candidate with its history and stored replies."""

        def op(conn: Any) -> list[str]:
            ids = [
                str(r[0])
                for r in conn.execute(
                    "SELECT session_id FROM sessions WHERE candidate_id = %s FOR UPDATE",
                    (candidate_id,),
                ).fetchall()
            ]
            if ids:
                conn.execute("DELETE FROM replies WHERE scope = ANY(%s)", (ids,))
                conn.execute("DELETE FROM events WHERE session_id = ANY(%s)", (ids,))
            conn.execute("DELETE FROM replies WHERE scope = %s", (candidate_scope,))
            conn.execute("DELETE FROM sessions WHERE candidate_id = %s", (candidate_id,))
            return ids

        return self._write(op)

    def purge(
        self, now: float, *, replies_older_than: float | None, sessions_older_than: float | None
    ) -> tuple[int, int]:
        """Retention: delete old replies and old finished sessions; ``(replies, sessions)``."""

        def op(conn: Any) -> tuple[int, int]:
            n_replies = n_sessions = 0
            if sessions_older_than is not None:
                cutoff = now - sessions_older_than
                ids = [
                    str(r[0])
                    for r in conn.execute(
                        "SELECT session_id FROM sessions WHERE ended_at < %s "
                        "LIMIT 10000 FOR UPDATE SKIP LOCKED",
                        (cutoff,),
                    ).fetchall()
                ]
                if ids:
                    conn.execute("DELETE FROM replies WHERE scope = ANY(%s)", (ids,))
                    conn.execute("DELETE FROM events WHERE session_id = ANY(%s)", (ids,))
                    cur = conn.execute("DELETE FROM sessions WHERE session_id = ANY(%s)", (ids,))
                    n_sessions = int(cur.rowcount)
            if replies_older_than is not None:
                cur = conn.execute(
                    "DELETE FROM replies WHERE created_at < %s", (now - replies_older_than,)
                )
                n_replies = int(cur.rowcount)
            return n_replies, n_sessions

        return self._write(op)


# ---------------------------------------------------------------------- the answer's write
# An answer is the hot path: its update and history event are one prepared statement,
# run by libpq directly (psycopg's execute costs about 60 µs of Python per call; this,
# a tenth). Same statement, same transaction semantics (autocommit: its own transaction).
_ANSWER_STATEMENT = b"pixirt_answer_v3"
_ANSWER_SQL = (
    b"WITH u AS (UPDATE sessions SET status = $1, version = $2, state = $3, result = $4, "
    b"updated_at = $5, ended_at = $6 WHERE session_id = $7 AND version = $8 "
    b"RETURNING session_id) "
    b"INSERT INTO events (session_id, seq, at, kind, challenge_id, status, reason) "
    b"SELECT session_id, $9, $10, $11, $12, $13, $14 FROM u"
)
_TEXT, _INT8, _FLOAT8 = 25, 20, 701  # type oids
_SQLSTATE = ord("C")  # PG_DIAG_SQLSTATE
_NO_STATEMENT = b"26000"  # invalid_sql_statement_name
_ANSWER_TYPES = (
    _TEXT, _INT8, _TEXT, _TEXT, _FLOAT8, _FLOAT8, _TEXT, _INT8,
    _INT8, _FLOAT8, _TEXT, _TEXT, _TEXT, _TEXT,
)  # fmt: skip


def _text(value: Any) -> bytes | None:
    """A parameter in PostgreSQL's text format (floats exactly: ``repr`` round-trips)."""
    if value is None:
        return None
    if isinstance(value, float):
        return repr(value).encode()
    return str(value).encode()


def _exec_answer(conn: Any, values: Sequence[Any]) -> int:
    """Run the prepared answer statement; the rows it inserted (1, or 0 on a stale version).

    The statement is prepared on a connection's first answer (a new connection answers
    "no such prepared statement": it is prepared, then run).
    """
    from psycopg import pq
    from psycopg.errors import error_from_result

    params = [_text(v) for v in values]
    pgconn = conn.pgconn
    res = pgconn.exec_prepared(_ANSWER_STATEMENT, params)
    if res.status == pq.ExecStatus.FATAL_ERROR and res.error_field(_SQLSTATE) == _NO_STATEMENT:
        prepared = pgconn.prepare(_ANSWER_STATEMENT, _ANSWER_SQL, _ANSWER_TYPES)
        if prepared.status != pq.ExecStatus.COMMAND_OK:
            raise error_from_result(prepared, encoding=conn.info.encoding)
        res = pgconn.exec_prepared(_ANSWER_STATEMENT, params)
    if res.status != pq.ExecStatus.COMMAND_OK:
        raise error_from_result(res, encoding=conn.info.encoding)
    return int(res.command_tuples or 0)


def _insert_events(conn: Any, session_id: str, events: Sequence[Event]) -> None:
    for e in events:
        conn.execute(
            "INSERT INTO events (session_id, seq, at, kind, challenge_id, status, reason) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (session_id, e.seq, e.at, e.kind, e.challenge_id, e.status, e.reason),
        )
