"""The analysis of two sides.

Every difference, change, gap and quality measure with its interval.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd

from pixirt import rules as rules_mod
from pixirt.rules import RuleSet
from pixirt.simulation._bootstrap import (
    Estimate,
    Stat,
    _estimator,
    _interval,
    _minus,
    _ratio,
    _scaled,
    _Sums,
)
from pixirt.simulation._comparison_inputs import _no_progress
from pixirt.simulation._comparison_names import (
    MIN_SAMPLE,
    BoolArray,
    FloatArray,
    ObjArray,
    Source,
    StageTick,
    selection_changes,
)
from pixirt.simulation._distributions import (
    _candidates_frame,
    _level_table,
    _outcome_table,
    _score_change_tables,
    _score_histograms,
)
from pixirt.simulation._exposure import _exposure_tables
from pixirt.simulation._fairness import (
    _conditional_changes,
    _gap_table,
    _noise_changes,
    _retest_noise,
    _tests_differ,
)
from pixirt.simulation._quality import _quality_by_ability, _quality_columns, _quality_table
from pixirt.simulation._rule_set_info import RuleSetInfo
from pixirt.simulation._sides import _paired_flags, _review, _Shared, _Side

# ====================================================================== the analysis
#: One group's difference: metric, group, size, baseline and proposed statistics.
DiffSpec = tuple[str, str, int, Stat, Stat]
#: One group's share of changed candidates: metric, group, size, statistic.
ChangeSpec = tuple[str, str, int, Stat]


def _analysis_fields(
    b: _Side,
    p: _Side,
    shared: _Shared,
    *,
    baseline_rules: RuleSet,
    proposed_rules: RuleSet,
    source: Source,
    seed: int,
    n_bootstrap: int,
    confidence_level: float,
    notes: tuple[tuple[str, int], ...],
    population: dict[str, Any] | None,
    bank_hash: str | None,
    t0: float,
    progress: StageTick = _no_progress,
    n_items: int = 0,
    assumptions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The fields of the :class:`Comparison` of two sides: every table with its intervals."""
    from pixirt._version import __version__

    n = len(b.status)
    groups, member = _groups(shared.group, n)

    # -- per-candidate facts
    paired = _paired_flags(b.status, b.pix, b.cert, p.status, p.pix, p.cert)
    noise = _retest_noise(b, shared)
    per_side = _per_side(b, p, n, len(shared.codes))

    # -- columns (added in a fixed order: the bootstrap sums are those of the columns)
    sums = _Sums(n)
    diff_specs, change_specs, gap_change = _group_columns(sums, member, per_side, paired)
    cond_change = _conditional_changes(b, p, shared, groups, member, paired, sums)
    # the noise floor of each group's change: how it moves between two sittings under the
    # baseline rules (the retest candidates), when the rules change the tests themselves
    noise_change = (
        _noise_changes(b, shared, member, sums)
        if _tests_differ(baseline_rules, proposed_rules)
        else {}
    )
    quality_specs = _quality_columns(b, p, shared, sums)

    total, boot = sums.run(n_bootstrap, seed, progress)
    estimate = _estimator(total, boot)
    level = confidence_level

    # -- differences, fairness gaps, quality
    differences, changes = _difference_tables(diff_specs, change_specs, estimate, level)
    gaps = _gap_table(groups, gap_change, cond_change, noise_change, estimate, level)
    quality = _quality_table(quality_specs, estimate, level, n_bootstrap)

    # -- distributions and transitions
    tables = _distribution_fields(b, p, shared, paired, n_items)
    if n < MIN_SAMPLE:  # too few for a bootstrap interval to mean anything: none is given
        differences, changes, quality, gaps = _without_intervals(
            differences, changes, quality, gaps
        )
        notes = (*notes, ("small_sample", n))
    return dict(
        baseline=RuleSetInfo.of(baseline_rules),
        proposed=RuleSetInfo.of(proposed_rules),
        rules_diff=rules_mod.diff(baseline_rules, proposed_rules),
        source=source,
        n=n,
        seed=seed,
        n_bootstrap=n_bootstrap,
        confidence_level=confidence_level,
        groups=groups,
        selection_changed=bool(selection_changes(rules_mod.diff(baseline_rules, proposed_rules))),
        differences=differences,
        changes=changes,
        gaps=gaps,
        quality=quality,
        retest_noise=noise,
        notes=notes,
        n_retest=0 if shared.retest_rows is None else len(shared.retest_rows),
        population=population,
        bank_hash=bank_hash,
        pixirt_version=__version__,
        seconds=time.perf_counter() - t0,
        assumptions=assumptions,
        **tables,
    )


