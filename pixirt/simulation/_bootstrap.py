"""The paired bootstrap.

Per-candidate columns whose resampled sums make every statistic, and the statistics
built on them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from pixirt.simulation._comparison_names import FloatArray, StageTick


# ====================================================================== the bootstrap
class _Sums:
    """Per-candidate columns whose (re)weighted sums make every statistic.

    Identical columns are stored once, so identical rule sets give identical sums and
    differences of exactly 0.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.columns: list[FloatArray] = []
        self._seen: dict[bytes, list[int]] = {}

    def add(self, values: npt.ArrayLike) -> int:
        v = np.ascontiguousarray(np.broadcast_to(np.asarray(values, dtype=np.float64), (self.n,)))
        key = v[: min(len(v), 64)].tobytes() + v.sum().tobytes()
        for j in self._seen.get(key, []):
            if np.array_equal(self.columns[j], v):
                return j
        self.columns.append(v)
        self._seen.setdefault(key, []).append(len(self.columns) - 1)
        return len(self.columns) - 1

    def run(
        self, n_bootstrap: int, seed: int, progress: StageTick
    ) -> tuple[FloatArray, FloatArray]:
        """The sums over all candidates, and over ``n_bootstrap`` resamples (rows)."""
        # columns as rows (k × n): ``xt @ weights.T`` is a steady BLAS shape, where
        # ``weights @ x`` (long inner dimension, few outputs) runs erratically threaded
        xt = np.empty((len(self.columns), self.n))
        empty = np.zeros(0)
        for j in range(len(self.columns)):  # copied and released one by one
            xt[j] = self.columns[j]
            self.columns[j] = empty
        self.columns = []
        self._seen = {}
        total = xt.sum(axis=1)
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5E1EC7]))
        block = max(1, min(n_bootstrap, 4_000_000 // max(self.n, 1)))
        out = np.empty((n_bootstrap, xt.shape[0]))
        weights = np.empty((block, self.n))
        done = 0
        progress("bootstrap", 0, n_bootstrap)
        while done < n_bootstrap:
            b = min(block, n_bootstrap - done)
            for r in range(b):
                weights[r] = np.bincount(rng.integers(0, self.n, self.n), minlength=self.n)
            out[done : done + b] = (xt @ weights[:b].T).T
            done += b
            progress("bootstrap", done, n_bootstrap)
        return total, out


Stat = Callable[[FloatArray], FloatArray]


#: A statistic's point estimate and its bootstrap distribution.
Estimate = Callable[[Stat], tuple[float, FloatArray]]


def _estimator(total: FloatArray, boot: FloatArray) -> Estimate:
    """The estimate of a statistic from the sums over all candidates and over the resamples."""

    def estimate(f: Stat) -> tuple[float, FloatArray]:
        return float(f(total)), f(boot)

    return estimate


def _ratio(num: int, den: int) -> Stat:
    def f(s: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(s[..., num] / s[..., den], dtype=np.float64)

    return f


def _rmse(sq: int, den: int) -> Stat:
    def f(s: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.sqrt(s[..., sq] / s[..., den]), dtype=np.float64)

    return f


def _corr(cnt: int, sx: int, sy: int, sxx: int, syy: int, sxy: int) -> Stat:
    def f(s: FloatArray) -> FloatArray:
        n = s[..., cnt]
        with np.errstate(divide="ignore", invalid="ignore"):
            cov = n * s[..., sxy] - s[..., sx] * s[..., sy]
            vx = n * s[..., sxx] - s[..., sx] ** 2
            vy = n * s[..., syy] - s[..., sy] ** 2
            return np.asarray(cov / np.sqrt(vx * vy), dtype=np.float64)

    return f


def _interval(dist: FloatArray, level: float) -> tuple[float, float]:
    d = dist[np.isfinite(dist)]
    if len(d) < max(10, len(dist) // 2):
        return math.nan, math.nan
    lo, hi = np.quantile(d, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def _scaled(f: Stat, k: float) -> Stat:
    if k == 1.0:
        return f
    return lambda s: f(s) * k


def _minus(f: Stat, g: Stat) -> Stat:
    return lambda s: f(s) - g(s)


def _constant(value: float) -> Stat:
    return lambda s: np.full(s.shape[:-1], value)


def _shifted(f: Stat, value: float) -> Stat:
    return lambda s: f(s) + value
