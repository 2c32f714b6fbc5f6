"""Model comparison, plausible values and EAP for sum scores.

:func:`compare_models`
    The likelihood-ratio test between two nested calibrations of the same log (mirt's
    ``anova(m1, m2)``), with AIC and BIC.
:func:`plausible_values`
    Draws from each person's posterior of θ (mirt's ``fscores(plausible.draws = k)``):
    the posterior on a fine grid, an inverse-CDF draw of a grid cell, then a uniform
    position within the cell. Unlike EAP scores, whose variance shrinks towards the
    prior's, the draws have the population's variance.
:func:`sum_score_eap`
    EAP and posterior SD of θ given the sum score of a test (mirt's
    ``fscores(method = "EAPsum")``), by Lord and Wingersky's recursion.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from pixirt.calibration.ability import (
    align,
    blocks,
    check_n_quad,
    grid,
    grid_loglik,
    log_prob_table,
    normalize_rows,
    resolve_prior,
)
from pixirt.calibration.fit import _sum_score_likelihoods
from pixirt.calibration.results import CalibrationResult
from pixirt.exceptions import DataError
from pixirt.item_bank import ItemBank
from pixirt.responses import ResponseLog

__all__ = ["compare_models", "plausible_values", "sum_score_eap"]

FloatArray = npt.NDArray[np.float64]

_PV_BLOCK = 8_192  # persons per block of plausible values
_LOGLIK_SLACK = 1e-6  # the larger model's log-likelihood may fall short by this (EM tol)


def compare_models(r1: CalibrationResult, r2: CalibrationResult) -> pd.DataFrame:
    """Likelihood-ratio test between two nested calibrations of the same log.

    Parameters
    ----------
    r1, r2
        Two :class:`~pixirt.calibration.CalibrationResult` of the same answers (same
        persons, items and answers), by maximum likelihood (no priors); either order.
        The model with fewer parameters must be nested in the other (Rasch or 1PL in
        2PL, 2PL in 3PL, a single group in the same model with groups, ...): pixirt
        checks the counts, not the nesting itself.

    Returns
    -------
    pandas.DataFrame
        One row per model, the smaller first (index: its model name, ``"2PL"``, ...):
        ``loglik``, ``n_parameters``, ``aic``, ``bic``, and on the larger model's row
        ``lr`` (``2 (ℓ₂ − ℓ₁)``), ``df`` (the difference in parameters) and
        ``p_value`` (χ² with ``df``), NaN on the other row, as R's ``anova``.

    Raises
    ------
    DataError
        If the results are not of the same log, were fitted with priors, have the same
        number of parameters, or the larger model fits worse than the smaller (not
        nested, or not converged).
    """
    for name, r in (("r1", r1), ("r2", r2)):
        if not isinstance(r, CalibrationResult):
            raise DataError(f"expected a CalibrationResult, got {type(r).__name__}", field=name)
        if r.priors.a_lognormal is not None or r.priors.b_normal is not None:
            raise DataError(
                "a likelihood-ratio test needs maximum-likelihood fits (no priors on a or b)",
                field=name,
            )
    same = (r1.n_persons, r1.n_answers, r1.n_items + r1.n_fixed) == (
        r2.n_persons,
        r2.n_answers,
        r2.n_items + r2.n_fixed,
    )
    if not same:
        raise DataError(
            "the two calibrations are not of the same log: persons, answers or items differ "
            f"({r1.n_persons}, {r1.n_answers}, {r1.n_items + r1.n_fixed} vs {r2.n_persons}, "
            f"{r2.n_answers}, {r2.n_items + r2.n_fixed})",
            field="r2",
        )
    small, large = (r1, r2) if r1.n_parameters <= r2.n_parameters else (r2, r1)
    df = large.n_parameters - small.n_parameters
    if df == 0:
        raise DataError(
            f"both models have {small.n_parameters} parameters: they are not nested", field="r2"
        )
    lr = 2.0 * (large.loglik - small.loglik)
    if lr < -2.0 * _LOGLIK_SLACK * max(1.0, abs(large.loglik)):
        raise DataError(
            f"the larger model ({large.model}, {large.n_parameters} parameters) fits worse than "
            f"the smaller ({small.model}, {small.n_parameters}): log-likelihood "
            f"{large.loglik:.4f} < {small.loglik:.4f}; they are not nested or did not converge",
            field="r2",
        )
    lr = max(lr, 0.0)
    rows = [
        {
            "loglik": r.loglik,
            "n_parameters": r.n_parameters,
            "aic": r.aic,
            "bic": r.bic,
        }
        for r in (small, large)
    ]
    out = pd.DataFrame(rows, index=pd.Index([small.model, large.model], name="model"))
    out["lr"] = [math.nan, lr]
    out["df"] = pd.array([None, df], dtype="Int64")
    out["p_value"] = [math.nan, float(stats.chi2.sf(lr, df))]
    return out


def _rng(seed: Any) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0
    ):
        raise DataError(
            f"The 'seed' parameter must be None, a non-negative int or a numpy Generator. "
            f"Got {seed!r} instead.",
            field="seed",
        )
    return np.random.default_rng(seed)


def plausible_values(
    log: ResponseLog,
    bank: ItemBank,
    *,
    n_draws: int = 5,
    prior: tuple[float, float] | None = None,
    n_quad: int = 121,
    seed: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Plausible values: ``n_draws`` draws of θ from each person's posterior.

    Parameters
    ----------
    log
        The answers (dense or sparse).
    bank
        Item parameters.
    n_draws
        Draws per person.
    prior
        ``(mean, sd)`` of the normal prior (the population); default the bank's scale.
    n_quad
        Grid cells over ``mean ± 6 sd`` (the draws are uniform within a cell of width
        ``12 sd / (n_quad − 1)``).
    seed
        Seed or ``numpy.random.Generator`` (the same seed gives the same draws).

    Returns
    -------
    pandas.DataFrame
        One row per person (``person_id``; persons without answers draw from the
        prior) and columns ``pv1`` … ``pv<n_draws>``.
    """
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 1:
        raise DataError(
            f"The 'n_draws' parameter must be a positive int. Got {n_draws!r} instead.",
            field="n_draws",
        )
    rng = _rng(seed)
    al = align(log, bank)
    mean, sd = resolve_prior(bank, prior)
    nodes, log_w = grid(mean, sd, check_n_quad(n_quad))
    h = float(nodes[1] - nodes[0])
    table = log_prob_table(al.a, al.b, al.c, nodes)
    out = np.empty((al.n_persons, n_draws))
    for start, stop in blocks(al.indptr, max_persons=_PV_BLOCK, max_answers=1 << 20):
        post = normalize_rows(grid_loglik(al, start, stop, table) + log_w)
        cdf = np.cumsum(post, axis=1)
        cdf[:, -1] = 1.0
        u = rng.random((stop - start, n_draws))
        cell = (cdf[:, None, :] < u[:, :, None]).sum(axis=2)  # inverse CDF, per draw
        jitter = rng.random((stop - start, n_draws)) - 0.5
        out[start:stop] = nodes[np.minimum(cell, len(nodes) - 1)] + h * jitter
    frame = pd.DataFrame(out, columns=[f"pv{k + 1}" for k in range(n_draws)])
    frame.insert(0, "person_id", al.person_ids)
    frame.attrs.update({"prior": (mean, sd), "n_quad": len(nodes)})
    return frame


