"""The v3 capacity estimator: Pix's EAP on a fixed grid (``pix-rules.md`` §3.2).

Pix estimates the candidate's capacity after every answer by an expected a posteriori
(EAP) on a fixed grid, with three particularities reproduced here exactly:

- the **prior** is a normal density of variance 1.5 **re-centred on the latest estimate**
  before each answer (not a fixed population prior);
- the **likelihood is cumulative** over all answers so far, so the posterior after answer
  *n* is ``L_n(θ) · N(θ; θ_{n−1}, 1.5)``;
- the new estimate is the posterior mean, then **capped**: it may move at most
  ``gap = v`` from the previous estimate while ``|θ_prev| < v``, else ``|θ_prev · v|``
  (``v`` = ``variation_percent``). The cap makes the estimate non-monotone in the
  answers (a documented quirk, tested as such).

The error rate is the posterior standard deviation around the (capped) estimate, minus
Pix's class-interval correction ``(9/80)² / 12``, i.e. ``(step / 2)² / 12`` for the
default grid (the textbook Sheppard correction would use the full step). Historical
options: the cap applied only while the 0-based answer index is ``≤
variation_percent_until``; "double measures" processed two answers together, multiplying
the likelihood by the mean of their two probabilities, for answers with index below
``double_measures_until`` (never the last answer).

The model is the 2PL without the 1.7 constant, ``P = 1 / (1 + exp(a (b − θ)))``.

Every function is vectorised over candidates: states hold arrays of shape
``(n_candidates,)`` and ``(n_candidates, n_grid)``, so a simulator can step thousands of
candidates at once with :meth:`CapacityModel.update`. Each likelihood factor is computed
with Pix's own arithmetic (``1 − P`` included) and accumulated as a sum of logarithms:
the same numbers as Pix's running product to ~1e-15, without its underflow on long tests.

Examples
--------
>>> import numpy as np
>>> model = CapacityModel(variation_percent=0.5)  # Pix's defaults otherwise
>>> h = model.history(a=[1.0], b=[0.0], correct=[True], initial=-3.0)
>>> round(float(h.capacity[-1]), 6), round(float(h.error_rate[-1]), 6)
(-1.785007, 1.121797)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from pixirt._renamed import renamed

if TYPE_CHECKING:
    from pixirt.rules import CapacityRules, RuleSet

__all__ = [
    "CapacityHistory",
    "CapacityModel",
    "CapacityState",
    "answer_log_likelihood",
    "capacity_grid",
    "class_interval_correction",
    "limit_variation",
    "posterior",
    "probability",
    "reward",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


# --------------------------------------------------------------------------- pure kernels
def capacity_grid(
    minimum: float = -9.0, maximum: float = 9.0, steps: int = 80, *, quirk: bool = True
) -> FloatArray:
    """The capacity grid.

    Parameters
    ----------
    minimum, maximum
        Grid bounds.
    steps
        Number of steps between them (80: step 0.225).
    quirk
        True: Pix's newest grid, built by adding the step while the value is below
        ``maximum``; floating-point accumulation gives 81 points, the last one
        8.99999999999999 instead of 9. False: ``steps + 1`` exactly spaced points.

    Returns
    -------
    numpy.ndarray
        The grid points, increasing.

    Examples
    --------
    >>> g = capacity_grid()
    >>> len(g), bool(g[-1] < 9.0)
    (81, True)
    >>> float(capacity_grid(quirk=False)[-1])
    9.0
    """
    if quirk:
        step = (maximum - minimum) / steps
        values: list[float] = []
        x = float(minimum)
        while x < maximum:
            values.append(x)
            x += step
        return np.asarray(values, dtype=np.float64)
    return np.linspace(minimum, maximum, steps + 1, dtype=np.float64)


def class_interval_correction(
    minimum: float = -9.0, maximum: float = 9.0, steps: int = 80
) -> float:
    """Pix's correction subtracted from the posterior variance: ``(step / 2)² / 12``.

    Parameters
    ----------
    minimum, maximum, steps
        The grid.

    Returns
    -------
    float
        ``(9/80)² / 12`` for the default grid (Pix's ``ERROR_RATE_CLASS_INTERVAL``).
    """
    half_step = (maximum - minimum) / steps / 2.0
    return half_step**2 / 12.0


def probability(theta: npt.ArrayLike, a: npt.ArrayLike, b: npt.ArrayLike) -> FloatArray:
    """Pix's 2PL probability of success, ``1 / (1 + exp(a (b − θ)))`` (broadcasting).

    Parameters
    ----------
    theta, a, b
        Capacity, discriminant and difficulty.

    Returns
    -------
    numpy.ndarray
        The probability, computed with Pix's formula.
    """
    z = np.asarray(np.multiply(a, np.subtract(b, theta, dtype=np.float64), dtype=np.float64))
    with np.errstate(over="ignore"):
        np.exp(z, out=z)
    z += 1.0
    np.reciprocal(z, out=z)
    return z


def reward(theta: npt.ArrayLike, a: npt.ArrayLike, b: npt.ArrayLike) -> FloatArray:
    """Pix's "reward" of a challenge: its Fisher information ``P (1 − P) a²``.

    Parameters
    ----------
    theta, a, b
        Capacity, discriminant and difficulty (broadcasting).

    Returns
    -------
    numpy.ndarray
        The information, computed exactly as Pix's ``getReward``.
    """
    a_ = np.asarray(a, dtype=np.float64)
    p = probability(theta, a_, b)
    out = np.subtract(1.0, p)  # in place from here: same operations, fewer temporaries
    out *= p
    out *= np.square(a_)
    return out


def answer_log_likelihood(
    grid: FloatArray, a: npt.ArrayLike, b: npt.ArrayLike, correct: npt.ArrayLike
) -> FloatArray:
    """Log-likelihood factor of one measure on the grid.

    Parameters
    ----------
    grid
        The capacity grid, shape ``(n_grid,)``.
    a, b, correct
        Shape ``(n,)`` for a single answer per candidate, or ``(n, k)`` for a measure of
        ``k`` answers processed together (historical double measure, ``k = 2``): the
        factor is then the *mean* of the ``k`` per-answer probabilities.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, n_grid)``: ``log P(θ)`` for a correct answer, ``log(1 − P(θ))`` else.
    """
    a_ = np.asarray(a, dtype=np.float64)
    b_ = np.asarray(b, dtype=np.float64)
    ok = np.asarray(correct, dtype=bool)
    if a_.ndim == 1:
        a_, b_, ok = a_[:, None], b_[:, None], ok[:, None]
    # Pix's own arithmetic: P = 1 / (1 + exp(a (b − θ))) and 1 − P for a wrong answer
    # (not log_expit, whose extra accuracy would move capacities by ~1e-10 from Pix's).
    p = probability(grid[None, None, :], a_[..., None], b_[..., None])  # (n, k, G)
    factor = np.where(ok[..., None], p, 1.0 - p)
    if factor.shape[1] > 1:
        factor = factor.sum(axis=1, keepdims=True) / factor.shape[1]
    with np.errstate(divide="ignore"):
        return np.asarray(np.log(factor[:, 0, :]), dtype=np.float64)


def posterior(
    log_likelihood: FloatArray, center: FloatArray, grid: FloatArray, variance: float
) -> FloatArray:
    """Normalised posterior on the grid: cumulative likelihood × normal prior around ``center``.

    Parameters
    ----------
    log_likelihood
        Shape ``(n, n_grid)``.
    center
        Prior means (the latest estimates), shape ``(n,)``.
    grid
        Shape ``(n_grid,)``.
    variance
        Prior variance (1.5).

    Returns
    -------
    numpy.ndarray
        Shape ``(n, n_grid)``, rows summing to 1.
    """
    log_post = log_likelihood - np.square(grid[None, :] - center[:, None]) / (2.0 * variance)
    log_post = log_post - log_post.max(axis=1, keepdims=True)
    w = np.exp(log_post)
    return np.asarray(w / w.sum(axis=1, keepdims=True), dtype=np.float64)


def limit_variation(
    previous: npt.ArrayLike, raw: npt.ArrayLike, variation_percent: npt.ArrayLike
) -> FloatArray:
    """Pix's variation cap (``_limitCapacityVariation``).

    Parameters
    ----------
    previous
        Previous estimates.
    raw
        New uncapped estimates.
    variation_percent
        ``v``; where it is 0 the raw value is returned (Pix treats 0 as "no cap").

    Returns
    -------
    numpy.ndarray
        ``min(raw, prev + gap)`` if ``raw > prev`` else ``max(raw, prev − gap)``, with
        ``gap = v`` when ``−v < prev < v`` and ``|prev · v|`` otherwise.

    Examples
    --------
    >>> float(limit_variation(-3.0, -1.0, 0.5))
    -1.5
    >>> float(limit_variation(0.2, 1.0, 0.5))
    0.7
    """
    prev = np.asarray(previous, dtype=np.float64)
    new = np.asarray(raw, dtype=np.float64)
    v = np.asarray(variation_percent, dtype=np.float64)
    small = (-v < prev) & (prev < v)
    gap = np.where(small, v, np.abs(prev * v))
    capped = np.where(new > prev, np.minimum(new, prev + gap), np.maximum(new, prev - gap))
    return np.asarray(np.where(v > 0, capped, new), dtype=np.float64)


# --------------------------------------------------------------------------- state
_BLOCK = 2048  # rows per block of CapacityModel.update_rows (row results do not depend on it)


@dataclass(frozen=True, slots=True)
class CapacityState:
    """The estimator's state for a batch of candidates (immutable; ``update`` returns a new one).

    Attributes
    ----------
    capacity
        Current estimates, shape ``(n,)``.
    error_rate
        Current error rates, shape ``(n,)``.
    raw_capacity
        Last uncapped posterior means (equal to ``capacity`` before any answer).
    log_likelihood
        Cumulative log-likelihood on the grid, shape ``(n, n_grid)``.
    n_answers
        Answers processed so far, shape ``(n,)``.
    """

    capacity: FloatArray
    error_rate: FloatArray
    raw_capacity: FloatArray
    log_likelihood: FloatArray
    n_answers: IntArray

    @property
    def n_candidates(self) -> int:
        """Batch size."""
        return int(self.capacity.shape[0])


@dataclass(frozen=True, slots=True)
class CapacityHistory:
    """Capacity and error rate after each answer.

    For a batch, arrays have shape ``(n_candidates, n_answers)``; for one candidate,
    ``(n_answers,)``. Inside a historical double measure the estimate is only updated
    after the second answer, so the first answer of the pair repeats the previous
    values (``measured`` is False there).

    Attributes
    ----------
    capacity
        Capacity after each answer (capped when the rules cap it).
    error_rate
        Error rate after each answer.
    raw_capacity
        Uncapped posterior mean after each answer.
    measured
        Whether the estimate was recomputed at that answer.
    initial_capacity
        The starting capacity(ies).
    """

    capacity: FloatArray
    error_rate: FloatArray
    raw_capacity: FloatArray
    measured: BoolArray
    initial_capacity: FloatArray

    @property
    def final_capacity(self) -> FloatArray | float:
        """The last estimate (the initial capacity when there is no answer)."""
        if self.capacity.shape[-1] == 0:
            init = self.initial_capacity
            return float(init) if init.ndim == 0 else init
        last = self.capacity[..., -1]
        return float(last) if last.ndim == 0 else last

    @property
    def final_error_rate(self) -> FloatArray | float:
        """The last error rate (NaN when there is no answer: see ``error_rate_without_answers``)."""
        if self.error_rate.shape[-1] == 0:
            return (
                float("nan")
                if self.initial_capacity.ndim == 0
                else np.full(self.initial_capacity.shape, np.nan)
            )
        last = self.error_rate[..., -1]
        return float(last) if last.ndim == 0 else last

    @property
    def capped(self) -> BoolArray:
        """Where the variation cap changed the estimate."""
        return np.asarray(self.measured & (self.capacity != self.raw_capacity), dtype=np.bool_)


# --------------------------------------------------------------------------- the model
@dataclass(frozen=True, slots=True)
class CapacityModel:
    """Pix's v3 capacity estimator, parameterised as in a rule set's ``[capacity]`` table.

    Parameters
    ----------
    default_capacity
        Starting capacity (``defaultCandidateCapacity``, −3).
    prior_variance
        Variance of the re-centred normal prior (1.5).
    grid_min, grid_max, grid_steps, grid_quirk
        The grid (see :func:`capacity_grid`).
    variation_percent
        The variation cap ``v`` (0: no cap).
    variation_percent_until
        Last 0-based answer index the cap applies to; None: every answer.
    double_measures_until
        Answers with index below it are processed in pairs (0: never).
    error_rate_without_answers
        Error rate reported before any answer (5).
    """

    default_capacity: float = -3.0
    prior_variance: float = 1.5
    grid_min: float = -9.0
    grid_max: float = 9.0
    grid_steps: int = 80
    grid_quirk: bool = True
    variation_percent: float = 0.0
    variation_percent_until: int | None = None
    double_measures_until: int = 0
    error_rate_without_answers: float = 5.0
    grid: FloatArray = field(init=False, repr=False, compare=False)
    correction: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "grid",
            capacity_grid(self.grid_min, self.grid_max, self.grid_steps, quirk=self.grid_quirk),
        )
        object.__setattr__(
            self,
            "correction",
            class_interval_correction(self.grid_min, self.grid_max, self.grid_steps),
        )

    @classmethod
    def from_rules(cls, rules: RuleSet | CapacityRules) -> CapacityModel:
        """Build the estimator of a v3 rule set.

        Parameters
        ----------
        rules
            A :class:`~pixirt.rules.RuleSet` with a ``[capacity]`` table, or that table.

        Returns
        -------
        CapacityModel
            The estimator.
        """
        from pixirt.exceptions import RuleError
        from pixirt.rules import RuleSet

        cap = rules.capacity if isinstance(rules, RuleSet) else rules
        if cap is None:
            raise RuleError(
                "this rule set has no [capacity] table (v2 rule sets do not estimate a capacity)"
            )
        until = None if cap.variation_percent_until == "all" else int(cap.variation_percent_until)
        return cls(
            default_capacity=cap.default_capacity,
            prior_variance=cap.prior_variance,
            grid_min=cap.grid_min,
            grid_max=cap.grid_max,
            grid_steps=cap.grid_steps,
            grid_quirk=cap.grid_quirk,
            variation_percent=cap.variation_percent,
            variation_percent_until=until,
            double_measures_until=cap.double_measures_until,
            error_rate_without_answers=cap.error_rate_without_answers,
        )

    # -- batch stepping ---------------------------------------------------------------------
    @renamed(n_candidates="n")
    def initial_state(self, n: int = 1, capacity: npt.ArrayLike | None = None) -> CapacityState:
        """State before any answer.

        Parameters
        ----------
        n
            Batch size: the number of candidates (formerly ``n_candidates``; ignored when
            ``capacity`` is an array).
        capacity
            Starting capacities (scalar or ``(n,)``); default :attr:`default_capacity`.

        Returns
        -------
        CapacityState
            Flat likelihood, error rate :attr:`error_rate_without_answers`.
        """
        start = self.default_capacity if capacity is None else capacity
        cap = np.asarray(start, dtype=np.float64)
        if cap.ndim == 0:
            cap = np.full(n, float(cap))
        n = cap.shape[0]
        return CapacityState(
            capacity=cap.copy(),
            error_rate=np.full(n, self.error_rate_without_answers),
            raw_capacity=cap.copy(),
            log_likelihood=np.zeros((n, self.grid.shape[0])),
            n_answers=np.zeros(n, dtype=np.int64),
        )

    def update(
        self,
        state: CapacityState,
        a: npt.ArrayLike,
        b: npt.ArrayLike,
        correct: npt.ArrayLike,
        *,
        active: npt.ArrayLike | None = None,
    ) -> CapacityState:
        """Process one measure for every candidate of the batch.

        Parameters
        ----------
        state
            The current state.
        a, b, correct
            Shape ``(n,)`` (one answer each) or ``(n, 2)`` (a historical double measure).
        active
            Boolean ``(n,)``: candidates not active keep their state. Default: all.

        Returns
        -------
        CapacityState
            The new state. The variation cap uses each candidate's answer index
            (:attr:`CapacityState.n_answers`) against :attr:`variation_percent_until`.
        """
        a_ = np.asarray(a, dtype=np.float64)
        k = 1 if a_.ndim == 1 else int(a_.shape[1])
        ll = state.log_likelihood + answer_log_likelihood(self.grid, a_, b, correct)
        new, err, raw = self._estimate(ll, state.capacity, state.n_answers)
        if active is None:
            return CapacityState(new, err, raw, ll, state.n_answers + k)
        on = np.asarray(active, dtype=bool)
        return CapacityState(
            capacity=np.where(on, new, state.capacity),
            error_rate=np.where(on, err, state.error_rate),
            raw_capacity=np.where(on, raw, state.raw_capacity),
            log_likelihood=np.where(on[:, None], ll, state.log_likelihood),
            n_answers=np.where(on, state.n_answers + k, state.n_answers),
        )

    def _estimate(
        self, ll: FloatArray, prev: FloatArray, n_done: npt.NDArray[np.int64]
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """The estimate after an answer: the one place the EAP step is computed.

        From each row's cumulative log-likelihood ``ll``, its previous estimate ``prev``
        (the prior's centre) and its answers so far ``n_done`` (for the variation cap):
        the posterior on the grid (:func:`posterior`'s operations), its mean (the raw
        estimate), the variation cap, and the Sheppard-corrected error rate. Reductions
        are row by row (not BLAS), so a row's numbers do not depend on the others.
        """
        grid = self.grid[None, :]
        post = grid - prev[:, None]
        np.square(post, out=post)
        post /= 2.0 * self.prior_variance
        np.subtract(ll, post, out=post)
        post -= post.max(axis=1, keepdims=True)
        np.exp(post, out=post)
        post /= post.sum(axis=1, keepdims=True)
        raw = np.sum(post * grid, axis=1)
        v = np.full(len(prev), self.variation_percent)
        if self.variation_percent_until is not None:
            v = np.where(n_done <= self.variation_percent_until, v, 0.0)
        new = limit_variation(prev, raw, v)
        spread = grid - new[:, None]
        np.square(spread, out=spread)
        spread *= post
        var = np.sum(spread, axis=1)
        err = np.sqrt(np.maximum(var - self.correction, 0.0))
        return new, err, raw

    def update_rows(
        self,
        state: CapacityState,
        rows: npt.NDArray[np.intp],
        log_factor: FloatArray,
    ) -> None:
        """:meth:`update` of some rows (one answer each), **in place** in ``state``.

        Parameters
        ----------
        state
            The batch's state; the other rows keep theirs.
        rows
            ``(k,)`` the rows answering, sorted and distinct.
        log_factor
            ``(k, n_grid)``: each answer's log-likelihood factor (a row of
            :meth:`log_likelihood_table`, equal to what :meth:`update` adds).
        """
        for lo in range(0, len(rows), _BLOCK):  # blocks: the temporaries stay in cache
            r: npt.NDArray[np.intp] | slice = rows[lo : lo + _BLOCK]
            assert isinstance(r, np.ndarray)
            if len(r) and int(r[-1]) - int(r[0]) + 1 == len(r):  # a run of rows: views
                r = slice(int(r[0]), int(r[-1]) + 1)
            ll = state.log_likelihood[r]
            ll += log_factor[lo : lo + _BLOCK]
            new, err, raw = self._estimate(ll, state.capacity[r], state.n_answers[r])
            if not isinstance(r, slice):
                state.log_likelihood[r] = ll
            state.capacity[r] = new
            state.error_rate[r] = err
            state.raw_capacity[r] = raw
            state.n_answers[r] += 1

    # -- one candidate, one answer: the engine's hot path ---------------------------------------
    def log_likelihood_table(self, a: npt.ArrayLike, b: npt.ArrayLike) -> FloatArray:
        """Every challenge's log-likelihood factor on the grid, for a wrong and a right answer.

        Parameters
        ----------
        a, b
            Shape ``(n_items,)``: the bank's discriminants and difficulties.

        Returns
        -------
        numpy.ndarray
            Shape ``(2, n_items, n_grid)``: ``[0, i]`` is the factor of a wrong answer to
            challenge ``i``, ``[1, i]`` of a right one, computed by
            :func:`answer_log_likelihood` (so identical to what :meth:`update` adds).
        """
        a_ = np.asarray(a, dtype=np.float64)
        b_ = np.asarray(b, dtype=np.float64)
        return np.stack(
            [
                answer_log_likelihood(self.grid, a_, b_, np.zeros(a_.shape, dtype=bool)),
                answer_log_likelihood(self.grid, a_, b_, np.ones(a_.shape, dtype=bool)),
            ]
        )

    def update_single(self, state: CapacityState, log_factor: FloatArray) -> CapacityState:
        """:meth:`update` for one candidate and one answer, from its precomputed log factor.

        The same arithmetic as :meth:`update` (same numpy operations on the grid, the
        variation cap in scalar IEEE arithmetic), with fewer calls: the result is equal,
        bit for bit, to ``update(state, [a], [b], [correct])`` when ``log_factor`` is that
        answer's row of :meth:`log_likelihood_table`.

        Parameters
        ----------
        state
            A one-candidate state.
        log_factor
            Shape ``(n_grid,)``: the answer's log-likelihood factor.

        Returns
        -------
        CapacityState
            The new state.
        """
        out = CapacityState(
            state.capacity.copy(),
            state.error_rate.copy(),
            state.raw_capacity.copy(),
            state.log_likelihood.copy(),
            state.n_answers.copy(),
        )
        self.update_rows(out, np.zeros(1, dtype=np.intp), np.asarray(log_factor)[None, :])
        return out

    # -- whole histories ----------------------------------------------------------------------
    def history(
        self,
        a: npt.ArrayLike,
        b: npt.ArrayLike,
        correct: npt.ArrayLike,
        *,
        initial: npt.ArrayLike | None = None,
    ) -> CapacityHistory:
        """Capacity and error rate after each answer (Pix's ``getCapacityAndErrorRateHistory``).

        Parameters
        ----------
        a, b, correct
            Answers in the order given: shape ``(n_answers,)`` for one candidate or
            ``(n_candidates, n_answers)`` for a batch answering the same number of
            challenges. ``correct`` is True only for an ``ok`` answer.
        initial
            Starting capacity (scalar or per candidate); default :attr:`default_capacity`.

        Returns
        -------
        CapacityHistory
            One value per answer, with Pix's double measures and variation cap.
        """
        a_ = np.asarray(a, dtype=np.float64)
        b_ = np.asarray(b, dtype=np.float64)
        ok = np.asarray(correct, dtype=bool)
        if not (a_.shape == b_.shape == ok.shape) or a_.ndim not in (1, 2):
            raise ValueError(
                f"a, b and correct must have the same 1-D or 2-D shape, got {a_.shape}, {b_.shape}, {ok.shape}"
            )
        single = a_.ndim == 1
        if single:
            a_, b_, ok = a_[None, :], b_[None, :], ok[None, :]
        n_cand, n_ans = a_.shape
        init = np.asarray(self.default_capacity if initial is None else initial, dtype=np.float64)
        state = self.initial_state(n_cand, init if init.ndim else float(init))
        cap = np.empty((n_cand, n_ans))
        err = np.empty((n_cand, n_ans))
        raw = np.empty((n_cand, n_ans))
        measured = np.zeros(n_ans, dtype=bool)
        i = 0
        while i < n_ans:
            if self.double_measures_until > i and i + 1 < n_ans:
                cap[:, i], err[:, i], raw[:, i] = (
                    state.capacity,
                    state.error_rate,
                    state.raw_capacity,
                )
                state = self.update(state, a_[:, i : i + 2], b_[:, i : i + 2], ok[:, i : i + 2])
                i += 1
            else:
                state = self.update(state, a_[:, i], b_[:, i], ok[:, i])
            cap[:, i], err[:, i], raw[:, i] = state.capacity, state.error_rate, state.raw_capacity
            measured[i] = True
            i += 1
        meas = np.broadcast_to(measured, (n_cand, n_ans)).copy()
        start = init if init.ndim else np.full(n_cand, float(init))
        if single:
            return CapacityHistory(cap[0], err[0], raw[0], meas[0], np.asarray(start[0]))
        return CapacityHistory(cap, err, raw, meas, start)
