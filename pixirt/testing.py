"""Conformance checks for CAT plug-ins: every selector, estimator, stopper and initializer passes one suite.

Use them in your own tests::

    from pixirt.testing import check_selector
    check_selector(MySelector())

Each check runs the stage on small banks and contexts and raises ``AssertionError``
with a message saying which contract was broken. The contracts:

- **selector**: returns a free item's position (an int in range, not administered,
  allowed by ``available``) or None exactly when no item is free; is a pure function
  of its context (same context, same answer); does not modify the context's arrays.
- **estimator**: returns a finite θ and a positive SE for mixed answers; is pure; with
  more right answers on the same items, θ is not lower (monotone in the score).
- **stopper**: returns a bool; stops when no item is free; is pure.
- **initializer**: returns a finite float, the same for the same draw.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt.cat._stages import N_DRAWS, CatContext, Estimator, Initializer, Selector, Stopper

__all__ = ["check_estimator", "check_initializer", "check_selector", "check_stopper"]


def _banks() -> list[ItemBank]:
    rng = np.random.default_rng(2026)
    out = []
    for n in (1, 7, 60):
        frame = pd.DataFrame(
            {
                "item_id": [f"i{j}" for j in range(n)],
                "a": np.exp(rng.normal(0, 0.3, n)),
                "b": rng.normal(0, 1, n),
            }
        )
        out.append(ItemBank.from_frame(frame, model="2PL"))
    return out


def _contexts(bank: ItemBank) -> list[CatContext]:
    rng = np.random.default_rng(bank.n_items)
    ctxs = []
    for step in sorted({0, 1, bank.n_items // 2, bank.n_items}):
        items = tuple(int(i) for i in rng.permutation(bank.n_items)[:step])
        answers = tuple(int(x) for x in rng.integers(0, 2, step))
        for theta in (-2.5, 0.0, 1.7):
            draws = rng.random(N_DRAWS)
            ctxs.append(CatContext(bank, items, answers, theta, 0.8, step, draws))
    # an availability mask that forbids half the items
    mask = np.zeros(bank.n_items, dtype=bool)
    mask[::2] = True
    ctxs.append(CatContext(bank, (), (), 0.0, 1.0, 0, rng.random(N_DRAWS), mask))
    return ctxs


def check_selector(selector: Selector) -> None:
    """Check the selector contract (see the module doc)."""
    for bank in _banks():
        for ctx in _contexts(bank):
            before = ctx.draws.copy()
            choice = selector.select(ctx)
            free = ctx.free()
            if not free.any():
                assert choice is None, f"{selector!r} returned {choice} with no free item"
                continue
            assert choice is not None, (
                f"{selector!r} returned None with {int(free.sum())} free items"
            )
            assert isinstance(choice, int | np.integer), (
                f"{selector!r} returned {type(choice).__name__}"
            )
            assert 0 <= choice < bank.n_items, f"{selector!r} returned {choice}, out of range"
            assert free[choice], (
                f"{selector!r} returned item {choice}, administered or not available"
            )
            assert selector.select(ctx) == choice, (
                f"{selector!r} is not a pure function of its context"
            )
            np.testing.assert_array_equal(
                ctx.draws, before, err_msg=f"{selector!r} modified the draws"
            )


def check_estimator(estimator: Estimator) -> None:
    """Check the estimator contract (see the module doc)."""
    bank = _banks()[2]
    items = tuple(range(12))
    patterns = [tuple(int(j < k) for j in range(12)) for k in range(1, 12)]
    thetas = []
    for answers in patterns:
        ctx = CatContext(bank, items, answers, 0.0, 1.0, len(items))
        est = estimator.estimate(ctx)
        assert np.isfinite(est.theta), f"{estimator!r} gave θ = {est.theta} for mixed answers"
        assert est.se > 0 and np.isfinite(est.se), (
            f"{estimator!r} gave SE = {est.se} for mixed answers"
        )
        assert estimator.estimate(ctx) == est, (
            f"{estimator!r} is not a pure function of its context"
        )
        thetas.append(est.theta)
    # answers ordered by the items' difficulty: more right answers never lower θ
    order = np.argsort(bank.b[list(items)])
    sorted_items = tuple(items[i] for i in order)
    mono = []
    for k in range(1, 12):
        answers = tuple(int(j < k) for j in range(12))
        mono.append(estimator.estimate(CatContext(bank, sorted_items, answers, 0.0, 1.0, 12)).theta)
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(mono)), (
        f"{estimator!r}: θ decreased when a wrong answer became right: {np.round(mono, 3).tolist()}"
    )


def check_stopper(stopper: Stopper) -> None:
    """Check the stopper contract (see the module doc)."""
    for bank in _banks():
        for ctx in _contexts(bank):
            out = stopper.stop(ctx)
            assert isinstance(out, bool | np.bool_), (
                f"{stopper!r} returned {type(out).__name__}, not bool"
            )
            if not ctx.free().any():
                assert out, f"{stopper!r} did not stop with no item left"
            assert stopper.stop(ctx) == out, f"{stopper!r} is not a pure function of its context"


def check_initializer(initializer: Initializer) -> None:
    """Check the initializer contract (see the module doc)."""
    for draw in (0.0, 1e-9, 0.25, 0.5, 0.999999):
        theta = initializer.initialize(draw)
        assert np.isfinite(theta), f"{initializer!r} gave {theta} for draw {draw}"
        assert initializer.initialize(draw) == theta, (
            f"{initializer!r} is not a function of its draw"
        )
