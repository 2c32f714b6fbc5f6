"""The classic (v2) certification over arrays of candidates: planning and scoring.

This module holds the v2 rules once (``pix-rules.md`` §2.1 and §2.3), written over
arrays so that a chunk of a million candidates and a single session run the same code:
the engine (:func:`pixirt.cat.engine.start`) plans a session as a batch of one, and
:func:`pixirt.cat.scoring.score` scores one as a batch of one (then puts the rules that
fired into words); the simulator calls the same functions on its chunks.

**Planning** (:func:`plan`). For each certifiable competence of a profile (level ≥
``minimum_competence_level``; a profile needs ``minimum_certifiable_competences`` of
them), in code order: the validated skills are grouped by level and walked from the
highest level down; each skill gets one challenge, drawn uniformly among its challenges
not answered in positioning (all of its challenges if none is left; a skill without
challenge is skipped); within a level, the challenges of a tube not yet in the
competence's result come before those of a tube already there, each part in the
profile's skill order; the walk stops once ``challenges_per_competence`` challenges are
collected and the first ones are kept. The uniform draw of a skill is
``streams.uniform(seed, "v2.pick", candidate index, skill code)``. The tube rule only
reorders a level, so the plan is the first ``challenges_per_competence`` skills of each
competence sorted by (level descending, tube already there, profile order): no walk is
needed and only the kept skills draw.

**Scoring** (:func:`score_batch`). Counts of the tested competences' challenges, the
reproducibility rate (JavaScript's ``Math.round``), the trust check, the level table
with its three rate bands, downgrades and the blocking at ``max_reachable_level``, the
outcome precedence, and every refusal of Pix's scoring — an inconsistent profile, an
unanswered challenge, a tested competence without challenge, a combination missing
from the table, and the sanity contract (a score of 0 with a rate above the minimum) —
as an ``error`` outcome with its reason instead of an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from pixirt import streams
from pixirt.cat.profile import code_key
from pixirt.exceptions import DataError

if TYPE_CHECKING:
    from pixirt.cat.profile import Profile
    from pixirt.cat.selection import BankStructure
    from pixirt.item_bank import ItemBank
    from pixirt.rules import V2Scoring

__all__ = [
    "ACTIONS",
    "OUTCOMES",
    "V2Plan",
    "V2Profiles",
    "V2Scores",
    "V2Tables",
    "blocked",
    "finalize",
    "plan",
    "score_batch",
    "tested_competences",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Level-table actions by code (``V2Scores.action``; −1: competence not tested).
ACTIONS: tuple[str, ...] = ("validate", "downgrade", "invalidate")
#: Outcomes by code (``V2Scores.outcome``).
OUTCOMES: tuple[str, ...] = ("validated", "rejected", "cancelled", "error")
#: Automatic jury comments by code (``V2Scores.comment``; −1: none).
COMMENTS: tuple[str, ...] = (
    "FRAUD",
    "CANCELLED_DUE_TO_NEUTRALIZATION",
    "CANCELLED_DUE_TO_LACK_OF_ANSWERS_FOR_TECHNICAL_REASON",
    "REJECTED_DUE_TO_INSUFFICIENT_CORRECT_ANSWERS",
)
_QROCM_DEP = "QROCM-dep"


class ChallengeIds(Protocol):
    """Per row, the challenge ids of the cells (read only to name them in an error)."""

    def __getitem__(self, row: int, /) -> Sequence[str]: ...


# =========================================================================== the bank
@dataclass(frozen=True, slots=True, eq=False)
class V2Tables:
    """What v2 planning and scoring read from a bank (built once per bank, :meth:`of`).

    Attributes
    ----------
    skill_ptr, skill_items
        CSR of each skill's challenges (bank positions, in bank order); skill codes are
        those of :class:`~pixirt.cat.selection.BankStructure`.
    item_skill, item_rank
        ``(n_items,)`` each challenge's skill code and its rank in its skill's list.
    skill_level, skill_tube, skill_competence
        Each skill's level, tube code and competence code (from its first challenge).
    qrocm_dep
        ``(n_items,)``: the challenge's type is ``QROCM-dep``.
    walk
        The skills in the order of the walk: competence (code order), level from the
        highest down, skill name.
    group_of, group_start, group_first
        The (competence, level) groups of the walk: each position's group, each group's
        first position, and the first group of each group's competence.
    """

    skill_ptr: IntArray
    skill_items: IntArray
    item_skill: IntArray
    item_rank: IntArray
    skill_level: IntArray
    skill_tube: IntArray
    skill_competence: IntArray
    qrocm_dep: BoolArray
    walk: IntArray
    group_of: IntArray
    group_start: IntArray
    group_first: IntArray

    @classmethod
    def of(cls, bank: ItemBank, structure: BankStructure) -> V2Tables:
        """The tables of ``bank`` (kept with the bank object).

        Raises
        ------
        DataError
            When the bank lacks ``skill`` or ``level``, or a skill spans several tubes.
        """

        def build() -> V2Tables:
            meta = bank.metadata
            for col in ("skill", "level"):
                if col not in meta.columns:
                    raise DataError(f"v2 selection needs the bank's {col!r} column", field=col)
            assert structure.skill is not None
            skill = structure.skill
            n_skills = len(structure.skills)
            level = meta["level"].to_numpy(dtype=np.int64)
            if len(level) and level.min() < 0:
                raise DataError("skill levels must be ≥ 0", field="level")
            order = np.argsort(skill, kind="stable")
            counts = np.bincount(skill, minlength=n_skills)
            ptr = np.zeros(n_skills + 1, dtype=np.int64)
            np.cumsum(counts, out=ptr[1:])
            first = order[ptr[:-1]]
            tube_lo = np.full(n_skills, np.iinfo(np.int64).max)
            tube_hi = np.full(n_skills, -1)
            np.minimum.at(tube_lo, skill, structure.tube)
            np.maximum.at(tube_hi, skill, structure.tube)
            spread = np.flatnonzero(tube_lo != tube_hi)
            if len(spread):
                name = structure.skills[int(spread[0])]
                raise DataError(
                    f"skill {name!r} has challenges in several tubes; v2 selection needs each "
                    "skill in one tube",
                    field="tube",
                )
            item_rank = np.empty(len(skill), dtype=np.int64)
            item_rank[order] = np.arange(len(skill)) - ptr[skill[order]]
            skill_level = level[first] if n_skills else np.zeros(0, dtype=np.int64)
            skill_comp = structure.competence[first] if n_skills else np.zeros(0, dtype=np.int64)
            by_code = sorted(
                range(len(structure.competences)), key=lambda k: code_key(structure.competences[k])
            )
            comp_rank = np.empty(len(by_code), dtype=np.int64)
            comp_rank[by_code] = np.arange(len(by_code))
            name_rank = np.argsort(np.argsort(np.asarray(structure.skills, dtype=object)))
            walk = np.lexsort((name_rank, -skill_level, comp_rank[skill_comp])).astype(np.int64)
            n_levels = int(skill_level.max(initial=0)) + 1
            group_key = comp_rank[skill_comp[walk]] * n_levels + skill_level[walk]
            new_group = (
                np.r_[True, group_key[1:] != group_key[:-1]] if n_skills else np.zeros(0, bool)
            )
            group_start = np.flatnonzero(new_group).astype(np.int64)
            group_of = (np.cumsum(new_group) - 1).astype(np.int64)
            group_comp = skill_comp[walk][group_start]
            new_comp = (
                np.r_[True, group_comp[1:] != group_comp[:-1]] if len(group_comp) else new_group[:0]
            )
            group_first = np.flatnonzero(new_comp)[np.cumsum(new_comp) - 1].astype(np.int64)
            types = (
                meta["type"].to_numpy(dtype=object)
                if "type" in meta.columns
                else np.full(bank.n_items, None, dtype=object)
            )
            return cls(
                skill_ptr=ptr,
                skill_items=np.asarray(order, dtype=np.int64),
                item_skill=np.asarray(skill, dtype=np.int64),
                item_rank=item_rank,
                skill_level=skill_level,
                skill_tube=structure.tube[first] if n_skills else np.zeros(0, dtype=np.int64),
                skill_competence=skill_comp,
                qrocm_dep=np.asarray(types == _QROCM_DEP, dtype=bool),
                walk=walk,
                group_of=group_of,
                group_start=group_start,
                group_first=group_first,
            )

        tables: V2Tables = bank.derived("cat.v2_tables", build)
        return tables


# =========================================================================== profiles
@dataclass(frozen=True, slots=True, eq=False)
class V2Profiles:
    """Positioning profiles of a batch of candidates, as arrays over the bank's skills.

    Attributes
    ----------
    competences
        Competence codes of the columns of ``level`` and ``pix``, in code order.
    level, pix
        ``(n, n_competences)`` positioned level and pix.
    validated
        ``(n, n_skills)`` skills validated in positioning (columns: the bank's skill
        codes, :class:`~pixirt.cat.selection.BankStructure`); a skill absent from the
        bank cannot be planned and is not represented.
    answered
        The challenge of a skill answered in positioning (bank position, −1 for none):
        an ``(n, n_skills)`` array, or a function ``answered(rows, skills)`` giving it for
        the pairs asked (a simulator draws only those the plan reads).
    extra_row, extra_item
        Further challenges answered in positioning (a second one of a skill): row and
        bank position. Usually empty.
    index
        ``(n,)`` candidate indices keying the draws.

    A candidate's need for accessible challenges plays no part in v2: Pix's v2 selection
    (``certification-challenges-service.js``) draws among all operative challenges.
    """

    competences: tuple[str, ...]
    level: IntArray
    pix: IntArray
    validated: BoolArray
    answered: IntArray | Callable[[IntArray, IntArray], IntArray]
    extra_row: IntArray
    extra_item: IntArray
    index: IntArray

    def __len__(self) -> int:
        return int(self.level.shape[0])

    @classmethod
    def from_profiles(
        cls,
        profiles: Sequence[Profile],
        structure: BankStructure,
        *,
        index: npt.ArrayLike | None = None,
    ) -> V2Profiles:
        """Profiles (:class:`~pixirt.cat.profile.Profile`) as arrays, coded against a bank."""
        codes = sorted({c for p in profiles for c in p.competences}, key=code_key)
        col = {c: k for k, c in enumerate(codes)}
        n = len(profiles)
        n_skills = len(structure.skills)
        level = np.zeros((n, len(codes)), dtype=np.int64)
        pix = np.zeros((n, len(codes)), dtype=np.int64)
        validated = np.zeros((n, n_skills), dtype=bool)
        answered = np.full((n, n_skills), -1, dtype=np.int64)
        skill_code = {name: k for k, name in enumerate(structure.skills)}
        extra_row: list[int] = []
        extra_item: list[int] = []
        for r, p in enumerate(profiles):  # profiles of a session or a file: not a hot path
            for code, comp in p.competences.items():
                level[r, col[code]] = comp.level
                pix[r, col[code]] = comp.pix
                known = [skill_code[x] for x in comp.skills if x in skill_code]
                validated[r, known] = True
            for item in structure.positions(p.answered_challenges).tolist():
                if item < 0 or structure.skill is None:
                    continue
                k = int(structure.skill[item])
                if answered[r, k] < 0:
                    answered[r, k] = item
                else:
                    extra_row.append(r)
                    extra_item.append(item)
        return cls(
            competences=tuple(codes),
            level=level,
            pix=pix,
            validated=validated,
            answered=answered,
            extra_row=np.asarray(extra_row, dtype=np.int64),
            extra_item=np.asarray(extra_item, dtype=np.int64),
            index=np.zeros(n, dtype=np.int64) if index is None else np.asarray(index, np.int64),
        )

    def answered_at(self, rows: IntArray, skills: IntArray) -> IntArray:
        """The challenge answered in positioning for each ``(row, skill)`` pair (−1: none)."""
        if callable(self.answered):
            return np.asarray(self.answered(rows, skills), dtype=np.int64)
        return np.asarray(self.answered[rows, skills], dtype=np.int64)

    def certifiable(self, v2: V2Scoring) -> BoolArray:
        """``(n,)``: at least ``minimum_certifiable_competences`` competences at level ≥ the minimum."""
        n_ok = tested_competences(v2, self.level).sum(axis=1)
        return np.asarray(n_ok >= v2.minimum_certifiable_competences, dtype=bool)


# =========================================================================== planning
@dataclass(frozen=True, slots=True, eq=False)
class V2Plan:
    """Planned v2 tests.

    Attributes
    ----------
    items
        ``(n, width)`` bank positions in the order served, −1 after the last.
    length
        ``(n,)`` challenges planned.
    certifiable
        ``(n,)``: the profile is certifiable (otherwise nothing is planned).
    """

    items: IntArray
    length: IntArray
    certifiable: BoolArray


def _group_starts(keys: IntArray) -> IntArray:
    """Start of each run of equal consecutive keys, per element."""
    n = len(keys)
    if not n:
        return np.zeros(0, dtype=np.int64)
    new = np.ones(n, dtype=bool)
    new[1:] = keys[1:] != keys[:-1]
    starts = np.flatnonzero(new)
    return np.asarray(starts[np.cumsum(new) - 1], dtype=np.int64)


def _group_ends(keys: IntArray) -> IntArray:
    """End (last index) of each run of equal consecutive keys, per element."""
    n = len(keys)
    if not n:
        return np.zeros(0, dtype=np.int64)
    last = np.ones(n, dtype=bool)
    last[:-1] = keys[1:] != keys[:-1]
    ends = np.flatnonzero(last)
    return np.asarray(ends[np.cumsum(np.r_[True, last[:-1]]) - 1], dtype=np.int64)


def plan(
    profiles: V2Profiles,
    structure: BankStructure,
    tables: V2Tables,
    v2: V2Scoring,
    *,
    seed: int,
) -> V2Plan:
    """Plan the v2 test of every candidate of a batch (see the module doc).

    Parameters
    ----------
    profiles
        The candidates' profiles.
    structure, tables
        The coded bank (:class:`~pixirt.cat.selection.BankStructure`, :class:`V2Tables`).
    v2
        The rule set's ``[scoring.v2]``.
    seed
        Seed of the draws.

    Returns
    -------
    V2Plan
        The planned challenges (nothing for a profile that is not certifiable).
    """
    n, n_comp = profiles.level.shape
    per = v2.challenges_per_competence
    certifiable = profiles.certifiable(v2)
    # the bank's skills in walk order: competence, level from the top, name
    walk = tables.walk
    comp_col = np.full(len(structure.competences) + 1, -1, dtype=np.int64)
    where = {c: k for k, c in enumerate(profiles.competences)}
    for k, code in enumerate(structure.competences):
        comp_col[k] = where.get(code, -1)
    skill_comp = comp_col[tables.skill_competence[walk]]
    tested = tested_competences(v2, profiles.level) & certifiable[:, None]
    tested = np.concatenate([tested, np.zeros((n, 1), dtype=bool)], axis=1)
    has = tables.skill_ptr[walk + 1] > tables.skill_ptr[walk]
    can = profiles.validated[:, walk] & tested[:, skill_comp]
    can &= has[None, :]
    # the walk stops after the level where `per` skills are collected: a skill is reached
    # when its competence has fewer than `per` skills at higher levels (counts per
    # (competence, level) group of the walk)
    counts = np.add.reduceat(can.view(np.uint8), tables.group_start, axis=1, dtype=np.int32)
    before = np.cumsum(counts, axis=1) - counts
    above = before - before[:, tables.group_first]
    r, j = np.nonzero(can & np.take(above < per, tables.group_of, axis=1))
    s = walk[j]
    lvl = tables.skill_level[s]
    g = tables.group_of[j]
    # entries come by row, then walk order: competence, level from the top, name.
    # A tube is "already there" when a skill of a higher level of the competence has it:
    # a stable sort by (row, competence, tube) keeps levels from the top, so the first of
    # each run has the tube's highest level.
    n_groups = max(len(tables.group_start), 1)
    n_tubes = max(len(structure.tubes), 1)
    tkey = (r * n_groups + tables.group_first[g]) * n_tubes + tables.skill_tube[s]
    by = np.argsort(tkey, kind="stable")
    top = np.empty(len(r), dtype=np.int64)
    top[by] = lvl[by][_group_starts(tkey[by])]
    fresh_tube = top <= lvl
    # rank in the competence's result: skills of higher levels, then in the level the
    # new tubes before the others, each in walk (name) order
    key_level = r * n_groups + g
    key_comp = r * n_groups + tables.group_first[g]
    first_level = _group_starts(key_level)
    last_level = _group_ends(key_level)
    higher = first_level - _group_starts(key_comp)
    fresh = fresh_tube.astype(np.int64)
    new_before: IntArray = np.cumsum(fresh) - fresh
    new_before_level: IntArray = new_before - new_before[first_level]
    n_new_level: IntArray = new_before[last_level] + fresh[last_level] - new_before[first_level]
    old_before_level = (np.arange(len(r)) - first_level) - new_before_level
    rank = higher + np.where(fresh_tube, new_before_level, n_new_level + old_before_level)
    kept = rank < per
    r, s, rank, key_comp = r[kept], s[kept], rank[kept], key_comp[kept]
    items = _draw(profiles, tables, r, s, seed)
    # slot in the row: the kept skills of the row's earlier competences, then the rank
    slot = (_group_starts(key_comp) - _group_starts(r)) + rank
    out = np.full((n, per * n_comp), -1, dtype=np.int64)
    out[r, slot] = items
    length = np.bincount(r, minlength=n).astype(np.int64)
    return V2Plan(out, length, certifiable)


def _draw(profiles: V2Profiles, tables: V2Tables, r: IntArray, s: IntArray, seed: int) -> IntArray:
    """One challenge per (row, skill): uniform among the skill's challenges not answered in positioning.

    The skill's challenges are listed in bank order; those answered in positioning leave the list unless that empties it; the
    draw ``u`` takes the ``floor(u · size)``-th of the list. Computed by ranks: the
    ``j``-th challenge left is the ``j``-th of the list shifted past each answered one.
    """
    if not len(r):
        return np.zeros(0, dtype=np.int64)
    ptr, end = tables.skill_ptr[s], tables.skill_ptr[s + 1]
    count = end - ptr
    # the answered challenges' ranks in each list (−1: none, or not in the list)
    ex_entry = [np.arange(len(r))]
    ex_item = [profiles.answered_at(r, s)]
    if len(profiles.extra_row):
        order = np.argsort(r, kind="stable")
        lo = np.searchsorted(r[order], profiles.extra_row, side="left")
        hi = np.searchsorted(r[order], profiles.extra_row, side="right")
        n_match = hi - lo
        e = order[
            np.repeat(lo, n_match)
            + np.arange(n_match.sum())
            - np.repeat(np.cumsum(n_match) - n_match, n_match)
        ]
        ex_entry.append(e)
        ex_item.append(np.repeat(profiles.extra_item, n_match))
    e_entry = np.concatenate(ex_entry)
    e_item = np.concatenate(ex_item)
    known = e_item >= 0
    e_entry, e_item = e_entry[known], e_item[known]
    same = tables.item_skill[e_item] == s[e_entry]
    e_entry, e_item = e_entry[same], e_item[same]
    e_rank = tables.item_rank[e_item]
    keep = e_rank >= 0
    e_entry, e_rank = e_entry[keep], e_rank[keep]
    if len(ex_entry) > 1:  # further answered challenges: each once, in rank order per entry
        width = int(count.max()) + 1
        pair = np.unique(e_entry * width + e_rank)
        e_entry, e_rank = pair // width, pair % width
    n_out = np.bincount(e_entry, minlength=len(r))
    emptied = n_out >= count
    size = np.where(emptied, count, count - n_out)
    u = streams.uniform(seed, "v2.pick", profiles.index[r], s)
    j = np.minimum((u * size).astype(np.int64), size - 1)
    # shift past the answered challenges, smallest rank first
    live = ~emptied[e_entry]
    e_entry, e_rank = e_entry[live], e_rank[live]
    k = np.arange(len(e_entry)) - _group_starts(e_entry)
    idx = j.copy()
    for step in range(int(k.max()) + 1 if len(k) else 0):  # the most answered of one skill
        at = k == step
        hit = e_rank[at] <= idx[e_entry[at]]
        idx[e_entry[at][hit]] += 1
    return np.asarray(tables.skill_items[ptr + idx], dtype=np.int64)


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


def tested_competences(v2: V2Scoring, level: npt.ArrayLike) -> BoolArray:
    """Which competences of the profiles are tested: positioned level ≥ ``minimum_competence_level``."""
    return np.asarray(np.asarray(level) >= v2.minimum_competence_level, dtype=bool)


def blocked(v2: V2Scoring, level: npt.ArrayLike, pix: npt.ArrayLike) -> tuple[IntArray, IntArray]:
    """Level and pix blocked at ``max_reachable_level`` (and ``max_reachable_level · pix_per_level``)."""
    max_pix = v2.max_reachable_level * v2.pix_per_level
    return (
        np.asarray(np.minimum(level, v2.max_reachable_level), dtype=np.int64),
        np.asarray(np.minimum(pix, max_pix), dtype=np.int64),
    )


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
    counts = np.stack([n_ch, n_ok, n_neu], axis=2)
    # the level table, by RR band
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
    certified = rr >= thr.minimum_to_be_certified
    band = np.where(
        rr >= thr.minimum_to_be_trusted, 0, np.where(rr >= thr.middle_band_minimum, 1, 2)
    )
    looked_up = tested & certified[:, None]
    table_row = np.where(looked_up, table_row, -1)
    has_row = table_row >= 0
    action = np.where(
        has_row, actions[np.maximum(table_row, 0), band[:, None]] if len(actions) else 2, 2
    )
    action = np.where(tested, action, -1)
    level_out = np.where(action == 0, lv, np.where(action == 1, lv - 1, -1))
    pix_out = np.where(action == 0, px, np.where(action == 1, px - v2.pix_per_level, 0))
    blocked_level, blocked_pix = blocked(v2, level_out, pix_out)
    was_blocked = tested & ((blocked_level != level_out) | (blocked_pix != pix_out))
    level_out = np.where(tested, blocked_level, -1)
    score_out = np.where(tested, blocked_pix, 0)
    pix_score = score_out.sum(axis=1)
    # outcomes, in Pix's order
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
