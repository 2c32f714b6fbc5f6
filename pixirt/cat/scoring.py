"""Certification scoring exactly as Pix does it: v2 (profile-based) and v3 (adaptive).

:func:`score` takes a :class:`Certification` (what happened in the session: the
placement profile for v2, the challenges in the order asked with their answer status,
jury flags) and a :class:`~pixirt.rules.RuleSet`, and returns a
:class:`CertificationResult` whose :meth:`~CertificationResult.explain` says in plain
words which rule fired and why. The rules are those of ``pix-rules.md``:

**v2** (§2.3): tested competences are the profile's competences at level ≥ 1; every
challenge neither neutralized nor skipped automatically must be answered; the
reproducibility rate ``RR = round(100 · correct / non-neutralized answered)`` uses
JavaScript's ``Math.round``; the session is trusted when the non-neutralized answered
challenges reach ``ceil(0.66 · challenges)``; below RR 50 every competence is
uncertified; otherwise each competence's counts (a QROCM-dep challenge counts twice in a
competence with fewer than 3 challenges, correct answers are capped at 3) select a row
of the level table and the RR band its action (validate / downgrade / invalidate); level
and score are blocked at ``max_reachable_level``. Outcome precedence: cancelled, fraud,
not trusted, technical abort with RR < 50, RR < 50, then validated (rejected when the
score is 0).

**v3** (§3): challenges with a validated live alert are removed; a jury neutralization
changes nothing (Pix's v3 scoring reads the asked challenges without live alerts and
every answer, never the neutralization); the capacity is Pix's EAP
(:mod:`pixirt.cat.capacity`) from ``default_capacity``; a test abandoned by the
candidate with at least ``minimum_answers`` answers is degraded by simulating the
missing answers as SKIPPED on the best challenges of the bank; the capacity gives the
score (mesh formula or the 2023 formula), the mesh index and every competence's level.
Outcome precedence: cancelled, fraud, too few answers (cancelled when the abort is
technical, rejected otherwise), ``reject_when``, then validated.

Examples
--------
>>> from pixirt import rules
>>> cert = Certification(
...     profile={"1.1": PositionedCompetence(level=4, pix=37)},
...     challenges=[CertificationChallenge(f"c{i}", "1.1", status="ok") for i in range(3)],
... )
>>> result = score(cert, rules.load("pix-v2"))
>>> result.status, result.pix_score, result.competences["1.1"].level
('validated', 37, 4)
"""

from __future__ import annotations

import json
import math
import os
import re
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

import numpy as np
import pandas as pd

from pixirt.cat import jury, scale
from pixirt.cat import v2 as v2_rules
from pixirt.cat.capacity import CapacityHistory, CapacityModel
from pixirt.cat.incidents import FEATURES, IssueReport
from pixirt.cat.jury import JuryEvent
from pixirt.cat.selection import BankStructure, SelectionState, candidate_pool, rank_by_information
from pixirt.exceptions import DataError, ScoringError

if TYPE_CHECKING:
    from pixirt.item_bank import ItemBank
    from pixirt.rules import Action, RuleSet, V2Scoring, V3Scoring

__all__ = [
    "ABORT_REASONS",
    "ANSWER_STATUSES",
    "AbortReason",
    "AnswerStatus",
    "CapacityStep",
    "Certification",
    "CertificationChallenge",
    "CertificationResult",
    "CompetenceResult",
    "Degradation",
    "PositionedCompetence",
    "competence_level",
    "js_round",
    "mesh_from_score",
    "mesh_index_from_capacity",
    "pix_score_from_capacity",
    "score",
]

AnswerStatus = Literal["ok", "ko", "aband", "timedout", "focusedOut", "partially", "unimplemented"]
#: Every answer status; only ``ok`` is correct.
ANSWER_STATUSES: tuple[str, ...] = get_args(AnswerStatus)
AbortReason = Literal["candidate", "technical"]
ABORT_REASONS: tuple[str, ...] = get_args(AbortReason)
Status = Literal["validated", "rejected", "cancelled", "cancelled_by_jury"]

#: Pix's internal record ids (``recIhdrmCuEmCDAzj``), refused where a competence code is due.
_PIX_ID = re.compile(r"^rec[A-Za-z0-9]{8,}$")

#: The challenge type counted twice in a competence with fewer challenges than expected.
QROCM_DEP = "QROCM-dep"


def js_round(x: float) -> int:
    """JavaScript's ``Math.round``: round half up, toward +∞.

    Parameters
    ----------
    x
        A finite number.

    Returns
    -------
    int
        ``floor(x)`` + 1 when the fractional part is at least one half.

    Examples
    --------
    >>> js_round(46.666), js_round(2.5), js_round(-2.5), js_round(0.49999999999999994)
    (47, 3, -2, 0)
    """
    floor = math.floor(x)
    return int(floor + 1 if x - floor >= 0.5 else floor)


def _package_version() -> str:
    try:
        from pixirt import __version__

        return str(__version__)
    except ImportError:  # pragma: no cover - only while pixirt/__init__.py is being edited
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("pixirt")
        except PackageNotFoundError:
            return "0.0.0+unknown"


