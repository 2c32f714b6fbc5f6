"""The session service: the certification engine behind the HTTP routes.

:class:`SessionService` runs every step of a session through the pure engine
(:mod:`pixirt.cat`) and the durable store (:func:`pixirt.service.open_store`):

1. take the session's lock (requests on one session are serialized within a process;
   sessions run in parallel);
2. load its state: the warm copy if the stored row is still at its version, else the
   warm copy brought up to date with the steps another replica recorded, else the stored
   JSON (:meth:`pixirt.cat.CatState.from_dict` replays the answers with the bank
   and rule set the session was pinned to, by hash); an answer's first try uses the
   warm copy without reading;
3. check the step (idempotency key, session open, challenge served) — a refusal is a
   :class:`ApiError` with a stable ``code`` (an answer's refusal is checked again on
   the stored state first);
4. compute the new state, the next challenge and, when the test is over, the result;
5. write the new state, the history event and the idempotent reply in one transaction,
   naming the version the step was computed from, and only then reply. If another
   replica or request wrote first, the step runs again on the new state
   (:func:`~pixirt.service._session_errors.retrying`).

Deployment: any number of processes and replicas on one store (:func:`pixirt.service.open_store`:
SQLite on one machine, PostgreSQL across machines); none owns a session.

The candidate index keying a session's draws (``pixirt/_streams.py``) is the request's
``candidate_index`` or :func:`derive_candidate_index` of the candidate id, so a session
replayed in-process with the same seed and index serves the same challenges.
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from dataclasses import replace
from typing import Any

from pixirt import cat as engine
from pixirt.cat import (
    Candidate,
    CatState,
    Certification,
    CertificationResult,
    ChallengeChoice,
    score,
)
from pixirt.exceptions import DataError, ScoringError, SessionError
from pixirt.rules import RuleSet
from pixirt.service._catalog import Catalog
from pixirt.service._metrics import Metrics
from pixirt.service._schemas import (
    AbortIn,
    AnswerIn,
    AnswerOut,
    CandidateErasedOut,
    EventOut,
    JuryOut,
    ResultOut,
    RulesRefOut,
    ScoreIn,
    SessionCreatedOut,
    SessionIn,
    SessionListOut,
    SessionOut,
    SessionStatus,
    SessionSummaryOut,
)
from pixirt.service._session_errors import ApiError, Conflict, Reply, retrying
from pixirt.service._session_views import (
    _BODY_KEY,
    _HEADER_KEY,
    _N_LOCKS,
    _Cache,
    _catch_up,
    _challenge,
    _dumps,
    _estimate,
    _Live,
    _request_hash,
    _stored_status,
    derive_candidate_index,
    iso,
    score_session,
)
from pixirt.service._store_protocol import SessionStore
from pixirt.service._store_records import Event, SessionRow, StoreError, VersionConflict


class SessionService:
    """Every session operation of the HTTP API (see the module doc).

    Parameters
    ----------
    catalog
        Served and pinned banks and rule sets.
    store
        The durable store.
    metrics
        Counters to update.
    ttl_seconds
        Lifetime of a new session.
    cache_size
        Sessions kept warm in memory.
    reply_retention_seconds, session_retention_seconds
        Retention (:meth:`purge`): idempotent replies, finished or aborted sessions older
        than this are deleted; None keeps them.
    """

    def __init__(
        self,
        catalog: Catalog,
        store: SessionStore,
        metrics: Metrics,
        *,
        ttl_seconds: float,
        cache_size: int,
        reply_retention_seconds: float | None = None,
        session_retention_seconds: float | None = None,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.metrics = metrics
        self.ttl_seconds = ttl_seconds
        self.reply_retention_seconds = reply_retention_seconds
        self.session_retention_seconds = session_retention_seconds
        self.cache = _Cache(cache_size)
        self._locks = tuple(threading.Lock() for _ in range(_N_LOCKS))
        self._attempt = threading.local()

    def _lock(self, key: str) -> threading.Lock:
        return self._locks[hash(key) % _N_LOCKS]

    # ------------------------------------------------------------------ loading
    def _careful(self) -> bool:
        """Whether this step is a retry (see :func:`~pixirt.service._session_errors.retrying`): check all on the store."""
        return bool(getattr(self._attempt, "value", 0))

    def _live(self, sid: str, *, verify: bool = True) -> _Live:
        # Other replicas write to the same store: the cached engine state is used only
        # if the stored row is still at its version (one primary-key read); otherwise
        # the session is rebuilt from what the row holds (seed, answers, jury events).
        # ``verify=False`` (an answer's first try) skips the read: the update names the
        # version anyway, and a refusal is checked again on the stored state.
        live = self.cache.get(sid)
        if live is not None and not verify:
            return live
        if live is not None:
            version = self.store.version(sid)
            if version == live.version:
                return live
            self.cache.drop([sid])
            if version is None:
                raise ApiError(404, "session_not_found", f"no session {sid!r}")
        row = self.store.session(sid)
        if row is None:
            raise ApiError(404, "session_not_found", f"no session {sid!r}")
        state = None
        if live is not None and row.version > live.version:
            # another replica moved the session on: apply the steps it recorded to the
            # warm copy (a step costs a tenth of a replay), kept only if it gives
            # exactly the stored state
            state = _catch_up(live.state, self.store.events(sid, after=live.version))
            if state is not None and _dumps(state.to_dict()) != row.state:
                state = None
            if state is not None:
                self.metrics.inc("sessions_caught_up")
        if state is None:
            state = CatState.from_dict(
                json.loads(row.state),
                bank=self.catalog.bank_for(row.bank_hash),
                rules=self.catalog.rules_for(row.rules_hash),
            )
            self.metrics.inc("sessions_replayed")
        live = _Live(
            session_id=row.session_id,
            candidate_id=row.candidate_id,
            state=state,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            expires_at=row.expires_at,
            result=row.result,
        )
        self.cache.put(live)
        return live

    def _status(self, live: _Live, now: float) -> SessionStatus:
        state = live.state
        if state.abort_reason is not None:
            return "aborted"
        if engine.next_challenge(state) is None:
            return "finished"
        return "expired" if now >= live.expires_at else "active"

    def _ensure_open(self, live: _Live, now: float) -> ChallengeChoice:
        state = live.state
        if state.abort_reason is not None:
            raise ApiError(
                409,
                "session_aborted",
                f"the session was aborted ({state.abort_reason}): nothing can be recorded",
            )
        choice = engine.next_challenge(state)
        if choice is None:
            raise ApiError(
                409,
                "session_finished",
                f"the test is finished ({state.n_answers} answers): nothing can be recorded",
            )
        if now >= live.expires_at:
            raise ApiError(
                409,
                "session_expired",
                f"the session expired at {iso(live.expires_at)} "
                f"({(live.expires_at - live.created_at) / 60:g} minutes after it started): "
                "nothing can be recorded; "
                "abort it to score it",
            )
        return choice

    def _score(self, state: CatState) -> tuple[CertificationResult | None, str | None]:
        """The result of a session that is over (None when the rules cannot score it)."""
        try:
            res = score_session(state)
        except ScoringError:
            return None, None
        return res, _dumps(res.to_dict())

    def _commit(
        self,
        live: _Live,
        new: CatState,
        *,
        now: float,
        event: Event,
        result: str | None,
        reply: tuple[str, str, int, str] | None = None,
    ) -> _Live:
        choice = engine.next_challenge(new)
        try:
            version = self.store.update_session(
                live.session_id,
                expected_version=live.version,
                status=_stored_status(new, choice),
                state=_dumps(new.to_dict()),
                result=result,
                updated_at=now,
                events=[event],
                reply=reply,
            )
        except VersionConflict:
            # another replica (or request) wrote first: the caller runs again on the
            # new state (see retrying)
            self.cache.drop([live.session_id])
            raise Conflict from None
        except StoreError:
            self.cache.drop([live.session_id])
            raise
        updated = replace(live, state=new, version=version, updated_at=now, result=result)
        self.cache.put(updated)
        return updated

    # ------------------------------------------------------------------ create
    @retrying
    def create(
        self,
        body: SessionIn,
        now: float,
        *,
        ttl_seconds: float | None = None,
        key: str | None = None,
    ) -> Reply:
        """Start a session: ``201`` with its first challenge.

        Its lifetime is the body's ``time_limit_minutes``, else ``ttl_seconds``, else the
        service's; ``key`` (the ``Idempotency-Key`` header) wins over the body's key.
        """
        rules = self.catalog.rules_by_id(body.rules)
        if body.profile is not None and rules.algorithm != "v2":
            raise ApiError(
                422,
                "invalid_field",
                f"a positioning profile is for v2 rule sets; {rules.id} is {rules.algorithm}",
                field="body.profile",
            )
        scope = "candidate:" + body.candidate_id
        key_field = _HEADER_KEY if key is not None else _BODY_KEY
        key = key if key is not None else body.idempotency_key
        request_hash = _request_hash(body.model_dump(exclude={"idempotency_key"}))
        with self._lock(scope) if key else contextlib.nullcontext():
            if key is not None:
                stored = self.store.reply(scope, key)
                if stored is not None:
                    return self._resend(stored, request_hash, key, key_field)
            state, choice, index = self._start(body, rules)
            sid = str(uuid.uuid4())
            if body.time_limit_minutes is not None:
                ttl = body.time_limit_minutes * 60.0
            else:
                ttl = self.ttl_seconds if ttl_seconds is None else ttl_seconds
            expires = now + ttl
            out = SessionCreatedOut(
                session_id=sid,
                challenge=_challenge(choice),
                finished=choice is None,
                algorithm=rules.algorithm,
                seed=str(state.seed),
                candidate_index=str(index),
                rules=RulesRefOut(id=rules.id, hash=rules.hash),
                bank_hash=state.bank_hash,
                expires_at=iso(expires),
            )
            text = out.model_dump_json()
            result = self._score(state)[1] if choice is None else None
            row = SessionRow(
                session_id=sid,
                candidate_id=body.candidate_id,
                algorithm=rules.algorithm,
                rules_id=rules.id,
                rules_hash=rules.hash,
                bank_hash=state.bank_hash,
                status=_stored_status(state, choice),
                version=1,
                state=_dumps(state.to_dict()),
                result=result,
                created_at=now,
                updated_at=now,
                expires_at=expires,
            )
            try:
                self.store.create_session(
                    row,
                    [Event(seq=1, at=now, kind="start")],
                    reply=None if key is None else (scope, key, request_hash, 201, text),
                )
            except VersionConflict:
                raise Conflict from None  # the key was taken meanwhile: replay its reply
            self.cache.put(_Live(sid, body.candidate_id, state, 1, now, now, expires, result))
            self.metrics.inc("sessions_started")
            return Reply(201, text.encode(), session_id=sid)

    def _start(
        self, body: SessionIn, rules: RuleSet
    ) -> tuple[CatState, ChallengeChoice | None, int]:
        """The started state, its first challenge and the candidate's index (ApiError if refused)."""
        index = (
            body.candidate_index
            if body.candidate_index is not None
            else derive_candidate_index(body.candidate_id)
        )
        candidate = Candidate(
            id=body.candidate_id,
            index=index,
            accessibility=body.accessibility,
            locale=body.locale,
        )
        try:
            state = engine.start(
                self.catalog.bank,
                rules,
                profile=None if body.profile is None else body.profile.model_dump(),
                candidate=candidate,
                seed=body.seed,
            )
            choice = engine.next_challenge(state)
        except DataError as exc:
            raise ApiError(
                422, "invalid_field", exc.message, field=f"body.{exc.field or 'profile'}"
            ) from None
        except SessionError as exc:
            raise ApiError(409, "no_challenge", str(exc)) from None
        if choice is None and state.n_answers == 0:
            raise ApiError(
                422,
                "no_challenge",
                "no challenge of the bank matches this session (v2: the profile's "
                "competences and skills select nothing): a certification needs challenges",
                field="body.profile" if body.profile is not None else "body.rules",
            )
        return state, choice, index

    def _resend(self, stored: Any, request_hash: str, key: str, field: str = _HEADER_KEY) -> Reply:
        if stored.request_hash != request_hash:
            self.metrics.inc("conflicts")
            raise ApiError(
                409,
                "idempotency_mismatch",
                f"idempotency key {key!r} was used with a different request",
                field=field,
            )
        self.metrics.inc("idempotent_replays")
        return Reply(stored.status_code, stored.body.encode(), replayed=True)

    # ------------------------------------------------------------------ answer
    @retrying
    def answer(self, sid: str, body: AnswerIn, now: float, *, key: str | None = None) -> Reply:
        """Record the answer to the challenge served; the next challenge or the result.

        ``key`` (the ``Idempotency-Key`` header) wins over the body's key.
        """
        key_field = _HEADER_KEY if key is not None else _BODY_KEY
        key = key if key is not None else body.idempotency_key
        # the hash is stored with an idempotent reply only: none to compute without a key
        request_hash = (
            ""
            if key is None
            else _request_hash({"challenge_id": body.challenge_id, "status": body.status})
        )
        careful = self._careful()
        with self._lock(sid):
            # first try: the warm copy as it is (no read); a refusal or a lost race
            # runs the step again carefully (stored reply, stored version)
            live = self._live(sid, verify=careful)
            if key is not None and careful:
                stored = self.store.reply(sid, key)
                if stored is not None:
                    return self._resend(stored, request_hash, key, key_field)
            try:
                served = self._ensure_open(live, now)
            except ApiError:
                if not careful:
                    raise Conflict from None
                self.metrics.inc("conflicts")
                raise
            if body.challenge_id != served.challenge_id:
                if not careful:
                    raise Conflict
                self.metrics.inc("conflicts")
                raise ApiError(
                    409,
                    "wrong_challenge",
                    f"challenge {body.challenge_id!r} is not the one served "
                    f"({served.challenge_id!r}, step {served.step})",
                    field="body.challenge_id",
                )
            try:
                new = engine.record(live.state, body.challenge_id, body.status)
                choice = engine.next_challenge(new)
            except SessionError as exc:
                self.metrics.inc("conflicts")
                raise ApiError(409, "session_conflict", str(exc)) from None
            res, result = self._score(new) if choice is None else (None, None)
            capacity, error_rate = _estimate(new)
            out = AnswerOut(
                session_id=sid,
                challenge=_challenge(choice),
                finished=choice is None,
                answered=new.n_answers,
                capacity=capacity,
                error_rate=error_rate,
                result=None if res is None else ResultOut.model_validate(res.to_dict()),
            )
            text = out.model_dump_json()
            self._commit(
                live,
                new,
                now=now,
                event=Event(
                    seq=live.version + 1,
                    at=now,
                    kind="answer",
                    challenge_id=body.challenge_id,
                    status=body.status,
                ),
                result=result,
                reply=None if key is None else (key, request_hash, 200, text),
            )
            self.metrics.inc("answers_recorded")
            if choice is None:
                self.metrics.inc("sessions_finished")
            return Reply(200, text.encode(), session_id=sid)

    # ------------------------------------------------------------------ reading
    def get(self, sid: str, now: float) -> SessionOut:
        """The session's state and history."""
        with self._lock(sid):
            live = self._live(sid)
            events = self.store.events(sid)
        state = live.state
        choice = engine.next_challenge(state)
        capacity, error_rate = _estimate(state)
        rules = self.catalog.rules_for(state.rules_hash)
        return SessionOut(
            session_id=sid,
            candidate_id=live.candidate_id,
            candidate_index=str(state.candidate.index),
            algorithm=rules.algorithm,
            rules=RulesRefOut(id=state.rules_id, hash=state.rules_hash),
            bank_hash=state.bank_hash,
            seed=str(state.seed),
            accessibility=state.candidate.accessibility,
            locale=state.candidate.locale,
            status=self._status(live, now),
            created_at=iso(live.created_at),
            updated_at=iso(live.updated_at),
            expires_at=iso(live.expires_at),
            answered=state.n_answers,
            challenge=_challenge(choice),
            capacity=capacity,
            error_rate=error_rate,
            abort_reason=state.abort_reason,
            neutralized=list(state.neutralized),
            history=[
                EventOut(
                    seq=e.seq,
                    at=iso(e.at),
                    kind=e.kind,
                    challenge_id=e.challenge_id,
                    status=e.status,
                    reason=e.reason,
                )
                for e in events
            ],
        )

    def result(self, sid: str, now: float) -> Reply:
        """The scored result of a session that is over."""
        with self._lock(sid):
            live = self._live(sid)
        if live.result is not None:
            return Reply(200, live.result.encode(), session_id=sid)
        status = self._status(live, now)
        if status in ("active", "expired"):
            hint = " (expired: abort it to score it)" if status == "expired" else ""
            raise ApiError(
                409,
                "not_over",
                f"the test is not over ({live.state.n_answers} answers){hint}",
            )
        try:
            res = score_session(live.state)
        except ScoringError as exc:
            raise ApiError(
                422, "cannot_score", f"the rules cannot score this session: {exc}"
            ) from None
        return Reply(200, _dumps(res.to_dict()).encode(), session_id=sid)

    # ------------------------------------------------------------------ jury, alerts, abort
    def _jury_out(self, live: _Live, now: float) -> JuryOut:
        state = live.state
        return JuryOut(
            session_id=live.session_id,
            status=self._status(live, now),
            neutralized=list(state.neutralized),
            abort_reason=state.abort_reason,
            challenge=_challenge(engine.next_challenge(state)),
            result=None if live.result is None else ResultOut.model_validate_json(live.result),
        )

    def _stored_reply(self, sid: str, key: str | None, request_hash: str) -> Reply | None:
        if key is None:
            return None
        stored = self.store.reply(sid, key)
        return None if stored is None else self._resend(stored, request_hash, key)

    def _jury_step(
        self,
        live: _Live,
        new: CatState,
        *,
        now: float,
        event: Event,
        result: str | None,
        key: str | None,
        request_hash: str,
    ) -> Reply:
        """Commit a jury action, a live alert or an abort with its idempotent reply."""
        prospective = replace(live, state=new, updated_at=now, result=result)
        text = self._jury_out(prospective, now).model_dump_json()
        self._commit(
            live,
            new,
            now=now,
            event=event,
            result=result,
            reply=None if key is None else (key, request_hash, 200, text),
        )
        return Reply(200, text.encode(), session_id=live.session_id)

    def _rescored(self, new: CatState) -> str | None:
        if engine.next_challenge(new) is not None:
            return None
        return self._score(new)[1]

    @retrying
    def neutralize(
        self,
        sid: str,
        challenge_id: str,
        now: float,
        *,
        undo: bool = False,
        key: str | None = None,
    ) -> Reply:
        """Jury (de)neutralization of an asked challenge; the result is rescored."""
        kind = "deneutralize" if undo else "neutralize"
        request_hash = _request_hash({"action": kind, "challenge_id": challenge_id})
        with self._lock(sid):
            live = self._live(sid)
            stored = self._stored_reply(sid, key, request_hash)
            if stored is not None:
                return stored
            state = live.state
            if challenge_id not in state.asked:
                raise ApiError(
                    409,
                    "not_asked",
                    f"challenge {challenge_id!r} was not asked in this session",
                    field="body.challenge_id",
                )
            if undo and challenge_id not in state.neutralized:
                raise ApiError(
                    409, "not_neutralized", f"challenge {challenge_id!r} is not neutralized"
                )
            if not undo and challenge_id in state.neutralized:
                raise ApiError(
                    409, "already_neutralized", f"challenge {challenge_id!r} is already neutralized"
                )
            try:
                new = (engine.deneutralize if undo else engine.neutralize)(state, challenge_id)
            except SessionError as exc:
                raise ApiError(409, "session_conflict", str(exc)) from None
            return self._jury_step(
                live,
                new,
                now=now,
                event=Event(seq=live.version + 1, at=now, kind=kind, challenge_id=challenge_id),
                result=self._rescored(new),
                key=key,
                request_hash=request_hash,
            )

    @retrying
    def live_alert(
        self, sid: str, challenge_id: str, now: float, *, key: str | None = None
    ) -> Reply:
        """A validated live alert on the challenge served (v3): it is replaced."""
        request_hash = _request_hash({"action": "live_alert", "challenge_id": challenge_id})
        with self._lock(sid):
            live = self._live(sid)
            stored = self._stored_reply(sid, key, request_hash)
            if stored is not None:
                return stored
            if live.state.algorithm != "v3":
                raise ApiError(
                    409,
                    "v3_only",
                    "live alerts replace challenges in v3 only; in v2 the jury neutralizes",
                )
            served = self._ensure_open(live, now)
            if challenge_id != served.challenge_id:
                raise ApiError(
                    409,
                    "wrong_challenge",
                    f"challenge {challenge_id!r} is not the one served ({served.challenge_id!r})",
                    field="body.challenge_id",
                )
            try:
                new = engine.flag_live_alert(live.state, challenge_id)
                engine.next_challenge(new)
            except SessionError as exc:
                raise ApiError(409, "session_conflict", str(exc)) from None
            return self._jury_step(
                live,
                new,
                now=now,
                event=Event(
                    seq=live.version + 1, at=now, kind="live_alert", challenge_id=challenge_id
                ),
                result=self._rescored(new),
                key=key,
                request_hash=request_hash,
            )

    @retrying
    def abort(self, sid: str, body: AbortIn, now: float, *, key: str | None = None) -> Reply:
        """End the session early (allowed after expiry); the result is scored."""
        request_hash = _request_hash({"action": "abort", "reason": body.reason})
        with self._lock(sid):
            live = self._live(sid)
            stored = self._stored_reply(sid, key, request_hash)
            if stored is not None:
                return stored
            state = live.state
            if state.abort_reason is not None:
                raise ApiError(
                    409, "session_aborted", f"the session is already aborted ({state.abort_reason})"
                )
            if engine.next_challenge(state) is None:
                raise ApiError(
                    409, "session_finished", "the test is finished: it cannot be aborted"
                )
            try:
                new = engine.abort(state, body.reason)
            except SessionError as exc:
                raise ApiError(409, "session_conflict", str(exc)) from None
            reply = self._jury_step(
                live,
                new,
                now=now,
                event=Event(seq=live.version + 1, at=now, kind="abort", reason=body.reason),
                result=self._score(new)[1],
                key=key,
                request_hash=request_hash,
            )
            self.metrics.inc("sessions_aborted")
            return reply

    # ------------------------------------------------------------------ candidates, scoring
    def erase_candidate(self, candidate_id: str) -> CandidateErasedOut:
        """Delete every session of a candidate (personal-data requests)."""
        scope = "candidate:" + candidate_id
        with self._lock(scope):
            ids = self.store.erase_candidate(candidate_id, candidate_scope=scope)
        self.cache.drop(ids)
        return CandidateErasedOut(candidate_id=candidate_id, sessions_deleted=len(ids))

    def list_sessions(
        self, *, status: SessionStatus | None, after: str | None, limit: int, now: float
    ) -> SessionListOut:
        """A page of sessions by id, optionally of one status (``expired``: to abort them)."""
        rows = self.store.list_sessions(status=status, now=now, after=after, limit=limit + 1)
        page = rows[:limit]
        return SessionListOut(
            sessions=[
                SessionSummaryOut(
                    session_id=r.session_id,
                    candidate_id=r.candidate_id,
                    rules_id=r.rules_id,
                    status=(
                        "expired" if r.status == "active" and now >= r.expires_at else r.status
                    ),
                    created_at=iso(r.created_at),
                    updated_at=iso(r.updated_at),
                    expires_at=iso(r.expires_at),
                )
                for r in page
            ],
            next=page[-1].session_id if len(rows) > limit else None,
        )

    def purge(self, now: float) -> tuple[int, int]:
        """Retention: drop expired idempotent replies and old finished or aborted sessions.

        Returns
        -------
        tuple of int
            Replies and sessions deleted.
        """
        n_replies, n_sessions = self.store.purge(
            now,
            replies_older_than=self.reply_retention_seconds,
            sessions_older_than=self.session_retention_seconds,
        )
        return n_replies, n_sessions

    def score(self, body: ScoreIn) -> Reply:
        """Stateless scoring of a certification with a served rule set."""
        rules = self.catalog.rules_by_id(body.rules)
        try:
            cert = Certification.from_dict(body.certification.model_dump(exclude_unset=True))
        except DataError as exc:
            raise ApiError(
                422,
                "invalid_field",
                exc.message,
                field="body.certification" + (f".{exc.field}" if exc.field else ""),
            ) from None
        try:
            res = score(cert, rules, bank=self.catalog.bank if rules.algorithm == "v3" else None)
        except (ScoringError, DataError) as exc:
            raise ApiError(
                422, "cannot_score", f"the rules cannot score this certification: {exc}"
            ) from None
        return Reply(200, _dumps(res.to_dict()).encode())
