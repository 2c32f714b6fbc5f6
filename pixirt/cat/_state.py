"""The certification engine's state: a frozen, serializable value.

A :class:`CatState` records everything that happened in a session — the rule set and
bank it was started with (by id and hash), the candidate, the seed, the v2 plan, the
challenges served with their answer status (None for a challenge withdrawn after a
validated live alert), jury neutralizations, the abort reason and the issue reports —
and nothing that
can be recomputed. :meth:`CatState.to_dict` /
:meth:`CatState.from_dict` round-trip exactly; ``from_dict`` needs the same bank and
rule set back (checked by hash) and rebuilds the estimator's working state by
replaying the answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pixirt._json import from_dict, to_dict
from pixirt.cat._choice import ChallengeChoice
from pixirt.cat._incidents import IssueReport
from pixirt.cat._profile import Profile
from pixirt.cat._rebuild import Work, rebuild_batch
from pixirt.cat._runtime import Runtime, build_runtime
from pixirt.exceptions import DataError, SessionError

if TYPE_CHECKING:
    from pixirt._item_bank import ItemBank
    from pixirt.rules import RuleSet

__all__ = ["Candidate", "CatState", "ChallengeChoice", "attached_runtime", "rebuild"]

STATE_FORMAT = "pixirt-cat-state/1"


@dataclass(frozen=True, slots=True)
class Candidate:
    """Who takes the test.

    Attributes
    ----------
    id
        The candidate's id (carried to results).
    index
        The index keying the candidate's random numbers (:mod:`pixirt._streams`): the
        simulator's candidate ``i`` and a session started with ``index=i`` draw the
        same numbers.
    accessibility
        The candidate needs an accessibility adjustment: only challenges flagged
        ``accessible`` in the bank are used.
    locale
        Locale of the session (kept for the record; banks are per locale).
    """

    id: str = "candidate"
    index: int = 0
    accessibility: bool = False
    locale: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.index, int) or isinstance(self.index, bool) or self.index < 0:
            raise DataError(
                f"expected a non-negative integer, got {self.index!r}", field="candidate.index"
            )
        if not isinstance(self.id, str) or not self.id:
            raise DataError(f"expected a non-empty string, got {self.id!r}", field="candidate.id")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Candidate:
        """Inverse of :meth:`to_dict` (unknown fields are an error)."""
        return from_dict(cls, data, where="candidate")


@dataclass(frozen=True, slots=True, eq=False)
class CatState:
    """Where a certification session stands (see the module doc).

    Use :func:`pixirt.cat.start` to create one; the engine's functions return new
    states. Two states are equal when their serialized content is.
    """

    algorithm: str
    rules_id: str
    rules_hash: str
    bank_hash: str
    seed: int
    candidate: Candidate
    profile: Profile | None
    plan: tuple[str, ...]
    asked: tuple[str, ...] = ()
    statuses: tuple[str | None, ...] = ()
    neutralized: tuple[str, ...] = ()
    abort_reason: str | None = None
    issue_reports: tuple[IssueReport, ...] = ()
    runtime: Runtime | None = field(default=None, repr=False, compare=False)
    work: Work | None = field(default=None, repr=False, compare=False)

    # -- reading -------------------------------------------------------------------------
    @property
    def n_answers(self) -> int:
        """Answers recorded so far (challenges withdrawn after a live alert excluded)."""
        return sum(1 for s in self.statuses if s is not None)

    @property
    def live_alerts(self) -> tuple[str, ...]:
        """Challenges withdrawn after a validated live alert."""
        return tuple(c for c, s in zip(self.asked, self.statuses, strict=True) if s is None)

    @property
    def aborted(self) -> bool:
        """The session was aborted."""
        return self.abort_reason is not None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CatState) and other.to_dict() == self.to_dict()

    def __hash__(self) -> int:
        return hash(
            (self.rules_hash, self.bank_hash, self.seed, self.candidate, self.asked, self.statuses)
        )

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict; :meth:`from_dict` gives an equal state back."""
        return {
            "format": STATE_FORMAT,
            "algorithm": self.algorithm,
            "rules": {"id": self.rules_id, "hash": self.rules_hash},
            "bank_hash": self.bank_hash,
            "seed": self.seed,
            "candidate": self.candidate.to_dict(),
            "profile": None if self.profile is None else self.profile.to_dict(),
            "plan": list(self.plan),
            "asked": list(self.asked),
            "statuses": list(self.statuses),
            "neutralized": list(self.neutralized),
            "abort_reason": self.abort_reason,
            "issue_reports": [x.to_dict() for x in self.issue_reports],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, bank: ItemBank, rules: RuleSet) -> CatState:
        """Rebuild a state from :meth:`to_dict` output, with the bank and rule set it was started with.

        Raises
        ------
        DataError
            On a missing or unknown field, or when ``bank`` or ``rules`` is not the one
            the session was started with (hashes differ).
        """
        expected = {
            "format",
            "algorithm",
            "rules",
            "bank_hash",
            "seed",
            "candidate",
            "profile",
            "plan",
            "asked",
            "statuses",
            "neutralized",
            "abort_reason",
        }
        unknown = set(data) - expected - {"issue_reports"}  # optional: older states lack it
        if unknown:
            raise DataError(f"unknown field(s) {sorted(unknown)}", field="state")
        missing = expected - set(data)
        if missing:
            raise DataError("missing field", field=sorted(missing)[0])
        if data["format"] != STATE_FORMAT:
            raise DataError(f"expected {STATE_FORMAT!r}, got {data['format']!r}", field="format")
        if data["rules"]["hash"] != rules.hash:
            raise DataError(
                f"the session was started with rule set {data['rules']['id']} ({data['rules']['hash'][:12]}), "
                f"not {rules.id} ({rules.hash[:12]})",
                field="rules.hash",
            )
        if data["bank_hash"] != bank.hash:
            raise DataError(
                f"the session was started with bank {data['bank_hash'][:12]}, not {bank.hash[:12]}",
                field="bank_hash",
            )
        statuses = tuple(None if s is None else str(s) for s in data["statuses"])
        asked = tuple(str(c) for c in data["asked"])
        if len(statuses) != len(asked):
            raise DataError(
                f"{len(asked)} challenges asked but {len(statuses)} statuses", field="statuses"
            )
        bare = cls(
            algorithm=str(data["algorithm"]),
            rules_id=str(data["rules"]["id"]),
            rules_hash=str(data["rules"]["hash"]),
            bank_hash=str(data["bank_hash"]),
            seed=int(data["seed"]),
            candidate=Candidate.from_dict(data["candidate"]),
            profile=None if data["profile"] is None else Profile.from_dict(data["profile"]),
            plan=tuple(str(c) for c in data["plan"]),
            asked=asked,
            statuses=statuses,
            neutralized=tuple(str(c) for c in data["neutralized"]),
            abort_reason=data["abort_reason"],
            issue_reports=tuple(IssueReport.from_dict(x) for x in data.get("issue_reports", [])),
        )
        return rebuild(replace(bare, runtime=build_runtime(bank, rules)))


def attached_runtime(state: CatState) -> Runtime:
    """The engine's runtime attached to ``state`` (:class:`~pixirt.exceptions.SessionError` if none)."""
    if state.runtime is None:
        raise SessionError(
            "this state has no engine attached: rebuild it with CatState.from_dict(..., bank=, rules=)"
        )
    return state.runtime


def rebuild(state: CatState, *, fast: bool = True) -> CatState:
    """Rebuild the working state of ``state`` from its answers (after loading it from JSON).

    ``fast=False`` ranks with the general pool and ranking functions only (the
    shortlists off): the same choices, for tests that check so.
    """
    runtime = attached_runtime(state)
    if state.algorithm == "v2":
        return replace(state, work=Work(None))
    batch = rebuild_batch(
        runtime,
        index=state.candidate.index,
        seed=state.seed,
        accessibility=state.candidate.accessibility,
        asked=state.asked,
        statuses=state.statuses,
        fast=fast,
    )
    return replace(state, work=Work(batch))