# =========================================================================== input
def _where(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _check_keys(
    data: Mapping[str, Any], allowed: Iterable[str], prefix: str, path: str | None
) -> None:
    if not isinstance(data, Mapping):
        raise DataError(
            f"expected an object, got {type(data).__name__}", path=path, field=prefix or None
        )
    allowed_set = set(allowed)
    for key in data:
        if key not in allowed_set:
            raise DataError(
                f"unknown field (expected one of {', '.join(sorted(allowed_set))})",
                path=path,
                field=_where(prefix, str(key)),
            )


def _bool(value: Any, where: str, path: str | None) -> bool:
    if not isinstance(value, bool):
        raise DataError(f"expected true or false, got {value!r}", path=path, field=where)
    return value


def _int(value: Any, where: str, path: str | None, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataError(f"expected an integer, got {value!r}", path=path, field=where)
    if value < low or (high is not None and value > high):
        bounds = f"{low}..{high}" if high is not None else f"≥ {low}"
        raise DataError(f"expected an integer in {bounds}, got {value!r}", path=path, field=where)
    return value


def _opt_str(value: Any, where: str, path: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise DataError(f"expected a string, got {value!r}", path=path, field=where)
    return value


def _opt_number(
    value: Any, where: str, path: str | None, *, positive: bool = False
) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DataError(f"expected a finite number, got {value!r}", path=path, field=where)
    if positive and value <= 0:
        raise DataError(f"expected a positive number, got {value!r}", path=path, field=where)
    return float(value)


@dataclass(frozen=True, slots=True)
class PositionedCompetence:
    """A competence of the placement profile (v2): positioned level and pix.

    Attributes
    ----------
    level
        Positioned level (0–8; the competence is tested when ≥ ``minimum_competence_level``).
    pix
        Pix earned in placement for this competence.
    """

    level: int
    pix: int

    def __post_init__(self) -> None:
        _int(self.level, "level", None, 0, 8)
        _int(self.pix, "pix", None, 0)

    def to_dict(self) -> dict[str, int]:
        """JSON-safe form ``{"level": ..., "pix": ...}``."""
        return {"level": self.level, "pix": self.pix}

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, path: str | None = None, where: str = ""
    ) -> PositionedCompetence:
        """Build from ``{"level": 4, "pix": 37}``, naming the field of any error."""
        _check_keys(data, ("level", "pix"), where, path)
        for key in ("level", "pix"):
            if key not in data:
                raise DataError("missing required field", path=path, field=_where(where, key))
        return cls(
            level=_int(data["level"], _where(where, "level"), path, 0, 8),
            pix=_int(data["pix"], _where(where, "pix"), path, 0),
        )


_CHALLENGE_FIELDS = (
    "challenge_id",
    "competence",
    "tube",
    "type",
    "discriminant",
    "difficulty",
    "neutralized",
    "skipped_automatically",
    "live_alert",
    "status",
    "features",
)


@dataclass(frozen=True, slots=True)
class CertificationChallenge:
    """A challenge asked during the certification, with its answer.

    Attributes
    ----------
    challenge_id
        Challenge id.
    competence
        Competence code (``"1.1"``).
    tube
        Tube name (used by the v3 selection rules during a degradation).
    type
        Challenge type (``"QROCM-dep"`` counts twice in small v2 competences).
    discriminant, difficulty
        The calibration recorded when the challenge was asked (v3).
    neutralized
        Neutralized by the jury.
    skipped_automatically
        Skipped automatically at the end of the session (counts as a wrong answer).
    live_alert
        The candidate raised a live alert that was validated (v3: removed before scoring).
    status
        The answer status, or None if unanswered.
    features
        The challenge's features checked by the incident policy (``image``, ``embed``,
        ``attachment``, ``timed``, ``focus``), or None when not recorded (then read from
        the bank, if one is given to :func:`score`).
    """

    challenge_id: str
    competence: str
    tube: str | None = None
    type: str | None = None
    discriminant: float | None = None
    difficulty: float | None = None
    neutralized: bool = False
    skipped_automatically: bool = False
    live_alert: bool = False
    status: AnswerStatus | None = None
    features: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.challenge_id, str) or not self.challenge_id:
            raise DataError(
                f"expected a non-empty string, got {self.challenge_id!r}", field="challenge_id"
            )
        if not isinstance(self.competence, str) or not self.competence:
            raise DataError(
                f"expected a competence code like '1.1', got {self.competence!r}",
                field="competence",
            )
        if _PIX_ID.match(self.competence):
            raise DataError(
                f"{self.competence!r} is a Pix internal competence id, not a code like '1.1': "
                "map it (pixirt import-pix --competences, or read_pix_export(competences=...))",
                field="competence",
            )
        _opt_str(self.tube, "tube", None)
        _opt_str(self.type, "type", None)
        object.__setattr__(
            self,
            "discriminant",
            _opt_number(self.discriminant, "discriminant", None, positive=True),
        )
        object.__setattr__(self, "difficulty", _opt_number(self.difficulty, "difficulty", None))
        for name in ("neutralized", "skipped_automatically", "live_alert"):
            _bool(getattr(self, name), name, None)
        if self.status is not None and self.status not in ANSWER_STATUSES:
            raise DataError(
                f"expected one of {'/'.join(ANSWER_STATUSES)} or null, got {self.status!r}",
                field="status",
            )
        if self.features is not None:
            if isinstance(self.features, str) or not isinstance(self.features, Iterable):
                raise DataError(
                    f"expected a list of features, got {self.features!r}", field="features"
                )
            feats = tuple(self.features)
            bad = [f for f in feats if f not in FEATURES]
            if bad:
                raise DataError(
                    f"unknown feature {bad[0]!r}: expected {'/'.join(FEATURES)}", field="features"
                )
            object.__setattr__(self, "features", feats)

    @property
    def answered(self) -> bool:
        """Whether the candidate answered (a status is recorded)."""
        return self.status is not None

    @property
    def correct(self) -> bool:
        """Whether the answer is correct: only ``ok`` is."""
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form with every field."""
        out = {name: getattr(self, name) for name in _CHALLENGE_FIELDS}
        out["features"] = None if self.features is None else list(self.features)
        return out

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, path: str | None = None, where: str = ""
    ) -> CertificationChallenge:
        """Build from a mapping; missing optional fields take neutral defaults.

        Raises
        ------
        DataError
            On an unknown field or a bad value, naming the field (``where`` prefixes it).
        """
        _check_keys(data, _CHALLENGE_FIELDS, where, path)
        for key in ("challenge_id", "competence"):
            if key not in data:
                raise DataError("missing required field", path=path, field=_where(where, key))
        cid = data["challenge_id"]
        if isinstance(cid, int) and not isinstance(cid, bool):
            cid = str(cid)
        try:
            return cls(
                challenge_id=cid,
                competence=data["competence"],
                tube=data.get("tube"),
                type=data.get("type"),
                discriminant=data.get("discriminant"),
                difficulty=data.get("difficulty"),
                neutralized=data.get("neutralized", False),
                skipped_automatically=data.get("skipped_automatically", False),
                live_alert=data.get("live_alert", False),
                status=data.get("status"),
                features=data.get("features"),
            )
        except DataError as exc:
            raise DataError(exc.message, path=path, field=_where(where, exc.field or "")) from None


_CERTIFICATION_FIELDS = (
    "id",
    "profile",
    "challenges",
    "abort_reason",
    "fraud",
    "cancelled",
    "accessibility_adjustment",
    "issue_reports",
    "jury_events",
    "clea_badge",
)


@dataclass(frozen=True, slots=True)
class Certification:
    """What happened in a certification session, as the scoring needs it.

    Attributes
    ----------
    challenges
        The challenges in the order asked (a sequence of :class:`CertificationChallenge`
        or of mappings, stored as a tuple).
    profile
        v2: the placement profile, competence code → :class:`PositionedCompetence` (or a
        mapping ``{"level": 4, "pix": 37}``).
    abort_reason
        ``"candidate"``, ``"technical"`` or None (completed).
    fraud
        Rejected for fraud by the jury.
    cancelled
        Cancelled by a jury event.
    accessibility_adjustment
        The candidate needed an accessibility adjustment (kept for the record: Pix's v3
        degradation draws from every calibrated challenge, accessible or not).
    id
        Optional identifier, carried to the result.
    issue_reports
        The session's issue reports (:class:`pixirt.cat.incidents.IssueReport` or
        mappings), resolved by the rule set's incident policy before scoring.
    jury_events
        The jury's decisions (:class:`pixirt.cat.jury.JuryEvent` or mappings), replayed in
        order after the automatic resolution.
    clea_badge
        The candidate holds the CléA numérique badge (and sits CléA with the core
        certification).
    """

    challenges: Sequence[CertificationChallenge]
    profile: Mapping[str, PositionedCompetence] = field(default_factory=dict)
    abort_reason: AbortReason | None = None
    fraud: bool = False
    cancelled: bool = False
    accessibility_adjustment: bool = False
    id: str | None = None
    issue_reports: Sequence[IssueReport] = ()
    jury_events: Sequence[JuryEvent] = ()
    clea_badge: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.challenges, (str, bytes)) or not isinstance(self.challenges, Iterable):
            raise DataError(
                f"expected a list of challenges, got {type(self.challenges).__name__}",
                field="challenges",
            )
        items = []
        for i, ch in enumerate(self.challenges):
            if isinstance(ch, CertificationChallenge):
                items.append(ch)
            elif isinstance(ch, Mapping):
                items.append(CertificationChallenge.from_dict(ch, where=f"challenges[{i}]"))
            else:
                raise DataError(
                    f"expected a challenge object, got {ch!r}", field=f"challenges[{i}]"
                )
        seen: dict[str, int] = {}
        for i, ch in enumerate(items):
            if ch.challenge_id in seen:
                raise DataError(
                    f"challenge {ch.challenge_id!r} appears twice (first at challenges[{seen[ch.challenge_id]}]); "
                    "a challenge has at most one answer",
                    field=f"challenges[{i}].challenge_id",
                )
            seen[ch.challenge_id] = i
        object.__setattr__(self, "challenges", tuple(items))
        if not isinstance(self.profile, Mapping):
            raise DataError(
                f"expected an object code → {{level, pix}}, got {self.profile!r}", field="profile"
            )
        prof: dict[str, PositionedCompetence] = {}
        for code, value in self.profile.items():
            if not isinstance(code, str):
                raise DataError(f"competence codes are strings, got {code!r}", field="profile")
            if _PIX_ID.match(code):
                raise DataError(
                    f"{code!r} is a Pix internal competence id, not a code like '1.1': map it "
                    "(pixirt import-pix --competences)",
                    field=f"profile.{code}",
                )
            if isinstance(value, PositionedCompetence):
                prof[code] = value
            elif isinstance(value, Mapping):
                prof[code] = PositionedCompetence.from_dict(value, where=f"profile.{code}")
            elif hasattr(value, "level") and hasattr(
                value, "pix"
            ):  # e.g. a positioning profile's entry
                prof[code] = PositionedCompetence(level=value.level, pix=value.pix)
            else:
                raise DataError(f"expected {{level, pix}}, got {value!r}", field=f"profile.{code}")
        object.__setattr__(self, "profile", types.MappingProxyType(prof))
        if self.abort_reason is not None and self.abort_reason not in ABORT_REASONS:
            raise DataError(
                f"expected candidate/technical or null, got {self.abort_reason!r}",
                field="abort_reason",
            )
        for name in ("fraud", "cancelled", "accessibility_adjustment", "clea_badge"):
            _bool(getattr(self, name), name, None)
        _opt_str(self.id, "id", None)
        for name, kind in (("issue_reports", IssueReport), ("jury_events", JuryEvent)):
            raw = getattr(self, name)
            if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Iterable):
                raise DataError(f"expected a list, got {raw!r}", field=name)
            parsed: list[Any] = []
            for i, x in enumerate(raw):
                if isinstance(x, kind):
                    parsed.append(x)
                    continue
                try:
                    parsed.append(kind.from_dict(x))
                except DataError as exc:
                    sub = f".{exc.field}" if exc.field else ""
                    raise DataError(exc.message, field=f"{name}[{i}]{sub}") from None
            object.__setattr__(self, name, tuple(parsed))

    # -- (de)serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form; :meth:`from_dict` gives back an equal certification."""
        return {
            "id": self.id,
            "profile": {code: p.to_dict() for code, p in self.profile.items()},
            "challenges": [c.to_dict() for c in self.challenges],
            "abort_reason": self.abort_reason,
            "fraud": self.fraud,
            "cancelled": self.cancelled,
            "accessibility_adjustment": self.accessibility_adjustment,
            "issue_reports": [x.to_dict() for x in self.issue_reports],
            "jury_events": [x.to_dict() for x in self.jury_events],
            "clea_badge": self.clea_badge,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: str | None = None) -> Certification:
        """Validate a certification given as nested mappings (parsed JSON).

        Parameters
        ----------
        data
            ``{"profile": ..., "challenges": [...], "abort_reason": ..., ...}``; only
            ``challenges`` is required.
        path
            The file it came from, for error messages.

        Returns
        -------
        Certification
            The certification.

        Raises
        ------
        DataError
            Naming the file and the field (``challenges[3].status``) of the first problem.
        """
        _check_keys(data, _CERTIFICATION_FIELDS, "", path)
        if "challenges" not in data:
            raise DataError("missing required field", path=path, field="challenges")
        raw = data["challenges"]
        if not isinstance(raw, list):
            raise DataError(
                f"expected a list of challenges, got {raw!r}", path=path, field="challenges"
            )
        challenges = []
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping):
                raise DataError(
                    f"expected a challenge object, got {item!r}",
                    path=path,
                    field=f"challenges[{i}]",
                )
            challenges.append(
                CertificationChallenge.from_dict(item, path=path, where=f"challenges[{i}]")
            )
        profile_raw = data.get("profile", {}) or {}
        if not isinstance(profile_raw, Mapping):
            raise DataError(
                f"expected an object code → {{level, pix}}, got {profile_raw!r}",
                path=path,
                field="profile",
            )
        profile = {
            str(code): PositionedCompetence.from_dict(value, path=path, where=f"profile.{code}")
            if isinstance(value, Mapping)
            else _bad_profile(value, code, path)
            for code, value in profile_raw.items()
        }
        try:
            return cls(
                challenges=challenges,
                profile=profile,
                abort_reason=data.get("abort_reason"),
                fraud=data.get("fraud", False),
                cancelled=data.get("cancelled", False),
                accessibility_adjustment=data.get("accessibility_adjustment", False),
                id=data.get("id"),
                issue_reports=data.get("issue_reports", ()),
                jury_events=data.get("jury_events", ()),
                clea_badge=data.get("clea_badge", False),
            )
        except DataError as exc:
            raise DataError(exc.message, path=path, field=exc.field) from None

    def to_json(self, **kwargs: Any) -> str:
        """JSON text of :meth:`to_dict` (keyword arguments go to :func:`json.dumps`)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Certification:
        """Read a certification from a JSON file.

        Raises
        ------
        DataError
            If the file cannot be read, is not JSON, or has an invalid field (named).
        """
        label = os.fspath(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read the file: {exc}", path=label) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc}", path=label) from None
        if not isinstance(data, dict):
            raise DataError("expected a JSON object", path=label)
        return cls.from_dict(data, path=label)


def _bad_profile(value: Any, code: Any, path: str | None) -> PositionedCompetence:
    raise DataError(f"expected {{level, pix}}, got {value!r}", path=path, field=f"profile.{code}")


# =========================================================================== results
@dataclass(frozen=True, slots=True)
class CompetenceResult:
    """The certified level and score of one competence, and the rule that gave them.

    Attributes
    ----------
    competence
        Competence code.
    level
        Certified level (−1: uncertified; v3: None if no interval matched).
    score
        Certified pix (always 0 in v3, as in Pix).
    rule
        Plain-words statement of the rule that fired.
    positioned_level, positioned_pix
        v2: the placement profile's level and pix.
    n_challenges, n_correct, n_neutralized
        v2: the counts that selected the table row.
    table_row
        v2: 0-based index of the row in ``[scoring.v2.table]``.
    action
        v2: validate / downgrade / invalidate.
    blocked
        v2: the level or score was lowered to the maximum reachable.
    """

    competence: str
    level: int | None
    score: int
    rule: str
    positioned_level: int | None = None
    positioned_pix: int | None = None
    n_challenges: int | None = None
    n_correct: int | None = None
    n_neutralized: int | None = None
    table_row: int | None = None
    action: Action | None = None
    blocked: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "competence": self.competence,
            "level": self.level,
            "score": self.score,
            "rule": self.rule,
            "positioned_level": self.positioned_level,
            "positioned_pix": self.positioned_pix,
            "n_challenges": self.n_challenges,
            "n_correct": self.n_correct,
            "n_neutralized": self.n_neutralized,
            "table_row": self.table_row,
            "action": self.action,
            "blocked": self.blocked,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompetenceResult:
        """Inverse of :meth:`to_dict`."""
        _check_keys(data, cls.__dataclass_fields__, "", None)
        return cls(**dict(data))


@dataclass(frozen=True, slots=True)
class CapacityStep:
    """The capacity after one answer (v3 history).

    Attributes
    ----------
    challenge_id
        The challenge answered.
    correct
        Whether the answer was ``ok``.
    capacity, error_rate
        The estimate after this answer.
    simulated
        A SKIPPED answer simulated by the score degradation.
    """

    challenge_id: str
    correct: bool
    capacity: float
    error_rate: float
    simulated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "challenge_id": self.challenge_id,
            "correct": self.correct,
            "capacity": self.capacity,
            "error_rate": self.error_rate,
            "simulated": self.simulated,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CapacityStep:
        """Inverse of :meth:`to_dict`."""
        _check_keys(data, cls.__dataclass_fields__, "", None)
        return cls(**dict(data))


@dataclass(frozen=True, slots=True)
class Degradation:
    """The score degradation applied to a test abandoned by the candidate (v3).

    Attributes
    ----------
    n_simulated
        Number of SKIPPED answers simulated (test length − answers).
    capacity_before, capacity_after
        The estimate before and after the simulation.
    challenge_ids
        The bank challenges picked for the simulated answers, in order.
    """

    n_simulated: int
    capacity_before: float
    capacity_after: float
    challenge_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "n_simulated": self.n_simulated,
            "capacity_before": self.capacity_before,
            "capacity_after": self.capacity_after,
            "challenge_ids": list(self.challenge_ids),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Degradation:
        """Inverse of :meth:`to_dict`."""
        _check_keys(data, cls.__dataclass_fields__, "", None)
        d = dict(data)
        d["challenge_ids"] = tuple(d["challenge_ids"])
        return cls(**d)


@dataclass(frozen=True, slots=True)
class CertificationResult:
    """The outcome of scoring a certification.

    Attributes
    ----------
    algorithm
        ``v2`` or ``v3``.
    status
        ``validated``, ``rejected``, ``cancelled`` or (v3) ``cancelled_by_jury``.
    comment
        Pix's automatic jury comment key (``FRAUD``, ``CANCELLED_DUE_TO_NEUTRALIZATION``,
        ``REJECTED_DUE_TO_INSUFFICIENT_CORRECT_ANSWERS``, ...) or None.
    pix_score
        The global score as Pix computes it (v2: also reported for rejected or cancelled
        certifications, as Pix stores it). v3: None after a jury cancellation, a
        rejection for fraud or too few answers, whose results carry no score, global
        level or competence level (Pix's ``create-v3-assessment-result``).
    competences
        Competence code → :class:`CompetenceResult`.
    reproducibility_rate
        v2: RR in percent (v3: None; Pix stores 100).
    trusted
        v2: whether enough challenges were left after neutralization.
    capacity, error_rate
        v3: final capacity (after any degradation) and the error rate of the last
        estimate from the candidate's own answers.
    mesh_index
        v3: index of the global interval holding the capacity (None below the first).
    global_level
        v3: name of the mesh reached by the score (``BEGINNER_2``, ...).
    n_answers
        v3: answers counted for the minimum-answers and degradation rules.
    capacity_history
        v3: the capacity after each answer (simulated ones last).
    degradation
        v3: the degradation applied, if any.
    trace
        The rules that fired, in order, in plain words (see :meth:`explain`).
    certification_id
        The certification's id, if given.
    rules_id, rules_hash
        The rule set used.
    pixirt_version
        The package version that scored.
    jury_review
        An impactful issue report is left unresolved: the session needs a human jury
        before publication (Pix's ``FinalizedSession.isPublishable``).
    clea
        CléA numérique acquired (None: the candidate does not sit it, or the rule set
        has no ``[complementary.clea]``).
    ban_months
        After a rejection for fraud, the months the candidate is barred (``[jury]``);
        None otherwise.
    """

    algorithm: Literal["v2", "v3"]
    status: Status
    comment: str | None
    pix_score: int | None
    competences: Mapping[str, CompetenceResult]
    reproducibility_rate: int | None
    trusted: bool | None
    capacity: float | None
    error_rate: float | None
    mesh_index: int | None
    global_level: str | None
    n_answers: int | None
    capacity_history: tuple[CapacityStep, ...]
    degradation: Degradation | None
    trace: tuple[str, ...]
    certification_id: str | None
    rules_id: str
    rules_hash: str
    pixirt_version: str
    jury_review: bool = False
    clea: bool | None = None
    ban_months: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "competences", types.MappingProxyType(dict(self.competences)))
        object.__setattr__(self, "capacity_history", tuple(self.capacity_history))
        object.__setattr__(self, "trace", tuple(self.trace))

    # -- reading ---------------------------------------------------------------------------
    def explain(self) -> str:
        """Why this outcome, in plain words: the rules that fired and each competence's rule.

        Returns
        -------
        str
            A few lines a jury can read.
        """
        who = f"Certification {self.certification_id}" if self.certification_id else "Certification"
        comment = f" ({self.comment})" if self.comment else ""
        lines = [
            f"{who}: {self.status.upper()}{comment}, "
            + ("no score " if self.pix_score is None else f"{self.pix_score} pix ")
            + f"[{self.algorithm}, rule set {self.rules_id} {self.rules_hash[:12]}, pixirt {self.pixirt_version}]",
            "Why:",
            *(f"  - {t}" for t in self.trace),
        ]
        if self.competences:
            lines.append("Competences:")
            for code, comp in self.competences.items():
                level = "none" if comp.level is None else str(comp.level)
                lines.append(f"  {code}: level {level}, {comp.score} pix: {comp.rule}")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One row per competence, indexed by ``competence``."""
        rows = [c.to_dict() for c in self.competences.values()]
        frame = pd.DataFrame(rows, columns=list(CompetenceResult.__dataclass_fields__))
        return frame.set_index("competence")

    def history_frame(self) -> pd.DataFrame:
        """The capacity history (v3): one row per answer, simulated ones flagged."""
        rows = [s.to_dict() for s in self.capacity_history]
        frame = pd.DataFrame(rows, columns=list(CapacityStep.__dataclass_fields__))
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="answer")
        return frame

    # -- (de)serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form; :meth:`from_dict` gives back an equal result."""
        return {
            "algorithm": self.algorithm,
            "status": self.status,
            "comment": self.comment,
            "pix_score": self.pix_score,
            "competences": {code: c.to_dict() for code, c in self.competences.items()},
            "reproducibility_rate": self.reproducibility_rate,
            "trusted": self.trusted,
            "capacity": self.capacity,
            "error_rate": self.error_rate,
            "mesh_index": self.mesh_index,
            "global_level": self.global_level,
            "n_answers": self.n_answers,
            "capacity_history": [s.to_dict() for s in self.capacity_history],
            "degradation": None if self.degradation is None else self.degradation.to_dict(),
            "trace": list(self.trace),
            "certification_id": self.certification_id,
            "rules": {"id": self.rules_id, "hash": self.rules_hash},
            "pixirt_version": self.pixirt_version,
            "jury_review": self.jury_review,
            "clea": self.clea,
            "ban_months": self.ban_months,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CertificationResult:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        DataError
            If a field is missing or unknown.
        """
        expected = {
            "algorithm", "status", "comment", "pix_score", "competences", "reproducibility_rate", "trusted",
            "capacity", "error_rate", "mesh_index", "global_level", "n_answers", "capacity_history",
            "degradation", "trace", "certification_id", "rules", "pixirt_version",
        }  # fmt: skip
        _check_keys(data, expected | {"jury_review", "clea", "ban_months"}, "", None)
        missing = sorted(expected - set(data))
        if missing:
            raise DataError("missing required field", field=missing[0])
        d = dict(data)
        rules = d.pop("rules")
        deg = d.pop("degradation")
        return cls(
            **{k: v for k, v in d.items() if k not in {"competences", "capacity_history", "trace"}},
            competences={
                code: CompetenceResult.from_dict(c) for code, c in d["competences"].items()
            },
            capacity_history=tuple(CapacityStep.from_dict(s) for s in d["capacity_history"]),
            degradation=None if deg is None else Degradation.from_dict(deg),
            trace=tuple(d["trace"]),
            rules_id=rules["id"],
            rules_hash=rules["hash"],
        )

    def to_json(self, **kwargs: Any) -> str:
        """JSON text of :meth:`to_dict` (keyword arguments go to :func:`json.dumps`)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False, **kwargs)

    @classmethod
    def from_json(cls, text: str) -> CertificationResult:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))


