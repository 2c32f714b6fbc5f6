"""Generic CAT stages for non-Pix tests: one interface per stage, one method each.

A computerized adaptive test repeats: *initialize* an ability, *select* an item,
record the answer, *estimate* the ability, ask whether to *stop*. Each stage is an
abstract class with a single method, so a new rule is one small class, and every
plug-in can be checked by :mod:`pixirt.testing`:

=====================  =============================  ==========================================
stage                  method                         shipped rules
=====================  =============================  ==========================================
:class:`Initializer`   ``initialize(draw) -> θ₀``     :class:`FixedStart`, :class:`RandomStart`
:class:`Selector`      ``select(ctx) -> item | None`` :class:`MaxInformation`, :class:`Randomesque`,
                                                      :class:`AStratified`, :class:`SympsonHetter`
:class:`Estimator`     ``estimate(ctx) -> Estimate``  :class:`EAP`, :class:`MAP`, :class:`MLE`
:class:`Stopper`       ``stop(ctx) -> bool``          :class:`MaxLength`, :class:`MinStandardError`
=====================  =============================  ==========================================

Everything a stage may use is in the :class:`CatContext` it receives, including
``draws``: uniform numbers for this step from the counter-based stream
(:mod:`pixirt._streams`), so a randomized rule is still a pure function of its context.
Stages are frozen dataclasses holding only their hyper-parameters.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import expit, ndtri

from pixirt import _streams as streams
from pixirt import models
from pixirt._item_bank import ItemBank
from pixirt.exceptions import DataError

__all__ = [
    "EAP",
    "MAP",
    "MLE",
    "AStratified",
    "CatContext",
    "Estimate",
    "Estimator",
    "FixedStart",
    "Initializer",
    "MaxInformation",
    "MaxLength",
    "MinStandardError",
    "RandomStart",
    "Randomesque",
    "Selector",
    "Stopper",
    "SympsonHetter",
]

FloatArray = npt.NDArray[np.float64]
N_DRAWS = 8  # uniforms available to a stage at each step


@dataclass(frozen=True, slots=True, eq=False)
class CatContext:
    """What a stage sees at one step of a test.

    Attributes
    ----------
    bank
        The item bank.
    administered
        Bank positions of the items given so far, in order.
    responses
        The 0/1 answers to them.
    theta, se
        The current ability estimate and its standard error.
    step
        Number of items administered so far.
    draws
        ``N_DRAWS`` uniforms in [0, 1) for this step, from the counter-based stream.
    available
        Boolean mask of the items the test may still use (default: all not administered).
    key
        ``(seed, candidate)`` of the session, for stages that need draws keyed by item
        rather than by step (:class:`SympsonHetter`).
    """

    bank: ItemBank
    administered: tuple[int, ...]
    responses: tuple[int, ...]
    theta: float
    se: float
    step: int
    draws: FloatArray = field(default_factory=lambda: np.full(N_DRAWS, 0.5))
    available: npt.NDArray[np.bool_] | None = None
    key: tuple[int, int] = (0, 0)

    def free(self) -> npt.NDArray[np.bool_]:
        """Items that may still be selected."""
        mask = (
            np.ones(self.bank.n_items, dtype=bool)
            if self.available is None
            else self.available.copy()
        )
        if self.administered:
            mask[list(self.administered)] = False
        return mask


@dataclass(frozen=True, slots=True)
class Estimate:
    """An ability estimate and its standard error."""

    theta: float
    se: float


# ---------------------------------------------------------------- interfaces
class Initializer(abc.ABC):
    """Chooses the starting ability."""

    @abc.abstractmethod
    def initialize(self, draw: float) -> float:
        """Starting ability, given one uniform ``draw`` in [0, 1)."""


class Selector(abc.ABC):
    """Chooses the next item."""

    @abc.abstractmethod
    def select(self, ctx: CatContext) -> int | None:
        """Bank position of the next item, or None when no item is left."""


class Estimator(abc.ABC):
    """Estimates the ability from the answers so far."""

    @abc.abstractmethod
    def estimate(self, ctx: CatContext) -> Estimate:
        """The ability estimate after the answers in ``ctx``."""


class Stopper(abc.ABC):
    """Decides when the test ends."""

    @abc.abstractmethod
    def stop(self, ctx: CatContext) -> bool:
        """True when the test is over."""


# ---------------------------------------------------------------- initializers
@dataclass(frozen=True, slots=True)
class FixedStart(Initializer):
    """Always start at ``theta``."""

    theta: float = 0.0

    def initialize(self, draw: float) -> float:
        return float(self.theta)


@dataclass(frozen=True, slots=True)
class RandomStart(Initializer):
    """Start at a normal draw ``N(mean, sd)`` (spreads first-item exposure)."""

    mean: float = 0.0
    sd: float = 0.5

    def initialize(self, draw: float) -> float:
        u = min(max(draw, 1e-12), 1 - 1e-12)
        return float(self.mean + self.sd * ndtri(u))


# ---------------------------------------------------------------- selectors
def _information(ctx: CatContext) -> FloatArray:
    b = ctx.bank
    return models.information(ctx.theta, b.a, b.b, b.c)


def _ranked(ctx: CatContext) -> npt.NDArray[np.intp]:
    """Free items by decreasing information at θ, ties in bank order."""
    free = np.flatnonzero(ctx.free())
    info = _information(ctx)[free]
    return free[np.argsort(-info, kind="stable")]


@dataclass(frozen=True, slots=True)
class MaxInformation(Selector):
    """The free item of highest Fisher information at the current ability (ties: bank order)."""

    def select(self, ctx: CatContext) -> int | None:
        ranked = _ranked(ctx)
        return int(ranked[0]) if len(ranked) else None


@dataclass(frozen=True, slots=True)
class Randomesque(Selector):
    """Uniformly one of the ``n`` most informative free items (Kingsbury & Zara, 1989)."""

    n: int = 5

    def __post_init__(self) -> None:
        if self.n < 1:
            raise DataError(f"n must be >= 1, got {self.n}", field="n")

    def select(self, ctx: CatContext) -> int | None:
        ranked = _ranked(ctx)[: self.n]
        if not len(ranked):
            return None
        return int(ranked[min(int(ctx.draws[0] * len(ranked)), len(ranked) - 1)])


@dataclass(frozen=True, slots=True)
class AStratified(Selector):
    """a-stratified selection (Chang & Ying, 1999).

    Items are split into ``n_strata`` strata of increasing discrimination; the test's
    ``test_length`` items are shared equally among them, low-``a`` strata first; within
    the current stratum the free item with ``b`` closest to θ is chosen (ties: bank
    order). When a stratum runs out, the next one is used.
    """

    n_strata: int = 4
    test_length: int = 20

    def __post_init__(self) -> None:
        if self.n_strata < 1 or self.test_length < 1:
            raise DataError("n_strata and test_length must be >= 1", field="n_strata")

    def select(self, ctx: CatContext) -> int | None:
        free = ctx.free()
        if not free.any():
            return None
        order = np.argsort(ctx.bank.a, kind="stable")
        strata = np.empty(ctx.bank.n_items, dtype=np.int64)
        strata[order] = np.arange(ctx.bank.n_items) * self.n_strata // ctx.bank.n_items
        per = max(1, -(-self.test_length // self.n_strata))
        wanted = min(ctx.step // per, self.n_strata - 1)
        for s in [*range(wanted, self.n_strata), *range(wanted - 1, -1, -1)]:
            cand = np.flatnonzero(free & (strata == s))
            if len(cand):
                dist = np.abs(ctx.bank.b[cand] - ctx.theta)
                return int(cand[np.argmin(dist)])
        return None


@dataclass(frozen=True, slots=True, eq=False)
class SympsonHetter(Selector):
    """Sympson–Hetter exposure control around a base selector.

    Each item has a control parameter ``k`` in [0, 1] (``k`` maps item ids to it; items
    not in the mapping have 1): the base selector's choice is administered with
    probability ``k``; otherwise it is blocked for this candidate for the rest of the
    test and the base selector chooses again. The accept/reject draw is keyed by
    (session, item), not by step, so an item rejected once stays rejected — the classic
    procedure — while the rule remains a pure function of its context. After
    ``max_tries`` rejections the last choice is kept. ``k`` comes from
    :func:`pixirt.cat.sympson_hetter_parameters` or is given.
    """

    base: Selector
    k: Mapping[Any, float] = field(default_factory=dict)
    max_tries: int = 64

    def __post_init__(self) -> None:
        for item, value in self.k.items():
            if not (0.0 <= float(value) <= 1.0):
                raise DataError(
                    f"exposure parameter of {item!r} must be in [0, 1], got {value!r}", field="k"
                )

    def select(self, ctx: CatContext) -> int | None:
        ids = ctx.bank.item_ids
        mask = ctx.free()
        choice: int | None = None
        seed, candidate = ctx.key
        for _ in range(self.max_tries):
            sub = CatContext(
                ctx.bank,
                ctx.administered,
                ctx.responses,
                ctx.theta,
                ctx.se,
                ctx.step,
                ctx.draws,
                mask,
                ctx.key,
            )
            choice = self.base.select(sub)
            if choice is None:
                return None
            u = float(streams.uniform(seed, "cat.sympson-hetter", candidate, choice))
            if u < float(self.k.get(ids[choice], 1.0)):
                return choice
            mask = mask.copy()
            mask[choice] = False
            if not mask.any():
                return choice
        return choice


# ---------------------------------------------------------------- estimators
def _loglik_grid(ctx: CatContext, grid: FloatArray) -> FloatArray:
    items = np.asarray(ctx.administered, dtype=np.int64)
    y = np.asarray(ctx.responses, dtype=np.float64)
    b = ctx.bank
    ll = models.log_likelihood(y[None, :], grid[:, None], b.a[items], b.b[items], b.c[items])
    return np.asarray(ll.sum(axis=1), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class EAP(Estimator):
    """Expected a posteriori ability under a normal prior, on ``n_quad`` equally spaced nodes."""

    prior_mean: float = 0.0
    prior_sd: float = 1.0
    n_quad: int = 61
    theta_range: tuple[float, float] = (-6.0, 6.0)

    def estimate(self, ctx: CatContext) -> Estimate:
        grid = np.linspace(*self.theta_range, self.n_quad)
        log_post = _loglik_grid(ctx, grid) - 0.5 * ((grid - self.prior_mean) / self.prior_sd) ** 2
        w = np.exp(log_post - log_post.max())
        w /= w.sum()
        mean = float(w @ grid)
        return Estimate(mean, float(np.sqrt(max(w @ (grid - mean) ** 2, 0.0))))


def _newton(
    ctx: CatContext, prior_sd: float | None, prior_mean: float, bounds: tuple[float, float]
) -> Estimate:
    """Newton–Raphson with step halving on the (penalized) log-likelihood; SE from the observed information."""
    items = np.asarray(ctx.administered, dtype=np.int64)
    y = np.asarray(ctx.responses, dtype=np.float64)
    a, bb, c = ctx.bank.a[items], ctx.bank.b[items], ctx.bank.c[items]
    lo, hi = bounds

    def objective(t: float) -> float:
        val = float(models.log_likelihood(y, t, a, bb, c).sum())
        return val - (0.5 * ((t - prior_mean) / prior_sd) ** 2 if prior_sd else 0.0)

    def derivs(t: float) -> tuple[float, float]:
        s = expit(a * (t - bb))
        p = c + (1 - c) * s
        dp = a * (1 - c) * s * (1 - s)
        grad = float(np.sum((y - p) * dp / (p * (1 - p))))
        info = float(np.sum(dp**2 / (p * (1 - p))))
        if prior_sd:
            grad -= (t - prior_mean) / prior_sd**2
            info += 1 / prior_sd**2
        return grad, info

    t = float(np.clip(ctx.theta, lo, hi))
    for _ in range(100):
        grad, info = derivs(t)
        step = grad / max(info, 1e-10)
        new = float(np.clip(t + step, lo, hi))
        f0 = objective(t)
        while objective(new) < f0 - 1e-12 and abs(new - t) > 1e-10:
            new = t + (new - t) / 2
        if abs(new - t) < 1e-8:
            t = new
            break
        t = new
    _, info = derivs(t)
    return Estimate(t, float(1 / np.sqrt(info)) if info > 0 else float("inf"))


@dataclass(frozen=True, slots=True)
class MAP(Estimator):
    """Maximum a posteriori ability under a normal prior (Newton with step halving)."""

    prior_mean: float = 0.0
    prior_sd: float = 1.0
    bounds: tuple[float, float] = (-6.0, 6.0)

    def estimate(self, ctx: CatContext) -> Estimate:
        if not ctx.administered:
            return Estimate(self.prior_mean, self.prior_sd)
        return _newton(ctx, self.prior_sd, self.prior_mean, self.bounds)


@dataclass(frozen=True, slots=True)
class MLE(Estimator):
    """Maximum-likelihood ability, kept within ``bounds``.

    With only right (or only wrong) answers the likelihood has no maximum: the estimate
    is the upper (lower) bound, as catsim does, and its SE the inverse root information there.
    """

    bounds: tuple[float, float] = (-6.0, 6.0)

    def estimate(self, ctx: CatContext) -> Estimate:
        if not ctx.administered:
            return Estimate(float(np.clip(ctx.theta, *self.bounds)), float("inf"))
        y = np.asarray(ctx.responses)
        if y.all() or not y.any():
            t = self.bounds[1] if y.all() else self.bounds[0]
            items = np.asarray(ctx.administered, dtype=np.int64)
            b = ctx.bank
            info = float(models.information(t, b.a[items], b.b[items], b.c[items]).sum())
            return Estimate(float(t), float(1 / np.sqrt(info)) if info > 0 else float("inf"))
        return _newton(ctx, None, 0.0, self.bounds)


# ---------------------------------------------------------------- stoppers
@dataclass(frozen=True, slots=True)
class MaxLength(Stopper):
    """Stop after ``n`` items (or when the bank is exhausted)."""

    n: int = 20

    def stop(self, ctx: CatContext) -> bool:
        return ctx.step >= self.n or not ctx.free().any()


@dataclass(frozen=True, slots=True)
class MinStandardError(Stopper):
    """Stop when the SE falls to ``se`` (after ``min_items``), or at ``max_items``, or when the bank is exhausted."""

    se: float = 0.3
    min_items: int = 1
    max_items: int = 60

    def stop(self, ctx: CatContext) -> bool:
        if ctx.step >= self.max_items or not ctx.free().any():
            return True
        return ctx.step >= self.min_items and ctx.se <= self.se
