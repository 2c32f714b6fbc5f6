"""A generic adaptive test assembled from stages, as a pure, resumable step function.

:class:`AdaptiveTest` binds a bank to an initializer, a selector, an estimator and a
stopper (:mod:`pixirt.cat._stages`). Its state, :class:`AdaptiveState`, is a frozen
value with an exact JSON round trip; every random number a stage uses is a pure
function of ``(seed, candidate, step)`` (:mod:`pixirt._streams`), so a session resumed
from JSON continues exactly as it would have.

>>> import numpy as np, pandas as pd
>>> from pixirt import ItemBank
>>> from pixirt.cat._stages import EAP, MaxInformation, MaxLength
>>> bank = ItemBank.from_frame(pd.DataFrame({"item_id": list("abcdef"), "a": 1.0, "b": np.linspace(-2, 2, 6)}))
>>> test = AdaptiveTest(bank, MaxInformation(), EAP(), MaxLength(3))
>>> state = test.start(seed=1)
>>> item = test.next_item(state)
>>> state = test.record(state, item, 1)
>>> state.administered == (item,)
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from pixirt import _streams as streams
from pixirt import models
from pixirt._item_bank import ItemBank
from pixirt._json import from_dict, to_dict
from pixirt._renamed import renamed
from pixirt.cat._stages import (
    N_DRAWS,
    CatContext,
    Estimator,
    FixedStart,
    Initializer,
    Selector,
    Stopper,
)
from pixirt.exceptions import DataError, PixirtError

__all__ = ["AdaptiveState", "AdaptiveTest", "sympson_hetter_parameters"]


@dataclass(frozen=True, slots=True)
class AdaptiveState:
    """Where a generic adaptive test stands.

    Attributes
    ----------
    bank_hash
        Hash of the bank the test was started with.
    seed, candidate
        Keys of the counter-based random stream.
    administered, responses
        Bank positions of the items given and the 0/1 answers.
    theta, se
        Current estimate.
    history
        ``(theta, se)`` after each answer, starting with the initial values.
    """

    bank_hash: str
    seed: int
    candidate: int
    administered: tuple[int, ...] = ()
    responses: tuple[int, ...] = ()
    theta: float = 0.0
    se: float = float("inf")
    history: tuple[tuple[float, float], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (the :mod:`pixirt._json` convention: infinite SEs as ``"inf"``)."""
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AdaptiveState:
        """Rebuild a state from :meth:`to_dict` output.

        Raises
        ------
        DataError
            On a missing, unknown or ill-typed field, naming it.
        """
        return from_dict(cls, data)


