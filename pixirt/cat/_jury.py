"""The jury's work on one certification: automatic resolution of issue reports, then jury events.

:func:`apply` is what happens between the end of a session and its scoring, in Pix's
order: the session's finalization resolves the issue reports with the rule set's
incident policy (:mod:`pixirt.cat._incidents`), then the jury's own decisions
(:class:`JuryEvent`) are replayed in the order they were taken. :func:`pixirt.cat.score`
calls it, so a certification given with its reports and events is scored as Pix would
after the jury.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import numpy.typing as npt

from pixirt._json import from_dict, to_dict
from pixirt.cat import _incidents as incidents
from pixirt.exceptions import DataError, ScoringError

if TYPE_CHECKING:
    from pixirt._item_bank import ItemBank
    from pixirt.cat._certification import Certification
    from pixirt.rules import RuleSet

__all__ = ["EVENT_KINDS", "JuryDecision", "JuryEvent", "apply", "ban_months", "clea_acquired"]

EventKind = Literal[
    "neutralize",
    "deneutralize",
    "reject_for_fraud",
    "unreject_for_fraud",
    "cancel",
    "uncancel",
    "rescore",
]
#: The jury events, as Pix's admin actions (``neutralize-challenge``, ``reject-certification``,
#: ``cancel``, ``rescore``, ...).
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)
_ON_CHALLENGE = ("neutralize", "deneutralize")


@dataclass(frozen=True, slots=True)
class JuryEvent:
    """A decision of the jury on a certification, replayed in order.

    Attributes
    ----------
    kind
        One of :data:`EVENT_KINDS`. ``rescore`` changes nothing but is kept for the
        record (Pix rescores after every event).
    challenge_id
        The challenge, for ``neutralize`` and ``deneutralize`` (required there, refused
        elsewhere).
    """

    kind: EventKind
    challenge_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise DataError(
                f"expected one of {'/'.join(EVENT_KINDS)}, got {self.kind!r}", field="kind"
            )
        if self.kind in _ON_CHALLENGE:
            if not isinstance(self.challenge_id, str) or not self.challenge_id:
                raise DataError(f"a {self.kind} event names its challenge", field="challenge_id")
        elif self.challenge_id is not None:
            raise DataError(f"a {self.kind} event has no challenge", field="challenge_id")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JuryEvent:
        """Inverse of :meth:`to_dict` (unknown fields are an error, naming them)."""
        return from_dict(cls, data)


@dataclass(frozen=True, slots=True)
class JuryDecision:
    """A certification after the jury, and what was done.

    Attributes
    ----------
    certification
        The certification to score: reports resolved and events applied (neutralized
        flags, statuses, fraud and cancellation updated; no report or event left).
    review
        An impactful report was left unresolved: the session goes to a human jury
        (Pix does not publish it automatically).
    report_outcomes
        Per issue report, in order, its :data:`pixirt.cat._incidents.OUTCOMES` name.
    trace
        What was done, in plain words.
    """

    certification: Certification
    review: bool
    report_outcomes: tuple[str, ...]
    trace: tuple[str, ...]


def apply(
    certification: Certification, rules: RuleSet, *, bank: ItemBank | None = None
) -> JuryDecision:
    """Resolve a certification's issue reports, then apply its jury events in order.

    Parameters
    ----------
    certification
        With ``issue_reports`` and ``jury_events`` (both may be empty).
    rules
        Its ``[incidents]`` policy decides the automatic resolution.
    bank
        Where to read a reported challenge's features when the certification does not
        record them (columns ``image``, ``embed``, ``attachment``, ``timed``, ``focus``).

    Returns
    -------
    JuryDecision
        The certification to score and what was done.

    Raises
    ------
    ScoringError
        A report of a subcategory the policy does not know, a report or event on a
        challenge the certification does not hold, or a feature check with no feature
        known for the challenge.
    """
    cert = certification
    chs = list(cert.challenges)
    pos = {c.challenge_id: k for k, c in enumerate(chs)}
    reports = list(cert.issue_reports)
    trace: list[str] = []
    outcomes: tuple[str, ...] = ()
    review = False
    if reports:
        _check_reports(reports, rules, pos)
        outcomes, review = _resolve_reports(reports, rules, chs, pos, bank)
        trace += _report_sentences(reports, outcomes, review, rules)
    fraud, cancelled = _apply_events(cert, chs, pos)
    if cert.jury_events:
        trace.append(
            "Jury events, in order: "
            + ", ".join(
                ev.kind + (f" {ev.challenge_id}" if ev.challenge_id else "")
                for ev in cert.jury_events
            )
            + "."
        )
    decided = replace(
        cert,
        challenges=chs,
        fraud=fraud,
        cancelled=cancelled,
        issue_reports=(),
        jury_events=(),
    )
    return JuryDecision(decided, review, outcomes, tuple(trace))


def _check_reports(
    reports: list[incidents.IssueReport], rules: RuleSet, pos: dict[str, int]
) -> None:
    """Refuse reports the policy or the certification does not know (the field named)."""
    for i, rep in enumerate(reports):
        unknown = incidents.unknown_to(rules, rep)
        if unknown is not None:
            raise ScoringError(f"issue_reports[{i}].{unknown[0]}: {unknown[1]}")
        if rep.challenge_id is not None and rep.challenge_id not in pos:
            raise ScoringError(
                f"issue_reports[{i}].challenge_id: {rep.challenge_id!r} was not asked in this "
                "certification"
            )


def _resolve_reports(
    reports: list[incidents.IssueReport],
    rules: RuleSet,
    chs: list[Any],
    pos: dict[str, int],
    bank: ItemBank | None,
) -> tuple[tuple[str, ...], bool]:
    """The policy's resolution as a batch of one; ``chs`` updated in place."""
    policy = rules.incidents
    feats = np.zeros((1, max(len(chs), 1)), dtype=np.int64)
    for i in _feature_checks(policy, reports):
        cid = reports[i].challenge_id
        assert cid is not None
        feats[0, pos[cid]] = _features(chs[pos[cid]], bank, f"issue_reports[{i}]")
    res = incidents.resolve(
        policy,
        row=np.zeros(len(reports), dtype=np.int64),
        cell=[-1 if x.challenge_id is None else pos[x.challenge_id] for x in reports],
        category=[x.category for x in reports],
        subcategory=[x.subcategory for x in reports],
        status=[[_status_code(c) for c in chs] or [-1]],
        features=feats,
        neutralized=[[c.neutralized for c in chs] or [False]],
    )
    for k, c in enumerate(chs):
        new_status = incidents.STATUSES[res.status[0, k]] if res.status[0, k] >= 0 else None
        if bool(res.neutralized[0, k]) != c.neutralized or new_status != c.status:
            chs[k] = replace(c, neutralized=bool(res.neutralized[0, k]), status=new_status)
    return tuple(res.outcome_names().tolist()), bool(res.review[0])


