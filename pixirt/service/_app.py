"""The FastAPI application: :func:`create_app`, its lifespan, middleware and error replies.

::

    from pixirt.service import Settings, create_app
    app = create_app(Settings(db="sessions.sqlite", rules=("pix-v3",)))
    # uvicorn.run(app, host="127.0.0.1", port=8000) — or mount it in the platform's ASGI app

The lifespan loads the bank and the rule sets once, opens the store (migrating its
schema) and pins the served bank and rule sets in it; everything lives on ``app.state``
(no module-level state: two apps in one process are independent).

One pure-ASGI middleware, outermost after Starlette's error guard, does per request, in
order: the bearer-token check (every path but ``/health`` and ``/ready``; SHA-256 digests
compared in constant time), the 64 KiB body limit (413, announced or streamed), the
request id (``X-Request-ID`` echoed or made), then one JSON line on standard error
(route template, status, latency, session id; never a header) and the metrics. The two
hot requests — an answer and a session's start — are served by the middleware itself
when well-formed (:meth:`ServiceMiddleware._fast_post`: the same service call and reply
as the routes, on the app's own request threads), everything else by FastAPI.

Every error is ``application/problem+json`` (:class:`~pixirt.service._schemas.Problem`)
with a stable ``code``; request validation errors (422) list each invalid field by its
dotted path.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import hashlib
import hmac
import itertools
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import IO, Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import pixirt
from pixirt import ItemBank
from pixirt import rules as rules_module
from pixirt.exceptions import DataError, PixirtError, ScoringError, SessionError
from pixirt.rules import RuleSet
from pixirt.service._catalog import Catalog
from pixirt.service._metrics import Metrics
from pixirt.service._routes import OPEN_PATHS, location, routers
from pixirt.service._schemas import AnswerIn, SessionIn
from pixirt.service._session_errors import ApiError, Reply
from pixirt.service._session_service import SessionService
from pixirt.service._settings import Settings
from pixirt.service._store_protocol import open_store
from pixirt.service._store_records import StoreError

__all__ = ["AccessLog", "create_app"]

PROBLEM_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_ANSWER_PATH = re.compile(r"^/v1/sessions/([^/]+)/answers$")
_SESSIONS_PATH = "/v1/sessions"
_METHODS = {
    "GET",
    "HEAD",
    "OPTIONS",
    "POST",
    "PUT",
    "PATCH",
    "DELETE",
}  # metric labels stay bounded


def problem_body(
    status: int, code: str, detail: str, errors: Sequence[dict[str, str]] = ()
) -> bytes:
    """The JSON of a :class:`~pixirt.service._schemas.Problem`."""
    return json.dumps(
        {
            "type": f"https://pixirt.dev/problems/{code}",
            "title": _TITLES.get(status, "Error"),
            "status": status,
            "detail": detail,
            "code": code,
            "errors": list(errors),
        },
        ensure_ascii=False,
    ).encode("utf-8")


def _problem(
    status: int,
    code: str,
    detail: str,
    errors: Sequence[dict[str, str]] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    response = JSONResponse(
        content=None, status_code=status, media_type=PROBLEM_TYPE, headers=headers
    )
    response.body = problem_body(status, code, detail, errors)
    response.headers["content-length"] = str(len(response.body))
    return response


class AccessLog:
    """One JSON line per request on a stream (standard error by default), thread-safe."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one line."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        stream = self.stream if self.stream is not None else sys.stderr
        with self._lock:
            stream.write(line)
            stream.flush()


