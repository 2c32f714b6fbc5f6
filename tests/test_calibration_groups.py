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
from pixirt import ItemBank
from pixirt.calibration import calibrate
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


# --------------------------------------------------------------------------- multiple groups
@pytest.fixture(scope="module")
def two_populations() -> tuple[ItemBank, pixirt.ResponseLog, pd.Series]:
    """20 shared items; 2,000 persons ~ N(0, 1) and 2,000 ~ N(0.8, 0.8²), 12 items each."""
    truth = _bank(20, 31)
    ref = simulate_answers(truth, 2_000, answers_per_person=12, seed=1).log.to_frame()
    foc = simulate_answers(
        truth, 2_000, answers_per_person=12, theta_mean=0.8, theta_sd=0.8, seed=2
    ).log.to_frame()
    ref["person_id"] = "r" + ref["person_id"].astype(str)
    foc["person_id"] = "f" + foc["person_id"].astype(str)
    log = pixirt.ResponseLog.from_frame(pd.concat([ref, foc], ignore_index=True))
    groups = pd.Series(
        np.where(pd.Series(log.person_ids).str.startswith("r"), "A", "B"),
        index=pd.Index(log.person_ids),
    )
    return truth, log, groups


def test_multiple_group_calibration_recovers_items_and_group_scales(
    two_populations: tuple[ItemBank, pixirt.ResponseLog, pd.Series],
) -> None:
    truth, log, groups = two_populations
    result = calibrate(log, "2PL", groups=groups, reference_group="A", tol=1e-6, progress=False)
    assert result.converged
    g = result.groups
    assert (
        g is not None and list(g["group"]) == ["A", "B"] and list(g["reference"]) == [True, False]
    )
    assert list(g["n_persons"]) == [2000, 2000]
    assert (g.loc[0, "mean"], g.loc[0, "variance"]) == (0.0, 1.0)
    assert g.loc[1, "mean"] == pytest.approx(0.8, abs=0.1)
    assert g.loc[1, "variance"] == pytest.approx(0.64, abs=0.12)
    got = result.to_frame().loc[truth.item_ids]
    assert float(np.sqrt(np.mean((got["b"] - truth.b) ** 2))) < 0.1
    assert float(np.sqrt(np.mean((got["a"] - truth.a) ** 2))) < 0.12
    assert result.n_parameters == 2 * 20 + 2
    # one group (N(0, 1) for all) fits worse and biases b: the groups matter
    single = calibrate(log, "2PL", tol=1e-6, progress=False)
    assert result.loglik > single.loglik + 10
    again = type(result).from_dict(result.to_dict())
    assert again.groups is not None
    pd.testing.assert_frame_equal(again.groups, g)


def test_a_groups_scale_given_the_items_equals_the_fixed_calibration(
    two_populations: tuple[ItemBank, pixirt.ResponseLog, pd.Series],
) -> None:
    """Given the items, a group's mean and variance depend on its own answers only:
    the multiple-group estimates of group B are the fixed= estimates on B alone."""
    _, log, groups = two_populations
    multi = calibrate(log, "2PL", groups=groups, reference_group="A", tol=1e-8, progress=False)
    frame = log.to_frame()
    only_b = pixirt.ResponseLog.from_frame(
        frame[frame["person_id"].isin(groups.index[groups == "B"])]
    )
    fixed = calibrate(only_b, "2PL", fixed=multi.bank, tol=1e-9, progress=False)
    assert multi.groups is not None
    assert fixed.latent_mean == pytest.approx(multi.groups.loc[1, "mean"], abs=1e-5)
    assert fixed.latent_variance == pytest.approx(multi.groups.loc[1, "variance"], abs=1e-5)


def test_groups_input_errors_name_the_field(
    two_populations: tuple[ItemBank, pixirt.ResponseLog, pd.Series],
) -> None:
    from pixirt.exceptions import DataError

    _, log, groups = two_populations
    with pytest.raises(DataError, match="no group") as info:
        calibrate(log, "2PL", groups=groups.iloc[:10], progress=False)
    assert info.value.field == "groups"
    with pytest.raises(DataError) as info:
        calibrate(log, "2PL", groups=groups, reference_group="Z", progress=False)
    assert info.value.field == "reference_group"


def test_partitioned_groups_equal_the_local_run(
    two_populations: tuple[ItemBank, pixirt.ResponseLog, pd.Series],
) -> None:
    from pixirt.calibration import ResponseSource

    _, log, groups = two_populations
    local = calibrate(log, "2PL", groups=groups, reference_group="A", progress=False)
    parts = calibrate(
        ResponseSource(log, partitions=3),
        "2PL",
        groups=groups,
        reference_group="A",
        progress=False,
    )
    assert parts.groups is not None and local.groups is not None
    np.testing.assert_allclose(parts.groups["mean"], local.groups["mean"], atol=1e-8)
    np.testing.assert_allclose(parts.groups["variance"], local.groups["variance"], atol=1e-8)
    assert list(parts.groups["n_persons"]) == [2000, 2000]
    np.testing.assert_allclose(parts.bank.b, local.bank.b, atol=1e-8)


def test_items_freed_per_group_recover_planted_dif() -> None:
    """The item nearest b = 0 is 0.8 harder for group B; freeing it per group finds the
    shift, and the likelihood-ratio test against the invariant fit (df 2) rejects."""
    from pixirt.calibration import compare_models
    from pixirt.exceptions import DataError

    truth = _bank(15, 41)
    k = int(np.argmin(np.abs(truth.b)))
    item = str(truth.item_ids[k])
    shifted = truth.with_parameters(b=truth.b + np.where(np.arange(15) == k, 0.8, 0.0))
    ref = simulate_answers(truth, 2_500, answers_per_person=15, seed=3).log.to_frame()
    foc = simulate_answers(
        shifted, 2_500, answers_per_person=15, theta_mean=-0.5, seed=4
    ).log.to_frame()
    ref["person_id"] = "r" + ref["person_id"].astype(str)
    foc["person_id"] = "f" + foc["person_id"].astype(str)
    log = pixirt.ResponseLog.from_frame(pd.concat([ref, foc], ignore_index=True))
    groups = pd.Series(
        np.where(pd.Series(log.person_ids).str.startswith("r"), "A", "B"),
        index=pd.Index(log.person_ids),
    )
    invariant = calibrate(log, "2PL", groups=groups, reference_group="A", progress=False, se="none")
    freed = calibrate(
        log,
        "2PL",
        groups=groups,
        reference_group="A",
        free_items=[item],
        progress=False,
        se="none",
    )
    got = freed.to_frame()
    assert f"{item}@B" in got.index and freed.n_items == 16
    # standard error of the difference about 0.12 here (estimate 0.73)
    assert got.loc[f"{item}@B", "b"] - got.loc[item, "b"] == pytest.approx(0.8, abs=0.25)
    assert freed.groups is not None
    assert freed.groups.loc[1, "mean"] == pytest.approx(-0.5, abs=0.1)
    table = compare_models(invariant, freed)
    assert int(table["df"].iloc[1]) == 2
    assert float(table["p_value"].iloc[1]) < 1e-4
    with pytest.raises(DataError) as info:
        calibrate(log, "2PL", groups=groups, free_items=["nope"], progress=False)
    assert info.value.field == "free_items"