# =========================================================================== entry point
def score(
    certification: Certification,
    rules: RuleSet,
    *,
    bank: ItemBank | None = None,
) -> CertificationResult:
    """Score a certification with a rule set, exactly as Pix does.

    Parameters
    ----------
    certification
        The session's challenges, answers, profile (v2) and jury flags.
    rules
        The rule set (:func:`pixirt.rules.load`); its ``algorithm`` picks v2 or v3.
    bank
        v3 only: the calibrated bank, needed to simulate the missing answers of a test
        abandoned by the candidate (score degradation), and used for the discriminant
        and difficulty of a challenge that does not record them.

    Returns
    -------
    CertificationResult
        The outcome, with the rule set's id and hash and the package version.

    Raises
    ------
    ScoringError
        When Pix's scoring would fail: an unanswered challenge in v2, a combination
        missing from the level table (named), a tested competence without challenge, an
        inconsistent profile, a v3 challenge without calibration, or a degradation
        needed without ``bank``.
    """
    if not isinstance(certification, Certification):
        raise TypeError(
            f"certification must be a Certification, got {type(certification).__name__}"
        )
    decision = jury.apply(certification, rules, bank=bank)
    cert = decision.certification
    result = _score_v2(cert, rules) if rules.algorithm == "v2" else _score_v3(cert, rules, bank)
    trace = [*decision.trace]
    clea = None
    if cert.clea_badge:
        acquired = jury.clea_acquired(
            rules,
            status=[result.status],
            pix_score=[result.pix_score or 0],
            fraud=[cert.fraud],
            badge=[True],
        )
        if acquired is not None:
            clea = bool(acquired[0])
            assert rules.complementary is not None and rules.complementary.clea is not None
            trace.append(
                f"CléA numérique {'acquired' if clea else 'not acquired'}: needs a validated "
                "certification, no fraud and at least "
                f"{rules.complementary.clea.minimum_earned_pix} pix."
            )
    ban = int(jury.ban_months(rules, [cert.fraud])[0]) if cert.fraud else None
    if ban:
        trace.append(f"Rejected for fraud: barred from the certification for {ban} months.")
    if not trace and clea is None and ban is None:
        return result
    return replace(
        result,
        trace=(result.trace[0], *decision.trace, *result.trace[1:], *trace[len(decision.trace) :]),
        jury_review=decision.review,
        clea=clea,
        ban_months=ban,
    )