# ============================================================================ middleware
class ServiceMiddleware:
    """Authentication, body limit, request id, access log and metrics (see the module doc)."""

    def __init__(self, app: ASGIApp, *, state: Any) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        state = self.state
        info: dict[str, Any] = {"session_id": None, "status": 500}
        scope["pixirt"] = info
        headers = _headers(scope)
        request_id = headers.get("x-request-id", "")[:100] or _request_id()
        rid_header = (b"x-request-id", request_id.encode("latin-1", "replace"))

        async def send_wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                info["status"] = message["status"]
                message["headers"] = [*message.get("headers", []), rid_header]
            await send(message)

        try:
            if state.phase == "new":
                # mounted in another app, whose lifespan does not run ours: start on the
                # first request (once, in a worker thread: loading blocks)
                await anyio.to_thread.run_sync(state.start_once)
                _limit_threads(state.settings.threads)
            refusal = self._refuse(scope, headers, state)
            if refusal is not None:
                await _send_problem(send_wrapped, *refusal)
                return
            method = scope["method"]
            if method in _BODY_METHODS:
                body = await _read_body(receive, state.settings.max_body_bytes)
                if body is None:
                    await _send_problem(
                        send_wrapped,
                        413,
                        "body_too_large",
                        f"the request body exceeds {state.settings.max_body_bytes} bytes",
                    )
                    return
                if body and not _is_json(headers.get("content-type", "")):
                    await _send_problem(
                        send_wrapped,
                        415,
                        "unsupported_media_type",
                        "the request body must be JSON (Content-Type: application/json)",
                    )
                    return
                if method == "POST" and await self._fast_post(scope, headers, body, send_wrapped):
                    return
                receive = _body_again(body, receive)
            await self.app(scope, receive, send_wrapped)
        finally:
            seconds = time.perf_counter() - t0
            route = scope.get("route")
            template = (
                getattr(route, "path", None)
                or scope.get("route_template")
                or _template(state.routes, scope)
            )
            status = int(info["status"])
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            state.metrics.observe_request(method, template, status, seconds)
            if state.settings.log_requests:
                session_id = info["session_id"] or scope.get("path_params", {}).get("session_id")
                state.access_log.write(
                    {
                        "ts": _now_iso(),
                        "level": "info" if status < 500 else "error",
                        "event": "request",
                        "method": method,
                        "route": template,
                        "status": status,
                        "latency_ms": round(seconds * 1000, 3),
                        "session_id": session_id,
                        "request_id": request_id,
                    }
                )

    async def _fast_post(
        self, scope: Scope, headers: dict[str, str], body: bytes, send: Send
    ) -> bool:
        """The hot paths without FastAPI's routing: a session's answers, and its start.

        ``POST /v1/sessions/{id}/answers`` and ``POST /v1/sessions``. Only a well-formed request with no dependency overridden takes them (the same
        service call and the same reply as the route); anything else returns False and
        goes through FastAPI (its 422 replies, its overrides).
        """
        state = self.state
        service = state.service
        if service is None or state.overrides:
            return False
        path = _route_path(scope)
        key = headers.get("idempotency-key")
        if key is not None and not 1 <= len(key) <= 200:
            return False
        now = float(state.clock())
        if path == _SESSIONS_PATH:
            try:
                created = SessionIn.model_validate_json(body)
            except ValueError:
                return False
            if key is not None and created.idempotency_key not in (None, key):
                return False
            scope["route_template"] = _SESSIONS_PATH
            call = functools.partial(
                service.create,
                created,
                now,
                ttl_seconds=state.settings.session_ttl_seconds,
                key=key if key is not None else created.idempotency_key,
            )
            return await self._run(scope, send, call, with_location=True)
        match = _ANSWER_PATH.match(path)
        if match is None or len(match.group(1)) > 200:
            return False
        sid = match.group(1)
        try:
            answer = AnswerIn.model_validate_json(body)
        except ValueError:
            return False
        if key is not None and answer.idempotency_key not in (None, key):
            return False
        scope["pixirt"]["session_id"] = sid
        scope["route_template"] = "/v1/sessions/{session_id}/answers"
        call = functools.partial(
            service.answer,
            sid,
            answer,
            now,
            key=key if key is not None else answer.idempotency_key,
        )
        return await self._run(scope, send, call, with_location=False)

    async def _run(
        self, scope: Scope, send: Send, call: Callable[[], Reply], *, with_location: bool
    ) -> bool:
        """Run a service call on the app's request threads and send its reply (or problem).

        asyncio's executor: half the CPU of a hop through anyio's worker threads
        (measured), and not shared with FastAPI's routes.
        """
        try:
            reply = await asyncio.get_running_loop().run_in_executor(self.state.executor, call)
        except ApiError as exc:
            errors = (
                [{"field": exc.field, "message": exc.detail, "type": exc.code}] if exc.field else []
            )
            await _send_problem(send, exc.status, exc.code, exc.detail, errors=errors)
            return True
        except PixirtError as exc:  # as the app's handler replies
            status, code, detail, errors = _pixirt_problem(exc)
            await _send_problem(send, status, code, detail, errors=errors)
            return True
        raw = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(reply.body)).encode()),
        ]
        if with_location and reply.session_id:
            scope["pixirt"]["session_id"] = reply.session_id
            where = location(scope, f"{_SESSIONS_PATH}/{reply.session_id}")
            raw.append((b"location", where.encode()))
        if reply.replayed:
            raw.append((b"idempotent-replayed", b"true"))
        await send({"type": "http.response.start", "status": reply.status_code, "headers": raw})
        await send({"type": "http.response.body", "body": reply.body})
        return True

    @staticmethod
    def _refuse(
        scope: Scope, headers: dict[str, str], state: Any
    ) -> tuple[int, str, str, dict[str, str] | None] | None:
        digest: bytes | None = state.token_digest
        if digest is not None and _route_path(scope) not in OPEN_PATHS:
            given = headers.get("authorization", "")
            scheme, _, token = given.partition(" ")
            ok = hmac.compare_digest(
                hashlib.sha256(token.strip().encode("utf-8", "replace")).digest(), digest
            )
            if not (scheme.lower() == "bearer" and ok):
                return (
                    401,
                    "unauthorized",
                    "a valid bearer token is required (Authorization: Bearer <token>)",
                    {"www-authenticate": 'Bearer realm="pixirt"'},
                )
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return 400, "bad_request", "invalid Content-Length header", None
            if int(length) > state.settings.max_body_bytes:
                return (
                    413,
                    "body_too_large",
                    f"the request body exceeds {state.settings.max_body_bytes} bytes",
                    None,
                )
        return None


