"""Measurement quality against the true ability.

Bias, RMSE, correlations, classification accuracy and consistency.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from pixirt.simulation._bootstrap import (
    Estimate,
    Stat,
    _corr,
    _interval,
    _ratio,
    _rmse,
    _scaled,
    _Sums,
)
from pixirt.simulation._comparison_names import _ABILITY_BINS, QUALITY_METRICS
from pixirt.simulation._sides import _Shared, _Side


def _quality_stat(
    metric: str, side: _Side, shared: _Shared, sums: _Sums, one: int
) -> tuple[Stat | None, int]:
    truth = side.truth
    assert truth is not None and shared.theta is not None
    n = len(side.pix)
    if metric in ("score_bias", "score_rmse", "score_correlation"):
        e = side.pix - truth.pix
        if metric == "score_bias":
            return _ratio(sums.add(e), one), n
        if metric == "score_rmse":
            return _rmse(sums.add(e * e), one), n
        x = side.pix - side.pix.mean()
        y = truth.pix - truth.pix.mean()
        return (
            _corr(one, sums.add(x), sums.add(y), sums.add(x * x), sums.add(y * y), sums.add(x * y)),
            n,
        )
    if metric in ("capacity_bias", "capacity_rmse"):
        if side.capacity is None:
            return None, n
        e = side.capacity - shared.theta
        if metric == "capacity_bias":
            return _ratio(sums.add(e), one), n
        return _rmse(sums.add(e * e), one), n
    cert0 = np.nan_to_num(side.cert, nan=0.0)
    n_codes = max(cert0.shape[1], 1)
    if metric == "level_accuracy":
        return _scaled(_ratio(sums.add((cert0 == truth.level).sum(axis=1)), one), 1 / n_codes), n
    if metric == "level_accuracy_within_one":
        near = (np.abs(cert0 - truth.level) <= 1).sum(axis=1)
        return _scaled(_ratio(sums.add(near), one), 1 / n_codes), n
    if metric == "global_level_accuracy":
        if side.global_level is None or truth.global_level is None:
            return None, n
        return _ratio(sums.add(side.global_level == truth.global_level), one), n
    rows = shared.retest_rows
    if rows is None or side.retest_cert is None or side.retest_pix is None:
        return None, 0
    m = len(rows)
    in_retest = np.zeros(n)
    in_retest[rows] = 1.0
    den = sums.add(in_retest)
    if metric == "level_consistency":
        same = np.zeros(n)
        same[rows] = (cert0[rows] == np.nan_to_num(side.retest_cert, nan=0.0)).sum(axis=1)
        return _scaled(_ratio(sums.add(same), den), 1 / n_codes), m
    # score_test_retest
    x = np.zeros(n)
    y = np.zeros(n)
    x[rows] = side.pix[rows] - side.pix[rows].mean()
    y[rows] = side.retest_pix - side.retest_pix.mean()
    return (
        _corr(den, sums.add(x), sums.add(y), sums.add(x * x), sums.add(y * y), sums.add(x * y)),
        m,
    )


def _quality_by_ability(b: _Side, p: _Side, shared: _Shared) -> pd.DataFrame:
    cols = [
        "bin",
        "theta_low",
        "theta_high",
        "n",
        "rules",
        "score_bias",
        "score_rmse",
        "level_accuracy",
    ]
    theta = shared.theta
    if theta is None or b.truth is None or p.truth is None:
        return pd.DataFrame(columns=cols)
    edges = np.quantile(theta, np.linspace(0, 1, _ABILITY_BINS + 1))
    bins = np.clip(np.searchsorted(edges[1:-1], theta, side="right"), 0, _ABILITY_BINS - 1)
    rows = []
    for side_name, side in (("baseline", b), ("proposed", p)):
        assert side.truth is not None
        e = side.pix - side.truth.pix
        acc = (np.nan_to_num(side.cert, nan=0.0) == side.truth.level).mean(axis=1)
        for k in range(_ABILITY_BINS):
            m = bins == k
            if not m.any():
                continue
            rows.append(
                (
                    k,
                    float(edges[k]),
                    float(edges[k + 1]),
                    int(m.sum()),
                    side_name,
                    float(e[m].mean()),
                    float(np.sqrt(np.mean(e[m] ** 2))),
                    float(acc[m].mean()),
                )
            )
    return pd.DataFrame(rows, columns=cols)


#: One quality metric: name, candidates, baseline and proposed statistics (None: not measured).
QualitySpec = tuple[str, int, Stat | None, Stat | None]


def _quality_columns(b: _Side, p: _Side, shared: _Shared, sums: _Sums) -> list[QualitySpec]:
    """The quality statistics of both sides (none without the true abilities)."""
    quality_specs: list[QualitySpec] = []
    if shared.theta is not None and b.truth is not None and p.truth is not None:
        n = len(b.status)
        one = sums.add(np.ones(n))
        for metric in QUALITY_METRICS:
            fb_q, nq = _quality_stat(metric, b, shared, sums, one)
            fp_q, _ = _quality_stat(metric, p, shared, sums, one)
            if fb_q is not None or fp_q is not None:
                quality_specs.append((metric, nq, fb_q, fp_q))
    return quality_specs


def _quality_table(
    quality_specs: list[QualitySpec], estimate: Estimate, level: float, n_bootstrap: int
) -> pd.DataFrame:
    """The ``quality`` table: both sides' values and their difference with its interval."""
    q_rows = []
    for metric, nq, fbq, fpq in quality_specs:
        pb, db = estimate(fbq) if fbq is not None else (math.nan, np.full(n_bootstrap, np.nan))
        pp, dp = estimate(fpq) if fpq is not None else (math.nan, np.full(n_bootstrap, np.nan))
        lo, hi = (
            _interval(dp - db, level)
            if fbq is not None and fpq is not None
            else (math.nan, math.nan)
        )
        q_rows.append((metric, nq, pb, pp, pp - pb, lo, hi))
    return pd.DataFrame(
        q_rows, columns=["metric", "n", "baseline", "proposed", "difference", "low", "high"]
    )
