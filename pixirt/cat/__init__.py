"""Certification: Pix's engine (v2 and v3), its capacity estimator and scoring, and a generic CAT.

- :mod:`pixirt.cat.engine`: the certification as a pure, resumable step function —
  :func:`start`, :func:`next_challenge`, :func:`record`, :func:`result`, plus
  :func:`flag_live_alert`, :func:`abort` and the jury's :func:`neutralize` /
  :func:`deneutralize` — over a JSON-serializable :class:`CatState`;
- :mod:`pixirt.cat.capacity`: the EAP capacity estimator of v3, vectorised over candidates;
- :mod:`pixirt.cat.selection`: the v3 candidate-pool rules and the ranking by information;
- :mod:`pixirt.cat.ranking`: the same ranking, fast (shortlists proven exact, optional
  numba kernels);
- :mod:`pixirt.cat.batch`: v3 sessions stepped together (:class:`~pixirt.cat.batch.SessionBatch`;
  a session of the engine is a batch of one, the simulator steps chunks of thousands);
- :mod:`pixirt.cat.v2`: the classic certification over arrays (planning, scoring);
- :mod:`pixirt.cat.scale`: the v3 score scale and outcomes over arrays;
- :mod:`pixirt.cat.scoring`: :func:`score` a :class:`Certification` with a rule set into a
  :class:`CertificationResult` (v2 and v3, as Pix does it), with the rules that fired in words;
- :mod:`pixirt.cat.stages` and :mod:`pixirt.cat.adaptive`: a generic CAT for non-Pix
  tests (:class:`AdaptiveTest` with pluggable selectors, estimators, stopping rules),
  each plug-in checkable with :mod:`pixirt.testing`.

Examples
--------
>>> from pixirt import rules
>>> from pixirt.cat import Candidate, next_challenge, record, start
>>> from pixirt.simulation import pix_like_bank
>>> state = start(pix_like_bank(0), rules.load("pix-v3"), candidate=Candidate("c1", 1), seed=7)
>>> choice = next_challenge(state)
>>> state = record(state, choice.challenge_id, "ok")
>>> state.n_answers
1
"""

from __future__ import annotations

from pixirt.cat.adaptive import AdaptiveState, AdaptiveTest, sympson_hetter_parameters
from pixirt.cat.capacity import CapacityHistory, CapacityModel, CapacityState
from pixirt.cat.engine import (
    abort,
    certification,
    deneutralize,
    flag_live_alert,
    neutralize,
    next_challenge,
    record,
    report_issue,
    result,
    start,
)
from pixirt.cat.incidents import IssueReport
from pixirt.cat.jury import JuryEvent
from pixirt.cat.profile import CompetenceProfile, Profile
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
from pixirt.cat.stages import (
    EAP,
    MAP,
    MLE,
    AStratified,
    CatContext,
    Estimate,
    Estimator,
    FixedStart,
    Initializer,
    MaxInformation,
    MaxLength,
    MinStandardError,
    Randomesque,
    RandomStart,
    Selector,
    Stopper,
    SympsonHetter,
)
from pixirt.cat.state import Candidate, CatState, ChallengeChoice

__all__ = [
    "EAP",
    "MAP",
    "MLE",
    "AStratified",
    "AdaptiveState",
    "AdaptiveTest",
    "Candidate",
    "CapacityHistory",
    "CapacityModel",
    "CapacityState",
    "CapacityStep",
    "CatContext",
    "CatState",
    "Certification",
    "CertificationChallenge",
    "CertificationResult",
    "ChallengeChoice",
    "CompetenceProfile",
    "CompetenceResult",
    "Degradation",
    "Estimate",
    "Estimator",
    "FixedStart",
    "Initializer",
    "IssueReport",
    "JuryEvent",
    "MaxInformation",
    "MaxLength",
    "MinStandardError",
    "PositionedCompetence",
    "Profile",
    "RandomStart",
    "Randomesque",
    "Selector",
    "Stopper",
    "SympsonHetter",
    "abort",
    "certification",
    "deneutralize",
    "flag_live_alert",
    "neutralize",
    "next_challenge",
    "record",
    "report_issue",
    "result",
    "score",
    "start",
    "sympson_hetter_parameters",
]
