"""Item fit, person fit and local dependence.

mirt agreement (``tests/data/mirt_reference``): infit/outfit to 0.01 (Rasch: mirt reports
them for Rasch fits), S-X² within 2% relative with the same degrees of freedom and the
same flags at 0.05 wherever mirt's p lies outside [0.04, 0.06]. The binned fit and lz*
are checked by simulation under the model (their reference distributions) and against
planted misfit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pixirt
from pixirt import ItemBank, ResponseLog
from pixirt.calibration import (
    binned_fit,
    calibrate,
    identify_forms,
    infit_outfit,
    item_fit,
    person_fit,
    q3_pairs,
    s_x2,
    score_persons,
    yen_q3,
)
from pixirt.exceptions import DataError
from pixirt.simulation import simulate_answers

REF = Path(__file__).parent / "data" / "mirt_reference"


def mirt_bank(name: str, model: str) -> ItemBank:
    items = pd.read_csv(REF / name / f"items_{model}.csv")
    summary = pd.read_csv(REF / name / "summary.csv").set_index("model")
    return ItemBank.from_frame(
        items[["item_id", "a", "b"]],
        model=model,
        latent_variance=float(summary.loc[model, "latent_var"]),
    )


@pytest.fixture(scope="module", params=["lsat7", "sat12"])
def dataset(request: pytest.FixtureRequest) -> tuple[str, ResponseLog]:
    name = request.param
    return name, pixirt.read_responses(REF / name / f"{name}_long.csv")


def test_infit_outfit_agree_with_mirt(dataset: tuple[str, ResponseLog]) -> None:
    name, log = dataset
    ref = pd.read_csv(REF / name / "itemfit_Rasch.csv").set_index("item")
    got = infit_outfit(log, mirt_bank(name, "Rasch"))
    assert list(got.index) == list(ref.index)
    for col, mirt_col in [
        ("outfit", "outfit"),
        ("infit", "infit"),
        ("z_outfit", "z.outfit"),
        ("z_infit", "z.infit"),
    ]:
        np.testing.assert_allclose(got[col], ref[mirt_col], atol=0.01, rtol=0)
    assert (got["n_answers"] == log.n_persons).all()


@pytest.mark.parametrize("model", ["Rasch", "2PL"])
def test_s_x2_agrees_with_mirt(dataset: tuple[str, ResponseLog], model: str) -> None:
    name, log = dataset
    ref = pd.read_csv(REF / name / f"itemfit_{model}.csv").set_index("item")
    got = s_x2(log, mirt_bank(name, model))
    assert got["computed"].all() and (got["n_forms"] == 1).all()
    np.testing.assert_allclose(got["s_x2"], ref["S_X2"], rtol=0.02)
    np.testing.assert_array_equal(got["df"], ref["df.S_X2"])
    np.testing.assert_allclose(got["rmsea"], ref["RMSEA.S_X2"], atol=1e-3)
    clear = (ref["p.S_X2"] < 0.04) | (ref["p.S_X2"] > 0.06)
    np.testing.assert_array_equal(
        (got["p_value"] < 0.05)[clear].to_numpy(), (ref["p.S_X2"] < 0.05)[clear].to_numpy()
    )
    assert (ref["p.S_X2"] < 0.05).any()  # the comparison includes flagged items


def booklet_log(seed: int = 0) -> tuple[ItemBank, ResponseLog]:
    """Two booklets of 12 items sharing 4, 400 persons each."""
    rng = np.random.default_rng(seed)
    n = 20
    bank = ItemBank.from_frame(
        pd.DataFrame(
            {
                "item_id": [f"i{j:02d}" for j in range(n)],
                "a": np.exp(rng.normal(0, 0.3, n)),
                "b": rng.normal(0, 1, n),
            }
        )
    )
    sim = simulate_answers(bank, 800, answers_per_person=n, seed=seed)
    frame = sim.log.to_frame()
    booklet = np.where(frame["person_id"] < 400, 0, 1)
    item_no = frame["item_id"].str[1:].astype(int)
    keep = np.where(booklet == 0, item_no < 12, item_no >= 8)
    return bank, ResponseLog.from_frame(frame[keep].reset_index(drop=True))


def test_s_x2_on_booklets_sums_the_forms() -> None:
    bank, log = booklet_log()
    forms = identify_forms(log)
    assert sorted(forms.value_counts().tolist()) == [400, 400]
    got = s_x2(log, bank)
    assert got["computed"].all()
    shared = [f"i{j:02d}" for j in range(8, 12)]
    assert (got.loc[shared, "n_forms"] == 2).all() and (got.loc[shared, "n_persons"] == 800).all()
    parts = [s_x2(log.subset(persons=forms.index[forms == f]), bank) for f in (0, 1)]
    for item in shared:
        assert got.loc[item, "s_x2"] == pytest.approx(
            parts[0].loc[item, "s_x2"] + parts[1].loc[item, "s_x2"], rel=1e-12
        )
        assert got.loc[item, "df"] == parts[0].loc[item, "df"] + parts[1].loc[item, "df"] + 2
    small = s_x2(log, bank, min_form_size=500)
    assert not small["computed"].any()
    assert small["s_x2"].isna().all()
    assert small["note"].str.startswith("not computed").all()


def test_s_x2_is_not_computed_on_adaptive_logs() -> None:
    rng = np.random.default_rng(2)
    bank = ItemBank.from_frame(
        pd.DataFrame({"item_id": np.arange(400), "b": rng.normal(0, 1, 400)})
    )
    log = simulate_answers(bank, 2000, answers_per_person=20, seed=1).log
    got = s_x2(log, bank)
    assert not got["computed"].any() and "binned_fit" in got["note"].iloc[0]
    table = item_fit(log, bank)
    assert table["s_x2"].isna().all() and table["binned_p"].notna().all()
    assert {"outfit", "infit", "s_x2_note", "rmsd"} <= set(table.columns)


def sparse_bank(n_items: int, seed: int) -> ItemBank:
    rng = np.random.default_rng(seed)
    return ItemBank.from_frame(
        pd.DataFrame(
            {
                "item_id": np.arange(n_items),
                "a": np.exp(rng.normal(0.1, 0.3, n_items)),
                "b": rng.normal(0, 1, n_items),
            }
        )
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_binned_fit_holds_its_level_under_the_model(seed: int) -> None:
    bank = sparse_bank(150, seed)
    log = simulate_answers(bank, 8000, answers_per_person=25, seed=seed).log
    got = binned_fit(log, bank, estimated_parameters=False, reference="chi2")
    assert (got["df"] == 10).all()
    assert (got["p_value"] < 0.05).mean() <= 0.10  # nominal 0.05 over 150 items
    assert 0.85 < (got["x2"] / got["df"]).mean() < 1.15  # E[χ²_df] = df
    assert got["rmsd"].max() < 0.08


def test_binned_fit_with_estimated_parameters_is_slightly_conservative() -> None:
    """Bank calibrated on the same answers: χ² with n_bins − 2 df (2PL) holds the level."""
    bank = sparse_bank(150, 7)
    log = simulate_answers(bank, 12000, answers_per_person=30, seed=7).log
    estimated = calibrate(log, "2PL", progress=False, se="none").bank
    got = binned_fit(log, estimated, reference="chi2")
    assert (got["df"] == 8).all()
    assert (got["p_value"] < 0.05).mean() <= 0.08
    assert 0.8 < (got["x2"] / got["df"]).mean() < 1.1


def test_binned_fit_and_infit_detect_a_planted_misfit() -> None:
    bank = sparse_bank(150, 3)
    a = bank.a.copy()
    a[0], a[1] = 4.0, 0.2  # the log comes from a much steeper item 0 and a nearly flat item 1
    true_bank = bank.with_parameters(a=a)
    log = simulate_answers(true_bank, 8000, answers_per_person=25, seed=3).log
    got = binned_fit(log, bank, reference="chi2")  # p < 0.001: beyond a bootstrap's reach
    flagged = set(got.index[got["p_value"] < 0.001])
    assert {0, 1} <= flagged and len(flagged) <= 4
    assert got["rmsd"].loc[[0, 1]].min() > got["rmsd"].drop([0, 1]).max()
    io = infit_outfit(log, bank)
    others = io.drop([0, 1])
    assert io.loc[0, "infit"] < others["infit"].min() and io.loc[0, "outfit"] < 0.9
    assert io.loc[1, "infit"] > others["infit"].quantile(0.95) and io.loc[1, "outfit"] > 1.0


def test_person_fit_lz_star_is_standard_normal_and_flags_aberrant_patterns() -> None:
    bank = sparse_bank(40, 4)
    sim = simulate_answers(bank, 3000, answers_per_person=40, seed=4)
    frame = sim.log.to_frame()
    aberrant = (
        frame["person_id"] < 100
    )  # persons 0-99 answer the easiest half wrong and the hardest right
    easy = frame["item_id"].map(pd.Series(bank.b < np.median(bank.b), index=bank.item_ids))
    frame.loc[aberrant, "correct"] = np.where(easy[aberrant], 0, 1).astype(np.int8)
    log = ResponseLog.from_frame(frame)
    for method in ("WLE", "MLE", "MAP"):
        got = person_fit(log, bank, method=method).set_index("person_id")
        normal = got.loc[got.index >= 100, "lz_star"].dropna()
        assert abs(normal.mean()) < 0.15 and 0.9 < normal.std() < 1.1
        assert (normal < -1.645).mean() == pytest.approx(0.05, abs=0.025)
        assert (got.loc[got.index < 100, "lz_star"] < -3).mean() > 0.9
    # lz is mirt's Zh: (l0 − E l0) / sqrt(Var l0) at the given scores
    scores = score_persons(log, bank, "EAP")
    got = person_fit(log, bank, method="EAP", scores=scores)
    y = log.to_dense()[:5]
    theta = scores["theta"].to_numpy()[:5, None]
    p = pixirt.models.probability(theta, bank.a, bank.b)
    l0 = (y * np.log(p) + (1 - y) * np.log(1 - p)).sum(axis=1)
    mu = (p * np.log(p) + (1 - p) * np.log(1 - p)).sum(axis=1)
    var = (p * (1 - p) * np.log(p / (1 - p)) ** 2).sum(axis=1)
    np.testing.assert_allclose(got["lz"].to_numpy()[:5], (l0 - mu) / np.sqrt(var), rtol=1e-10)


def test_person_fit_is_nan_for_infinite_mle() -> None:
    bank = sparse_bank(5, 0)
    log = ResponseLog.from_wide(
        pd.DataFrame(np.array([[1] * 5, [1, 0, 1, 0, 1]]), columns=bank.item_ids)
    )
    got = person_fit(log, bank, method="MLE")
    assert np.isnan(got.loc[0, "lz_star"]) and np.isfinite(got.loc[1, "lz_star"])


def test_yen_q3_matches_pairwise_residual_correlations_and_finds_dependence() -> None:
    bank = sparse_bank(12, 6)
    sim = simulate_answers(bank, 1500, answers_per_person=12, seed=6)
    dense = sim.log.to_dense()
    dense[:, 1] = np.where(np.random.default_rng(0).random(1500) < 0.8, dense[:, 0], dense[:, 1])
    dense[np.random.default_rng(1).random(dense.shape) < 0.1] = np.nan  # some missing cells
    log = ResponseLog.from_wide(pd.DataFrame(dense, columns=bank.item_ids))
    q3 = yen_q3(log, bank)
    theta = score_persons(log, bank, "EAP")["theta"].to_numpy()
    resid = pd.DataFrame(dense - pixirt.models.probability(theta[:, None], bank.a, bank.b))
    expected = resid.corr(min_periods=30).to_numpy()
    np.testing.assert_allclose(q3.to_numpy(), expected, atol=1e-10)
    pairs = q3_pairs(q3)
    assert (pairs.iloc[0]["item_1"], pairs.iloc[0]["item_2"]) == (0, 1)
    assert len(pairs) == 1


def test_bad_input_names_the_field() -> None:
    bank = sparse_bank(5, 0)
    log = simulate_answers(bank, 50, answers_per_person=5, seed=0).log
    scores = score_persons(log, bank).iloc[::-1]
    for call in (
        lambda: infit_outfit(log, bank, scores=scores),
        lambda: person_fit(log, bank, scores=pd.DataFrame({"x": [1]})),
    ):
        with pytest.raises(DataError) as err:
            call()
        assert err.value.field == "scores"
    for kwargs, field in [({"n_bins": 1}, "n_bins"), ({"min_per_bin": 0}, "min_per_bin")]:
        with pytest.raises(DataError) as err:
            binned_fit(log, bank, **kwargs)
        assert err.value.field == field
    with pytest.raises(DataError) as err:
        s_x2(log, bank, min_form_size=1)
    assert err.value.field == "min_form_size"
    with pytest.raises(DataError) as err:
        infit_outfit(log, ItemBank.from_frame(pd.DataFrame({"item_id": [0], "b": [0.0]})))
    assert err.value.field == "item_id"


def test_identify_forms_groups_identical_item_sets_in_any_order() -> None:
    # p1 and p3 answered {a, b} (in different orders), p2 {a}, p4 nothing, p5 {a, b, c}
    log = ResponseLog(
        [0, 2, 3, 5, 5, 8],
        [0, 1, 0, 1, 0, 0, 1, 2],
        [1, 0, 1, 1, 1, 0, 0, 1],
        ["p1", "p2", "p3", "p4", "p5"],
        ["a", "b", "c"],
    )
    forms = identify_forms(log)
    assert forms.to_dict() == {"p1": 0, "p2": 1, "p3": 0, "p4": -1, "p5": 2}
