"""Session helpers: candidate indices, request hashes, the live cache and the views of a session."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pixirt import cat as engine
from pixirt.cat import CatState, CertificationResult, ChallengeChoice, score
from pixirt.exceptions import DataError, SessionError
from pixirt.service._schemas import ChallengeOut
from pixirt.service._store_records import Event

_N_LOCKS = 1024


_HEADER_KEY = "header.idempotency-key"


_BODY_KEY = "body.idempotency_key"


def derive_candidate_index(candidate_id: str) -> int:
    """The default candidate index of a session: 63 bits of a hash of the candidate id.

    ``int.from_bytes(sha256(b"pixirt.candidate:" + id).digest()[:8], "big") >> 1``:
    stable across processes, machines and versions.

    Examples
    --------
    >>> derive_candidate_index("c1") == derive_candidate_index("c1")
    True
    >>> 0 <= derive_candidate_index("c1") < 2**63
    True
    """
    digest = hashlib.sha256(b"pixirt.candidate:" + candidate_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def iso(t: float) -> str:
    """Unix seconds as ISO 8601 UTC with milliseconds (``2026-03-01T09:00:00.000Z``)."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _request_hash(data: Mapping[str, Any]) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# ============================================================================ cache
@dataclass(frozen=True, slots=True)
class _Live:
    """A session as kept warm: its engine state and the stored row's bookkeeping."""

    session_id: str
    candidate_id: str
    state: CatState
    version: int
    created_at: float
    updated_at: float
    expires_at: float
    result: str | None


class _Cache:
    """A bounded LRU of live sessions."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, _Live] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sid: str) -> _Live | None:
        with self._lock:
            live = self._items.get(sid)
            if live is not None:
                self._items.move_to_end(sid)
            return live

    def put(self, live: _Live) -> None:
        with self._lock:
            self._items[live.session_id] = live
            self._items.move_to_end(live.session_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def drop(self, sids: Iterable[str]) -> None:
        with self._lock:
            for sid in sids:
                self._items.pop(sid, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


# ============================================================================ service
def score_session(state: CatState) -> CertificationResult:
    """:func:`pixirt.cat.result` of a session that is over, faster.

    The engine's certification records every challenge's calibration, so v3 scoring
    needs the bank only to degrade a test abandoned by the candidate; without it the
    scorer skips indexing the whole bank (10 of its 16 ms on the Pix-like bank). The
    result is the same (tested against :func:`pixirt.cat.result`).
    """
    runtime = state.runtime
    if runtime is None or engine.next_challenge(state) is not None:
        return engine.result(state)  # raises the engine's own error
    needs_bank = state.algorithm == "v3" and state.abort_reason == "candidate"
    return score(
        engine.certification(state), runtime.rules, bank=runtime.bank if needs_bank else None
    )


def _challenge(choice: ChallengeChoice | None) -> ChallengeOut | None:
    if choice is None:
        return None
    return ChallengeOut(
        challenge_id=choice.challenge_id,
        competence=choice.competence,
        tube=choice.tube,
        skill=choice.skill,
        step=choice.step,
    )


def _estimate(state: CatState) -> tuple[float | None, float | None]:
    work = state.work
    if state.algorithm != "v3" or work is None or work.cap is None:
        return None, None
    return float(work.cap.capacity[0]), float(work.cap.error_rate[0])


def _catch_up(state: CatState, events: Sequence[Event]) -> CatState | None:
    """``state`` with the recorded steps ``events`` applied, or None if one cannot be."""
    try:
        for e in events:
            if e.kind == "answer" and e.challenge_id is not None and e.status is not None:
                state = engine.record(state, e.challenge_id, e.status)
            elif e.kind == "live_alert" and e.challenge_id is not None:
                state = engine.flag_live_alert(state, e.challenge_id)
            elif e.kind == "neutralize" and e.challenge_id is not None:
                state = engine.neutralize(state, e.challenge_id)
            elif e.kind == "deneutralize" and e.challenge_id is not None:
                state = engine.deneutralize(state, e.challenge_id)
            elif e.kind == "abort" and e.reason is not None:
                state = engine.abort(state, e.reason)
            else:
                return None
    except (SessionError, DataError):
        return None
    return state


def _stored_status(state: CatState, choice: ChallengeChoice | None) -> str:
    if state.abort_reason is not None:
        return "aborted"
    return "finished" if choice is None else "active"
