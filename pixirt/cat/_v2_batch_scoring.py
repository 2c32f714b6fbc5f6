"""v2 scoring of a batch of certifications as arrays (pix-rules.md §2.3).

Counts of the tested competences' challenges, the reproducibility rate (JavaScript's
``Math.round``), the trust check, the level table with its three rate bands, downgrades
and the blocking at ``max_reachable_level``, the outcome precedence, and every refusal
of Pix's scoring — an inconsistent profile, an unanswered challenge, a tested competence
without challenge, a combination missing from the table, and the sanity contract (a
score of 0 with a rate above the minimum) — as an ``error`` outcome with its reason
instead of an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from pixirt.cat._v2_tables import (
    ACTIONS,
    COMMENTS,
    OUTCOMES,
    BoolArray,
    ChallengeIds,
    IntArray,
    blocked,
    tested_competences,
)

if TYPE_CHECKING:
    from pixirt.rules import V2Scoring


# =========================================================================== scoring
@dataclass(frozen=True, slots=True, eq=False)
class V2Scores:
    """v2 scores of a batch (see :func:`score_batch`); row ``i`` is certification ``i``.

    Attributes
    ----------
    n_challenges, n_counted, n_correct
        ``(n,)`` challenges of the tested competences; those not neutralized and answered
        or skipped automatically; those not neutralized and correct.
    reproducibility_rate
        ``(n,)`` RR in percent.
    trusted
        ``(n,)`` enough challenges left after neutralization.
    needed
        ``(n,)`` ``ceil(trust_ratio · n_challenges)``.
    tested
        ``(n, n_competences)`` competences tested (level ≥ the minimum).
    counts
        ``(n, n_competences, 3)`` per competence: challenges, correct (capped), neutralized
        (a QROCM-dep counts twice in a competence with few challenges).
    table_row
        ``(n, n_competences)`` row of the level table, −1 when not looked up or missing.
    action
        ``(n, n_competences)`` :data:`ACTIONS` code, −1 when not tested.
    level, score
        ``(n, n_competences)`` certified level (−1 uncertified) and pix after blocking.
    blocked
        ``(n, n_competences)`` the level or pix was blocked at ``max_reachable_level``.
    pix_score
        ``(n,)`` sum of the competence scores.
    outcome
        ``(n,)`` :data:`OUTCOMES` code.
    comment
        ``(n,)`` :data:`COMMENTS` code, −1 for none.
    error
        ``(n,)`` object: why Pix's scoring refuses the certification (outcome ``error``),
        else None.
    """

    n_challenges: IntArray
    n_counted: IntArray
    n_correct: IntArray
    reproducibility_rate: IntArray
    trusted: BoolArray
    needed: IntArray
    tested: BoolArray
    counts: IntArray
    table_row: IntArray
    action: IntArray
    level: IntArray
    score: IntArray
    blocked: BoolArray
    pix_score: IntArray
    outcome: IntArray
    comment: IntArray
    error: npt.NDArray[np.object_]

    def outcome_names(self) -> npt.NDArray[np.object_]:
        """``(n,)`` outcome names."""
        return np.asarray(OUTCOMES, dtype=object)[self.outcome]

    def comment_names(self) -> npt.NDArray[np.object_]:
        """``(n,)`` comment keys; for ``error`` outcomes, the reason."""
        names = np.asarray((*COMMENTS, None), dtype=object)[self.comment]
        return np.where(self.outcome == OUTCOMES.index("error"), self.error, names)


def finalize(
    valid: npt.ArrayLike, answered: npt.ArrayLike, technical_abort: npt.ArrayLike
) -> tuple[BoolArray, BoolArray]:
    """What the session's finalization does to the challenges left unanswered.

    Pix's auto-jury completes an unfinished v2 test (``process-auto-jury.js``,
    ``_autoCompleteUnfinishedTest``): after an abort for a reason tied to the candidate
    the unanswered challenges are *skipped automatically* (counted wrong); after a
    technical abort they are *neutralized*.

    Parameters
    ----------
    valid, answered
        ``(n, width)``: the cell holds a planned challenge; it was answered.
    technical_abort
        ``(n,)``: the session ended on a technical abort.

    Returns
    -------
    tuple of numpy.ndarray
        ``(skipped_automatically, neutralized)``, ``(n, width)`` each.
    """
    left = np.asarray(valid, dtype=bool) & ~np.asarray(answered, dtype=bool)
    tech = np.asarray(technical_abort, dtype=bool).reshape(-1, 1)
    return left & ~tech, left & tech


def js_round(x: npt.NDArray[np.float64]) -> IntArray:
    """JavaScript's ``Math.round`` over an array: ``floor(x)`` + 1 when the fraction is ≥ 0.5."""
    f = np.floor(x)
    return np.asarray(f + ((x - f) >= 0.5), dtype=np.int64)


