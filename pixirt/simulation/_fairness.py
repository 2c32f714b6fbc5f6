"""Fairness: the gaps between groups in how the change treats them.

Each gap with its interval, widened for the number of gaps examined; the gap at equal
true ability (a regression on a linear spline of the true ability and the groups); the
noise floor (a second sitting under the baseline); and the flags that follow.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from pixirt import rules as rules_mod
from pixirt.rules import RuleSet
from pixirt.simulation._bootstrap import (
    Estimate,
    Stat,
    _constant,
    _interval,
    _ratio,
    _shifted,
    _Sums,
)
from pixirt.simulation._comparison_names import (
    GAP_METRICS,
    BoolArray,
    FloatArray,
    selection_changes,
)
from pixirt.simulation._sides import _paired_flags, _Shared, _Side


def _tests_differ(baseline: RuleSet, proposed: RuleSet) -> bool:
    """The proposed rules change which challenges are asked (the candidates sit new tests)."""
    return bool(selection_changes(rules_mod.diff(baseline, proposed)))


def _noise_changes(
    b: _Side, shared: _Shared, member: dict[str, BoolArray], sums: _Sums
) -> dict[tuple[str, str], Stat]:
    """Per gap metric and group, the mean change between two sittings under the baseline."""
    rows = shared.retest_rows
    if rows is None or b.retest_status is None or b.retest_pix is None or b.retest_cert is None:
        return {}
    n = len(b.status)
    inside = np.zeros(n, dtype=bool)
    inside[rows] = True
    flags = _paired_flags(
        b.status[rows], b.pix[rows], b.cert[rows], b.retest_status, b.retest_pix, b.retest_cert
    )
    deltas = {metric: np.zeros(n) for metric in GAP_METRICS}
    deltas["pass_rate"][rows] = (b.retest_status == "validated").astype(float) - b.valid[
        rows
    ].astype(float)
    deltas["mean_score"][rows] = b.retest_pix - b.pix[rows]
    deltas["worse_off"][rows] = flags["worse_off"].astype(float)
    out: dict[tuple[str, str], Stat] = {}
    for g, m in member.items():
        w = (m & inside).astype(float)
        den = sums.add(w)
        for metric, d in deltas.items():
            out[(metric, g)] = _ratio(sums.add(d * w), den)
    return out


def _retest_noise(b: _Side, shared: _Shared) -> pd.DataFrame:
    """How results move between two sittings under the *baseline* rules (the noise floor)."""
    cols = ["metric", "n", "count", "share"]
    rows = shared.retest_rows
    if rows is None or b.retest_cert is None or b.retest_pix is None or b.retest_status is None:
        return pd.DataFrame(columns=cols)
    flags = _paired_flags(
        b.status[rows], b.pix[rows], b.cert[rows], b.retest_status, b.retest_pix, b.retest_cert
    )
    m = len(rows)
    return pd.DataFrame(
        [(k, m, int(v.sum()), float(v.mean())) for k, v in flags.items()], columns=cols
    )


def _spline_design(theta: FloatArray, dummies: list[BoolArray]) -> FloatArray:
    """Intercept, θ, hinges ``max(0, θ − κ)`` at quantile knots, then one column per dummy."""
    n = len(theta)
    n_knots = int(np.clip(n // 100, 3, 20))
    knots = np.quantile(theta, np.linspace(0, 1, n_knots + 2)[1:-1])
    centre = float(np.median(theta))
    cols = [np.ones(n), theta - centre, *[np.maximum(theta - k, 0.0) for k in knots]]
    cols += [d.astype(np.float64) for d in dummies]
    return np.column_stack(cols)


def _conditional_changes(
    b: _Side,
    p: _Side,
    shared: _Shared,
    groups: tuple[str, ...],
    member: dict[str, BoolArray],
    paired: dict[str, BoolArray],
    sums: _Sums,
) -> dict[tuple[str, str], Stat]:
    """Changes by group at equal true ability (none without true abilities or groups).

    The group terms of a least-squares regression of each candidate's change on a linear
    spline of the true ability and the groups, resampled through their influence
    (linearised bootstrap).
    """
    cond_change: dict[tuple[str, str], Stat] = {}
    if shared.theta is None or len(groups) <= 1:
        return cond_change
    n = len(b.status)
    vb, vp = b.valid, p.valid
    deltas = {
        "pass_rate": vp.astype(float) - vb.astype(float),
        "mean_score": p.pix - b.pix,
        "worse_off": paired["worse_off"].astype(float),
    }
    design = _spline_design(shared.theta, [member[g] for g in groups[1:]])
    xtx = design.T @ design
    hat = np.linalg.solve(xtx + 1e-10 * np.trace(xtx) * np.eye(len(xtx)), design.T).T
    one_col = sums.add(np.ones(n))
    for metric, d in deltas.items():
        coef = hat.T @ d
        resid = d - design @ coef
        for k, g in enumerate(groups):
            if k == 0:
                cond_change[(metric, g)] = _constant(0.0)
                continue
            j = design.shape[1] - len(groups) + k
            influence = n * hat[:, j] * resid
            cond_change[(metric, g)] = _shifted(
                _ratio(sums.add(influence), one_col), float(coef[j])
            )
    return cond_change


#: The columns of the ``gaps`` table.
_GAP_COLUMNS = [
    "metric",
    "group_a",
    "group_b",
    "change_a",
    "change_b",
    "gap",
    "low",
    "high",
    "adj_low",
    "adj_high",
    "cond_gap",
    "cond_low",
    "cond_high",
    "cond_adj_low",
    "cond_adj_high",
    "noise_floor",
    "flagged",
    "watch",
]


def _gap_table(
    groups: tuple[str, ...],
    gap_change: dict[tuple[str, str], Stat],
    cond_change: dict[tuple[str, str], Stat],
    noise_change: dict[tuple[str, str], Stat],
    estimate: Estimate,
    level: float,
) -> pd.DataFrame:
    """The ``gaps`` table: every pair of groups for every gap metric, flagged or not."""
    pairs = [(a, c) for i, a in enumerate(groups) for c in groups[i + 1 :]]
    n_tests = len(pairs) * len(GAP_METRICS)
    adj_level = 1 - (1 - level) / max(n_tests, 1)
    gap_rows = []
    for metric, hurt in GAP_METRICS.items():
        for a, c in pairs:
            gap_rows.append(
                _gap_row(
                    metric,
                    hurt,
                    (a, c),
                    (gap_change, cond_change, noise_change),
                    estimate,
                    (level, adj_level),
                )
            )
    return pd.DataFrame(gap_rows, columns=_GAP_COLUMNS)


def _gap_row(
    metric: str,
    hurt: int,
    pair: tuple[str, str],
    stats: tuple[
        dict[tuple[str, str], Stat], dict[tuple[str, str], Stat], dict[tuple[str, str], Stat]
    ],
    estimate: Estimate,
    levels: tuple[float, float],
) -> tuple[Any, ...]:
    """One row of the ``gaps`` table (columns :data:`_GAP_COLUMNS`)."""
    a, c = pair
    gap_change, cond_change, noise_change = stats
    level, adj_level = levels
    fa, fc = gap_change[(metric, a)], gap_change[(metric, c)]
    ca, da = estimate(fa)
    cc, dc = estimate(fc)
    dist = da - dc
    gap = ca - cc
    lo, hi = _interval(dist, level)
    alo, ahi = _interval(dist, adj_level)
    if (metric, a) in cond_change:
        ga, gda = estimate(cond_change[(metric, a)])
        gc, gdc = estimate(cond_change[(metric, c)])
        cgap = ga - gc
        clo, chi = _interval(gda - gdc, level)
        calo, cahi = _interval(gda - gdc, adj_level)
    else:
        cgap, clo, chi, calo, cahi = (math.nan,) * 5
    worse_group_change = ca if gap * hurt > 0 else cc
    adverse = worse_group_change * hurt > 0
    excludes_adj = bool(alo > 0 or ahi < 0)
    excludes = bool(lo > 0 or hi < 0)
    # unequal treatment needs more than a gap beyond chance: at equal true ability
    # the gap keeps its direction beyond chance, and it exceeds what a second
    # sitting alone moves between the groups
    same_way = math.isnan(cgap) or (
        (calo > 0 or cahi < 0) and math.copysign(1.0, cgap) == math.copysign(1.0, gap)
    )
    if (metric, a) in noise_change:
        _, nda = estimate(noise_change[(metric, a)])
        _, ndc = estimate(noise_change[(metric, c)])
        nlo, nhi = _interval(nda - ndc, level)
        floor = max(abs(nlo), abs(nhi))
    else:
        floor = math.nan
    above_noise = math.isnan(floor) or abs(gap) > floor
    return (
        metric,
        a,
        c,
        ca,
        cc,
        gap,
        lo,
        hi,
        alo,
        ahi,
        cgap,
        clo,
        chi,
        calo,
        cahi,
        floor,
        bool(excludes_adj and adverse and same_way and above_noise),
        bool(excludes and adverse and not (excludes_adj and same_way and above_noise)),
    )
