"""The :class:`Catalog` of item banks and rule sets a service serves."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence

from pixirt import ItemBank
from pixirt import cat as engine
from pixirt.cat import Candidate
from pixirt.exceptions import DataError, ScoringError, SessionError
from pixirt.rules import RuleSet
from pixirt.service._schemas import RuleSetOut, RuleSetSummaryOut
from pixirt.service._session_errors import ApiError
from pixirt.service._session_views import _dumps, score_session
from pixirt.service._store_protocol import SessionStore


# ============================================================================ catalog
class Catalog:
    """The served bank and rule sets, and every bank or rule set a stored session uses.

    A session is pinned to its bank and rule set by hash: both are stored once in the
    session store when first served, so a session resumes with exactly them even after
    the service restarts with a new bank or new rules.

    Parameters
    ----------
    bank
        The bank new sessions use.
    rules
        The rule sets new sessions may name (by id; ids must be unique).
    store
        The store holding the pinned copies.
    """

    def __init__(self, bank: ItemBank, rules: Sequence[RuleSet], store: SessionStore) -> None:
        self.bank = bank
        self.served: dict[str, RuleSet] = {}
        for rs in rules:
            if rs.id in self.served and self.served[rs.id].hash != rs.hash:
                raise DataError(f"two served rule sets share the id {rs.id!r}", field="rules")
            self.served[rs.id] = rs
        self.store = store
        self._banks: dict[str, ItemBank] = {bank.hash: bank}
        self._rules: dict[str, RuleSet] = {rs.hash: rs for rs in rules}
        self._lock = threading.Lock()

    def pin_served(self) -> None:
        """Store the served bank and rule sets (once per content hash), warm the engine."""
        bank = self.bank
        for rs in self.served.values():
            engine.build_runtime(bank, rs)  # built once, before the first request
            _warm_up(bank, rs)
        self.store.pin(
            "bank", bank.hash, lambda: bank.derived("service.json", lambda: _dumps(bank.to_dict()))
        )
        for rs in self.served.values():
            self.store.pin("rules", rs.hash, lambda rs=rs: _dumps(rs.to_dict()))  # type: ignore[misc]

    def rules_by_id(self, rules_id: str) -> RuleSet:
        """A served rule set (422 naming ``body.rules`` if not served)."""
        rs = self.served.get(rules_id)
        if rs is None:
            raise ApiError(
                422,
                "unknown_rules",
                f"rule set {rules_id!r} is not served here (served: {', '.join(sorted(self.served))})",
                field="body.rules",
            )
        return rs

    def bank_for(self, bank_hash: str) -> ItemBank:
        """The bank of that hash (served, or pinned by an older session)."""
        with self._lock:
            bank = self._banks.get(bank_hash)
        if bank is not None:
            return bank
        text = self.store.pinned("bank", bank_hash)
        if text is None:
            raise ApiError(
                503,
                "bank_missing",
                f"the bank {bank_hash[:12]} of this session is not in the store",
            )
        bank = ItemBank.from_dict(json.loads(text))
        with self._lock:
            self._banks[bank_hash] = bank
        return bank

    def rules_for(self, rules_hash: str) -> RuleSet:
        """The rule set of that hash (served, or pinned by an older session)."""
        with self._lock:
            rs = self._rules.get(rules_hash)
        if rs is not None:
            return rs
        text = self.store.pinned("rules", rules_hash)
        if text is None:
            raise ApiError(
                503,
                "rules_missing",
                f"the rule set {rules_hash[:12]} of this session is not in the store",
            )
        rs = RuleSet.from_dict(json.loads(text), source=f"pinned:{rules_hash[:12]}")
        with self._lock:
            self._rules[rules_hash] = rs
        return rs

    def summaries(self) -> list[RuleSetSummaryOut]:
        """The served rule sets, by id."""
        return [_rules_summary(rs) for _, rs in sorted(self.served.items())]

    def describe(self, rules_id: str) -> RuleSetOut:
        """One served rule set with its content (404 if not served)."""
        rs = self.served.get(rules_id)
        if rs is None:
            raise ApiError(404, "unknown_rules", f"rule set {rules_id!r} is not served here")
        return RuleSetOut(**_rules_summary(rs).model_dump(), content=rs.to_dict())


def _warm_up(bank: ItemBank, rules: RuleSet) -> None:
    """Play two throw-away sessions (all right, all wrong) before the first request.

    What the engine derives from the bank on first use is then built at start-up, not
    during a candidate's request.
    """
    for status in ("ok", "ko"):
        try:
            state = engine.start(bank, rules, candidate=Candidate("pixirt.warm-up", 0), seed=0)
            while (choice := engine.next_challenge(state)) is not None:
                state = engine.record(state, choice.challenge_id, status)
            score_session(state)
        except (DataError, SessionError, ScoringError):  # v2 needs a profile: nothing to warm
            return


def _rules_summary(rs: RuleSet) -> RuleSetSummaryOut:
    return RuleSetSummaryOut(
        id=rs.id,
        hash=rs.hash,
        algorithm=rs.algorithm,
        status=rs.status,
        valid_from=rs.valid_from.isoformat(),
        comment=rs.comment,
    )