def _report_sentences(
    reports: list[incidents.IssueReport], outcomes: tuple[str, ...], review: bool, rules: RuleSet
) -> list[str]:
    auto = rules.incidents is not None and rules.incidents.automatic_resolution
    out = [
        "Issue reports"
        + ("" if auto else " (this rule set resolves none automatically)")
        + ": "
        + "; ".join(
            f"{x.category}/{x.subcategory or '-'}"
            + (f" on {x.challenge_id}" if x.challenge_id else "")
            + f" → {o}"
            for x, o in zip(reports, outcomes, strict=True)
        )
        + "."
    ]
    if review:
        out.append(
            "An impactful report is unresolved: the session needs a human jury before publication."
        )
    return out


def _apply_events(cert: Certification, chs: list[Any], pos: dict[str, int]) -> tuple[bool, bool]:
    """The jury events in order: ``chs`` updated in place; the final fraud and cancellation."""
    fraud, cancelled = cert.fraud, cert.cancelled
    for j, ev in enumerate(cert.jury_events):
        if ev.kind in _ON_CHALLENGE:
            cid = ev.challenge_id
            if cid not in pos:
                raise ScoringError(
                    f"jury_events[{j}].challenge_id: {cid!r} was not asked in this certification"
                )
            k = pos[cid]
            chs[k] = replace(chs[k], neutralized=ev.kind == "neutralize")
        elif ev.kind in ("reject_for_fraud", "unreject_for_fraud"):
            fraud = ev.kind == "reject_for_fraud"
        elif ev.kind in ("cancel", "uncancel"):
            cancelled = ev.kind == "cancel"
    return fraud, cancelled


def _status_code(ch: Any) -> int:
    if ch.status is None:
        return -1
    return incidents.STATUSES.index(ch.status)


def _feature_checks(policy: Any, reports: list[incidents.IssueReport]) -> list[int]:
    """Indexes of the reports whose resolution checks the challenge's features."""
    if policy is None or not policy.automatic_resolution:
        return []
    conditional = {x.subcategory for x in policy.resolution if x.if_challenge_has}
    return [
        i
        for i, x in enumerate(reports)
        if x.subcategory in conditional and x.challenge_id is not None
    ]


def _features(ch: Any, bank: ItemBank | None, where: str) -> int:
    if ch.features is not None:
        return incidents.feature_bits(ch.features)
    if bank is not None:
        meta = bank.metadata
        if ch.challenge_id in bank.item_ids:
            cols = [f for f in incidents.FEATURES if f in meta.columns]
            if cols:
                row = meta.loc[ch.challenge_id, cols]
                return incidents.feature_bits([f for f in cols if bool(row[f])])
    raise ScoringError(
        f"{where}: the policy checks the features of challenge {ch.challenge_id!r} but neither "
        "the certification (challenges[].features) nor the bank (columns "
        f"{'/'.join(incidents.FEATURES)}) gives them"
    )


def clea_acquired(
    rules: RuleSet,
    *,
    status: npt.ArrayLike,
    pix_score: npt.ArrayLike,
    fraud: npt.ArrayLike,
    badge: npt.ArrayLike,
) -> npt.NDArray[np.bool_] | None:
    """CléA numérique over arrays (None when the rule set has no ``[complementary.clea]``).

    Acquired by a badge holder with a validated core certification, no fraud and at least
    the minimum score.

    Parameters
    ----------
    status, pix_score, fraud, badge
        ``(n,)`` the core outcome, its score (no score counts 0), the fraud decision and
        whether the candidate holds the CléA badge.
    """
    clea = None if rules.complementary is None else rules.complementary.clea
    if clea is None:
        return None
    return np.asarray(
        np.asarray(badge, dtype=bool)
        & (np.asarray(status, dtype=object) == "validated")
        & ~np.asarray(fraud, dtype=bool)
        & (np.asarray(pix_score, dtype=np.int64) >= clea.minimum_earned_pix),
        dtype=bool,
    )


def ban_months(rules: RuleSet, fraud: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Months the candidate is barred from the certification: ``[jury].fraud_ban_months`` after a fraud, else 0."""
    months = 0 if rules.jury is None else rules.jury.fraud_ban_months
    return np.where(np.asarray(fraud, dtype=bool), months, 0).astype(np.int64)
