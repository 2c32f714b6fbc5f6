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

from pixirt.cat._certification import (
    ABORT_REASONS,
    ANSWER_STATUSES,
    AbortReason,
    AnswerStatus,
    Certification,
    CertificationChallenge,
    PositionedCompetence,
    js_round,
)
from pixirt.cat._certification import QROCM_DEP as QROCM_DEP
from pixirt.cat._certification import Status as Status
from pixirt.cat._certification import _bool as _bool
from pixirt.cat._result import CapacityStep, CertificationResult, CompetenceResult, Degradation
from pixirt.cat._score_entry import score
from pixirt.cat._v2_words import _score_v2 as _score_v2
from pixirt.cat._v3_words import (
    competence_level,
    mesh_from_score,
    mesh_index_from_capacity,
    pix_score_from_capacity,
)

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
