"""The session service: the certification engine behind the HTTP routes.

:class:`SessionService` runs every step of a session through the pure engine
(:mod:`pixirt.cat.engine`) and the durable store (:mod:`pixirt.service.store`):

1. take the session's lock (requests on one session are serialized within a process;
   sessions run in parallel);
2. load its state: the warm copy if the stored row is still at its version, else the
   warm copy brought up to date with the steps another replica recorded, else the stored
   JSON (:meth:`pixirt.cat.state.CatState.from_dict` replays the answers with the bank
   and rule set the session was pinned to, by hash); an answer's first try uses the
   warm copy without reading;
3. check the step (idempotency key, session open, challenge served) — a refusal is a
   :class:`ApiError` with a stable ``code`` (an answer's refusal is checked again on
   the stored state first);
4. compute the new state, the next challenge and, when the test is over, the result;
5. write the new state, the history event and the idempotent reply in one transaction,
   naming the version the step was computed from, and only then reply. If another
   replica or request wrote first, the step runs again on the new state
   (:func:`_retrying`).

Deployment: any number of processes and replicas on one store (:mod:`pixirt.service.store`:
SQLite on one machine, PostgreSQL across machines); none owns a session.

The candidate index keying a session's draws (:mod:`pixirt.streams`) is the request's
``candidate_index`` or :func:`derive_candidate_index` of the candidate id, so a session
replayed in-process with the same seed and index serves the same challenges.
"""

from __future__ import annotations

from pixirt.service._catalog import Catalog
from pixirt.service._session_errors import ApiError, Reply
from pixirt.service._session_service import SessionService
from pixirt.service._session_service import T as T
from pixirt.service._session_views import _estimate as _estimate
from pixirt.service._session_views import derive_candidate_index, iso, score_session

__all__ = [
    "ApiError",
    "Catalog",
    "Reply",
    "SessionService",
    "derive_candidate_index",
    "iso",
    "score_session",
]
