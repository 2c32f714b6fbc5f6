"""The EM loop, accelerated by SQUAREM.

SQUAREM (Varadhan & Roland 2008, SqS3) with a monotone safeguard, the progress reports and
the hold of diverging slopes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from pixirt._progress import Reporter
from pixirt.calibration._data import Data
from pixirt.calibration._estep import EStep
from pixirt.calibration._mstep import log_prior, m_step
from pixirt.calibration._priors import Priors
from pixirt.calibration._results import CalibrationError
from pixirt.calibration._state import Layout, State

FloatArray = npt.NDArray[np.float64]

Accelerate = Literal["squarem", "none"]
DIVERGED = 100.0  # |a| or |b| beyond this: the estimate is running off to infinity


@dataclass(frozen=True, slots=True)
class Fit:
    state: State
    n_iter: int
    converged: bool
    last_change: float
    history: tuple[float, ...]


def _report(
    progress: Reporter, layout: Layout, iteration: int, change: float, loglik: float
) -> None:
    """One EM iteration done (of an unknown number): change and log-likelihood in the detail."""
    if progress.active:
        progress(
            f"calibrate {layout.model}",
            iteration,
            None,
            f"change {change:9.3e}  loglik {loglik:,.4f}",
        )


def _check_finite(e: EStep, x: FloatArray, iteration: int) -> None:
    if not (math.isfinite(e.loglik) and np.all(np.isfinite(x))):
        raise CalibrationError(
            f"EM diverged at iteration {iteration}: the log-likelihood or a parameter is not finite "
            "(items with too little information; try priors='default')"
        )


def _hold_diverging(
    x_new: FloatArray, layout: Layout, held: npt.NDArray[np.bool_], held_x: FloatArray
) -> None:
    """Hold (in place) the items whose slope runs off to infinity; updates ``held_x``."""
    # an item whose slope runs off to infinity (a Guttman item) is held, slope at
    # ±DIVERGED and b where it reached it, and reported in result.problems: the
    # other items go on converging
    wild = np.abs(x_new[: layout.n_a]) >= DIVERGED
    new_held = wild & ~held
    if new_held.any():
        k = np.flatnonzero(new_held)
        scale = DIVERGED / np.abs(x_new[k])
        x_new[k] *= scale
        x_new[layout.off_d + k] *= scale
        held_x[k] = x_new[k]
        held_x[layout.off_d + k] = x_new[layout.off_d + k]
        if layout.has_gamma:
            held_x[layout.off_g + k] = x_new[layout.off_g + k]
        held[k] = True
    if held.any():
        k = np.flatnonzero(held)
        for off in (0, layout.off_d, *((layout.off_g,) if layout.has_gamma else ())):
            x_new[off + k] = held_x[off + k]


def _extrapolate(
    evaluate: Any,
    xs: tuple[FloatArray, FloatArray, FloatArray],
    obj1: float,
    layout: Layout,
    priors: Priors,
    max_iter: int,
    evals: list[int],
    history: list[float],
) -> tuple[FloatArray, State, EStep] | None:
    """SQUAREM's extrapolation from three EM iterates, or None when none is accepted.

    The step length is halved towards −1 until the point's objective is at least that
    of the last EM step (monotone safeguard).
    """
    x0, x1, x2 = xs
    r = x1 - x0
    v = x2 - 2 * x1 + x0
    vv = float(v @ v)
    alpha = -math.sqrt(float(r @ r) / vv) if vv > 0 else -1.0
    while alpha < -1.0 and evals[0] < max_iter:
        xp = x0 - 2 * alpha * r + alpha * alpha * v
        if layout.valid(xp, priors):
            sp_, ep, objp = _try_evaluate(evaluate, xp)
            if ep is not None and sp_ is not None and objp >= obj1:
                return xp, sp_, ep
            if ep is not None:
                history.pop()  # rejected extrapolation: not an iterate of the EM path
        alpha = (alpha - 1.0) / 2.0
        if alpha > -1.01:
            break
    return None


def run_em(
    data: Data,
    layout: Layout,
    start: State,
    priors: Priors,
    *,
    max_iter: int,
    tol: float,
    accelerate: Accelerate,
    progress: Reporter,
    item_ids: npt.NDArray[Any],
) -> Fit:
    theta = data.theta
    history: list[float] = []  # log-likelihood along the EM path
    evals = [0]  # E-steps run, rejected extrapolations included

    def evaluate(x: FloatArray) -> tuple[State, EStep, float]:
        st = layout.unpack(x, start)
        evals[0] += 1
        e = data.e_step(st)
        _check_finite(e, x, evals[0])
        history.append(e.loglik)
        return st, e, e.loglik + log_prior(st, layout, priors)

    def em_map(st: State, e: EStep) -> FloatArray:
        new = m_step(st, layout, e, theta, priors)
        x_new = layout.pack(new)
        if not np.all(np.isfinite(x_new)):
            raise CalibrationError(
                f"EM diverged at iteration {evals[0]}: the M-step gave non-finite parameters"
            )
        if per_item_slope:
            _hold_diverging(x_new, layout, held, held_x)
        return x_new

    per_item_slope = layout.model in ("2PL", "3PL")
    held = np.zeros(layout.n_free, dtype=bool)  # items held at a diverging slope
    held_x = np.zeros(layout.size)

    def finish(x: FloatArray, converged: bool, change: float) -> Fit:
        return Fit(layout.unpack(x, start), evals[0], converged, change, tuple(history))

    x0 = layout.pack(start)
    if layout.size == 0:  # every item fixed: nothing to estimate
        evaluate(x0)
        return finish(x0, True, 0.0)
    s0, e0, _ = evaluate(x0)
    while True:
        x1 = em_map(s0, e0)
        change = float(np.max(np.abs(x1 - x0)))
        _report(progress, layout, evals[0], change, e0.loglik)
        if change < tol:
            return finish(x1, True, change)
        if evals[0] >= max_iter:
            return finish(x1, False, change)
        s1, e1, obj1 = evaluate(x1)
        if accelerate == "none":
            x0, s0, e0 = x1, s1, e1
            continue
        x2 = em_map(s1, e1)
        change = float(np.max(np.abs(x2 - x1)))
        _report(progress, layout, evals[0], change, e1.loglik)
        if change < tol:
            return finish(x2, True, change)
        if evals[0] >= max_iter:
            return finish(x2, False, change)
        step = _extrapolate(evaluate, (x0, x1, x2), obj1, layout, priors, max_iter, evals, history)
        if step is None:
            x0 = x2
            s0, e0, _ = evaluate(x2)
        else:
            x0, s0, e0 = step


def _try_evaluate(evaluate: Any, x: FloatArray) -> tuple[State | None, EStep | None, float]:
    """Evaluate an extrapolated point; a non-finite one is rejected, not an error."""
    try:
        st, e, obj = evaluate(x)
    except CalibrationError:
        return None, None, -math.inf
    if not math.isfinite(obj):
        return st, e, -math.inf
    return st, e, obj