_ID_PREFIX = uuid.uuid4().hex[:16]  # this process
_ID_COUNTER = itertools.count(1)


def _request_id() -> str:
    """A request id unique across processes (random prefix, counter): no syscall per request."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


def _route_path(scope: Scope) -> str:
    """The request path inside this app (without the prefix it is mounted at)."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", "")).rstrip("/")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _template(routes: Sequence[tuple[re.Pattern[str], str]], scope: Scope) -> str:
    """The route template of a request refused before routing (for logs and metrics)."""
    path = _route_path(scope)
    for regex, template in routes:
        m = regex.match(path)
        if m:
            scope.setdefault("path_params", m.groupdict())
            return template
    return "unmatched"


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in scope.get("headers", ()):
        name = key.decode("latin-1").lower()
        if name in (
            "authorization",
            "content-length",
            "content-type",
            "x-request-id",
            "idempotency-key",
        ):
            out[name] = value.decode("latin-1")
    return out


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _body_again(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the app the body the middleware already read."""
    sent = False

    async def receive_body() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_body


async def _send_problem(
    send: Send,
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
    *,
    errors: Sequence[dict[str, str]] = (),
) -> None:
    body = problem_body(status, code, detail, errors)
    raw = [
        (b"content-type", PROBLEM_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        *((k.encode(), v.encode()) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _now_iso() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


# ============================================================================ errors
def _field(loc: Sequence[Any]) -> str:
    return ".".join(str(p) for p in loc)


def _pixirt_problem(exc: PixirtError) -> tuple[int, str, str, list[dict[str, str]]]:
    """Status, code, detail and fields of the reply to an error of pixirt."""
    if isinstance(exc, StoreError):
        return 503, "store_unavailable", str(exc), []
    if isinstance(exc, SessionError):
        return 409, "session_conflict", str(exc), []
    if isinstance(exc, DataError):
        field = f"body.{exc.field}" if exc.field else "body"
        errors = [{"field": field, "message": exc.message, "type": "invalid_field"}]
        return 422, "invalid_field", exc.message, errors
    if isinstance(exc, ScoringError):
        return 422, "cannot_score", str(exc), []
    return 422, "invalid_request", str(exc), []


def _install_error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        errors = (
            [{"field": exc.field, "message": exc.detail, "type": exc.code}] if exc.field else []
        )
        return _problem(exc.status, exc.code, exc.detail, errors)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = []
        for err in exc.errors():
            loc = list(err.get("loc", ()))
            kind = str(err.get("type", "invalid"))
            message = str(err.get("msg", "invalid value"))
            if kind == "json_invalid":
                pos = loc[1] if len(loc) > 1 else "?"
                loc = ["body"]
                message = (
                    f"malformed JSON at position {pos}: {err.get('ctx', {}).get('error', message)}"
                )
            errors.append({"field": _field(loc), "message": message, "type": kind})
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        if len(errors) > 5:
            detail += f"; and {len(errors) - 5} more"
        return _problem(422, "invalid_request", detail or "invalid request", errors)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        codes = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if exc.status_code == 400 and "parsing the body" in detail:
            # FastAPI's reply when the JSON parser itself fails (e.g. nested too deep)
            message = "the body cannot be parsed as JSON (nested too deep?)"
            return _problem(
                422,
                "invalid_request",
                f"body: {message}",
                [{"field": "body", "message": message, "type": "json_invalid"}],
            )
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.method} {request.url.path}"
        return _problem(
            exc.status_code,
            codes.get(exc.status_code, "http_error"),
            detail,
            headers=dict(exc.headers or {}),
        )

    async def pixirt_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PixirtError)
        return _problem(*_pixirt_problem(exc))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(PixirtError, pixirt_error)


# ============================================================================ app
def create_app(
    settings: Settings | None = None,
    *,
    bank: ItemBank | None = None,
    rule_sets: Sequence[RuleSet] | None = None,
    clock: Callable[[], float] | None = None,
    log_stream: IO[str] | None = None,
) -> FastAPI:
    """The certification service as an ASGI application.

    Parameters
    ----------
    settings
        The configuration; default :meth:`Settings.from_env`.
    bank
        A bank already in memory (wins over ``settings.bank``).
    rule_sets
        Rule sets already loaded (win over ``settings.rules``).
    clock
        Unix seconds now (session expiry, history times); default :func:`time.time`.
    log_stream
        Where the JSON request lines go; default standard error.

    Returns
    -------
    fastapi.FastAPI
        The application; its lifespan loads the bank and rule sets and opens the store.

    Examples
    --------
    >>> app = create_app(Settings(db="/tmp/pixirt-doctest.sqlite", log_requests=False))
    >>> sorted(p for p in app.openapi()["paths"] if p.startswith("/v1/rules"))
    ['/v1/rules', '/v1/rules/{rules_id}']
    """
    settings = settings if settings is not None else Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # an app served twice at once (mounted twice, test harnesses) shares one set of
        # resources: the first start opens them, the last stop closes them
        if not app.state.lifespans:
            app.state.start_once(again=True)
            _limit_threads(app.state.settings.threads)
        app.state.lifespans += 1
        try:
            yield
        finally:
            app.state.lifespans -= 1
            if not app.state.lifespans:
                _stop(app)

    app = FastAPI(
        title="pixirt certification service",
        version=pixirt.__version__,
        summary="The Pix certification engine (v2 and v3) over HTTP: durable sessions, scoring, rules.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.access_log = AccessLog(log_stream)
    app.state.clock = clock if clock is not None else time.time
    app.state.token_digest = (
        hashlib.sha256(settings.token.encode("utf-8")).digest() if settings.token else None
    )
    app.state.ready = False
    app.state.phase = "new"  # then "running", "stopped"
    start_lock = threading.Lock()

    def start_once(*, again: bool = False) -> None:
        # the lifespan starts it (again after a stop); a first request starts it once
        # when no lifespan ran (mounted)
        with start_lock:
            if app.state.phase == "new" or (again and app.state.service is None):
                _start(app, bank, rule_sets)
                app.state.phase = "running"

    app.state.start_once = start_once
    app.state.purger = None
    app.state.executor = None
    app.state.lifespans = 0
    app.state.store = None
    app.state.catalog = None
    app.state.service = None
    for router in routers:
        app.include_router(router)
    _install_error_handlers(app)
    app.state.routes = [
        (r.path_regex, r.path)
        for router in routers
        for r in router.routes
        if isinstance(r, APIRoute)
    ]
    app.state.overrides = app.dependency_overrides  # the fast path steps aside for them
    app.add_middleware(ServiceMiddleware, state=app.state)
    _install_openapi(app, secured=settings.token is not None)
    return app


def _limit_threads(threads: int) -> None:
    """Run the handlers on ``threads`` threads (fewer threads wait less for the GIL)."""
    with contextlib.suppress(RuntimeError):  # no event loop: nothing to limit
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads


def _start(app: FastAPI, bank: ItemBank | None, rule_sets: Sequence[RuleSet] | None) -> None:
    """Load the bank and rule sets, open the store, build the service onto ``app.state``."""
    cfg: Settings = app.state.settings
    loaded_bank = bank if bank is not None else _load_bank(cfg)
    loaded_rules = (
        list(rule_sets)
        if rule_sets is not None
        else [rules_module.load(r) for r in (cfg.rules or rules_module.available())]
    )
    store = open_store(cfg.db)
    try:
        catalog = Catalog(loaded_bank, loaded_rules, store)
        catalog.pin_served()
    except BaseException:
        store.close()
        raise
    app.state.store = store
    app.state.catalog = catalog
    app.state.service = service = SessionService(
        catalog,
        store,
        app.state.metrics,
        ttl_seconds=cfg.session_ttl_seconds,
        cache_size=cfg.cache_size,
        reply_retention_seconds=cfg.reply_retention_seconds,
        session_retention_seconds=cfg.session_retention_seconds,
    )
    if cfg.purge_interval_seconds > 0 and (
        cfg.reply_retention_seconds is not None or cfg.session_retention_seconds is not None
    ):
        app.state.purger = _Purger(service, app.state.clock, cfg.purge_interval_seconds)
    app.state.executor = ThreadPoolExecutor(
        max_workers=cfg.threads, thread_name_prefix="pixirt-answer"
    )
    gc.collect()
    gc.freeze()  # what start-up loaded (bank, rules, engine tables) stays out of collections
    app.state.ready = True


class _Purger:
    """The retention purge, every ``interval`` seconds in a daemon thread."""

    def __init__(self, service: SessionService, clock: Callable[[], float], interval: float):
        self._stop = threading.Event()
        self._service = service
        self._clock = clock
        self._interval = interval
        self._thread = threading.Thread(target=self._run, name="pixirt-purge", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            with contextlib.suppress(PixirtError):  # a failed purge is retried next time
                self._service.purge(float(self._clock()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _stop(app: FastAPI) -> None:
    """Close the store (queued writes are committed first); later requests get 503."""
    store = app.state.store
    app.state.phase = "stopped"
    if app.state.purger is not None:
        app.state.purger.stop()
        app.state.purger = None
    if app.state.executor is not None:
        app.state.executor.shutdown(wait=True)  # the answers in flight are committed first
        app.state.executor = None
    app.state.ready = False
    app.state.service = app.state.catalog = app.state.store = None
    if store is not None:
        store.close()


def _load_bank(settings: Settings) -> ItemBank:
    if settings.bank is None:
        from pixirt.simulation import pix_like_bank

        return pix_like_bank(0)
    return ItemBank.read(settings.bank)


def _install_openapi(app: FastAPI, *, secured: bool) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=app.routes,
        )
        if secured:
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            for path, ops in schema.get("paths", {}).items():
                if path in OPEN_PATHS:
                    continue
                for op in ops.values():
                    op["security"] = [{"bearer": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
