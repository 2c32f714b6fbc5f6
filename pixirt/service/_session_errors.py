"""The errors and replies of the session service, and its retry of a step that lost a race."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar


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


T = TypeVar("T")


class Conflict(Exception):
    """The store moved on while a step was computed: compute it again."""


_ATTEMPTS = 8


def retrying(method: Callable[..., T]) -> Callable[..., T]:
    """Run a :class:`~pixirt.service._session_service.SessionService` step again, on the session's new state, when another write came first.

    Another replica or request committed first; after :data:`_ATTEMPTS` tries, a 409
    ``concurrent_update``.
    """

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> T:
        try:
            for attempt in range(_ATTEMPTS):
                self._attempt.value = attempt
                try:
                    return method(self, *args, **kwargs)
                except Conflict:
                    continue
        finally:
            self._attempt.value = 0
        self.metrics.inc("conflicts")
        raise ApiError(
            409,
            "concurrent_update",
            "the session kept changing while this request was processed: fetch it and retry",
        )

    return wrapper