def sum_score_eap(
    bank: ItemBank,
    items: Any = None,
    *,
    prior: tuple[float, float] | None = None,
    n_quad: int = 61,
) -> pd.DataFrame:
    """EAP of θ for each sum score of a test (mirt's ``fscores(method = "EAPsum")``).

    Parameters
    ----------
    bank
        Item parameters.
    items
        The test's item ids (default: every item of the bank).
    prior
        ``(mean, sd)`` of the normal prior; default the bank's scale.
    n_quad
        Quadrature nodes over ``mean ± 6 sd``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``sum_score`` (0 … number of items): ``eap``, ``sd`` (posterior SD)
        and ``probability`` (the model's marginal probability of the score).
    """
    sub = bank if items is None else bank.subset(list(items))
    mean, sd = resolve_prior(bank, prior)
    nodes, log_w = grid(mean, sd, check_n_quad(n_quad))
    p = sub.probability(nodes).T  # items × nodes
    lik = _sum_score_likelihoods(np.asarray(p, dtype=np.float64))  # scores × nodes
    joint = lik * np.exp(log_w)[None, :]
    marg = joint.sum(axis=1)
    post = joint / marg[:, None]
    eap = post @ nodes
    var = post @ (nodes * nodes) - eap * eap
    return pd.DataFrame(
        {"eap": eap, "sd": np.sqrt(np.maximum(var, 0.0)), "probability": marg},
        index=pd.Index(np.arange(len(marg)), name="sum_score"),
    )
