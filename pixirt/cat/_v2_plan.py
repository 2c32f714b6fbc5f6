"""v2 planning: the challenges of each candidate's test (pix-rules.md §2.1).

For each certifiable competence of a profile (level ≥ ``minimum_competence_level``; a
profile needs ``minimum_certifiable_competences`` of them), in code order: the validated
skills are grouped by level and walked from the highest level down; each skill gets one
challenge, drawn uniformly among its challenges not answered in positioning (all of its
challenges if none is left; a skill without challenge is skipped); within a level, the
challenges of a tube not yet in the competence's result come before those of a tube
already there, each part in the profile's skill order; the walk stops once
``challenges_per_competence`` challenges are collected and the first ones are kept. The
uniform draw of a skill is ``streams.uniform(seed, "v2.pick", candidate index, skill
code)``. The tube rule only reorders a level, so the plan is the first
``challenges_per_competence`` skills of each competence sorted by (level descending,
tube already there, profile order): no walk is needed and only the kept skills draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pixirt import _streams as streams
from pixirt.cat._v2_tables import BoolArray, IntArray, V2Profiles, V2Tables, tested_competences

if TYPE_CHECKING:
    from pixirt.cat._selection import BankStructure
    from pixirt.rules import V2Scoring


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
        The coded bank (:class:`~pixirt.cat.BankStructure`, :class:`V2Tables`).
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
