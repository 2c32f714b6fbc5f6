"""The wire format: request (``*In``) and response (``*Out``) models of the HTTP service.

Request models are strict (a JSON string is not an integer, ``"true"`` is not a
boolean) and forbid unknown fields, so every malformed request is a 422 that names the
field. Response models list exactly what leaves the service: the engine's internals
(working state, selection ranks) never do.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from pixirt.cat import AbortReason, AnswerStatus

__all__ = [
    "AbortIn",
    "AnswerIn",
    "AnswerOut",
    "CandidateErasedOut",
    "CertificationChallengeIn",
    "CertificationIn",
    "ChallengeIn",
    "ChallengeOut",
    "EventOut",
    "HealthOut",
    "JuryOut",
    "Problem",
    "ProblemField",
    "ProfileIn",
    "ReadyOut",
    "ResultOut",
    "RuleSetOut",
    "RuleSetSummaryOut",
    "ScoreIn",
    "SessionCreatedOut",
    "SessionIn",
    "SessionListOut",
    "SessionOut",
    "SessionStatus",
    "SessionSummaryOut",
]

MAX_SEED = 2**63 - 1

Id = Annotated[str, Field(min_length=1, max_length=200)]
Key = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="Client-chosen key: a retry with the same key and body returns the stored reply.",
    ),
]


def _digits_to_int(value: Any) -> Any:
    # a 64-bit id may come as a JSON string (JavaScript numbers stop at 2**53)
    if isinstance(value, str):
        if not value.isascii() or not value.isdigit() or len(value) > 19:
            raise ValueError("expected a non-negative integer, as a number or a string of digits")
        return int(value)
    return value


#: A 63-bit integer sent as a JSON number or, beyond 2**53, as a string of digits.
BigInt = Annotated[int, BeforeValidator(_digits_to_int)]
#: A 63-bit integer as it leaves the service: a string of digits (exact in JavaScript).
BigIntOut = Annotated[
    str, Field(pattern=r"^[0-9]{1,19}$", description="A 63-bit integer as a string of digits.")
]
CompetenceCode = Annotated[str, Field(pattern=r"^[0-9]{1,2}\.[0-9]{1,2}$", max_length=5)]
SessionStatus = Literal["active", "finished", "aborted", "expired"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ================================================================ requests
class CompetenceProfileIn(_In):
    """One competence of a v2 positioning profile."""

    level: Annotated[int, Field(ge=0, le=8)]
    pix: Annotated[int, Field(ge=0, le=1_000)]
    skills: Annotated[list[Id], Field(max_length=500)] = []


class ProfileIn(_In):
    """A v2 positioning profile (:class:`pixirt.cat.Profile`)."""

    competences: Annotated[dict[CompetenceCode, CompetenceProfileIn], Field(max_length=64)]
    answered_challenges: Annotated[list[Id], Field(max_length=5_000)] = []


class SessionIn(_In):
    """Start a certification session."""

    rules: Annotated[Id, Field(description="Id of a rule set the service serves (GET /v1/rules).")]
    candidate_id: Annotated[
        Id, Field(description="The candidate (erasable with DELETE /v1/candidates/{id}).")
    ]
    candidate_index: Annotated[
        BigInt | None,
        Field(
            ge=0,
            le=MAX_SEED,
            description=(
                "Index keying the candidate's random draws; default: derived from candidate_id "
                "(first 63 bits of SHA-256 of 'pixirt.candidate:' + candidate_id). A number or a "
                "string of digits (beyond 2**53, JavaScript clients must send a string)."
            ),
        ),
    ] = None
    seed: Annotated[
        BigInt | None,
        Field(
            ge=0,
            le=MAX_SEED,
            description="Seed of the session's draws (number or string of digits); default: "
            "random (recorded).",
        ),
    ] = None
    time_limit_minutes: Annotated[
        float | None,
        Field(
            gt=0,
            le=7 * 24 * 60,
            description="This session's time limit (e.g. extra time); default: the service's.",
        ),
    ] = None
    profile: Annotated[ProfileIn | None, Field(description="v2 only: the positioning profile.")] = (
        None
    )
    accessibility: Annotated[
        bool, Field(description="Only challenges flagged accessible are served.")
    ] = False
    locale: Annotated[str | None, Field(min_length=2, max_length=35)] = None
    idempotency_key: Annotated[
        Key | None,
        Field(description="Scoped to the candidate: a retried start returns the same session."),
    ] = None


class AnswerIn(_In):
    """The answer to the challenge served."""

    challenge_id: Id
    status: AnswerStatus
    idempotency_key: Annotated[Key | None, Field(description="Scoped to the session.")] = None


class ChallengeIn(_In):
    """A challenge of the session (jury neutralization, live alert)."""

    challenge_id: Id


class AbortIn(_In):
    """End the session early."""

    reason: AbortReason


class CertificationChallengeIn(_In):
    """A challenge of a certification to score (:class:`pixirt.cat.CertificationChallenge`)."""

    challenge_id: Id
    competence: Annotated[str, Field(min_length=1, max_length=20)]
    tube: Annotated[str | None, Field(max_length=200)] = None
    type: Annotated[str | None, Field(max_length=200)] = None
    discriminant: Annotated[float | None, Field(gt=0, allow_inf_nan=False)] = None
    difficulty: Annotated[float | None, Field(allow_inf_nan=False)] = None
    neutralized: bool = False
    skipped_automatically: bool = False
    live_alert: bool = False
    status: AnswerStatus | None = None
    features: (
        Annotated[
            list[Literal["image", "embed", "attachment", "timed", "focus"]], Field(max_length=5)
        ]
        | None
    ) = None


class IssueReportIn(_In):
    """An issue report (:class:`pixirt.cat.IssueReport`)."""

    category: Annotated[str, Field(min_length=1, max_length=100)]
    subcategory: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    challenge_id: Id | None = None


class JuryEventIn(_In):
    """A jury decision (:class:`pixirt.cat.JuryEvent`)."""

    kind: Literal[
        "neutralize",
        "deneutralize",
        "reject_for_fraud",
        "unreject_for_fraud",
        "cancel",
        "uncancel",
        "rescore",
    ]
    challenge_id: Id | None = None


class PositionedCompetenceIn(_In):
    """A competence of a v2 placement profile for scoring."""

    level: Annotated[int, Field(ge=0, le=8)]
    pix: Annotated[int, Field(ge=0, le=1_000)]


class CertificationIn(_In):
    """A certification to score (:class:`pixirt.cat.Certification`)."""

    challenges: Annotated[list[CertificationChallengeIn], Field(max_length=500)]
    profile: Annotated[dict[CompetenceCode, PositionedCompetenceIn], Field(max_length=64)] = {}
    abort_reason: AbortReason | None = None
    fraud: bool = False
    cancelled: bool = False
    accessibility_adjustment: bool = False
    issue_reports: Annotated[list[IssueReportIn], Field(max_length=500)] = []
    jury_events: Annotated[list[JuryEventIn], Field(max_length=500)] = []
    clea_badge: bool = False
    id: Id | None = None


class ScoreIn(_In):
    """Score a certification statelessly with a served rule set (v3: the served bank)."""

    rules: Id
    certification: CertificationIn


# ================================================================ responses
class ChallengeOut(_Out):
    """The challenge to present to the candidate."""

    challenge_id: str
    competence: str
    tube: str | None
    skill: str | None
    step: Annotated[int, Field(description="0-based position of the challenge in the test.")]


class CompetenceResultOut(_Out):
    """A competence of the result (:class:`pixirt.cat.CompetenceResult`)."""

    competence: str
    level: int | None
    score: int
    rule: str
    positioned_level: int | None
    positioned_pix: int | None
    n_challenges: int | None
    n_correct: int | None
    n_neutralized: int | None
    table_row: int | None
    action: str | None
    blocked: bool


class CapacityStepOut(_Out):
    """The capacity after one answer (v3)."""

    challenge_id: str
    correct: bool
    capacity: float
    error_rate: float
    simulated: bool


class DegradationOut(_Out):
    """The score degradation of a test abandoned by the candidate (v3)."""

    n_simulated: int
    capacity_before: float
    capacity_after: float
    challenge_ids: list[str]


class RulesRefOut(_Out):
    """A rule set by id and content hash."""

    id: str
    hash: str


class ResultOut(_Out):
    """The scored certification (:meth:`pixirt.cat.CertificationResult.to_dict`)."""

    algorithm: Literal["v2", "v3"]
    status: Literal["validated", "rejected", "cancelled", "cancelled_by_jury"]
    comment: str | None
    pix_score: int | None
    competences: dict[str, CompetenceResultOut]
    reproducibility_rate: int | None
    trusted: bool | None
    capacity: float | None
    error_rate: float | None
    mesh_index: int | None
    global_level: str | None
    n_answers: int | None
    capacity_history: list[CapacityStepOut]
    degradation: DegradationOut | None
    trace: list[str]
    certification_id: str | None
    rules: RulesRefOut
    pixirt_version: str
    jury_review: bool = False
    clea: bool | None = None
    ban_months: int | None = None


class SessionCreatedOut(_Out):
    """A new session and its first challenge."""

    session_id: str
    challenge: ChallengeOut | None
    finished: bool
    algorithm: Literal["v2", "v3"]
    seed: BigIntOut
    candidate_index: BigIntOut
    rules: RulesRefOut
    bank_hash: str
    expires_at: Annotated[str, Field(description="ISO 8601, UTC.")]


class AnswerOut(_Out):
    """After an answer: the next challenge, or the result when the test is over."""

    session_id: str
    challenge: ChallengeOut | None
    finished: bool
    answered: Annotated[int, Field(description="Answers recorded so far.")]
    capacity: Annotated[float | None, Field(description="v3: the estimate after this answer.")]
    error_rate: float | None
    result: ResultOut | None = None


class EventOut(_Out):
    """One entry of a session's history."""

    seq: int
    at: Annotated[str, Field(description="ISO 8601, UTC.")]
    kind: Literal["start", "answer", "live_alert", "neutralize", "deneutralize", "abort"]
    challenge_id: str | None = None
    status: str | None = None
    reason: str | None = None