# =========================================================================== v2
def _band(rr: int, v2: V2Scoring) -> tuple[str, str]:
    r = v2.reproducibility
    if rr >= r.minimum_to_be_trusted:
        return "rr_80_and_above", f"RR ≥ {r.minimum_to_be_trusted}"
    if rr >= r.middle_band_minimum:
        return "rr_70_to_80", f"{r.middle_band_minimum} ≤ RR < {r.minimum_to_be_trusted}"
    return "rr_below_70", f"RR < {r.middle_band_minimum}"


def _score_v2(cert: Certification, rules: RuleSet) -> CertificationResult:
    """Score one v2 certification: :func:`pixirt.cat.v2.score_batch` on a batch of one, in words."""
    v2 = rules.v2
    codes = list(cert.profile)
    col = {code: k for k, code in enumerate(codes)}
    ch = list(cert.challenges)
    scores = v2_rules.score_batch(
        v2,
        level=[[cert.profile[c].level for c in codes]],
        pix=[[cert.profile[c].pix for c in codes]],
        competence=[[col.get(c.competence, -1) for c in ch]],
        valid=[[True] * len(ch)],
        answered=[[c.answered for c in ch]],
        correct=[[c.correct for c in ch]],
        neutralized=[[c.neutralized for c in ch]],
        skipped_automatically=[[c.skipped_automatically for c in ch]],
        qrocm_dep=[[c.type == QROCM_DEP for c in ch]],
        fraud=[cert.fraud],
        cancelled=[cert.cancelled],
        technical_abort=[cert.abort_reason == "technical"],
        competences=codes,
        challenge_ids=[[c.challenge_id for c in ch]],
    )
    if scores.error[0] is not None:
        raise ScoringError(str(scores.error[0]))
    tested = [code for code in codes if scores.tested[0, col[code]]]
    untested = [code for code in codes if code not in tested]
    trace: list[str] = [f"Scored with rule set {rules.id} (algorithm v2, hash {rules.hash[:12]})."]
    trace.append(
        f"Tested competences (positioned level ≥ {v2.minimum_competence_level}): "
        + (", ".join(tested) if tested else "none")
        + (f"; not tested: {', '.join(untested)}" if untested else "")
        + "."
    )
    ignored = [c.challenge_id for c in ch if c.competence not in tested]
    if ignored:
        trace.append(f"Ignored (competence not tested): {', '.join(ignored)}.")
    alerts = [
        c.challenge_id for c in ch if c.competence in tested and c.live_alert and not c.neutralized
    ]
    if alerts:
        trace.append(
            f"Live alerts on {', '.join(alerts)} are not neutralizations: they count as asked."
        )
    n_challenges = int(scores.n_challenges[0])
    n_counted = int(scores.n_counted[0])
    n_correct = int(scores.n_correct[0])
    rr = int(scores.reproducibility_rate[0])
    trace.append(
        f"Reproducibility rate: {n_correct} correct of {n_counted} non-neutralized answered challenges"
        + (
            f" = {n_correct / n_counted * 100:.2f} %, rounded half up to {rr} %."
            if n_counted
            else ": RR = 0."
        )
    )
    needed = int(scores.needed[0])
    trusted = bool(scores.trusted[0])
    trace.append(
        f"Trust: {n_counted} of {n_challenges} challenges are non-neutralized and answered or skipped; "
        f"at least ceil({v2.trust_ratio} × {n_challenges}) = {needed} are needed: "
        + ("trusted." if trusted else "NOT trusted (too many neutralized).")
    )
    r = v2.reproducibility
    marks: dict[str, CompetenceResult] = {}
    if rr < r.minimum_to_be_certified:
        trace.append(
            f"RR {rr} < {r.minimum_to_be_certified}: every tested competence is uncertified (level −1, 0 pix)."
        )
        for code in tested:
            p = cert.profile[code]
            marks[code] = CompetenceResult(
                competence=code,
                level=-1,
                score=0,
                rule=f"RR {rr} < {r.minimum_to_be_certified}: uncertified",
                positioned_level=p.level,
                positioned_pix=p.pix,
                action="invalidate",
            )
    else:
        _, band_text = _band(rr, v2)
        trace.append(
            f"RR {rr} ≥ {r.minimum_to_be_certified}: each competence is rated with the level table, band {band_text}."
        )
        max_pix = v2.max_reachable_level * v2.pix_per_level
        for code in tested:
            k = col[code]
            p = cert.profile[code]
            counts = tuple(int(x) for x in scores.counts[0, k])
            row_index = int(scores.table_row[0, k])
            action = cast("Action", v2_rules.ACTIONS[int(scores.action[0, k])])
            level, pix = int(scores.level[0, k]), int(scores.score[0, k])
            if action == "validate":
                what = f"level {p.level}, {p.pix} pix"
            elif action == "downgrade":
                what = (
                    f"level {p.level} − 1 = {p.level - 1}, {p.pix} − {v2.pix_per_level} = "
                    f"{p.pix - v2.pix_per_level} pix"
                )
            else:
                what = "level −1, 0 pix"
            blocked = bool(scores.blocked[0, k])
            rule = (
                f"{counts[0]} challenges, {counts[1]} correct, {counts[2]} neutralized → "
                f"[scoring.v2.table][{row_index}] → {action} for RR {rr} ({band_text}): {what}"
            )
            if blocked:
                rule += f"; blocked at level {v2.max_reachable_level} / {max_pix} pix"
            marks[code] = CompetenceResult(
                competence=code,
                level=level,
                score=pix,
                rule=rule,
                positioned_level=p.level,
                positioned_pix=p.pix,
                n_challenges=counts[0],
                n_correct=counts[1],
                n_neutralized=counts[2],
                table_row=row_index,
                action=action,
                blocked=blocked,
            )
    pix_score = int(scores.pix_score[0])
    status = cast("Status", v2_rules.OUTCOMES[int(scores.outcome[0])])
    comment = scores.comment_names()[0]
    trace.append(_v2_outcome_sentence(status, comment, n_counted, needed, rr, pix_score, v2))
    return CertificationResult(
        algorithm="v2",
        status=status,
        comment=comment,
        pix_score=pix_score,
        competences=marks,
        reproducibility_rate=rr,
        trusted=trusted,
        capacity=None,
        error_rate=None,
        mesh_index=None,
        global_level=None,
        n_answers=None,
        capacity_history=(),
        degradation=None,
        trace=tuple(trace),
        certification_id=cert.id,
        rules_id=rules.id,
        rules_hash=rules.hash,
        pixirt_version=_package_version(),
    )


