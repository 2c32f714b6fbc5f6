"""Certification: Pix's engine (v2 and v3), its capacity estimator and scoring, and a generic CAT.

- the certification as a pure, resumable step function — :func:`start`,
  :func:`next_challenge`, :func:`record`, :func:`result`, plus :func:`flag_live_alert`,
  :func:`abort` and the jury's :func:`neutralize` / :func:`deneutralize` — over a
  JSON-serializable :class:`CatState`;
- :class:`CapacityModel`: the EAP capacity estimator of v3, vectorised over candidates;
- :class:`BankStructure`, :class:`SelectionState`, :func:`candidate_pool`,
  :func:`rank_by_information` and :func:`pick_rank`: the v3 candidate-pool rules, the
  ranking by information and Pix's pick, the building blocks of a v3 step;
- :func:`score` a :class:`Certification` with a rule set into a
  :class:`CertificationResult` (v2 and v3, as Pix does it), with the rules that fired in words;
- :class:`AdaptiveTest` with pluggable selectors, estimators and stopping rules: a generic
  CAT for non-Pix tests, each plug-in checkable with :mod:`pixirt.testing`.

The implementation modules are private: the v3 sessions stepped together
(``_batch.SessionBatch``: a session of the engine is a batch of one, the simulator steps
chunks of thousands), the fast ranking (``_ranking``: shortlists proven exact, optional
numba kernels), the classic v2 certification over arrays (``_v2_plan``,
``_v2_batch_scoring``) and the v3 score scale (``_scale``).

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

from pixirt.cat._adaptive import AdaptiveState, AdaptiveTest, sympson_hetter_parameters
from pixirt.cat._capacity import CapacityHistory, CapacityModel, CapacityState
from pixirt.cat._certification import (
    ABORT_REASONS,
    ANSWER_STATUSES,
    AbortReason,
    AnswerStatus,
    Certification,
    CertificationChallenge,
    PositionedCompetence,
)
from pixirt.cat._engine import (
    abort,
    build_runtime,
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
from pixirt.cat._incidents import IssueReport
from pixirt.cat._jury import JuryEvent
from pixirt.cat._profile import CompetenceProfile, Profile
from pixirt.cat._result import CapacityStep, CertificationResult, CompetenceResult, Degradation
from pixirt.cat._score_entry import score
from pixirt.cat._selection import (
    BankStructure,
    SelectionState,
    candidate_pool,
    pick_rank,
    rank_by_information,
)
from pixirt.cat._stages import (
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
from pixirt.cat._state import Candidate, CatState, ChallengeChoice

__all__ = [
    "ABORT_REASONS",
    "ANSWER_STATUSES",
    "EAP",
    "MAP",
    "MLE",
    "AStratified",
    "AbortReason",
    "AdaptiveState",
    "AdaptiveTest",
    "AnswerStatus",
    "BankStructure",
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
    "SelectionState",
    "Selector",
    "Stopper",
    "SympsonHetter",
    "abort",
    "build_runtime",
    "candidate_pool",
    "certification",
    "deneutralize",
    "flag_live_alert",
    "neutralize",
    "next_challenge",
    "pick_rank",
    "rank_by_information",
    "record",
    "report_issue",
    "result",
    "score",
    "start",
    "sympson_hetter_parameters",
]
