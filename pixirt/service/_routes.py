"""The HTTP routes: one :class:`fastapi.APIRouter` per resource.

=======================================================  =====================================
route                                                    what
=======================================================  =====================================
``POST /v1/sessions``                                    start a session (201)
``GET /v1/sessions?status=expired&after=…&limit=…``      list sessions, a page at a time
``GET /v1/sessions/{session_id}``                        state and history
``POST /v1/sessions/{session_id}/answers``               answer the challenge served
``GET /v1/sessions/{session_id}/result``                 the result of a test that is over
``POST /v1/sessions/{session_id}/neutralize``            jury: neutralize a challenge
``POST /v1/sessions/{session_id}/deneutralize``          jury: cancel a neutralization
``POST /v1/sessions/{session_id}/live-alerts``           v3: a validated live alert
``POST /v1/sessions/{session_id}/abort``                 end the session early
``POST /v1/score``                                       stateless scoring
``GET /v1/rules``, ``GET /v1/rules/{rules_id}``          the served rule sets
``DELETE /v1/candidates/{candidate_id}``                 erase a candidate's sessions
``GET /health``, ``GET /ready``, ``GET /metrics``        operations
=======================================================  =====================================

Handlers are plain functions (run in the thread pool: the engine and the store block);
dependencies are ``async`` (no thread hop) and read ``app.state``, so tests can swap
them with ``app.dependency_overrides`` (:func:`get_settings`, :func:`get_clock`,
:func:`get_service`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.convertors import Convertor, register_url_convertor

import pixirt
from pixirt.service._schemas import (
    AbortIn,
    AnswerIn,
    AnswerOut,
    CandidateErasedOut,
    ChallengeIn,
    HealthOut,
    JuryOut,
    Problem,
    ReadyOut,
    ResultOut,
    RuleSetOut,
    RuleSetSummaryOut,
    ScoreIn,
    SessionCreatedOut,
    SessionIn,
    SessionListOut,
    SessionOut,
    SessionStatus,
)
from pixirt.service._session_errors import ApiError, Reply
from pixirt.service._session_service import SessionService
from pixirt.service._settings import Settings

__all__ = [
    "OPEN_PATHS",
    "candidates",
    "get_clock",
    "get_now",
    "get_service",
    "get_settings",
    "operations",
    "routers",
    "rules",
    "scoring",
    "sessions",
]


class _Anything(Convertor[str]):
    """A path parameter of any characters, ``/`` and newlines included (candidate ids)."""

    regex = r"[\s\S]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("pixirt_any", _Anything())

#: Paths served without the bearer token.
OPEN_PATHS = frozenset({"/health", "/ready"})

_JSON = "application/json"


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {
        401: "Missing or invalid bearer token.",
        404: "Unknown session.",
        409: "The session's state forbids this step (see ``code``).",
        413: "Body over the limit (64 KiB by default).",
        422: "Invalid request: every invalid field is listed in ``errors``.",
        503: "The session store is unavailable.",
    }
    return {
        c: {
            "model": Problem,
            "description": text[c],
            "content": {"application/problem+json": {}},
        }
        for c in codes
    }


_COMMON = (401, 413, 422, 503)


# ============================================================================ dependencies
async def get_settings(request: Request) -> Settings:
    """The application's settings (override in tests)."""
    settings: Settings = request.app.state.settings
    return settings


async def get_clock(request: Request) -> Callable[[], float]:
    """The clock giving Unix seconds now (override in tests to move time)."""
    clock: Callable[[], float] = request.app.state.clock
    return clock


async def get_now(clock: Annotated[Callable[[], float], Depends(get_clock)]) -> float:
    """Unix seconds now, from :func:`get_clock`."""
    return float(clock())


async def get_service(request: Request) -> SessionService:
    """The session service built by the lifespan (503 before it is ready)."""
    service: SessionService | None = request.app.state.service
    if service is None:
        raise ApiError(503, "not_ready", "the service is starting or stopping")
    return service


async def get_idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="A retry with the same key and body returns the stored reply "
            "(scoped to the session; on POST /v1/sessions to the candidate).",
        ),
    ] = None,
) -> str | None:
    """The ``Idempotency-Key`` header, if sent."""
    return idempotency_key


def _key(header: str | None, body: str | None) -> str | None:
    if header is not None and body is not None and header != body:
        raise ApiError(
            422,
            "idempotency_mismatch",
            "the Idempotency-Key header and body.idempotency_key differ: send one",
            field="header.idempotency-key",
        )
    return header if header is not None else body


Service = Annotated[SessionService, Depends(get_service)]
IdempotencyKey = Annotated[str | None, Depends(get_idempotency_key)]
Now = Annotated[float, Depends(get_now)]
SessionId = Annotated[str, Path(min_length=1, max_length=200, description="The session id.")]


def location(scope: Mapping[str, Any], path: str) -> str:
    """``path`` under the prefix the app is mounted at (``root_path``)."""
    root = str(scope.get("root_path", "")).rstrip("/")
    return root + path


