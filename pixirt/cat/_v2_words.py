"""v2 scoring with its explanation in words (pix-rules.md §2.3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from pixirt.cat import _v2_batch_scoring, _v2_tables
from pixirt.cat._certification import QROCM_DEP, Certification, Status
from pixirt.cat._result import CertificationResult, CompetenceResult, _package_version
from pixirt.exceptions import ScoringError

if TYPE_CHECKING:
    from pixirt.cat._v2_batch_scoring import V2Scores
    from pixirt.rules import Action, RuleSet, V2Scoring


# =========================================================================== v2
def _band(rr: int, v2: V2Scoring) -> tuple[str, str]:
    r = v2.reproducibility
    if rr >= r.minimum_to_be_trusted:
        return "rr_80_and_above", f"RR ≥ {r.minimum_to_be_trusted}"
    if rr >= r.middle_band_minimum:
        return "rr_70_to_80", f"{r.middle_band_minimum} ≤ RR < {r.minimum_to_be_trusted}"
    return "rr_below_70", f"RR < {r.middle_band_minimum}"


def _score_v2(cert: Certification, rules: RuleSet) -> CertificationResult:
    """Score one v2 certification: :func:`pixirt.cat._v2_batch_scoring.score_batch` on a batch of one, in words."""
    v2 = rules.v2
    codes = list(cert.profile)
    col = {code: k for k, code in enumerate(codes)}
    scores = _batch_of_one(cert, v2, codes, col)
    tested = [code for code in codes if scores.tested[0, col[code]]]
    trace: list[str] = [f"Scored with rule set {rules.id} (algorithm v2, hash {rules.hash[:12]})."]
    trace.extend(_tested_sentences(cert, v2, codes, tested))
    n_counted = int(scores.n_counted[0])
    rr = int(scores.reproducibility_rate[0])
    needed = int(scores.needed[0])
    trusted = bool(scores.trusted[0])
    trace.extend(_rate_and_trust_sentences(scores, v2))
    marks = _competence_marks(cert, v2, scores, tested, col, trace)
    pix_score = int(scores.pix_score[0])
    status = cast("Status", _v2_tables.OUTCOMES[int(scores.outcome[0])])
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


def _batch_of_one(
    cert: Certification, v2: V2Scoring, codes: list[str], col: dict[str, int]
) -> V2Scores:
    """:func:`pixirt.cat._v2_batch_scoring.score_batch` on the certification alone (a ScoringError if refused)."""
    ch = list(cert.challenges)
    scores = _v2_batch_scoring.score_batch(
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
    return scores


def _tested_sentences(
    cert: Certification, v2: V2Scoring, codes: list[str], tested: list[str]
) -> list[str]:
    """The tested competences, the challenges ignored and the live alerts, in words."""
    ch = list(cert.challenges)
    untested = [code for code in codes if code not in tested]
    trace = [
        f"Tested competences (positioned level ≥ {v2.minimum_competence_level}): "
        + (", ".join(tested) if tested else "none")
        + (f"; not tested: {', '.join(untested)}" if untested else "")
        + "."
    ]
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
    return trace


def _rate_and_trust_sentences(scores: V2Scores, v2: V2Scoring) -> list[str]:
    """The reproducibility rate and the trust in the test, in words."""
    n_challenges = int(scores.n_challenges[0])
    n_counted = int(scores.n_counted[0])
    n_correct = int(scores.n_correct[0])
    rr = int(scores.reproducibility_rate[0])
    needed = int(scores.needed[0])
    trusted = bool(scores.trusted[0])
    return [
        f"Reproducibility rate: {n_correct} correct of {n_counted} non-neutralized answered challenges"
        + (
            f" = {n_correct / n_counted * 100:.2f} %, rounded half up to {rr} %."
            if n_counted
            else ": RR = 0."
        ),
        f"Trust: {n_counted} of {n_challenges} challenges are non-neutralized and answered or skipped; "
        f"at least ceil({v2.trust_ratio} × {n_challenges}) = {needed} are needed: "
        + ("trusted." if trusted else "NOT trusted (too many neutralized)."),
    ]


def _competence_marks(
    cert: Certification,
    v2: V2Scoring,
    scores: V2Scores,
    tested: list[str],
    col: dict[str, int],
    trace: list[str],
) -> dict[str, CompetenceResult]:
    """Each tested competence's level and score (uncertified below the minimum RR), in ``trace``."""
    rr = int(scores.reproducibility_rate[0])
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
        return marks
    _, band_text = _band(rr, v2)
    trace.append(
        f"RR {rr} ≥ {r.minimum_to_be_certified}: each competence is rated with the level table, band {band_text}."
    )
    for code in tested:
        marks[code] = _rated_mark(cert, v2, scores, code, col[code], band_text)
    return marks


def _rated_mark(
    cert: Certification, v2: V2Scoring, scores: V2Scores, code: str, k: int, band_text: str
) -> CompetenceResult:
    """One competence rated with the level table: its row, action and blocking, in words."""
    rr = int(scores.reproducibility_rate[0])
    max_pix = v2.max_reachable_level * v2.pix_per_level
    p = cert.profile[code]
    counts = tuple(int(x) for x in scores.counts[0, k])
    row_index = int(scores.table_row[0, k])
    action = cast("Action", _v2_tables.ACTIONS[int(scores.action[0, k])])
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
    return CompetenceResult(
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