@dataclass(frozen=True, slots=True, eq=False)
class AdaptiveTest:
    """A generic CAT: bank + initializer + selector + estimator + stopper.

    Parameters
    ----------
    bank
        The calibrated items.
    selector, estimator, stopper
        The stages (see :mod:`pixirt.cat._stages`).
    initializer
        Starting ability (default: 0).
    """

    bank: ItemBank
    selector: Selector
    estimator: Estimator
    stopper: Stopper
    initializer: Initializer = field(default_factory=FixedStart)

    def start(self, *, seed: int = 0, candidate: int = 0) -> AdaptiveState:
        """A new session for ``candidate`` (the index keying its random numbers)."""
        if seed < 0 or candidate < 0:
            raise DataError("seed and candidate must be >= 0", field="seed")
        theta = self.initializer.initialize(float(streams.uniform(seed, "cat.start", candidate)))
        return AdaptiveState(
            bank_hash=self.bank.hash,
            seed=int(seed),
            candidate=int(candidate),
            theta=theta,
            history=((theta, float("inf")),),
        )

    def _context(self, state: AdaptiveState) -> CatContext:
        if state.bank_hash != self.bank.hash:
            raise PixirtError(
                f"this session was started on bank {state.bank_hash[:12]}, not {self.bank.hash[:12]}"
            )
        step = len(state.administered)
        draws = streams.uniform(
            state.seed, "cat.select", state.candidate, step * N_DRAWS + np.arange(N_DRAWS)
        )
        return CatContext(
            self.bank,
            state.administered,
            state.responses,
            state.theta,
            state.se,
            step,
            draws,
            key=(state.seed, state.candidate),
        )

    def next_item(self, state: AdaptiveState) -> int | None:
        """Bank position of the next item, or None when the test is over."""
        ctx = self._context(state)
        if self.stopper.stop(ctx):
            return None
        return self.selector.select(ctx)

    def record(self, state: AdaptiveState, item: int, correct: int | bool) -> AdaptiveState:
        """The state after answering ``item``; it must be the item :meth:`next_item` serves."""
        expected = self.next_item(state)
        if expected is None:
            raise PixirtError("the test is over: no answer can be recorded")
        if int(item) != expected:
            raise PixirtError(f"item {item} was not the one served ({expected})")
        administered = (*state.administered, int(item))
        responses = (*state.responses, int(bool(correct)))
        ctx = CatContext(
            self.bank, administered, responses, state.theta, state.se, len(administered)
        )
        est = self.estimator.estimate(ctx)
        return AdaptiveState(
            bank_hash=state.bank_hash,
            seed=state.seed,
            candidate=state.candidate,
            administered=administered,
            responses=responses,
            theta=est.theta,
            se=est.se,
            history=(*state.history, (est.theta, est.se)),
        )

    def simulate(
        self,
        theta: float,
        *,
        seed: int = 0,
        candidate: int = 0,
        respond: Callable[[int, int], int] | None = None,
    ) -> AdaptiveState:
        """Run a whole test for a simulated candidate of true ability ``theta``.

        Answers follow the bank's model at ``theta`` using the counter-based stream
        ``"cat.answer"``, unless ``respond(item, step)`` is given.
        """
        state = self.start(seed=seed, candidate=candidate)
        bank = self.bank
        while (item := self.next_item(state)) is not None:
            step = len(state.administered)
            if respond is not None:
                y = int(respond(item, step))
            else:
                p = float(models.probability(theta, bank.a[item], bank.b[item], bank.c[item]))
                y = int(float(streams.uniform(seed, "cat.answer", candidate, step)) < p)
            state = self.record(state, item, y)
        return state


@renamed(thetas="theta")
def sympson_hetter_parameters(
    test: AdaptiveTest,
    theta: npt.ArrayLike,
    *,
    r_max: float = 0.25,
    n_iter: int = 10,
    seed: int = 0,
) -> dict[Any, float]:
    """Calibrate Sympson–Hetter exposure parameters by simulation (Sympson & Hetter, 1985).

    Each round simulates the test (with the current parameters around ``test.selector``)
    for the candidates of abilities ``theta`` (formerly ``thetas``). An item administered in a share ``P(A)`` of
    the tests was selected in ``P(S) = P(A) / k`` of them, so the classic update
    ``k = min(1, r_max / P(S))`` is ``k ← min(1, k · r_max / P(A))``; items never
    administered keep ``k``. This is offline tuning: it loops over the simulated
    candidates (hundreds are enough) and is not a hot path.

    Returns
    -------
    dict
        Item id → ``k``, to pass to :class:`~pixirt.cat.SympsonHetter`.
    """
    from pixirt.cat._stages import SympsonHetter

    th = np.asarray(theta, dtype=np.float64)
    n_items = test.bank.n_items
    k = np.ones(n_items)
    base = test.selector.base if isinstance(test.selector, SympsonHetter) else test.selector
    for it in range(n_iter):
        selector = SympsonHetter(
            base, dict(zip(test.bank.item_ids.tolist(), k.tolist(), strict=True))
        )
        current = AdaptiveTest(test.bank, selector, test.estimator, test.stopper, test.initializer)
        selected = np.zeros(n_items)
        for j, t in enumerate(th):  # offline: a loop over simulated candidates
            state = current.simulate(float(t), seed=seed + it, candidate=j)
            selected[list(state.administered)] += 1
        share = selected / max(len(th), 1)
        k = np.where(share > 0, np.minimum(1.0, k * r_max / np.maximum(share, 1e-12)), k)
    return dict(zip(test.bank.item_ids.tolist(), (float(x) for x in k), strict=True))
