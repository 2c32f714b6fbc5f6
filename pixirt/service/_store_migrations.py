"""The schema migrations of the SQLite session store (PostgreSQL's are in ``_store_pg``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: ``version`` is reached by running ``sql``."""

    version: int
    description: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
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
            created_at   REAL NOT NULL,
            updated_at   REAL NOT NULL,
            expires_at   REAL NOT NULL
        );
        CREATE INDEX sessions_candidate ON sessions (candidate_id);
        CREATE INDEX sessions_status_expiry ON sessions (status, expires_at);
        CREATE TABLE events (
            session_id   TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
            seq          INTEGER NOT NULL,
            at           REAL NOT NULL,
            kind         TEXT NOT NULL,
            challenge_id TEXT,
            status       TEXT,
            reason       TEXT,
            PRIMARY KEY (session_id, seq)
        ) WITHOUT ROWID;
        CREATE TABLE replies (
            scope        TEXT NOT NULL,
            key          TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            status_code  INTEGER NOT NULL,
            body         TEXT NOT NULL,
            created_at   REAL NOT NULL,
            PRIMARY KEY (scope, key)
        ) WITHOUT ROWID;
        CREATE TABLE pinned (
            kind    TEXT NOT NULL CHECK (kind IN ('bank', 'rules')),
            hash    TEXT NOT NULL,
            content TEXT NOT NULL,
            PRIMARY KEY (kind, hash)
        ) WITHOUT ROWID;
        """,
    ),
    Migration(
        2,
        "retention indexes, session counts kept by triggers, the write probe",
        """
        CREATE INDEX replies_created ON replies (created_at);
        CREATE INDEX sessions_status_updated ON sessions (status, updated_at);
        CREATE TABLE session_counts (status TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO session_counts (status, n)
            SELECT s.column1, (SELECT COUNT(*) FROM sessions WHERE status = s.column1)
            FROM (VALUES ('active'), ('finished'), ('aborted')) AS s;
        CREATE TRIGGER sessions_count_insert AFTER INSERT ON sessions BEGIN
            UPDATE session_counts SET n = n + 1 WHERE status = NEW.status;
        END;
        CREATE TRIGGER sessions_count_update AFTER UPDATE OF status ON sessions
            WHEN OLD.status <> NEW.status BEGIN
            UPDATE session_counts SET n = n - 1 WHERE status = OLD.status;
            UPDATE session_counts SET n = n + 1 WHERE status = NEW.status;
        END;
        CREATE TRIGGER sessions_count_delete AFTER DELETE ON sessions BEGIN
            UPDATE session_counts SET n = n - 1 WHERE status = OLD.status;
        END;
        CREATE TABLE probe (id INTEGER PRIMARY KEY, at REAL NOT NULL, pad BLOB);
        """,
    ),
    Migration(
        3,
        "the retention index on ended_at (set once a session ends) instead of updated_at: "
        "an answer no longer rewrites an index entry",
        """
        ALTER TABLE sessions ADD COLUMN ended_at REAL;
        UPDATE sessions SET ended_at = updated_at WHERE status <> 'active';
        DROP INDEX sessions_status_updated;
        CREATE INDEX sessions_ended ON sessions (ended_at) WHERE ended_at IS NOT NULL;
        """,
    ),
)
