"""Item fit, person fit and local dependence, on dense and sparse logs.

Item fit
--------
:func:`infit_outfit`
    Infit and outfit mean squares with their Wilson–Hilferty z (Wright & Masters,
    1982), computed as R's mirt ``itemfit(x, "infit")`` does but over the answered cells
    only, so it works on sparse logs. Abilities are EAP scores by default (mirt's
    default); infinite scores are replaced by the largest (smallest) finite score ± 0.1
    and answer variances below ``sqrt(1e-5)`` are floored there, as mirt does.
:func:`s_x2`
    Orlando & Thissen's (2000) S-X² with mirt's cell collapsing (``mincell = 1``),
    computed on every *form* (set of persons who answered exactly the same items) with
    at least ``min_form_size`` persons. With a single form (dense data) it is mirt's
    ``itemfit`` S-X²; with several forms the statistics and cell counts are summed over
    forms (each form is an independent sample) and the item's parameters are
    subtracted once. On adaptive logs no two persons share a form and S-X² is **not
    computed**: the ``note`` column says so, and :func:`binned_fit` is the alternative.
:func:`binned_fit`
    A residual fit for sparse logs. For each answer, the person's *other* answers give
    a posterior for θ; from it, the probability that the answer is correct
    (``π``, the posterior predictive) and the leave-one-out EAP ``θ̂₋ᵢ``. Each item's
    answers are cut into ``n_bins`` equal-count bins of ``θ̂₋ᵢ`` and, per bin, the
    observed number right ``O`` is compared with ``E = Σ π``:
    ``X² = Σ_bins (O − E)² / Σ π (1 − π)``. Given the item parameters, every answer is
    Bernoulli(π) independently of the binning variable (which does not use it), so each
    standardized bin residual is asymptotically N(0, 1) and ``X²`` is χ² with
    ``n_bins`` degrees of freedom; when the parameters were estimated from the same
    answers (``estimated_parameters=True``, the default) the item's free parameters
    are subtracted, as in Yen's Q1 and Orlando–Thissen. The test's calibration
    (false-positive rate) is checked by simulation in the test suite. With millions of
    answers every misfit is significant: ``rmsd`` (root mean squared difference between
    observed and expected proportions, weighted by bin sizes, as in PISA's item fit)
    measures its size.

Person fit: :func:`person_fit` gives Snijders' (2001) ``lz*`` (``lz`` corrected for
the estimated θ; MLE, WLE or MAP scores), the uncorrected ``lz`` (Drasgow et al. 1985;
mirt's ``Zh``) and infit/outfit per person.

Local dependence: :func:`yen_q3` gives Yen's (1984) Q3 (correlations of the residuals
``y − P(θ̂)`` over the persons who answered both items) for dense or near-dense data;
:func:`q3_pairs` lists the pairs above ``mean(Q3) + 0.2`` (Christensen et al., 2017).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from scipy.special import expit, log_expit

from pixirt.calibration.ability import (
    Aligned,
    Method,
    align,
    check_n_quad,
    grid,
    leave_one_out,
    resolve_prior,
    score_persons,
)
from pixirt.exceptions import DataError
from pixirt.item_bank import ItemBank
from pixirt.models import Model
from pixirt.responses import ResponseLog

__all__ = [
    "binned_fit",
    "identify_forms",
    "infit_outfit",
    "item_fit",
    "person_fit",
    "q3_pairs",
    "s_x2",
    "yen_q3",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Reference = Literal["auto", "bootstrap", "chi2"]
_AUTO_BOOTSTRAP_MAX_ANSWERS = 200_000  # "auto": the bootstrap up to this many answers
_RMSD_CUT = 0.1  # PISA's item-fit threshold on the RMSD

_W_FLOOR = math.sqrt(1e-5)  # mirt's floor for the answer variance in infit/outfit


def _n_item_parameters(model: Model) -> int:
    return {"Rasch": 1, "1PL": 1, "2PL": 2, "3PL": 3}[model]


def _n_scale_parameters(model: Model) -> int:
    """Parameters shared by all items: the free latent variance (Rasch) or common slope (1PL)."""
    return 1 if model in ("Rasch", "1PL") else 0


def _scores_for(
    log: ResponseLog,
    bank: ItemBank,
    scores: pd.DataFrame | None,
    method: Method,
    prior: tuple[float, float] | None,
) -> pd.DataFrame:
    if scores is None:
        return score_persons(log, bank, method, prior=prior)
    if not isinstance(scores, pd.DataFrame) or not {"person_id", "theta"} <= set(scores.columns):
        raise DataError(
            "scores must be a DataFrame from score_persons (person_id, theta, ...)", field="scores"
        )
    if len(scores) != log.n_persons or not np.array_equal(
        scores["person_id"].to_numpy(), log.person_ids
    ):
        raise DataError(
            "scores must list the log's persons in log order (score_persons output)",
            field="scores",
        )
    return scores


def _finite_thetas(theta: FloatArray) -> FloatArray:
    """Replace ±inf, as mirt does, by the finite max + 0.1 / min − 0.1 (NaN stays NaN)."""
    out = theta.copy()
    fin = np.isfinite(out)
    if fin.any():
        out[out == np.inf] = out[fin].max() + 0.1
        out[out == -np.inf] = out[fin].min() - 0.1
    return out


def _item_frame(al: Aligned, columns: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(columns, index=pd.Index(al.item_ids, name="item_id"))


# --------------------------------------------------------------------------- infit / outfit
def _wilson_hilferty(ms: FloatArray, q: FloatArray) -> FloatArray:
    q = np.minimum(q, 1.4142)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((np.cbrt(ms) - 1.0) * (3.0 / q) + q / 3.0, dtype=np.float64)


def infit_outfit(
    log: ResponseLog,
    bank: ItemBank,
    *,
    scores: pd.DataFrame | None = None,
    method: Method = "EAP",
    prior: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Infit and outfit mean squares per item, with their standardized z.

    Parameters
    ----------
    log
        The answers (dense or sparse).
    bank
        Item parameters.
    scores
        Person scores from :func:`~pixirt.calibration.ability.score_persons` (computed
        with ``method`` and ``prior`` when None).
    method, prior
        Passed to ``score_persons`` when ``scores`` is None (EAP by default, as mirt).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``item_id``: ``n_answers``, ``outfit``, ``z_outfit``, ``infit``,
        ``z_infit`` (NaN for unanswered items).
    """
    al = align(log, bank)
    sc = _scores_for(log, bank, scores, method, prior)
    theta = _finite_thetas(sc["theta"].to_numpy(dtype=np.float64))
    person = log.person_index
    keep = np.isfinite(theta[person])
    items = al.indices[keep]
    th = theta[person[keep]]
    y = al.answers[keep].astype(np.float64)
    p = al.c[items] + (1.0 - al.c[items]) / (1.0 + np.exp(-al.a[items] * (th - al.b[items])))
    w = p * (1.0 - p)
    c4 = w * (p**3 + (1.0 - p) ** 3)  # E[(y − P)^4]
    w = np.where(w * w < 1e-5, _W_FLOOR, w)
    r2 = (y - p) ** 2
    k = al.n_items
    n = np.bincount(items, minlength=k).astype(np.float64)
    sum_w = np.bincount(items, weights=w, minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        outfit = np.bincount(items, weights=r2 / w, minlength=k) / n
        q_out = np.sqrt(np.bincount(items, weights=c4 / w**2, minlength=k) / n**2 - 1.0 / n)
        infit = np.bincount(items, weights=r2, minlength=k) / sum_w
        q_in = np.sqrt(np.bincount(items, weights=c4 - w**2, minlength=k) / sum_w**2)
    return _item_frame(
        al,
        {
            "n_answers": n.astype(np.int64),
            "outfit": outfit,
            "z_outfit": _wilson_hilferty(outfit, q_out),
            "infit": infit,
            "z_infit": _wilson_hilferty(infit, q_in),
        },
    )


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


def _sum_score_likelihoods(p: FloatArray) -> FloatArray:
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
        marg = _sum_score_likelihoods(p) @ weights  # P(total = s)
        n_by_score = np.bincount(total, minlength=n_j + 1).astype(np.float64)
        for j in range(n_j):  # a loop over the items of the form
            rest = _sum_score_likelihoods(np.delete(p, j, axis=0))  # (n_j, n_nodes)
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
    df = cells - _n_item_parameters(bank.model) - _n_scale_parameters(bank.model)
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
    return _item_frame(
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


# --------------------------------------------------------------------------- binned fit
def equal_count_bins(
    items: npt.NDArray[np.int32], key: FloatArray, n_items: int, n_bins: IntArray
) -> IntArray:
    """Per answer, its bin among the answers to the same item: equal-count bins of ``key``.

    Tied keys (to 1e-9: the same leave-one-out ability, e.g. the same other answers on
    a short test) share a bin, the bin of the first of them in key order; before issue
    18 they were split in log order, which on a log sorted by answer pattern (LSAT7)
    put the studied item's wrong and right answers in different bins and flagged
    fitting items.
    """
    n = len(items)
    rounded = np.round(np.asarray(key, dtype=np.float64), 9)
    order = np.lexsort((rounded, items))  # by item, then by key within item
    counts = np.bincount(items, minlength=n_items)
    starts = np.cumsum(counts) - counts
    s_items, s_key = items[order], rounded[order]
    new = np.ones(n, dtype=bool)
    if n > 1:
        new[1:] = (s_items[1:] != s_items[:-1]) | (s_key[1:] != s_key[:-1])
    first = np.maximum.accumulate(np.where(new, np.arange(n), 0))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = first - starts[s_items]
    n_i = counts[items]
    bins = np.minimum((rank * n_bins[items]) // np.maximum(n_i, 1), n_bins[items] - 1)
    return np.asarray(bins, dtype=np.int64)


def _binned_stats(
    al: Aligned,
    nodes: FloatArray,
    log_w: FloatArray,
    bins_i: IntArray,
    n_bins: int,
) -> tuple[FloatArray, FloatArray, FloatArray, tuple[FloatArray, FloatArray]]:
    """Per item: ``X²``, ``rmsd``, the largest ``|z|`` and the RMSD's noise distribution.

    Under the model ``rmsd² = Σ_bins c_b z_b²`` with ``z_b`` about N(0, 1) and
    ``c_b = Σ_bin π(1 − π) / (n_b · n_i)``: Satterthwaite's ``g · χ²_h`` with
    ``g = Σc² / Σc`` and ``h = (Σc)² / Σc²`` (returned as ``(g, h)``).
    """
    loo = leave_one_out(al, nodes, log_w)
    k = al.n_items
    items = al.indices
    n_i = np.bincount(items, minlength=k)
    cell = equal_count_bins(items, loo.theta, k, bins_i) + items.astype(np.int64) * n_bins
    size = k * n_bins
    y = al.answers.astype(np.float64)
    pi = loo.predictive
    obs = np.bincount(cell, weights=y, minlength=size).reshape(k, n_bins)
    exp = np.bincount(cell, weights=pi, minlength=size).reshape(k, n_bins)
    var = np.bincount(cell, weights=pi * (1.0 - pi), minlength=size).reshape(k, n_bins)
    cnt = np.bincount(cell, minlength=size).reshape(k, n_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(var > 0, (obs - exp) / np.sqrt(var), 0.0)
        x2 = np.sum(z * z, axis=1)
        rmsd = np.sqrt(np.sum((obs - exp) ** 2 / np.where(cnt > 0, cnt, 1.0), axis=1) / n_i)
        coef = var / (np.where(cnt > 0, cnt, 1.0) * np.maximum(n_i, 1)[:, None])
        s1, s2 = coef.sum(axis=1), (coef * coef).sum(axis=1)
        scale, dof = s2 / s1, s1 * s1 / s2
    return x2, rmsd, np.abs(z).max(axis=1), (scale, dof)


def _simulated(al: Aligned, mean: float, sd: float, rng: np.random.Generator) -> Aligned:
    """The same design (who answered what) with answers drawn from the model."""
    theta = rng.normal(mean, sd, al.n_persons)
    person = np.repeat(np.arange(al.n_persons), al.counts)
    i = al.indices
    z = al.a[i] * (theta[person] - al.b[i])
    p = al.c[i] + (1.0 - al.c[i]) * expit(z)
    answers = (rng.random(len(p)) < p).astype(np.int8)
    return replace(al, answers=answers)


def binned_fit(
    log: ResponseLog,
    bank: ItemBank,
    *,
    n_bins: int = 10,
    prior: tuple[float, float] | None = None,
    n_quad: int = 61,
    estimated_parameters: bool = True,
    min_per_bin: int = 10,
    reference: Reference = "auto",
    n_boot: int = 100,
    seed: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Residual item fit by bins of leave-one-out ability, for sparse logs.

    Parameters
    ----------
    log
        The answers (any design: dense, booklets, adaptive).
    bank
        Item parameters.
    n_bins
        Bins of equal counts per item (fewer for items with fewer than
        ``n_bins · min_per_bin`` answers; at least 2).
    prior
        ``(mean, sd)`` of the ability prior; default the bank's latent scale.
    n_quad
        Quadrature nodes.
    estimated_parameters
        Subtract the item's free parameters from the χ² degrees of freedom (the bank
        was calibrated on these answers); False when the parameters are known.
    min_per_bin
        Minimum answers per bin.
    reference
        The reference distribution of ``x2`` and ``rmsd`` (issue 18). ``"auto"``
        (default): ``"bootstrap"`` up to 200,000 answers, ``"chi2"`` beyond (where the
        bootstrap's ``n_boot`` binned fits would take minutes). ``"bootstrap"``:
        a parametric bootstrap from the model — ``n_boot`` logs with the
        same design (who answered which items), abilities drawn from the prior and
        answers from the bank's parameters, each scored like the log; ``p_value`` and
        ``rmsd_p`` are the shares of replicates at least as large (``(1 + #) / (1 +
        n_boot)``), and ``rmsd_q95`` is the replicates' 95th percentile of ``rmsd``,
        the RMSD of pure noise for this item's counts. The parameters are held at the
        bank's in the replicates, so with estimated parameters the test is slightly
        conservative. ``"chi2"``: the asymptotic χ² with ``df`` degrees of freedom
        (tied answers sharing a bin, it is conservative on short tests), and the RMSD's
        noise distribution in closed form: under the model ``rmsd²`` is a weighted sum
        of χ²₁ (weights ``Σ_bin π(1 − π) / (n_bin · n_item)``), approximated by
        Satterthwaite's scaled χ² for ``rmsd_p`` and ``rmsd_q95`` (within 0.002 of the
        bootstrap's quantile at 200 answers per item).
    n_boot
        Bootstrap replicates.
    seed
        Seed or ``numpy.random.Generator`` of the replicates (the same seed gives the
        same result bit for bit).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``item_id``: ``n_answers``, ``n_bins``, ``x2``, ``df``, ``p_value``,
        ``rmsd``, ``rmsd_p``, ``rmsd_q95`` and ``max_abs_z`` (the largest standardized
        bin residual).
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 2:
        raise DataError(
            f"The 'n_bins' parameter must be an int >= 2. Got {n_bins!r} instead.", field="n_bins"
        )
    if isinstance(min_per_bin, bool) or not isinstance(min_per_bin, int) or min_per_bin < 1:
        raise DataError(
            f"The 'min_per_bin' parameter must be a positive int. Got {min_per_bin!r} instead.",
            field="min_per_bin",
        )
    if reference not in ("auto", "bootstrap", "chi2"):
        raise DataError(
            "The 'reference' parameter must be 'auto', 'bootstrap' or 'chi2'. "
            f"Got {reference!r} instead.",
            field="reference",
        )
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise DataError(
            f"The 'n_boot' parameter must be a positive int. Got {n_boot!r} instead.",
            field="n_boot",
        )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    al = align(log, bank)
    mean, sd = resolve_prior(bank, prior)
    nodes, log_w = grid(mean, sd, check_n_quad(n_quad))
    k = al.n_items
    n_i = np.bincount(al.indices, minlength=k)
    bins_i = np.clip(n_i // min_per_bin, 0, n_bins).astype(np.int64)
    usable = bins_i >= 2
    bins_i = np.maximum(bins_i, 1)
    x2, rmsd, max_z, (g, h) = _binned_stats(al, nodes, log_w, bins_i, n_bins)
    if reference == "auto":
        small = int(al.indptr[-1]) <= _AUTO_BOOTSTRAP_MAX_ANSWERS
        reference = "bootstrap" if small else "chi2"
    df = bins_i - (_n_item_parameters(bank.model) if estimated_parameters else 0)
    ok = usable & (df > 0)
    rmsd_p = np.full(k, np.nan)
    rmsd_q95 = np.full(k, np.nan)
    if reference == "bootstrap":
        boot_x2 = np.empty((n_boot, k))
        boot_rmsd = np.empty((n_boot, k))
        for r in range(n_boot):  # a loop over replicates, each vectorized over answers
            boot_x2[r], boot_rmsd[r], _, _ = _binned_stats(
                _simulated(al, mean, sd, rng), nodes, log_w, bins_i, n_bins
            )
        p_value = (1.0 + (boot_x2 >= x2[None, :] - 1e-12).sum(axis=0)) / (n_boot + 1.0)
        rmsd_p = (1.0 + (boot_rmsd >= rmsd[None, :] - 1e-12).sum(axis=0)) / (n_boot + 1.0)
        rmsd_q95 = np.quantile(boot_rmsd, 0.95, axis=0)
        ok = usable
    else:
        p_value = stats.chi2.sf(x2, np.maximum(df, 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            rmsd_p = stats.chi2.sf(rmsd * rmsd / g, h)
            rmsd_q95 = np.sqrt(g * stats.chi2.isf(0.05, h))
    return _item_frame(
        al,
        {
            "n_answers": n_i.astype(np.int64),
            "n_bins": np.where(usable, bins_i, 0),
            "x2": np.where(ok, x2, np.nan),
            "df": np.where(usable & (df > 0), df, 0),
            "p_value": np.where(ok, p_value, np.nan),
            "rmsd": np.where(usable, rmsd, np.nan),
            "rmsd_p": np.where(usable, rmsd_p, np.nan),
            "rmsd_q95": np.where(usable, rmsd_q95, np.nan),
            "max_abs_z": np.where(usable, max_z, np.nan),
        },
    )


def item_fit(
    log: ResponseLog,
    bank: ItemBank,
    *,
    prior: tuple[float, float] | None = None,
    n_bins: int = 10,
    min_form_size: int = 100,
    reference: Reference = "auto",
    n_boot: int = 100,
    seed: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Every item-fit statistic in one table.

    Infit/outfit, S-X² (where forms are shared) and the binned fit.

    Parameters
    ----------
    log, bank
        The answers and the item parameters.
    prior
        ``(mean, sd)`` of the ability prior; default the bank's latent scale.
    n_bins
        Bins of :func:`binned_fit`.
    min_form_size
        Smallest form on which :func:`s_x2` is computed.
    reference, n_boot, seed
        The binned statistics' reference distribution (:func:`binned_fit`): a
        parametric bootstrap from the model up to 200,000 answers by default, the χ²
        and the RMSD's closed-form noise beyond.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``item_id``: ``n_answers``, ``outfit``, ``z_outfit``, ``infit``,
        ``z_infit``, ``s_x2``, ``s_x2_df``, ``s_x2_p``, ``s_x2_rmsea`` (mirt's
        ``RMSEA.S_X2``), ``s_x2_note``, ``binned_x2``, ``binned_df``, ``binned_p``,
        ``rmsd``, ``rmsd_p``, ``rmsd_q95`` and ``rmsd_flagged`` (``rmsd > 0.1`` and
        beyond the noise of its counts, ``rmsd_p < 0.05``).
    """
    io = infit_outfit(log, bank, prior=prior)
    sx = s_x2(log, bank, prior=prior, min_form_size=min_form_size)
    bf = binned_fit(
        log, bank, prior=prior, n_bins=n_bins, reference=reference, n_boot=n_boot, seed=seed
    )
    out = io.copy()
    out["s_x2"] = sx["s_x2"]
    out["s_x2_df"] = sx["df"]
    out["s_x2_p"] = sx["p_value"]
    out["s_x2_rmsea"] = sx["rmsea"]
    out["s_x2_note"] = sx["note"]
    out["binned_x2"] = bf["x2"]
    out["binned_df"] = bf["df"]
    out["binned_p"] = bf["p_value"]
    out["rmsd"] = bf["rmsd"]
    out["rmsd_p"] = bf["rmsd_p"]
    out["rmsd_q95"] = bf["rmsd_q95"]
    with np.errstate(invalid="ignore"):
        out["rmsd_flagged"] = (out["rmsd"] > _RMSD_CUT) & (out["rmsd_p"] < 0.05)
    return out


# --------------------------------------------------------------------------- person fit
def person_fit(
    log: ResponseLog,
    bank: ItemBank,
    *,
    method: Method = "WLE",
    scores: pd.DataFrame | None = None,
    prior: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Person fit: Snijders' ``lz*``, Drasgow's ``lz`` and infit/outfit per person.

    ``lz*`` (Snijders, 2001; Magis, Raîche & Béland, 2012) corrects ``lz`` for the
    estimation of θ: with ``w_i = log(P_i / Q_i)``, ``r_i = P_i' / (P_i Q_i)`` and
    ``r_0`` the estimator's correction (0 for MLE, ``I'/(2I)`` for WLE,
    ``−(θ − μ)/σ²`` for MAP), ``c = Σ P_i' w_i / Σ P_i' r_i`` and
    ``lz* = (Σ (y_i − P_i) w_i + c r_0) / sqrt(Σ (w_i − c r_i)² P_i Q_i)``, asymptotically
    N(0, 1) under the model; large negative values flag aberrant patterns.

    Parameters
    ----------
    log, bank
        The answers and the item parameters.
    method
        Estimator of θ: ``"WLE"`` (default: finite for perfect patterns), ``"MLE"`` or
        ``"MAP"`` (``"EAP"`` is accepted, with the MAP correction, an approximation).
    scores
        Precomputed scores with that method (in log order).
    prior
        ``(mean, sd)`` of the prior (MAP, EAP); default the bank's latent scale.

    Returns
    -------
    pandas.DataFrame
        One row per person: ``person_id``, ``n_answers``, ``theta``, ``lz``,
        ``lz_star``, ``p_value`` (lower tail of N(0, 1) for ``lz*``), ``outfit`` and
        ``infit``. NaN where θ is not finite or a person has fewer than 2 answers.
    """
    al = align(log, bank)
    sc = _scores_for(log, bank, scores, method, prior)
    mean, sd = resolve_prior(bank, prior)
    n = al.n_persons
    theta = sc["theta"].to_numpy(dtype=np.float64)
    person = log.person_index
    ok_ans = np.isfinite(theta[person])
    owner = person[ok_ans]
    th = theta[owner]
    idx = al.indices[ok_ans]
    a, b, c = al.a[idx], al.b[idx], al.c[idx]
    y = al.answers[ok_ans].astype(np.float64)
    z = a * (th - b)
    s = expit(z)
    p = c + (1.0 - c) * s
    q = (1.0 - c) * (1.0 - s)
    p1 = a * (1.0 - c) * s * (1.0 - s)
    r = a * s / p
    w = (np.log(p) if np.any(c > 0) else log_expit(z)) - np.log1p(-c) - log_expit(-z)
    pq = p * q

    def sums(v: FloatArray) -> FloatArray:
        return np.asarray(np.bincount(owner, weights=v, minlength=n), dtype=np.float64)

    numerator = sums((y - p) * w)
    var_lz = sums(pq * w * w)
    with np.errstate(invalid="ignore", divide="ignore"):
        c_n = sums(p1 * w) / sums(p1 * r)
        s_rr, s_wr = sums(pq * r * r), sums(pq * w * r)
        tau = var_lz - 2.0 * c_n * s_wr + c_n**2 * s_rr
        if method == "MLE":
            r0 = np.zeros(n)
        elif method == "WLE":
            s2 = s * (1.0 - s)
            p2 = a * a * (1.0 - c) * s2 * (1.0 - 2.0 * s)
            hp = a * a * c * s2 / (p * p)
            info = sums(p1 * r)
            info1 = sums(p2 * r + p1 * hp)
            r0 = 0.5 * info1 / info
        else:
            r0 = -(theta - mean) / sd**2
    counts = al.counts
    valid = np.isfinite(theta) & (counts >= 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        lz = np.where(valid, numerator / np.sqrt(var_lz), np.nan)
        lz_star = np.where(valid, (numerator + c_n * r0) / np.sqrt(tau), np.nan)
        resid2 = (y - p) ** 2
        outfit = sums(resid2 / pq) / counts
        infit = sums(resid2) / sums(pq)
    return pd.DataFrame(
        {
            "person_id": al.person_ids,
            "n_answers": counts.astype(np.int64),
            "theta": theta,
            "lz": lz,
            "lz_star": lz_star,
            "p_value": stats.norm.cdf(lz_star),
            "outfit": np.where(valid, outfit, np.nan),
            "infit": np.where(valid, infit, np.nan),
        }
    )


# --------------------------------------------------------------------------- Q3
def yen_q3(
    log: ResponseLog,
    bank: ItemBank,
    *,
    scores: pd.DataFrame | None = None,
    method: Method = "EAP",
    prior: tuple[float, float] | None = None,
    min_pairs: int = 30,
    max_cells: int = 50_000_000,
) -> pd.DataFrame:
    """Yen's Q3: correlations between items of the residuals ``y − P(θ̂)``.

    Parameters
    ----------
    log, bank
        The answers (dense or near-dense: a persons × items matrix is built) and the
        item parameters.
    scores, method, prior
        Person scores (EAP by default, as mirt's ``residuals(type = "Q3")``).
    min_pairs
        Pairs of items answered together by fewer persons get NaN.
    max_cells
        Largest persons × items matrix allowed.

    Returns
    -------
    pandas.DataFrame
        Items × items (``item_id`` labels), 1 on the diagonal; correlations over the
        persons who answered both items.
    """
    al = align(log, bank)
    sc = _scores_for(log, bank, scores, method, prior)
    theta = _finite_thetas(sc["theta"].to_numpy(dtype=np.float64))
    dense = log.to_dense(max_cells=max_cells)
    mask = np.isfinite(dense) & np.isfinite(theta)[:, None]
    p = al.c + (1.0 - al.c) / (1.0 + np.exp(-al.a * (theta[:, None] - al.b)))
    d = np.where(mask, dense - p, 0.0)
    m = mask.astype(np.float64)
    n = m.T @ m
    sx = d.T @ m  # sx[i, j]: sum of d_i over persons who answered i and j
    sxx = (d * d).T @ m
    sxy = d.T @ d
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = n * sxy - sx * sx.T
        var_i = n * sxx - sx * sx
        q3 = cov / np.sqrt(var_i * var_i.T)
    q3[n < min_pairs] = np.nan
    np.fill_diagonal(q3, 1.0)
    ids = pd.Index(al.item_ids, name="item_id")
    return pd.DataFrame(q3, index=ids, columns=ids)


def q3_pairs(q3: pd.DataFrame, *, threshold: float = 0.2) -> pd.DataFrame:
    """Item pairs whose Q3 exceeds the mean off-diagonal Q3 by more than ``threshold``.

    Parameters
    ----------
    q3
        Output of :func:`yen_q3`.
    threshold
        Excess over the average Q3 flagged as local dependence (Christensen, Makransky
        & Horton, 2017, suggest 0.2).

    Returns
    -------
    pandas.DataFrame
        ``item_1``, ``item_2``, ``q3`` and ``q3_minus_mean``, largest first.
    """
    values = q3.to_numpy(dtype=np.float64)
    iu = np.triu_indices_from(values, k=1)
    off = values[iu]
    mean = float(np.nanmean(off)) if np.isfinite(off).any() else float("nan")
    excess = off - mean
    sel = np.flatnonzero(np.nan_to_num(excess, nan=-np.inf) > threshold)
    order = sel[np.argsort(-excess[sel], kind="stable")]
    ids = q3.index.to_numpy()
    return pd.DataFrame(
        {
            "item_1": ids[iu[0][order]],
            "item_2": ids[iu[1][order]],
            "q3": off[order],
            "q3_minus_mean": excess[order],
        }
    )
