"""Certification: Pix's v3 capacity estimator, selection rules and scoring (v2 and v3).

- :mod:`pixirt.cat.capacity`: the EAP capacity estimator of v3, vectorised over candidates;
- :mod:`pixirt.cat.selection`: the v3 candidate-pool rules and the ranking by information;
- :mod:`pixirt.cat.scoring`: :func:`score` a :class:`Certification` with a rule set into a
  :class:`CertificationResult` (v2 and v3, as Pix does it).
"""

from __future__ import annotations

from pixirt.cat.capacity import CapacityHistory, CapacityModel, CapacityState
from pixirt.cat.scoring import (
    CapacityStep,
    Certification,
    CertificationChallenge,
    CertificationResult,
    CompetenceResult,
    Degradation,
    PositionedCompetence,
    score,
)

__all__ = [
    "CapacityHistory",
    "CapacityModel",
    "CapacityState",
    "CapacityStep",
    "Certification",
    "CertificationChallenge",
    "CertificationResult",
    "CompetenceResult",
    "Degradation",
    "PositionedCompetence",
    "score",
]
