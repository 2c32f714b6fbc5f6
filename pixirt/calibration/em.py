"""Marginal maximum likelihood (or MAP) calibration by EM over sparse answer logs.

The engine of :func:`calibrate` (Bock & Aitkin 1981):

- **Quadrature.** ``n_quad`` equally spaced nodes over ``theta_range`` with normal
  weights renormalized on the grid (mirt's default), so likelihoods match mirt's.
- **E-step, answered cells only.** Persons are processed in chunks (at most
  ``_CHUNK_CELLS`` persons × nodes, 32 MB). For a chunk, the persons × nodes
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
import sys
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.special import expit, log_expit, logsumexp

from pixirt._validation import check_choice, check_in_range
from pixirt.calibration import priors as _priors
from pixirt.calibration.priors import Priors
from pixirt.calibration.results import CalibrationError, CalibrationResult
from pixirt.exceptions import ConvergenceWarning, DataError, DegenerateItemWarning
from pixirt.item_bank import ItemBank
from pixirt.models import MODELS, Model
from pixirt.responses import ResponseLog

if TYPE_CHECKING:
    from pixirt.calibration.partitions import ResponseSource

__all__ = ["calibrate"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Accelerate = Literal["squarem", "none"]
SEMethod = Literal["auto", "full", "items", "none"]
FixedScale = Literal["estimate", "hold"]

_CHUNK_CELLS = 4_000_000  # persons × nodes (or items) per E-step chunk (32 MB of float64)
_DENSE_MIN_DENSITY = 0.25  # a chunk at least this dense uses dense BLAS products
_DENSE_CACHE_BYTES = 512 * 2**20  # most memory held by dense chunks
_SE_BATCH_CELLS = 3_000_000  # local score cells per batch in the full information
_SE_GATHER = 4_096  # answers per batch in the item-block information (stays in cache)
_FULL_SE_MAX_PARAMS = 3_000  # 'auto' uses the full information up to this many parameters...
_FULL_SE_MAX_COST = 1.0e10  # ... and this many multiply-adds for the posterior covariances
_NEWTON_MAX = 30
_NEWTON_TOL = 1e-10
_MAX_HALVINGS = 30
_STEP_CAP = 2.0  # largest Newton step per parameter in one M-step iteration
_GAMMA_BOUND = 20.0  # |logit c| ≤ 20: c kept in [2e-9, 1 − 2e-9]
_DIVERGED = 100.0  # |a| or |b| beyond this: the estimate is running off to infinity


# =========================================================================== design


@dataclass(frozen=True, slots=True)
class _Chunk:
    """A block of persons and their answers, sparse or dense.

    Sparse: ``sparse`` is the CSR incidence persons × answer codes (``2·item + correct``)
    built on the log's arrays (no copy). Dense (when the block is dense enough for BLAS
    to beat the sparse products): ``right`` (1 where answered right) and ``seen`` (1
    where answered; None when every cell is answered), persons × items.
    """

    p0: int
    p1: int
    sparse: Any
    right: FloatArray | None
    seen: FloatArray | None

    def gather(self, table: FloatArray) -> FloatArray:
        """``Σ`` over each person's answers of ``table[code]``, shape (persons, nodes)."""
        if self.right is None:
            return np.asarray(self.sparse @ table)
        t0, t1 = table[0::2], table[1::2]
        out = self.right @ (t1 - t0)
        if self.seen is None:
            out += t0.sum(axis=0)
        else:
            out += self.seen @ t0
        return np.asarray(out, dtype=np.float64)

    def scatter(self, post: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Posterior mass of the persons who answered each item wrong and right, (items, nodes) each."""
        if self.right is None:
            both = np.asarray(self.sparse.T @ post)
            return both[0::2], both[1::2]
        right = self.right.T @ post
        total = post.sum(axis=0)[None, :] if self.seen is None else self.seen.T @ post
        return total - right, right


@dataclass(frozen=True, slots=True)
class _Design:
    """The answered cells, chunked by persons, in the form the E-step uses."""

    n_items: int
    n_quad: int
    theta: FloatArray  # quadrature nodes
    codes: npt.NDArray[np.int32]  # 2 · item + correct, one per answer
    indptr: IntArray  # persons with at least one answer
    chunks: tuple[_Chunk, ...]
    group: IntArray | None = None  # each person's group (0: reference), multiple-group calibration

    @property
    def n_persons(self) -> int:
        return len(self.indptr) - 1


def _build_design(
    log: ResponseLog,
    n_quad: int,
    theta_range: tuple[float, float],
    group: IntArray | None = None,
) -> _Design:
    """Chunk the persons: at most ``_CHUNK_CELLS`` persons × nodes (or × items when dense).

    A chunk whose density reaches ``_DENSE_MIN_DENSITY`` is held as dense 0/1 matrices
    while they fit in ``_DENSE_CACHE_BYTES`` (one dense BLAS product then replaces a
    sparse one ~10 times slower per cell); the others stay sparse.
    """
    counts = np.diff(log.indptr)
    indptr = np.concatenate([[0], np.cumsum(counts[counts > 0])]).astype(np.int64)
    codes = (log.indices.astype(np.int32) * 2 + log.answers).astype(np.int32)
    n_p, n_items = len(indptr) - 1, log.n_items
    dense_mode = n_p > 0 and len(codes) >= _DENSE_MIN_DENSITY * n_p * n_items
    width = max(n_quad, n_items) if dense_mode else n_quad
    step = max(1, _CHUNK_CELLS // width)
    bounds = [(s, min(n_p, s + step)) for s in range(0, n_p, step)]
    longest = max((int(indptr[e] - indptr[s]) for s, e in bounds), default=0)
    ones = np.ones(longest)
    budget = _DENSE_CACHE_BYTES
    chunks = []
    for p0, p1 in bounds:
        a0, a1 = int(indptr[p0]), int(indptr[p1])
        cells = (p1 - p0) * n_items
        full = a1 - a0 == cells
        need = cells * 8 * (1 if full else 2)
        if dense_mode and a1 - a0 >= _DENSE_MIN_DENSITY * cells and need <= budget:
            budget -= need
            rows = np.repeat(np.arange(p1 - p0), np.diff(indptr[p0 : p1 + 1]))
            items = codes[a0:a1] >> 1
            right = np.zeros((p1 - p0, n_items))
            right[rows, items] = codes[a0:a1] & 1
            seen = None
            if not full:
                seen = np.zeros((p1 - p0, n_items))
                seen[rows, items] = 1.0
            chunks.append(_Chunk(p0, p1, None, right, seen))
            continue
        local = (indptr[p0 : p1 + 1] - a0).astype(np.int32 if a1 - a0 < 2**31 - 1 else np.int64)
        mat = sp.csr_matrix(
            (ones[: a1 - a0], codes[a0:a1], local), shape=(p1 - p0, 2 * n_items), copy=False
        )
        chunks.append(_Chunk(p0, p1, mat, None, None))
    return _Design(
        n_items=n_items,
        n_quad=n_quad,
        theta=np.linspace(theta_range[0], theta_range[1], n_quad),
        codes=codes,
        indptr=indptr,
        chunks=tuple(chunks),
        group=None if group is None else np.ascontiguousarray(group[counts > 0], dtype=np.int64),
    )


# =========================================================================== parameters


@dataclass(frozen=True, slots=True)
class _State:
    """Item parameters of every item of the log (slope-intercept) and the latent scale."""

    a: FloatArray
    d: FloatArray
    c: FloatArray
    mean: float
    variance: float
    # multiple groups: every group's latent mean and variance (index 0, the reference,
    # equal to ``mean`` and ``variance``); None for one group
    g_mean: FloatArray | None = None
    g_var: FloatArray | None = None


@dataclass(frozen=True, slots=True)
class _Layout:
    """Which parameters are free and where they sit in the parameter vector ``x``.

    ``x = [slopes | intercepts | logit(c) | variance]``: one slope per free item (2PL,
    3PL), one common slope (1PL) or none (Rasch); one intercept per free item; one
    ``logit(c)`` per free item (3PL); the latent variance when estimated (Rasch without
    a fixed bank).
    """

    model: Model
    free: IntArray  # positions of the calibrated items
    n_a: int
    var_free: bool
    mean_free: bool = False  # the latent mean (fixed= calibration of a new population)
    n_groups: int = 1  # groups 1.. have a free mean and variance each (after the reference's)

    @property
    def n_free(self) -> int:
        return len(self.free)

    @property
    def has_gamma(self) -> bool:
        return self.model == "3PL"

    @property
    def off_d(self) -> int:
        return self.n_a

    @property
    def off_g(self) -> int:
        return self.n_a + self.n_free

    @property
    def off_v(self) -> int:
        return self.off_g + (self.n_free if self.has_gamma else 0)

    @property
    def off_m(self) -> int:
        return self.off_v + int(self.var_free)

    @property
    def off_grp(self) -> int:
        return self.off_m + int(self.mean_free)

    @property
    def size(self) -> int:
        return self.off_grp + 2 * (self.n_groups - 1)

    def pack(self, s: _State) -> FloatArray:
        parts = []
        if self.model in ("2PL", "3PL"):
            parts.append(s.a[self.free])
        elif self.model == "1PL":
            parts.append(s.a[self.free[:1]] if self.n_free else np.empty(0))
        parts.append(s.d[self.free])
        if self.has_gamma:
            parts.append(_logit(s.c[self.free]))
        if self.var_free:
            parts.append(np.array([s.variance]))
        if self.mean_free:
            parts.append(np.array([s.mean]))
        if self.n_groups > 1:
            assert s.g_mean is not None and s.g_var is not None
            parts.append(np.column_stack([s.g_mean[1:], s.g_var[1:]]).ravel())
        return np.concatenate(parts) if parts else np.empty(0)

    def unpack(self, x: FloatArray, base: _State) -> _State:
        a, d, c = base.a.copy(), base.d.copy(), base.c.copy()
        f = self.free
        if self.model in ("2PL", "3PL"):
            a[f] = x[: self.n_a]
        elif self.model == "1PL" and self.n_a:
            a[f] = x[0]
        d[f] = x[self.off_d : self.off_d + self.n_free]
        if self.has_gamma:
            c[f] = expit(x[self.off_g : self.off_g + self.n_free])
        variance = float(x[self.off_v]) if self.var_free else base.variance
        mean = float(x[self.off_m]) if self.mean_free else base.mean
        g_mean, g_var = base.g_mean, base.g_var
        if self.n_groups > 1:
            assert g_mean is not None and g_var is not None
            pairs = x[self.off_grp : self.size].reshape(-1, 2)
            g_mean = np.concatenate([[mean], pairs[:, 0]])
            g_var = np.concatenate([[variance], pairs[:, 1]])
        return _State(a=a, d=d, c=c, mean=mean, variance=variance, g_mean=g_mean, g_var=g_var)

    def valid(self, x: FloatArray, priors: Priors) -> bool:
        if not np.all(np.isfinite(x)):
            return False
        if self.var_free and x[self.off_v] <= 0:
            return False
        if self.n_groups > 1 and np.any(x[self.off_grp + 1 : self.size : 2] <= 0):
            return False
        if self.model == "1PL" and self.n_a and x[0] <= 0:
            return False
        if priors.a_lognormal is not None and self.n_a and np.any(x[: self.n_a] <= 0):
            return False
        return True


def _logit(p: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore"):
        return np.asarray(
            np.clip(np.log(p) - np.log1p(-p), -_GAMMA_BOUND, _GAMMA_BOUND), dtype=np.float64
        )


# =========================================================================== model tables


def _log_weights(theta: FloatArray, mean: float, variance: float) -> FloatArray:
    """Log of the normal weights on the nodes, renormalized to sum to 1 (mirt's prior)."""
    lw = -0.5 * (theta - mean) ** 2 / variance
    return np.asarray(lw - logsumexp(lw), dtype=np.float64)


def _log_tables(
    a: FloatArray, d: FloatArray, c: FloatArray, theta: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """``log P`` and ``log(1 − P)`` per item and node, stable in the tails."""
    z = a[:, None] * theta[None, :] + d[:, None]
    if not np.any(c > 0):
        return log_expit(z), log_expit(-z)
    with np.errstate(divide="ignore"):
        log_c = np.log(c)[:, None]
    log_1mc = np.log1p(-c)[:, None]
    return np.logaddexp(log_c, log_1mc + log_expit(z)), log_1mc + log_expit(-z)


def _answer_table(s: _State, theta: FloatArray) -> FloatArray:
    """The E-step table ``T[2·item + correct, node]``: ``log(1 − P)`` then ``log P`` per item."""
    log_p, log_q = _log_tables(s.a, s.d, s.c, theta)
    table = np.empty((2 * len(s.a), len(theta)))
    table[0::2] = log_q
    table[1::2] = log_p
    return table


# =========================================================================== E-step


@dataclass(frozen=True, slots=True)
class _EStep:
    loglik: float
    wrong: FloatArray  # expected wrong answers per item and node
    right: FloatArray  # expected right answers per item and node
    nodes: FloatArray  # expected persons per node
    group_nodes: FloatArray | None = None  # (groups, Q): expected persons per group and node


def _state_log_weights(theta: FloatArray, s: _State) -> FloatArray:
    """The nodes' log weights: ``(Q,)`` for one group, ``(groups, Q)`` for several."""
    if s.g_mean is None or s.g_var is None:
        return _log_weights(theta, s.mean, s.variance)
    return np.stack([_log_weights(theta, m, v) for m, v in zip(s.g_mean, s.g_var, strict=True)])


def _posteriors(
    design: _Design, table: FloatArray, log_w: FloatArray
) -> Iterator[tuple[_Chunk, FloatArray, float]]:
    """Per chunk: ``(chunk, posterior, loglik)``; posteriors normalized in log space.

    ``log_w`` is ``(Q,)``, or ``(groups, Q)`` with ``design.group`` giving each
    person's row (multiple-group calibration).
    """
    for chunk in design.chunks:
        post = chunk.gather(table)
        if log_w.ndim == 2:
            assert design.group is not None
            post += log_w[design.group[chunk.p0 : chunk.p1]]
        else:
            post += log_w
        top = post.max(axis=1)
        post -= top[:, None]
        np.exp(post, out=post)
        total = post.sum(axis=1)
        post /= total[:, None]
        yield chunk, post, float(np.sum(top + np.log(total)))


def _group_sums(design: _Design, chunk: _Chunk, post: FloatArray, n_groups: int) -> FloatArray:
    """``(groups, Q)``: the chunk's posterior mass per group and node."""
    assert design.group is not None
    g = design.group[chunk.p0 : chunk.p1]
    member = sp.csr_matrix((np.ones(len(g)), (g, np.arange(len(g)))), shape=(n_groups, len(g)))
    return np.asarray(member @ post, dtype=np.float64)


def _e_step(design: _Design, s: _State) -> _EStep:
    table = _answer_table(s, design.theta)
    log_w = _state_log_weights(design.theta, s)
    wrong = np.zeros((design.n_items, design.n_quad))
    right = np.zeros((design.n_items, design.n_quad))
    nodes = np.zeros(design.n_quad)
    group_nodes = np.zeros(log_w.shape) if log_w.ndim == 2 else None
    loglik = 0.0
    for chunk, post, ll in _posteriors(design, table, log_w):
        w, r = chunk.scatter(post)
        wrong += w
        right += r
        nodes += post.sum(axis=0)
        if group_nodes is not None:
            group_nodes += _group_sums(design, chunk, post, len(group_nodes))
        loglik += ll
    return _EStep(loglik=loglik, wrong=wrong, right=right, nodes=nodes, group_nodes=group_nodes)


# =========================================================================== M-step


@dataclass(frozen=True, slots=True)
class _ItemTerms:
    """Per item: objective, gradient and (Fisher) information in (a, d, γ)."""

    obj: FloatArray
    g_a: FloatArray
    g_d: FloatArray
    g_g: FloatArray
    i_aa: FloatArray
    i_ad: FloatArray
    i_dd: FloatArray
    i_ag: FloatArray
    i_dg: FloatArray
    i_gg: FloatArray


def _node_terms(
    a: FloatArray, d: FloatArray, c: FloatArray, theta: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """``s = expit(z)``, ``1 − s``, ``ρ = (1 − c)s / P``, ``log P``, ``log(1 − P)`` and ``c``."""
    z = a[:, None] * theta[None, :] + d[:, None]
    s, t = expit(z), expit(-z)
    log_s, log_t = log_expit(z), log_expit(-z)
    cc = c[:, None]
    if not np.any(c > 0):
        return s, t, np.ones_like(s), log_s, log_t, np.zeros_like(s) + cc
    with np.errstate(divide="ignore"):
        log_c = np.log(cc)
    log_1mc = np.log1p(-cc)
    rho = expit(log_s + log_1mc - log_c)
    return s, t, rho, np.logaddexp(log_c, log_1mc + log_s), log_1mc + log_t, np.zeros_like(s) + cc


def _objective(
    a: FloatArray,
    d: FloatArray,
    c: FloatArray,
    theta: FloatArray,
    right: FloatArray,
    wrong: FloatArray,
) -> FloatArray:
    log_p, log_q = _log_tables(a, d, c, theta)
    return np.asarray((right * log_p + wrong * log_q).sum(axis=1), dtype=np.float64)


def _item_terms(
    a: FloatArray,
    d: FloatArray,
    c: FloatArray,
    theta: FloatArray,
    right: FloatArray,
    wrong: FloatArray,
    with_gamma: bool,
) -> _ItemTerms:
    s, t, rho, log_p, log_q, cc = _node_terms(a, d, c, theta)
    n = right + wrong
    g_z = right * rho * t - wrong * s  # Σ_y count · ∂ℓ/∂z
    i_zz = n * rho * s * t
    th = theta[None, :]
    zeros = np.zeros(len(a))
    if with_gamma:
        g_gq = right * (1.0 - rho) * (1.0 - cc) * t - wrong * cc
        i_zg = n * (1.0 - rho) * (1.0 - cc) * s * t
        i_gg = n * (1.0 - rho) * cc * (1.0 - cc) * t
        g_g, i_ag, i_dg, i_ggs = g_gq.sum(1), (i_zg * th).sum(1), i_zg.sum(1), i_gg.sum(1)
    else:
        g_g, i_ag, i_dg, i_ggs = zeros, zeros, zeros, zeros
    return _ItemTerms(
        obj=(right * log_p + wrong * log_q).sum(1),
        g_a=(g_z * th).sum(1),
        g_d=g_z.sum(1),
        g_g=g_g,
        i_aa=(i_zz * th * th).sum(1),
        i_ad=(i_zz * th).sum(1),
        i_dd=i_zz.sum(1),
        i_ag=i_ag,
        i_dg=i_dg,
        i_gg=i_ggs,
    )


def _prior_value(
    a: FloatArray, d: FloatArray, c: FloatArray, priors: Priors, slope_prior: bool
) -> FloatArray:
    """Log-prior per item (``slope_prior``: whether the item's own slope carries the a prior)."""
    out = np.zeros(len(a))
    if priors.a_lognormal is not None and slope_prior:
        out = out + _priors.lognormal_terms(a, priors.a_lognormal)[0]
    if priors.b_normal is not None:
        out = out + _priors.normal_b_terms(a, d, priors.b_normal)[0]
    if priors.c_beta is not None:
        out = out + _priors.beta_c_terms(c, priors.c_beta)[0]
    return out


def _add_prior_terms(
    t: _ItemTerms,
    a: FloatArray,
    d: FloatArray,
    c: FloatArray,
    priors: Priors,
    slope_prior: bool,
    m: int,
) -> _ItemTerms:
    """Add the log-prior's value, gradient and curvature to the item terms.

    The curvature is the prior's exact negative Hessian (quadratic convergence) for the
    items where the total stays positive definite, else its Gauss–Newton part (always
    positive), so every step is an ascent direction.
    """
    obj, g_a, g_d, g_g = t.obj.copy(), t.g_a.copy(), t.g_d.copy(), t.g_g.copy()
    exact = [t.i_aa.copy(), t.i_ad.copy(), t.i_dd.copy()]
    gauss = [t.i_aa.copy(), t.i_ad.copy(), t.i_dd.copy()]
    i_gg = t.i_gg.copy()
    if priors.a_lognormal is not None and slope_prior:
        v, g1, h1 = _priors.lognormal_terms(a, priors.a_lognormal)
        obj += v
        g_a += g1
        exact[0] -= h1
        gauss[0] += 1.0 / (priors.a_lognormal[1] ** 2 * a**2)
    if priors.b_normal is not None:
        v, ga, gd, h_aa, h_ad, h_dd = _priors.normal_b_terms(a, d, priors.b_normal)
        obj += v
        g_a += ga
        g_d += gd
        exact[0] -= h_aa
        exact[1] -= h_ad
        exact[2] -= h_dd
        inv = 1.0 / priors.b_normal[1] ** 2
        db_da, db_dd = d / a**2, -1.0 / a
        gauss[0] += inv * db_da**2
        gauss[1] += inv * db_da * db_dd
        gauss[2] += inv * db_dd**2
    if priors.c_beta is not None:
        v, g1, h1 = _priors.beta_c_terms(c, priors.c_beta)
        obj += v
        g_g += g1
        i_gg += np.maximum(-h1, 0.0)
    e_aa, e_ad, e_dd = exact
    if m == 1:
        good = e_dd > 0
    else:
        good = (e_aa > 0) & (e_aa * e_dd - e_ad**2 > 0)
        if m == 3:
            det3 = (
                e_aa * (e_dd * i_gg - t.i_dg**2)
                - e_ad * (e_ad * i_gg - t.i_dg * t.i_ag)
                + t.i_ag * (e_ad * t.i_dg - e_dd * t.i_ag)
            )
            good &= det3 > 0
    i_aa, i_ad, i_dd = (np.where(good, x, y) for x, y in zip(exact, gauss, strict=True))
    return replace(
        t, obj=obj, g_a=g_a, g_d=g_d, g_g=g_g, i_aa=i_aa, i_ad=i_ad, i_dd=i_dd, i_gg=i_gg
    )


def _solve_items(t: _ItemTerms, m: int) -> FloatArray:
    """Newton–Fisher steps per item, shape (items, m) for slots (d), (a, d) or (a, d, γ)."""
    if m == 1:
        return (t.g_d / np.maximum(t.i_dd, 1e-300))[:, None]
    if m == 2:
        info = np.stack([np.stack([t.i_aa, t.i_ad], -1), np.stack([t.i_ad, t.i_dd], -1)], -2)
        grad = np.stack([t.g_a, t.g_d], -1)
    else:
        info = np.stack(
            [
                np.stack([t.i_aa, t.i_ad, t.i_ag], -1),
                np.stack([t.i_ad, t.i_dd, t.i_dg], -1),
                np.stack([t.i_ag, t.i_dg, t.i_gg], -1),
            ],
            -2,
        )
        grad = np.stack([t.g_a, t.g_d, t.g_g], -1)
    scale = np.sqrt(np.maximum(np.einsum("...ii->...i", info), 1e-300))
    ridge = 1e-10 * np.eye(m)
    scaled = info / (scale[..., :, None] * scale[..., None, :]) + ridge
    step = np.linalg.solve(scaled, (grad / scale)[..., None])[..., 0] / scale
    return np.asarray(step, dtype=np.float64)


def _cap(step: FloatArray) -> FloatArray:
    biggest = np.max(np.abs(step), axis=-1, keepdims=True)
    return np.asarray(
        step * np.minimum(1.0, _STEP_CAP / np.maximum(biggest, 1e-300)), dtype=np.float64
    )


def _m_step_items(
    s: _State, layout: _Layout, e: _EStep, theta: FloatArray, priors: Priors
) -> _State:
    """Maximize each free item's expected complete-data log-likelihood (+ log-prior).

    Newton–Fisher steps with per-item step halving; an item leaves the active set once
    its step falls below ``_NEWTON_TOL`` (the 1PL's items stay together: they share a).
    """
    f = layout.free
    if not len(f):
        return s
    right_all, wrong_all = e.right[f], e.wrong[f]
    a, d = s.a[f].copy(), s.d[f].copy()
    gamma = _logit(s.c[f]) if layout.has_gamma else None
    c = expit(gamma) if gamma is not None else s.c[f].copy()
    per_item_slope = layout.model in ("2PL", "3PL")
    common = layout.model == "1PL"
    m = {"Rasch": 1, "1PL": 2, "2PL": 2, "3PL": 3}[layout.model]
    active = np.arange(len(f))
    for _ in range(_NEWTON_MAX):
        right, wrong = right_all[active], wrong_all[active]
        a_, d_, c_ = a[active], d[active], c[active]
        g_ = gamma[active] if gamma is not None else None
        terms = _add_prior_terms(
            _item_terms(a_, d_, c_, theta, right, wrong, layout.has_gamma),
            a_,
            d_,
            c_,
            priors,
            per_item_slope,
            m,
        )
        if common:
            step_a, step_d = _common_slope_step(terms, a_[0], priors)
            step = np.stack([np.full(len(a_), step_a), step_d], -1)
            biggest = float(np.max(np.abs(step)))
            step = step * min(1.0, _STEP_CAP / max(biggest, 1e-300))
            old = np.asarray([terms.obj.sum() + _common_prior(a_[0], priors)])
        else:
            step = _cap(_solve_items(terms, m))
            old = terms.obj
        factor = np.ones(len(old))
        done = np.zeros(len(old), dtype=bool)
        for _h in range(_MAX_HALVINGS):
            fac = factor if not common else np.full(len(a_), factor[0])
            new_a, new_d, _, new_c = _apply(layout.model, a_, d_, g_, c_, step, fac)
            obj = _objective(new_a, new_d, new_c, theta, right, wrong) + _prior_value(
                new_a, new_d, new_c, priors, per_item_slope
            )
            obj = np.where(np.isnan(obj), -np.inf, obj)
            if common:
                obj = np.asarray([obj.sum() + _common_prior(new_a[0], priors)])
            done |= obj >= old - 1e-12 * np.maximum(1.0, np.abs(old))
            if done.all():
                break
            factor = np.where(done, factor, 0.5 * factor)
        factor = np.where(done, factor, 0.0)
        fac = factor if not common else np.full(len(a_), factor[0])
        new_a, new_d, new_g, new_c = _apply(layout.model, a_, d_, g_, c_, step, fac)
        a[active], d[active], c[active] = new_a, new_d, new_c
        if gamma is not None and new_g is not None:
            gamma[active] = new_g
        moved = np.max(np.abs(step * fac[:, None]), axis=1)
        if common:
            if float(moved.max()) < _NEWTON_TOL:
                break
            continue
        active = active[moved >= _NEWTON_TOL]
        if not len(active):
            break
    out_a, out_d, out_c = s.a.copy(), s.d.copy(), s.c.copy()
    out_a[f], out_d[f], out_c[f] = a, d, c
    return replace(s, a=out_a, d=out_d, c=out_c)


def _apply(
    model: Model,
    a: FloatArray,
    d: FloatArray,
    gamma: FloatArray | None,
    c: FloatArray,
    step: FloatArray,
    factor: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray | None, FloatArray]:
    st = step * factor[:, None]
    if model == "Rasch":
        return a, d + st[:, 0], gamma, c
    new_a, new_d = a + st[:, 0], d + st[:, 1]
    if gamma is not None:
        new_g = np.clip(gamma + st[:, 2], -_GAMMA_BOUND, _GAMMA_BOUND)
        return new_a, new_d, new_g, expit(new_g)
    return new_a, new_d, gamma, c


def _common_prior(a: float, priors: Priors) -> float:
    if priors.a_lognormal is None:
        return 0.0
    return float(_priors.lognormal_terms(np.array([a]), priors.a_lognormal)[0][0])


def _common_slope_step(t: _ItemTerms, a: float, priors: Priors) -> tuple[float, FloatArray]:
    """Joint Newton step for the 1PL: one common slope and one intercept per item (Schur complement)."""
    g_a, i_aa = float(t.g_a.sum()), float(t.i_aa.sum())
    if priors.a_lognormal is not None:
        _, g1, _ = _priors.lognormal_terms(np.array([a]), priors.a_lognormal)
        g_a += float(g1[0])
        i_aa += 1.0 / (priors.a_lognormal[1] ** 2 * a**2)
    i_dd = np.maximum(t.i_dd, 1e-300)
    schur = i_aa - float(np.sum(t.i_ad**2 / i_dd))
    rhs = g_a - float(np.sum(t.i_ad * t.g_d / i_dd))
    step_a = rhs / schur if schur > 0 else 0.0
    return step_a, (t.g_d - t.i_ad * step_a) / i_dd


def _variance_terms(
    theta: FloatArray, mean: float, v: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Weights, ``∂ log w_q / ∂v`` and ``∂² log w_q / ∂v²`` for grid-normalized normal weights."""
    w = np.exp(_log_weights(theta, mean, v))
    sq = (theta - mean) ** 2
    u = sq / (2 * v**2) - 1 / (2 * v)
    du = -sq / v**3 + 1 / (2 * v**2)
    mean_u = float(w @ u)
    score = u - mean_u
    hess = du - (float(w @ du) + float(w @ (u - mean_u) ** 2))
    return w, score, hess


def _m_step_variance(theta: FloatArray, nodes: FloatArray, mean: float, v: float) -> float:
    """The latent variance maximizing ``Σ_q N_q log w_q(v)`` (grid-normalized weights)."""
    total = float(nodes.sum())
    v = max(float(nodes @ (theta - mean) ** 2) / total, 1e-8)
    for _ in range(20):
        _, score, hess = _variance_terms(theta, mean, v)
        g, h = float(nodes @ score), float(nodes @ hess)
        if h >= 0:
            break
        step = -g / h
        new = v + step
        while new <= 0:
            step *= 0.5
            new = v + step
        v = new
        if abs(step) < 1e-13 * max(1.0, v):
            break
    return v


def _m_step_scale(
    theta: FloatArray, nodes: FloatArray, mean: float, v: float
) -> tuple[float, float]:
    """The latent mean and variance maximizing ``Σ_q N_q log w_q(m, v)`` (grid-normalized).

    The maximum matches the grid-normalized normal's first two moments to the expected
    persons per node; Newton in ``(m, log v)`` from the moments, a few steps.
    """
    total = float(nodes.sum())
    m = float(nodes @ theta) / total
    v = max(float(nodes @ (theta - m) ** 2) / total, 1e-8)
    emp1 = float(nodes @ theta) / total
    emp2 = float(nodes @ theta**2) / total
    for _ in range(30):
        w = np.exp(_log_weights(theta, m, v))
        m1, m2 = float(w @ theta), float(w @ theta**2)
        m3, m4 = float(w @ theta**3), float(w @ theta**4)
        # the objective's gradient in (m, v) is N·(emp − model moments)·J; Newton on
        # the moment equations with the model moments' Jacobian (cumulants of w)
        g = np.array([emp1 - m1, emp2 - m2])
        # ∂E_w[θ^k]/∂m = Cov_w(θ^k, θ)/v ; ∂E_w[θ^k]/∂v = Cov_w(θ^k, (θ − m)²)/(2v²)
        c11 = m2 - m1 * m1
        c21 = m3 - m2 * m1
        sq1 = m2 - 2 * m * m1 + m * m
        c1s = (m3 - 2 * m * m2 + m * m * m1) - m1 * sq1
        c2s = (m4 - 2 * m * m3 + m * m * m2) - m2 * sq1
        jac = np.array([[c11 / v, c1s / (2 * v * v)], [c21 / v, c2s / (2 * v * v)]])
        try:
            step = np.linalg.solve(jac, g)
        except np.linalg.LinAlgError:
            break
        new_v = v + step[1]
        while new_v <= 0:
            step *= 0.5
            new_v = v + step[1]
        m, v = m + float(step[0]), float(new_v)
        if float(np.max(np.abs(step))) < 1e-13 * max(1.0, v):
            break
    return m, v


def _m_step(s: _State, layout: _Layout, e: _EStep, theta: FloatArray, priors: Priors) -> _State:
    out = _m_step_items(s, layout, e, theta, priors)
    if layout.n_groups > 1:
        assert e.group_nodes is not None and s.g_mean is not None and s.g_var is not None
        g_mean, g_var = s.g_mean.copy(), s.g_var.copy()
        ref = e.group_nodes[0]
        if layout.mean_free:
            g_mean[0], g_var[0] = _m_step_scale(theta, ref, s.mean, s.variance)
        elif layout.var_free:
            g_var[0] = _m_step_variance(theta, ref, s.mean, s.variance)
        for k in range(1, layout.n_groups):  # a loop over groups (a few)
            g_mean[k], g_var[k] = _m_step_scale(theta, e.group_nodes[k], g_mean[k], g_var[k])
        return replace(
            out, mean=float(g_mean[0]), variance=float(g_var[0]), g_mean=g_mean, g_var=g_var
        )
    if layout.mean_free:
        mean, variance = _m_step_scale(theta, e.nodes, s.mean, s.variance)
        return replace(out, mean=mean, variance=variance)
    if layout.var_free:
        out = replace(out, variance=_m_step_variance(theta, e.nodes, s.mean, s.variance))
    return out


def _log_prior(s: _State, layout: _Layout, priors: Priors) -> float:
    if priors.is_empty or not layout.n_free:
        return 0.0
    f = layout.free
    per_item_slope = layout.model in ("2PL", "3PL")
    total = float(_prior_value(s.a[f], s.d[f], s.c[f], priors, per_item_slope).sum())
    if layout.model == "1PL":
        total += _common_prior(float(s.a[f[0]]), priors)
    return total


# =========================================================================== EM loop


class _Progress:
    """One status line on stderr, rewritten in place; silent unless enabled."""

    def __init__(self, enabled: bool, model: str) -> None:
        self.enabled = enabled
        self.model = model
        self.width = 0

    def update(self, iteration: int, change: float, loglik: float) -> None:
        if not self.enabled:
            return
        line = f"pixirt calibrate {self.model}: iteration {iteration:4d}  change {change:9.3e}  loglik {loglik:,.4f}"
        self.width = max(self.width, len(line))
        sys.stderr.write("\r" + line.ljust(self.width))
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.width:
            sys.stderr.write("\n")
            sys.stderr.flush()


@dataclass(frozen=True, slots=True)
class _Fit:
    state: _State
    n_iter: int
    converged: bool
    last_change: float
    history: tuple[float, ...]


def _check_finite(e: _EStep, x: FloatArray, iteration: int) -> None:
    if not (math.isfinite(e.loglik) and np.all(np.isfinite(x))):
        raise CalibrationError(
            f"EM diverged at iteration {iteration}: the log-likelihood or a parameter is not finite "
            "(items with too little information; try priors='default')"
        )


def _run_em(
    data: _Data,
    layout: _Layout,
    start: _State,
    priors: Priors,
    *,
    max_iter: int,
    tol: float,
    accelerate: Accelerate,
    progress: _Progress,
    item_ids: npt.NDArray[Any],
) -> _Fit:
    theta = data.theta
    history: list[float] = []  # log-likelihood along the EM path
    evals = [0]  # E-steps run, rejected extrapolations included

    def evaluate(x: FloatArray) -> tuple[_State, _EStep, float]:
        st = layout.unpack(x, start)
        evals[0] += 1
        e = data.e_step(st)
        _check_finite(e, x, evals[0])
        history.append(e.loglik)
        return st, e, e.loglik + _log_prior(st, layout, priors)

    def em_map(st: _State, e: _EStep) -> FloatArray:
        new = _m_step(st, layout, e, theta, priors)
        x_new = layout.pack(new)
        if not np.all(np.isfinite(x_new)):
            raise CalibrationError(
                f"EM diverged at iteration {evals[0]}: the M-step gave non-finite parameters"
            )
        if per_item_slope:
            # an item whose slope runs off to infinity (a Guttman item) is held, slope at
            # ±_DIVERGED and b where it reached it, and reported in result.problems: the
            # other items go on converging
            wild = np.abs(x_new[: layout.n_a]) >= _DIVERGED
            new_held = wild & ~held
            if new_held.any():
                k = np.flatnonzero(new_held)
                scale = _DIVERGED / np.abs(x_new[k])
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
        return x_new

    per_item_slope = layout.model in ("2PL", "3PL")
    held = np.zeros(layout.n_free, dtype=bool)  # items held at a diverging slope
    held_x = np.zeros(layout.size)

    def finish(x: FloatArray, converged: bool, change: float) -> _Fit:
        return _Fit(layout.unpack(x, start), evals[0], converged, change, tuple(history))

    x0 = layout.pack(start)
    if layout.size == 0:  # every item fixed: nothing to estimate
        evaluate(x0)
        return finish(x0, True, 0.0)
    s0, e0, _ = evaluate(x0)
    while True:
        x1 = em_map(s0, e0)
        change = float(np.max(np.abs(x1 - x0)))
        progress.update(evals[0], change, e0.loglik)
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
        progress.update(evals[0], change, e1.loglik)
        if change < tol:
            return finish(x2, True, change)
        if evals[0] >= max_iter:
            return finish(x2, False, change)
        r = x1 - x0
        v = x2 - 2 * x1 + x0
        vv = float(v @ v)
        alpha = -math.sqrt(float(r @ r) / vv) if vv > 0 else -1.0
        accepted = False
        while alpha < -1.0 and evals[0] < max_iter:
            xp = x0 - 2 * alpha * r + alpha * alpha * v
            if layout.valid(xp, priors):
                sp_, ep, objp = _try_evaluate(evaluate, xp)
                if ep is not None and sp_ is not None and objp >= obj1:
                    x0, s0, e0 = xp, sp_, ep
                    accepted = True
                    break
                if ep is not None:
                    history.pop()  # rejected extrapolation: not an iterate of the EM path
            alpha = (alpha - 1.0) / 2.0
            if alpha > -1.01:
                break
        if not accepted:
            x0 = x2
            s0, e0, _ = evaluate(x2)


def _try_evaluate(evaluate: Any, x: FloatArray) -> tuple[_State | None, _EStep | None, float]:
    """Evaluate an extrapolated point; a non-finite one is rejected, not an error."""
    try:
        st, e, obj = evaluate(x)
    except CalibrationError:
        return None, None, -math.inf
    if not math.isfinite(obj):
        return st, e, -math.inf
    return st, e, obj


# =========================================================================== standard errors


def _slot_names(model: Model) -> tuple[str, ...]:
    return {"Rasch": ("d",), "1PL": ("a", "d"), "2PL": ("a", "d"), "3PL": ("a", "d", "g")}[model]


def _global_index(layout: _Layout, n_items: int) -> IntArray:
    """``G[item, slot]``: position of each item slot in ``x``; ``layout.size`` (a dummy) for fixed items."""
    slots = _slot_names(layout.model)
    dummy = layout.size
    g = np.full((n_items, len(slots)), dummy, dtype=np.int64)
    k = np.arange(layout.n_free)
    for j, name in enumerate(slots):
        if name == "a":
            g[layout.free, j] = k if layout.model in ("2PL", "3PL") else 0
        elif name == "d":
            g[layout.free, j] = layout.off_d + k
        else:
            g[layout.free, j] = layout.off_g + k
    return g


@dataclass(frozen=True, slots=True)
class _Derivatives:
    """Per code (2·item + correct) and node: complete-data scores and Hessians per slot."""

    score: tuple[FloatArray, ...]  # one (2J, Q) table per slot
    hess: dict[tuple[int, int], FloatArray]  # (j, l), j ≤ l → (2J, Q)
    lz: FloatArray  # ∂ℓ/∂z (the slope's score is θ·lz, the intercept's lz)
    lg: FloatArray  # ∂ℓ/∂logit(c)


def _derivatives(s: _State, layout: _Layout, theta: FloatArray) -> _Derivatives:
    a, d, c = s.a, s.d, s.c
    sg, tg, rho, _, _, cc = _node_terms(a, d, c, theta)
    j_, q_ = sg.shape

    def interleave(wrong: FloatArray | float, right: FloatArray | float) -> FloatArray:
        out = np.empty((2 * j_, q_))
        out[0::2] = wrong
        out[1::2] = right
        return out

    lz = interleave(-sg, rho * tg)
    lzz = interleave(-sg * tg, rho * tg * ((1 - 2 * sg) - rho * tg))
    lg = interleave(-cc, (1 - rho) * (1 - cc) * tg)
    lzg = interleave(0.0, -rho * tg * (cc + (1 - rho) * (1 - cc) * tg))
    lgg = interleave(
        -cc * (1 - cc),
        (1 - rho) * (1 - cc) * tg * (1 - 2 * cc) - ((1 - rho) * (1 - cc) * tg) ** 2,
    )
    th = theta[None, :]
    slots = _slot_names(layout.model)
    first = {"a": lz * th, "d": lz, "g": lg}
    second = {
        ("a", "a"): lzz * th * th,
        ("a", "d"): lzz * th,
        ("d", "d"): lzz,
        ("a", "g"): lzg * th,
        ("d", "g"): lzg,
        ("g", "g"): lgg,
    }
    hess = {
        (j, k): second[(slots[j], slots[k])]
        for j in range(len(slots))
        for k in range(j, len(slots))
    }
    return _Derivatives(score=tuple(first[n] for n in slots), hess=hess, lz=lz, lg=lg)


def _prior_information(s: _State, layout: _Layout, priors: Priors, size: int) -> Any:
    """``−∇² log prior`` in ``x`` (exact second derivatives), a sparse (size, size) matrix."""
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []

    def add(r: IntArray, c: IntArray, v: FloatArray) -> None:
        rows.append(r)
        cols.append(c)
        vals.append(v)

    if not priors.is_empty and layout.n_free:
        f = layout.free
        a, d, c = s.a[f], s.d[f], s.c[f]
        k = np.arange(layout.n_free)
        ia = k if layout.model in ("2PL", "3PL") else np.zeros(layout.n_free, dtype=np.int64)
        id_ = layout.off_d + k
        if priors.a_lognormal is not None:
            if layout.model in ("2PL", "3PL"):
                add(ia, ia, -_priors.lognormal_terms(a, priors.a_lognormal)[2])
            elif layout.model == "1PL":
                h = _priors.lognormal_terms(a[:1], priors.a_lognormal)[2]
                add(np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), -h)
        if priors.b_normal is not None:
            _, _, _, h_aa, h_ad, h_dd = _priors.normal_b_terms(a, d, priors.b_normal)
            add(id_, id_, -h_dd)
            if layout.model != "Rasch":
                add(ia, ia, -h_aa)
                add(ia, id_, -h_ad)
                add(id_, ia, -h_ad)
        if priors.c_beta is not None:
            ig = layout.off_g + k
            add(ig, ig, -_priors.beta_c_terms(c, priors.c_beta)[2])
    if not vals:
        return sp.csr_matrix((size, size))
    return sp.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(size, size)
    ).tocsr()


def _expected_neg_hessian(
    e: _EStep,
    der: _Derivatives,
    gidx: IntArray,
    layout: _Layout,
    s: _State,
    theta: FloatArray,
    size: int,
) -> FloatArray:
    """``E[−∇² log f(y, θ)]`` over the posterior, from the expected counts (shape size+1 square)."""
    out = np.zeros((size + 1, size + 1))
    for (j, k), table in der.hess.items():
        value = -((e.wrong * table[0::2]).sum(1) + (e.right * table[1::2]).sum(1))
        np.add.at(out, (gidx[:, j], gidx[:, k]), value)
        if j != k:
            np.add.at(out, (gidx[:, k], gidx[:, j]), value)
    if layout.var_free:
        _, _, hess = _variance_terms(theta, s.mean, s.variance)
        out[layout.off_v, layout.off_v] -= float(e.nodes @ hess)
    return out


def _full_cost(k_hist: IntArray, n_quad: int, layout: _Layout) -> float:
    """Multiply-adds of the full information, from ``k_hist[k]`` = persons with ``k`` answers."""
    m = len(_slot_names(layout.model))
    k = np.arange(len(k_hist), dtype=np.float64)
    return float(n_quad * np.sum(k_hist * (m * k + int(layout.var_free)) ** 2))


def _own_slots(layout: _Layout) -> list[int]:
    """The slots that belong to one item alone (the 1PL's common slope does not)."""
    slots = _slot_names(layout.model)
    return [j for j, n in enumerate(slots) if not (n == "a" and layout.model == "1PL")]


@dataclass(frozen=True, slots=True)
class _Pass:
    """One pass over the posteriors at the estimates: E-step sums and the SE accumulators."""

    e: _EStep
    full: FloatArray | None  # Σ_p Cov_post(score_p), (size+1)² (method "full")
    answer_means: FloatArray | None  # Σ_answers s̄ s̄ᵀ per item, (n_items, m, m) ("items")
    global_cov: float  # Σ_p Var_post of the 1PL slope's or the variance's score ("items")


def _accumulate_full(
    acc: FloatArray,
    design: _Design,
    p0: int,
    post: FloatArray,
    der: _Derivatives,
    gidx: IntArray,
    var_score: FloatArray | None,
    var_index: int,
    dim: int,
) -> None:
    """Add the chunk's per-person posterior covariances of the complete-data scores to ``acc``.

    Persons are grouped by their number of answers ``k``; each person's local score
    vector has ``k · m`` item slots (plus the variance) and its covariance is scattered
    to the parameters' positions (a repeated position, the 1PL slope, sums correctly).
    """
    m = len(der.score)
    counts = np.diff(design.indptr[p0 : p0 + len(post) + 1])
    for k in np.unique(counts):
        people = np.flatnonzero(counts == k)
        width = int(k) * m + int(var_score is not None)
        batch = max(1, _SE_BATCH_CELLS // (width * max(width, design.n_quad)))
        for b0 in range(0, len(people), batch):
            sel = people[b0 : b0 + batch]
            rows = design.indptr[p0 + sel][:, None] + np.arange(int(k))[None, :]
            codes = design.codes[rows]  # (n, k)
            items = codes >> 1
            local = np.empty((len(sel), width, design.n_quad))
            index = np.empty((len(sel), width), dtype=np.int64)
            for j in range(m):
                local[:, j : int(k) * m : m, :] = der.score[j][codes]
                index[:, j : int(k) * m : m] = gidx[items, j]
            if var_score is not None:
                local[:, -1, :] = var_score
                index[:, -1] = var_index
            w = post[sel]  # (n, Q)
            mean = np.einsum("npq,nq->np", local, w)
            local -= mean[:, :, None]
            weighted = local * w[:, None, :]
            if width <= 64:  # small products: batched BLAS is fastest
                cov = np.matmul(weighted, local.transpose(0, 2, 1))
            else:  # larger ones trigger BLAS threading, erratic on a loaded machine
                cov = np.einsum("npq,nrq->npr", weighted, local)
            flat = index[:, :, None] * dim + index[:, None, :]
            acc += np.bincount(flat.ravel(), weights=cov.ravel(), minlength=dim * dim)


def _accumulate_answer_means(
    acc: FloatArray,
    design: _Design,
    chunk: _Chunk,
    post: FloatArray,
    der: _Derivatives,
    own: list[str],
) -> None:
    """Add ``s̄ s̄ᵀ`` per answer (posterior mean of the item's own scores) to its item's block."""
    m = len(own)
    if chunk.right is not None:  # dense: the means of every cell by BLAS, kept where answered
        wrong = (1.0 - chunk.right) if chunk.seen is None else (chunk.seen - chunk.right)
        means: dict[str, FloatArray] = {}
        for name, table, weight in (
            ("d", der.lz, post),
            ("a", der.lz, post * design.theta),
            ("g", der.lg, post),
        ):
            if name in own:
                means[name] = chunk.right * (weight @ table[1::2].T) + wrong * (
                    weight @ table[0::2].T
                )
        for x in range(m):
            for y in range(x, m):
                block = (means[own[x]] * means[own[y]]).sum(axis=0)
                acc[:, x, y] += block
                if x != y:
                    acc[:, y, x] += block
        return
    # sparse: per answer, in small cache-sized batches and in float32 (SEs need ~4 digits;
    # the sums over answers are float64)
    p0, p1 = chunk.p0, chunk.p1
    a0, a1 = int(design.indptr[p0]), int(design.indptr[p1])
    owner = np.repeat(np.arange(p1 - p0), np.diff(design.indptr[p0 : p1 + 1]))
    post32 = post.astype(np.float32)
    lz32, lg32 = der.lz.astype(np.float32), der.lg.astype(np.float32)
    theta32 = design.theta.astype(np.float32)
    n_items = acc.shape[0]
    for b0 in range(a0, a1, _SE_GATHER):
        b1 = min(a1, b0 + _SE_GATHER)
        codes = design.codes[b0:b1]
        w = post32[owner[b0 - a0 : b1 - a0]]  # (answers, Q)
        per_answer: dict[str, npt.NDArray[np.float64]] = {}
        if "a" in own or "d" in own:
            wz = w * lz32[codes]
            per_answer["d"] = wz.sum(axis=1, dtype=np.float64)
            per_answer["a"] = (wz @ theta32).astype(np.float64)
        if "g" in own:
            per_answer["g"] = (w * lg32[codes]).sum(axis=1, dtype=np.float64)
        items = codes >> 1
        for x in range(m):
            for y in range(x, m):
                weights = per_answer[own[x]] * per_answer[own[y]]
                block = np.bincount(items, weights=weights, minlength=n_items)
                acc[:, x, y] += block
                if x != y:
                    acc[:, y, x] += block


def _final_pass(
    design: _Design, s: _State, layout: _Layout, der: _Derivatives, method: Literal["full", "items"]
) -> _Pass:
    """E-step at the estimates, accumulating what the chosen SE method needs on the way."""
    theta = design.theta
    table = _answer_table(s, theta)
    log_w = _state_log_weights(theta, s)
    var_score = _variance_terms(theta, s.mean, s.variance)[1] if layout.var_free else None
    slots = _slot_names(layout.model)
    own = [slots[j] for j in _own_slots(layout)]
    wrong = np.zeros((design.n_items, design.n_quad))
    right = np.zeros((design.n_items, design.n_quad))
    nodes = np.zeros(design.n_quad)
    loglik = 0.0
    dim = layout.size + 1
    full = np.zeros(dim * dim) if method == "full" else None
    gidx = _global_index(layout, design.n_items)
    means = np.zeros((design.n_items, len(own), len(own))) if method == "items" else None
    global_cov = 0.0
    for chunk, post, ll in _posteriors(design, table, log_w):
        w, r = chunk.scatter(post)
        wrong += w
        right += r
        nodes += post.sum(axis=0)
        loglik += ll
        if full is not None:
            _accumulate_full(full, design, chunk.p0, post, der, gidx, var_score, layout.off_v, dim)
            continue
        assert means is not None
        _accumulate_answer_means(means, design, chunk, post, der, own)
        if layout.model == "1PL":
            score_a = chunk.gather(der.score[slots.index("a")])  # Σ over the person's answers
            mean_a = (score_a * post).sum(axis=1)
            global_cov += float((((score_a - mean_a[:, None]) ** 2) * post).sum())
        elif var_score is not None:
            mean_v = post @ var_score
            global_cov += float((((var_score[None, :] - mean_v[:, None]) ** 2) * post).sum())
    e = _EStep(loglik=loglik, wrong=wrong, right=right, nodes=nodes)
    return _Pass(
        e=e,
        full=None if full is None else full.reshape(dim, dim),
        answer_means=means,
        global_cov=global_cov,
    )


class _Data(Protocol):
    """Where the answers are: one local design, or partitions of persons (Dask or local).

    The EM only needs the E-step sums and, at the estimates, one pass accumulating what
    the standard errors need: both are sums over persons, so partitions of persons add up.
    """

    @property
    def theta(self) -> FloatArray: ...

    @property
    def n_items(self) -> int: ...

    @property
    def n_quad(self) -> int: ...

    @property
    def n_persons(self) -> int: ...

    def e_step(self, s: _State) -> _EStep: ...

    def final_pass(
        self, s: _State, layout: _Layout, der: _Derivatives, method: Literal["full", "items"]
    ) -> _Pass: ...

    def k_hist(self) -> IntArray: ...


@dataclass(frozen=True, slots=True)
class _LocalData:
    """A whole log in this process: one design, its chunks summed in order."""

    design: _Design

    @property
    def theta(self) -> FloatArray:
        return self.design.theta

    @property
    def n_items(self) -> int:
        return self.design.n_items

    @property
    def n_quad(self) -> int:
        return self.design.n_quad

    @property
    def n_persons(self) -> int:
        return self.design.n_persons

    def e_step(self, s: _State) -> _EStep:
        return _e_step(self.design, s)

    def final_pass(
        self, s: _State, layout: _Layout, der: _Derivatives, method: Literal["full", "items"]
    ) -> _Pass:
        return _final_pass(self.design, s, layout, der, method)

    def k_hist(self) -> IntArray:
        return np.bincount(np.diff(self.design.indptr)).astype(np.int64)


def _add_esteps(x: _EStep, y: _EStep) -> _EStep:
    """Sum of two partitions' E-step sums."""
    return _EStep(
        loglik=x.loglik + y.loglik,
        wrong=x.wrong + y.wrong,
        right=x.right + y.right,
        nodes=x.nodes + y.nodes,
        group_nodes=None
        if x.group_nodes is None or y.group_nodes is None
        else x.group_nodes + y.group_nodes,
    )


def _add_passes(x: _Pass, y: _Pass) -> _Pass:
    """Sum of two partitions' final passes."""
    return _Pass(
        e=_add_esteps(x.e, y.e),
        full=None if x.full is None or y.full is None else x.full + y.full,
        answer_means=(
            None
            if x.answer_means is None or y.answer_means is None
            else x.answer_means + y.answer_means
        ),
        global_cov=x.global_cov + y.global_cov,
    )


def _item_blocks(
    e: _EStep,
    s: _State,
    layout: _Layout,
    der: _Derivatives,
    answer_means: FloatArray,
    global_cov: float,
    theta: FloatArray,
) -> tuple[FloatArray, FloatArray | None]:
    """Per free item, its own block of the observed information; and the global parameter's.

    ``I_ii = E[−H_ii] − Σ_{y,q} counts · s sᵀ + Σ_answers s̄ s̄ᵀ`` over the item's own
    slots (the intercept alone for the 1PL and Rasch); the 1PL slope or the Rasch
    variance gets its own 1 × 1 block (None otherwise).
    """
    own = _own_slots(layout)
    m = len(own)
    info = answer_means.copy()
    for x, j in enumerate(own):
        for y, k in enumerate(own):
            h = der.hess[(j, k) if j <= k else (k, j)]
            sj, sk = der.score[j], der.score[k]
            info[:, x, y] -= (e.wrong * h[0::2]).sum(1) + (e.right * h[1::2]).sum(1)
            info[:, x, y] -= (e.wrong * sj[0::2] * sk[0::2]).sum(1) + (
                e.right * sj[1::2] * sk[1::2]
            ).sum(1)
    glob: FloatArray | None = None
    if layout.model == "1PL":
        ja = _slot_names(layout.model).index("a")
        ha = der.hess[(ja, ja)]
        glob = np.array(
            [[-float((e.wrong * ha[0::2]).sum() + (e.right * ha[1::2]).sum()) - global_cov]]
        )
    elif layout.var_free:
        _, _, hess = _variance_terms(theta, s.mean, s.variance)
        glob = np.array([[-float(e.nodes @ hess) - global_cov]])
    assert info.shape[1] == m
    return info[layout.free], glob


@dataclass(frozen=True, slots=True)
class _ParamCov:
    """The (co)variances the reported SEs need, per free item, and the latent variance's."""

    var_a: FloatArray  # the item's slope (the common slope for the 1PL; NaN for Rasch)
    var_d: FloatArray
    cov_ad: FloatArray
    var_g: FloatArray  # logit(c) (NaN unless 3PL)
    var_v: float  # the Rasch latent variance (NaN unless estimated)


def _from_dense(cov: FloatArray, layout: _Layout) -> _ParamCov:
    n = layout.n_free
    k = np.arange(n)
    id_ = layout.off_d + k
    nan = np.full(n, np.nan)
    if layout.model == "Rasch":
        var_a, cov_ad = nan, np.zeros(n)
    else:
        ia = k if layout.model in ("2PL", "3PL") else np.zeros(n, dtype=np.int64)
        var_a, cov_ad = cov[ia, ia], cov[ia, id_]
    ig = layout.off_g + k
    return _ParamCov(
        var_a=var_a,
        var_d=cov[id_, id_],
        cov_ad=cov_ad,
        var_g=cov[ig, ig] if layout.has_gamma else nan,
        var_v=float(cov[layout.off_v, layout.off_v]) if layout.var_free else math.nan,
    )


def _covariance(
    data: _Data,
    s: _State,
    layout: _Layout,
    priors: Priors,
    method: Literal["full", "items"],
) -> tuple[_EStep, _ParamCov]:
    """The E-step at the estimates and the covariances (inverse observed information + prior's)."""
    size = layout.size
    der = _derivatives(s, layout, data.theta)
    prior_info = _prior_information(s, layout, priors, size)
    done = data.final_pass(s, layout, der, method)
    e = done.e
    if done.full is not None:
        gidx = _global_index(layout, data.n_items)
        info = _expected_neg_hessian(e, der, gidx, layout, s, data.theta, size) - done.full
        return e, _from_dense(_inverse(info[:size, :size] + prior_info.toarray()), layout)
    assert done.answer_means is not None
    blocks, glob = _item_blocks(e, s, layout, der, done.answer_means, done.global_cov, data.theta)
    own = _own_slots(layout)
    gidx = _global_index(layout, data.n_items)[layout.free][:, own]  # (n_free, m)
    m = len(own)
    for x in range(m):
        for y in range(m):
            blocks[:, x, y] += np.asarray(prior_info[gidx[:, x], gidx[:, y]]).ravel()
    inv = _inverse_blocks(blocks)
    n = layout.n_free
    nan = np.full(n, np.nan)
    glob_var = math.nan
    if glob is not None:
        gpos = 0 if layout.model == "1PL" else layout.off_v
        total = float(glob[0, 0] + prior_info[gpos, gpos])
        glob_var = 1.0 / total if total > 0 else math.nan
    names = [_slot_names(layout.model)[j] for j in own]
    pos = {name: x for x, name in enumerate(names)}
    if layout.model == "1PL":
        var_a, cov_ad = np.full(n, glob_var), np.zeros(n)
    elif "a" in pos:
        var_a, cov_ad = inv[:, pos["a"], pos["a"]], inv[:, pos["a"], pos["d"]]
    else:
        var_a, cov_ad = nan, np.zeros(n)
    return e, _ParamCov(
        var_a=var_a,
        var_d=inv[:, pos["d"], pos["d"]],
        cov_ad=cov_ad,
        var_g=inv[:, pos["g"], pos["g"]] if "g" in pos else nan,
        var_v=glob_var if layout.var_free else math.nan,
    )


def _inverse(info: FloatArray) -> FloatArray:
    info = 0.5 * (info + info.T)
    try:
        chol = np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        warnings.warn(
            "the observed information is not positive definite: standard errors are NaN "
            "(the estimates may not be a maximum; try priors='default')",
            ConvergenceWarning,
            stacklevel=5,
        )
        return np.full(info.shape, np.nan)
    inv_chol = np.linalg.inv(chol)
    return np.asarray(inv_chol.T @ inv_chol, dtype=np.float64)


def _inverse_blocks(blocks: FloatArray) -> FloatArray:
    sym = 0.5 * (blocks + blocks.transpose(0, 2, 1))
    eig = np.linalg.eigvalsh(sym)
    good = np.all(eig > 0, axis=1)
    out = np.full(sym.shape, np.nan)
    if good.any():
        out[good] = np.linalg.inv(sym[good])
    if not good.all():
        warnings.warn(
            f"the observed information of {int((~good).sum())} item(s) is not positive definite: "
            "their standard errors are NaN",
            ConvergenceWarning,
            stacklevel=5,
        )
    return out


def _item_standard_errors(
    s: _State, layout: _Layout, pc: _ParamCov
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """SEs of ``a``, ``b = −d/a`` and ``c`` for the free items (delta method)."""
    f = layout.free
    n = layout.n_free
    a, d, c = s.a[f], s.d[f], s.c[f]
    if layout.model == "Rasch":
        se_a = np.full(n, np.nan)
        se_b = np.sqrt(pc.var_d) / np.abs(a)
    else:
        db_da, db_dd = d / a**2, -1.0 / a
        se_a = np.sqrt(pc.var_a)
        var_b = db_da**2 * pc.var_a + 2 * db_da * db_dd * pc.cov_ad + db_dd**2 * pc.var_d
        se_b = np.sqrt(np.maximum(var_b, 0.0))
    se_c = c * (1 - c) * np.sqrt(pc.var_g) if layout.has_gamma else np.full(n, np.nan)
    return se_a, se_b, se_c


# =========================================================================== entry point


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


def _start(
    stats: pd.DataFrame,
    layout: _Layout,
    fixed_pos: IntArray,
    fixed: ItemBank | None,
    priors: Priors,
) -> _State:
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
    return _State(a=a, d=d, c=c, mean=mean, variance=variance)


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
    progress: bool = True,
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
        The answers: a :class:`~pixirt.responses.ResponseLog` (only answered cells are
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
        Show iteration, change and log-likelihood on stderr (only when it is a terminal).
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
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0
    ):
        raise DataError(
            f"The 'seed' parameter must be None or a non-negative int. Got {seed!r} instead.",
            field="seed",
        )
    if not isinstance(progress, bool):
        raise DataError(
            f"The 'progress' parameter must be a bool. Got {progress!r} instead.", field="progress"
        )
    if fixed is not None and not isinstance(fixed, ItemBank):
        raise DataError(
            f"The 'fixed' parameter must be None or an ItemBank. Got {type(fixed).__name__} instead.",
            field="fixed",
        )
    resolved = Priors.resolve(priors, model)
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
            group_codes, group_labels = _resolve_groups(log, groups, reference_group)
            if free_items is not None:
                log = _free_per_group(log, group_codes, group_labels, free_items)
        else:
            # partitions: each partition maps its persons to their group codes
            group_series, group_labels = _group_series(groups, reference_group)
    if client is None and isinstance(log, ResponseLog):
        if log.n_answers == 0:
            raise DataError("the log has no answers", field="log")
        stats = log.item_stats()
        data: _Data = _LocalData(_build_design(log, n_quad, (lo, hi), group_codes))
        close: Any = None
    else:
        from pixirt.calibration.partitions import partitioned

        part = partitioned(log, client, n_quad=n_quad, theta_range=(lo, hi), groups=group_series)
        stats, data, close = part.stats, part, part.close
    try:
        return _calibrate(
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
            progress=progress,
            accelerate=accelerate,
            se=se,
            fixed_scale=fixed_scale,
            group_labels=group_labels,
            group_counts=_group_counts(data, len(group_labels)),
        )
    finally:
        if close is not None:
            close()


def _calibrate(
    data: _Data,
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
    progress: bool,
    accelerate: Accelerate,
    se: SEMethod,
    fixed_scale: FixedScale = "estimate",
    group_labels: Sequence[Any] = (),
    group_counts: IntArray | None = None,
) -> CalibrationResult:
    """The EM, the standard errors and the result, wherever the answers are."""
    item_ids = stats.index.to_numpy()
    n_items = len(item_ids)
    lo, hi = theta_range
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
    layout = _Layout(
        model=model,
        free=free,
        n_a=n_a,
        var_free=(model == "Rasch" and fixed is None) or scale_free,
        mean_free=scale_free,
        n_groups=max(1, len(group_labels)),
    )
    start = _start(stats, layout, fixed_pos, fixed, resolved)
    if layout.n_groups > 1:
        start = replace(
            start,
            g_mean=np.full(layout.n_groups, start.mean),
            g_var=np.full(layout.n_groups, start.variance),
        )

    bar = _Progress(progress and sys.stderr.isatty(), model)
    try:
        fit = _run_em(
            data,
            layout,
            start,
            resolved,
            max_iter=max_iter,
            tol=tol,
            accelerate=accelerate,
            progress=bar,
            item_ids=item_ids,
        )
    finally:
        bar.close()
    state = fit.state
    problems = _problems(item_ids, layout, state)
    if len(problems):
        warnings.warn(
            f"{len(problems)} degenerate item(s), estimated but flagged in result.problems: "
            f"{_describe(problems)}; the other items are estimated as usual, the bank for the "
            "engine (result.engine_bank()) refuses them",
            DegenerateItemWarning,
            stacklevel=3,
        )
    method: Literal["full", "items", "none"]
    if se == "auto":
        small = (
            layout.size <= _FULL_SE_MAX_PARAMS
            and _full_cost(data.k_hist(), n_quad, layout) <= _FULL_SE_MAX_COST
        )
        method = "full" if small else "items"
    else:
        method = se
    # an item whose slope EM holds at ±_DIVERGED has no finite information: its
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
        final, pc = _covariance(data, state, se_layout, resolved, method)
        se_a, se_b, se_c = (
            _scatter_se(v, held) for v in _item_standard_errors(state, se_layout, pc)
        )
        var_se = math.sqrt(pc.var_v) if pc.var_v >= 0 else math.nan
    else:
        final = data.e_step(state)
        nan = np.full(layout.n_free, np.nan)
        se_a, se_b, se_c, var_se = nan, nan, nan, math.nan
    if not math.isfinite(final.loglik):
        raise CalibrationError("EM diverged: the final log-likelihood is not finite")
    if not fit.converged:
        warnings.warn(
            f"EM stopped after {fit.n_iter} iterations (max_iter={max_iter}) before reaching "
            f"tol={tol:g}: the last largest parameter change was {fit.last_change:.3g}",
            ConvergenceWarning,
            stacklevel=3,
        )
    bank = _result_bank(item_ids, stats, layout, state, fixed, fixed_pos, se_a, se_b, se_c)
    k = layout.size
    n_persons = data.n_persons
    loglik = final.loglik
    from pixirt import __version__

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
        log_prior=_log_prior(state, layout, resolved),
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
        groups=_groups_frame(group_labels, group_counts, state),
    )


def _resolve_groups(log: ResponseLog, groups: Any, reference: Any) -> tuple[IntArray, list[Any]]:
    """Each person's group code (0: the reference) and the labels in code order."""
    if isinstance(groups, pd.Series):
        if not groups.index.is_unique:
            raise DataError("groups has duplicate person ids in its index", field="groups")
        values = groups.reindex(pd.Index(log.person_ids)).to_numpy(dtype=object)
    elif isinstance(groups, Mapping):
        values = (
            pd.Series(dict(groups), dtype=object)
            .reindex(pd.Index(log.person_ids))
            .to_numpy(dtype=object)
        )
    else:
        values = np.asarray(groups, dtype=object)
        if values.ndim != 1 or len(values) != log.n_persons:
            raise DataError(
                f"groups must have one label per person of the log ({log.n_persons}), "
                f"got shape {values.shape}",
                field="groups",
            )
    missing = pd.isna(pd.Series(values)).to_numpy() & (np.diff(log.indptr) > 0)
    if missing.any():
        raise DataError(
            f"{int(missing.sum())} person(s) with answers have no group, e.g. "
            f"{log.person_ids[int(np.flatnonzero(missing)[0])]!r}",
            field="groups",
        )
    labels = sorted(pd.unique(pd.Series(values).dropna()).tolist(), key=str)
    if reference is None:
        reference = labels[0]
    elif reference not in labels:
        raise DataError(
            f"reference group {reference!r} is not among the groups {[str(x) for x in labels]}",
            field="reference_group",
        )
    ordered = [reference, *[x for x in labels if x != reference]]
    codes = pd.Index(ordered).get_indexer(pd.Series(values).fillna(ordered[0]))
    return np.asarray(codes, dtype=np.int64), ordered


def _free_per_group(
    log: ResponseLog, codes: IntArray, labels: Sequence[Any], free_items: Sequence[Any]
) -> ResponseLog:
    """The log with each non-reference group's answers to ``free_items`` as new items."""
    if log.item_ids.dtype.kind in "iu":
        raise DataError("free_items needs string item ids", field="free_items")
    wanted = list(free_items)
    pos = pd.Index(log.item_ids).get_indexer(pd.Index(wanted))
    if (pos < 0).any():
        raise DataError(
            f"free item {wanted[int(np.flatnonzero(pos < 0)[0])]!r} is not in the log",
            field="free_items",
        )
    n_other = len(labels) - 1
    rank = np.full(log.n_items, -1, dtype=np.int64)
    rank[pos] = np.arange(len(pos))
    group_of_answer = codes[log.person_index]
    moved = (rank[log.indices] >= 0) & (group_of_answer > 0)
    indices = log.indices.astype(np.int64)
    indices[moved] = log.n_items + rank[log.indices[moved]] * n_other + group_of_answer[moved] - 1
    new_ids = [f"{log.item_ids[p]}@{g}" for p in pos.tolist() for g in labels[1:]]
    return ResponseLog(
        log.indptr,
        indices,
        log.answers,
        log.person_ids,
        np.concatenate([np.asarray(log.item_ids, dtype=object), np.array(new_ids, dtype=object)]),
    )


def _group_series(groups: Any, reference: Any) -> tuple[pd.Series, list[Any]]:
    """Group codes by person id (0: the reference) for partitioned sources."""
    if isinstance(groups, Mapping) and not isinstance(groups, pd.Series):
        groups = pd.Series(dict(groups), dtype=object)
    if not isinstance(groups, pd.Series):
        raise DataError(
            "with a partitioned source or a client, groups must be a Series indexed by "
            "person_id or a mapping",
            field="groups",
        )
    if not groups.index.is_unique:
        raise DataError("groups has duplicate person ids in its index", field="groups")
    present = groups.dropna()
    labels = sorted(pd.unique(present).tolist(), key=str)
    if not labels:
        raise DataError("groups has no label", field="groups")
    if reference is None:
        reference = labels[0]
    elif reference not in labels:
        raise DataError(
            f"reference group {reference!r} is not among the groups {[str(x) for x in labels]}",
            field="reference_group",
        )
    ordered = [reference, *[x for x in labels if x != reference]]
    codes = pd.Index(ordered).get_indexer(present)
    return pd.Series(codes.astype(np.int64), index=present.index), ordered


def _group_counts(data: _Data, n_groups: int) -> IntArray | None:
    """Persons with answers per group."""
    if not n_groups:
        return None
    if isinstance(data, _LocalData):
        assert data.design.group is not None
        return np.bincount(data.design.group, minlength=n_groups).astype(np.int64)
    counts = getattr(data, "group_counts", None)
    if counts is None:
        return None
    out = np.zeros(n_groups, dtype=np.int64)
    out[: len(counts)] = counts
    return out


def _groups_frame(labels: Sequence[Any], counts: IntArray | None, s: _State) -> pd.DataFrame | None:
    if not labels or counts is None or s.g_mean is None or s.g_var is None:
        return None
    return pd.DataFrame(
        {
            "group": pd.Series(list(labels), dtype=object),
            "reference": np.arange(len(labels)) == 0,
            "n_persons": counts.astype(np.int64),
            "mean": s.g_mean.astype(np.float64),
            "variance": s.g_var.astype(np.float64),
        }
    )


def _problems(item_ids: npt.NDArray[Any], layout: _Layout, s: _State) -> pd.DataFrame:
    """The calibrated items a bank for the engine cannot hold, one row each.

    ``problem`` is ``"diverging slope"`` (``|a|`` reached ``_DIVERGED``, where EM holds
    it), ``"non-positive slope"`` (``a ≤ 0``) or ``"diverging difficulty"``
    (``|b| > _DIVERGED``), in that order of precedence.
    """
    f = layout.free
    a, d = s.a[f], s.d[f]
    with np.errstate(divide="ignore", invalid="ignore"):
        b = -d / a
    if not np.all(np.isfinite(b)):
        bad = item_ids[f][~np.isfinite(b)]
        raise CalibrationError(
            f"estimates diverge for {len(bad)} item(s): {', '.join(map(repr, bad[:5].tolist()))} "
            "(slope exactly 0, infinite difficulty); use priors='default' or drop them"
        )
    problem = np.full(len(f), "", dtype=object)
    problem[np.abs(b) > _DIVERGED] = "diverging difficulty"
    problem[a <= 0] = "non-positive slope"
    problem[np.abs(a) >= _DIVERGED] = "diverging slope"
    keep = problem != ""
    return pd.DataFrame(
        {
            "item_id": pd.Series(item_ids[f][keep], dtype=object),
            "a": a[keep],
            "b": b[keep],
            "problem": pd.Series(problem[keep], dtype=object),
        }
    )


def _scatter_se(values: FloatArray, held: npt.NDArray[np.bool_]) -> FloatArray:
    """Standard errors of the free items, NaN for the ``held`` ones."""
    if not held.any():
        return values
    out = np.full(len(held), np.nan)
    out[~held] = values
    return out


def _describe(problems: pd.DataFrame) -> str:
    rows = problems.head(5)
    return ", ".join(
        f"{i!r} ({p}: a={x:.3g}, b={y:.3g})"
        for i, p, x, y in zip(rows["item_id"], rows["problem"], rows["a"], rows["b"], strict=True)
    )


def _result_bank(
    item_ids: npt.NDArray[Any],
    stats: pd.DataFrame,
    layout: _Layout,
    s: _State,
    fixed: ItemBank | None,
    fixed_pos: IntArray,
    se_a: FloatArray,
    se_b: FloatArray,
    se_c: FloatArray,
) -> ItemBank:
    n_items = len(item_ids)
    a, d, c = s.a, s.d, s.c
    frame = pd.DataFrame(
        {
            "item_id": item_ids,
            "a": a,
            "b": -d / a,
            "c": c if layout.model == "3PL" else np.zeros(n_items),
            "se_a": np.full(n_items, np.nan),
            "se_b": np.full(n_items, np.nan),
            "se_c": np.full(n_items, np.nan),
            "n_answers": stats["n_answers"].to_numpy(),
            "p_correct": stats["p_correct"].to_numpy(),
        }
    )
    f = layout.free
    frame.loc[f, "se_a"] = se_a
    frame.loc[f, "se_b"] = se_b
    frame.loc[f, "se_c"] = se_c
    mean, variance = s.mean, s.variance
    if fixed is not None:
        old = fixed.to_frame()
        known = np.flatnonzero(fixed_pos >= 0)
        standard = ["a", "b", "c", "se_a", "se_b", "se_c", "n_answers", "p_correct"]
        frame["n_answers"] = frame["n_answers"].astype("Int64")
        for col in standard:
            frame.loc[known, col] = old[col].to_numpy()[fixed_pos[known]]
        extra_cols = [col for col in old.columns if col not in frame.columns]
        absent = np.setdiff1d(np.arange(fixed.n_items), fixed_pos[known])
        for col in extra_cols:
            source = old[col]
            if len(known) == n_items:
                frame[col] = source.to_numpy()[fixed_pos]
                continue
            values = np.full(n_items, None, dtype=object)
            values[known] = source.to_numpy(dtype=object)[fixed_pos[known]]
            frame[col] = pd.Series(values).infer_objects().to_numpy()
        frame["fixed"] = fixed_pos >= 0
        if len(absent):
            rest = old.iloc[absent].copy()
            rest["fixed"] = True
            frame = pd.concat([frame, rest[frame.columns]], ignore_index=True)
        mean, variance = fixed.latent_mean, fixed.latent_variance
    return ItemBank.from_frame(
        frame, model=layout.model, latent_mean=mean, latent_variance=variance
    )
