"""v3 scoring with its explanation in words (pix-rules.md §3)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, cast

import numpy as np

from pixirt.cat import _scale as scale
from pixirt.cat._capacity import CapacityModel
from pixirt.cat._certification import Certification, CertificationChallenge, Status
from pixirt.cat._degradation import _Answer, _degrade
from pixirt.cat._result import (
    CapacityStep,
    CertificationResult,
    CompetenceResult,
    Degradation,
    _package_version,
)
from pixirt.cat._selection import BankStructure
from pixirt.exceptions import ScoringError

if TYPE_CHECKING:
    from pixirt._item_bank import ItemBank
    from pixirt.rules import RuleSet, V3Scoring


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

    answered = _counted_answers(cert, rules, trace)
    n_answers = len(answered)
    kept = answered  # v3 scoring does not read neutralization (Pix)
    answers = [
        _Answer(c.challenge_id, *_calibration(c, structure), correct=c.correct) for c in kept
    ]
    steps, estimate, error_rate = _capacity_history(model, answers, trace)
    capacity, degradation = _degraded_capacity(
        cert, rules, model, structure, answered, answers, estimate, steps, trace
    )

    pix_score = pix_score_from_capacity(capacity, v3)
    mesh_index = mesh_index_from_capacity(capacity, v3)
    score_mesh = mesh_from_score(pix_score, v3)
    trace.append(_score_sentence(capacity, pix_score, mesh_index, v3))
    trace.append(
        f"Global level: {v3.meshes[score_mesh].name} (mesh {score_mesh} reached by {pix_score} pix"
        + (f", at most {v3.max_reachable_level}" if score_mesh == v3.max_reachable_level else "")
        + ")."
    )

    marks = _competence_marks(capacity, v3)
    status, comment, scored, marks = _outcome(
        cert, v3, capacity, n_answers, pix_score, marks, trace
    )
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


def _counted_answers(
    cert: Certification, rules: RuleSet, trace: list[str]
) -> list[CertificationChallenge]:
    """The answers counted (live alerts removed, unanswered ignored), in words in ``trace``."""
    v3 = rules.v3
    sel = rules.selection
    assert sel is not None  # guaranteed by the rule-set validation
    alerts = [c for c in cert.challenges if c.live_alert]
    answered = [
        c for c in cert.challenges if not c.live_alert and (c.answered or c.skipped_automatically)
    ]
    neutralized = [c for c in answered if c.neutralized]
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
    trace.append(
        f"Answers counted: {len(answered)} (minimum {v3.minimum_answers}, test length {sel.test_length})."
    )
    return answered


def _capacity_history(
    model: CapacityModel, answers: list[_Answer], trace: list[str]
) -> tuple[list[CapacityStep], float, float]:
    """The EAP over the answers: its steps, the estimate and its error rate, in words."""
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
    return steps, estimate, error_rate


def _degraded_capacity(
    cert: Certification,
    rules: RuleSet,
    model: CapacityModel,
    structure: BankStructure | None,
    answered: list[CertificationChallenge],
    answers: list[_Answer],
    estimate: float,
    steps: list[CapacityStep],
    trace: list[str],
) -> tuple[float, Degradation | None]:
    """The capacity scored: degraded after an abandon if the rules say so (steps added to ``steps``)."""
    v3 = rules.v3
    sel = rules.selection
    assert sel is not None  # guaranteed by the rule-set validation
    n_answers = len(answered)
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
    return capacity, degradation


def _competence_marks(capacity: float, v3: V3Scoring) -> dict[str, CompetenceResult]:
    """Each competence's level: the first of its intervals holding the capacity."""
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
    return marks


def _outcome(
    cert: Certification,
    v3: V3Scoring,
    capacity: float,
    n_answers: int,
    pix_score: int,
    marks: dict[str, CompetenceResult],
    trace: list[str],
) -> tuple[Status, str | None, bool, dict[str, CompetenceResult]]:
    """The outcome (status, comment, whether scored) and the marks it keeps, in words."""
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
    return status, comment, scored, marks


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
