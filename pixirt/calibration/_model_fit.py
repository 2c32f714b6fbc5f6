"""Model fit and comparison, plausible values and EAP for sum scores.

:func:`m2`
    Maydeu-Olivares and Joe's limited-information M2 on the first- and second-order
    margins of a dense (or nearly dense: its complete persons) log, with RMSEA and its
    90 % interval, SRMSR, and TLI and CFI against the independence model (mirt's
    ``M2(mod)``).
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

from pixirt._item_bank import ItemBank
from pixirt._response_log import ResponseLog
from pixirt.calibration._ability import (
    align,
    blocks,
    check_n_quad,
    grid,
    grid_loglik,
    log_prob_table,
    normalize_rows,
    resolve_prior,
)
from pixirt.calibration._results import CalibrationResult
from pixirt.calibration._sx2 import sum_score_likelihoods
from pixirt.exceptions import DataError

__all__ = ["compare_models", "m2", "plausible_values", "sum_score_eap"]

FloatArray = npt.NDArray[np.float64]

_PV_BLOCK = 8_192  # persons per block of plausible values
_LOGLIK_SLACK = 1e-6  # the larger model's log-likelihood may fall short by this (EM tol)


def compare_models(r1: CalibrationResult, r2: CalibrationResult) -> pd.DataFrame:
    """Likelihood-ratio test between two nested calibrations of the same log.

    Parameters
    ----------
    r1, r2
        Two :class:`~pixirt.calibration.CalibrationResult` of the same answers (same
        persons and answers), by maximum likelihood (no priors); either order.
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
    # items may differ: a multiple-group fit with free_items splits an item per group
    same = (r1.n_persons, r1.n_answers) == (r2.n_persons, r2.n_answers)
    if not same:
        raise DataError(
            "the two calibrations are not of the same log: persons or answers differ "
            f"({r1.n_persons}, {r1.n_answers} vs {r2.n_persons}, {r2.n_answers})",
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
    lik = sum_score_likelihoods(np.asarray(p, dtype=np.float64))  # scores × nodes
    joint = lik * np.exp(log_w)[None, :]
    marg = joint.sum(axis=1)
    post = joint / marg[:, None]
    eap = post @ nodes
    var = post @ (nodes * nodes) - eap * eap
    return pd.DataFrame(
        {"eap": eap, "sd": np.sqrt(np.maximum(var, 0.0)), "probability": marg},
        index=pd.Index(np.arange(len(marg)), name="sum_score"),
    )


# --------------------------------------------------------------------------- M2
def _margin_sets(n: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The first- and second-order margins: item ``i`` then pairs ``(i, j)``, ``i < j``."""
    ii, jj = np.triu_indices(n, k=1)
    first = np.concatenate([np.arange(n), ii]).astype(np.int64)
    second = np.concatenate([np.full(n, -1), jj]).astype(np.int64)
    return first, second


def _m2_terms(
    p: FloatArray,
    dp: list[FloatArray],
    owner: list[npt.NDArray[np.int64]],
    w: FloatArray,
    dw: list[FloatArray],
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Model margins ``π``, their covariance ``Ξ`` (per person) and ``Δ = ∂π/∂params``.

    ``p`` is ``(items, Q)``; ``dp[k]`` the derivative of ``P`` of item ``owner[k]`` with
    respect to free parameter ``k`` (``(Q,)``), or ``dw[k]`` the derivative of the node
    weights (a latent-scale parameter; ``owner[k]`` empty).
    """
    n, _ = p.shape
    first, second = _margin_sets(n)
    m = p[first] * np.where(second[:, None] >= 0, p[np.maximum(second, 0)], 1.0)  # (s, Q)
    pi = m @ w
    e = (m * w) @ m.T  # right where two margins share no item
    for k in range(n):  # a loop over items: the margins sharing item k
        rows = np.flatnonzero((first == k) | (second == k))
        block = (m[rows] * (w / p[k])) @ m[rows].T
        e[np.ix_(rows, rows)] = block
    np.fill_diagonal(e, pi)
    xi = e - np.outer(pi, pi)
    delta = np.zeros((len(pi), len(dp) + len(dw)))
    for col, (d, items) in enumerate(zip(dp, owner, strict=True)):  # a loop over parameters
        for item in items.tolist():
            rows = np.flatnonzero((first == item) | (second == item))
            delta[rows, col] += (m[rows] / p[item]) @ (d * w)
    for col, dweights in enumerate(dw, start=len(dp)):
        delta[:, col] = m @ dweights
    return pi, xi, delta


def _m2_statistic(
    obs: FloatArray, pi: FloatArray, xi: FloatArray, delta: FloatArray, n_persons: int
) -> float:
    xi_inv = np.linalg.pinv(xi)
    a = xi_inv @ delta
    middle = np.linalg.pinv(delta.T @ a)
    c2 = xi_inv - a @ middle @ a.T
    r = obs - pi
    return float(n_persons * r @ c2 @ r)


def _rmsea_bound(m2: float, df: int, n: int, q: float) -> float:
    """RMSEA whose noncentral χ² puts ``m2`` at quantile ``q`` (0 if the central one does)."""
    from scipy import optimize

    if df <= 0 or stats.chi2.cdf(m2, df) < q:
        return 0.0

    def f(lam: float) -> float:
        return float(stats.ncx2.cdf(m2, df, lam)) - q

    hi = max(m2, 1.0)
    while f(hi) > 0:
        hi *= 2.0
    lam = optimize.brentq(f, 1e-12, hi)
    return math.sqrt(lam / (df * n))


def m2(log: ResponseLog, bank: ItemBank, *, n_quad: int = 61) -> pd.DataFrame:
    """Maydeu-Olivares and Joe's M2 limited-information fit, with RMSEA, SRMSR, TLI and CFI.

    Parameters
    ----------
    log
        The answers. M2 uses the persons who answered every item of ``log`` (a dense
        log, or the complete persons of a nearly dense one; the others are left out
        and counted).
    bank
        The calibrated parameters; its ``model`` gives the free parameters (Rasch: the
        intercepts and the latent variance; 1PL: the common slope and the intercepts;
        2PL: slopes and intercepts; 3PL: and the lower asymptotes), all items free.
    n_quad
        Quadrature nodes over ``[−6, 6]`` with the bank's normal weights (mirt's).

    Returns
    -------
    pandas.DataFrame
        One row ``"stats"`` (as mirt's ``M2``): ``M2``, ``df``, ``p``, ``RMSEA``,
        ``RMSEA_5``, ``RMSEA_95``, ``SRMSR``, ``TLI``, ``CFI``, and ``n_persons``,
        ``n_dropped``. TLI and CFI compare with the independence model (every slope 0,
        each item its own proportion).

    Raises
    ------
    DataError
        Items of the log missing from the bank, fewer than 3 items, or too few
        complete persons, or no degrees of freedom.
    """
    al = align(log, bank)
    n = al.n_items
    if n < 3:
        raise DataError("M2 needs at least 3 items", field="log")
    complete = al.counts == n
    n_persons = int(complete.sum())
    if n_persons < 2 * n:
        raise DataError(
            f"only {n_persons} person(s) answered every item; M2 needs a dense (or nearly "
            "dense) log",
            field="log",
        )
    dense = log.to_dense()[complete]
    first, second = _margin_sets(n)
    obs = (dense[:, first] * np.where(second >= 0, dense[:, np.maximum(second, 0)], 1.0)).mean(
        axis=0
    )
    theta = np.linspace(-6.0, 6.0, check_n_quad(n_quad))
    pi, xi, delta, w = _model_terms(bank, al.a, al.b, al.c, theta)
    return _m2_frame(obs, (pi, xi, delta), w, n, n_persons, int((al.counts > 0).sum()))


def _model_terms(
    bank: ItemBank, a: FloatArray, b: FloatArray, c: FloatArray, theta: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The model's margins, covariance terms and derivatives, and the quadrature weights.

    The free parameters follow ``bank.model`` (see :func:`m2`).
    """
    n = len(a)
    mean, variance = bank.latent_mean, bank.latent_variance
    lw = -0.5 * (theta - mean) ** 2 / variance
    w = np.exp(lw - lw.max())
    w /= w.sum()
    z = a[:, None] * (theta[None, :] - b[:, None])
    s_ = 1.0 / (1.0 + np.exp(-z))
    p = c[:, None] + (1.0 - c[:, None]) * s_
    slope = (1.0 - c[:, None]) * s_ * (1.0 - s_)  # ∂P/∂d (d the intercept)
    items = [np.array([k], dtype=np.int64) for k in range(n)]
    dp: list[FloatArray] = [slope[k] for k in range(n)]
    owner: list[npt.NDArray[np.int64]] = list(items)
    dw: list[FloatArray] = []
    if bank.model in ("2PL", "3PL"):
        dp += [slope[k] * theta for k in range(n)]
        owner += items
    if bank.model == "3PL":
        dp += [1.0 - s_[k] for k in range(n)]
        owner += items
    if bank.model == "1PL":
        # the common slope: every item's P moves (with b fixed: ∂P/∂a = (θ − b) slope)
        dp += [np.sum([(theta - b[k]) * slope[k] for k in range(n)], axis=0)]
        owner += [np.arange(n, dtype=np.int64)]
    if bank.model == "Rasch":
        u = (theta - mean) ** 2 / (2 * variance**2) - 1 / (2 * variance)
        dw.append(w * (u - float(w @ u)))
    if bank.model == "1PL":
        pi, xi, delta = _m2_terms_1pl(p, slope, theta, b, w)
    else:
        pi, xi, delta = _m2_terms(p, dp, owner, w, dw)
    return pi, xi, delta, w


def _m2_frame(
    obs: FloatArray,
    model: tuple[FloatArray, FloatArray, FloatArray],
    w: FloatArray,
    n: int,
    n_persons: int,
    n_answering: int,
) -> pd.DataFrame:
    """M2 and the fit indices against the independence model, as mirt's ``"stats"`` row."""
    pi, xi, delta = model
    n_theta = len(w)
    items = [np.array([k], dtype=np.int64) for k in range(n)]
    q = delta.shape[1]
    df = len(pi) - q
    if df <= 0:
        raise DataError(f"M2 has no degrees of freedom ({len(pi)} margins, {q} parameters)")
    value = _m2_statistic(obs, pi, xi, delta, n_persons)
    # the independence model: each item its own proportion, no slope
    pn = np.repeat(obs[:n, None], n_theta, axis=1)
    dn = [np.full(n_theta, obs[k] * (1.0 - obs[k])) for k in range(n)]
    pi0, xi0, delta0 = _m2_terms(pn, dn, items, w, [])
    df0 = len(pi0) - n
    value0 = _m2_statistic(obs, pi0, xi0, delta0, n_persons)
    rmsea = math.sqrt(max(value - df, 0.0) / (df * n_persons))
    cor_obs = _correlations(obs, n)
    cor_mod = _correlations(pi, n)
    srmsr = float(np.sqrt(np.mean((cor_obs - cor_mod) ** 2)))
    tli = (value0 / df0 - value / df) / (value0 / df0 - 1.0)
    cfi = 1.0 - max(value - df, 0.0) / max(value0 - df0, value - df, 1e-300)
    out = pd.DataFrame(
        {
            "M2": [value],
            "df": [df],
            "p": [float(stats.chi2.sf(value, df))],
            "RMSEA": [rmsea],
            "RMSEA_5": [_rmsea_bound(value, df, n_persons, 0.95)],
            "RMSEA_95": [_rmsea_bound(value, df, n_persons, 0.05)],
            "SRMSR": [srmsr],
            "TLI": [tli],
            "CFI": [min(cfi, 1.0)],
            "n_persons": [n_persons],
            "n_dropped": [n_answering - n_persons],
        },
        index=pd.Index(["stats"]),
    )
    return out


def _m2_terms_1pl(
    p: FloatArray, slope: FloatArray, theta: FloatArray, b: FloatArray, w: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The 1PL: intercepts per item, then the common slope moving every item."""
    n = len(p)
    items = [np.array([k], dtype=np.int64) for k in range(n)]
    pi, xi, delta = _m2_terms(p, [slope[k] for k in range(n)], items, w, [])
    first, second = _margin_sets(n)
    m = p[first] * np.where(second[:, None] >= 0, p[np.maximum(second, 0)], 1.0)
    d_common = np.zeros(len(pi))
    for k in range(n):  # a loop over items: each moves the margins it is in
        rows = np.flatnonzero((first == k) | (second == k))
        d_common[rows] += (m[rows] / p[k]) @ ((theta - b[k]) * slope[k] * w)
    return pi, xi, np.column_stack([delta, d_common])


def _correlations(margins: FloatArray, n: int) -> FloatArray:
    """Pearson (phi) correlations of the pairs from first- and second-order margins."""
    p1 = margins[:n]
    ii, jj = np.triu_indices(n, k=1)
    p2 = margins[n:]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(
            (p2 - p1[ii] * p1[jj]) / np.sqrt(p1[ii] * (1 - p1[ii]) * p1[jj] * (1 - p1[jj])),
            dtype=np.float64,
        )
