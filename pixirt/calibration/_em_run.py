"""One calibration run over its data.

Starting values, the EM, the standard errors and the result.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt._progress import Reporter
from pixirt.calibration._data import Data
from pixirt.calibration._em_loop import Accelerate, Fit, run_em
from pixirt.calibration._em_result import describe, item_problems, result_bank, scatter_se
from pixirt.calibration._estep import EStep
from pixirt.calibration._groups import groups_frame
from pixirt.calibration._information import full_cost
from pixirt.calibration._mstep import log_prior
from pixirt.calibration._priors import Priors
from pixirt.calibration._results import CalibrationError, CalibrationResult
from pixirt.calibration._standard_errors import (
    FULL_SE_MAX_COST,
    FULL_SE_MAX_PARAMS,
    SEMethod,
    covariance,
    item_standard_errors,
)
from pixirt.calibration._state import Layout, State
from pixirt.exceptions import ConvergenceWarning, DataError, DegenerateItemWarning
from pixirt.models import Model

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

FixedScale = Literal["estimate", "hold"]


def _start(
    stats: pd.DataFrame,
    layout: Layout,
    fixed_pos: IntArray,
    fixed: ItemBank | None,
    priors: Priors,
) -> State:
    """Starting values: slope 1, intercepts from the p-values, c at the prior's mode (3PL)."""
    n_items = len(stats)
    mean = fixed.latent_mean if fixed is not None else 0.0
    variance = fixed.latent_variance if fixed is not None else 1.0
    n = stats["n_answers"].to_numpy(dtype=np.float64)
    p = (np.nan_to_num(stats["p_correct"].to_numpy(dtype=np.float64)) * n + 0.5) / (n + 1.0)
    a = np.ones(n_items)
    c = np.zeros(n_items)
    if layout.model == "3PL":
        alpha, beta = priors.c_beta if priors.c_beta is not None else (5.0, 17.0)
        c0 = (alpha - 1) / (alpha + beta - 2) if alpha + beta > 2 and alpha >= 1 else 0.2
        c[:] = min(max(c0, 0.01), 0.5)
        p = np.clip((p - c) / (1 - c), 0.02, 0.98)
    d = np.log(p / (1 - p)) * np.sqrt(1 + math.pi * variance / 8) - a * mean
    if fixed is not None:
        known = fixed_pos >= 0
        pos = fixed_pos[known]
        a[known] = fixed.a[pos]
        d[known] = -fixed.a[pos] * fixed.b[pos]
        c[known] = fixed.c[pos]
    return State(a=a, d=d, c=c, mean=mean, variance=variance)


def _check_items(stats: pd.DataFrame, free: IntArray, priors: Priors) -> None:
    n = stats["n_answers"].to_numpy()[free]
    p = stats["p_correct"].to_numpy()[free]
    ids = stats.index.to_numpy()[free]
    none = n == 0
    if none.any():
        shown = ", ".join(map(repr, ids[none][:5].tolist()))
        raise DataError(
            f"{int(none.sum())} item(s) have no answer and cannot be calibrated ({shown}); "
            "drop them with log.subset(items=...)",
            field="log",
        )
    if priors.b_normal is None:
        extreme = (p == 0) | (p == 1)
        if extreme.any():
            shown = ", ".join(map(repr, ids[extreme][:5].tolist()))
            raise DataError(
                f"{int(extreme.sum())} item(s) are always answered right or always wrong ({shown}): "
                "their maximum-likelihood difficulty is infinite; use priors='default' "
                "(a normal prior on b) or drop them",
                field="log",
            )


