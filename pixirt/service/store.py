"""The durable session store: SQLite in WAL mode, ``synchronous=FULL``, group commit.

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
version it was computed from and fails with :class:`VersionConflict` if the row moved
on (another process sharing the file, an erasure in between).

Schema: versioned in ``schema_migrations``; :data:`MIGRATIONS` lists every step and
:meth:`SQLiteStore.open` applies the missing ones in order, each in its own
transaction. A file written by a newer pixirt (unknown version) is refused.

Tables::

    sessions(session_id PK, candidate_id, algorithm, rules_id, rules_hash, bank_hash,
             status, version, state JSON, result JSON, created_at, updated_at, expires_at)
    events(session_id, seq, at, kind, challenge_id, status, reason)   -- the history
    replies(scope, key, request_hash, status_code, body, created_at)  -- idempotency
    pinned(kind, hash, content)            -- every bank and rule set a session used

Times are Unix seconds (UTC).
"""

from __future__ import annotations

from pixirt.service._store_migrations import MIGRATIONS, Migration
from pixirt.service._store_protocol import SessionStore, open_store
from pixirt.service._store_records import (
    Event,
    PinKind,
    SessionRow,
    SessionSummary,
    StoredReply,
    StoreError,
    VersionConflict,
    status_filter,
)
from pixirt.service._store_records import T as T
from pixirt.service._store_sqlite import SQLiteStore
from pixirt.service._store_sqlite import _insert_events as _insert_events

__all__ = [
    "MIGRATIONS",
    "Event",
    "Migration",
    "PinKind",
    "SQLiteStore",
    "SessionRow",
    "SessionStore",
    "SessionSummary",
    "StoreError",
    "StoredReply",
    "VersionConflict",
    "open_store",
    "status_filter",
]
