"""The EM's parameters and model tables.

The state (slopes, intercepts, guessing, latent means and variances), its layout as one
vector of estimated parameters, and the model tables at the quadrature nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import expit, log_expit, logsumexp

from pixirt.calibration._priors import Priors
from pixirt.models import Model

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

GAMMA_BOUND = 20.0  # |logit c| ≤ 20: c kept in [2e-9, 1 − 2e-9]
# =========================================================================== parameters


@dataclass(frozen=True, slots=True)
class State:
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
class Layout:
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

    def pack(self, s: State) -> FloatArray:
        parts = []
        if self.model in ("2PL", "3PL"):
            parts.append(s.a[self.free])
        elif self.model == "1PL":
            parts.append(s.a[self.free[:1]] if self.n_free else np.empty(0))
        parts.append(s.d[self.free])
        if self.has_gamma:
            parts.append(logit(s.c[self.free]))
        if self.var_free:
            parts.append(np.array([s.variance]))
        if self.mean_free:
            parts.append(np.array([s.mean]))
        if self.n_groups > 1:
            assert s.g_mean is not None and s.g_var is not None
            parts.append(np.column_stack([s.g_mean[1:], s.g_var[1:]]).ravel())
        return np.concatenate(parts) if parts else np.empty(0)

    def unpack(self, x: FloatArray, base: State) -> State:
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
        return State(a=a, d=d, c=c, mean=mean, variance=variance, g_mean=g_mean, g_var=g_var)

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


def logit(p: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore"):
        return np.asarray(
            np.clip(np.log(p) - np.log1p(-p), -GAMMA_BOUND, GAMMA_BOUND), dtype=np.float64
        )


# =========================================================================== model tables


def log_weights(theta: FloatArray, mean: float, variance: float) -> FloatArray:
    """Log of the normal weights on the nodes, renormalized to sum to 1 (mirt's prior)."""
    lw = -0.5 * (theta - mean) ** 2 / variance
    return np.asarray(lw - logsumexp(lw), dtype=np.float64)


def log_tables(
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


def answer_table(s: State, theta: FloatArray) -> FloatArray:
    """The E-step table ``T[2·item + correct, node]``: ``log(1 − P)`` then ``log P`` per item."""
    log_p, log_q = log_tables(s.a, s.d, s.c, theta)
    table = np.empty((2 * len(s.a), len(theta)))
    table[0::2] = log_q
    table[1::2] = log_p
    return table