def _setup(
    stats: pd.DataFrame,
    model: Model,
    resolved: Priors,
    fixed: ItemBank | None,
    fixed_scale: FixedScale,
    n_group_labels: int,
) -> tuple[Layout, State, IntArray]:
    """The layout of the estimated parameters, their starting values, fixed positions.

    ``fixed_pos``: each item's position in the fixed bank (−1: calibrated).
    """
    item_ids = stats.index.to_numpy()
    n_items = len(item_ids)
    if fixed is not None:
        fixed_pos = pd.Index(fixed.item_ids).get_indexer(pd.Index(item_ids)).astype(np.int64)
        if not (fixed_pos >= 0).any():
            raise DataError(
                "no item of the log is in the fixed bank (compare their item ids)", field="fixed"
            )
    else:
        fixed_pos = np.full(n_items, -1, dtype=np.int64)
    free = np.flatnonzero(fixed_pos < 0).astype(np.int64)
    _check_items(stats, free, resolved)
    n_a = {"Rasch": 0, "1PL": 1 if len(free) else 0, "2PL": len(free), "3PL": len(free)}[model]
    scale_free = fixed is not None and fixed_scale == "estimate"
    layout = Layout(
        model=model,
        free=free,
        n_a=n_a,
        var_free=(model == "Rasch" and fixed is None) or scale_free,
        mean_free=scale_free,
        n_groups=max(1, n_group_labels),
    )
    start = _start(stats, layout, fixed_pos, fixed, resolved)
    if layout.n_groups > 1:
        start = replace(
            start,
            g_mean=np.full(layout.n_groups, start.mean),
            g_var=np.full(layout.n_groups, start.variance),
        )
    return layout, start, fixed_pos


def _se_method(
    se: SEMethod, data: Data, layout: Layout, n_quad: int
) -> Literal["full", "items", "none"]:
    """The standard errors' method: ``"auto"`` is the full information while it is cheap."""
    method: Literal["full", "items", "none"]
    if se == "auto":
        small = (
            layout.size <= FULL_SE_MAX_PARAMS
            and full_cost(data.k_hist(), n_quad, layout) <= FULL_SE_MAX_COST
        )
        method = "full" if small else "items"
    else:
        method = se
    return method


def _standard_errors(
    data: Data,
    state: State,
    layout: Layout,
    resolved: Priors,
    method: Literal["full", "items", "none"],
    problems: pd.DataFrame,
    item_ids: npt.NDArray[Any],
) -> tuple[EStep, FloatArray, FloatArray, FloatArray, float]:
    """The final E-step sums and the standard errors of a, b, c and the latent variance.

    NaN where not computed.
    """
    free, model = layout.free, layout.model
    # an item whose slope EM holds at ±DIVERGED has no finite information: its
    # parameters are held fixed for the others' standard errors (its own are NaN)
    held = np.isin(
        item_ids[free], problems["item_id"][problems["problem"] == "diverging slope"]
    ) & (model in ("2PL", "3PL"))
    se_layout = layout
    if layout.mean_free or layout.n_groups > 1:
        # the populations' means and variances are held at their estimates for the
        # items' standard errors (their own are not computed)
        se_layout = replace(layout, var_free=False, mean_free=False, n_groups=1)
    if held.any():
        kept = free[~held]
        se_layout = replace(se_layout, free=kept, n_a=len(kept))
    if method != "none" and se_layout.size:
        # one pass at the estimates gives the final log-likelihood and the information
        final, pc = covariance(data, state, se_layout, resolved, method)
        se_a, se_b, se_c = (scatter_se(v, held) for v in item_standard_errors(state, se_layout, pc))
        var_se = math.sqrt(pc.var_v) if pc.var_v >= 0 else math.nan
    else:
        final = data.e_step(state)
        nan = np.full(layout.n_free, np.nan)
        se_a, se_b, se_c, var_se = nan, nan, nan, math.nan
    return final, se_a, se_b, se_c, var_se


def _fit(
    data: Data,
    layout: Layout,
    start: State,
    resolved: Priors,
    *,
    max_iter: int,
    tol: float,
    accelerate: Accelerate,
    progress: Reporter,
    item_ids: npt.NDArray[Any],
) -> Fit:
    """The EM from the starting values, reporting each iteration to ``progress``."""
    try:
        fit = run_em(
            data,
            layout,
            start,
            resolved,
            max_iter=max_iter,
            tol=tol,
            accelerate=accelerate,
            progress=progress,
            item_ids=item_ids,
        )
    finally:
        progress.close()
    return fit