def _send(request: Request, reply: Reply, **headers: str) -> Response:
    info = request.scope.get("pixirt")
    if info is not None and reply.session_id is not None:
        info["session_id"] = reply.session_id
    extra = dict(headers)
    if reply.replayed:
        extra["idempotent-replayed"] = "true"
    return Response(reply.body, status_code=reply.status_code, media_type=_JSON, headers=extra)


# ============================================================================ sessions
sessions = APIRouter(prefix="/v1/sessions", tags=["sessions"])


@sessions.post(
    "",
    status_code=201,
    response_model=SessionCreatedOut,
    responses=_problems(*_COMMON, 409),
    summary="Start a certification session",
)
def create_session(
    body: SessionIn,
    request: Request,
    service: Service,
    now: Now,
    settings: Annotated[Settings, Depends(get_settings)],
    key: IdempotencyKey,
) -> Response:
    """Start a session with a served rule set and the served bank (both pinned by hash).

    Returns the first challenge. v2 needs the candidate's positioning profile (422 if it
    selects no challenge). With an ``Idempotency-Key`` header or ``idempotency_key``
    (scoped to the candidate), a retried start returns the same session.
    ``time_limit_minutes`` gives this session its own time limit (extra time).
    """
    reply = service.create(
        body,
        now,
        ttl_seconds=settings.session_ttl_seconds,
        key=_key(key, body.idempotency_key),
    )
    if reply.session_id is None:
        return _send(request, reply)
    return _send(
        request, reply, location=location(request.scope, f"/v1/sessions/{reply.session_id}")
    )


