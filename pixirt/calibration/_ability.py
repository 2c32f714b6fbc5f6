"""Person scores (EAP, MAP, MLE, WLE), standard errors and reliability, on sparse logs.

:func:`score_persons` scores every person of a :class:`~pixirt.ResponseLog`
against a fixed :class:`~pixirt.ItemBank`, vectorized over persons: no
Python loop over persons or answers.

Methods
-------
``"EAP"``
    Posterior mean and standard deviation on a grid of ``n_quad`` nodes spanning
    ``mean ± 6 sd`` of the prior (R's mirt uses ``[-6, 6]`` with 61 nodes; the two
    grids coincide for an N(0, 1) prior). The person × node log-likelihood is one
    sparse product: the answers as a CSR matrix (one column per item and answer)
    times a table of ``log P`` and ``log(1 − P)`` per item and node.
``"MAP"``
    Posterior mode. Standard error ``1 / sqrt(−f''(θ̂))`` with ``f`` the log-posterior:
    the test information plus ``1 / sd²`` for the Rasch, 1PL and 2PL models.
``"MLE"``
    Maximum likelihood. All-right and all-wrong patterns have no finite estimate:
    ``theta`` is ``+inf`` or ``−inf``, ``se`` NaN and ``finite`` False, as in mirt.
    Standard error ``1 / sqrt(−ℓ''(θ̂))`` (the test information for the 2PL).
``"WLE"``
    Warm's weighted likelihood: the maximum of ``ℓ(θ) + ½ log I(θ)`` (Warm's estimator
    for the 1PL/2PL; for the 3PL, the Jeffreys-prior mode, as mirt computes it).
    Finite for all-right and all-wrong patterns. Standard error ``1 / sqrt(−f''(θ̂))``
    of that objective, as mirt reports it.

MAP, MLE and WLE run a vectorized Newton–Raphson over all persons at once, started at
the best node of the EAP grid (so each person starts in the basin of the global
maximum), with steps capped at one unit and halved until the objective does not
decrease. Where ``−f''`` is not positive (3PL only) the standard error falls back to
the expected information.

``prior=None`` uses the bank's latent scale (``bank.latent_mean``,
``bank.latent_variance``), so a Rasch bank calibrated with a free latent variance
scores on its own scale, as mirt does; ``prior=(mean, sd)`` overrides it.

Persons with no answer get the prior (EAP and MAP: ``theta = mean``, ``se = sd``) or
NaN (MLE, WLE; ``finite`` False).

Reliability: :func:`empirical_reliability` (mirt's ``empirical_rxx``) from scores, and
:func:`marginal_reliability` (mirt's ``marginal_rxx``) from a bank and a prior;
:func:`standard_error` gives the standard-error curve ``1 / sqrt(I(θ))``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.special import expit, log_expit

from pixirt._item_bank import ItemBank
from pixirt._response_log import ResponseLog
from pixirt._validation import check_choice
from pixirt.exceptions import ConvergenceWarning, DataError

__all__ = [
    "METHODS",
    "Method",
    "empirical_reliability",
    "marginal_reliability",
    "score_persons",
    "standard_error",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Method = Literal["EAP", "MAP", "MLE", "WLE"]
METHODS: tuple[Method, ...] = ("EAP", "MAP", "MLE", "WLE")

#: Persons per block of the grid computations (block × n_quad floats in memory).
_GRID_BLOCK = 16_384
#: Answers per block of the Newton iterations.
_ANSWER_BLOCK = 1 << 20
#: Half-width of the quadrature grid, in prior standard deviations (mirt: ±6).
_GRID_HALF_WIDTH = 6.0
#: Newton bounds, in prior standard deviations around the prior mean.
_THETA_BOUND = 20.0


# --------------------------------------------------------------------------- alignment
@dataclass(frozen=True, slots=True)
class Aligned:
    """A log aligned with a bank: per-log-item parameters and the CSR arrays.

    Internal to :mod:`pixirt.calibration` (fit, DIF and plots reuse it).
    """

    indptr: IntArray
    indices: npt.NDArray[np.int32]
    answers: npt.NDArray[np.int8]
    a: FloatArray
    b: FloatArray
    c: FloatArray
    person_ids: npt.NDArray[Any]
    item_ids: npt.NDArray[Any]
    bank_positions: IntArray

    @property
    def n_persons(self) -> int:
        """Number of persons."""
        return len(self.indptr) - 1

    @property
    def n_items(self) -> int:
        """Number of log items."""
        return len(self.a)

    @property
    def counts(self) -> IntArray:
        """Answers per person."""
        return np.diff(self.indptr)


def align(log: ResponseLog, bank: ItemBank) -> Aligned:
    """Match the items of ``log`` with ``bank``; every answered item must be in the bank.

    Raises
    ------
    DataError
        Naming the field ``item_id`` and the first missing items.
    """
    if not isinstance(log, ResponseLog):
        raise DataError(f"expected a ResponseLog, got {type(log).__name__}", field="log")
    if not isinstance(bank, ItemBank):
        raise DataError(f"expected an ItemBank, got {type(bank).__name__}", field="bank")
    pos = pd.Index(bank.item_ids).get_indexer(pd.Index(log.item_ids))
    answered = np.bincount(log.indices, minlength=log.n_items) > 0
    missing = (pos < 0) & answered
    if missing.any():
        ids = log.item_ids[missing]
        shown = ", ".join(map(repr, ids[:5].tolist())) + (", …" if len(ids) > 5 else "")
        raise DataError(
            f"{len(ids)} item(s) of the log are not in the bank: {shown}", field="item_id"
        )
    safe = np.where(pos < 0, 0, pos).astype(np.int64)
    a = np.where(pos < 0, 1.0, bank.a[safe])
    b = np.where(pos < 0, 0.0, bank.b[safe])
    c = np.where(pos < 0, 0.0, bank.c[safe])
    return Aligned(
        indptr=log.indptr,
        indices=log.indices,
        answers=log.answers,
        a=a,
        b=b,
        c=c,
        person_ids=log.person_ids,
        item_ids=log.item_ids,
        bank_positions=np.asarray(pos, dtype=np.int64),
    )


def resolve_prior(bank: ItemBank, prior: tuple[float, float] | None) -> tuple[float, float]:
    """``(mean, sd)`` of the ability prior: the bank's latent scale unless given."""
    if prior is None:
        return bank.latent_mean, math.sqrt(bank.latent_variance)
    try:
        mean, sd = (float(v) for v in prior)
    except (TypeError, ValueError):
        raise DataError(
            f"The 'prior' parameter must be None or a pair (mean, sd). Got {prior!r} instead.",
            field="prior",
        ) from None
    if not (math.isfinite(mean) and math.isfinite(sd) and sd > 0):
        raise DataError(
            f"The 'prior' parameter must have a finite mean and a positive sd. Got {prior!r} instead.",
            field="prior",
        )
    return mean, sd


