"""Compiled kernels of the v3 shortlist ranking (optional: ``pip install pixirt[fast]``).

Importing this module imports numba; :mod:`pixirt.cat._ranking` falls back to its
numpy ranking when that fails. The kernels only compare and copy numbers: the
information values ("reward") are computed between the two kernels by the engine's own
numpy function (:func:`pixirt.cat._capacity.reward`), so the ranking is the engine's bit
for bit whatever numba's ``exp``.

- :func:`shortlist_hits`: for each candidate, the shortlist challenges the rules allow
  (the pool rules of the fast path, :func:`pixirt.cat.candidate_pool`), without
  those whose information bound cannot reach the top ``top_n``, as a flat list;
- :func:`top_of_hits`: each candidate's best ``top_n`` of those, best first (ties in bank
  order), and whether they are proven to be the engine's top (no tie at the last one, and
  above every challenge left out of the shortlists).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba  # type: ignore[import-not-found, unused-ignore]  # optional: the fast extra
import numpy as np
import numpy.typing as npt

__all__ = ["shortlist_hits", "top_of_hits"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _jit(func: _F) -> _F:
    """Compile lazily, cached on disk.

    Where the package is read-only (a system install without ``NUMBA_CACHE_DIR``), the
    kernels are compiled at each first use instead of not at all.
    """
    try:
        return cast(_F, numba.njit(cache=True, nogil=True)(func))
    except RuntimeError:  # numba found no writable cache location
        return cast(_F, numba.njit(nogil=True)(func))


@_jit
def shortlist_hits(
    rows: npt.NDArray[np.int64],
    cells: npt.NDArray[np.int64],
    items: npt.NDArray[np.int64],
    upper: npt.NDArray[np.float64],
    lower: npt.NDArray[np.float64],
    block_order: npt.NDArray[np.int64],
    bound: npt.NDArray[np.float64],
    competence: npt.NDArray[np.int64],
    group: npt.NDArray[np.int64],
    excluded: npt.NDArray[np.bool_],
    alerted: npt.NDArray[np.bool_],
    answered_groups: npt.NDArray[np.bool_],
    seen: npt.NDArray[np.bool_],
    avail_comp: npt.NDArray[np.int64],
    pool_comp: npt.NDArray[np.int64],
    recent: npt.NDArray[np.int64],
    n_recent: int,
    passage_rule: bool,
    top_n: int,
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]
]:
    """The shortlist challenges in each candidate's pool that can rank in its top ``top_n``.

    Parameters
    ----------
    rows
        ``(k,)`` candidates (rows of the state arrays).
    cells
        ``(k,)`` their capacity cells (rows of ``items``, ``upper``, ``lower``, ``bound``).
    items, upper, lower
        ``(n_cells, M)``: the shortlists (−1: none) and bounds of each entry's information
        over the cell (``lower ≤ information ≤ upper``). Block ``c`` (entries
        ``c·M/n_competences`` on) lists competence ``c``, by non-increasing ``upper``.
    block_order
        ``(n_cells, n_competences)``: the blocks by decreasing first ``upper`` (visited in
        that order, so the ``top_n``-th lower bound rises early and ends the other blocks).
    bound
        ``(n_cells, n_competences)``: bound of the challenges left out of the shortlists.
    competence, group
        ``(n_items,)`` codes: competence, and group of the pool rule (tube for one
        question per tube, skill for the non-answered skills rule).
    excluded, answered_groups, seen, avail_comp, pool_comp, recent
        The selection state and counts (rows indexed by ``rows``); ``answered_groups``
        the answered tubes or skills.
    alerted
        Rows whose exclusions go beyond their answered challenges: ``excluded`` is read for
        those only (an answered challenge's tube and skill are answered and its
        competence seen).
    n_recent
        N of the "challenges between same competence" rule (0: none).
    passage_rule
        ``passage_by_all_competences``.
    top_n
        Size of the ranking.

    Returns
    -------
    offsets, hit_row, hit_item, limit
        Candidate ``i``'s hits are ``hit_item[offsets[i]:offsets[i + 1]]`` (bank
        positions, in shortlist order; ``hit_row`` repeats ``i``); ``limit[i]`` is the
        largest bound of the competences the rules allow. Every pool challenge of the
        shortlist left out has an information below the ``top_n``-th best of the pool
        (strictly): ``top_n`` pool challenges have a lower bound at least its upper bound.
    """
    k = rows.shape[0]
    width = items.shape[1]
    n_comp = bound.shape[1]
    offsets = np.zeros(k + 1, dtype=np.int64)
    hit_row = np.empty(k * width, dtype=np.int64)
    hit_item = np.empty(k * width, dtype=np.int64)
    limit = np.zeros(k, dtype=np.float64)
    blocked = np.zeros(n_comp, dtype=np.bool_)
    recent_mask = np.zeros(n_comp, dtype=np.bool_)
    in_pool = np.empty(width, dtype=np.int64)
    best = np.empty(top_n, dtype=np.float64)
    n_hits = 0
    for i in range(k):
        r = rows[i]
        cell = cells[i]
        passage = _blocked_competences(
            r, passage_rule, n_recent, avail_comp, seen, pool_comp, recent, blocked, recent_mask
        )
        lim = 0.0
        for c in range(n_comp):
            if not blocked[c] and not (passage and seen[r, c]):
                lim = max(lim, bound[cell, c])
        limit[i] = lim
        n_in, floor = _pool_entries(
            r,
            cell,
            passage,
            alerted[r],
            items,
            upper,
            lower,
            block_order,
            group,
            excluded,
            answered_groups,
            seen,
            blocked,
            in_pool,
            best,
        )
        for q in range(n_in):
            j = in_pool[q]
            if upper[cell, j] >= floor:
                hit_row[n_hits] = i
                hit_item[n_hits] = items[cell, j]
                n_hits += 1
        offsets[i + 1] = n_hits
    return offsets, hit_row[:n_hits], hit_item[:n_hits], limit


@_jit
def _blocked_competences(
    r: int,
    passage_rule: bool,
    n_recent: int,
    avail_comp: npt.NDArray[np.int64],
    seen: npt.NDArray[np.bool_],
    pool_comp: npt.NDArray[np.int64],
    recent: npt.NDArray[np.int64],
    blocked: npt.NDArray[np.bool_],
    recent_mask: npt.NDArray[np.bool_],
) -> bool:
    """Candidate ``r``'s competence rules: passage by all competences, and what is blocked.

    Returns whether passage by all competences applies; ``blocked`` gets the competences
    the "challenges between same competence" rule leaves out (none when it would leave
    nothing).
    """
    n_comp = blocked.shape[0]
    n_cols = recent.shape[1]
    passage = False
    if passage_rule:
        for c in range(n_comp):
            if avail_comp[r, c] > 0 and not seen[r, c]:
                passage = True
                break
    for c in range(n_comp):
        blocked[c] = False
    if n_recent > 0 and n_cols > 0:
        for c in range(n_comp):
            recent_mask[c] = False
        for j in range(max(n_cols - n_recent, 0), n_cols):
            c = recent[r, j]
            if c >= 0:
                recent_mask[c] = True
        kept_any = False
        for c in range(n_comp):
            if passage:
                left = avail_comp[r, c] > 0 and not seen[r, c]
            else:
                left = pool_comp[r, c] > 0
            if left and not recent_mask[c]:
                kept_any = True
                break
        if kept_any:
            for c in range(n_comp):
                blocked[c] = recent_mask[c]
    return passage


@_jit
def _pool_entries(
    r: int,
    cell: int,
    passage: bool,
    check_excluded: bool,
    items: npt.NDArray[np.int64],
    upper: npt.NDArray[np.float64],
    lower: npt.NDArray[np.float64],
    block_order: npt.NDArray[np.int64],
    group: npt.NDArray[np.int64],
    excluded: npt.NDArray[np.bool_],
    answered_groups: npt.NDArray[np.bool_],
    seen: npt.NDArray[np.bool_],
    blocked: npt.NDArray[np.bool_],
    in_pool: npt.NDArray[np.int64],
    best: npt.NDArray[np.float64],
) -> tuple[int, float]:
    """Candidate ``r``'s shortlist entries in its pool, and the ``top_n``-th lower bound.

    ``in_pool`` gets the entries (the count is returned), ``best`` the ``top_n`` largest
    of their lower bounds, the last of which is returned. The rest of a block is skipped once its upper bound falls below the ``top_n``-th
    lower bound so far (its lower bounds are below it too).
    """
    n_comp = blocked.shape[0]
    per_comp = items.shape[1] // n_comp
    top_n = best.shape[0]
    n_in = 0
    for j in range(top_n):
        best[j] = -np.inf
    for q in range(n_comp):
        c = block_order[cell, q]
        if blocked[c] or (passage and seen[r, c]):
            continue
        for j in range(c * per_comp, (c + 1) * per_comp):
            item = items[cell, j]
            if item < 0 or upper[cell, j] < best[top_n - 1]:
                break
            if not passage and answered_groups[r, group[item]]:
                continue
            if check_excluded and excluded[r, item]:
                continue
            in_pool[n_in] = j
            n_in += 1
            low = lower[cell, j]
            if low > best[top_n - 1]:
                m = top_n - 1
                while m > 0 and best[m - 1] < low:
                    best[m] = best[m - 1]
                    m -= 1
                best[m] = low
    return n_in, best[top_n - 1]


@_jit
def top_of_hits(
    offsets: npt.NDArray[np.int64],
    hit_item: npt.NDArray[np.int64],
    info: npt.NDArray[np.float64],
    limit: npt.NDArray[np.float64],
    need: npt.NDArray[np.int64],
    top_n: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Each candidate's ``top_n`` hits by information (descending, ties in bank order).

    Parameters
    ----------
    offsets, hit_item, limit
        From :func:`shortlist_hits` (the hits possibly filtered since).
    info
        The information of each hit.
    need
        ``(k,)``: how many of the best must be proven (1 to ``top_n``).
    top_n
        Size of the ranking.

    Returns
    -------
    top, proven
        ``(k, top_n)`` bank positions (−1 where fewer hits), and whether the first
        ``need`` are proven: that many hits, none other tied with the last of them, whose
        information exceeds ``limit``.
    """
    k = offsets.shape[0] - 1
    top = np.full((k, top_n), -1, dtype=np.int64)
    proven = np.zeros(k, dtype=np.bool_)
    best_info = np.empty(top_n, dtype=np.float64)
    best_item = np.empty(top_n, dtype=np.int64)
    for i in range(k):
        lo = offsets[i]
        hi = offsets[i + 1]
        n_best = 0
        for h in range(lo, hi):
            x = info[h]
            item = hit_item[h]
            if n_best == top_n:
                last = best_info[top_n - 1]
                if not (x > last or (x == last and item < best_item[top_n - 1])):
                    continue
                m = top_n - 1
            else:
                m = n_best
                n_best += 1
            while m > 0 and (
                x > best_info[m - 1] or (x == best_info[m - 1] and item < best_item[m - 1])
            ):
                best_info[m] = best_info[m - 1]
                best_item[m] = best_item[m - 1]
                m -= 1
            best_info[m] = x
            best_item[m] = item
        for m in range(n_best):
            top[i, m] = best_item[m]
        n_need = need[i]
        if n_best < n_need:
            continue
        threshold = best_info[n_need - 1]
        ties = 0
        for h in range(lo, hi):
            if info[h] >= threshold:
                ties += 1
        proven[i] = ties == n_need and threshold > limit[i]
    return top, proven
