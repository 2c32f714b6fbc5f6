"""Orlando & Thissen's S-X² item fit, computed per form of persons.

The forms (sets of persons who answered the same items), the sum-score likelihoods
(Lord–Wingersky) and mirt's cell collapsing.

S-X² (Orlando & Thissen 2000) with mirt's cell collapsing (``mincell = 1``) is computed
on every *form* with at least ``min_form_size`` persons. With a single form (dense data)
it is mirt's ``itemfit`` S-X²; with several forms the statistics and cell counts are
summed over forms (each form is an independent sample) and the item's parameters are
subtracted once. On adaptive logs no two persons share a form and S-X² is **not
computed**: the ``note`` column says so, and :func:`~pixirt.calibration.binned_fit` is
the alternative.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from pixirt._item_bank import ItemBank
from pixirt._response_log import ResponseLog
from pixirt.calibration._ability import Aligned, align, check_n_quad, grid, resolve_prior
from pixirt.calibration._item_fit_common import item_frame, n_item_parameters, n_scale_parameters
from pixirt.exceptions import DataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


# --------------------------------------------------------------------------- forms
def identify_forms(log: ResponseLog) -> pd.Series:
    """The form of each person: persons who answered exactly the same set of items.

    Parameters
    ----------
    log
        The answers.

    Returns
    -------
    pandas.Series
        Indexed by ``person_id``: the form number, 0 for the most frequent form, 1 for
        the next, ... (ties in first-appearance order); -1 for persons with no answer.
    """
    rng = np.random.default_rng(0x5EED)  # fixed hashing keys, not a random draw
    keys = rng.integers(1, np.iinfo(np.int64).max, size=log.n_items, dtype=np.int64).astype(
        np.uint64
    )
    counts = np.diff(log.indptr)
    some = np.flatnonzero(counts > 0)
    h = np.zeros(log.n_persons, dtype=np.uint64)
    if len(some):  # a 64-bit random sum per item set (mod 2^64): collisions are negligible
        h[some] = np.add.reduceat(keys[log.indices], log.indptr[some])
    h += counts.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    codes, _ = pd.factorize(h, sort=False)
    sizes = np.bincount(codes)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    form = rank[codes].astype(np.int64)
    form[counts == 0] = -1
    if (counts == 0).any():  # renumber so that forms with answers start at 0
        present = np.unique(form[form >= 0])
        remap = np.full(form.max() + 1, -1, dtype=np.int64)
        remap[present] = np.arange(len(present))
        form = np.where(form >= 0, remap[np.maximum(form, 0)], -1)
    return pd.Series(form, index=pd.Index(log.person_ids, name="person_id"), name="form")


# --------------------------------------------------------------------------- S-X2
def _answer_rows(indptr: IntArray, persons: IntArray) -> IntArray:
    """Positions in the CSR arrays of the answers of ``persons``, person after person."""
    counts = indptr[persons + 1] - indptr[persons]
    before = np.cumsum(counts) - counts
    rows = np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(
        indptr[persons] - before, counts
    )
    return np.asarray(rows, dtype=np.int64)


def sum_score_likelihoods(p: FloatArray) -> FloatArray:
    """Lord–Wingersky: ``(n_items + 1, n_nodes)`` probability of each sum score per node."""
    n_items, n_nodes = p.shape
    out = np.zeros((n_items + 1, n_nodes))
    out[0] = 1.0
    for j in range(n_items):  # a loop over the items of a form
        new = out[: j + 2] * (1.0 - p[j])
        new[1:] += out[: j + 1] * p[j]
        out[: j + 2] = new
    return out


def _collapse(obs: FloatArray, exp: FloatArray, mincell: float) -> tuple[FloatArray, FloatArray]:
    """Collapse cells as mirt's ``collapseCells`` does, for one dichotomous item (rows = sum scores 1..J−1)."""
    on, en = obs.copy(), exp.copy()
    keep = on.sum(axis=1) != 0
    on, en = on[keep], en[keep]
    if len(on) == 0:
        return on, en
    drop = []
    for j in range(len(on) - 1):  # rows of a small table
        if on[j].sum() == 1:
            drop.append(j)
            on[j + 1] += on[j]
            en[j + 1] += en[j]
    if drop:
        on, en = np.delete(on, drop, axis=0), np.delete(en, drop, axis=0)
    if len(on) > 1 and on[-1].sum() == 1:
        on[-2] += on[-1]
        en[-2] += en[-1]
        on, en = on[:-1], en[:-1]
    en = np.nan_to_num(en)
    if len(en) and (en[:, 1] > 0).sum() / len(en) < 0.05:
        en[:, 0] += en[:, 1]
        on[:, 0] += on[:, 1]
        en[:, 1] = 0.0
        on[:, 1] = 0.0
    while len(en) > 1:
        small = (en < mincell) & (en != 0)
        rows = np.flatnonzero(small.any(axis=1))
        if len(rows) == 0:
            break
        w = int(rows[0])
        if w == 0:
            pick = 1
        elif w == len(en) - 1:
            pick = w - 1
        else:
            up, down = on[w - 1].sum(), on[w + 1].sum()
            pick = w - 1 if up <= down else w + 1
        en[pick] += en[w]
        on[pick] += on[w]
        en, on = np.delete(en, w, axis=0), np.delete(on, w, axis=0)
    en[en == 0] = np.nan
    return on, en