class SessionOut(_Out):
    """A session: where it stands and what happened."""

    session_id: str
    candidate_id: str
    candidate_index: BigIntOut
    algorithm: Literal["v2", "v3"]
    rules: RulesRefOut
    bank_hash: str
    seed: BigIntOut
    accessibility: bool
    locale: str | None
    status: SessionStatus
    created_at: str
    updated_at: str
    expires_at: str
    answered: int
    challenge: ChallengeOut | None
    capacity: float | None
    error_rate: float | None
    abort_reason: str | None
    neutralized: list[str]
    history: list[EventOut]


class SessionSummaryOut(_Out):
    """One session of a listing."""

    session_id: str
    candidate_id: str
    rules_id: str
    status: SessionStatus
    created_at: str
    updated_at: str
    expires_at: str


class SessionListOut(_Out):
    """A page of sessions, by id; ``next`` is the ``after`` of the next page (None: last)."""

    sessions: list[SessionSummaryOut]
    next: str | None


class JuryOut(_Out):
    """After a jury action, a live alert or an abort: the session's state and its result."""

    session_id: str
    status: SessionStatus
    neutralized: list[str]
    abort_reason: str | None
    challenge: ChallengeOut | None
    result: ResultOut | None


class RuleSetSummaryOut(_Out):
    """A served rule set."""

    id: str
    hash: str
    algorithm: Literal["v2", "v3"]
    status: str
    valid_from: str
    comment: str


class RuleSetOut(RuleSetSummaryOut):
    """A served rule set with its whole content (:meth:`pixirt.rules.RuleSet.to_dict`)."""

    content: dict[str, Any]


class CandidateErasedOut(_Out):
    """What an erasure removed."""

    candidate_id: str
    sessions_deleted: int


class HealthOut(_Out):
    """Liveness."""

    status: Literal["ok"]


class ReadyOut(_Out):
    """Readiness: bank, rule sets and store loaded."""

    status: Literal["ready", "not ready"]
    bank_hash: str | None
    rules: list[str]
    store: bool


class ProblemField(_Out):
    """One invalid field."""

    field: Annotated[
        str,
        Field(
            description="Dotted path of the field in the request ('body.profile.competences.1.1.level')."
        ),
    ]
    message: str
    type: str


class Problem(_Out):
    """Every error reply (``application/problem+json``, RFC 9457)."""

    type: Annotated[str, Field(description="A URI naming the kind of problem.")]
    title: str
    status: int
    detail: str
    code: Annotated[
        str, Field(description="Stable machine-readable code ('wrong_challenge', ...).")
    ]
    errors: list[ProblemField] = []