def check_n_quad(n_quad: int) -> int:
    """Validate the number of quadrature nodes."""
    if isinstance(n_quad, bool) or not isinstance(n_quad, int | np.integer) or n_quad < 5:
        raise DataError(
            f"The 'n_quad' parameter must be an int >= 5. Got {n_quad!r} instead.",
            field="n_quad",
        )
    return int(n_quad)


def grid(mean: float, sd: float, n_quad: int) -> tuple[FloatArray, FloatArray]:
    """Nodes ``mean + sd · linspace(−6, 6, n_quad)`` and the log prior weights (normalized)."""
    z = np.linspace(-_GRID_HALF_WIDTH, _GRID_HALF_WIDTH, n_quad)
    log_w = -0.5 * z * z
    log_w -= np.log(np.exp(log_w).sum())
    return mean + sd * z, log_w


def blocks(indptr: IntArray, *, max_persons: int, max_answers: int) -> Iterator[tuple[int, int]]:
    """Person ranges ``[start, stop)`` of at most ``max_persons`` persons.

    A range holds about ``max_answers`` answers (more when a single person has more).
    """
    n = len(indptr) - 1
    start = 0
    while start < n:
        by_answers = int(np.searchsorted(indptr, indptr[start] + max_answers, side="right")) - 1
        stop = min(n, start + max_persons, max(by_answers, start + 1))
        yield start, stop
        start = stop


