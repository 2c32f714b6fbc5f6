"""v3 challenge selection: the candidate pool rules and the ranking (``pix-rules.md`` §3.3).

Pix proposes the next challenge in three stages:

1. **the pool**: the calibrated challenges minus those already answered (and, upstream,
   those with a validated live alert, every challenge of their skill, and the
   inaccessible ones when the candidate needs an adjustment), then the rules in order:

   - *one question per tube* (``one_question_per_tube``): drop every challenge of an
     answered tube; otherwise *non-answered skills*: drop every challenge of an answered
     skill;
   - *passage by all competences* (``passage_by_all_competences``): restart from **all**
     challenges of the pool and keep those of competences not yet answered; if none is
     left, keep the previous rule's output (Pix's caveat, reproduced);
   - historical *forced competences*: keep the challenges of forced competences not yet
     answered (inactive once all are answered);
   - *challenges between same competence* (``challenges_between_same_competence`` = N):
     drop the competences of the last N answers, unless that leaves nothing.

   The historical ``warm_up_length`` makes the competence rules inactive for the first
   answers and ignore those answers.
2. **the ranking**: by information ("reward") at the current capacity, descending, ties
   in bank order (JavaScript's stable sort); the historical minimum success rate first
   puts the challenges with ``P(success) ≥ rate`` ahead; keep the ``top_n`` (5).
3. **the pick**: ``binaryTreeRandom``: rank 0 with probability p (51 %), else recurse on
   the rest, so 0.51, 0.2499, 0.1225, 0.0600, 0.0576 for five; p = 100 always takes
   the best (the score degradation does so).

Everything is a pure function over arrays, vectorised over candidates: masks have shape
``(n_candidates, n_items)``; :class:`SelectionState` carries what the rules need about
each candidate's answers. The bank's structure is coded once as integers by
:class:`BankStructure`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from pixirt.cat._capacity import probability, reward
from pixirt.exceptions import DataError
from pixirt.rules import FEATURES

if TYPE_CHECKING:
    from pixirt._item_bank import ItemBank
    from pixirt.rules import SelectionRules

__all__ = [
    "BankStructure",
    "SelectionState",
    "candidate_pool",
    "check_test_length",
    "most_answers",
    "pick_probabilities",
    "pick_rank",
    "rank_by_information",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def _codes(values: Sequence[str] | npt.NDArray[Any]) -> tuple[IntArray, tuple[str, ...]]:
    """Integer codes in order of first appearance, and the names behind them."""
    import pandas as pd

    codes, names = pd.factorize(np.asarray(values, dtype=object).astype(str), sort=False)
    return np.asarray(codes, dtype=np.int64), tuple(str(n) for n in names)


@dataclass(frozen=True, slots=True)
class BankStructure:
    """The bank's challenges coded as integers for the selection rules.

    Attributes
    ----------
    item_ids
        Challenge ids as strings, in bank order.
    a, b
        Discriminant and difficulty.
    competence, tube, skill
        Integer codes (indices into ``competences``, ``tubes``, ``skills``); ``skill``
        is None when the bank has no ``skill`` column.
    competences, tubes, skills
        The names behind the codes.
    accessible
        The ``accessible`` flags, or None when the bank has no such column.
    features
        Per challenge, the bit mask of its features (:func:`pixirt.cat._incidents.feature_bits`,
        from the bank's boolean columns ``image``, ``embed``, ``attachment``, ``timed``,
        ``focus``; 0 where absent).
    """

    item_ids: npt.NDArray[np.object_]
    a: FloatArray
    b: FloatArray
    competence: IntArray
    competences: tuple[str, ...]
    tube: IntArray
    tubes: tuple[str, ...]
    skill: IntArray | None
    skills: tuple[str, ...]
    accessible: BoolArray | None
    features: IntArray
    _position: dict[str, int] = field(repr=False, compare=False)

    @classmethod
    def from_bank(cls, bank: ItemBank) -> BankStructure:
        """Code a Pix bank (metadata columns ``competence``, ``tube``; optional ``skill``, ``accessible``).

        Parameters
        ----------
        bank
            The item bank.

        Returns
        -------
        BankStructure
            The coded structure.

        Raises
        ------
        DataError
            If ``competence`` or ``tube`` is missing.
        """
        meta = bank.metadata
        for col in ("competence", "tube"):
            if col not in meta.columns:
                raise DataError(
                    "the bank needs a column naming each challenge's "
                    f"{col} for the v3 selection rules; columns are {list(meta.columns)}",
                    field=col,
                )
        ids = np.asarray(bank.item_ids, dtype=object).astype(str).astype(object)
        comp, comps = _codes(meta["competence"].to_numpy(dtype=object))
        tube, tubes = _codes(meta["tube"].to_numpy(dtype=object))
        skill: IntArray | None = None
        skills: tuple[str, ...] = ()
        if "skill" in meta.columns:
            skill, skills = _codes(meta["skill"].to_numpy(dtype=object))
        accessible = (
            meta["accessible"].to_numpy(dtype=bool) if "accessible" in meta.columns else None
        )
        features = np.zeros(len(ids), dtype=np.int64)
        for k, name in enumerate(FEATURES):
            if name in meta.columns:
                flags = meta[name].fillna(False).to_numpy(dtype=bool)
                features |= flags.astype(np.int64) << k
        return cls(
            item_ids=ids,
            a=np.asarray(bank.a, dtype=np.float64),
            b=np.asarray(bank.b, dtype=np.float64),
            competence=comp,
            competences=comps,
            tube=tube,
            tubes=tubes,
            skill=skill,
            skills=skills,
            accessible=accessible,
            features=features,
            _position=dict(zip(ids.tolist(), range(len(ids)), strict=True)),
        )

    @classmethod
    def of(cls, bank: ItemBank) -> BankStructure:
        """:meth:`from_bank`, built once per bank object and kept with it (``ItemBank.derived``)."""
        structure: BankStructure = bank.derived("cat.bank_structure", lambda: cls.from_bank(bank))
        return structure

    @property
    def n_items(self) -> int:
        """Number of challenges."""
        return int(self.a.shape[0])

    def positions(self, challenge_ids: Iterable[Any]) -> IntArray:
        """Bank positions of challenge ids (−1 for an id not in the bank)."""
        return np.asarray([self._position.get(str(i), -1) for i in challenge_ids], dtype=np.int64)

    def competence_codes(self, names: Iterable[Any]) -> IntArray:
        """Codes of competence names (−1 when the bank has no such competence)."""
        lookup = {n: k for k, n in enumerate(self.competences)}
        return np.asarray([lookup.get(str(n), -1) for n in names], dtype=np.int64)

    def tube_codes(self, names: Iterable[Any]) -> IntArray:
        """Codes of tube names (−1 when unknown)."""
        lookup = {n: k for k, n in enumerate(self.tubes)}
        return np.asarray(
            [lookup.get(str(n), -1) if n is not None else -1 for n in names], dtype=np.int64
        )


@dataclass(frozen=True, slots=True)
class SelectionState:
    """What the pool rules need to know about each candidate's answers so far.

    Attributes
    ----------
    excluded
        ``(n, n_items)``: challenges out of the pool (answered, live alerts, ...).
    answered_tubes
        ``(n, n_tubes)``: tubes answered.
    answered_skills
        ``(n, n_skills)``: skills answered.
    seen_competences
        ``(n, n_competences)``: competences answered after the warm-up.
    recent_competences
        ``(n, N)``: competences of the last N answers, oldest first, −1 for none.
    n_answers
        ``(n,)``: answers so far.
    """

    excluded: BoolArray
    answered_tubes: BoolArray
    answered_skills: BoolArray
    seen_competences: BoolArray
    recent_competences: IntArray
    n_answers: IntArray

    @classmethod
    def start(
        cls,
        structure: BankStructure,
        n_candidates: int = 1,
        *,
        recent: int = 2,
        excluded: npt.ArrayLike | None = None,
    ) -> SelectionState:
        """State before any answer.

        Parameters
        ----------
        structure
            The coded bank.
        n_candidates
            Batch size.
        recent
            N of the "challenges between same competence" rule.
        excluded
            Initial exclusions, ``(n_items,)`` or ``(n, n_items)``.

        Returns
        -------
        SelectionState
            Nothing answered.
        """
        n, m = n_candidates, structure.n_items
        exc = np.zeros((n, m), dtype=bool)
        if excluded is not None:
            exc |= np.broadcast_to(np.asarray(excluded, dtype=bool), (n, m))
        return cls(
            excluded=exc,
            answered_tubes=np.zeros((n, len(structure.tubes)), dtype=bool),
            answered_skills=np.zeros((n, len(structure.skills)), dtype=bool),
            seen_competences=np.zeros((n, len(structure.competences)), dtype=bool),
            recent_competences=np.full((n, recent), -1, dtype=np.int64),
            n_answers=np.zeros(n, dtype=np.int64),
        )

    def record(
        self,
        *,
        item: npt.ArrayLike,
        competence: npt.ArrayLike,
        tube: npt.ArrayLike,
        skill: npt.ArrayLike | None = None,
        warm_up_length: int = 0,
    ) -> SelectionState:
        """State after one more answer per candidate.

        Parameters
        ----------
        item
            ``(n,)`` bank positions of the answered challenges (−1: not in the bank).
        competence, tube, skill
            ``(n,)`` codes of the answered challenges' competence, tube and skill (−1:
            unknown, then that rule cannot exclude anything for this answer).
        warm_up_length
            Answers before it do not count as seen competences.

        Returns
        -------
        SelectionState
            The updated state (this one is unchanged).
        """
        pos = np.asarray(item, dtype=np.int64)
        comp = np.asarray(competence, dtype=np.int64)
        tub = np.asarray(tube, dtype=np.int64)
        sk = np.full_like(pos, -1) if skill is None else np.asarray(skill, dtype=np.int64)
        rows = np.arange(pos.shape[0])
        excluded = self.excluded.copy()
        ok = pos >= 0
        excluded[rows[ok], pos[ok]] = True
        tubes = self.answered_tubes.copy()
        ok = tub >= 0
        tubes[rows[ok], tub[ok]] = True
        skills = self.answered_skills.copy()
        ok = (sk >= 0) & (skills.shape[1] > 0)
        skills[rows[ok], sk[ok]] = True
        seen = self.seen_competences.copy()
        ok = (comp >= 0) & (self.n_answers >= warm_up_length)
        seen[rows[ok], comp[ok]] = True
        recent = self.recent_competences
        if recent.shape[1]:
            recent = np.concatenate([recent[:, 1:], comp[:, None]], axis=1)
        return SelectionState(excluded, tubes, skills, seen, recent, self.n_answers + 1)


def candidate_pool(
    structure: BankStructure, state: SelectionState, rules: SelectionRules
) -> BoolArray:
    """The challenges the rules allow next, per candidate.

    Parameters
    ----------
    structure
        The coded bank.
    state
        Each candidate's answers so far.
    rules
        The rule set's ``[selection]`` table.

    Returns
    -------
    numpy.ndarray
        Boolean ``(n_candidates, n_items)``. A row may be empty: Pix then raises
        ``AssessmentLackOfChallengesError``.

    Raises
    ------
    DataError
        If the rules need skills (``one_question_per_tube = false``) and the bank has none.
    """
    base = ~state.excluded
    if rules.one_question_per_tube:
        pool = base & ~state.answered_tubes[:, structure.tube]
    else:
        if structure.skill is None:
            raise DataError(
                "one_question_per_tube = false needs the bank's 'skill' column (non-answered skills rule)",
                field="skill",
            )
        pool = base & ~state.answered_skills[:, structure.skill]
    warm = state.n_answers >= rules.warm_up_length
    if rules.passage_by_all_competences:
        remaining = base & ~state.seen_competences[:, structure.competence]
        use = warm & remaining.any(axis=1)
        pool = np.where(use[:, None], remaining, pool)
    if rules.forced_competences:
        forced = np.isin(
            np.asarray(structure.competences, dtype=object), list(rules.forced_competences)
        )
        left: BoolArray = np.asarray(forced[None, :] & ~state.seen_competences, dtype=bool)
        use = warm & left.any(axis=1)
        pool = np.where(use[:, None], pool & left[:, structure.competence], pool)
    if rules.challenges_between_same_competence > 0 and state.recent_competences.shape[1]:
        recent = state.recent_competences[:, -rules.challenges_between_same_competence :]
        n_comp = len(structure.competences)
        recent_mask = np.zeros((recent.shape[0], n_comp + 1), dtype=bool)  # last column: "none"
        rows = np.repeat(np.arange(recent.shape[0]), recent.shape[1])
        recent_mask[rows, np.where(recent < 0, n_comp, recent).ravel()] = True
        blocked = recent_mask[:, structure.competence]
        kept = pool & ~blocked
        has: BoolArray = np.asarray(kept.any(axis=1), dtype=bool)
        pool = np.where(has[:, None], kept, pool)
    return np.asarray(pool, dtype=bool)


def rank_by_information(
    capacity: npt.ArrayLike,
    structure: BankStructure,
    pool: BoolArray,
    *,
    top_n: int = 5,
    minimum_success_rate: npt.ArrayLike | None = None,
) -> IntArray:
    """The best challenges of each candidate's pool, best first.

    Parameters
    ----------
    capacity
        ``(n,)`` current capacities.
    structure
        The coded bank.
    pool
        ``(n, n_items)`` allowed challenges.
    top_n
        How many to keep.
    minimum_success_rate
        Historical: ``(n,)`` or scalar; challenges with ``P(success) ≥ rate`` come first.

    Returns
    -------
    numpy.ndarray
        ``(n, top_n)`` bank positions, −1 where the pool has fewer challenges. Ties keep
        bank order.
    """
    theta = np.asarray(capacity, dtype=np.float64)[:, None]
    rew = reward(theta, structure.a[None, :], structure.b[None, :])
    rew = np.where(pool, rew, -np.inf)
    if minimum_success_rate is None:
        order = _stable_top(-rew, top_n)
    else:
        rate = np.broadcast_to(np.asarray(minimum_success_rate, dtype=np.float64), theta.shape[:1])[
            :, None
        ]
        meets = (probability(theta, structure.a[None, :], structure.b[None, :]) >= rate) & pool
        order = np.lexsort((-rew, ~meets), axis=-1)
    order = np.asarray(order[:, :top_n], dtype=np.int64)
    found = order >= 0
    top = np.where(found, order, 0)
    allowed = np.take_along_axis(pool, top, axis=1) & found
    top = np.where(allowed, top, -1)
    if top.shape[1] < top_n:
        top = np.pad(top, ((0, 0), (0, top_n - top.shape[1])), constant_values=-1)
    return top


def _stable_top(key: FloatArray, k: int) -> npt.NDArray[np.intp]:
    """Column indices of the ``k`` smallest finite keys per row, ordered as a stable sort would.

    Equivalent to ``np.argsort(key, axis=1, kind="stable")[:, :k]`` (ties keep column
    order) with −1 in place of the columns whose key is +inf, in ``k`` passes of
    ``argmin`` (which returns the first of equal values) instead of a full sort.
    """
    if key.shape[0] == 1 and key.shape[1] > 4 * k:
        return _stable_top_row(key[0], k)[None, :]
    work = np.array(key, dtype=np.float64, copy=True)
    n = work.shape[0]
    rows = np.arange(n)
    out = np.full((n, k), -1, dtype=np.intp)
    for j in range(min(k, work.shape[1])):
        col = np.argmin(work, axis=1)
        best = work[rows, col]
        ok = best < np.inf
        out[ok, j] = col[ok]
        work[rows, col] = np.inf
    return out


def _stable_top_row(key: FloatArray, k: int) -> npt.NDArray[np.intp]:
    """One row of :func:`_stable_top` by partition.

    Every key tied with the k-th is kept before the stable (key, column) sort, so ties
    resolve exactly as a stable sort would.
    """
    out = np.full(k, -1, dtype=np.intp)
    part = np.argpartition(key, k - 1)[:k]
    threshold = key[part].max()
    cand = np.flatnonzero(key <= threshold)
    order = cand[np.lexsort((cand, key[cand]))][:k]
    order = order[key[order] < np.inf]
    out[: len(order)] = order
    return out


def most_answers(structure: BankStructure, rules: SelectionRules) -> int:
    """The most answers a session can get from this bank under these rules.

    One question per tube (or, without that rule, per skill) bounds a session by the
    bank's number of tubes (or skills); the competence rules only reorder or fall back.

    Parameters
    ----------
    structure
        The coded bank.
    rules
        The rule set's ``[selection]`` table.

    Returns
    -------
    int
        The bound (before accessibility and live alerts, which can only lower it).
    """
    if rules.one_question_per_tube or structure.skill is None:
        return len(structure.tubes)
    return len(structure.skills)


def check_test_length(structure: BankStructure, rules: SelectionRules) -> None:
    """Refuse a test longer than the bank can serve under the rules (:func:`most_answers`).

    Raises
    ------
    DataError
        Naming ``selection.test_length``: every candidate would run out of challenges.
    """
    most = most_answers(structure, rules)
    if most < rules.test_length:
        raise DataError(
            f"the bank can serve at most {most} questions under these selection rules "
            f"(one per tube or skill), fewer than the test's {rules.test_length}: every "
            "candidate would run out of challenges",
            field="selection.test_length",
        )


def pick_probabilities(pick_probability: float, n: int) -> FloatArray:
    """Probabilities of picking each rank with Pix's ``binaryTreeRandom``.

    Parameters
    ----------
    pick_probability
        p in percent (51).
    n
        Number of ranked challenges.

    Returns
    -------
    numpy.ndarray
        ``(n,)``; rank k < n − 1 has ``p (1 − p)^k``, the last rank the remainder.

    Examples
    --------
    >>> [round(float(x), 6) for x in pick_probabilities(51, 5)]
    [0.51, 0.2499, 0.122451, 0.060001, 0.057648]
    """
    p = min(max(pick_probability / 100.0, 0.0), 1.0)
    out = np.empty(n, dtype=np.float64)
    left = 1.0
    for k in range(n - 1):
        out[k] = left * p
        left *= 1.0 - p
    if n:
        out[n - 1] = left
    return out


def pick_rank(
    uniforms: npt.ArrayLike, pick_probability: float, n_available: npt.ArrayLike
) -> IntArray:
    """Rank picked by ``binaryTreeRandom`` from pre-drawn uniforms.

    Parameters
    ----------
    uniforms
        ``(n, k)`` draws in [0, 1), used in order (k ≥ max(n_available) − 1).
    pick_probability
        p in percent; 100 always gives rank 0.
    n_available
        ``(n,)`` number of ranked challenges per candidate.

    Returns
    -------
    numpy.ndarray
        ``(n,)``: the first j with ``100·u_j < p``, or ``n_available − 1``.
    """
    u = np.atleast_2d(np.asarray(uniforms, dtype=np.float64))
    avail = np.asarray(n_available, dtype=np.int64)
    hits = 100.0 * u < pick_probability
    first = np.where(hits.any(axis=1), hits.argmax(axis=1), u.shape[1])
    return np.asarray(np.minimum(first, np.maximum(avail - 1, 0)), dtype=np.int64)