def _v2_outcome_sentence(
    status: str,
    comment: str | None,
    n_counted: int,
    needed: int,
    rr: int,
    pix_score: int,
    v2: V2Scoring,
) -> str:
    """The outcome rule that fired, in words."""
    minimum = v2.reproducibility.minimum_to_be_certified
    if status == "cancelled" and comment is None:
        return "Outcome: cancelled by a jury event (first rule, before any other)."
    if comment == "FRAUD":
        return "Outcome: rejected for fraud."
    if comment == "CANCELLED_DUE_TO_NEUTRALIZATION":
        return f"Outcome: cancelled, only {n_counted} non-neutralized challenges (< {needed})."
    if comment == "CANCELLED_DUE_TO_LACK_OF_ANSWERS_FOR_TECHNICAL_REASON":
        return f"Outcome: cancelled, technical abort with RR {rr} < {minimum}."
    if comment == "REJECTED_DUE_TO_INSUFFICIENT_CORRECT_ANSWERS":
        return f"Outcome: rejected, RR {rr} < {minimum}."
    if status == "rejected":
        return "Outcome: rejected, the score is 0 pix."
    return f"Outcome: validated with {pix_score} pix (sum of the competence scores)."


# =========================================================================== v3 score scale
def mesh_index_from_capacity(capacity: float, v3: V3Scoring) -> int | None:
    """Index of the global interval holding the capacity (Pix's ``reachedMeshIndex``).

    Parameters
    ----------
    capacity
        The capacity.
    v3
        ``rules.v3``.

    Returns
    -------
    int or None
        None below the first interval's min; the first ``k`` with ``min ≤ c < max``; the
        last index above the last max.
    """
    k = int(scale.mesh_indices(float(capacity), v3))
    return None if k < 0 else k