# --------------------------------------------------------------------------- item tables
def log_prob_table(a: FloatArray, b: FloatArray, c: FloatArray, nodes: FloatArray) -> FloatArray:
    """``(2 n_items, n_nodes)``: row ``2i`` is ``log(1 − P_i)``, row ``2i + 1`` is ``log P_i``."""
    z = a[:, None] * (nodes[None, :] - b[:, None])
    out = np.empty((2 * len(a), len(nodes)))
    if np.all(c == 0):
        out[1::2] = log_expit(z)
        out[0::2] = log_expit(-z)
    else:
        cc = c[:, None]
        out[1::2] = np.log(cc + (1.0 - cc) * expit(z))
        out[0::2] = np.log1p(-cc) + log_expit(-z)
    return out


def answer_matrix(al: Aligned, start: int, stop: int) -> sp.csr_matrix:
    """Persons ``start:stop`` as a CSR matrix with a one at column ``2 item + answer``."""
    lo, hi = int(al.indptr[start]), int(al.indptr[stop])
    codes = 2 * al.indices[lo:hi] + al.answers[lo:hi]
    return sp.csr_matrix(
        (np.ones(hi - lo), codes, al.indptr[start : stop + 1] - lo),
        shape=(stop - start, 2 * al.n_items),
    )


def grid_loglik(al: Aligned, start: int, stop: int, table: FloatArray) -> FloatArray:
    """Person × node sums of ``table[2 item + answer]`` over each person's answers."""
    return np.asarray(answer_matrix(al, start, stop) @ table, dtype=np.float64)


def normalize_rows(log_post: FloatArray) -> FloatArray:
    """Exponentiate and normalize each row of a log-density (in place)."""
    log_post -= log_post.max(axis=1, keepdims=True)
    np.exp(log_post, out=log_post)
    log_post /= log_post.sum(axis=1, keepdims=True)
    return log_post


# --------------------------------------------------------------------------- answer terms
@dataclass(frozen=True, slots=True)
class _Terms:
    ll: FloatArray
    d1: FloatArray
    d2: FloatArray
    info: FloatArray
    info1: FloatArray | None
    info2: FloatArray | None


def _answer_terms(
    theta: FloatArray,
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    y: FloatArray,
    *,
    info_derivatives: bool,
) -> _Terms:
    """Per answer: log-likelihood and information terms, with their θ-derivatives.

    The log-likelihood with its first two derivatives, the information and (for WLE)
    its first two derivatives. General 3PL formulas (c = 0 gives the 2PL).
    """
    z = a * (theta - b)
    s = expit(z)
    sq = s * (1.0 - s)
    one_c = 1.0 - c
    p = c + one_c * s
    log_p = np.log(p) if np.any(c > 0) else log_expit(z)
    log_q = np.log1p(-c) + log_expit(-z)
    ll = np.where(y > 0, log_p, log_q)
    p1 = a * one_c * sq  # dP/dθ
    h = a * s / p  # P' / (P Q)
    hp = a * a * c * sq / (p * p)  # dh/dθ
    resid = y - p
    d1 = resid * h
    d2 = -p1 * h + resid * hp
    info = p1 * h
    info1 = info2 = None
    if info_derivatives:
        p2 = a * a * one_c * sq * (1.0 - 2.0 * s)
        p3 = a**3 * one_c * sq * (1.0 - 6.0 * sq)
        hpp = a * a * c * sq * (a * (1.0 - 2.0 * s) * p - 2.0 * p1) / p**3
        info1 = p2 * h + p1 * hp
        info2 = p3 * h + 2.0 * p2 * hp + p1 * hpp
    return _Terms(ll, d1, d2, info, info1, info2)