def _add_form(
    al: Aligned,
    members: IntArray,
    items: IntArray,
    nodes: FloatArray,
    weights: FloatArray,
    mincell: float,
    sums: tuple[FloatArray, FloatArray, IntArray, IntArray],
) -> None:
    """Add one form's S-X² terms to the items' sums (in place).

    ``sums``: per item, ``X²``, the cells kept, the persons and the forms.
    """
    x2, cells, n_persons, n_forms = sums
    k = al.n_items
    n_j = len(items)
    col = np.full(k, -1, dtype=np.int64)
    col[items] = np.arange(n_j)
    answer_pos = _answer_rows(al.indptr, members)
    person_of = np.repeat(np.arange(len(members)), al.counts[members])
    dense = np.zeros((len(members), n_j), dtype=np.int64)
    dense[person_of, col[al.indices[answer_pos]]] = al.answers[answer_pos]
    total = dense.sum(axis=1)
    p = al.c[items, None] + (1.0 - al.c[items, None]) / (
        1.0 + np.exp(-al.a[items, None] * (nodes[None, :] - al.b[items, None]))
    )
    marg = sum_score_likelihoods(p) @ weights  # P(total = s)
    n_by_score = np.bincount(total, minlength=n_j + 1).astype(np.float64)
    for j in range(n_j):  # a loop over the items of the form
        rest = sum_score_likelihoods(np.delete(p, j, axis=0))  # (n_j, n_nodes)
        e = np.full((n_j + 1, 2), np.nan)
        e[:n_j, 0] = rest @ ((1.0 - p[j]) * weights) / marg[:n_j]
        e[1:, 1] = rest @ (p[j] * weights) / marg[1:]
        obs = np.zeros((n_j + 1, 2))
        np.add.at(obs, (total, dense[:, j]), 1.0)
        o_mid, e_mid = obs[1:-1], e[1:-1] * n_by_score[1:-1, None]
        o_c, e_c = _collapse(o_mid, e_mid, mincell)
        ok = np.isfinite(e_c)
        i = items[j]
        x2[i] += float(np.sum((o_c[ok] - e_c[ok]) ** 2 / e_c[ok]))
        cells[i] += ok.sum() - len(e_c)
        n_persons[i] += len(members)
        n_forms[i] += 1


def s_x2(
    log: ResponseLog,
    bank: ItemBank,
    *,
    prior: tuple[float, float] | None = None,
    n_quad: int = 61,
    mincell: float = 1.0,
    min_form_size: int = 100,
) -> pd.DataFrame:
    """Orlando–Thissen S-X² per item, on the forms shared by enough persons.

    Parameters
    ----------
    log
        The answers.
    bank
        Item parameters (the model gives the degrees of freedom: 1 parameter per item
        for Rasch/1PL plus one shared scale parameter, 2 for the 2PL, 3 for the 3PL).
    prior
        ``(mean, sd)`` of the latent distribution; default the bank's.
    n_quad
        Quadrature nodes over ``mean ± 6 sd``.
    mincell
        Minimum expected cell count before sum-score groups are merged (mirt: 1).
    min_form_size
        Forms (sets of persons with identical item sets) with fewer persons are ignored.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``item_id``: ``s_x2``, ``df``, ``rmsea``, ``p_value``, ``n_persons``,
        ``n_forms``, ``computed`` and ``note`` (why not computed).
    """
    al = align(log, bank)
    mean, sd = resolve_prior(bank, prior)
    nodes, log_w = grid(mean, sd, check_n_quad(n_quad))
    weights = np.exp(log_w)
    if isinstance(min_form_size, bool) or not isinstance(min_form_size, int) or min_form_size < 2:
        raise DataError(
            f"The 'min_form_size' parameter must be an int >= 2. Got {min_form_size!r} instead.",
            field="min_form_size",
        )
    forms = identify_forms(log).to_numpy()
    sizes = np.bincount(forms[forms >= 0]) if (forms >= 0).any() else np.zeros(0, dtype=np.int64)
    k = al.n_items
    x2 = np.zeros(k)
    cells = np.zeros(k)
    n_persons = np.zeros(k, dtype=np.int64)
    n_forms = np.zeros(k, dtype=np.int64)
    n_forms_used = 0
    for f in np.flatnonzero(sizes >= min_form_size):  # a loop over the (few) shared forms
        members = np.flatnonzero(forms == f)
        first = members[0]
        items = np.sort(al.indices[al.indptr[first] : al.indptr[first + 1]]).astype(np.int64)
        n_j = len(items)
        if n_j < 3:
            continue
        n_forms_used += 1
        _add_form(al, members, items, nodes, weights, mincell, (x2, cells, n_persons, n_forms))
    df = cells - n_item_parameters(bank.model) - n_scale_parameters(bank.model)
    computed = n_forms > 0
    df = np.where(computed, np.maximum(df, 0), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(computed & (df > 0), x2, np.nan)
        rmsea = np.where(
            df > 0,
            np.sqrt(np.maximum(value / df - 1.0, 0.0) / np.maximum(n_persons - 1, 1)),
            np.nan,
        )
        p_value = np.where(df > 0, stats.chi2.sf(value, np.where(df > 0, df, 1)), np.nan)
    note = np.where(
        computed,
        "",
        f"not computed: no form (persons answering exactly the same items) of >= {min_form_size} "
        "persons holds this item; see binned_fit",
    )
    return item_frame(
        al,
        {
            "s_x2": value,
            "df": df,
            "rmsea": rmsea,
            "p_value": p_value,
            "n_persons": n_persons,
            "n_forms": n_forms,
            "computed": computed,
            "note": note,
        },
    )
