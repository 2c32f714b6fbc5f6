"""Marginal maximum likelihood (or MAP) calibration by EM over sparse answer logs.

The engine of :func:`calibrate` (Bock & Aitkin 1981):

- **Quadrature.** ``n_quad`` equally spaced nodes over ``theta_range`` with normal
  weights renormalized on the grid (mirt's default), so likelihoods match mirt's.
- **E-step, answered cells only.** Persons are processed in chunks (at most
  ``_design._CHUNK_CELLS`` persons × nodes, 32 MB). For a chunk, the persons × nodes
  log-likelihood is one sparse product ``A @ T``: ``A`` is the chunk's CSR incidence of
  answer codes ``2·item + correct`` (built on the log's own arrays, no copy) and ``T`` the
  ``(2 · n_items) × n_quad`` table of ``log(1 − P)`` and ``log P``; no per-answer
  exponential is ever computed. Posteriors are normalized in log space (max shift), and
  the expected counts of wrong and right answers per item and node are ``Aᵀ @ posterior``.
- **M-step.** Newton–Fisher scoring, vectorized over items (1 × 1, 2 × 2 or 3 × 3 systems
  per item), to convergence, with per-item step halving so each M-step increases the
  expected complete-data log-likelihood (plus log-prior). The 1PL's common slope is
  solved jointly through the Schur complement; the Rasch latent variance by Newton on
  the grid-normalized normal weights (as mirt estimates it).
- **Acceleration.** SQUAREM (Varadhan & Roland 2008, SqS3) with a monotone safeguard:
  an extrapolated point is kept only if its objective is at least that of the last EM
  step, so the fixed point is EM's and the log-likelihood history never decreases.
- **Convergence.** The largest absolute change of an EM step over the estimated
  parameters — slopes ``a``, intercepts ``d = −a·b`` (mirt's slope-intercept form),
  ``logit(c)`` for the 3PL and the latent variance for the Rasch model — below ``tol``
  (mirt's ``TOL``).
- **Standard errors.** The observed information by Louis's (1982) identity, computed
  exactly (analytic complete-data scores and Hessians, per-person posterior
  covariances): the same matrix that mirt's Oakes (1999) SEs approximate by numerical
  differentiation. ``se="full"`` inverts the whole matrix (all items and the latent
  variance jointly); ``se="items"`` inverts each item's block alone (cost of one E-step,
  for Pix-sized banks; it ignores the uncertainty of the other items' parameters, so it
  is slightly smaller); ``"auto"`` picks full while it is cheap. SEs are mapped to
  ``(a, b, c)`` by the delta method.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt._progress import ProgressArg, Reporter, reporter
from pixirt._response_log import ResponseLog
from pixirt._validation import check_choice, check_in_range
from pixirt.calibration._data import Data, LocalData
from pixirt.calibration._design import build_design
from pixirt.calibration._em_loop import Accelerate
from pixirt.calibration._em_run import FixedScale, run_calibration
from pixirt.calibration._groups import (
    count_groups,
    free_per_group,
    resolve_group_series,
    resolve_groups,
)
from pixirt.calibration._priors import Priors
from pixirt.calibration._results import CalibrationResult
from pixirt.calibration._standard_errors import SEMethod
from pixirt.exceptions import DataError
from pixirt.models import MODELS, Model

if TYPE_CHECKING:
    from pixirt.calibration._partitions import ResponseSource

IntArray = npt.NDArray[np.int64]

__all__ = ["calibrate"]


def _check_int(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) < low:
        raise DataError(
            f"The {name!r} parameter must be an int ≥ {low}. Got {value!r} instead.", field=name
        )
    return int(value)


def _check_range(value: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise DataError(
            f"The 'theta_range' parameter must be a pair (low, high). Got {value!r} instead.",
            field="theta_range",
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise DataError(
            f"The 'theta_range' parameter must be finite with low < high. Got {value!r} instead.",
            field="theta_range",
        )
    return lo, hi


def _check_options(seed: Any, progress: Any, fixed: Any) -> Reporter:
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0
    ):
        raise DataError(
            f"The 'seed' parameter must be None or a non-negative int. Got {seed!r} instead.",
            field="seed",
        )
    if fixed is not None and not isinstance(fixed, ItemBank):
        raise DataError(
            f"The 'fixed' parameter must be None or an ItemBank. Got {type(fixed).__name__} instead.",
            field="fixed",
        )
    return reporter(progress)


def _groups_of(
    log: Any, groups: Any, reference_group: Any, free_items: Any, client: Any
) -> tuple[Any, IntArray | None, list[Any], pd.Series | None]:
    """The log (items freed per group), the groups' codes and labels, by person.

    Each person's group code and the labels in code order for a log here; for
    partitions, the group of each person id (each partition maps its persons).
    """
    group_codes: IntArray | None = None
    group_labels: list[Any] = []
    group_series: pd.Series | None = None
    if free_items is not None and (
        groups is None or client is not None or not isinstance(log, ResponseLog)
    ):
        raise DataError(
            "free_items needs groups and a ResponseLog in this process", field="free_items"
        )
    if groups is not None:
        if client is None and isinstance(log, ResponseLog):
            group_codes, group_labels = resolve_groups(log, groups, reference_group)
            if free_items is not None:
                log = free_per_group(log, group_codes, group_labels, free_items)
        else:
            # partitions: each partition maps its persons to their group codes
            group_series, group_labels = resolve_group_series(groups, reference_group)
    return log, group_codes, group_labels, group_series


def _data_of(
    log: Any,
    client: Any,
    n_quad: int,
    theta_range: tuple[float, float],
    group_codes: IntArray | None,
    group_series: pd.Series | None,
) -> tuple[pd.DataFrame, Data, Any]:
    """The item statistics, where the answers are and what closes it (None: nothing)."""
    lo, hi = theta_range
    if client is None and isinstance(log, ResponseLog):
        if log.n_answers == 0:
            raise DataError("the log has no answers", field="log")
        stats = log.item_stats()
        data: Data = LocalData(build_design(log, n_quad, (lo, hi), group_codes))
        close: Any = None
    else:
        from pixirt.calibration._partitions import partitioned

        part = partitioned(log, client, n_quad=n_quad, theta_range=(lo, hi), groups=group_series)
        stats, data, close = part.stats, part, part.close
    return stats, data, close


def calibrate(
    log: ResponseLog | ResponseSource | str | os.PathLike[str] | Any,
    model: Model = "2PL",
    *,
    max_iter: int = 500,
    tol: float = 1e-4,
    n_quad: int = 61,
    theta_range: tuple[float, float] = (-6.0, 6.0),
    priors: Priors | str | None = None,
    fixed: ItemBank | None = None,
    client: Any = None,
    seed: int | None = None,
    progress: ProgressArg = False,
    accelerate: Accelerate = "squarem",
    se: SEMethod = "auto",
    fixed_scale: FixedScale = "estimate",
    groups: pd.Series | Mapping[Any, Any] | Sequence[Any] | npt.NDArray[Any] | None = None,
    reference_group: Any = None,
    free_items: Sequence[Any] | None = None,
) -> CalibrationResult:
    """Calibrate item parameters by marginal maximum likelihood (EM) on a sparse log.

    Parameters
    ----------
    log
        The answers: a :class:`~pixirt.ResponseLog` (only answered cells are
        used; persons without an answer are ignored), or a source read in partitions of
        persons — a Parquet or CSV file, a directory of them or a glob, a
        :class:`~pixirt.calibration.ResponseSource` (the same with column names and
        reading options), or a ``dask.dataframe``. A person's answers must all lie in
        one partition (a ``DataError`` names the person otherwise).
    model
        ``"Rasch"`` (a = 1, latent variance estimated), ``"1PL"`` (one common slope,
        θ ~ N(0, 1)), ``"2PL"`` or ``"3PL"`` (θ ~ N(0, 1)).
    max_iter
        Most EM iterations (E-steps).
    tol
        Convergence when the largest absolute parameter change of an EM step is below
        ``tol`` (mirt's ``TOL``), over ``a``, ``d = −a·b``, ``logit(c)`` and the Rasch
        latent variance.
    n_quad
        Quadrature nodes, equally spaced over ``theta_range`` with normal weights.
    theta_range
        ``(low, high)`` of the nodes.
    priors
        None (maximum likelihood; the 3PL still gets ``c ~ Beta(5, 17)``), ``"default"``
        or a :class:`~pixirt.calibration.Priors` for MAP estimates.
    fixed
        A calibrated bank: the log's items found in it keep its parameters, the others
        are calibrated on its scale. The log's population gets its own latent mean
        and variance on that scale, estimated (``fixed_scale="estimate"``, mirt's
        fixed-parameter calibration with the group's mean and variance free; in
        ``result.latent_mean`` and ``result.latent_variance``) or held at the bank's
        (``"hold"``, the behaviour before issue 18: biased when the new population
        differs). The returned bank is on the fixed bank's scale and also holds the
        bank's items absent from the log.
    client
        A ``dask.distributed`` Client (extra ``[distributed]``): persons are partitioned,
        each worker builds and keeps the E-step design of its partitions (read by Dask
        tasks, so a lost worker's share is recomputed) and only per-item sums at the
        quadrature nodes travel back, added in a fixed order; the M-step runs here. The
        estimates equal the local run's to rounding (≤ 1e-8). None: in this process.
    seed
        Recorded in the result (the EM is deterministic).
    progress
        ``True``: show iteration, change and log-likelihood on stderr (only when it is a
        terminal); a callable receives a :class:`pixirt.Progress` per iteration (stage
        ``"calibrate <model>"``, ``total`` None, the change and log-likelihood in
        ``detail``). Default ``False``.
    accelerate
        ``"squarem"`` (default) or ``"none"`` (plain EM).
    se
        Standard errors: ``"auto"``, ``"full"``, ``"items"`` or ``"none"`` (see the
        module documentation).
    fixed_scale
        With ``fixed``: ``"estimate"`` (default) or ``"hold"`` the log population's
        latent mean and variance.
    groups
        Multiple-group calibration (mirt's ``multipleGroup`` with the item parameters
        invariant and ``free_means``, ``free_var``): each person's group, a Series
        indexed by ``person_id``, a mapping, or one label per person of the log in
        log order. The item parameters are shared; each group other than the
        reference has its latent mean and variance estimated, the reference is held at
        N(0, 1) (at the fixed bank's scale with ``fixed``, where it is estimated too
        unless ``fixed_scale="hold"``; for the Rasch model its variance is
        estimated). Every person with an answer needs a group. The groups' estimates
        are in ``result.groups``. With a ``client`` or a partitioned source,
        a Series indexed by ``person_id`` or a mapping: each partition maps its
        persons (on the workers), and the estimates equal the local run's to rounding.
    reference_group
        The reference group's label (default: the first label in sorted order).
    free_items
        With ``groups`` (a ``ResponseLog`` in this process): items whose parameters are
        freed per group (mirt's ``multipleGroup`` with these items left out of
        ``invariance``, for DIF). The reference group's answers keep the item's id,
        each other group's become item ``"<id>@<group>"``, calibrated on its own; the
        other items anchor the groups' scales. Item ids must be strings.

    Returns
    -------
    CalibrationResult
        The bank and the fit.

    Raises
    ------
    DataError
        On an invalid argument (naming it), items without answers, or items always
        right or always wrong under maximum likelihood.
    CalibrationError
        If EM diverges (non-finite values).

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` is reached before ``tol``, with the last change.
    DegenerateItemWarning
        When items come out degenerate (a ≤ 0, a slope or a difficulty running off to
        infinity): they are estimated and listed in ``result.problems``, the other
        items are estimated as usual, ``result.engine_bank()`` refuses them.

    Examples
    --------
    >>> from pixirt.simulation import pix_like_bank, simulate_answers
    >>> bank = pix_like_bank(seed=1).subset([f"ch{i:05d}" for i in range(1, 41)])
    >>> sim = simulate_answers(bank, 2_000, answers_per_person=20, seed=3)
    >>> result = calibrate(sim.log, "2PL", progress=False)
    >>> result.converged, result.bank.n_items
    (True, 40)
    """
    started = time.perf_counter()
    check_choice(model, "model", MODELS)
    max_iter = _check_int(max_iter, "max_iter", 1)
    tol = check_in_range(tol, "tol", 0.0, math.inf, low_open=True)
    n_quad = _check_int(n_quad, "n_quad", 5)
    lo, hi = _check_range(theta_range)
    check_choice(accelerate, "accelerate", get_args(Accelerate))
    check_choice(se, "se", get_args(SEMethod))
    check_choice(fixed_scale, "fixed_scale", get_args(FixedScale))
    report = _check_options(seed, progress, fixed)
    resolved = Priors.resolve(priors, model)
    log, group_codes, group_labels, group_series = _groups_of(
        log, groups, reference_group, free_items, client
    )
    stats, data, close = _data_of(log, client, n_quad, (lo, hi), group_codes, group_series)
    try:
        return run_calibration(
            data,
            stats,
            model,
            resolved,
            fixed,
            started=started,
            max_iter=max_iter,
            tol=tol,
            n_quad=n_quad,
            theta_range=(lo, hi),
            seed=seed,
            progress=report,
            accelerate=accelerate,
            se=se,
            fixed_scale=fixed_scale,
            group_labels=group_labels,
            group_counts=count_groups(data, len(group_labels)),
        )
    finally:
        if close is not None:
            close()
