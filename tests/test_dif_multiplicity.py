"""Issue 18, point 3: DIF flags under multiplicity control, more than two groups, the anchor sweep.

The scenario of the issue: 7 items, two with planted DIF (b shifted by 0.8 against the
focal group), 1,000 persons per group, impact 0.5. Before, Mantel–Haenszel flagged
items it rated ETS A (negligible) and its purification ended with up to 5 false
flags of 5 clean items; the flags now use Benjamini–Hochberg adjusted p-values (stated
in ``attrs["correction"]``) and, for MH, an ETS class B or C.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_dif import two_groups

from pixirt import ItemBank, ResponseLog
from pixirt.calibration import irt_dif, mantel_haenszel_dif
from pixirt.calibration._dif_groups import bh
from pixirt.exceptions import DataError
from pixirt.simulation import simulate_answers

CLEAN = [f"i{j}" for j in range(2, 7)]
PLANTED = ["i0", "i1"]


@pytest.fixture(scope="module")
def replications() -> list[tuple[ItemBank, ResponseLog, pd.Series]]:
    return [
        two_groups(n_items=7, n_per_group=1000, dif={0: 0.8, 1: 0.8}, impact=0.5, seed=seed)
        for seed in range(8)
    ]


def test_mh_never_flags_an_item_it_rates_ets_a(
    replications: list[tuple[ItemBank, ResponseLog, pd.Series]],
) -> None:
    for bank, log, groups in replications:
        for purify in (False, True):
            mh = mantel_haenszel_dif(log, bank, groups, focal="foc", purify=purify)
            assert not (mh["flagged"] & (mh["ets_class"] == "A")).any()
            assert mh.attrs["correction"] == "Benjamini–Hochberg"
            np.testing.assert_allclose(mh["p_adjusted"], bh(mh["p_value"].to_numpy()))


def test_false_flags_after_purification_stay_rare(
    replications: list[tuple[ItemBank, ResponseLog, pd.Series]],
) -> None:
    """8 replications × 5 clean items: before, purified MH gave 12 false flags of 40."""
    false_mh = false_irt = found = 0
    for bank, log, groups in replications:
        mh = mantel_haenszel_dif(log, bank, groups, focal="foc", purify=True)
        irt = irt_dif(log, bank, groups, focal="foc", anchors="sweep")
        false_mh += int(mh.loc[CLEAN, "flagged"].sum())
        false_irt += int(irt.loc[CLEAN, "flagged"].sum())
        found += int(irt.loc[PLANTED, "flagged"].sum())
    assert false_mh <= 4 and false_irt <= 4  # ≤ 10 %
    assert found >= 14  # of 16: the planted items are still found


def test_correction_none_gives_the_raw_flags() -> None:
    bank, log, groups = two_groups(n_items=12, n_per_group=600, dif={0: 0.8}, seed=1)
    raw = irt_dif(log, bank, groups, focal="foc", correction="none")
    assert raw.attrs["correction"] == "none"
    pd.testing.assert_series_equal(raw["p_adjusted"], raw["p_value"], check_names=False)
    assert (raw["flagged"] == (raw["p_value"] < 0.05)).all()
    adjusted = irt_dif(log, bank, groups, focal="foc")
    assert (adjusted["flagged"] <= raw["flagged"]).all()  # BH never adds a flag
    with pytest.raises(DataError) as info:
        irt_dif(log, bank, groups, focal="foc", correction="bonferonni")  # type: ignore[arg-type]
    assert info.value.field == "correction"


def test_three_groups_each_against_the_reference() -> None:
    rng = np.random.default_rng(7)
    n_items = 10
    a, b = np.exp(rng.normal(0, 0.25, n_items)), rng.normal(0, 1, n_items)
    bank = ItemBank.from_frame(
        pd.DataFrame({"item_id": [f"i{j}" for j in range(n_items)], "a": a, "b": b})
    )
    shifted = b.copy()
    shifted[0] += 1.0
    frames = []
    for k, (name, bk, mean) in enumerate(
        (("ref", bank, 0.0), ("f1", bank.with_parameters(b=shifted), -0.3), ("f2", bank, 0.4))
    ):
        f = simulate_answers(bk, 1000, answers_per_person=n_items, theta_mean=mean, seed=k)
        frame = f.log.to_frame()
        frame["person_id"] = frame["person_id"].astype(str) + f"-{name}"
        frames.append(frame)
    log = ResponseLog.from_frame(pd.concat(frames, ignore_index=True))
    groups = pd.Series(
        [str(p).split("-")[1] for p in log.person_ids], index=pd.Index(log.person_ids)
    )
    for method in (irt_dif, mantel_haenszel_dif):
        got = method(log, bank, groups, focal="all", reference="ref")
        assert got.index.names == ["focal", "item_id"]
        assert sorted(got.index.get_level_values("focal").unique()) == ["f1", "f2"]
        np.testing.assert_allclose(got["p_adjusted"], bh(got["p_value"].to_numpy()))
        assert got.loc[("f1", "i0"), "flagged"]
        assert got["flagged"].sum() == 1
        assert got.attrs["correction"] == "Benjamini–Hochberg"
    irt = irt_dif(log, bank, groups, focal=["f1", "f2"], reference="ref")
    dist = irt.attrs["by_focal"]["f2"]["group_distributions"]
    assert dist["f2"][0] - dist["ref"][0] == pytest.approx(0.4, abs=0.12)


def test_anchor_sweep_iterates_to_a_fixed_point() -> None:
    dif = dict.fromkeys(range(5), 0.8)
    bank, log, groups = two_groups(n_items=20, n_per_group=1000, dif=dif, seed=4)
    swept = irt_dif(log, bank, groups, focal="foc", anchors="sweep")
    rounds = swept.attrs["purification_rounds"]
    assert 2 <= rounds <= 10
    assert swept.loc[[f"i{j}" for j in range(5)], "flagged"].all()
    # at the fixed point the anchors are exactly the items not flagged
    assert set(swept.attrs["anchors"]) == set(swept.index[~swept["flagged"]])
    with pytest.raises(DataError) as info:
        irt_dif(log, bank, groups, focal="foc", anchors="everything")
    assert info.value.field == "anchors"