def pix_score_from_capacity(capacity: float, v3: V3Scoring) -> int:
    """The global pix score of a capacity, with the rule set's formula.

    Parameters
    ----------
    capacity
        The final capacity.
    v3
        ``rules.v3``.

    Returns
    -------
    int
        ``mesh``: 0 below the first min, ``score_cap`` at or above the last max, else
        ``min(cap, floor(w_k (coef_k + 1 − (max_k − c) / (max_k − min_k))))``.
        ``linear_2023``: the capacity clamped to the bounds, ``h (k + 1 + (c − max_k) /
        width_k)`` with ``k`` the first interval with ``min ≤ c ≤ max``, capped, rounded
        half up.
    """
    return int(scale.pix_scores(float(capacity), v3))


def mesh_from_score(pix_score: int, v3: V3Scoring) -> int:
    """The mesh a score reaches (Pix's ``findMeshFromScore``).

    Parameters
    ----------
    pix_score
        The global score.
    v3
        ``rules.v3``.

    Returns
    -------
    int
        The first mesh index whose cumulative weight exceeds the score, or
        ``max_reachable_level`` if reached first.
    """
    return int(scale.meshes_from_scores(int(pix_score), v3))


def competence_level(capacity: float, v3: V3Scoring, competence: str) -> int | None:
    """A competence's level at a capacity (``CompetenceForScoring``).

    Parameters
    ----------
    capacity
        The capacity.
    v3
        ``rules.v3``.
    competence
        Competence code.

    Returns
    -------
    int or None
        The level of the first interval, in file order, with ``min ≤ c < max`` after
        extending the interval(s) with the smallest min to −∞ and those with the largest
        max to +∞; None if no interval matches.
    """
    level = int(scale.competence_levels(float(capacity), v3, competence))
    return None if level < 0 else level


