"""v2 rule tables and positioning profiles as arrays: the classic certification over arrays.

The v2 rules (``pix-rules.md`` §2.1 and §2.3) are written once, over arrays, so that a
chunk of a million candidates and a single session run the same code: the engine
(:func:`pixirt.cat.start`) plans a session as a batch of one
(:func:`pixirt.cat._v2_plan.plan`), and :func:`pixirt.cat.score` scores one as a batch of
one (:func:`pixirt.cat._v2_batch_scoring.score_batch`, then the rules that fired in
words); the simulator calls the same functions on its chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from pixirt.cat._profile import code_key
from pixirt.exceptions import DataError

if TYPE_CHECKING:
    from pixirt._item_bank import ItemBank
    from pixirt.cat._profile import Profile
    from pixirt.cat._selection import BankStructure
    from pixirt.rules import V2Scoring


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
        those of :class:`~pixirt.cat.BankStructure`.
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
        codes, :class:`~pixirt.cat.BankStructure`); a skill absent from the
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
        """Profiles (:class:`~pixirt.cat.Profile`) as arrays, coded against a bank."""
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