def _distribution_fields(
    b: _Side, p: _Side, shared: _Shared, paired: dict[str, BoolArray], n_items: int
) -> dict[str, Any]:
    """The distributions and transitions: outcomes, scores, levels, quality by ability, exposure."""
    outcomes = _outcome_table(b.status, p.status)
    score_changes, stats = _score_change_tables(p.pix - b.pix)
    scores = _score_histograms(b.pix, p.pix)
    levels = _level_table(b.cert, p.cert, shared.codes)
    by_ability = _quality_by_ability(b, p, shared)
    exposure, curves = _exposure_tables(b, p, n_items)
    candidates = _candidates_frame(b, p, shared, paired)
    return {
        "outcomes": outcomes,
        "score_changes": score_changes,
        "score_change_stats": stats,
        "scores": scores,
        "levels": levels,
        "quality_by_ability": by_ability,
        "exposure": exposure,
        "exposure_curves": curves,
        "candidates": candidates,
    }


def _groups(group: ObjArray, n: int) -> tuple[tuple[str, ...], dict[str, BoolArray]]:
    """The groups (sorted), and the members of ``"all"`` then of each group."""
    groups = tuple(sorted({str(g) for g in group})) if n else ("all",)
    group_keys = ["all", *[g for g in groups if g != "all"]]
    member = {g: np.ones(n, dtype=bool) if g == "all" else group == g for g in group_keys}
    return groups, member


def _per_side(
    b: _Side, p: _Side, n: int, n_codes: int
) -> dict[str, tuple[FloatArray, FloatArray, float]]:
    """Per difference metric: the baseline and proposed values per candidate, and the scale."""
    vb, vp = b.valid, p.valid
    sum_level_b = np.nan_to_num(b.cert, nan=0.0).sum(axis=1)
    sum_level_p = np.nan_to_num(p.cert, nan=0.0).sum(axis=1)
    return {
        "pass_rate": (vb.astype(float), vp.astype(float), 1.0),
        "mean_score": (b.pix, p.pix, 1.0),
        "mean_level": (sum_level_b, sum_level_p, float(max(n_codes, 1))),
        "jury_review": (_review(b, n), _review(p, n), 1.0),
    }


def _group_columns(
    sums: _Sums,
    member: dict[str, BoolArray],
    per_side: dict[str, tuple[FloatArray, FloatArray, float]],
    paired: dict[str, BoolArray],
) -> tuple[list[DiffSpec], list[ChangeSpec], dict[tuple[str, str], Stat]]:
    """Per group, the differences, the shares of changed candidates and each gap's change."""
    diff_specs: list[DiffSpec] = []
    change_specs: list[ChangeSpec] = []
    gap_change: dict[tuple[str, str], Stat] = {}
    for g, members in member.items():
        m = members.astype(float)
        den = sums.add(m)
        count = int(members.sum())
        for metric, (yb, yp, scale) in per_side.items():
            fb = _scaled(_ratio(sums.add(yb * m), den), 1.0 / scale)
            fp = _scaled(_ratio(sums.add(yp * m), den), 1.0 / scale)
            diff_specs.append((metric, g, count, fb, fp))
            gap_change[(metric, g)] = _minus(fp, fb)
        for metric, flag in paired.items():
            f = _ratio(sums.add(flag * m), den)
            change_specs.append((metric, g, count, f))
            gap_change[(metric, g)] = f
    return diff_specs, change_specs, gap_change


def _difference_tables(
    diff_specs: list[DiffSpec], change_specs: list[ChangeSpec], estimate: Estimate, level: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``differences`` and ``changes`` tables, with their intervals."""
    diff_rows = []
    for metric, g, count, fb, fp in diff_specs:
        pb, db = estimate(fb)
        pp, dp = estimate(fp)
        lo, hi = _interval(dp - db, level)
        diff_rows.append((metric, g, count, pb, pp, pp - pb, lo, hi))
    differences = pd.DataFrame(
        diff_rows,
        columns=["metric", "group", "n", "baseline", "proposed", "difference", "low", "high"],
    )
    change_rows = []
    for metric, g, count, f in change_specs:
        share, dist = estimate(f)
        lo, hi = _interval(dist, level)
        k = round(share * count)
        change_rows.append((metric, g, count, k, share, lo, hi))
    changes = pd.DataFrame(
        change_rows, columns=["metric", "group", "n", "count", "share", "low", "high"]
    )
    return differences, changes


def _without_intervals(
    differences: pd.DataFrame, changes: pd.DataFrame, quality: pd.DataFrame, gaps: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The tables with no interval and no flag (a sample too small for the bootstrap)."""
    differences, changes, quality = (
        t.assign(low=math.nan, high=math.nan) for t in (differences, changes, quality)
    )
    gaps = gaps.assign(
        **{
            c: math.nan
            for c in ("low", "high", "adj_low", "adj_high", "cond_low", "cond_high",
                      "cond_adj_low", "cond_adj_high")
        },
        flagged=False,
        watch=False,
    )  # fmt: skip
    return differences, changes, quality, gaps