def _competence_row(capacity: float, v3: V3Scoring, competence: str) -> int | None:
    row = int(scale.competence_rows(float(capacity), v3, competence))
    return None if row < 0 else row


# =========================================================================== v3
@dataclass(frozen=True, slots=True)
class _Answer:
    challenge_id: str
    a: float
    b: float
    correct: bool


def _calibration(
    c: CertificationChallenge, bank_index: BankStructure | None
) -> tuple[float, float]:
    a, b = c.discriminant, c.difficulty
    if (a is None or b is None) and bank_index is not None:
        pos = int(bank_index.positions([c.challenge_id])[0])
        if pos >= 0:
            a = float(bank_index.a[pos]) if a is None else a
            b = float(bank_index.b[pos]) if b is None else b
    if a is None or b is None:
        raise ScoringError(
            f"challenge {c.challenge_id} has no discriminant/difficulty and is not in the bank: "
            "v3 needs each answered challenge's calibration"
        )
    return a, b


def _fmt(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".") if math.isfinite(x) else ("+∞" if x > 0 else "−∞")


def _score_v3(cert: Certification, rules: RuleSet, bank: ItemBank | None) -> CertificationResult:
    v3 = rules.v3
    sel = rules.selection
    assert sel is not None  # guaranteed by the rule-set validation
    model = CapacityModel.from_rules(rules)
    structure = BankStructure.of(bank) if bank is not None else None
    trace: list[str] = [f"Scored with rule set {rules.id} (algorithm v3, hash {rules.hash[:12]})."]

    alerts = [c for c in cert.challenges if c.live_alert]
    answered = [
        c for c in cert.challenges if not c.live_alert and (c.answered or c.skipped_automatically)
    ]
    neutralized = [c for c in answered if c.neutralized]
    kept = answered  # v3 scoring does not read neutralization (Pix)
    unanswered = [
        c.challenge_id
        for c in cert.challenges
        if not c.live_alert and not (c.answered or c.skipped_automatically)
    ]
    if alerts:
        trace.append(
            f"Removed before scoring (validated live alert): {', '.join(c.challenge_id for c in alerts)}."
        )
    if neutralized:
        trace.append(
            "Neutralized by the jury, which v3 scoring does not read (Pix): kept in the capacity: "
            + ", ".join(c.challenge_id for c in neutralized)
            + "."
        )
    if unanswered:
        trace.append(f"Asked but not answered, ignored: {', '.join(unanswered)}.")
    n_answers = len(answered)
    trace.append(
        f"Answers counted: {n_answers} (minimum {v3.minimum_answers}, test length {sel.test_length})."
    )

    answers = [
        _Answer(c.challenge_id, *_calibration(c, structure), correct=c.correct) for c in kept
    ]
    hist = model.history(
        [x.a for x in answers],
        [x.b for x in answers],
        [x.correct for x in answers],
        initial=model.default_capacity,
    )
    steps = [
        CapacityStep(x.challenge_id, x.correct, float(hist.capacity[i]), float(hist.error_rate[i]))
        for i, x in enumerate(answers)
    ]
    estimate = float(hist.final_capacity)
    error_rate = float(hist.error_rate[-1]) if answers else model.error_rate_without_answers
    n_capped = int(hist.capped.sum())
    trace.append(
        f"Capacity: EAP from {_fmt(model.default_capacity)} over {len(answers)} answers "
        f"(prior variance {_fmt(model.prior_variance)} re-centred on each estimate, "
        + (
            f"variation cap {_fmt(model.variation_percent)}, binding at {n_capped} answers"
            if model.variation_percent
            else "no variation cap"
        )
        + f"): {_fmt(estimate)}, error rate {_fmt(error_rate)}."
    )

    capacity = estimate
    degradation: Degradation | None = None
    abandoned = cert.abort_reason == "candidate"
    if v3.degrade_abandoned and abandoned and v3.minimum_answers <= n_answers < sel.test_length:
        if structure is None:
            raise ScoringError(
                f"the test was abandoned by the candidate after {n_answers} of {sel.test_length} answers: "
                f"the degradation simulates {sel.test_length - n_answers} answers and needs the item bank (bank=...)"
            )
        degradation, simulated = _degrade(
            cert, rules, model, structure, answered, answers, estimate, n_answers
        )
        steps.extend(simulated)
        capacity = degradation.capacity_after
        trace.append(
            f"Abandoned by the candidate after {n_answers} of {sel.test_length} answers: capacity degraded by "
            f"simulating {degradation.n_simulated} SKIPPED answers on the best bank challenges (pick probability "
            f"100), the EAP restarting from the estimate {_fmt(estimate)}: {_fmt(capacity)}."
        )
    elif abandoned and n_answers < sel.test_length:
        if not v3.degrade_abandoned:
            trace.append("Abandoned by the candidate: this rule set does not degrade the capacity.")
        elif n_answers < v3.minimum_answers:
            trace.append(f"Abandoned with fewer than {v3.minimum_answers} answers: no degradation.")
    elif cert.abort_reason == "technical":
        trace.append("Technical abort: the capacity is not degraded.")

    pix_score = pix_score_from_capacity(capacity, v3)
    mesh_index = mesh_index_from_capacity(capacity, v3)
    score_mesh = mesh_from_score(pix_score, v3)
    trace.append(_score_sentence(capacity, pix_score, mesh_index, v3))
    trace.append(
        f"Global level: {v3.meshes[score_mesh].name} (mesh {score_mesh} reached by {pix_score} pix"
        + (f", at most {v3.max_reachable_level}" if score_mesh == v3.max_reachable_level else "")
        + ")."
    )

    marks: dict[str, CompetenceResult] = {}
    for code in v3.competence_intervals:
        row = _competence_row(capacity, v3, code)
        level = None if row is None else v3.competence_intervals[code][row].level
        if row is None:
            rule = f"capacity {_fmt(capacity)} is in none of its intervals: no level"
        else:
            rows = v3.competence_intervals[code]
            r = rows[row]
            lo = -math.inf if r.min == min(x.min for x in rows) else r.min
            hi = math.inf if r.max == max(x.max for x in rows) else r.max
            rule = (
                f"capacity {_fmt(capacity)} in [{_fmt(lo)}, {_fmt(hi)}), the first matching interval "
                f'([scoring.v3.competence_intervals."{code}"][{row}]) → level {level}'
            )
        marks[code] = CompetenceResult(competence=code, level=level, score=0, rule=rule)

    decided = scale.outcomes(
        np.array([capacity]),
        v3,
        n_answers=[n_answers],
        fraud=[cert.fraud],
        cancelled=[cert.cancelled],
        technical_abort=[cert.abort_reason == "technical"],
    )
    status = cast("Status", decided.outcome_names()[0])
    comment = decided.comment_names()[0]
    trace.append(
        _v3_outcome_sentence(
            scale.RULES[int(decided.rule[0])], status, n_answers, pix_score, v3, cert
        )
    )
    scored, leveled = bool(decided.scored[0]), bool(decided.leveled[0])
    if not scored:
        trace.append(
            "This outcome carries no score, global level or competence level (Pix stores none)."
        )
    elif not leveled:
        trace.append("Rejected for a score of 0: no competence level (Pix stores none).")
    if not leveled:
        marks = {
            code: CompetenceResult(
                competence=code, level=None, score=0, rule=f"{m.rule}; not kept: {status}"
            )
            for code, m in marks.items()
        }
    return CertificationResult(
        algorithm="v3",
        status=status,
        comment=comment,
        pix_score=pix_score if scored else None,
        competences=marks,
        reproducibility_rate=None,
        trusted=None,
        capacity=capacity,
        error_rate=error_rate,
        mesh_index=mesh_index if scored else None,
        global_level=v3.meshes[score_mesh].name if scored else None,
        n_answers=n_answers,
        capacity_history=tuple(steps),
        degradation=degradation,
        trace=tuple(trace),
        certification_id=cert.id,
        rules_id=rules.id,
        rules_hash=rules.hash,
        pixirt_version=_package_version(),
    )


