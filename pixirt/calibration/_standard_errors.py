"""Standard errors from the accumulated information.

The full matrix or per item block, its inverse and the delta method to ``(a, b, c)``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from pixirt.calibration._data import Data
from pixirt.calibration._estep import EStep
from pixirt.calibration._information import (
    Derivatives,
    derivatives,
    expected_neg_hessian,
    global_index,
    own_slots,
    prior_information,
    slot_names,
)
from pixirt.calibration._mstep import variance_terms
from pixirt.calibration._priors import Priors
from pixirt.calibration._state import Layout, State
from pixirt.exceptions import ConvergenceWarning

FloatArray = npt.NDArray[np.float64]

SEMethod = Literal["auto", "full", "items", "none"]
FULL_SE_MAX_PARAMS = 3_000  # 'auto' uses the full information up to this many parameters...
FULL_SE_MAX_COST = 1.0e10  # ... and this many multiply-adds for the posterior covariances


def _item_blocks(
    e: EStep,
    s: State,
    layout: Layout,
    der: Derivatives,
    answer_means: FloatArray,
    global_cov: float,
    theta: FloatArray,
) -> tuple[FloatArray, FloatArray | None]:
    """Per free item, its own block of the observed information; and the global parameter's.

    ``I_ii = E[−H_ii] − Σ_{y,q} counts · s sᵀ + Σ_answers s̄ s̄ᵀ`` over the item's own
    slots (the intercept alone for the 1PL and Rasch); the 1PL slope or the Rasch
    variance gets its own 1 × 1 block (None otherwise).
    """
    own = own_slots(layout)
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
        ja = slot_names(layout.model).index("a")
        ha = der.hess[(ja, ja)]
        glob = np.array(
            [[-float((e.wrong * ha[0::2]).sum() + (e.right * ha[1::2]).sum()) - global_cov]]
        )
    elif layout.var_free:
        _, _, hess = variance_terms(theta, s.mean, s.variance)
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


def _from_dense(cov: FloatArray, layout: Layout) -> _ParamCov:
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


def covariance(
    data: Data,
    s: State,
    layout: Layout,
    priors: Priors,
    method: Literal["full", "items"],
) -> tuple[EStep, _ParamCov]:
    """The E-step at the estimates and the covariances (inverse observed information + prior's)."""
    size = layout.size
    der = derivatives(s, layout, data.theta)
    prior_info = prior_information(s, layout, priors, size)
    done = data.final_pass(s, layout, der, method)
    e = done.e
    if done.full is not None:
        gidx = global_index(layout, data.n_items)
        info = expected_neg_hessian(e, der, gidx, layout, s, data.theta, size) - done.full
        return e, _from_dense(_inverse(info[:size, :size] + prior_info.toarray()), layout)
    assert done.answer_means is not None
    blocks, glob = _item_blocks(e, s, layout, der, done.answer_means, done.global_cov, data.theta)
    own = own_slots(layout)
    gidx = global_index(layout, data.n_items)[layout.free][:, own]  # (n_free, m)
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
    names = [slot_names(layout.model)[j] for j in own]
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


def item_standard_errors(
    s: State, layout: Layout, pc: _ParamCov
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
