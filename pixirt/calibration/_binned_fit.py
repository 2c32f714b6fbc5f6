"""Residual item fit for sparse logs on equal-count bins of leave-one-out abilities.

For each answer, the person's *other* answers give a posterior for θ; from it, the
probability that the answer is correct (``π``, the posterior predictive) and the
leave-one-out EAP ``θ̂₋ᵢ``. Each item's answers are cut into ``n_bins`` equal-count bins
of ``θ̂₋ᵢ`` and, per bin, the observed number right ``O`` is compared with ``E = Σ π``:
``X² = Σ_bins (O − E)² / Σ π (1 − π)``. Given the item parameters, every answer is
Bernoulli(π) independently of the binning variable (which does not use it), so each
standardized bin residual is asymptotically N(0, 1) and ``X²`` is χ² with ``n_bins``
degrees of freedom; when the parameters were estimated from the same answers
(``estimated_parameters=True``, the default) the item's free parameters are subtracted,
as in Yen's Q1 and Orlando–Thissen. The test's calibration (false-positive rate) is
checked by simulation in the test suite. With millions of answers every misfit is
significant: ``rmsd`` (root mean squared difference between observed and expected
proportions, weighted by bin sizes, as in PISA's item fit) measures its size.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from scipy.special import expit

from pixirt._item_bank import ItemBank
from pixirt._renamed import renamed
from pixirt._response_log import ResponseLog
from pixirt.calibration._ability import (
    Aligned,
    align,
    check_n_quad,
    grid,
    leave_one_out,
    resolve_prior,
)
from pixirt.calibration._item_fit_common import (
    AUTO_BOOTSTRAP_MAX_ANSWERS,
    Reference,
    item_frame,
    n_item_parameters,
)
from pixirt.exceptions import DataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


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


@renamed(n_boot="n_bootstrap")
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
    n_bootstrap: int = 100,
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
        bootstrap's ``n_bootstrap`` binned fits would take minutes). ``"bootstrap"``:
        a parametric bootstrap from the model — ``n_bootstrap`` logs with the
        same design (who answered which items), abilities drawn from the prior and
        answers from the bank's parameters, each scored like the log; ``p_value`` and
        ``rmsd_p`` are the shares of replicates at least as large (``(1 + #) / (1 +
        n_bootstrap)``), and ``rmsd_q95`` is the replicates' 95th percentile of ``rmsd``,
        the RMSD of pure noise for this item's counts. The parameters are held at the
        bank's in the replicates, so with estimated parameters the test is slightly
        conservative. ``"chi2"``: the asymptotic χ² with ``df`` degrees of freedom
        (tied answers sharing a bin, it is conservative on short tests), and the RMSD's
        noise distribution in closed form: under the model ``rmsd²`` is a weighted sum
        of χ²₁ (weights ``Σ_bin π(1 − π) / (n_bin · n_item)``), approximated by
        Satterthwaite's scaled χ² for ``rmsd_p`` and ``rmsd_q95`` (within 0.002 of the
        bootstrap's quantile at 200 answers per item).
    n_bootstrap
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
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 1:
        raise DataError(
            f"The 'n_bootstrap' parameter must be a positive int. Got {n_bootstrap!r} instead.",
            field="n_bootstrap",
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
        small = int(al.indptr[-1]) <= AUTO_BOOTSTRAP_MAX_ANSWERS
        reference = "bootstrap" if small else "chi2"
    df = bins_i - (n_item_parameters(bank.model) if estimated_parameters else 0)
    ok = usable & (df > 0)
    rmsd_p = np.full(k, np.nan)
    rmsd_q95 = np.full(k, np.nan)
    if reference == "bootstrap":
        boot_x2 = np.empty((n_bootstrap, k))
        boot_rmsd = np.empty((n_bootstrap, k))
        for r in range(n_bootstrap):  # a loop over replicates, each vectorized over answers
            boot_x2[r], boot_rmsd[r], _, _ = _binned_stats(
                _simulated(al, mean, sd, rng), nodes, log_w, bins_i, n_bins
            )
        p_value = (1.0 + (boot_x2 >= x2[None, :] - 1e-12).sum(axis=0)) / (n_bootstrap + 1.0)
        rmsd_p = (1.0 + (boot_rmsd >= rmsd[None, :] - 1e-12).sum(axis=0)) / (n_bootstrap + 1.0)
        rmsd_q95 = np.quantile(boot_rmsd, 0.95, axis=0)
        ok = usable
    else:
        p_value = stats.chi2.sf(x2, np.maximum(df, 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            rmsd_p = stats.chi2.sf(rmsd * rmsd / g, h)
            rmsd_q95 = np.sqrt(g * stats.chi2.isf(0.05, h))
    return item_frame(
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
