"""Issue 18, point 1: the new population's latent mean and variance in ``fixed=`` calibration.

Pix calibrates new challenges on a new population with the old challenges held at
their bank values (mirt: fixed-parameter calibration with ``GroupPars`` free). The
new group was held at the bank's N(0, 1) scale, which biases every new item when the
new group differs. No R here: tolerances from simulation recovery (known truth).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pixirt
from pixirt.calibration import calibrate
from pixirt.item_bank import ItemBank
from pixirt.simulation import simulate_answers


def _bank(n_items: int, seed: int) -> ItemBank:
    rng = np.random.default_rng(seed)
    return ItemBank.from_frame(
        pd.DataFrame(
            {
                "item_id": [f"i{j:02d}" for j in range(n_items)],
                "a": np.exp(rng.normal(0.1, 0.25, n_items)),
                "b": rng.normal(0.3, 1.0, n_items),
            }
        )
    )


@pytest.fixture(scope="module")
def new_population() -> tuple[ItemBank, pixirt.ResponseLog]:
    """30 items: 15 old (in the bank) and 15 new; 3,000 new persons ~ N(0.8, 1.2²)."""
    truth = _bank(30, 18)
    sim = simulate_answers(
        truth, 3_000, answers_per_person=30, theta_mean=0.8, theta_sd=1.2, seed=5
    )
    return truth, sim.log


def test_fixed_calibration_estimates_the_new_groups_mean_and_variance(
    new_population: tuple[ItemBank, pixirt.ResponseLog],
) -> None:
    truth, log = new_population
    old = truth.subset(list(truth.item_ids[:15]))
    new_ids = list(truth.item_ids[15:])
    result = calibrate(log, "2PL", fixed=old, progress=False)
    assert result.converged
    # the new group's scale, on the bank's: sampling error about 0.03 (mean), 0.06 (var)
    assert result.latent_mean == pytest.approx(0.8, abs=0.1)
    assert result.latent_variance == pytest.approx(1.44, abs=0.2)
    # the bank keeps the old scale: its new items are on it
    assert (result.bank.latent_mean, result.bank.latent_variance) == (0.0, 1.0)
    got = result.to_frame().loc[new_ids]
    rmse_b = float(np.sqrt(np.mean((got["b"].to_numpy() - truth.b[15:]) ** 2)))
    rmse_a = float(np.sqrt(np.mean((got["a"].to_numpy() - truth.a[15:]) ** 2)))
    assert rmse_b < 0.12 and rmse_a < 0.12  # held at N(0, 1): rmse_b ≈ 0.8
    assert result.n_parameters == 2 * 15 + 2


def test_holding_the_scale_is_still_possible(
    new_population: tuple[ItemBank, pixirt.ResponseLog],
) -> None:
    truth, log = new_population
    old = truth.subset(list(truth.item_ids[:15]))
    held = calibrate(log, "2PL", fixed=old, fixed_scale="hold", progress=False)
    assert (held.latent_mean, held.latent_variance) == (0.0, 1.0)
    assert held.n_parameters == 2 * 15
