"""The v3 ranking of a batch of sessions: the engine's pool rules and ranking, fast.

:func:`rank` gives, for some rows of a batch of v3 sessions, the ``top_n`` challenges
the engine's :func:`~pixirt.cat.candidate_pool` and
:func:`~pixirt.cat.rank_by_information` give, best first. Most rows take a
fast path that proves its answer exact, the others run those two functions:

- **shortlists** (:class:`Shortlist`): per cell of capacities, the few challenges of
  each competence that can rank in a top 5, with a bound on the information of every
  challenge left out; a top 5 found in the lists is exact when its 5th information
  exceeds the bound of every competence the rules still allow;
- **counts** (:class:`AvailableCounts`): per row, the challenges still available per
  tube (or skill) and competence, which decide the rules' "unless that leaves nothing"
  fallbacks without a pass over the bank;
- **kernels** (:mod:`pixirt.cat._kernels`, numba, optional ``pixirt[fast]``): the pool
  membership of the shortlisted challenges and the top 5, compiled; without numba the
  same rankings in numpy. Information values are always the engine's own
  :func:`~pixirt.cat._capacity.reward`, so rankings are the engine's bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from pixirt.cat._capacity import probability, reward
from pixirt.cat._selection import SelectionState, candidate_pool, rank_by_information

if TYPE_CHECKING:
    from pixirt.cat._runtime import Runtime

__all__ = [
    "USE_KERNELS",
    "AvailableCounts",
    "Shortlist",
    "cells",
    "fast_path_applies",
    "kernels",
    "rank",
    "select_rows",
    "shortlist",
    "shortlist_top",
]


def select_rows(sel: SelectionState, rows: npt.NDArray[np.intp]) -> SelectionState:
    """The selection state of some rows (copies)."""
    return SelectionState(
        sel.excluded[rows],
        sel.answered_tubes[rows],
        sel.answered_skills[rows],
        sel.seen_competences[rows],
        sel.recent_competences[rows],
        sel.n_answers[rows],
    )


@dataclass(frozen=True, slots=True, eq=False)
class Shortlist:
    """Per capacity cell, the few challenges of each competence that can rank in a top 5.

    For a cell ``[t0, t1)`` of capacities, a challenge's information is at most
    ``u = a² σ(a d) σ(−a d)`` with ``d`` its difficulty's distance to the cell (0 inside):
    the list keeps, per competence, the ``m`` challenges of largest ``u`` and the bound
    ``u`` of the next one. A top 5 found in the lists is exact when its 5th information
    exceeds the bound of every competence the rules still allow: no challenge left out
    can reach it (strictly, so no tie either). Otherwise the full ranking runs.

    ``upper`` and ``lower`` bound each listed challenge's information over the cell
    (``lower`` at the cell's far end): a challenge whose ``upper`` is below the ``top_n``-th
    largest ``lower`` of the pool cannot rank, and the compiled ranking skips its
    information; it visits the competences' lists in ``block_order`` (best first).

    With a historical minimum success rate ``r`` (``rate``), the lists rank only the
    challenges that can meet it somewhere in the cell (``P(success) ≥ r``, i.e. for a > 0
    a capacity at least ``τ = b + logit(r)/a``, taken with a margin): ``u`` bounds the
    information over the part of the cell where the challenge can pass, a challenge that
    cannot pass in the cell is not listed (and counts 0 in ``bound``), and ``lower`` is
    kept only for challenges that surely pass over the whole cell (−inf otherwise, so the
    compiled ranking never skips on the strength of a challenge the filter may drop).
    Whether a listed challenge meets the rate is then decided at the capacity by the
    engine's own expression.
    """

    lo: float
    width: float
    items: npt.NDArray[np.int64]
    bound: npt.NDArray[np.float64]
    upper: npt.NDArray[np.float64]
    lower: npt.NDArray[np.float64]
    block_order: npt.NDArray[np.int64]
    rate: float | None = None


def _information_bound(
    a: npt.NDArray[np.float64], distance: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """``a² σ(a d) σ(−a d)``: the information at distance ``d`` from the difficulty."""
    z = a * distance
    out: npt.NDArray[np.float64] = np.square(a) * np.exp(-z) / np.square(1.0 + np.exp(-z))
    return out


def shortlist(
    runtime: Runtime, m: int = 8, width: float = 0.1, rate: float | None = None
) -> Shortlist:
    """The shortlists of ``runtime``'s bank (kept with the bank), for a success rate or none."""
    model = runtime.model
    assert model is not None
    st = runtime.structure

    def build() -> Shortlist:
        lo, hi = float(model.grid_min), float(model.grid_max)
        n_cells = math.ceil((hi - lo) / width) + 1
        t0 = lo + width * np.arange(n_cells)[:, None]
        t1 = t0 + width
        a = st.a[None, :]
        b = st.b[None, :]
        # the part of the cell where the challenge can meet the rate: [start, t1]
        start = np.broadcast_to(t0, (n_cells, st.n_items))
        surely = np.ones((n_cells, st.n_items), dtype=bool)  # meets it over the whole cell
        never = np.zeros((n_cells, st.n_items), dtype=bool)
        if rate is not None:
            positive = a > 0
            safe_a = np.where(positive, a, 1.0)
            tau = b + math.log(rate / (1.0 - rate)) / safe_a
            margin = 1e-6 * (1.0 + 1.0 / safe_a) + 1e-9 * np.abs(tau)
            # a <= 0 (never in Pix banks): the whole cell, never surely
            start = np.where(positive, np.maximum(t0, tau - margin), t0)
            never = positive & (tau - margin >= t1)
            surely = positive & (tau + margin <= t0)
        d = np.where(b < start, start - b, np.where(b > t1, b - t1, 0.0))
        u = _information_bound(a, d)
        u = u * (1.0 + 1e-9) + 1e-300  # never below the computed information
        u = np.where(never, 0.0, u)
        # information at the far end of the cell (widened a little), never above the computed one
        far = np.maximum(np.abs(b - t0), np.abs(b - t1)) + 1e-9
        low = _information_bound(a, far) * (1.0 - 1e-9)
        low = np.where(surely, low, -np.inf)
        n_comp = len(st.competences)
        items = np.full((n_cells, n_comp * m), -1, dtype=np.int64)
        bound = np.zeros((n_cells, n_comp))
        cells = np.arange(n_cells)
        for c in range(n_comp):  # 16 competences: a loop over lists, not candidates
            members = np.flatnonzero(st.competence == c)
            order = members[np.argsort(-u[:, members], axis=1, kind="stable")]
            k = min(m, len(members))
            block = order[:, :k]
            items[:, c * m : c * m + k] = np.where(u[cells[:, None], block] > 0, block, -1)
            if len(members) > m:
                bound[:, c] = u[cells, order[:, m]]
        cell = cells[:, None]
        listed = items >= 0
        upper = np.where(listed, u[cell, np.maximum(items, 0)], -np.inf)
        lower = np.where(listed, low[cell, np.maximum(items, 0)], -np.inf)
        block_order = np.argsort(-upper[:, ::m], axis=1, kind="stable").astype(np.int64)
        return Shortlist(lo, width, items, bound, upper, lower, block_order, rate)

    which = "none" if rate is None else float(rate).hex()
    key = f"sim.shortlist/{m}/{width}/{model.grid_min}/{model.grid_max}/{which}"
    shortlist: Shortlist = runtime.bank.derived(key, build)
    return shortlist


def fast_path_applies(runtime: Runtime) -> bool:
    """Whether the shortlist ranking can serve these rules (else the engine's, every step).

    It serves the tube or skill rule, the passage and between-competences rules and the
    minimum success rate, without warm-up nor forced competences, when each tube (or
    skill) lies in one competence (what :class:`AvailableCounts` relies on).
    """
    sel = runtime.rules.selection
    assert sel is not None
    st = runtime.structure
    if sel.forced_competences or sel.warm_up_length != 0:
        return False
    group = st.tube if sel.one_question_per_tube else st.skill
    if group is None:
        return False
    first = np.full(int(group.max()) + 1 if len(group) else 0, -1, dtype=np.int64)
    first[group] = st.competence
    return bool(np.all(first[group] == st.competence))


def _group(
    runtime: Runtime, sel: SelectionState
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The pool rule's groups: tubes (one question per tube) or skills (non-answered skills).

    Returns each challenge's group code and the ``(n, n_groups)`` answered groups.
    """
    sel_rules = runtime.rules.selection
    assert sel_rules is not None
    st = runtime.structure
    if sel_rules.one_question_per_tube:
        return st.tube, sel.answered_tubes
    assert st.skill is not None
    return st.skill, sel.answered_skills


def rank(
    runtime: Runtime,
    sel: SelectionState,
    counts: AvailableCounts,
    rows: npt.NDArray[np.intp],
    capacity: npt.NDArray[np.float64],
    fast: bool,
) -> npt.NDArray[np.int64]:
    """The engine's ranking (``candidate_pool`` then ``rank_by_information``) for ``rows``.

    Rows whose top 5 the shortlists prove exact take the fast path (compiled when numba
    is installed, numpy otherwise: the same rankings); the others (and every row when
    ``fast`` is False) run the engine's own functions. A row whose pool is empty gets
    only −1 (Pix's ``AssessmentLackOfChallengesError``: the caller says so).
    """
    sel_rules = runtime.rules.selection
    assert sel_rules is not None
    st = runtime.structure
    top_n = sel_rules.top_n
    out = np.full((len(rows), top_n), -1, dtype=np.int64)
    todo = np.ones(len(rows), dtype=bool)
    if fast:
        sl = shortlist(runtime)
        n_cells = sl.items.shape[0]
        top, proven = shortlist_top(kernels(), runtime, sel, counts, rows, capacity)
        proven &= (capacity >= sl.lo) & (capacity < sl.lo + sl.width * n_cells)
        out[proven] = top[proven]
        todo = ~proven
    if todo.any():
        sub = rows[todo]
        part = select_rows(sel, sub)
        pool = candidate_pool(st, part, sel_rules)
        rate = None
        if sel_rules.minimum_success_rate:
            rate = np.array([sel_rules.minimum_success_rate_at(int(n)) for n in part.n_answers])
        out[todo] = rank_by_information(
            capacity[todo], st, pool, top_n=top_n, minimum_success_rate=rate
        )
    return out


USE_KERNELS = True  # False: the numpy shortlist ranking even when numba is installed (tests)


def kernels() -> ModuleType | None:
    """:mod:`pixirt.cat._kernels` when numba is importable (and allowed), else None."""
    if not USE_KERNELS:
        return None
    import importlib

    try:
        return importlib.import_module("pixirt.cat._kernels")
    except ImportError:  # numba is not installed (pip install pixirt[fast])
        return None


_Hits = tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]
]


def shortlist_top(
    kernels: ModuleType | None,
    runtime: Runtime,
    sel: SelectionState,
    counts: AvailableCounts,
    rows: npt.NDArray[np.intp],
    capacity: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The top 5 of each row found in the shortlists, best first, and whether it is proven exact.

    Compiled (``kernels``) or numpy (None): the same rankings and proofs for capacities
    inside the cells (the caller drops the others).

    Without a minimum success rate (or a rate of 0, which every challenge meets): the top
    5 of the shortlisted pool, proven when its 5th information exceeds (strictly) the
    bound of every competence the rules allow. With a rate ``0 < r < 1`` the engine ranks
    the challenges meeting it first: the top 5 of the meeting hits of the rate's lists
    when there are five, proven against those lists' bounds; with fewer (``k``), when the
    lists hold every challenge that can meet the rate in the cell (bounds 0), those ``k``
    then the best ``5 − k`` hits of the plain lists not meeting it, proven against the
    plain bounds. Whether a challenge meets the rate is the engine's expression
    (``probability(θ, a, b) ≥ r``) on the hits. Anything else (a rate of 1 or more) is
    left unproven.
    """
    sel_rules = runtime.rules.selection
    assert sel_rules is not None
    if not sel_rules.minimum_success_rate:
        return _plain_top(kernels, runtime, sel, counts, rows, capacity)
    top_n = sel_rules.top_n
    k = len(rows)
    top = np.full((k, top_n), -1, dtype=np.int64)
    proven = np.zeros(k, dtype=bool)
    values, which = np.unique(sel.n_answers[rows], return_inverse=True)
    rate_of = np.array([sel_rules.minimum_success_rate_at(int(v)) for v in values])
    rates = rate_of[which.ravel()]
    distinct = np.unique(rates).tolist()
    for r in distinct:
        part = np.flatnonzero(rates == r) if len(distinct) > 1 else np.arange(k)
        if r == 0.0:
            t, p = _plain_top(kernels, runtime, sel, counts, rows[part], capacity[part])
        elif 0.0 < r < 1.0:
            t, p = _rate_top(kernels, runtime, sel, counts, rows[part], capacity[part], r)
        else:
            continue
        top[part], proven[part] = t, p
    return top, proven


def cells(sl: Shortlist, capacity: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """The shortlist cell of each capacity (clipped to the grid's cells)."""
    n_cells = sl.items.shape[0]
    cell = ((capacity - sl.lo) / sl.width).astype(np.int64)
    return np.asarray(np.minimum(np.maximum(cell, 0), n_cells - 1), dtype=np.int64)


def _plain_top(
    kernels: ModuleType | None,
    runtime: Runtime,
    sel: SelectionState,
    counts: AvailableCounts,
    rows: npt.NDArray[np.intp],
    capacity: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    st = runtime.structure
    sl = shortlist(runtime)
    offsets, hit_row, hit_item, limit = _hits(kernels, runtime, sl, sel, counts, rows, capacity)
    info = reward(capacity[hit_row], st.a[hit_item], st.b[hit_item])
    top_n = _top_n(runtime)
    need = np.full(len(rows), top_n, dtype=np.int64)
    return _top(kernels, offsets, hit_row, hit_item, info, limit, need, top_n)


def _top_n(runtime: Runtime) -> int:
    sel_rules = runtime.rules.selection
    assert sel_rules is not None
    return sel_rules.top_n


def _keep(
    offsets: npt.NDArray[np.int64],
    hit_row: npt.NDArray[np.int64],
    hit_item: npt.NDArray[np.int64],
    keep: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The hits where ``keep`` (offsets recomputed)."""
    n_rows = len(offsets) - 1
    hit_row, hit_item = hit_row[keep], hit_item[keep]
    offsets = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(hit_row, minlength=n_rows), out=offsets[1:])
    return offsets, hit_row, hit_item


def _rate_top(
    kernels: ModuleType | None,
    runtime: Runtime,
    sel: SelectionState,
    counts: AvailableCounts,
    rows: npt.NDArray[np.intp],
    capacity: npt.NDArray[np.float64],
    rate: float,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    st = runtime.structure
    top_n = _top_n(runtime)
    k = len(rows)
    slr = shortlist(runtime, rate=rate)
    offsets, hit_row, hit_item, limit = _hits(kernels, runtime, slr, sel, counts, rows, capacity)
    # rank_by_information's filter, element by element
    meets = probability(capacity[hit_row], st.a[hit_item], st.b[hit_item]) >= rate
    offsets, hit_row, hit_item = _keep(offsets, hit_row, hit_item, meets)
    info = reward(capacity[hit_row], st.a[hit_item], st.b[hit_item])
    need = np.full(k, top_n, dtype=np.int64)
    top, proven = _top(kernels, offsets, hit_row, hit_item, info, limit, need, top_n)
    n_meet = np.minimum(np.diff(offsets), top_n)
    # fewer than top_n meet it, and the lists hold all that can: those first, then the rest
    mixed = np.flatnonzero((n_meet < top_n) & (limit <= 0.0))
    if len(mixed):
        sub_rows, sub_cap = rows[mixed], capacity[mixed]
        sl = shortlist(runtime)
        off2, row2, item2, lim2 = _hits(kernels, runtime, sl, sel, counts, sub_rows, sub_cap)
        fails = ~(probability(sub_cap[row2], st.a[item2], st.b[item2]) >= rate)
        off2, row2, item2 = _keep(off2, row2, item2, fails)
        info2 = reward(sub_cap[row2], st.a[item2], st.b[item2])
        first = n_meet[mixed]
        rest, proven2 = _top(kernels, off2, row2, item2, info2, lim2, top_n - first, top_n)
        col = np.arange(top_n)[None, :]
        shifted = np.take_along_axis(rest, np.maximum(col - first[:, None], 0), axis=1)
        top[mixed] = np.where(col < first[:, None], top[mixed], shifted)
        proven[mixed] = proven2
    return top, proven


def _hits(
    kernels: ModuleType | None,
    runtime: Runtime,
    sl: Shortlist,
    sel: SelectionState,
    counts: AvailableCounts,
    rows: npt.NDArray[np.intp],
    capacity: npt.NDArray[np.float64],
) -> _Hits:
    """The shortlist challenges in each row's pool, and its limit.

    Flat: row ``i``'s hits are ``hit_item[offsets[i]:offsets[i + 1]]`` (``hit_row`` local
    row numbers); ``limit`` is the largest bound of the competences the rules allow.
    Compiled: only the hits whose bounds let them reach the top ``top_n``; numpy: all.
    """
    sel_rules = runtime.rules.selection
    assert sel_rules is not None
    st = runtime.structure
    g = cells(sl, capacity)
    if kernels is None:
        return _hits_numpy(runtime, sl, sel, counts, rows, g)
    group, answered_groups = _group(runtime, sel)
    offsets, hit_row, hit_item, limit = kernels.shortlist_hits(
        np.asarray(rows, dtype=np.int64),
        g,
        sl.items,
        sl.upper,
        sl.lower,
        sl.block_order,
        sl.bound,
        st.competence,
        group,
        sel.excluded,
        counts.alerted,
        answered_groups,
        sel.seen_competences,
        counts.avail_comp,
        counts.pool_comp,
        sel.recent_competences,
        sel_rules.challenges_between_same_competence,
        sel_rules.passage_by_all_competences,
        sel_rules.top_n,
    )
    return offsets, hit_row, hit_item, limit


def _top(
    kernels: ModuleType | None,
    offsets: npt.NDArray[np.int64],
    hit_row: npt.NDArray[np.int64],
    hit_item: npt.NDArray[np.int64],
    info: npt.NDArray[np.float64],
    limit: npt.NDArray[np.float64],
    need: npt.NDArray[np.int64],
    top_n: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Each row's best ``top_n`` hits (ties in bank order), and whether its first ``need`` are proven.

    Proven: that many hits, none other tied with the last of them, above ``limit``.
    """
    if kernels is not None:
        top, proven = kernels.top_of_hits(offsets, hit_item, info, limit, need, top_n)
        return top, proven
    k = len(offsets) - 1
    order = np.lexsort((hit_item, -info, hit_row))
    rank = np.arange(len(order)) - offsets[hit_row[order]]
    first = rank < top_n
    top = np.full((k, top_n), -1, dtype=np.int64)
    top[hit_row[order][first], rank[first]] = hit_item[order][first]
    enough = np.diff(offsets) >= need
    threshold = np.full(k, np.inf)
    threshold[enough] = info[order][(offsets[:-1] + need - 1)[enough]]
    ties = np.bincount(hit_row[info >= threshold[hit_row]], minlength=k)
    proven = enough & (ties == need) & (threshold > limit)
    return top, np.asarray(proven, dtype=bool)


def _hits_numpy(
    runtime: Runtime,
    sl: Shortlist,
    sel: SelectionState,
    counts: AvailableCounts,
    rows: npt.NDArray[np.intp],
    g: npt.NDArray[np.int64],
) -> _Hits:
    """:func:`_hits` in numpy: every shortlist challenge of the pool."""
    sel_rules = runtime.rules.selection
    assert sel_rules is not None
    st = runtime.structure
    group, answered_groups = _group(runtime, sel)
    k = len(rows)
    ar = np.arange(k)[:, None]
    cand = sl.items[g]
    valid = cand >= 0
    cpos = np.where(valid, cand, 0)
    comp_c = st.competence[cpos]
    n_comp = len(st.competences)
    seen = sel.seen_competences[rows]
    avail_comp = counts.avail_comp[rows] > 0
    passage: npt.NDArray[np.bool_] = np.zeros(k, dtype=bool)
    if sel_rules.passage_by_all_competences:
        passage = np.asarray((avail_comp & ~seen).any(axis=1), dtype=bool)
    in_pool = valid & ~sel.excluded[rows[:, None], cpos]
    by_group = ~answered_groups[rows[:, None], group[cpos]]
    by_comp = ~seen[ar, comp_c]
    in_pool &= np.where(passage[:, None], by_comp, by_group)
    allowed = np.where(passage[:, None], ~seen, True)
    n_recent = sel_rules.challenges_between_same_competence
    if n_recent > 0 and sel.recent_competences.shape[1]:
        recent = sel.recent_competences[rows][:, -n_recent:]
        recent_mask = np.zeros((k, n_comp + 1), dtype=bool)
        recent_mask[
            np.repeat(np.arange(k), recent.shape[1]),
            np.where(recent < 0, n_comp, recent).ravel(),
        ] = True
        recent_mask = recent_mask[:, :n_comp]
        pool_comp = counts.pool_comp[rows] > 0
        left = np.where(passage[:, None], avail_comp & ~seen, pool_comp)
        kept_any: npt.NDArray[np.bool_] = np.asarray((left & ~recent_mask).any(axis=1), dtype=bool)
        blocked = kept_any[:, None] & recent_mask
        in_pool &= ~blocked[ar, comp_c]
        allowed &= ~blocked
    hit_r, hit_c = np.nonzero(in_pool)
    offsets = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(in_pool.sum(axis=1), out=offsets[1:])
    limit = np.where(allowed, sl.bound[g], 0.0).max(axis=1)
    return offsets, hit_r.astype(np.int64), cpos[hit_r, hit_c].astype(np.int64), limit


@dataclass(slots=True)
class AvailableCounts:
    """Per candidate, the challenges still available, kept up to date as answers come.

    ``avail_group`` (per group of the pool rule: tube with one question per tube, skill
    otherwise) and ``avail_comp`` (per competence) count the challenges not excluded;
    ``pool_comp`` those not excluded whose group is not answered yet (the pool of the
    one-question-per-tube or non-answered-skills rule). They decide, without a pass over
    the whole bank, the "unless that leaves nothing" fallbacks of the passage and
    between-competences rules.

    ``alerted`` marks the candidates with exclusions beyond their answered challenges (live
    alerts). For the others the fast path's pool rules already drop every excluded
    challenge (its tube and skill are answered, and its competence seen), so the compiled
    ranking reads their ``(n_items,)`` exclusion row only for ``alerted`` candidates.
    """

    avail_group: npt.NDArray[np.int64]
    avail_comp: npt.NDArray[np.int64]
    pool_comp: npt.NDArray[np.int64]
    alerted: npt.NDArray[np.bool_]

    @classmethod
    def start(
        cls,
        st: Any,
        excluded: npt.NDArray[np.bool_],
        group: npt.NDArray[np.int64],
        n_groups: int,
    ) -> AvailableCounts:
        """Counts before any answer, given each row's initial exclusions ``(n, n_items)``."""
        n = excluded.shape[0]
        n_comp = len(st.competences)
        per_group = np.tile(np.bincount(group, minlength=n_groups).astype(np.int64), (n, 1))
        per_comp = np.tile(np.bincount(st.competence, minlength=n_comp).astype(np.int64), (n, 1))
        alerted = np.asarray(excluded.any(axis=1), dtype=bool)
        rows = np.flatnonzero(alerted)
        if len(rows):  # candidates who need accessible challenges
            r, i = np.nonzero(excluded[rows])
            k = len(rows)
            per_group[rows] -= np.bincount(r * n_groups + group[i], minlength=k * n_groups).reshape(
                k, n_groups
            )
            per_comp[rows] -= np.bincount(
                r * n_comp + st.competence[i], minlength=k * n_comp
            ).reshape(k, n_comp)
        return cls(per_group, per_comp, per_comp.copy(), alerted)

    def copy(self) -> AvailableCounts:
        """An independent copy."""
        return AvailableCounts(
            self.avail_group.copy(),
            self.avail_comp.copy(),
            self.pool_comp.copy(),
            self.alerted.copy(),
        )