def _v3_outcome_sentence(
    rule: str, status: str, n_answers: int, pix_score: int, v3: V3Scoring, cert: Certification
) -> str:
    """The outcome rule that fired, in words."""
    if rule == "cancelled":
        return "Outcome: cancelled by the jury (cancelled_by_jury; first rule, before any other)."
    if rule == "fraud":
        return "Outcome: rejected for fraud."
    if rule == "too_few_answers":
        if status == "cancelled":
            return f"Outcome: cancelled, {n_answers} answers < {v3.minimum_answers} after a technical abort."
        return f"Outcome: rejected, {n_answers} answers < {v3.minimum_answers}."
    if rule in ("zero_score", "below_minimum_mesh"):
        why = (
            "the score is 0 pix."
            if pix_score == 0
            else "the capacity is below the first global interval."
        )
        return f"Outcome: rejected, {why} (reject_when = {v3.reject_when})"
    return f"Outcome: validated with {pix_score} pix."


def _score_sentence(capacity: float, pix_score: int, mesh_index: int | None, v3: V3Scoring) -> str:
    iv = v3.intervals
    if v3.formula == "linear_2023":
        c = min(max(capacity, iv[0].min), iv[-1].max)
        k = next(i for i, x in enumerate(iv) if x.min <= c <= x.max)
        return (
            f"Score (2023 formula): capacity {_fmt(capacity)} clamped to {_fmt(c)} in [{_fmt(iv[k].min)}, "
            f"{_fmt(iv[k].max)}] (interval {k}): {_fmt(cast(float, v3.interval_height))} × ({k} + 1 + "
            f"({_fmt(c)} − {_fmt(iv[k].max)}) / {_fmt(iv[k].max - iv[k].min)}), capped at {v3.score_cap}, "
            f"rounded half up = {pix_score} pix."
        )
    if capacity >= iv[-1].max:
        return f"Score: capacity {_fmt(capacity)} ≥ {_fmt(iv[-1].max)} (last max): the cap, {pix_score} pix."
    if mesh_index is None:
        return f"Score: capacity {_fmt(capacity)} < {_fmt(iv[0].min)} (first min): 0 pix."
    m, x = v3.meshes[mesh_index], iv[mesh_index]
    return (
        f"Score: capacity {_fmt(capacity)} in [{_fmt(x.min)}, {_fmt(x.max)}) (mesh {mesh_index}, weight "
        f"{m.weight}, coefficient {m.coefficient}): floor({m.weight} × ({m.coefficient} + 1 − "
        f"({_fmt(x.max)} − {_fmt(capacity)}) / {_fmt(x.max - x.min)})), capped at {v3.score_cap} = {pix_score} pix."
    )


def _degrade(
    cert: Certification,
    rules: RuleSet,
    model: CapacityModel,
    structure: BankStructure,
    answered: Sequence[CertificationChallenge],
    answers: Sequence[_Answer],
    estimate: float,
    n_answers: int,
) -> tuple[Degradation, list[CapacityStep]]:
    """Pix's ``downgradeCapacity``: simulate the missing answers as SKIPPED on the best challenges.

    As in Pix, each step re-runs the EAP over all answers so far (the candidate's, then
    the simulated ones) starting from the *estimated* capacity, ranks the pool at that
    capacity and takes the best challenge (pick probability 100).
    """
    sel = rules.selection
    assert sel is not None
    n_items = structure.n_items
    excluded = np.zeros(n_items, dtype=bool)
    alerts = [c for c in cert.challenges if c.live_alert]
    alert_pos = structure.positions(c.challenge_id for c in alerts)
    excluded[alert_pos[alert_pos >= 0]] = True
    if structure.skill is not None and (alert_pos >= 0).any():
        excluded |= np.isin(structure.skill, structure.skill[alert_pos[alert_pos >= 0]])
    # the pool is every calibrated challenge of the version, whatever the candidate's
    # accessibility needs (Pix's scoring-v3.js: findFlashCompatibleWithoutLocale with
    # useObsoleteChallenges)
    state = SelectionState.start(
        structure, 1, recent=sel.challenges_between_same_competence, excluded=excluded
    )
    for c in answered:
        pos = structure.positions([c.challenge_id])
        tube = (
            structure.tube_codes([c.tube])
            if c.tube is not None
            else (structure.tube[pos] if pos[0] >= 0 else np.array([-1]))
        )
        skill = (
            structure.skill[pos] if structure.skill is not None and pos[0] >= 0 else np.array([-1])
        )
        state = state.record(
            item=pos,
            competence=structure.competence_codes([c.competence]),
            tube=tube,
            skill=skill,
            warm_up_length=sel.warm_up_length,
        )

    a = [x.a for x in answers]
    b = [x.b for x in answers]
    ok = [x.correct for x in answers]
    n_missing = sel.test_length - n_answers
    picked: list[str] = []
    steps: list[CapacityStep] = []
    for step in range(n_missing):
        current = model.history(a, b, ok, initial=estimate)
        theta = float(current.final_capacity)
        pool = candidate_pool(structure, state, sel)
        if not pool.any():
            raise ScoringError(
                f"degradation step {step + 1} of {n_missing}: no challenge of the bank is left by the selection "
                "rules (Pix's AssessmentLackOfChallengesError)"
            )
        rate = sel.minimum_success_rate_at(n_answers + step) if sel.minimum_success_rate else None
        ranked = rank_by_information(
            np.array([theta]), structure, pool, top_n=sel.top_n, minimum_success_rate=rate
        )
        best = int(ranked[0, 0])
        cid = str(structure.item_ids[best])
        picked.append(cid)
        a.append(float(structure.a[best]))
        b.append(float(structure.b[best]))
        ok.append(False)
        after: CapacityHistory = model.history(a, b, ok, initial=estimate)
        steps.append(
            CapacityStep(
                cid, False, float(after.capacity[-1]), float(after.error_rate[-1]), simulated=True
            )
        )
        skill_code = structure.skill[[best]] if structure.skill is not None else None
        state = state.record(
            item=np.array([best]),
            competence=structure.competence[[best]],
            tube=structure.tube[[best]],
            skill=skill_code,
            warm_up_length=sel.warm_up_length,
        )
    final = steps[-1].capacity if steps else estimate
    return (
        Degradation(
            n_simulated=n_missing,
            capacity_before=estimate,
            capacity_after=final,
            challenge_ids=tuple(picked),
        ),
        steps,
    )