def _person_sums(local: IntArray, n: int, values: FloatArray) -> FloatArray:
    return np.asarray(np.bincount(local, weights=values, minlength=n), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class _Objective:
    f: FloatArray
    g: FloatArray
    h: FloatArray
    info: FloatArray


def _objective(
    method: Method,
    theta: FloatArray,
    local: IntArray,
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    y: FloatArray,
    prior: tuple[float, float],
) -> _Objective:
    n = len(theta)
    t = _answer_terms(theta[local], a, b, c, y, info_derivatives=method == "WLE")
    f = _person_sums(local, n, t.ll)
    g = _person_sums(local, n, t.d1)
    h = _person_sums(local, n, t.d2)
    info = _person_sums(local, n, t.info)
    if method == "MAP":
        mean, sd = prior
        f = f - 0.5 * ((theta - mean) / sd) ** 2
        g = g - (theta - mean) / sd**2
        h = h - 1.0 / sd**2
        info = info + 1.0 / sd**2
    elif method == "WLE":
        assert t.info1 is not None and t.info2 is not None
        i1 = _person_sums(local, n, t.info1)
        i2 = _person_sums(local, n, t.info2)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = f + 0.5 * np.log(info)
            g = g + 0.5 * i1 / info
            h = h + 0.5 * (i2 / info - (i1 / info) ** 2)
    return _Objective(f, g, h, info)


def _newton(
    method: Method,
    theta0: FloatArray,
    local: IntArray,
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    y: FloatArray,
    prior: tuple[float, float],
    *,
    active: npt.NDArray[np.bool_],
    max_iter: int = 100,
    tol: float = 1e-9,
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Vectorized Newton–Raphson with step halving; returns (theta, se, converged)."""
    mean, sd = prior
    lo, hi = mean - _THETA_BOUND * sd, mean + _THETA_BOUND * sd
    theta = theta0.copy()
    cur = _objective(method, theta, local, a, b, c, y, prior)
    todo = active.copy()
    converged = ~active
    for _ in range(max_iter):
        if not todo.any():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = -cur.g / cur.h
            ascent = cur.g / np.maximum(cur.info, 1e-8)
        step = np.where(cur.h < 0, newton, ascent)
        step = np.clip(np.nan_to_num(step), -1.0, 1.0)
        step[~todo] = 0.0
        accepted = ~todo
        trial_theta = theta
        nxt = cur
        for _halving in range(40):
            trial_theta = np.where(accepted, theta, np.clip(theta + step, lo, hi))
            nxt = _objective(method, trial_theta, local, a, b, c, y, prior)
            ok = nxt.f >= cur.f - 1e-12 * np.abs(cur.f) - 1e-12
            accepted = accepted | ok
            if accepted.all():
                break
            step = np.where(accepted, step, 0.5 * step)
        moved = np.abs(trial_theta - theta)
        theta = np.where(accepted, trial_theta, theta)
        cur = nxt
        newly = todo & ((moved < tol) | (np.abs(cur.g) < 1e-10))
        converged |= newly
        todo &= ~newly
    with np.errstate(divide="ignore", invalid="ignore"):
        curvature = np.where(cur.h < 0, -cur.h, cur.info)
        se = 1.0 / np.sqrt(curvature)
    return theta, se, converged | ~active


# --------------------------------------------------------------------------- scoring
def score_persons(
    log: ResponseLog,
    bank: ItemBank,
    method: Method = "EAP",
    *,
    prior: tuple[float, float] | None = None,
    n_quad: int = 61,
) -> pd.DataFrame:
    """Score every person of a log against a bank.

    Parameters
    ----------
    log
        The answers (sparse; persons answer any subset of the items).
    bank
        Item parameters; every item answered in ``log`` must be in it.
    method
        ``"EAP"``, ``"MAP"``, ``"MLE"`` or ``"WLE"`` (see the module docstring).
    prior
        ``(mean, sd)`` of the normal ability prior for EAP and MAP, and the scale of the
        quadrature grid (also used to start MLE and WLE). None: the bank's latent
        mean and variance.
    n_quad
        Quadrature nodes over ``mean ± 6 sd`` (61 as mirt).

    Returns
    -------
    pandas.DataFrame
        One row per person in log order: ``person_id``, ``theta``, ``se``,
        ``n_answers`` and ``finite`` (False for infinite MLEs and unscorable persons).
        ``attrs`` records ``method`` and ``prior``.

    Raises
    ------
    DataError
        Unknown method, bad prior or ``n_quad``, items of the log missing from the bank.

    Examples
    --------
    >>> import pandas as pd
    >>> from pixirt import ItemBank, ResponseLog
    >>> bank = ItemBank.from_frame(pd.DataFrame({"item_id": [1, 2], "a": [1.0, 1.0], "b": [0.0, 0.0]}))
    >>> log = ResponseLog.from_wide(pd.DataFrame({1: [1, 1], 2: [0, 1]}, index=["p", "q"]))
    >>> score_persons(log, bank, "MLE")[["person_id", "theta", "finite"]]
      person_id  theta  finite
    0         p    0.0    True
    1         q    inf   False
    """
    check_choice(method, "method", METHODS)
    n_quad = check_n_quad(n_quad)
    al = align(log, bank)
    mean, sd = resolve_prior(bank, prior)
    nodes, log_w = grid(mean, sd, n_quad)
    table = log_prob_table(al.a, al.b, al.c, nodes)
    n = al.n_persons
    counts = al.counts
    theta = np.empty(n)
    se = np.empty(n)
    finite = np.ones(n, dtype=bool)
    unconverged = 0
    info_table = None
    if method == "WLE":
        info = _item_information(al.a, al.b, al.c, nodes)
        info_table = np.repeat(info, 2, axis=0)
    for start, stop in blocks(al.indptr, max_persons=_GRID_BLOCK, max_answers=_ANSWER_BLOCK):
        ll = grid_loglik(al, start, stop, table)
        if method == "EAP":
            post = normalize_rows(ll + log_w)
            m = post @ nodes
            v = post @ (nodes * nodes) - m * m
            theta[start:stop] = m
            se[start:stop] = np.sqrt(np.maximum(v, 0.0))
            continue
        objective = ll
        if method == "MAP":
            objective = ll + log_w
        elif method == "WLE":
            assert info_table is not None
            with np.errstate(divide="ignore"):
                objective = ll + 0.5 * np.log(grid_loglik(al, start, stop, info_table))
        theta0 = nodes[np.argmax(objective, axis=1)]
        th, s, conv = _score_block(al, start, stop, method, theta0, (mean, sd))
        theta[start:stop] = th
        se[start:stop] = s
        finite[start:stop] = np.isfinite(th)
        unconverged += int((~conv).sum())
    empty = counts == 0
    if empty.any():
        if method in ("EAP", "MAP"):
            theta[empty] = mean
            se[empty] = sd
        else:
            theta[empty] = np.nan
            se[empty] = np.nan
            finite[empty] = False
    if unconverged:
        warnings.warn(
            f"{method} did not converge for {unconverged} person(s); their scores are the last iterate",
            ConvergenceWarning,
            stacklevel=2,
        )
    out = pd.DataFrame(
        {
            "person_id": al.person_ids,
            "theta": theta,
            "se": se,
            "n_answers": counts.astype(np.int64),
            "finite": finite,
        }
    )
    out.attrs["method"] = method
    out.attrs["prior"] = (mean, sd)
    return out


def _score_block(
    al: Aligned,
    start: int,
    stop: int,
    method: Method,
    theta0: FloatArray,
    prior: tuple[float, float],
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    lo, hi = int(al.indptr[start]), int(al.indptr[stop])
    n = stop - start
    counts = np.diff(al.indptr[start : stop + 1])
    local = np.repeat(np.arange(n, dtype=np.int64), counts)
    items = al.indices[lo:hi]
    a, b, c = al.a[items], al.b[items], al.c[items]
    y = al.answers[lo:hi].astype(np.float64)
    active = counts > 0
    theta = theta0.copy()
    se = np.full(n, np.nan)
    if method == "MLE":
        right = _person_sums(local, n, y)
        top = active & (right == counts)
        bottom = active & (right == 0)
        theta[top], theta[bottom] = np.inf, -np.inf
        active = active & ~top & ~bottom
    th, s, conv = _newton(
        method, np.where(active, theta, 0.0), local, a, b, c, y, prior, active=active
    )
    theta = np.where(active, th, theta)
    se = np.where(active, s, se)
    if method == "MLE":  # divergence to a bound (possible for the 3PL): no finite estimate
        mean, sd = prior
        at_bound = active & (np.abs(theta - mean) >= _THETA_BOUND * sd * (1 - 1e-9))
        theta[at_bound] = np.sign(theta[at_bound] - mean) * np.inf
        se[at_bound] = np.nan
    return theta, se, conv


@dataclass(frozen=True, slots=True)
class LeaveOneOut:
    """Per answer, what the person's *other* answers say (internal to pixirt.calibration).

    Attributes
    ----------
    predictive
        ``P(correct | the person's other answers)``: the item's probability averaged
        over the posterior of θ given the other answers. Under the model, each answer
        is Bernoulli with this probability, independently across persons.
    theta
        The EAP of θ given the other answers (a matching variable free of the answer).
    """

    predictive: FloatArray
    theta: FloatArray


def leave_one_out(
    al: Aligned,
    nodes: FloatArray,
    log_w: FloatArray,
    *,
    person_groups: IntArray | None = None,
    group_log_w: FloatArray | None = None,
    included: npt.NDArray[np.bool_] | None = None,
) -> LeaveOneOut:
    """Leave-one-answer-out posterior summaries, vectorized over answers.

    The posterior of person ``p`` without answer ``i`` is ``post_p(θ) / L_i(y | θ)``
    renormalized, so each answer costs one dot product over the nodes (no refit).

    Parameters
    ----------
    al
        The aligned log.
    nodes, log_w
        The quadrature grid and log prior weights.
    person_groups, group_log_w
        Optional per-person group codes and per-group log prior weights
        ``(n_groups, n_nodes)`` on the same nodes, replacing ``log_w``.
    included
        Optional mask of the log's items whose answers inform θ (default: all); an
        answer to an excluded item is predicted from the included answers only.
    """
    table = log_prob_table(al.a, al.b, al.c, nodes)
    prob = np.exp(table[1::2])  # P(correct | θ) per item and node
    if included is not None:
        table[~np.repeat(np.asarray(included, dtype=bool), 2)] = 0.0
    inv = np.exp(-table)  # 1 / L(y | θ), 1 for the answers left out of the posterior
    n_ans = int(al.indptr[-1])
    predictive = np.empty(n_ans)
    theta = np.empty(n_ans)
    sub = 4096  # answers per step: the working arrays stay in cache
    for start, stop in blocks(al.indptr, max_persons=_GRID_BLOCK, max_answers=_ANSWER_BLOCK):
        ll = grid_loglik(al, start, stop, table)
        if person_groups is None or group_log_w is None:
            ll += log_w
        else:
            ll += group_log_w[person_groups[start:stop]]
        post = normalize_rows(ll)
        lo, hi = int(al.indptr[start]), int(al.indptr[stop])
        local = np.repeat(np.arange(stop - start), np.diff(al.indptr[start : stop + 1]))
        codes = 2 * al.indices[lo:hi].astype(np.int64) + al.answers[lo:hi]
        ones_nodes = np.stack([np.ones_like(nodes), nodes], axis=1)
        for s0 in range(0, hi - lo, sub):  # sub-blocks of answers stay in cache
            s1 = min(hi - lo, s0 + sub)
            w = np.take(post, local[s0:s1], axis=0)
            w *= np.take(inv, codes[s0:s1], axis=0)
            den, num_theta = (w @ ones_nodes).T
            w *= np.take(prob, codes[s0:s1] // 2, axis=0)
            theta[lo + s0 : lo + s1] = num_theta / den
            predictive[lo + s0 : lo + s1] = w.sum(axis=1) / den
    return LeaveOneOut(predictive=predictive, theta=theta)


def _item_information(a: FloatArray, b: FloatArray, c: FloatArray, nodes: FloatArray) -> FloatArray:
    """``(n_items, n_nodes)`` Fisher information."""
    from pixirt import models

    return models.information(nodes[None, :], a[:, None], b[:, None], c[:, None])


# --------------------------------------------------------------------------- precision
def standard_error(
    bank: ItemBank, theta: npt.ArrayLike, items: Sequence[Any] | None = None
) -> FloatArray:
    """The standard-error curve ``1 / sqrt(I(θ))`` of a test made of ``items``.

    Parameters
    ----------
    bank
        Item parameters.
    theta
        Abilities (any shape).
    items
        Item ids forming the test (default: the whole bank).

    Returns
    -------
    numpy.ndarray
        Standard errors, shaped as ``theta``.

    Examples
    --------
    >>> import pandas as pd
    >>> from pixirt import ItemBank
    >>> bank = ItemBank.from_frame(pd.DataFrame({"item_id": [1], "a": [2.0], "b": [0.0]}))
    >>> float(standard_error(bank, 0.0))
    1.0
    """
    info = bank.information(theta, items).sum(axis=-1)
    with np.errstate(divide="ignore"):
        return np.asarray(1.0 / np.sqrt(info), dtype=np.float64)


def marginal_reliability(
    bank: ItemBank,
    items: Sequence[Any] | None = None,
    *,
    prior: tuple[float, float] | None = None,
    n_quad: int = 121,
) -> float:
    """Marginal reliability of a test: ``∫ I(θ) / (I(θ) + 1/σ²) g(θ) dθ`` (mirt's ``marginal_rxx``).

    Parameters
    ----------
    bank
        Item parameters.
    items
        Item ids forming the test (default: the whole bank).
    prior
        ``(mean, sd)`` of the population ``g``; default the bank's latent scale.
    n_quad
        Quadrature nodes over ``mean ± 6 sd``.

    Returns
    -------
    float
        The expected share of true-score variance, in [0, 1).
    """
    mean, sd = resolve_prior(bank, prior)
    nodes, log_w = grid(mean, sd, check_n_quad(n_quad))
    info = bank.information(nodes, items).sum(axis=-1)
    return float(np.sum(np.exp(log_w) * info / (info + 1.0 / sd**2)))


def empirical_reliability(scores: pd.DataFrame) -> float:
    """Empirical reliability ``var(θ̂) / (var(θ̂) + mean(se²))`` (mirt's ``empirical_rxx``).

    Parameters
    ----------
    scores
        Output of :func:`score_persons` (columns ``theta`` and ``se``); persons with a
        non-finite score or standard error are left out.

    Returns
    -------
    float
        The reliability (``var`` with ``n − 1`` denominator, as R's ``var``).
    """
    for col in ("theta", "se"):
        if col not in getattr(scores, "columns", ()):
            raise DataError("missing column", field=col)
    th = scores["theta"].to_numpy(dtype=np.float64)
    se = scores["se"].to_numpy(dtype=np.float64)
    keep = np.isfinite(th) & np.isfinite(se)
    if keep.sum() < 2:
        raise DataError("fewer than two finite scores", field="theta")
    v = float(np.var(th[keep], ddof=1))
    return v / (v + float(np.mean(se[keep] ** 2)))