def _warn_degenerate(problems: pd.DataFrame) -> None:
    """Warn of the degenerate items (estimated, flagged in ``result.problems``)."""
    if len(problems):
        warnings.warn(
            f"{len(problems)} degenerate item(s), estimated but flagged in result.problems: "
            f"{describe(problems)}; the other items are estimated as usual, the bank for the "
            "engine (result.engine_bank()) refuses them",
            DegenerateItemWarning,
            stacklevel=4,
        )


def _check_final(final: EStep, fit: Fit, max_iter: int, tol: float) -> None:
    """Raise if the final log-likelihood is not finite; warn if EM did not converge."""
    if not math.isfinite(final.loglik):
        raise CalibrationError("EM diverged: the final log-likelihood is not finite")
    if not fit.converged:
        warnings.warn(
            f"EM stopped after {fit.n_iter} iterations (max_iter={max_iter}) before reaching "
            f"tol={tol:g}: the last largest parameter change was {fit.last_change:.3g}",
            ConvergenceWarning,
            stacklevel=4,
        )


def run_calibration(
    data: Data,
    stats: pd.DataFrame,
    model: Model,
    resolved: Priors,
    fixed: ItemBank | None,
    *,
    started: float,
    max_iter: int,
    tol: float,
    n_quad: int,
    theta_range: tuple[float, float],
    seed: int | None,
    progress: Reporter,
    accelerate: Accelerate,
    se: SEMethod,
    fixed_scale: FixedScale = "estimate",
    group_labels: Sequence[Any] = (),
    group_counts: IntArray | None = None,
) -> CalibrationResult:
    """The EM, the standard errors and the result, wherever the answers are."""
    item_ids = stats.index.to_numpy()
    lo, hi = theta_range
    layout, start, fixed_pos = _setup(stats, model, resolved, fixed, fixed_scale, len(group_labels))
    fit = _fit(
        data,
        layout,
        start,
        resolved,
        max_iter=max_iter,
        tol=tol,
        accelerate=accelerate,
        progress=progress,
        item_ids=item_ids,
    )
    state = fit.state
    problems = item_problems(item_ids, layout, state)
    _warn_degenerate(problems)
    method = _se_method(se, data, layout, n_quad)
    final, se_a, se_b, se_c, var_se = _standard_errors(
        data, state, layout, resolved, method, problems, item_ids
    )
    _check_final(final, fit, max_iter, tol)
    bank = result_bank(item_ids, stats, layout, state, fixed, fixed_pos, se_a, se_b, se_c)
    k = layout.size
    n_persons = data.n_persons
    loglik = final.loglik
    from pixirt._version import __version__

    return CalibrationResult(
        bank=bank,
        loglik=loglik,
        aic=-2 * loglik + 2 * k,
        bic=-2 * loglik + k * math.log(n_persons),
        n_iter=fit.n_iter,
        converged=fit.converged,
        history=fit.history,
        model=model,
        n_persons=n_persons,
        n_items=layout.n_free,
        n_fixed=int((fixed_pos >= 0).sum()),
        n_answers=int(stats["n_answers"].sum()),
        n_parameters=k,
        log_prior=log_prior(state, layout, resolved),
        latent_mean=state.mean,
        latent_variance=state.variance,
        latent_variance_se=var_se,
        last_change=fit.last_change,
        tol=tol,
        max_iter=max_iter,
        n_quad=n_quad,
        theta_range=(lo, hi),
        priors=resolved,
        accelerate=accelerate,
        se_method={"full": "Louis, full", "items": "Louis, item blocks", "none": "none"}[method],
        fixed_hash=fixed.hash if fixed is not None else None,
        seed=None if seed is None else int(seed),
        seconds=time.perf_counter() - started,
        version=__version__,
        problems=problems,
        groups=groups_frame(group_labels, group_counts, state),
    )