def _table(v2: V2Scoring) -> tuple[IntArray, IntArray]:
    """Lookup ``(challenges, correct, neutralized) → row`` (−1 missing) and each row's actions by band."""
    dims = [
        1 + max((getattr(r, k) for r in v2.table), default=0)
        for k in ("challenges", "correct", "neutralized")
    ]
    lookup = np.full(dims, -1, dtype=np.int64)
    for i, r in enumerate(v2.table):
        if lookup[r.key] < 0:
            lookup[r.key] = i
    actions = np.array(
        [
            [ACTIONS.index(x) for x in (r.rr_80_and_above, r.rr_70_to_80, r.rr_below_70)]
            for r in v2.table
        ],
        dtype=np.int64,
    ).reshape(len(v2.table), 3)
    return lookup, actions


def score_batch(
    v2: V2Scoring,
    *,
    level: npt.ArrayLike,
    pix: npt.ArrayLike,
    competence: npt.ArrayLike,
    valid: npt.ArrayLike,
    answered: npt.ArrayLike,
    correct: npt.ArrayLike,
    neutralized: npt.ArrayLike,
    skipped_automatically: npt.ArrayLike,
    qrocm_dep: npt.ArrayLike,
    fraud: npt.ArrayLike,
    cancelled: npt.ArrayLike,
    technical_abort: npt.ArrayLike,
    competences: Sequence[str] = (),
    challenge_ids: ChallengeIds | None = None,
) -> V2Scores:
    """Score a batch of v2 certifications (``pix-rules.md`` §2.3).

    Parameters
    ----------
    v2
        The rule set's ``[scoring.v2]``.
    level, pix
        ``(n, n_competences)`` the placement profiles (level 0 for a competence absent
        from a profile).
    competence
        ``(n, width)`` column of each challenge's competence (−1: not in the profile, the
        challenge is ignored).
    valid
        ``(n, width)``: the cell holds a challenge (rows are left-aligned).
    answered, correct, neutralized, skipped_automatically, qrocm_dep
        ``(n, width)`` per challenge: an answer is recorded; it is ``ok``; the jury
        neutralized it; it was skipped automatically; its type is ``QROCM-dep``.
    fraud, cancelled, technical_abort
        ``(n,)`` jury decisions and a technical abort.
    competences
        Competence codes of the columns (only for the error messages).
    challenge_ids
        Per row, the challenge ids of the cells (only for the error messages).

    Returns
    -------
    V2Scores
        Every count, rule and outcome; refusals of Pix's scoring are ``error`` outcomes.
    """
    given = np.asarray(level, dtype=np.int64)
    n, n_given = given.reshape(len(given), -1).shape
    # one more column, never tested, for the challenges of competences not in the profile
    lv = np.zeros((n, n_given + 1), dtype=np.int64)
    px = np.zeros((n, n_given + 1), dtype=np.int64)
    lv[:, :n_given] = given.reshape(n, n_given)
    px[:, :n_given] = np.asarray(pix, dtype=np.int64).reshape(n, n_given)
    n_comp = n_given + 1
    comp = np.asarray(competence, dtype=np.int64).reshape(n, -1)
    tested = tested_competences(v2, lv)
    tested[:, n_given] = False
    rows = np.arange(n)[:, None]
    inside = np.asarray(valid, dtype=bool).reshape(comp.shape) & (comp >= 0) & (comp < n_given)
    cc = np.where(inside, comp, n_given)
    on = inside & tested[rows, cc]
    ans = np.asarray(answered, dtype=bool) & on
    ok = np.asarray(correct, dtype=bool) & on
    neu = np.asarray(neutralized, dtype=bool) & on
    skip = np.asarray(skipped_automatically, dtype=bool) & on
    # global counts and the reproducibility rate
    n_challenges = on.sum(axis=1)
    n_counted = (on & ~neu & (ans | skip)).sum(axis=1)
    n_correct = (ok & ~neu).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = np.where(n_counted > 0, js_round((n_correct / np.maximum(n_counted, 1)) * 100), 0)
    needed = np.ceil(v2.trust_ratio * n_challenges).astype(np.int64)
    trusted = n_counted >= needed
    # per competence: counts with QROCM-dep doubling in small competences, capped correct
    n_ch, n_ok, n_neu = _competence_counts(v2, on, ok, neu, qrocm_dep, cc, n_comp)
    counts = np.stack([n_ch, n_ok, n_neu], axis=2)
    # the level table, by RR band
    thr = v2.reproducibility
    certified = rr >= thr.minimum_to_be_certified
    looked_up = tested & certified[:, None]
    table_row, action = _table_actions(v2, n_ch, n_ok, n_neu, rr, looked_up, tested)
    has_row = table_row >= 0
    level_out, score_out, was_blocked = _levels(v2, action, tested, lv, px)
    pix_score = score_out.sum(axis=1)
    # outcomes, in Pix's order
    outcome, comment = _outcomes(fraud, cancelled, technical_abort, certified, trusted, pix_score)
    # refusals of Pix's scoring, first one wins
    inconsistent = tested & (px // v2.pix_per_level != lv)
    missing = on & ~(neu | skip | ans)
    no_challenge = looked_up & (n_ch == 0)
    no_rule = looked_up & (n_ch > 0) & ~has_row
    sanity = (pix_score < 1) & (rr > thr.minimum_to_be_certified)
    refused = inconsistent.any(axis=1) | missing.any(axis=1)
    refused |= (no_challenge | no_rule).any(axis=1) | sanity
    error = np.full(n, None, dtype=object)
    codes = list(competences) or [str(k) for k in range(n_comp)]
    for i in np.flatnonzero(refused).tolist():  # refused certifications only: words for each
        error[i] = _refusal(
            v2, i, codes, lv, px, inconsistent, missing, no_challenge, no_rule, counts, rr,
            challenge_ids,
        )  # fmt: skip
    outcome[refused] = OUTCOMES.index("error")
    comment[refused] = -1
    return V2Scores(
        n_challenges=n_challenges.astype(np.int64),
        n_counted=n_counted.astype(np.int64),
        n_correct=n_correct.astype(np.int64),
        reproducibility_rate=np.asarray(rr, dtype=np.int64),
        trusted=np.asarray(trusted, dtype=bool),
        needed=needed,
        tested=tested[:, :n_given],
        counts=counts[:, :n_given],
        table_row=np.asarray(table_row, dtype=np.int64)[:, :n_given],
        action=np.asarray(action, dtype=np.int64)[:, :n_given],
        level=np.asarray(level_out, dtype=np.int64)[:, :n_given],
        score=np.asarray(score_out, dtype=np.int64)[:, :n_given],
        blocked=np.asarray(was_blocked, dtype=bool)[:, :n_given],
        pix_score=np.asarray(pix_score, dtype=np.int64),
        outcome=outcome,
        comment=comment,
        error=error,
    )


def _competence_counts(
    v2: V2Scoring,
    on: BoolArray,
    ok: BoolArray,
    neu: BoolArray,
    qrocm_dep: npt.ArrayLike,
    cc: IntArray,
    n_comp: int,
) -> tuple[IntArray, IntArray, IntArray]:
    """Per competence: challenges, correct (capped) and neutralized, QROCM-dep doubled in small ones."""
    n = len(on)
    rows = np.arange(n)[:, None]
    per = v2.challenges_per_competence
    flat = (rows * n_comp + cc)[on]
    plain = np.bincount(flat, minlength=n * n_comp).reshape(n, n_comp)
    small = (plain < per)[rows, cc]
    w = np.where(small & np.asarray(qrocm_dep, dtype=bool), 2, 1)

    def per_comp(mask: BoolArray) -> IntArray:
        idx = (rows * n_comp + cc)[mask & on]
        weights = np.broadcast_to(w, mask.shape)[mask & on]
        out = np.bincount(idx, weights=weights, minlength=n * n_comp)
        return np.asarray(out, dtype=np.int64).reshape(n, n_comp)

    n_ch = per_comp(on)
    n_ok = np.minimum(per_comp(ok & ~neu), per)
    n_neu = per_comp(neu)
    return n_ch, n_ok, n_neu


def _table_actions(
    v2: V2Scoring,
    n_ch: IntArray,
    n_ok: IntArray,
    n_neu: IntArray,
    rr: IntArray,
    looked_up: BoolArray,
    tested: BoolArray,
) -> tuple[IntArray, IntArray]:
    """Each competence's row of the level table (−1: none) and its action in the RR's band."""
    lookup, actions = _table(v2)
    fits = (n_ch < lookup.shape[0]) & (n_ok < lookup.shape[1]) & (n_neu < lookup.shape[2])
    table_row = np.where(
        fits,
        lookup[
            np.minimum(n_ch, lookup.shape[0] - 1),
            np.minimum(n_ok, lookup.shape[1] - 1),
            np.minimum(n_neu, lookup.shape[2] - 1),
        ],
        -1,
    )
    thr = v2.reproducibility
    band = np.where(
        rr >= thr.minimum_to_be_trusted, 0, np.where(rr >= thr.middle_band_minimum, 1, 2)
    )
    table_row = np.where(looked_up, table_row, -1)
    has_row = table_row >= 0
    action = np.where(
        has_row, actions[np.maximum(table_row, 0), band[:, None]] if len(actions) else 2, 2
    )
    action = np.where(tested, action, -1)
    return table_row, action


def _levels(
    v2: V2Scoring, action: IntArray, tested: BoolArray, lv: IntArray, px: IntArray
) -> tuple[IntArray, IntArray, BoolArray]:
    """Each competence's level and score after its action, blocked at the maximum reachable."""
    level_out = np.where(action == 0, lv, np.where(action == 1, lv - 1, -1))
    pix_out = np.where(action == 0, px, np.where(action == 1, px - v2.pix_per_level, 0))
    blocked_level, blocked_pix = blocked(v2, level_out, pix_out)
    was_blocked = tested & ((blocked_level != level_out) | (blocked_pix != pix_out))
    level_out = np.where(tested, blocked_level, -1)
    score_out = np.where(tested, blocked_pix, 0)
    return level_out, score_out, was_blocked


def _outcomes(
    fraud: npt.ArrayLike,
    cancelled: npt.ArrayLike,
    technical_abort: npt.ArrayLike,
    certified: BoolArray,
    trusted: BoolArray,
    pix_score: IntArray,
) -> tuple[IntArray, IntArray]:
    """Each certification's outcome and comment (indices), the first rule in Pix's order."""
    n = len(pix_score)
    outcome = np.zeros(n, dtype=np.int64)
    comment = np.full(n, -1, dtype=np.int64)
    fr = np.asarray(fraud, dtype=bool)
    ca = np.asarray(cancelled, dtype=bool)
    te = np.asarray(technical_abort, dtype=bool)
    below = ~certified
    steps = [
        (ca, 2, -1),
        (fr, 1, 0),
        (~trusted, 2, 1),
        (te & below, 2, 2),
        (below, 1, 3),
        (pix_score == 0, 1, -1),
    ]
    done = np.zeros(n, dtype=bool)
    for cond, out, com in steps:
        hit = cond & ~done
        outcome[hit] = out
        comment[hit] = com
        done |= hit
    return outcome, comment


def _refusal(
    v2: V2Scoring,
    i: int,
    codes: Sequence[str],
    lv: IntArray,
    px: IntArray,
    inconsistent: BoolArray,
    missing: BoolArray,
    no_challenge: BoolArray,
    no_rule: BoolArray,
    counts: IntArray,
    rr: IntArray,
    challenge_ids: ChallengeIds | None,
) -> str:
    """Why Pix's scoring refuses certification ``i`` (the first refusal in Pix's order)."""
    if inconsistent[i].any():
        k = int(np.flatnonzero(inconsistent[i])[0])
        return (
            f"profile competence {codes[k]}: level {int(lv[i, k])} with {int(px[i, k])} pix is "
            f"inconsistent (the level is pix // {v2.pix_per_level})"
        )
    if missing[i].any():
        cells = np.flatnonzero(missing[i]).tolist()
        ids = challenge_ids[i] if challenge_ids is not None else None
        names = [str(ids[j]) if ids is not None else f"#{j}" for j in cells]
        return (
            "v2 needs an answer for every challenge neither neutralized nor skipped "
            f"automatically; unanswered: {', '.join(names)}"
        )
    for k in range(len(codes)):
        if no_challenge[i, k]:
            return (
                f"competence {codes[k]} is tested but has no challenge (Pix's "
                "CertificationComputeError)"
            )
        if no_rule[i, k]:
            c = counts[i, k]
            return (
                f"missing level rule for competence {codes[k]}: {int(c[0])} challenges, "
                f"{int(c[1])} correct, {int(c[2])} neutralized is not in [scoring.v2.table] "
                "(Pix's MissingCertifiedLevelRuleError)"
            )
    return (
        f"the score is 0 with RR {int(rr[i])} > {v2.reproducibility.minimum_to_be_certified}: "
        "Pix refuses to score this certification (CertificationContract: 'Rejeté avec un "
        "taux de reproductibilité supérieur à 50')"
    )
