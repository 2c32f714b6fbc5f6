"""The errors and replies of the session service (:mod:`pixirt.service._session_service`)."""

from __future__ import annotations

from dataclasses import dataclass


class ApiError(Exception):
    """A refusal, carried to the client as ``application/problem+json``.

    Parameters
    ----------
    status
        HTTP status (404, 409, 422, 503).
    code
        Stable machine-readable code (``wrong_challenge``, ``session_expired``, ...).
    detail
        What happened, in plain words.
    field
        The request field at fault, if any (``body.profile``).
    """

    def __init__(self, status: int, code: str, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply already serialized (what the idempotency keys store and replay)."""

    status_code: int
    body: bytes
    replayed: bool = False
    session_id: str | None = None
