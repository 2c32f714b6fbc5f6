"""The result of scoring a certification and its JSON (:func:`pixirt.cat.score`)."""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from pixirt._json import from_dict, to_dict
from pixirt.cat._certification import Status, _check_keys
from pixirt.exceptions import DataError

if TYPE_CHECKING:
    from pixirt.rules import Action


def _package_version() -> str:
    try:
        from pixirt._version import __version__

        return str(__version__)
    except ImportError:  # pragma: no cover - only while pixirt/__init__.py is being edited
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("pixirt")
        except PackageNotFoundError:
            return "0.0.0+unknown"


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
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompetenceResult:
        """Inverse of :meth:`to_dict`."""
        return from_dict(cls, data)


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
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CapacityStep:
        """Inverse of :meth:`to_dict`."""
        return from_dict(cls, data)


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
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Degradation:
        """Inverse of :meth:`to_dict`."""
        return from_dict(cls, data)


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
        """JSON-safe form; :meth:`from_dict` gives back an equal result.

        The fields in order (the :mod:`pixirt._json` convention), the rule set as one
        ``"rules": {"id", "hash"}`` object.
        """
        out: dict[str, Any] = {}
        for key, value in to_dict(self, exclude=("rules_hash",)).items():
            if key == "rules_id":
                out["rules"] = {"id": self.rules_id, "hash": self.rules_hash}
            else:
                out[key] = value
        return out

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
        if not isinstance(rules, Mapping) or set(rules) != {"id", "hash"}:
            raise DataError(f"expected {{id, hash}}, got {rules!r}", field="rules")
        return from_dict(cls, {**d, "rules_id": rules["id"], "rules_hash": rules["hash"]})

    def to_json(self, **kwargs: Any) -> str:
        """JSON text of :meth:`to_dict` (keyword arguments go to :func:`json.dumps`)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False, **kwargs)

    @classmethod
    def from_json(cls, text: str) -> CertificationResult:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))
