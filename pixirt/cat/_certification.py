"""The certification to score: its challenges, answers, flags and their JSON (:func:`pixirt.cat.score`)."""

from __future__ import annotations

import json
import math
import os
import re
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from pixirt._json import from_dict, to_dict
from pixirt.cat._incidents import FEATURES, IssueReport
from pixirt.cat._jury import JuryEvent
from pixirt.exceptions import DataError

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

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form ``{"level": ..., "pix": ...}``."""
        return to_dict(self)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, path: str | None = None, where: str = ""
    ) -> PositionedCompetence:
        """Build from ``{"level": 4, "pix": 37}``, naming the field of any error."""
        return from_dict(cls, data, path=path, where=where)


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
        return to_dict(self)

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
        The session's issue reports (:class:`pixirt.cat.IssueReport` or
        mappings), resolved by the rule set's incident policy before scoring.
    jury_events
        The jury's decisions (:class:`pixirt.cat.JuryEvent` or mappings), replayed in
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
