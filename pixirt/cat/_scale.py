"""The v3 score scale and outcomes over arrays of candidates (``pix-rules.md`` §3.4).

Each rule once: :func:`pixirt.cat.score` applies them to one certification (a
batch of one) and puts them into words; the simulator applies them to a chunk.

- :func:`mesh_indices`: the global interval holding each capacity (Pix's
  ``reachedMeshIndex``; −1 below the first interval);
- :func:`pix_scores`: the global score, with the ``mesh`` formula or the 2023 one;
- :func:`meshes_from_scores`: the mesh a score reaches (``findMeshFromScore``);
- :func:`competence_levels`: a competence's level (first matching interval in file
  order, the extreme intervals extended to ±∞; −1 when none matches);
- :func:`outcomes`: the outcome precedence — jury cancellation, fraud, too few answers
  (cancelled after a technical abort, rejected otherwise), ``reject_when``, validated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from pixirt.rules import V3Scoring

__all__ = [
    "OUTCOMES",
    "V3Outcomes",
    "competence_level_table",
    "competence_levels",
    "mesh_indices",
    "meshes_from_scores",
    "outcomes",
    "pix_scores",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Outcomes by code (:attr:`V3Outcomes.outcome`).
OUTCOMES: tuple[str, ...] = ("validated", "rejected", "cancelled", "cancelled_by_jury")
#: Automatic comments by code (:attr:`V3Outcomes.comment`; −1: none).
COMMENTS: tuple[str, ...] = (
    "FRAUD",
    "CANCELLED_DUE_TO_LACK_OF_ANSWERS_FOR_TECHNICAL_REASON",
    "REJECTED_DUE_TO_LACK_OF_ANSWERS",
    "REJECTED_DUE_TO_ZERO_PIX_SCORE",
    "CANCELLED_BY_JURY",
)
#: Which rule gave the outcome (:attr:`V3Outcomes.rule`).
RULES: tuple[str, ...] = (
    "validated",
    "cancelled",
    "fraud",
    "too_few_answers",
    "zero_score",
    "below_minimum_mesh",
)


def _bounds(v3: V3Scoring) -> tuple[FloatArray, FloatArray]:
    return (
        np.array([x.min for x in v3.intervals], dtype=np.float64),
        np.array([x.max for x in v3.intervals], dtype=np.float64),
    )


def mesh_indices(capacity: npt.ArrayLike, v3: V3Scoring) -> IntArray:
    """Index of the global interval holding each capacity (−1 below the first one's min).

    The first ``k`` with ``min ≤ c < max``; the last index above the last max.
    """
    c = np.asarray(capacity, dtype=np.float64)
    mins, maxs = _bounds(v3)
    inside = (mins <= c[..., None]) & (c[..., None] < maxs)
    k = np.where(inside.any(axis=-1), np.argmax(inside, axis=-1), len(mins) - 1)
    return np.asarray(np.where(c < mins[0], -1, k), dtype=np.int64)


def pix_scores(capacity: npt.ArrayLike, v3: V3Scoring) -> IntArray:
    """The global pix score of each capacity.

    ``mesh``: 0 below the first min, ``score_cap`` at or above the last max, else
    ``min(cap, floor(w_k (coef_k + 1 − (max_k − c) / (max_k − min_k))))``.
    ``linear_2023``: the capacity clamped to the bounds, ``h (k + 1 + (c − max_k) /
    width_k)`` with ``k`` the first interval with ``min ≤ c ≤ max``, capped, rounded half
    up (JavaScript's ``Math.round``).
    """
    c = np.asarray(capacity, dtype=np.float64)
    mins, maxs = _bounds(v3)
    if v3.formula == "linear_2023":
        height = float(v3.interval_height or 0.0)
        cc = np.minimum(np.maximum(c, mins[0]), maxs[-1])
        k = np.argmax((mins <= cc[..., None]) & (cc[..., None] <= maxs), axis=-1)
        raw = height * (k + 1 + (cc - maxs[k]) / (maxs[k] - mins[k]))
        val = np.minimum(float(v3.score_cap), raw)
        return np.asarray(np.floor(val) + ((val - np.floor(val)) >= 0.5), dtype=np.int64)
    k = mesh_indices(c, v3)
    n = len(mins)
    weight = np.array([m.weight for m in v3.meshes[:n]], dtype=np.float64)
    coef = np.array([m.coefficient for m in v3.meshes[:n]], dtype=np.float64)
    kk = np.maximum(k, 0)
    progression = 1 - (maxs[kk] - c) / (maxs[kk] - mins[kk])
    with np.errstate(invalid="ignore"):
        inner = np.floor(weight[kk] * (coef[kk] + progression))
    out = np.where(k < 0, 0.0, np.minimum(float(v3.score_cap), inner))
    out = np.where(c >= maxs[-1], float(v3.score_cap), out)
    return np.asarray(out, dtype=np.int64)


def meshes_from_scores(pix_score: npt.ArrayLike, v3: V3Scoring) -> IntArray:
    """The mesh each score reaches (``findMeshFromScore``).

    The first mesh whose cumulative weight exceeds the score, or ``max_reachable_level``
    when reached first.
    """
    score = np.asarray(pix_score, dtype=np.int64)
    cumulative = np.cumsum([m.weight for m in v3.meshes])
    k = np.arange(len(cumulative))
    hit = (score[..., None] < cumulative) | (k == v3.max_reachable_level)
    return np.asarray(
        np.where(hit.any(axis=-1), np.argmax(hit, axis=-1), len(cumulative) - 1), dtype=np.int64
    )


def competence_rows(capacity: npt.ArrayLike, v3: V3Scoring, competence: str) -> IntArray:
    """Row of ``[scoring.v3.competence_intervals.<competence>]`` holding each capacity (−1: none).

    The first row, in file order, with ``min ≤ c < max`` after extending the row(s) with
    the smallest min to −∞ and those with the largest max to +∞.
    """
    c = np.asarray(capacity, dtype=np.float64)
    rows = v3.competence_intervals[competence]
    lowest = min(r.min for r in rows)
    highest = max(r.max for r in rows)
    lo = np.array([-math.inf if r.min == lowest else r.min for r in rows], dtype=np.float64)
    hi = np.array([math.inf if r.max == highest else r.max for r in rows], dtype=np.float64)
    hit = (lo <= c[..., None]) & (c[..., None] < hi)
    return np.asarray(np.where(hit.any(axis=-1), np.argmax(hit, axis=-1), -1), dtype=np.int64)


def competence_levels(capacity: npt.ArrayLike, v3: V3Scoring, competence: str) -> IntArray:
    """A competence's level at each capacity (``CompetenceForScoring``; −1 when no row matches)."""
    row = competence_rows(capacity, v3, competence)
    levels = np.array([r.level for r in v3.competence_intervals[competence]], dtype=np.int64)
    return np.asarray(np.where(row >= 0, levels[np.maximum(row, 0)], -1), dtype=np.int64)


def competence_level_table(
    capacity: npt.ArrayLike, v3: V3Scoring, competences: Sequence[str]
) -> IntArray:
    """``(n, len(competences))`` levels at each capacity (−1: none, or no intervals for it)."""
    c = np.asarray(capacity, dtype=np.float64)
    out = np.full((len(c), len(competences)), -1, dtype=np.int64)
    for k, code in enumerate(competences):  # 16 competences: a loop over columns
        if code in v3.competence_intervals:
            out[:, k] = competence_levels(c, v3, code)
    return out


@dataclass(frozen=True, slots=True, eq=False)
class V3Outcomes:
    """Outcomes of a batch of v3 certifications.

    Attributes
    ----------
    pix_score, mesh_index, global_mesh
        ``(n,)`` the score, the interval of the capacity (−1 below) and the mesh the
        score reaches.
    outcome
        ``(n,)`` :data:`OUTCOMES` code.
    comment
        ``(n,)`` :data:`COMMENTS` code, −1 for none.
    rule
        ``(n,)`` :data:`RULES` code: which rule decided.
    scored
        ``(n,)`` whether the result carries a score and a global level: not after a jury
        cancellation, a rejection for fraud or too few answers (Pix stores no score,
        capacity, mesh or competence mark for those).
    leveled
        ``(n,)`` whether the result carries competence levels: scored, and not rejected
        for a score of 0 (Pix stores no competence mark then).
    """

    pix_score: IntArray
    mesh_index: IntArray
    global_mesh: IntArray
    outcome: IntArray
    comment: IntArray
    rule: IntArray
    scored: BoolArray
    leveled: BoolArray

    def outcome_names(self) -> npt.NDArray[np.object_]:
        """``(n,)`` outcome names."""
        return np.asarray(OUTCOMES, dtype=object)[self.outcome]

    def comment_names(self) -> npt.NDArray[np.object_]:
        """``(n,)`` comment keys (None for none)."""
        return np.asarray((*COMMENTS, None), dtype=object)[self.comment]

    def global_level_names(self, v3: V3Scoring) -> npt.NDArray[np.object_]:
        """``(n,)`` the name of the mesh each score reaches (``BEGINNER_2``, ...; None unscored)."""
        names = np.array([m.name for m in v3.meshes], dtype=object)[self.global_mesh]
        names[~self.scored] = None
        return names


def outcomes(
    capacity: npt.ArrayLike,
    v3: V3Scoring,
    *,
    n_answers: npt.ArrayLike | None,
    fraud: npt.ArrayLike = False,
    cancelled: npt.ArrayLike = False,
    technical_abort: npt.ArrayLike = False,
) -> V3Outcomes:
    """Score and outcome of each certification from its final capacity.

    Parameters
    ----------
    capacity
        ``(n,)`` final capacities (after any degradation).
    v3
        The rule set's ``[scoring.v3]``.
    n_answers
        ``(n,)`` answers counted for the minimum-answers rule; None: complete tests
        (the rule never applies).
    fraud, cancelled, technical_abort
        ``(n,)`` (or scalars) jury decisions and a technical abort.

    Returns
    -------
    V3Outcomes
        In Pix's order: cancelled by the jury (``cancelled_by_jury``); rejected for
        fraud; too few answers (cancelled after a technical abort, rejected otherwise);
        ``reject_when`` (``zero_score``: a score of 0; ``below_minimum_mesh``: a score
        of 0 or a capacity below the first interval); validated. The first three carry
        no score (:attr:`V3Outcomes.scored`), as in Pix's ``create-v3-assessment-result``.
    """
    c = np.asarray(capacity, dtype=np.float64)
    n = c.shape
    pix = pix_scores(c, v3)
    mesh = mesh_indices(c, v3)
    zero = pix == 0
    few = (
        np.zeros(n, dtype=bool)
        if n_answers is None
        else np.asarray(n_answers, dtype=np.int64) < v3.minimum_answers
    )
    tech = np.broadcast_to(np.asarray(technical_abort, dtype=bool), n)
    if v3.reject_when == "zero_score":
        reject, reject_rule = zero, RULES.index("zero_score")
    else:
        reject, reject_rule = zero | (mesh < 0), RULES.index("below_minimum_mesh")
    steps = [
        (
            np.asarray(cancelled, dtype=bool),
            3,
            COMMENTS.index("CANCELLED_BY_JURY"),
            RULES.index("cancelled"),
        ),
        (np.asarray(fraud, dtype=bool), 1, 0, RULES.index("fraud")),
        (few & tech, 2, 1, RULES.index("too_few_answers")),
        (few, 1, 2, RULES.index("too_few_answers")),
        (reject & zero, 1, 3, reject_rule),
        (reject, 1, -1, reject_rule),
    ]
    outcome = np.zeros(n, dtype=np.int64)
    comment = np.full(n, -1, dtype=np.int64)
    rule = np.zeros(n, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    for cond, out, com, which in steps:
        hit = np.broadcast_to(cond, n) & ~done
        outcome[hit], comment[hit], rule[hit] = out, com, which
        done |= hit
    unscored = (rule == RULES.index("cancelled")) | (rule == RULES.index("fraud"))
    unscored |= rule == RULES.index("too_few_answers")
    scored = ~unscored
    leveled = scored & (comment != COMMENTS.index("REJECTED_DUE_TO_ZERO_PIX_SCORE"))
    return V3Outcomes(
        pix, mesh, meshes_from_scores(pix, v3), outcome, comment, rule, scored, leveled
    )