@sessions.get(
    "",
    response_model=SessionListOut,
    responses=_problems(401, 422, 503),
    summary="List sessions (e.g. the expired ones, to abort and score them)",
)
def list_sessions(
    service: Service,
    now: Now,
    status: Annotated[
        SessionStatus | None, Query(description="Only sessions of this status.")
    ] = None,
    after: Annotated[
        str | None, Query(min_length=1, max_length=200, description="The previous page's next.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> SessionListOut:
    """Sessions by id, a page at a time (``next`` is the ``after`` of the following page)."""
    return service.list_sessions(status=status, after=after, limit=limit, now=now)


@sessions.get(
    "/{session_id}",
    response_model=SessionOut,
    responses=_problems(401, 404, 422, 503),
    summary="A session's state and history",
)
def get_session(session_id: SessionId, service: Service, now: Now) -> SessionOut:
    """Where the session stands (status, challenge served, estimate) and its history."""
    return service.get(session_id, now)


@sessions.post(
    "/{session_id}/answers",
    response_model=AnswerOut,
    responses=_problems(*_COMMON, 404, 409),
    summary="Answer the challenge served",
)
def answer(
    session_id: SessionId,
    body: AnswerIn,
    request: Request,
    service: Service,
    now: Now,
    key: IdempotencyKey,
) -> Response:
    """Record the answer to the challenge served, durably, then reply.

    Returns the next challenge, or ``finished`` with the result. 409 for another
    challenge than the one served, or a finished, aborted or expired session. The same
    ``idempotency_key`` returns the stored reply (header ``Idempotent-Replayed: true``)
    and records nothing; with a different body it is a 409.
    """
    return _send(
        request, service.answer(session_id, body, now, key=_key(key, body.idempotency_key))
    )


@sessions.get(
    "/{session_id}/result",
    response_model=ResultOut,
    responses=_problems(401, 404, 409, 422, 503),
    summary="The result of a session that is over",
)
def get_result(session_id: SessionId, request: Request, service: Service, now: Now) -> Response:
    """The scored certification (409 while the test goes on)."""
    return _send(request, service.result(session_id, now))


@sessions.post(
    "/{session_id}/neutralize",
    response_model=JuryOut,
    responses=_problems(*_COMMON, 404, 409),
    summary="Jury: neutralize a challenge",
)
def neutralize(
    session_id: SessionId,
    body: ChallengeIn,
    request: Request,
    service: Service,
    now: Now,
    key: IdempotencyKey,
) -> Response:
    """Neutralize an asked challenge; a test that is over is rescored."""
    return _send(request, service.neutralize(session_id, body.challenge_id, now, key=key))


@sessions.post(
    "/{session_id}/deneutralize",
    response_model=JuryOut,
    responses=_problems(*_COMMON, 404, 409),
    summary="Jury: cancel a neutralization",
)
def deneutralize(
    session_id: SessionId,
    body: ChallengeIn,
    request: Request,
    service: Service,
    now: Now,
    key: IdempotencyKey,
) -> Response:
    """Cancel the neutralization of a challenge; a test that is over is rescored."""
    reply = service.neutralize(session_id, body.challenge_id, now, undo=True, key=key)
    return _send(request, reply)


@sessions.post(
    "/{session_id}/live-alerts",
    response_model=JuryOut,
    responses=_problems(*_COMMON, 404, 409),
    summary="v3: a validated live alert on the challenge served",
)
def live_alert(
    session_id: SessionId,
    body: ChallengeIn,
    request: Request,
    service: Service,
    now: Now,
    key: IdempotencyKey,
) -> Response:
    """The challenge served is withdrawn with its skill and replaced (v3 only)."""
    return _send(request, service.live_alert(session_id, body.challenge_id, now, key=key))


@sessions.post(
    "/{session_id}/abort",
    response_model=JuryOut,
    responses=_problems(*_COMMON, 404, 409),
    summary="End the session early",
)
def abort(
    session_id: SessionId,
    body: AbortIn,
    request: Request,
    service: Service,
    now: Now,
    key: IdempotencyKey,
) -> Response:
    """Abort (``candidate`` or ``technical``), also after expiry; the result is scored."""
    return _send(request, service.abort(session_id, body, now, key=key))


# ============================================================================ scoring, rules
scoring = APIRouter(prefix="/v1", tags=["scoring"])


@scoring.post(
    "/score",
    response_model=ResultOut,
    responses=_problems(*_COMMON),
    summary="Score a certification (stateless)",
)
def score_certification(
    body: ScoreIn, request: Request, service: Service, key: IdempotencyKey
) -> Response:
    """Score a certification with a served rule set (v3: degradation with the served bank)."""
    return _send(request, service.score(body))


rules = APIRouter(prefix="/v1/rules", tags=["rules"])


@rules.get("", response_model=list[RuleSetSummaryOut], responses=_problems(401, 503))
async def list_rules(service: Service) -> list[RuleSetSummaryOut]:
    """The rule sets a session may name."""
    return service.catalog.summaries()


@rules.get("/{rules_id}", response_model=RuleSetOut, responses=_problems(401, 404, 422, 503))
async def get_rules(
    rules_id: Annotated[str, Path(min_length=1, max_length=200)], service: Service
) -> RuleSetOut:
    """One served rule set with its whole content and hash."""
    return service.catalog.describe(rules_id)


# ============================================================================ candidates
candidates = APIRouter(prefix="/v1/candidates", tags=["candidates"])


@candidates.delete(
    "/{candidate_id:pixirt_any}",  # a candidate id may hold a '/', a newline...
    response_model=CandidateErasedOut,
    responses=_problems(401, 422, 503),
    summary="Erase every session of a candidate",
)
def erase_candidate(
    candidate_id: Annotated[str, Path(min_length=1, max_length=200)],
    service: Service,
    key: IdempotencyKey,
) -> CandidateErasedOut:
    """Delete the candidate's sessions, history and stored replies (personal-data requests).

    Idempotent (an ``Idempotency-Key`` header is accepted, not needed): erasing a
    candidate without sessions deletes nothing and succeeds. Reaches every id a session
    start accepts (percent-encode it: ``/``, newlines, spaces...).
    """
    return service.erase_candidate(candidate_id)


# ============================================================================ operations
operations = APIRouter(tags=["operations"])


@operations.get("/health", response_model=HealthOut)
async def health() -> HealthOut:
    """Liveness: the process answers."""
    return HealthOut(status="ok")


@operations.get("/ready", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
def ready(request: Request) -> Any:
    """Readiness: bank and rule sets loaded, store open, answering and writable (else 503)."""
    state = request.app.state
    store = state.store
    catalog = state.catalog
    store_ok = bool(
        state.ready and store is not None and store.alive and store.ping() and store.writable()
    )
    out = ReadyOut(
        status="ready" if store_ok and catalog is not None else "not ready",
        bank_hash=None if catalog is None else catalog.bank.hash,
        rules=[] if catalog is None else sorted(catalog.served),
        store=store_ok,
    )
    if out.status != "ready":
        return JSONResponse(out.model_dump(), status_code=503)
    return out


@operations.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}, **_problems(401)},
)
def metrics(request: Request, now: Now) -> PlainTextResponse:
    """Prometheus text: requests, latencies, sessions, store commits."""
    state = request.app.state
    store = state.store
    service = state.service
    sessions_by_status = store.count_sessions(now) if store is not None and store.alive else {}
    gauges: dict[str, tuple[str, float]] = {
        "sessions_cached": (
            "Sessions kept warm in memory.",
            0 if service is None else len(service.cache),
        ),
    }
    if store is not None:
        gauges.update(
            store_commits_total=("Store transactions committed.", store.commits),
            store_writes_total=("Writes committed (several per transaction).", store.writes),
            store_commit_seconds_total=("Time spent committing.", store.commit_seconds),
        )
    catalog = state.catalog
    text = state.metrics.render(
        sessions=sessions_by_status,
        gauges=gauges,
        info={
            "version": pixirt.__version__,
            "bank_hash": "" if catalog is None else catalog.bank.hash[:12],
        },
    )
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")


#: Every router, in the order they are included.
routers = (sessions, scoring, rules, candidates, operations)
