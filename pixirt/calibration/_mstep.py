"""The M-step of the EM.

Newton–Fisher scoring per item (the 1PL's common slope by Schur complement), with
priors, step capping and halving; the latent means and variances of the groups.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy.special import expit, log_expit

from pixirt.calibration import _priors as _priors
from pixirt.calibration._estep import EStep
from pixirt.calibration._priors import Priors
from pixirt.calibration._state import GAMMA_BOUND, Layout, State, log_tables, log_weights, logit
from pixirt.models import Model

FloatArray = npt.NDArray[np.float64]

_NEWTON_MAX = 30
_NEWTON_TOL = 1e-10
_MAX_HALVINGS = 30
_STEP_CAP = 2.0  # largest Newton step per parameter in one M-step iteration


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


def node_terms(
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
    log_p, log_q = log_tables(a, d, c, theta)
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
    s, t, rho, log_p, log_q, cc = node_terms(a, d, c, theta)
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


def _m_step_items(s: State, layout: Layout, e: EStep, theta: FloatArray, priors: Priors) -> State:
    """Maximize each free item's expected complete-data log-likelihood (+ log-prior).

    Newton–Fisher steps with per-item step halving; an item leaves the active set once
    its step falls below ``_NEWTON_TOL`` (the 1PL's items stay together: they share a).
    """
    f = layout.free
    if not len(f):
        return s
    right_all, wrong_all = e.right[f], e.wrong[f]
    a, d = s.a[f].copy(), s.d[f].copy()
    gamma = logit(s.c[f]) if layout.has_gamma else None
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
        new_g = np.clip(gamma + st[:, 2], -GAMMA_BOUND, GAMMA_BOUND)
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


def variance_terms(
    theta: FloatArray, mean: float, v: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Weights, ``∂ log w_q / ∂v`` and ``∂² log w_q / ∂v²`` for grid-normalized normal weights."""
    w = np.exp(log_weights(theta, mean, v))
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
        _, score, hess = variance_terms(theta, mean, v)
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
        w = np.exp(log_weights(theta, m, v))
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


def m_step(s: State, layout: Layout, e: EStep, theta: FloatArray, priors: Priors) -> State:
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


def log_prior(s: State, layout: Layout, priors: Priors) -> float:
    if priors.is_empty or not layout.n_free:
        return 0.0
    f = layout.free
    per_item_slope = layout.model in ("2PL", "3PL")
    total = float(_prior_value(s.a[f], s.d[f], s.c[f], priors, per_item_slope).sum())
    if layout.model == "1PL":
        total += _common_prior(float(s.a[f[0]]), priors)
    return total
