"""What the session stores hold and the errors they raise: rows, events, summaries."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal, TypeVar

from pixirt.exceptions import PixirtError

T = TypeVar("T")


PinKind = Literal["bank", "rules"]


class StoreError(PixirtError):
    """The store cannot do what was asked (disk full, unreadable file, newer schema)."""


class VersionConflict(StoreError):
    """The session changed (or vanished) since the state the update was computed from."""


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One line of a session listing."""

    session_id: str
    candidate_id: str
    rules_id: str
    status: str
    created_at: float
    updated_at: float
    expires_at: float


def status_filter(status: str | None, now: float, mark: str) -> tuple[list[str], list[Any]]:
    """SQL conditions (and their parameters) selecting the sessions of a listed status.

    ``expired`` is an active session past its expiry; ``active`` one before it.
    """
    if status is None:
        return [], []
    if status == "expired":
        return ["status = 'active'", f"expires_at <= {mark}"], [now]
    if status == "active":
        return ["status = 'active'", f"expires_at > {mark}"], [now]
    return [f"status = {mark}"], [status]


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A stored session (``state`` and ``result`` as JSON text)."""

    session_id: str
    candidate_id: str
    algorithm: str
    rules_id: str
    rules_hash: str
    bank_hash: str
    status: str
    version: int
    state: str
    result: str | None
    created_at: float
    updated_at: float
    expires_at: float


#: The sessions table's columns, in :class:`SessionRow`'s order (both stores).
SESSION_COLUMNS = ", ".join(f.name for f in fields(SessionRow))


def session_values(row: SessionRow) -> tuple[Any, ...]:
    """A row's values in :data:`SESSION_COLUMNS` order."""
    return tuple(getattr(row, f.name) for f in fields(SessionRow))


def ended_at(status: str, updated_at: float) -> float | None:
    """The ``ended_at`` column: None while a session is active, else its last change.

    Retention finds old sessions by this column, so an answer to an active session
    changes no indexed value (PostgreSQL then updates the row in place: a heap-only
    tuple, no index entry written).
    """
    return None if status == "active" else updated_at


@dataclass(frozen=True, slots=True)
class Event:
    """One history entry of a session."""

    seq: int
    at: float
    kind: str
    challenge_id: str | None = None
    status: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class StoredReply:
    """A stored idempotent reply."""

    request_hash: str
    status_code: int
    body: str
